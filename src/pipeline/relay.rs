//! The relay: the one process that reads the change feed and the ledger's
//! changes, publishes them to the fan-out feed for every follower, and
//! checks the changes it reads (so followers run no checker and never
//! read a stream). `stockwatch relay` runs it once per setup, e.g. under
//! systemd; a deployed stack's stream consumers do the same job.
//!
//! At least once, never lost: a page is published and checked before its
//! checkpoint moves, so a relay killed half way publishes it again after a
//! restart (followers apply events idempotently; claims are conditional).

use super::checker::{CheckReport, Checker};
use crate::ports::{Event, FeedCursor, LedgerCursor, PortError, Ports, RetryPolicy};

/// Changes or alerts read and published at once.
const PAGE: usize = 1000;
/// The ledger follower's checkpoint (the feed's is the checker's own, so a
/// `stockwatch check` run beside it goes on from where the relay is).
const LEDGER_CHECKPOINT: &str = "relay-ledger";

/// What one pass did.
#[derive(Debug, Default)]
pub struct RelayReport {
    /// Stock changes published.
    pub changes: usize,
    /// Alert states published.
    pub alerts: usize,
    pub check: CheckReport,
}

impl RelayReport {
    pub fn is_empty(&self) -> bool {
        self.changes == 0 && self.alerts == 0
    }
}

pub struct Relay {
    ports: Ports,
    checker: Checker,
    retry: RetryPolicy,
}

impl Relay {
    pub fn new(ports: Ports, checker: Checker) -> Relay {
        Relay {
            ports,
            checker,
            retry: RetryPolicy::default(),
        }
    }

    fn feed_checkpoint(&self) -> &str {
        &self.checker.config().name
    }

    /// Publishes and checks one page of changes, then one page of the
    /// ledger's changes, each from its checkpoint.
    pub async fn run_once(&self) -> Result<RelayReport, PortError> {
        // Where the ledger's changes are published from, taken before this
        // pass claims anything: a first relay starts at the ledger's tip
        // (followers read the unresolved alerts themselves when they start).
        let saved = self
            .retry
            .run("read the relay's ledger checkpoint", || {
                self.ports.checkpoints.load(LEDGER_CHECKPOINT)
            })
            .await?;
        let ledger_cursor = match saved {
            Some(c) => LedgerCursor(c.0),
            None => {
                self.retry
                    .run("find the ledger's tip", || self.ports.ledger.tip())
                    .await?
            }
        };
        let mut report = RelayReport {
            check: self.checker.sweep().await?,
            ..RelayReport::default()
        };
        let name = self.feed_checkpoint().to_string();
        let cursor = self
            .retry
            .run("read the relay's checkpoint", || self.ports.checkpoints.load(&name))
            .await?;
        let page = self
            .retry
            .run("read the change feed", || self.ports.feed.read(cursor.as_ref(), PAGE))
            .await?;
        let mut events: Vec<Event> = Vec::new();
        if page.gap {
            events.push(Event::Gap);
        }
        events.extend(page.changes.iter().cloned().map(Event::Change));
        if !events.is_empty() {
            self.retry
                .run("publish changes", || self.ports.fanout.publish(&events))
                .await?;
        }
        if page.gap {
            report.check.add(self.checker.reconcile_now().await?);
        }
        self.checker.process(&page.changes, &mut report.check).await?;
        if Some(&page.cursor) != cursor.as_ref() {
            self.retry
                .run("save the relay's checkpoint", || {
                    self.ports.checkpoints.save(&name, &page.cursor)
                })
                .await?;
        }
        report.changes = page.changes.len();

        // The ledger, from before this pass's claims.
        let alerts = self
            .retry
            .run("read the ledger's changes", || {
                self.ports.ledger.changes_since(Some(&ledger_cursor), PAGE)
            })
            .await?;
        let mut events: Vec<Event> = Vec::new();
        if alerts.gap {
            events.push(Event::Gap);
        }
        report.alerts = alerts.alerts.len();
        events.extend(alerts.alerts.into_iter().map(Event::Alert));
        if !events.is_empty() {
            self.retry
                .run("publish alerts", || self.ports.fanout.publish(&events))
                .await?;
        }
        let next = FeedCursor(alerts.cursor.0);
        self.retry
            .run("save the relay's ledger checkpoint", || {
                self.ports.checkpoints.save(LEDGER_CHECKPOINT, &next)
            })
            .await?;
        Ok(report)
    }
}
