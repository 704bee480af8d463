//! The live picture every page is drawn from: one follower per server (a
//! queue of its own on a relay's topic, or the feed read directly, never
//! one per browser tab) keeps the live copies of the table, the ledger and
//! the snoozes; each batch it applies is also told to every open page as
//! one server-sent event, serialized once.

use serde::Serialize;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use stockwatch_core::app::{FollowOptions, Followed, Operations, Part};
use stockwatch_core::live::{ItemHistory, LiveAlerts, LiveStock};
use stockwatch_core::ports::Backoff;
use stockwatch_domain::{Alert, Snooze, Thresholds};
use tokio::sync::{broadcast, watch};

/// Events kept for pages that read slowly; one further behind is told to
/// read its page again (`resync`).
const EVENTS_KEPT: usize = 1024;
/// Rows told one by one in an event; a bigger batch says only how many
/// changed and pages read themselves again.
const ROWS_TOLD: usize = 500;
/// Waits while the follower fails: the server never gives up on its own.
const FAILING: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));

/// What the pages show; read under a lock held only while a page is drawn.
#[derive(Debug)]
pub struct Live {
    pub stock: LiveStock,
    pub alerts: LiveAlerts,
    pub histories: ItemHistory,
    pub snoozes: Vec<Snooze>,
    /// The first snapshot is read: the counts are whole.
    pub ready: bool,
    /// Why the picture may be behind (the feed or the ledger failing, the
    /// relay silent), said on every page until it mends.
    pub trouble: Option<String>,
    /// Bumped by every batch applied.
    pub version: u64,
}

/// One event for the open pages, serialized once for all of them.
#[derive(Debug, Clone)]
pub struct Told {
    pub kind: &'static str,
    pub data: Arc<str>,
}

/// The live picture and its event channel, shared by every request.
#[derive(Clone)]
pub struct Picture {
    live: Arc<RwLock<Live>>,
    events: broadcast::Sender<Told>,
}

#[derive(Serialize)]
struct RowTold<'a> {
    store: &'a str,
    item: &'a str,
    /// `null`: the row was removed.
    count: Option<u32>,
    level: Option<&'static str>,
}

#[derive(Serialize)]
struct StockTold<'a> {
    rows: Vec<RowTold<'a>>,
    /// Rows changed in all; more than `rows` holds when the batch was big.
    changed: usize,
    /// When the batch's oldest change was written (ms since the epoch):
    /// how far behind a page is.
    at: i64,
}

#[derive(Serialize)]
struct AlertTold<'a> {
    id: String,
    store: &'a str,
    item: &'a str,
    kind: &'static str,
    state: &'static str,
    by: Option<&'a str>,
}

#[derive(Serialize)]
struct StatusTold<'a> {
    ready: bool,
    trouble: Option<&'a str>,
}

