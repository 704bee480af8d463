//! History on DynamoDB: the table's stream keeps 24 hours, so whoever reads
//! it (the check-stock function, or a checker or relay without a stack)
//! writes each change's new count here, 25 to a BatchWriteItem. The table
//! is named after the inventory table (`Inventory` → `Inventory-history`):
//! `Key` (HASH) is the item, `[store, item]` as JSON; `AsOf` (RANGE) the
//! snapshot's time; `Count`, `Source`; `Expires` (the TTL attribute, epoch
//! seconds) drops a point the kept period after it was recorded (as the
//! local change log does). A put is keyed by the point, so recording a
//! change twice writes the same item twice.

use super::attrs::{Item, get_n, n, opt_s, s};
use super::errors::sdk_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeMap;
use std::time::Duration;
use stockwatch_core::ports::{Change, History, HistoryPoint, ObjectKey, PortError, PortResult, RetryPolicy};
use stockwatch_domain::{InventoryRow, Timestamp};

/// BatchWriteItem's limit.
const BATCH: usize = 25;
/// Requests in flight at once, for writes and for many items' queries.
const IN_FLIGHT: usize = 8;

/// The history table of an inventory table.
pub fn history_table(inventory_table: &str) -> String {
    format!("{inventory_table}-history")
}

pub fn item_key(store: &str, item: &str) -> String {
    serde_json::json!([store, item]).to_string()
}

pub struct DynamoHistory {
    client: Client,
    table: String,
    keep: Duration,
    retry: RetryPolicy,
}

impl DynamoHistory {
    pub fn new(client: Client, table: String, keep: Duration) -> Self {
        DynamoHistory {
            client,
            table,
            keep,
            retry: RetryPolicy::default(),
        }
    }

    fn what(&self) -> String {
        format!("the history table {}", self.table)
    }

    fn put_of(&self, change: &Change, now: Timestamp) -> Option<WriteRequest> {
        let new = change.new.as_ref()?;
        self.put_point(&change.store, &change.item, new.as_of, new.count, &new.source, now)
    }

    fn put_point(
        &self,
        store: &str,
        item: &str,
        as_of: Timestamp,
        count: u32,
        source: &str,
        now: Timestamp,
    ) -> Option<WriteRequest> {
        let expires = now.0 / 1000 + self.keep.as_secs() as i64;
        let put = PutRequest::builder()
            .item("Key", s(item_key(store, item)))
            .item("AsOf", n(as_of.0))
            .item("Count", n(count))
            .item("Source", s(source))
            .item("Expires", n(expires))
            .build()
            .ok()?;
        Some(WriteRequest::builder().put_request(put).build())
    }

    /// Writes the points, 25 to a batch, a few batches in flight; one put
    /// per key (a batch may not name a key twice).
    async fn put_all(&self, puts: BTreeMap<(String, i64), WriteRequest>) -> PortResult<()> {
        let puts: Vec<WriteRequest> = puts.into_values().collect();
        // Owned batches: futures borrowing the slice are not Send enough for the async trait.
        let batches: Vec<Vec<WriteRequest>> = puts.chunks(BATCH).map(<[_]>::to_vec).collect();
        stream::iter(batches)
            .map(|batch| self.write(batch))
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// Writes one batch, again with backoff while DynamoDB leaves some unprocessed.
    async fn write(&self, mut pending: Vec<WriteRequest>) -> PortResult<()> {
        let mut attempt = 1;
        loop {
            let sent = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending.clone())
                .send()
                .await
                .map_err(|e| sdk_error(&self.what(), e));
            let error = match sent {
                Ok(out) => {
                    pending = out
                        .unprocessed_items
                        .and_then(|mut u| u.remove(&self.table))
                        .unwrap_or_default();
                    if pending.is_empty() {
                        return Ok(());
                    }
                    PortError::transient(format!("{} left {} points unwritten", self.what(), pending.len()))
                }
                Err(e) => e,
            };
            if !error.is_transient() || attempt >= self.retry.attempts {
                return Err(error);
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
        }
    }

    async fn query(&self, key: String, since: Timestamp) -> PortResult<Vec<HistoryPoint>> {
        let mut points = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#k = :k AND #a >= :a")
                .expression_attribute_names("#k", "Key")
                .expression_attribute_names("#a", "AsOf")
                .expression_attribute_values(":k", s(&key))
                .expression_attribute_values(":a", n(since.0))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(&self.what(), e))?;
            for item in out.items() {
                points.push(HistoryPoint {
                    as_of: Timestamp(get_n(item, "AsOf")?),
                    count: get_n(item, "Count")?,
                    source: opt_s(item, "Source").unwrap_or_default().into(),
                });
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(points);
            }
        }
    }
}

#[async_trait]
impl History for DynamoHistory {
    async fn record(&self, changes: &[Change]) -> PortResult<()> {
        // One put per point: a batch may not name a key twice.
        let now = Timestamp::now();
        let puts: BTreeMap<(String, i64), WriteRequest> = changes
            .iter()
            .filter_map(|c| {
                let key = (item_key(&c.store, &c.item), c.new.as_ref()?.as_of.0);
                Some((key, self.put_of(c, now)?))
            })
            .collect();
        self.put_all(puts).await
    }

    async fn record_older(&self, rows: &[InventoryRow], as_of: Timestamp, source: &ObjectKey) -> PortResult<()> {
        let now = Timestamp::now();
        let puts = rows
            .iter()
            .filter_map(|row| {
                let key = (item_key(&row.store, &row.item), as_of.0);
                Some((
                    key,
                    self.put_point(&row.store, &row.item, as_of, row.count, source.as_str(), now)?,
                ))
            })
            .collect();
        self.put_all(puts).await
    }

    async fn points(&self, store: &str, item: &str, since: Timestamp) -> PortResult<Vec<HistoryPoint>> {
        self.query(item_key(store, item), since).await
    }

    async fn points_of(&self, items: &[(String, String)], since: Timestamp) -> PortResult<Vec<Vec<HistoryPoint>>> {
        let keys: Vec<String> = items.iter().map(|(store, item)| item_key(store, item)).collect();
        stream::iter(keys)
            .map(|key| self.query(key, since))
            .buffered(IN_FLIGHT)
            .try_collect()
            .await
    }
}
