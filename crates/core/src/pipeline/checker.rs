//! The checker: reads the change feed from its checkpoint, decides alerts on
//! each transition, claims them in the ledger and tells people once.
//!
//! Exactly once, however many checkers run: a transition becomes an alert
//! only through the ledger's conditional claim (keyed by the transition, so
//! the feed and a reconcile after a gap claim the same thing), and only the
//! claimer sends it, through the `Publisher`, which sends a message only
//! while the sender holds every claim it carries and marks them published
//! with it. A claimer that dies before sending leaves its claims
//! unpublished; after the lease any checker takes them over and sends them.
//! Locally sending and marking are one transaction (exactly once); on SNS
//! one window remains, said in `adapters::aws::publisher`.

use super::forecasts;
use crate::ports::{
    AlertClaim, AlertFilter, Change, ClaimOutcome, Delivery, Image, PortError, Ports, Restock, StockFilter, all_pages,
};
use crate::ports::{Holder, RetryPolicy};
use std::collections::HashSet;
use std::time::Duration;
use stockwatch_domain::gathered::{Ended, Gathered};
use stockwatch_domain::{
    Alert, AlertId, AlertKind, AlertState, Decision, Level, Message, Snooze, Thresholds, Timestamp, decide,
    decide_soon, is_soon, level, snoozed,
};

#[derive(Debug, Clone)]
pub struct CheckerConfig {
    /// Checkpoint name. Checkers sharing a name share progress (safe: claims
    /// are idempotent and checkpoints only move forward).
    pub name: String,
    pub thresholds: Thresholds,
    /// Tell people of LOW alerts too (OUT alerts always are).
    pub notify_low: bool,
    /// Tell people of SOON alerts (predicted run-outs) too.
    pub notify_soon: bool,
    /// How long a claim may stay unpublished before another checker takes it.
    pub lease: Duration,
    /// Changes asked of the feed per read.
    pub changes_per_read: usize,
    /// Messages one pass sends at most; more become one summary.
    pub max_messages: usize,
    /// Zero: what a pass or batch raises is sent at its end. Otherwise
    /// (the function, a relay: alerts arrive in many small batches) what
    /// batches raise is held and sent together once no new alert came for
    /// this long, or the window has been open `WINDOW_CAP` times as long
    /// (held claims no window sender takes are taken by any checker after
    /// `ports::WINDOW_LONGEST`).
    pub group_wait: Duration,
    /// Reminds of OUT alerts still open and unacknowledged this long after
    /// their last message; `None`: never.
    pub renotify_after: Option<Duration>,
}

/// A grouping window closes at the latest this many `group_wait`s after
/// it opened (and within half of `ports::WINDOW_LONGEST`), however
/// steadily alerts keep coming.
pub const WINDOW_CAP: u32 = 10;

/// The function's and relay's grouping window (Alertmanager's group_wait).
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);

impl Default for CheckerConfig {
    fn default() -> Self {
        CheckerConfig {
            name: "stockwatch".into(),
            thresholds: Thresholds::default(),
            notify_low: false,
            notify_soon: false,
            lease: Duration::from_secs(60),
            changes_per_read: 1000,
            max_messages: stockwatch_domain::notify::DEFAULT_MAX_MESSAGES,
            group_wait: Duration::ZERO,
            renotify_after: None,
        }
    }
}

/// What one `run_once` (or sweep) did: what this run raised and sent,
/// claims it took over from a stopped checker included.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub changes: u64,
    /// Alerts this checker claimed, each once (another may have claimed
    /// more): the first `KEPT_RAISED`; `raised_total` counts them all.
    pub raised: Vec<Alert>,
    /// Claims of a checker that stopped before sending them, taken over and
    /// sent (or tried) by this run.
    pub taken_over: Vec<Alert>,
    pub resolved: u64,
    /// Alerts carried by the messages this run sent (reminders included).
    pub published: u64,
    /// Alerts claimed and held for the grouping window (`group_wait`),
    /// sent by a later sweep.
    pub held: u64,
    /// Reminders this run claimed (one per alert and interval).
    pub reminded: u64,
    /// Notifications that failed after retries: left for the lease takeover.
    pub unpublished: Vec<(AlertId, String)>,
    /// The feed reported lost changes: alerts for them may be missing.
    pub gap: bool,
    /// Alerts already counted: a transition found twice (the feed and a
    /// reconcile, or a retried claim) is still one alert.
    counted: HashSet<AlertId>,
}

