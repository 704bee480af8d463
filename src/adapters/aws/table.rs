//! The inventory table on DynamoDB: `Store` (HASH), `Item` (RANGE), `Count`,
//! readable by the original system, plus stockwatch's `AsOf`, `UpdatedAt`
//! and `Source`.
//!
//! Rows are written by conditional PutItem, many in flight at once: the
//! condition is the domain's `supersedes` rule, so an older snapshot never
//! overwrites a newer one whatever the order of loads. (BatchWriteItem takes
//! no conditions; TransactWriteItems fails a whole group of 100 on one stale
//! row.) Each row is retried on throttling; rows that still fail are
//! reported with their line, never dropped silently.

use super::attrs::{Item, get_n, get_s, n, opt_n, opt_s, opt_time, s};
use super::batch::{Batched, StoreLocks, failed};
use super::errors::sdk_error;
use crate::domain::{InventoryRow, Timestamp};
use crate::ports::{
    InventoryTable, Page, PageToken, PortError, PortResult, RetryPolicy, RowFailure, StockFilter, StockRow, WriteBatch,
    WriteSummary,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use futures_util::stream::{self, StreamExt};

/// Writes in flight at once per load.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// `supersedes` as a condition; rows without `AsOf` (written by the original
/// system) count as older than any snapshot.
const NEWER_ONLY: &str = "attribute_not_exists(#s) OR attribute_not_exists(#a) OR #a < :a OR (#a = :a AND #c > :c)";

/// How rows are written; both keep an older snapshot from overwriting a newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Per store under a lease lock: BatchGetItem, then BatchWriteItem of the
    /// rows that supersede. Fewest requests and write units.
    #[default]
    Batched,
    /// One conditional PutItem per row (still under the store's lock).
    Conditional,
}

impl WriteMode {
    pub const ALL: [WriteMode; 2] = [WriteMode::Batched, WriteMode::Conditional];

    /// The name settings use (`write_mode = "batched"`).
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::Batched => "batched",
            WriteMode::Conditional => "conditional",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            WriteMode::Batched => {
                "per store under a lease lock: BatchGetItem, then BatchWriteItem of the rows that supersede (fewest requests and write units)"
            }
            WriteMode::Conditional => "one conditional PutItem per row (still under the store's lock)",
        }
    }
}

pub struct DynamoTable {
    client: Client,
    table: String,
    concurrency: usize,
    retry: RetryPolicy,
    locks: StoreLocks,
    batched: Option<Batched>,
}

enum RowOutcome {
    Changed,
    Unchanged,
    Older,
    Failed(PortError),
}

impl DynamoTable {
    /// A table written in `mode`; either way each store's rows are written
    /// under the store's lock in `ledger_table`.
    pub fn new(client: Client, table: String, ledger_table: String, concurrency: usize, mode: WriteMode) -> Self {
        let locks = || StoreLocks {
            client: client.clone(),
            ledger_table: ledger_table.clone(),
            retry: RetryPolicy::default(),
        };
        let batched = (mode == WriteMode::Batched).then(|| Batched {
            client: client.clone(),
            table: table.clone(),
            locks: locks(),
            retry: RetryPolicy::default(),
        });
        DynamoTable {
            locks: locks(),
            client,
            table,
            concurrency: concurrency.max(1),
            retry: RetryPolicy::default(),
            batched,
        }
    }

