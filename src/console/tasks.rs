//! The tasks that run for the console's whole life, each sending messages
//! into the one channel: terminal input (a thread: reading blocks), the
//! clock's ticks, the follower (a subscription to the fan-out feed, a
//! snapshot of the table and the unresolved alerts, then what comes), and
//! the in-console checker. Each ends when the channel closes.
//!
//! A task whose backend fails keeps trying, waiting longer after each
//! failure in a row (`ports::Failures`: exponential, with jitter, so many
//! consoles that failed together do not come back together), never less
//! than its usual poll.

use super::messages::Msg;
use crate::domain::Timestamp;
use crate::pipeline::{Relay, UploadFlow};
use crate::ports::{
    AlertFilter, Backoff, Event as FanoutEvent, Failures, Idle, PortError, Ports, StockFilter, Subscription,
};
use ratatui::crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// The least wait after a failure.
const FEED_POLL: Duration = Duration::from_millis(250);
const LEDGER_POLL: Duration = Duration::from_secs(1);
/// How long a receive waits while nothing happens (a direct subscription
/// reads every quarter second meanwhile; a queue answers at once).
const RECEIVE_WAIT: Duration = Duration::from_secs(10);
/// How often the snoozes are read again.
const SNOOZES_EVERY: Duration = Duration::from_secs(60);
/// A publisher not heard of for this long is said to be silent (a relay
/// beats every 30 s, a stack's sweep every minute).
const RELAY_SILENT: Duration = Duration::from_secs(6 * 60);
/// How often the checker task looks for uploads whose loader stopped.
const RESUME_EVERY: Duration = Duration::from_secs(15);
const SNAPSHOT_PAGE: usize = 5000;
/// Changes or alerts asked for at once.
const BATCH: usize = 1000;

/// The waits after failures in a row: up to 0.5 s, 1 s, 2 s … then 10 s.
fn failures() -> Failures {
    Failures::new(Backoff::new(Duration::from_millis(500), Duration::from_secs(10)))
}

/// How often the clock ticks (the day may change; the file pane's folder
/// is listed again). A tick that changes nothing draws nothing.
const TICK: Duration = Duration::from_secs(2);

/// The clock's ticks.
pub fn spawn_ticks(tx: UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if tx.send(Msg::Tick(Timestamp::now())).is_err() {
                return;
            }
        }
    });
}