/// Raised alerts a report keeps whole; past it, only counted (a storm's
/// 800,000 alerts would be hundreds of megabytes).
pub const KEPT_RAISED: usize = 1000;

impl CheckReport {
    /// Every alert this run raised, each once.
    pub fn raised_total(&self) -> u64 {
        self.counted.len().max(self.raised.len()) as u64
    }

    /// Counts a raised alert, kept whole while few: `false` when it was
    /// counted already.
    fn note_raised(&mut self, alert: Alert) -> bool {
        if !self.counted.insert(alert.id) {
            return false;
        }
        if self.raised.len() < KEPT_RAISED {
            self.raised.push(alert);
        }
        true
    }

    /// Adds another report's counts (a sweep's) to this one.
    pub fn add(&mut self, other: CheckReport) {
        self.changes += other.changes;
        for alert in other.raised {
            if !self.counted.contains(&alert.id) && self.raised.len() < KEPT_RAISED {
                self.raised.push(alert);
            }
        }
        self.counted.extend(other.counted);
        self.taken_over.extend(other.taken_over);
        self.resolved += other.resolved;
        self.published += other.published;
        self.held += other.held;
        self.reminded += other.reminded;
        self.unpublished.extend(other.unpublished);
        self.gap |= other.gap;
    }
}

#[derive(Clone)]
pub struct Checker {
    ports: Ports,
    config: CheckerConfig,
    token: String,
    retry: RetryPolicy,
    /// When stale claims were last looked for (shared by clones).
    last_takeover: Every,
    /// When due reminders were last looked for.
    last_reminders: Every,
}

/// When something periodic last ran, shared by a checker's clones.
#[derive(Clone, Default)]
struct Every(std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>);

impl Every {
    /// Whether `interval` has passed since it last ran (it runs now if so).
    fn due(&self, interval: Duration) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= interval);
        if due {
            *last = Some(std::time::Instant::now());
        }
        due
    }
}

impl Checker {
    pub fn new(ports: Ports, config: CheckerConfig) -> Self {
        let token = claim_token(&config.name);
        Checker {
            ports,
            config,
            token,
            retry: RetryPolicy::default(),
            last_takeover: Every::default(),
            last_reminders: Every::default(),
        }
    }

