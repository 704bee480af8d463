//! Following the inventory and the alerts as they change: what the
//! console and `watch` show. One follower subscribes first (to a relay's
//! fan-out topic with a queue of its own, or to the feed and the ledger
//! read directly), then reads its snapshot (the table, the unresolved
//! alerts) when asked for one, then gives what it receives. Twice or late
//! is harmless: the newest as-of and the highest alert version win. Lost
//! events (a gap) mean reading the snapshot again; the subscription is
//! kept alive well within the time after which a relay removes it.

use super::{AppError, Operations};
use crate::ports::{AlertFilter, Change, DirectFanout, Event, Fanout, PageToken, StockFilter, StockRow, Subscription};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stockwatch_domain::{Alert, Snooze, Timestamp};

/// Rows read per page of a snapshot.
const SNAPSHOT_PAGE: usize = 5000;
/// Changes or alerts read at once when reading from the start.
const FROM_START_PAGE: usize = 5000;
/// How often the snoozes are read again: snoozes set elsewhere show within a minute.
const SNOOZES_EVERY: Duration = Duration::from_secs(60);
/// A publisher not heard of for this long is silent (a relay beats every
/// 30 s, a stack's sweep every minute): its followers say so, and read
/// their snapshot afresh now and every as long again while it stays
/// silent, so a view lags the table by at most this.
pub const PUBLISHER_SILENT: Duration = Duration::from_secs(150);

/// What a follower wants besides the events.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Read the table and the unresolved alerts first, and again after a gap.
    pub snapshot: bool,
    /// Read the snoozes at the start and every minute.
    pub snoozes: bool,
    /// Read every change ever recorded first (directly, not through a relay).
    pub from_start: bool,
    /// The longest one `next` waits while nothing happens.
    pub wait: Duration,
    /// How often the subscription is kept alive: well within the time
    /// after which a relay removes it (`TestKnobs::keep_alive_every`).
    pub keep_alive_every: Duration,
    /// When a relay not heard of is silent (`PUBLISHER_SILENT`).
    pub silent_after: Duration,
}

/// What a follower gives, in the order to apply it.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// A page of the table read for a snapshot; `last` on its last page.
    Rows {
        rows: Vec<StockRow>,
        last: bool,
    },
    /// The unresolved alerts: the snapshot's (`again` after a gap).
    Unresolved {
        alerts: Vec<Alert>,
        again: bool,
    },
    /// Events were lost on the way (a stream trimmed or replaced, a hole in
    /// the relay's numbering): with a snapshot asked for, a fresh one
    /// follows, to replace what is held.
    Gap,
    /// The relay is silent: a fresh snapshot follows, to merge with what is
    /// held (rows by the table's rule; the unresolved alerts replaced).
    Refresh,
    Changes(Vec<Change>),
    Alerts(Vec<Alert>),
    Snoozes(Vec<Snooze>),
    /// The relay was not heard of for a while (`true`), or is heard again.
    PublisherSilent(bool),
    /// The follower's queue or subscription was gone (reaped while it
    /// slept): it subscribed again, last having heard anything `away` ago;
    /// with a snapshot asked for, a fresh one follows (after a `Gap`).
    Reconnected {
        away: Duration,
    },
}

/// What a front end says of `Followed::Reconnected`, once.
pub fn reconnected_said(away: Duration) -> String {
    format!(
        "reconnected after {} without news (the queue was removed meanwhile); view refreshed",
        stockwatch_domain::time::short_span(away)
    )
}

/// Which read failed: a front end may show the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Feed,
    Ledger,
}

/// A step that failed; the follower keeps its place and the next call
/// tries the same step again.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct FollowFailed {
    pub part: Part,
    #[source]
    pub error: AppError,
}

impl FollowFailed {
    fn feed(error: impl Into<AppError>) -> FollowFailed {
        FollowFailed {
            part: Part::Feed,
            error: error.into(),
        }
    }

    fn ledger(error: impl Into<AppError>) -> FollowFailed {
        FollowFailed {
            part: Part::Ledger,
            error: error.into(),
        }
    }
}

/// A snapshot under way: the next page of rows, then the alerts.
#[derive(Debug, Clone)]
struct Snapshot {
    next_rows: Option<PageToken>,
    rows_done: bool,
    again: bool,
}