    /// One store's rows with conditional PutItems, under the store's lock
    /// (renewed every hundred rows).
    async fn write_store_conditional(
        &self,
        rows: &[&InventoryRow],
        as_of: i64,
        now: i64,
        source: &str,
        token: &str,
    ) -> WriteSummary {
        let mut held = match self.locks.take_for(rows, token).await {
            Ok(held) => held,
            Err(failed_all) => return failed_all,
        };
        let mut summary = WriteSummary::default();
        for (index, chunk) in rows.chunks(100).enumerate() {
            // Lost the lock: a batched loader may be reading this store now.
            if let Err(e) = self.locks.keep(&mut held).await {
                summary.failed.extend(failed(&rows[index * 100..], &e));
                break;
            }
            // Futures made up front: a closure inside the stream would have to
            // be general over the rows' lifetime, which the Send bound rejects.
            let puts: Vec<_> = chunk
                .iter()
                .map(|row| async move { (row.line, self.put_row(row, as_of, now, source).await) })
                .collect();
            let outcomes: Vec<(u64, RowOutcome)> =
                stream::iter(puts).buffer_unordered(self.concurrency).collect().await;
            for (line, outcome) in outcomes {
                match outcome {
                    RowOutcome::Changed => summary.changed += 1,
                    RowOutcome::Unchanged => summary.unchanged += 1,
                    RowOutcome::Older => summary.older += 1,
                    RowOutcome::Failed(error) => summary.failed.push(RowFailure {
                        line,
                        reason: error.to_string(),
                        transient: error.is_transient(),
                    }),
                }
            }
        }
        self.locks.unlock(held.store, token).await;
        summary
    }

    fn what(&self) -> String {
        format!("the table {}", self.table)
    }

    async fn put_row(&self, row: &InventoryRow, as_of: i64, now: i64, source: &str) -> RowOutcome {
        let attempt = || async {
            let sent = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("Store", s(&*row.store))
                .item("Item", s(&*row.item))
                .item("Count", n(row.count))
                .item("AsOf", n(as_of))
                .item("UpdatedAt", n(now))
                .item("Source", s(source))
                .condition_expression(NEWER_ONLY)
                .expression_attribute_names("#s", "Store")
                .expression_attribute_names("#a", "AsOf")
                .expression_attribute_names("#c", "Count")
                .expression_attribute_values(":a", n(as_of))
                .expression_attribute_values(":c", n(row.count))
                .return_values(ReturnValue::AllOld)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match sent {
                Ok(out) => {
                    let old: Option<u32> = out.attributes().and_then(|old| opt_n(old, "Count"));
                    Ok(if old == Some(row.count) {
                        RowOutcome::Unchanged
                    } else {
                        RowOutcome::Changed
                    })
                }
                Err(e) => match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(failed) => {
                        let stored: Option<u32> = failed.item().and_then(|old| opt_n(old, "Count"));
                        Ok(if stored == Some(row.count) {
                            RowOutcome::Unchanged
                        } else {
                            RowOutcome::Older
                        })
                    }
                    other => Err(super::errors::from_code(
                        &self.what(),
                        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&other),
                        &other.to_string(),
                    )),
                },
            }
        };
        match self.retry.run("write a row", attempt).await {
            Ok(outcome) => outcome,
            Err(e) => RowOutcome::Failed(e),
        }
    }
}

fn row_from(item: &Item) -> PortResult<StockRow> {
    Ok(StockRow {
        store: get_s(item, "Store")?,
        item: get_s(item, "Item")?,
        count: get_n(item, "Count")?,
        as_of: opt_time(item, "AsOf").unwrap_or(Timestamp(0)),
        updated_at: opt_time(item, "UpdatedAt").unwrap_or(Timestamp(0)),
        source: opt_s(item, "Source").unwrap_or_default(),
    })
}

fn token_from(key: Option<&Item>) -> PortResult<Option<PageToken>> {
    let Some(key) = key else { return Ok(None) };
    let store = get_s(key, "Store")?;
    let item = get_s(key, "Item")?;
    Ok(Some(PageToken(serde_json::json!([store, item]).to_string())))
}

fn start_key(page: Option<&PageToken>) -> PortResult<Option<Item>> {
    let Some(token) = page else { return Ok(None) };
    let (store, item): (String, String) = serde_json::from_str(&token.0)
        .map_err(|_| PortError::Invalid("the page token is not one of this backend's".into()))?;
    Ok(Some(
        [("Store".to_string(), s(store)), ("Item".to_string(), s(item))]
            .into_iter()
            .collect(),
    ))
}

