//! The batched writer (`--write-mode batched`, the default): a hundred rows
//! at a time, read what the table holds (BatchGetItem), decide with the
//! domain's `supersedes`, and write the winners in one TransactWriteItems
//! whose every put carries the same rule as its condition.
//!
//! The condition is the fencing: whatever a writer read, and whatever its
//! clock says, a put lands only if the table still holds an older snapshot
//! of its row, so an older snapshot never overwrites a newer one. (An
//! earlier design wrote with BatchWriteItem, which takes no conditions,
//! under a lease lock: a writer whose clock ran minutes ahead could take a
//! live lock, and its stale read then overwrote a newer load.) A cancelled
//! transaction says which condition failed: those rows lost to a newer
//! write and are counted so; the rest are sent again. Throttling, conflicts
//! and unprocessed keys are retried with backoff; rows still unwritten are
//! reported by line. A transaction costs two write units per row.

use super::attrs::{Item, n, opt_n, s};
use super::conditional_writer::NEWER_ONLY;
use super::errors::sdk_error;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use std::collections::HashMap;
use stockwatch_core::ports::{PortError, PortResult, RetryPolicy, RowFailure, WriteSummary};
use stockwatch_domain::{InventoryRow, Timestamp, supersedes};

#[derive(Clone)]
pub struct BatchedWriter {
    pub client: Client,
    pub table: String,
    pub retry: RetryPolicy,
    /// Transactions in flight, fewer while DynamoDB throttles.
    pub pace: std::sync::Arc<super::pace::Pace>,
}

/// What DynamoDB says when a partition or the table is over its rate.
const THROTTLED: [&str; 5] = [
    "ThrottlingError",
    "ThrottlingException",
    "ProvisionedThroughputExceeded",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

type Key = (String, String);

fn key_of(store: &str, item: &str) -> Item {
    [("Store".to_string(), s(store)), ("Item".to_string(), s(item))]
        .into_iter()
        .collect()
}

/// A row that supersedes what the table held when it was read.
struct Winner<'a> {
    row: &'a InventoryRow,
    /// The table held the same count (an older snapshot of it).
    same: bool,
}

impl BatchedWriter {
    fn what(&self) -> String {
        format!("the table {}", self.table)
    }

    /// Writes one chunk of rows (at most 100: BatchGetItem's and
    /// TransactWriteItems' limit).
    pub async fn write_chunk(&self, chunk: &[&InventoryRow], as_of: Timestamp, now: i64, source: &str) -> WriteSummary {
        let mut summary = WriteSummary::default();
        let stored = match self.stored(chunk).await {
            Ok(stored) => stored,
            Err(e) => {
                summary.failed = failed(chunk.iter().copied(), &e);
                return summary;
            }
        };
        let mut winners = Vec::new();
        for row in chunk {
            match stored.get(&(row.store.to_string(), row.item.to_string())) {
                None => winners.push(Winner { row, same: false }),
                Some(&(old_as_of, old_count)) if supersedes((as_of, row.count), (old_as_of, old_count)) => winners
                    .push(Winner {
                        row,
                        same: old_count == row.count,
                    }),
                // The same snapshot again changes nothing; any other loses
                // to what the table holds, whatever its count (as locally).
                Some(&(old_as_of, old_count)) if old_as_of == as_of && old_count == row.count => summary.unchanged += 1,
                Some(_) => {
                    summary.older += 1;
                    summary.older_rows.push((*row).clone());
                }
            }
        }
        self.put_winners(winners, as_of, now, source, &mut summary).await;
        summary
    }