/// Terminal input on its own thread: reading blocks, the UI does not.
/// With the mouse on, only clicks and the wheel are passed on (moves
/// would redraw for nothing).
pub fn spawn_input(tx: UnboundedSender<Msg>, mouse: bool) {
    std::thread::spawn(move || {
        loop {
            if tx.is_closed() {
                return;
            }
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let msg = match event::read() {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Ok(Event::Resize(width, height)) => Msg::Resize(width, height),
                Ok(Event::Mouse(event))
                    if mouse
                        && matches!(
                            event.kind,
                            MouseEventKind::Down(MouseButton::Left)
                                | MouseEventKind::ScrollDown
                                | MouseEventKind::ScrollUp
                        ) =>
                {
                    Msg::Mouse(event)
                }
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}

/// The console's one follower: subscribes to the fan-out feed first (a
/// relay's topic and a queue of its own, or the feed and the ledger read
/// directly), then reads its snapshot (the table, the unresolved alerts),
/// then applies what it receives (twice or late is harmless: newest as-of
/// and highest alert version win). A gap means reading the snapshot again.
/// The subscription is left in `slot` for the run loop to end at exit.
pub async fn follow(ports: Ports, follower: String, tx: UnboundedSender<Msg>, slot: Arc<Mutex<Option<Subscription>>>) {
    let mut failures = failures();
    let mut subscription = loop {
        match ports.fanout.subscribe(&follower).await {
            Ok(s) => break s,
            Err(e) => {
                if tx.send(Msg::FeedError(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(failures.failed().max(FEED_POLL)).await;
            }
        }
    };
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(subscription.clone());
    if snapshot(&ports, &tx).await.is_err() || load_alerts(&ports, &tx, false).await.is_err() {
        return;
    }
    let mut kept_alive = Instant::now();
    let mut heard = Instant::now();
    let mut silent = false;
    let mut snoozes_read: Option<Instant> = None;
    loop {
        if tx.is_closed() {
            return;
        }
        // Snoozes set elsewhere show within a minute (one read each).
        if snoozes_read.is_none_or(|at| at.elapsed() >= SNOOZES_EVERY) {
            snoozes_read = Some(Instant::now());
            match ports.ledger.snoozes(Timestamp::now()).await {
                Ok(snoozes) => {
                    if tx.send(Msg::Snoozes(snoozes)).is_err() {
                        return;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read the snoozes"),
            }
        }
        if kept_alive.elapsed() >= crate::ports::fanout::keep_alive_every() {
            match ports.fanout.keep_alive(&subscription).await {
                Ok(()) => kept_alive = Instant::now(),
                Err(e) => tracing::warn!(error = %e, "could not keep the follower's queue alive"),
            }
        }
        // A relay that stopped beating: say so, once, and when it is back.
        if ports.relayed && silent != (heard.elapsed() >= RELAY_SILENT) {
            silent = !silent;
            if tx.send(Msg::RelaySilent(silent)).is_err() {
                return;
            }
        }
        // Never waiting past the next keep-alive.
        let wait = RECEIVE_WAIT.min(crate::ports::fanout::keep_alive_every());
        match ports.fanout.receive(&mut subscription, wait).await {
            Ok(events) => {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(subscription.clone());
                if failures.succeeded() && tx.send(Msg::FeedOk).is_err() {
                    return;
                }
                let (mut changes, mut alerts, mut gap) = (Vec::new(), Vec::new(), false);
                for event in events {
                    heard = Instant::now();
                    match event {
                        FanoutEvent::Change(change) => changes.push(change),
                        FanoutEvent::Alert(alert) => alerts.push(alert),
                        FanoutEvent::Gap => gap = true,
                        FanoutEvent::Beat => {}
                    }
                }
                if gap {
                    // Lost events: start over from a fresh read, so rows
                    // deleted and alerts resolved meanwhile go too.
                    if tx.send(Msg::Resync).is_err()
                        || snapshot(&ports, &tx).await.is_err()
                        || load_alerts(&ports, &tx, true).await.is_err()
                    {
                        return;
                    }
                }
                if !changes.is_empty() || gap {
                    let msg = Msg::Changes {
                        changes,
                        gap,
                        seen_at: Timestamp::now(),
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                if !alerts.is_empty() && tx.send(Msg::Alerts(alerts)).is_err() {
                    return;
                }
            }
            Err(e) => {
                if tx.send(Msg::FeedError(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(failures.failed().max(FEED_POLL)).await;
            }
        }
    }
}

/// The unresolved alerts, as the first read (`AlertsLoaded`) or after
/// lost events (`AlertsResync`). `Err` when the console is gone.
async fn load_alerts(ports: &Ports, tx: &UnboundedSender<Msg>, again: bool) -> Result<(), ()> {
    let mut failures = failures();
    loop {
        match unresolved(ports).await {
            Ok(alerts) => {
                let msg = if again {
                    Msg::AlertsResync(alerts)
                } else {
                    Msg::AlertsLoaded(alerts)
                };
                return tx.send(msg).map_err(|_| ());
            }
            Err(e) => {
                tx.send(Msg::LedgerError(e.to_string())).map_err(|_| ())?;
                tokio::time::sleep(failures.failed().max(LEDGER_POLL)).await;
            }
        }
    }
}

/// Reads the whole table in pages; `Err` when the console is gone.
async fn snapshot(ports: &Ports, tx: &UnboundedSender<Msg>) -> Result<(), ()> {
    let mut page = None;
    let mut failures = failures();
    loop {
        match ports
            .table
            .scan(&StockFilter::default(), page.as_ref(), SNAPSHOT_PAGE)
            .await
        {
            Ok(batch) => {
                failures.succeeded();
                tx.send(Msg::Rows(batch.items)).map_err(|_| ())?;
                match batch.next {
                    Some(next) => page = Some(next),
                    None => return tx.send(Msg::SnapshotDone).map_err(|_| ()),
                }
            }
            Err(e) => {
                tx.send(Msg::FeedError(e.to_string())).map_err(|_| ())?;
                tokio::time::sleep(failures.failed().max(FEED_POLL)).await;
            }
        }
    }
}

/// Every unresolved alert (a query, not a scan, on DynamoDB).
async fn unresolved(ports: &Ports) -> Result<Vec<crate::domain::Alert>, PortError> {
    let filter = AlertFilter::default();
    crate::ports::all_pages(|page| {
        let (ledger, filter) = (&ports.ledger, &filter);
        async move { ledger.list(filter, page.as_ref(), BATCH).await }
    })
    .await
}

/// The console's own relay passes (unless a relay or a stack raises the
/// alerts): each reads what the feed and the ledger have, checks the
/// changes (quietly: a failure is logged, not drawn over) and publishes
/// them to this console's view. Busy, it goes again at once; idle, it
/// waits longer each time up to `idle_poll`, with jitter, so consoles that
/// went quiet together do not read together. Every `RESUME_EVERY` it first
/// loads the uploads whose loader stopped (a killed console or upload), so
/// none stays `received` while a console is open.
pub async fn run_relay(relay: Relay, uploads: UploadFlow, idle_poll: Duration, tx: UnboundedSender<Msg>) {
    let mut failures = failures();
    let mut resumed_at: Option<std::time::Instant> = None;
    let mut idle = Idle::new(Backoff::new(FEED_POLL.min(idle_poll), idle_poll));
    loop {
        if resumed_at.is_none_or(|at| at.elapsed() >= RESUME_EVERY) {
            resumed_at = Some(std::time::Instant::now());
            match uploads.resume_stalled().await {
                Ok(done) if !done.is_empty() => {
                    tracing::warn!(uploads = done.len(), "loaded uploads whose loader stopped")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not look for stopped loads"),
            }
        }
        let wait = match relay.run_once().await {
            Ok(report) => {
                failures.succeeded();
                idle.after(!report.is_empty())
            }
            Err(e) => {
                tracing::warn!(error = %e, "the console's checker");
                failures.failed().max(FEED_POLL)
            }
        };
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}