impl Picture {
    pub fn new(thresholds: Thresholds) -> Picture {
        let (events, _) = broadcast::channel(EVENTS_KEPT);
        Picture {
            live: Arc::new(RwLock::new(Live {
                stock: LiveStock::new(thresholds),
                alerts: LiveAlerts::default(),
                histories: ItemHistory::default(),
                snoozes: Vec::new(),
                ready: false,
                trouble: None,
                version: 0,
            })),
            events,
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Live> {
        self.live.write().unwrap_or_else(|p| p.into_inner())
    }

    /// `look` at the stores most urgent first. The order is rebuilt
    /// lazily after counts change, so under the write lock, briefly.
    pub fn by_urgency<R>(&self, look: impl FnOnce(&[String]) -> R) -> R {
        look(self.write().stock.stores_by_urgency())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Told> {
        self.events.subscribe()
    }

    /// Open pages now (each follows the events).
    pub fn pages_following(&self) -> usize {
        self.events.receiver_count()
    }

    fn tell(&self, kind: &'static str, data: String) {
        // Nobody following is fine: the next page reads the picture.
        let _ = self.events.send(Told {
            kind,
            data: data.into(),
        });
    }

    /// Applies what the follower gave, then tells the open pages once.
    pub fn apply(&self, batch: Vec<Followed>) {
        let mut changed: Vec<(String, String)> = Vec::new();
        let mut oldest_at = i64::MAX;
        let mut changed_alerts: Vec<Alert> = Vec::new();
        let mut whole_again = false;
        let status_before;
        {
            let mut live = self.write();
            status_before = (live.ready, live.trouble.clone());
            for followed in batch {
                match followed {
                    Followed::Rows { rows, last } => {
                        for row in rows {
                            live.stock.apply_row(row);
                        }
                        if last {
                            live.ready = true;
                            whole_again = true;
                        }
                    }
                    Followed::Unresolved { alerts, .. } => {
                        live.alerts.replace_unresolved(alerts);
                        whole_again = true;
                    }
                    Followed::Gap => {
                        live.stock.reset();
                        live.histories = ItemHistory::default();
                        live.ready = false;
                    }
                    Followed::Refresh => {}
                    Followed::Changes(changes) => {
                        for change in &changes {
                            oldest_at = oldest_at.min(change.at.0);
                            live.histories.apply(change);
                            if live.stock.apply_change(change) {
                                changed.push((change.store.clone(), change.item.clone()));
                            }
                        }
                    }
                    Followed::Alerts(alerts) => {
                        for alert in alerts {
                            live.alerts.put(alert.clone());
                            changed_alerts.push(alert);
                        }
                    }
                    Followed::Snoozes(snoozes) => {
                        if live.snoozes != snoozes {
                            live.snoozes = snoozes;
                            whole_again = true;
                        }
                    }
                    Followed::PublisherSilent(silent) => {
                        live.trouble = silent.then(|| "the relay is silent: the view is read again".to_string());
                    }
                    Followed::Reconnected { away } => {
                        tracing::info!("{}", stockwatch_core::app::reconnected_said(away));
                    }
                }
            }
            live.version += 1;
            // Told under the same lock: the rows as this batch left them.
            self.tell_batch(&live, &changed, oldest_at, &changed_alerts, whole_again, status_before);
        }
    }

    fn tell_batch(
        &self,
        live: &Live,
        changed: &[(String, String)],
        oldest_at: i64,
        alerts: &[Alert],
        whole_again: bool,
        status_before: (bool, Option<String>),
    ) {
        if whole_again {
            self.tell("resync", "{}".into());
        } else if !changed.is_empty() {
            let rows = changed
                .iter()
                .take(ROWS_TOLD)
                .map(|(store, item)| {
                    let row = live.stock.item(store, item);
                    RowTold {
                        store,
                        item,
                        count: row.map(|r| r.count),
                        level: row.map(|r| r.level.label()),
                    }
                })
                .collect();
            let told = StockTold {
                rows,
                changed: changed.len(),
                at: oldest_at,
            };
            self.tell("stock", serde_json::to_string(&told).unwrap_or_default());
        }
        if !alerts.is_empty() {
            let told: Vec<AlertTold> = alerts
                .iter()
                .map(|a| AlertTold {
                    id: a.id.to_string(),
                    store: &a.store,
                    item: &a.item,
                    kind: a.kind.as_str(),
                    state: a.state.as_str(),
                    by: a.acknowledged.as_ref().map(|k| k.by.as_str()),
                })
                .collect();
            self.tell("alerts", serde_json::to_string(&told).unwrap_or_default());
        }
        if (live.ready, live.trouble.clone()) != status_before {
            self.tell_status(live);
        }
    }

    fn tell_status(&self, live: &Live) {
        let told = StatusTold {
            ready: live.ready,
            trouble: live.trouble.as_deref(),
        };
        self.tell("status", serde_json::to_string(&told).unwrap_or_default());
    }

    /// The follower failing (said on the pages) or mended.
    fn trouble(&self, trouble: Option<String>) {
        let mut live = self.write();
        if live.trouble != trouble {
            live.trouble = trouble;
            self.tell_status(&live);
        }
    }

    /// An alert this server's user just changed: shown at once on the
    /// page the user goes back to (the follower brings it too; the
    /// ledger's version decides which copy stays).
    pub fn apply_own_alert(&self, alert: Alert) {
        self.apply(vec![Followed::Alerts(vec![alert])]);
    }

    /// A snooze this server's user just set (the snoozes are read again
    /// every minute, with everyone's).
    pub fn apply_own_snooze(&self, snooze: Snooze) {
        let mut snoozes = self.read().snoozes.clone();
        snoozes.retain(|s| !(s.store == snooze.store && s.item == snooze.item));
        snoozes.push(snooze);
        self.apply(vec![Followed::Snoozes(snoozes)]);
    }
}

/// Follows the backend into `picture` until `stop` turns true: the
/// snapshot first, then changes, alerts and snoozes as they come.
pub async fn follow(
    ops: Operations,
    name: String,
    options: FollowOptions,
    picture: Picture,
    mut stop: watch::Receiver<bool>,
) {
    let mut failures = stockwatch_core::ports::Failures::new(FAILING);
    let mut follower = loop {
        match ops.follow(&name, options.clone()).await {
            Ok(follower) => break follower,
            Err(e) => {
                picture.trouble(Some(format!("cannot follow the stock: {e}")));
                tokio::select! {
                    _ = tokio::time::sleep(failures.failed()) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    };
    let ender = follower.ender();
    loop {
        tokio::select! {
            next = follower.next() => match next {
                Ok(batch) => {
                    if failures.succeeded() {
                        picture.trouble(None);
                    }
                    if !batch.is_empty() {
                        picture.apply(batch);
                    }
                }
                Err(failed) => {
                    let what = match failed.part {
                        Part::Feed => "the change feed",
                        Part::Ledger => "the alerts",
                    };
                    tracing::warn!(error = %failed, "{what} could not be read");
                    picture.trouble(Some(format!("{what} could not be read: {failed}; retrying")));
                    tokio::select! {
                        _ = tokio::time::sleep(failures.failed()) => {}
                        _ = stop.changed() => break,
                    }
                }
            },
            _ = stop.changed() => break,
        }
    }
    // The queue goes with the server (a relay reaps it if this cannot).
    if let Err(e) = ender.end().await {
        tracing::warn!(error = %e, "could not remove the dashboard's queue");
    }
}
