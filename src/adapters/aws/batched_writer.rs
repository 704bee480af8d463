//! The batched writer (`--write-mode batched`, the default): per store,
//! under the store's lock, read the stored rows (BatchGetItem, 100 keys),
//! decide with the domain's `supersedes`, and write the winners
//! (BatchWriteItem, 25 items).
//!
//! BatchWriteItem takes no conditions, so the lock is what keeps an older
//! snapshot from overwriting a newer one: every stockwatch loader takes the
//! store's lock before reading and keeps it fresh while it writes.
//! Unprocessed keys and items (DynamoDB's partial answers) are sent again
//! with backoff; rows still unwritten are reported by line.

use super::attrs::{Item, n, opt_n, s};
use super::errors::sdk_error;
use super::store_lock::{Held, StoreLocks, failed};
use crate::domain::{InventoryRow, Timestamp, supersedes};
use crate::ports::{PortError, PortResult, RetryPolicy, RowFailure, WriteSummary};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use std::collections::HashMap;

const WRITE_BATCH: usize = 25;

pub struct BatchedWriter {
    pub client: Client,
    pub table: String,
    pub locks: StoreLocks,
    pub retry: RetryPolicy,
}

type Key = (String, String);

fn key_of(store: &str, item: &str) -> Item {
    [("Store".to_string(), s(store)), ("Item".to_string(), s(item))]
        .into_iter()
        .collect()
}

impl BatchedWriter {
    fn what(&self) -> String {
        format!("the table {}", self.table)
    }

    /// Writes one chunk of a store's rows (at most 100) under its lock.
    pub async fn write_chunk(
        &self,
        chunk: &[&InventoryRow],
        held: &mut Held<'_>,
        as_of: Timestamp,
        now: i64,
        source: &str,
    ) -> WriteSummary {
        let mut summary = WriteSummary::default();
        let stored = match self.stored(chunk).await {
            Ok(stored) => stored,
            Err(e) => {
                summary.failed = failed(chunk, &e);
                return summary;
            }
        };
        let mut writes = Vec::new();
        let mut lines: HashMap<Key, (u64, bool)> = HashMap::new();
        for row in chunk {
            let key = (row.store.to_string(), row.item.to_string());
            let same = match stored.get(&key) {
                None => false,
                Some(&(old_as_of, old_count)) if supersedes((as_of, row.count), (old_as_of, old_count)) => {
                    old_count == row.count
                }
                Some(&(_, old_count)) => {
                    if old_count == row.count {
                        summary.unchanged += 1;
                    } else {
                        summary.older += 1;
                    }
                    continue;
                }
            };
            let mut item = key_of(&row.store, &row.item);
            item.insert("Count".into(), n(row.count));
            item.insert("AsOf".into(), n(as_of.0));
            item.insert("UpdatedAt".into(), n(now));
            item.insert("Source".into(), s(source));
            writes.push(item);
            lines.insert(key, (row.line, same));
        }
        for (key, error) in self.put_all(held, writes).await {
            if let Some((line, _)) = lines.remove(&key) {
                summary.failed.push(RowFailure {
                    line,
                    reason: error.to_string(),
                    transient: error.is_transient(),
                });
            }
        }
        for (_, same) in lines.into_values() {
            if same {
                summary.unchanged += 1;
            } else {
                summary.changed += 1;
            }
        }
        summary
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
                .map_err(|e| PortError::Permanent(e.to_string()))?,
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
                    return Err(PortError::Transient(format!(
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

    /// Writes items in 25s, sending again what DynamoDB hands back
    /// unprocessed. Returns the keys still unwritten after every attempt, with why.
    async fn put_all(&self, held: &mut Held<'_>, items: Vec<Item>) -> Vec<(Key, PortError)> {
        let mut failed = Vec::new();
        for chunk in items.chunks(WRITE_BATCH) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .filter_map(|item| PutRequest::builder().set_item(Some(item.clone())).build().ok())
                .map(|put| WriteRequest::builder().put_request(put).build())
                .collect();
            let mut attempt = 1;
            let mut last_error = PortError::Transient("unprocessed by DynamoDB after every retry".into());
            while !pending.is_empty() {
                // Unconditional writes are safe only under a lock still ours.
                if let Err(e) = self.locks.keep(held).await {
                    last_error = e;
                    break;
                }
                match self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending.clone())
                    .send()
                    .await
                {
                    Ok(out) => {
                        pending = out
                            .unprocessed_items
                            .and_then(|mut u| u.remove(&self.table))
                            .unwrap_or_default();
                    }
                    Err(e) => {
                        last_error = sdk_error(&self.what(), e);
                        if !last_error.is_transient() {
                            break;
                        }
                    }
                }
                if pending.is_empty() || attempt >= self.retry.attempts {
                    break;
                }
                tokio::time::sleep(self.retry.delay(attempt)).await;
                attempt += 1;
            }
            for request in pending {
                let item = request.put_request.map(|p| p.item).unwrap_or_default();
                let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                failed.push(((text("Store"), text("Item")), last_error.clone()));
            }
        }
        failed
    }
}