/// Ends a follower's subscription; kept apart so whoever outlives the
/// follower's task (the console's run loop) can end it.
#[derive(Clone)]
pub struct FollowEnd {
    fanout: Arc<dyn Fanout>,
    subscription: Subscription,
}

impl FollowEnd {
    /// Removes the subscription (a relay reaps it if this cannot).
    pub async fn end(&self) -> Result<(), AppError> {
        Ok(self.fanout.unsubscribe(&self.subscription).await?)
    }
}

pub struct Follower {
    ops: Operations,
    fanout: Arc<dyn Fanout>,
    /// Who follows, as subscribed (again after a lost queue).
    name: String,
    subscription: Subscription,
    options: FollowOptions,
    snapshot: Option<Snapshot>,
    kept_alive: Instant,
    heard: Instant,
    silent: bool,
    /// When the view was last read afresh for a silent relay.
    read_for_silence: Option<Instant>,
    snoozes_read: Option<Instant>,
    /// What came with a gap: given after the fresh snapshot, as it is newer.
    after_snapshot: Vec<Followed>,
}

impl Operations {
    /// Subscribes `name` (who follows, where: shown to whoever lists the
    /// followers). Nothing is missed from here on: the snapshot is read
    /// after subscribing.
    pub async fn follow(&self, name: &str, options: FollowOptions) -> Result<Follower, AppError> {
        let (fanout, subscription): (Arc<dyn Fanout>, Subscription) = if options.from_start {
            let direct = DirectFanout::new(self.ports.feed.clone(), self.ports.ledger.clone()).reading(FROM_START_PAGE);
            (Arc::new(direct), DirectFanout::from_start(name))
        } else {
            let fanout = self.ports.fanout.clone();
            let subscription = match fanout.subscribe(name).await {
                // Its new queue was removed before it was subscribed (the
                // machine slept while starting, and a relay reaped it).
                Err(e) if e.is_not_found() => {
                    tracing::warn!(error = %e, "the new queue went while subscribing; subscribing again");
                    fanout.subscribe(name).await?
                }
                result => result?,
            };
            (fanout, subscription)
        };
        let snapshot = options.snapshot.then_some(Snapshot {
            next_rows: None,
            rows_done: false,
            again: false,
        });
        Ok(Follower {
            ops: self.clone(),
            fanout,
            name: name.to_string(),
            subscription,
            options,
            snapshot,
            kept_alive: Instant::now(),
            heard: Instant::now(),
            silent: false,
            read_for_silence: None,
            snoozes_read: None,
            after_snapshot: Vec::new(),
        })
    }
}

impl Follower {
    /// Whether its snapshot is being read (it is not live yet).
    pub fn in_snapshot(&self) -> bool {
        self.snapshot.is_some()
    }

    /// What ends this follower's subscription.
    pub fn ender(&self) -> FollowEnd {
        FollowEnd {
            fanout: self.fanout.clone(),
            subscription: self.subscription.clone(),
        }
    }

