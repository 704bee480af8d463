//! The inventory table on DynamoDB: `Store` (HASH), `Item` (RANGE), `Count`,
//! readable by the original system, plus stockwatch's `AsOf`, `UpdatedAt`
//! and `Source`.
//!
//! A write groups a file's rows by store and writes them a hundred at a
//! time, in one of two modes: `batched_writer` (read 100, decide, write the
//! winners in one conditional transaction; the default) or
//! `conditional_writer` (one conditional PutItem per row). Either way every
//! put carries the snapshot rule as its condition, so an older snapshot
//! never overwrites a newer one whatever the order of loads and whatever
//! the writers' clocks say; each request is retried on throttling, and rows
//! that still fail are reported with their line, never dropped silently.
//! Reads page through the table in (store, item) order.

use super::attrs::{Item, get_n, get_s, n, opt_s, opt_time, s};
use super::batched_writer::BatchedWriter;
use super::conditional_writer::ConditionalWriter;
use super::errors::sdk_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use futures_util::stream::{self, StreamExt};
use std::sync::Arc;
pub use stockwatch_core::aws_settings::{DEFAULT_CONCURRENCY, WriteMode};
use stockwatch_core::ports::{
    InventoryTable, ObjectKey, Page, PageToken, PortError, PortResult, RetryPolicy, RowSink, StockFilter, StockRow,
    WriteSummary,
};
use stockwatch_domain::{InventoryRow, Timestamp};

/// Writes in flight at once per load.
/// Rows written at a time: BatchGetItem's and TransactWriteItems' limit.
const CHUNK: usize = 100;

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
    writer: Writer,
    /// Chunks written at once.
    chunks_in_flight: usize,
}

#[derive(Clone)]
enum Writer {
    Batched(BatchedWriter),
    Conditional(ConditionalWriter),
}

impl DynamoTable {
    /// A table written in `mode`. Each request a write makes
    /// is retried by `retry` (the SDK makes one attempt).
    pub fn new(client: Client, table: String, concurrency: usize, mode: WriteMode) -> Self {
        let concurrency = concurrency.max(1);
        let retry = RetryPolicy::default();
        let (writer, chunks_in_flight) = match mode {
            // A chunk is two requests: many at once, as the pace allows.
            WriteMode::Batched => (
                Writer::Batched(BatchedWriter {
                    client: client.clone(),
                    table: table.clone(),
                    retry,
                    pace: std::sync::Arc::new(super::pace::Pace::new(concurrency)),
                }),
                concurrency,
            ),
            // Each chunk already keeps `concurrency` puts in flight.
            WriteMode::Conditional => (
                Writer::Conditional(ConditionalWriter {
                    client: client.clone(),
                    table: table.clone(),
                    retry,
                    concurrency,
                }),
                4,
            ),
        };
        DynamoTable {
            client,
            table,
            writer,
            chunks_in_flight,
        }
    }

    fn what(&self) -> String {
        format!("the table {}", self.table)
    }

    /// Writes one chunk of one store's rows (at most a hundred).
    async fn write_chunk(&self, chunk: &[&InventoryRow], as_of: Timestamp, now: i64, source: &str) -> WriteSummary {
        match &self.writer {
            Writer::Batched(w) => w.write_chunk(chunk, as_of, now, source).await,
            Writer::Conditional(w) => w.write_chunk(chunk, as_of.0, now, source).await,
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

impl DynamoTable {
    /// Writes rows of one file: grouped by store (files usually list them
    /// so already), a hundred of a store's rows to a chunk,
    /// `chunks_in_flight` chunks at a time: one store of 200,000 items is
    /// written as fast as many small ones, the pace of the batched mode
    /// holding back when its partition throttles.
    async fn write_rows(
        &self,
        rows: Arc<Vec<InventoryRow>>,
        as_of: Timestamp,
        source: &str,
    ) -> PortResult<WriteSummary> {
        let now = Timestamp::now().0;
        let mut stores: Vec<Vec<usize>> = Vec::new();
        let mut slots: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, row) in rows.iter().enumerate() {
            let slot = *slots.entry(&*row.store).or_insert_with(|| {
                stores.push(Vec::new());
                stores.len() - 1
            });
            stores[slot].push(i);
        }
        let chunks = stores
            .into_iter()
            .flat_map(|indices| indices.chunks(CHUNK).map(<[usize]>::to_vec).collect::<Vec<_>>());
        // Owned per future (an Arc and indices): futures borrowing rows from a
        // shared slice do not satisfy the Send bound of the async trait.
        let parts: Vec<WriteSummary> = stream::iter(chunks)
            .map(|indices| {
                let rows = rows.clone();
                async move {
                    let refs: Vec<&InventoryRow> = indices.iter().map(|&i| &rows[i]).collect();
                    self.write_chunk(&refs, as_of, now, source).await
                }
            })
            .buffer_unordered(self.chunks_in_flight)
            .collect()
            .await;
        let mut summary = WriteSummary::default();
        for part in parts {
            summary.add(part);
        }
        summary.failed.sort_by_key(|f| f.line);
        // Nothing written at all, for a reason no retry helps with: the table
        // itself is the problem, say so once. Rows that failed after their
        // own retries (throttled) are reported by line instead: the
        // loader must not run the whole write again on top of those retries.
        if summary.failed.len() == rows.len() && !rows.is_empty() && summary.failed.iter().any(|f| !f.transient) {
            return Err(PortError::Permanent(summary.failed[0].reason.clone().into()));
        }
        Ok(summary)
    }
}

/// One file's rows on their way to DynamoDB: each write is final (DynamoDB
/// has no transaction that large), so the loader validates first.
struct DynamoLoad {
    table: DynamoTable,
    as_of: Timestamp,
    source: String,
}

#[async_trait]
impl RowSink for DynamoLoad {
    fn undoable(&self) -> bool {
        false
    }

    async fn write(&mut self, rows: Vec<InventoryRow>) -> PortResult<WriteSummary> {
        self.table.write_rows(Arc::new(rows), self.as_of, &self.source).await
    }

    async fn commit(self: Box<Self>) -> PortResult<()> {
        Ok(())
    }

    async fn abandon(self: Box<Self>) {}
}

#[async_trait]
impl InventoryTable for DynamoTable {
    async fn begin(&self, as_of: Timestamp, source: &ObjectKey) -> PortResult<Box<dyn RowSink>> {
        Ok(Box::new(DynamoLoad {
            table: self.clone(),
            as_of,
            source: source.as_str().to_string(),
        }))
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
        // As DynamoDB gives them: a store's rows together and in item order,
        // stores in the order of their keys' hashes (a Scan's order, which
        // DynamoDB Local keeps and moto does not). Sorting a page would
        // split a store whose rows span two pages.
        let rows = items.iter().map(row_from).collect::<PortResult<Vec<_>>>()?;
        Ok(Page {
            items: rows,
            next: token_from(last.as_ref())?,
        })
    }
}