#[async_trait]
impl InventoryTable for DynamoTable {
    async fn write(&self, batch: WriteBatch) -> PortResult<WriteSummary> {
        let now = Timestamp::now().0;
        // Rows of one store together (files usually list them so already).
        let mut stores: Vec<Vec<usize>> = Vec::new();
        let mut slots: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, row) in batch.rows.iter().enumerate() {
            let slot = *slots.entry(&*row.store).or_insert_with(|| {
                stores.push(Vec::new());
                stores.len() - 1
            });
            stores[slot].push(i);
        }
        let token = format!("load-{}-{now}-{}", std::process::id(), batch.source.as_str());
        // Batched stores are a handful of requests each; conditional stores
        // already keep `concurrency` puts in flight apiece.
        let stores_in_flight = if self.batched.is_some() { self.concurrency } else { 4 };
        // Owned per future (an Arc and indices): futures borrowing rows from a
        // shared slice do not satisfy the Send bound of the async trait.
        let parts: Vec<WriteSummary> = stream::iter(stores)
            .map(|indices| {
                let (rows, source, token) = (batch.rows.clone(), batch.source.clone(), token.clone());
                async move {
                    let refs: Vec<&InventoryRow> = indices.iter().map(|&i| &rows[i]).collect();
                    match &self.batched {
                        Some(batched) => {
                            batched
                                .write_store(&refs, batch.as_of, now, source.as_str(), &token)
                                .await
                        }
                        None => {
                            self.write_store_conditional(&refs, batch.as_of.0, now, source.as_str(), &token)
                                .await
                        }
                    }
                }
            })
            .buffer_unordered(stores_in_flight)
            .collect()
            .await;
        let mut summary = WriteSummary::default();
        for part in parts {
            summary.changed += part.changed;
            summary.unchanged += part.unchanged;
            summary.older += part.older;
            summary.failed.extend(part.failed);
        }
        summary.failed.sort_by_key(|f| f.line);
        // Nothing written at all: the table itself is the problem, say so once.
        // Transient (locked, throttled) stays transient, so the loader retries.
        if summary.failed.len() == batch.rows.len() && !batch.rows.is_empty() {
            let first = &summary.failed[0];
            let reason = first.reason.clone();
            return Err(if summary.failed.iter().all(|f| f.transient) {
                PortError::Transient(reason)
            } else {
                PortError::Permanent(reason)
            });
        }
        Ok(summary)
    }

    async fn scan(&self, filter: &StockFilter, page: Option<&PageToken>, limit: usize) -> PortResult<Page<StockRow>> {
        let start = start_key(page)?;
        let limit = limit.clamp(1, 10_000) as i32;
        let (items, last) = match &filter.store {
            Some(store) => {
                let mut query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("#s = :s")
                    .expression_attribute_names("#s", "Store")
                    .expression_attribute_values(":s", s(store))
                    .set_exclusive_start_key(start)
                    .limit(limit);
                if let Some(max) = filter.count_at_most {
                    query = query
                        .filter_expression("#c <= :c")
                        .expression_attribute_names("#c", "Count")
                        .expression_attribute_values(":c", n(max));
                }
                let out = query.send().await.map_err(|e| sdk_error(&self.what(), e))?;
                (out.items.unwrap_or_default(), out.last_evaluated_key)
            }
            None => {
                let mut scan = self
                    .client
                    .scan()
                    .table_name(&self.table)
                    .set_exclusive_start_key(start)
                    .limit(limit);
                if let Some(max) = filter.count_at_most {
                    scan = scan
                        .filter_expression("#c <= :c")
                        .expression_attribute_names("#c", "Count")
                        .expression_attribute_values(":c", n(max));
                }
                let out = scan.send().await.map_err(|e| sdk_error(&self.what(), e))?;
                (out.items.unwrap_or_default(), out.last_evaluated_key)
            }
        };
        let mut rows = items.iter().map(row_from).collect::<PortResult<Vec<_>>>()?;
        rows.sort_by(|a, b| (&a.store, &a.item).cmp(&(&b.store, &b.item)));
        Ok(Page {
            items: rows,
            next: token_from(last.as_ref())?,
        })
    }
}