    /// The next things to apply: the snapshot's pages first, then what is
    /// received (waiting up to the options' `wait` while nothing comes).
    pub async fn next(&mut self) -> Result<Vec<Followed>, FollowFailed> {
        if let Some(snapshot) = self.snapshot.clone() {
            return self.snapshot_step(snapshot).await;
        }
        let mut out = Vec::new();
        if self.options.snoozes && self.snoozes_read.is_none_or(|at| at.elapsed() >= SNOOZES_EVERY) {
            // Not worth stopping the events for: tried again in a minute.
            self.snoozes_read = Some(Instant::now());
            match self.ops.snoozes(Timestamp::now()).await {
                Ok(snoozes) => out.push(Followed::Snoozes(snoozes)),
                Err(e) => tracing::warn!(error = %e, "could not read the snoozes"),
            }
        }
        if self.kept_alive.elapsed() >= self.options.keep_alive_every {
            // A failure is the caller's to show and retry: left failing for
            // four keep-alives, the queue is removed as a stopped follower's.
            match self.fanout.keep_alive(&self.subscription).await {
                Err(e) if e.is_not_found() => return self.reconnect().await,
                result => result.map_err(FollowFailed::feed)?,
            }
            self.kept_alive = Instant::now();
        }
        // A relay that stopped beating is said once, and when it is back;
        // meanwhile what it did not relay is read afresh.
        if self.ops.ports.relayed && self.silent != (self.heard.elapsed() >= self.options.silent_after) {
            self.silent = !self.silent;
            self.read_for_silence = None;
            out.push(Followed::PublisherSilent(self.silent));
        }
        if self.silent
            && self.options.snapshot
            && self
                .read_for_silence
                .is_none_or(|at| at.elapsed() >= self.options.silent_after)
        {
            self.read_for_silence = Some(Instant::now());
            out.push(Followed::Refresh);
            self.start_snapshot_again();
            self.after_snapshot.clear();
            return Ok(out);
        }
        // Never waiting past the next keep-alive.
        let wait = self.options.wait.min(self.options.keep_alive_every);
        let events = match self.fanout.receive(&mut self.subscription, wait).await {
            Err(e) if e.is_not_found() => return self.reconnect().await,
            result => result.map_err(FollowFailed::feed)?,
        };
        let (mut changes, mut alerts, mut gap) = (Vec::new(), Vec::new(), false);
        for event in events {
            self.heard = Instant::now();
            match event {
                Event::Change(change) => changes.push(change),
                Event::Alert(alert) => alerts.push(alert),
                Event::Gap => gap = true,
                Event::Beat => {}
            }
        }
        let mut news = Vec::new();
        if !changes.is_empty() {
            news.push(Followed::Changes(changes));
        }
        if !alerts.is_empty() {
            news.push(Followed::Alerts(alerts));
        }
        if gap {
            out.push(Followed::Gap);
            if self.options.snapshot {
                // Start over from a fresh read, so rows deleted and alerts
                // resolved meanwhile go too; what came with the gap after it.
                self.start_snapshot_again();
                self.after_snapshot = news;
                return Ok(out);
            }
        }
        out.extend(news);
        Ok(out)
    }

    /// Subscribes again after the queue or its subscription went (reaped
    /// while this follower slept: a closed laptop), then reads a fresh
    /// snapshot, as at the start: what the lost queue held is in it.
    async fn reconnect(&mut self) -> Result<Vec<Followed>, FollowFailed> {
        let away = self.heard.elapsed();
        tracing::warn!(?away, "the follower's queue was gone; subscribing again");
        // What is left of the old one (a queue without subscription).
        if let Err(e) = self.fanout.unsubscribe(&self.subscription).await {
            tracing::debug!(error = %e, "the old queue was gone already");
        }
        self.subscription = self.fanout.subscribe(&self.name).await.map_err(FollowFailed::feed)?;
        (self.kept_alive, self.heard) = (Instant::now(), Instant::now());
        let mut out = Vec::new();
        if self.options.snapshot {
            out.push(Followed::Gap);
            self.start_snapshot_again();
            self.after_snapshot.clear();
        }
        out.push(Followed::Reconnected { away });
        Ok(out)
    }

    /// Reads the snapshot again from its first page.
    fn start_snapshot_again(&mut self) {
        self.snapshot = Some(Snapshot {
            next_rows: None,
            rows_done: false,
            again: true,
        });
    }

    /// One step of a snapshot: a page of rows, or the unresolved alerts.
    async fn snapshot_step(&mut self, mut snapshot: Snapshot) -> Result<Vec<Followed>, FollowFailed> {
        let ports = &self.ops.ports;
        if !snapshot.rows_done {
            let page = ports
                .table
                .scan(&StockFilter::default(), snapshot.next_rows.as_ref(), SNAPSHOT_PAGE)
                .await
                .map_err(FollowFailed::feed)?;
            let last = page.next.is_none();
            snapshot.next_rows = page.next;
            snapshot.rows_done = last;
            self.snapshot = Some(snapshot);
            return Ok(vec![Followed::Rows { rows: page.items, last }]);
        }
        let alerts = self
            .ops
            .alerts(&AlertFilter::default())
            .await
            .map_err(FollowFailed::ledger)?;
        self.snapshot = None;
        // A long read is not the relay's silence: it is judged from here
        // (and the next fresh read while silent is one silence away).
        if self.silent {
            self.read_for_silence = Some(Instant::now());
        } else {
            self.heard = Instant::now();
        }
        let mut out = vec![Followed::Unresolved {
            alerts,
            again: snapshot.again,
        }];
        out.append(&mut self.after_snapshot);
        Ok(out)
    }
}
