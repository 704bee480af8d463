//! Per-store lease locks in the ledger table, taken by every stockwatch
//! loader in either write mode, so two loads of one store never interleave.
//!
//! A lock not renewed for `LEASE` is free for the next loader (a crashed
//! holder's lock frees itself). Hosts' clocks must agree to well within it.

use super::attrs::{n, s};
use super::errors::sdk_error;
use crate::domain::{InventoryRow, Timestamp};
use crate::ports::{Backoff, PortError, PortResult, RowFailure};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use std::time::{Duration, Instant};

/// Long enough that a write in flight (the SDK gives up on one after 90 s)
/// always ends inside it.
const LEASE: Duration = Duration::from_secs(300);
/// Before each chunk the lease is renewed if less than this is left.
const RENEW_MARGIN: Duration = Duration::from_secs(120);
/// How long a loader waits for another one's lock on the same store.
const LOCK_WAIT: Duration = Duration::from_secs(330);
/// Waits between looks at a lock someone else holds.
const LOCK_BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(3));

/// A store lock this loader holds, and until when (by this host's clock).
pub struct Held<'a> {
    pub store: &'a str,
    pub token: &'a str,
    until: Instant,
}

pub struct StoreLocks {
    pub client: Client,
    pub ledger_table: String,
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

fn lock_key(store: &str) -> String {
    format!("lock#{}", serde_json::json!(store))
}

impl StoreLocks {
    /// Takes the store's lock, waiting while another loader holds it.
    pub async fn take<'a>(&self, store: &'a str, token: &'a str) -> PortResult<Held<'a>> {
        let asked = Instant::now();
        self.lock(store, token).await?;
        Ok(Held {
            store,
            token,
            until: asked + LEASE,
        })
    }

    /// Renews a held lock when little of its lease is left. An error means
    /// the lock is lost: nothing more may be written under it.
    pub async fn keep(&self, held: &mut Held<'_>) -> PortResult<()> {
        let now = Instant::now();
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
        let started = Instant::now();
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
                    tokio::time::sleep(LOCK_BACKOFF.delay(attempt)).await;
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