    /// Writes the winners in one transaction, conditions and all, until each
    /// is written, has lost to a newer write, or has failed for good.
    async fn put_winners(
        &self,
        mut pending: Vec<Winner<'_>>,
        as_of: Timestamp,
        now: i64,
        source: &str,
        summary: &mut WriteSummary,
    ) {
        let mut attempt = 1;
        let mut token = uuid::Uuid::new_v4().to_string();
        while !pending.is_empty() {
            let items: Vec<TransactWriteItem> = match pending
                .iter()
                .map(|w| self.put_of(w.row, as_of, now, source))
                .collect::<PortResult<_>>()
            {
                Ok(items) => items,
                Err(e) => {
                    summary.failed.extend(failed(pending.iter().map(|w| w.row), &e));
                    return;
                }
            };
            // The same token makes a retry of an attempt whose answer was lost
            // idempotent; a new set of rows is a new transaction.
            let slot = self.pace.slot().await;
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(&token)
                .send()
                .await;
            drop(slot);
            let e = match sent {
                Ok(_) => {
                    self.pace.went_through();
                    for w in pending {
                        if w.same {
                            summary.unchanged += 1;
                        } else {
                            summary.changed += 1;
                        }
                    }
                    return;
                }
                Err(e) => e,
            };
            let reasons = match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => c.cancellation_reasons().to_vec(),
                _ => Vec::new(),
            };
            let codes: Vec<&str> = e
                .code()
                .into_iter()
                .chain(reasons.iter().filter_map(|r| r.code()))
                .collect();
            if codes.iter().any(|c| THROTTLED.contains(c)) {
                self.pace.throttled();
            }
            let error = if reasons.is_empty() {
                // Anything but a cancellation (a timeout, a 5xx, a code): as
                // every other call says it.
                sdk_error(&self.what(), e)
            } else {
                let mut kept = Vec::new();
                let mut lost_any = false;
                for (i, w) in pending.into_iter().enumerate() {
                    let reason = reasons.get(i);
                    if reason.and_then(|r| r.code()) == Some("ConditionalCheckFailed") {
                        // A newer snapshot landed after our read: it stays.
                        lost_any = true;
                        let stored = reason
                            .and_then(|r| r.item())
                            .map(|item| (opt_n::<i64>(item, "AsOf"), opt_n::<u32>(item, "Count")));
                        if stored == Some((Some(as_of.0), Some(w.row.count))) {
                            summary.unchanged += 1;
                        } else {
                            summary.older += 1;
                            summary.older_rows.push(w.row.clone());
                        }
                    } else {
                        kept.push(w);
                    }
                }
                pending = kept;
                token = uuid::Uuid::new_v4().to_string();
                if lost_any {
                    // The others were only rolled back with them: at once.
                    continue;
                }
                PortError::transient(format!("{} cancelled the write ({})", self.what(), codes.join(", ")))
            };
            if !error.is_transient() || attempt >= self.retry.attempts {
                summary.failed.extend(failed(pending.iter().map(|w| w.row), &error));
                return;
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }

    fn put_of(&self, row: &InventoryRow, as_of: Timestamp, now: i64, source: &str) -> PortResult<TransactWriteItem> {
        let mut item = key_of(&row.store, &row.item);
        item.insert("Count".into(), n(row.count));
        item.insert("AsOf".into(), n(as_of.0));
        item.insert("UpdatedAt".into(), n(now));
        item.insert("Source".into(), s(source));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(NEWER_ONLY)
            .expression_attribute_names("#s", "Store")
            .expression_attribute_names("#a", "AsOf")
            .expression_attribute_names("#c", "Count")
            .expression_attribute_values(":a", n(as_of.0))
            .expression_attribute_values(":c", n(row.count))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| PortError::permanent(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Stored (as-of, count) of each key; rows without `AsOf` count as oldest.
    async fn stored(&self, rows: &[&InventoryRow]) -> PortResult<HashMap<Key, (Timestamp, u32)>> {
        let mut found = HashMap::new();
        let keys: Vec<Item> = rows.iter().map(|r| key_of(&r.store, &r.item)).collect();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| PortError::permanent(e.to_string()))?,
        );
        let mut attempt = 1;
        while let Some(request) = pending.take() {
            let out = self
                .retry
                .run("read stored rows", || async {
                    self.client
                        .batch_get_item()
                        .request_items(&self.table, request.clone())
                        .send()
                        .await
                        .map_err(|e| sdk_error(&self.what(), e))
                })
                .await?;
            for item in out.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                let (Some(store), Some(name)) = (
                    item.get("Store").and_then(|v| v.as_s().ok()),
                    item.get("Item").and_then(|v| v.as_s().ok()),
                ) else {
                    continue;
                };
                let as_of = Timestamp(opt_n(item, "AsOf").unwrap_or(i64::MIN));
                found.insert(
                    (store.clone(), name.clone()),
                    (as_of, opt_n(item, "Count").unwrap_or(0)),
                );
            }
            if let Some(rest) = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys().is_empty())
            {
                if attempt >= self.retry.attempts {
                    return Err(PortError::transient(format!(
                        "{} kept returning unprocessed keys",
                        self.what()
                    )));
                }
                tokio::time::sleep(self.retry.delay(attempt)).await;
                attempt += 1;
                pending = Some(rest);
            }
        }
        Ok(found)
    }
}

/// Every row failed for `error`.
fn failed<'a>(rows: impl Iterator<Item = &'a InventoryRow>, error: &PortError) -> Vec<RowFailure> {
    rows.map(|r| RowFailure {
        line: r.line,
        reason: error.to_string(),
        transient: error.is_transient(),
    })
    .collect()
}