    /// How transient failures are retried, and who hears of each retry.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn config(&self) -> &CheckerConfig {
        &self.config
    }

    /// Catches up with the feed: processes every change after the checkpoint.
    pub async fn run_once(&self) -> Result<CheckReport, PortError> {
        let mut report = self.sweep().await?;
        // Everything one pass raises is notified together, at its end.
        let mut to_send = Gathered::new(self.config.max_messages);
        // Read with the first change: an idle pass reads nothing more.
        let mut snoozes: Option<Vec<Snooze>> = None;
        loop {
            let cursor = self
                .retry
                .run("read the checkpoint", || self.ports.checkpoints.load(&self.config.name))
                .await?;
            let page = self
                .retry
                .run("read the change feed", || {
                    self.ports.feed.read(cursor.as_ref(), self.config.changes_per_read)
                })
                .await?;
            if page.gap {
                tracing::error!(checker = %self.config.name, "changes were lost from the feed (trimmed or a new stream)");
                report.gap = true;
                self.reconcile(&mut report).await?;
            }
            if page.changes.is_empty() {
                // Records that carried no change still move the position on.
                if Some(&page.cursor) != cursor.as_ref() {
                    self.retry
                        .run("save the checkpoint", || {
                            self.ports.checkpoints.save(&self.config.name, &page.cursor)
                        })
                        .await?;
                }
                self.send_messages(to_send.messages(), &mut report).await?;
                return Ok(report);
            }
            if snoozes.is_none() {
                snoozes = Some(self.snoozes().await?);
            }
            let snoozes = snoozes.as_deref().unwrap_or_default();
            self.decide_and_claim(&page.changes, snoozes, &self.sender(), &mut to_send, &mut report)
                .await?;
            self.retry
                .run("save the checkpoint", || {
                    self.ports.checkpoints.save(&self.config.name, &page.cursor)
                })
                .await?;
        }
    }

    /// Publishes claims whose publisher stopped before sending (it died, or
    /// its publish kept failing), or, with a grouping window, the window
    /// once it closes; and sends due reminders. Takeovers only matter after
    /// a lease, so this looks at most every quarter lease (a third of the
    /// window): asking every poll would query the ledger several times a
    /// second on a networked backend.
    pub async fn sweep(&self) -> Result<CheckReport, PortError> {
        self.sweeping(false).await
    }

    /// Sweeps now, however recently the last sweep ran (a scheduled sweep).
    pub async fn sweep_now(&self) -> Result<CheckReport, PortError> {
        self.sweeping(true).await
    }

    async fn sweeping(&self, always: bool) -> Result<CheckReport, PortError> {
        let due = |last: &Every, every: Duration| last.due(if always { Duration::ZERO } else { every });
        let mut report = CheckReport::default();
        if due(&self.last_takeover, self.takeover_every()) {
            self.take_over(&mut report).await?;
        }
        if let Some(after) = self.config.renotify_after
            && due(&self.last_reminders, (after / 4).min(Duration::from_secs(60)))
        {
            self.remind(after, &mut report).await?;
        }
        Ok(report)
    }

    fn takeover_every(&self) -> Duration {
        let quarter_lease = self.config.lease / 4;
        match self.config.group_wait {
            wait if wait.is_zero() => quarter_lease,
            wait => (wait / 3).min(quarter_lease),
        }
    }

    async fn take_over(&self, report: &mut CheckReport) -> Result<(), PortError> {
        self.retry
            .run("finish sending", || self.ports.publisher.flush())
            .await?;
        if !self.config.group_wait.is_zero() {
            self.send_window(report).await?;
        }
        self.take_over_stale(report).await
    }

    /// Sends what the grouping window holds once it closes: no new claim
    /// held for `group_wait`, or the oldest `WINDOW_CAP` windows old. Only
    /// held claims are taken: a sender's claims (renewed while it sends)
    /// are taken over only after their lease, by `take_over_stale`.
    async fn send_window(&self, report: &mut CheckReport) -> Result<(), PortError> {
        let held = self
            .retry
            .run("look for alerts held to be sent together", || self.ports.ledger.held())
            .await?;
        let (Some(oldest), Some(newest)) = (held.oldest, held.newest) else {
            return Ok(());
        };
        let now = Timestamp::now();
        let wait = self.config.group_wait;
        let ago = |t: Timestamp| Duration::from_millis(now.0.saturating_sub(t.0).max(0) as u64);
        let cap = (wait * WINDOW_CAP).min(crate::ports::WINDOW_LONGEST / 2);
        if ago(newest) < wait && ago(oldest) < cap {
            return Ok(());
        }
        let window = self
            .retry
            .run("take the window's alerts", || {
                self.ports.ledger.take_held(&self.token, Timestamp::now())
            })
            .await?;
        tracing::info!(alerts = window.len(), "the grouping window closed; sending it");
        self.send(&window, report).await
    }

    /// Claims a reminder of each OUT alert still open whose last message is
    /// `after` old (snoozed ones wait), and sends them grouped.
    async fn remind(&self, after: Duration, report: &mut CheckReport) -> Result<(), PortError> {
        let now = Timestamp::now();
        let before = Timestamp(now.0 - after.as_millis() as i64);
        let due = self
            .retry
            .run("look for reminders due", || self.ports.ledger.due_reminders(before))
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        let snoozes = self.snoozes().await?;
        let due: Vec<Alert> = due
            .into_iter()
            .filter(|a| snoozed(&snoozes, &a.store, &a.item, now).is_none())
            .collect();
        let claimed = self
            .retry
            .run("claim reminders", || {
                self.ports.ledger.claim_reminders(&due, &self.token, Timestamp::now())
            })
            .await?;
        report.reminded += claimed.len() as u64;
        self.send(&claimed, report).await
    }

    /// Decides, claims and publishes for one batch of changes (a stream
    /// batch, a relay's page): its alerts are grouped into its messages.
    pub async fn process(&self, changes: &[Change], report: &mut CheckReport) -> Result<(), PortError> {
        // An idle pass reads nothing more.
        if changes.is_empty() {
            return Ok(());
        }
        let snoozes = self.snoozes().await?;
        let mut to_send = Gathered::new(self.config.max_messages);
        if self.config.group_wait.is_zero() {
            self.decide_and_claim(changes, &snoozes, &self.sender(), &mut to_send, report)
                .await?;
            return self.send_messages(to_send.messages(), report).await;
        }
        // Held for the window: a later sweep (any instance's) sends it with
        // the rest (a later batch's restock takes it out of the window).
        let held = Holder::Window(self.token.clone());
        self.decide_and_claim(changes, &snoozes, &held, &mut to_send, report)
            .await?;
        report.held += to_send.len() as u64;
        Ok(())
    }

    /// The snoozes now: snoozed stores and items raise their alerts,
    /// unnotified. Read once per pass.
    async fn snoozes(&self) -> Result<Vec<Snooze>, PortError> {
        self.retry
            .run("read the snoozes", || self.ports.ledger.snoozes(Timestamp::now()))
            .await
    }

    /// Decides and claims for one batch of changes; adds the alerts won
    /// that are to be notified to `to_send` (sent by the caller, grouped
    /// with the rest of its pass; until then a claim is unpublished, and a
    /// checker that stops before sending is taken over after the lease as
    /// always). An outage that ended within the pass is decided at its end:
    /// the batch's restocks take earlier batches' alerts out of `to_send`
    /// (the ledger, resolving them, stops them being told by anyone).
    async fn decide_and_claim(
        &self,
        changes: &[Change],
        snoozes: &[Snooze],
        holder: &Holder,
        to_send: &mut Gathered,
        report: &mut CheckReport,
    ) -> Result<(), PortError> {
        self.record_history(changes).await?;
        let now = Timestamp::now();
        let mut claims = Vec::new();
        let mut restocks = Vec::new();
        for change in changes {
            report.changes += 1;
            let Some(new) = &change.new else { continue };
            let low = self.config.thresholds.low_for(&change.store, &change.item);
            let decision = decide(change.old.as_ref().map(|i| i.count), Some(new.count), low);
            self.act_on(decision, change, (new, low), (snoozes, now), &mut claims, &mut restocks);
        }
        self.decide_soon(changes, snoozes, now, &mut claims, &mut restocks)
            .await?;
        report.resolved += self
            .retry
            .run("resolve alerts", || {
                self.ports.ledger.resolve(&restocks, Timestamp::now())
            })
            .await?;
        let ended: Vec<Ended<'_>> = restocks
            .iter()
            .map(|r| Ended {
                store: &r.store,
                item: &r.item,
                as_of: r.as_of,
                only: r.only,
            })
            .collect();
        to_send.drop_ended(&ended);
        to_send.add(self.claim(&claims, holder, report).await?);
        Ok(())
    }

    /// SOON on each change's transition: the item's forecast as of the old
    /// snapshot and as of the new, from its history. A history that is not
    /// there raises no SOON (said in the log; OUT and LOW go on); one failing
    /// for now fails the batch, to be checked again: a transition skipped
    /// would never be seen again.
    async fn decide_soon(
        &self,
        changes: &[Change],
        snoozes: &[Snooze],
        now: Timestamp,
        claims: &mut Vec<AlertClaim>,
        restocks: &mut Vec<Restock>,
    ) -> Result<(), PortError> {
        let thresholds = &self.config.thresholds;
        // Only a change of a row that was or is in stock above its threshold
        // can be SOON on either side (a new row has no history to forecast).
        let candidates: Vec<(&Change, &Image, &Image)> = changes
            .iter()
            .filter_map(|c| Some((c, c.old.as_ref()?, c.new.as_ref()?)))
            .filter(|(c, old, new)| {
                let low = thresholds.low_for(&c.store, &c.item);
                level(old.count, low) == Level::Ok || level(new.count, low) == Level::Ok
            })
            .collect();
        let Some(since) = candidates.iter().map(|(_, old, _)| old.as_of).min() else {
            return Ok(());
        };
        let keys: Vec<(String, String)> = candidates
            .iter()
            .map(|(c, _, _)| (c.store.clone(), c.item.clone()))
            .collect();
        let since = Timestamp(since.0.saturating_sub(forecasts::READ_BACK_MS));
        let histories = match self
            .retry
            .run("read history", || self.ports.history.points_of(&keys, since))
            .await
        {
            Ok(histories) => histories,
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, changes = candidates.len(), "no history to forecast from; no SOON alerts for these changes");
                return Ok(());
            }
        };
        for ((change, old, new), history) in candidates.into_iter().zip(histories) {
            let low = thresholds.low_for(&change.store, &change.item);
            let within = thresholds.soon_within_days(&change.store, &change.item);
            let points = forecasts::points(&history);
            let days_left = |image: &Image| forecasts::at(&points, image.as_of, image.count).map(|f| f.days_left);
            let was = is_soon(level(old.count, low), days_left(old), within);
            let is = is_soon(level(new.count, low), days_left(new), within);
            // Its resolving is the SOON alert's alone (no restock happened).
            match decide_soon(was, is) {
                Decision::Resolve => restocks.push(restock_of(change, new, Some(AlertKind::Soon))),
                decision => self.act_on(decision, change, (new, low), (snoozes, now), claims, restocks),
            }
        }
        Ok(())
    }

    /// Whether an alert of `kind` for the item is sent to people: OUT always,
    /// LOW and SOON when asked for, none while the item is snoozed.
    fn tells(&self, kind: AlertKind, store: &str, item: &str, (snoozes, now): (&[Snooze], Timestamp)) -> bool {
        let asked = match kind {
            AlertKind::Out => true,
            AlertKind::Low => self.config.notify_low,
            AlertKind::Soon => self.config.notify_soon,
        };
        asked && snoozed(snoozes, store, item, now).is_none()
    }

    /// A decision on `change` as a claim to make or a restock to record.
    fn act_on(
        &self,
        decision: Decision,
        change: &Change,
        (new, low): (&Image, u32),
        (snoozes, now): (&[Snooze], Timestamp),
        claims: &mut Vec<AlertClaim>,
        restocks: &mut Vec<Restock>,
    ) {
        match decision {
            Decision::Raise(kind) => {
                claims.push(AlertClaim {
                    change_id: change.id.clone(),
                    kind,
                    store: change.store.clone(),
                    item: change.item.clone(),
                    count: new.count,
                    threshold: low,
                    as_of: new.as_of,
                    source: new.source.clone(),
                    notify: self.tells(kind, &change.store, &change.item, (snoozes, now)),
                });
            }
            Decision::Resolve => restocks.push(restock_of(change, new, None)),
            Decision::Nothing => {}
        }
    }

    /// Keeps the changes' counts in the history (on AWS, where the stream
    /// forgets after a day). A history that is not there (a stack from
    /// before it) or refuses for good is said in the log and checking goes
    /// on; one that is only failing for now fails the batch, which is
    /// checked again, so no point (and no SOON transition) goes missing.
    async fn record_history(&self, changes: &[Change]) -> Result<(), PortError> {
        let recorded = self
            .retry
            .run("record history", || self.ports.history.record(changes))
            .await;
        match recorded {
            Err(e) if e.is_transient() => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, changes = changes.len(), "no history kept for these changes");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    async fn claim_and_publish(&self, claims: &[AlertClaim], report: &mut CheckReport) -> Result<(), PortError> {
        let to_send = self.claim(claims, &self.sender(), report).await?;
        self.send(&to_send, report).await
    }

    /// This checker as the sender of what it claims.
    fn sender(&self) -> Holder {
        Holder::Sender(self.token.clone())
    }

    /// Claims for `holder`; returns the alerts won that are to be notified.
    async fn claim(
        &self,
        claims: &[AlertClaim],
        holder: &Holder,
        report: &mut CheckReport,
    ) -> Result<Vec<Alert>, PortError> {
        let outcomes = self
            .retry
            .run("claim alerts", || {
                self.ports.ledger.claim(claims, holder, Timestamp::now())
            })
            .await?;
        let mut to_send = Vec::new();
        let (before, mut first, mut last) = (report.raised_total(), None, None);
        for (claim, outcome) in claims.iter().zip(outcomes) {
            let ClaimOutcome::Won(alert) = outcome else { continue };
            // The feed and a reconcile can both find one transition: one alert.
            if report.counted.contains(&alert.id) {
                continue;
            }
            first = first.or(Some(alert.id));
            last = Some(alert.id);
            // One line per alert only at debug: a storm of 90,000 alerts
            // was 90,000 log writes (the ledger is the record of them).
            tracing::debug!(alert = %alert, "raised");
            if alert.state == AlertState::Resolved {
                // Born resolved: the item was restocked by a later snapshot
                // already (in this pass, or another checker's). Recorded, not told.
                report.resolved += 1;
            } else if claim.notify {
                to_send.push(alert.clone());
            }
            report.note_raised(alert);
        }
        if let (Some(first), Some(last)) = (first, last) {
            let raised = report.raised_total() - before;
            tracing::info!(raised, %first, %last, "raised alerts");
        }
        Ok(to_send)
    }

    /// Reads the table for what is out or low and has no alert, as after a
    /// gap: for changes no one can read any more (records trimmed before a
    /// function's retries gave up on them).
    pub async fn reconcile_now(&self) -> Result<CheckReport, PortError> {
        let mut report = CheckReport {
            gap: true,
            ..CheckReport::default()
        };
        self.reconcile(&mut report).await?;
        Ok(report)
    }

    /// After the feed lost changes: every item now out of stock or low that
    /// has no unresolved alert of its kind gets one. The claim is keyed by
    /// the row's snapshot, so checkers that reconcile the same gap still
    /// raise it once.
    async fn reconcile(&self, report: &mut CheckReport) -> Result<(), PortError> {
        let ledger = &self.ports.ledger;
        let filter = &AlertFilter::default();
        let alerts = all_pages(|page| async move { ledger.list(filter, page.as_ref(), 1000).await }).await?;
        let alerted: HashSet<(String, String, AlertKind)> =
            alerts.into_iter().map(|a| (a.store, a.item, a.kind)).collect();
        let table = &self.ports.table;
        let low = &StockFilter {
            store: None,
            count_at_most: Some(self.config.thresholds.highest()),
        };
        let rows = all_pages(|page| async move { table.scan(low, page.as_ref(), 1000).await }).await?;
        let now = Timestamp::now();
        let snoozes = self.snoozes().await?;
        let mut claims = Vec::new();
        for row in rows {
            let threshold = self.config.thresholds.low_for(&row.store, &row.item);
            let kind = match level(row.count, threshold) {
                Level::Out => AlertKind::Out,
                Level::Low => AlertKind::Low,
                Level::Ok => continue,
            };
            if alerted.contains(&(row.store.clone(), row.item.clone(), kind)) {
                continue;
            }
            let notify = self.tells(kind, &row.store, &row.item, (&snoozes, now));
            claims.push(AlertClaim {
                change_id: format!("resync:{}", serde_json::json!([row.store, row.item, row.as_of.0])),
                kind,
                store: row.store,
                item: row.item,
                count: row.count,
                threshold,
                as_of: row.as_of,
                source: row.source,
                notify,
            });
        }
        tracing::warn!(alerts = claims.len(), "raising alerts for stock the feed lost track of");
        self.claim_and_publish(&claims, report).await
    }

    async fn take_over_stale(&self, report: &mut CheckReport) -> Result<(), PortError> {
        let before = Timestamp(Timestamp::now().0 - self.config.lease.as_millis() as i64);
        let stale = self
            .retry
            .run("take over stale claims", || {
                self.ports.ledger.take_stale(before, &self.token, Timestamp::now())
            })
            .await?;
        for alert in &stale {
            tracing::warn!(alert = %alert, "sending a claim whose checker stopped before sending it");
        }
        self.send(&stale, report).await?;
        report.taken_over.extend(stale);
        Ok(())
    }

    /// Sends the alerts' messages. A message that keeps failing is not
    /// dropped: its claims stay unpublished and are taken over after the lease.
    async fn send(&self, alerts: &[Alert], report: &mut CheckReport) -> Result<(), PortError> {
        if alerts.is_empty() {
            return Ok(());
        }
        // One message per store, or one summary for a storm; reminders
        // (claims taken over may be either) in messages of their own.
        // Items in the order they were raised, whoever found them.
        let mut alerts = alerts.to_vec();
        alerts.sort_by_key(|a| a.id);
        let (reminders, first): (Vec<Alert>, Vec<Alert>) = alerts.into_iter().partition(|a| a.reminders > 0);
        let mut messages: Vec<Message> = stockwatch_domain::notify::group(&first, self.config.max_messages);
        messages.extend(stockwatch_domain::notify::reminders(
            &reminders,
            self.config.max_messages,
            Timestamp::now(),
        ));
        self.send_messages(messages, report).await
    }

    /// Sends `messages`, as `send` does.
    async fn send_messages(&self, messages: Vec<Message>, report: &mut CheckReport) -> Result<(), PortError> {
        if messages.is_empty() {
            return Ok(());
        }
        let deliveries = self
            .retry
            .run("send notifications", || {
                self.ports.publisher.deliver(&messages, &self.token, self.config.lease)
            })
            .await?;
        for (message, delivery) in messages.iter().zip(deliveries) {
            match delivery {
                Delivery::Sent => report.published += message.alert_ids.len() as u64,
                Delivery::NotOurs => {
                    tracing::warn!(alerts = ?message.alert_ids, "taken over before sending; the new holder sends it")
                }
                Delivery::Failed(error) => {
                    tracing::error!(alerts = ?message.alert_ids, error, "notification failed; it is sent again after the lease");
                    report
                        .unpublished
                        .extend(message.alert_ids.iter().map(|id| (*id, error.clone())));
                }
            }
        }
        Ok(())
    }
}
/// Who holds a claim: random, because two Lambda sandboxes (or two
/// containers) can share a pid and a millisecond, and two claimers that
/// both think a claim is theirs would both publish it.
fn claim_token(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

/// Resolving the item's alerts raised before `new`: all of them (`None`, a
/// restock) or one kind's.
fn restock_of(change: &Change, new: &Image, only: Option<AlertKind>) -> Restock {
    Restock {
        store: change.store.clone(),
        item: change.item.clone(),
        as_of: new.as_of,
        change_id: change.id.clone(),
        only,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn claim_tokens_never_repeat_even_in_one_process_and_millisecond() {
        let tokens: std::collections::HashSet<String> =
            (0..10_000).map(|_| super::claim_token("check-stock")).collect();
        assert_eq!(tokens.len(), 10_000);
        assert!(tokens.iter().all(|t| t.starts_with("check-stock-")));
    }
}
