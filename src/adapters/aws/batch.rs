//! Store locks, and the batched writer: per store, under a lease lock in the ledger table,
//! read the stored rows (BatchGetItem, 100 keys), decide with the domain's
//! `supersedes`, and write the winners (BatchWriteItem, 25 items).
//!
//! BatchWriteItem takes no conditions, so the lock is what keeps an older
//! snapshot from overwriting a newer one: every stockwatch loader takes the
//! store's lock before reading, and renews it while it writes. Unprocessed
//! keys and items are retried with exponential backoff and jitter; rows
//! that are still unwritten are reported by line.

use super::attrs::{Item, n, opt_n, s};
use super::errors::sdk_error;
use crate::domain::{InventoryRow, Timestamp, supersedes};
use crate::ports::{PortError, PortResult, RetryPolicy, RowFailure, WriteSummary};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use std::collections::HashMap;
use std::time::Duration;

const GET_BATCH: usize = 100;
const WRITE_BATCH: usize = 25;
/// A lock not renewed for this long is free for the next loader.
/// Long enough that a write in flight (the SDK gives up on one after 90 s)
/// always ends inside it; hosts' clocks must agree to well within it.
const LEASE: Duration = Duration::from_secs(300);
/// Before each write the lease is renewed if less than this is left.
const RENEW_MARGIN: Duration = Duration::from_secs(120);
/// How long a loader waits for another one's lock on the same store (a
/// crashed holder's lock frees itself when its lease ends).
const LOCK_WAIT: Duration = Duration::from_secs(330);

/// A store lock this loader holds, and until when (by this host's clock).
pub struct Held<'a> {
    pub store: &'a str,
    pub token: &'a str,
    until: std::time::Instant,
}

/// Every row of `rows` failed for `error` (the store lock, a read).
pub fn failed(rows: &[&InventoryRow], error: &PortError) -> Vec<RowFailure> {
    rows.iter()
        .map(|r| RowFailure {
            line: r.line,
            reason: error.to_string(),
            transient: error.is_transient(),
        })
        .collect()
}

/// Per-store lease locks in the ledger table, taken by every stockwatch
/// loader in either write mode, so loads of one store never interleave.
pub struct StoreLocks {
    pub client: Client,
    pub ledger_table: String,
    pub retry: RetryPolicy,
}

pub struct Batched {
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

fn lock_key(store: &str) -> String {
    format!("lock#{}", serde_json::json!(store))
}

impl StoreLocks {
    /// Takes the store's lock, waiting while another loader holds it.
    pub async fn take<'a>(&self, store: &'a str, token: &'a str) -> PortResult<Held<'a>> {
        let asked = std::time::Instant::now();
        self.lock(store, token).await?;
        Ok(Held {
            store,
            token,
            until: asked + LEASE,
        })
    }

    /// Takes the lock of the store these rows belong to; if it cannot be
    /// had, every row fails with why (the summary the writer returns).
    pub async fn take_for<'a>(&self, rows: &[&'a InventoryRow], token: &'a str) -> Result<Held<'a>, WriteSummary> {
        self.take(&rows[0].store, token).await.map_err(|e| WriteSummary {
            failed: failed(rows, &e),
            ..WriteSummary::default()
        })
    }

    /// Renews a held lock when little of its lease is left. An error means
    /// the lock is lost: nothing more may be written under it.
    pub async fn keep(&self, held: &mut Held<'_>) -> PortResult<()> {
        let now = std::time::Instant::now();
        if held.until.saturating_duration_since(now) > RENEW_MARGIN {
            return Ok(());
        }
        if held.until <= now {
            return Err(PortError::Transient(format!(
                "the lock on store {} expired while loading; load the file again",
                held.store
            )));
        }
        self.lock(held.store, held.token).await?;
        held.until = now + LEASE;
        Ok(())
    }

    async fn lock(&self, store: &str, token: &str) -> PortResult<()> {
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            let now = Timestamp::now().0;
            let result = self
                .client
                .put_item()
                .table_name(&self.ledger_table)
                .item("pk", s(lock_key(store)))
                .item("LockedBy", s(token))
                .item("LeaseUntil", n(now + LEASE.as_millis() as i64))
                .item("ExpiresAt", n(now / 1000 + 3600))
                .condition_expression("attribute_not_exists(pk) OR LeaseUntil < :now OR LockedBy = :me")
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":me", s(token))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException")) =>
                {
                    if started.elapsed() > LOCK_WAIT {
                        return Err(PortError::Transient(format!(
                            "store {store} has been locked by another loader for over {} s",
                            LOCK_WAIT.as_secs()
                        )));
                    }
                    tokio::time::sleep(self.retry.delay(attempt.min(6))).await;
                    attempt += 1;
                }
                Err(e) => return Err(sdk_error(&format!("the ledger table {}", self.ledger_table), e)),
            }
        }
    }

    pub async fn unlock(&self, store: &str, token: &str) {
        let _ = self
            .client
            .delete_item()
            .table_name(&self.ledger_table)
            .key("pk", s(lock_key(store)))
            .condition_expression("LockedBy = :me")
            .expression_attribute_values(":me", s(token))
            .send()
            .await;
    }
}

impl Batched {
    fn what(&self) -> String {
        format!("the table {}", self.table)
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
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| sdk_error(&self.what(), e))?;
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

    /// Writes items, retrying what DynamoDB hands back unprocessed. Returns
    /// the keys that could not be written after every retry, with why.
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

    /// Writes one store's rows under its lock. If the lock cannot be had
    /// or is lost, the store's remaining rows fail (transiently): none of
    /// them is written, so loading the file again completes it.
    pub async fn write_store(
        &self,
        rows: &[&InventoryRow],
        as_of: Timestamp,
        now: i64,
        source: &str,
        token: &str,
    ) -> WriteSummary {
        let mut held = match self.locks.take_for(rows, token).await {
            Ok(held) => held,
            Err(failed_all) => return failed_all,
        };
        let mut summary = WriteSummary::default();
        for (index, chunk) in rows.chunks(GET_BATCH).enumerate() {
            if let Err(e) = self.locks.keep(&mut held).await {
                summary.failed.extend(failed(&rows[index * GET_BATCH..], &e));
                break;
            }
            let stored = match self.stored(chunk).await {
                Ok(stored) => stored,
                Err(e) => {
                    summary.failed.extend(failed(chunk, &e));
                    continue;
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
            for (key, error) in self.put_all(&mut held, writes).await {
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
        }
        self.locks.unlock(held.store, token).await;
        summary
    }
}
