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
/// The feed's checkpoint of a relay that only publishes.
const PUBLISHER_CHECKPOINT: &str = "relay";
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
    /// `None` beside a deployed stack: its function raises the alerts.
    checker: Option<Checker>,
    retry: RetryPolicy,
    /// Where the next pass reads from: loaded once, then kept here, so an
    /// idle pass costs the reads of the feed and the ledger and nothing
    /// else; checkpoints are written only when a position moves.
    positions: std::sync::Mutex<Option<Positions>>,
    /// `stockwatch relay` keeps its place in the ledger across restarts; a
    /// console's relay starts at the ledger's tip each time (its view reads
    /// the unresolved alerts then) and keeps its place to itself.
    saves_ledger: bool,
}

#[derive(Debug, Clone)]
struct Positions {
    feed: Option<FeedCursor>,
    ledger: LedgerCursor,
}

impl Relay {
    pub fn new(ports: Ports, checker: Checker) -> Relay {
        Relay::publishing(ports, Some(checker))
    }

    /// A relay that raises alerts too (`Some` checker), or only publishes.
    pub fn publishing(ports: Ports, checker: Option<Checker>) -> Relay {
        Relay {
            ports,
            checker,
            retry: RetryPolicy::default(),
            positions: std::sync::Mutex::new(None),
            saves_ledger: true,
        }
    }

    /// The relay of one console that raises alerts itself: the feed from
    /// the checker's checkpoint (catching up, as the checker did), the
    /// ledger from now; call it before the console's view reads its
    /// snapshot, so nothing falls between the two. Its view sees every
    /// change whatever other consoles have read.
    pub async fn in_process(ports: Ports, checker: Checker) -> Result<Relay, PortError> {
        let relay = Relay {
            saves_ledger: false,
            ..Relay::new(ports, checker)
        };
        let name = relay.feed_checkpoint().to_string();
        let feed = relay
            .retry
            .run("read the checker's checkpoint", || relay.ports.checkpoints.load(&name))
            .await?;
        let ledger = relay
            .retry
            .run("find the ledger's tip", || relay.ports.ledger.tip())
            .await?;
        relay.keep(Positions { feed, ledger });
        Ok(relay)
    }

    /// The feed's checkpoint: the checker's own, so a `stockwatch check`
    /// beside it goes on from where the relay is.
    fn feed_checkpoint(&self) -> &str {
        self.checker
            .as_ref()
            .map_or(PUBLISHER_CHECKPOINT, |c| c.config().name.as_str())
    }

    fn keep(&self, positions: Positions) {
        *self.positions.lock().unwrap_or_else(|p| p.into_inner()) = Some(positions);
    }

    /// The positions kept, or (first pass of `stockwatch relay`) the
    /// checkpoints, the ledger's tip for a relay that never ran.
    async fn positions(&self) -> Result<Positions, PortError> {
        if let Some(kept) = self.positions.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(kept);
        }
        let name = self.feed_checkpoint().to_string();
        let feed = self
            .retry
            .run("read the relay's checkpoint", || self.ports.checkpoints.load(&name))
            .await?;
        let saved = self
            .retry
            .run("read the relay's ledger checkpoint", || {
                self.ports.checkpoints.load(LEDGER_CHECKPOINT)
            })
            .await?;
        let ledger = match saved {
            Some(c) => LedgerCursor(c.0),
            None => {
                self.retry
                    .run("find the ledger's tip", || self.ports.ledger.tip())
                    .await?
            }
        };
        Ok(Positions { feed, ledger })
    }

    /// Publishes and checks one page of changes, then publishes one page
    /// of the ledger's changes (from before this pass's claims, so what it
    /// raises is published by this pass or the next).
    pub async fn run_once(&self) -> Result<RelayReport, PortError> {
        let Positions { feed: cursor, ledger } = self.positions().await?;
        let mut report = RelayReport::default();
        if let Some(checker) = &self.checker {
            report.check = checker.sweep().await?;
        }
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
        if let Some(checker) = &self.checker {
            if page.gap {
                report.check.add(checker.reconcile_now().await?);
            }
            checker.process(&page.changes, &mut report.check).await?;
        }
        if Some(&page.cursor) != cursor.as_ref() {
            let name = self.feed_checkpoint().to_string();
            self.retry
                .run("save the relay's checkpoint", || {
                    self.ports.checkpoints.save(&name, &page.cursor)
                })
                .await?;
        }
        report.changes = page.changes.len();

        let alerts = self
            .retry
            .run("read the ledger's changes", || {
                self.ports.ledger.changes_since(Some(&ledger), PAGE)
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
        if self.saves_ledger && alerts.cursor != ledger {
            let next = FeedCursor(alerts.cursor.0.clone());
            self.retry
                .run("save the relay's ledger checkpoint", || {
                    self.ports.checkpoints.save(LEDGER_CHECKPOINT, &next)
                })
                .await?;
        }
        self.keep(Positions {
            feed: Some(page.cursor),
            ledger: alerts.cursor,
        });
        Ok(report)
    }
}
