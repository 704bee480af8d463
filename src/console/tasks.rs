//! The tasks that run for the console's whole life, each sending messages
//! into the one channel: terminal input (a thread: reading blocks), the
//! change feed (a snapshot of the table, then its changes), the alert
//! ledger, and the in-console checker. Each ends when the channel closes.
//!
//! A task whose backend fails keeps trying, waiting longer after each
//! failure in a row (`ports::Failures`: exponential, with jitter, so many
//! consoles that failed together do not come back together), never less
//! than its usual poll.

use super::messages::Msg;
use crate::domain::Timestamp;
use crate::pipeline::{Checker, UploadFlow};
use crate::ports::{AlertFilter, Backoff, Failures, PortError, Ports, StockFilter};
use ratatui::crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How often the feed is asked for changes: a change shows within a second.
const FEED_POLL: Duration = Duration::from_millis(250);
const LEDGER_POLL: Duration = Duration::from_secs(1);
const CHECK_EVERY: Duration = Duration::from_millis(500);
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

/// Snapshot, then tail: the tail's position is taken first so nothing that
/// happens during the scan is missed (applying twice is harmless).
pub async fn follow_feed(ports: Ports, tx: UnboundedSender<Msg>) {
    let mut failures = failures();
    let mut cursor = loop {
        match ports.feed.tip().await {
            Ok(tip) => break tip,
            Err(e) => {
                if tx.send(Msg::FeedError(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(failures.failed().max(FEED_POLL)).await;
            }
        }
    };
    if snapshot(&ports, &tx).await.is_err() {
        return;
    }
    loop {
        match ports.feed.read(Some(&cursor), BATCH).await {
            Ok(batch) => {
                if failures.succeeded() && tx.send(Msg::FeedOk).is_err() {
                    return;
                }
                let full = batch.changes.len() == BATCH;
                if batch.gap {
                    // Lost changes: start over from a fresh read of the table,
                    // so rows deleted meanwhile go too.
                    if tx.send(Msg::Resync).is_err() || snapshot(&ports, &tx).await.is_err() {
                        return;
                    }
                }
                if !batch.changes.is_empty() || batch.gap {
                    let changes = Msg::Changes {
                        changes: batch.changes,
                        gap: batch.gap,
                        seen_at: Timestamp::now(),
                    };
                    if tx.send(changes).is_err() {
                        return;
                    }
                }
                cursor = batch.cursor;
                if !full {
                    tokio::time::sleep(FEED_POLL).await;
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

/// Every unresolved alert, then the ledger's changes as they come.
pub async fn follow_ledger(ports: Ports, tx: UnboundedSender<Msg>) {
    let mut failures = failures();
    // Where following starts, then everything unresolved as of then.
    let (mut cursor, alerts) = loop {
        let start = async {
            let tip = ports.ledger.tip().await?;
            Ok::<_, PortError>((tip, unresolved(&ports).await?))
        };
        match start.await {
            Ok(found) => break found,
            Err(e) => {
                if tx.send(Msg::LedgerError(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(failures.failed().max(LEDGER_POLL)).await;
            }
        }
    };
    failures.succeeded();
    if tx.send(Msg::AlertsLoaded(alerts)).is_err() {
        return;
    }
    let mut wait = LEDGER_POLL;
    loop {
        tokio::time::sleep(wait).await;
        match ports.ledger.changes_since(Some(&cursor), BATCH).await {
            Ok(page) => {
                cursor = page.cursor;
                wait = LEDGER_POLL;
                // After an error, an empty answer still says the ledger is back.
                let back = failures.succeeded();
                if page.gap {
                    // Lost changes: what the console holds may be stale.
                    let msg = match unresolved(&ports).await {
                        Ok(alerts) => Msg::AlertsResync(alerts),
                        Err(e) => Msg::LedgerError(e.to_string()),
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                if (!page.alerts.is_empty() || back) && tx.send(Msg::Alerts(page.alerts)).is_err() {
                    return;
                }
            }
            Err(e) => {
                wait = failures.failed().max(LEDGER_POLL);
                if tx.send(Msg::LedgerError(e.to_string())).is_err() {
                    return;
                }
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

/// The console's own checker (unless another process runs one): raises
/// alerts from the changes, quietly (a failure is logged, not drawn over).
/// Runs the checker every half second, and every `RESUME_EVERY` first
/// loads the uploads whose loader stopped (a killed console or upload), so
/// none stays `received` while a console is open.
pub async fn run_checker(checker: Checker, uploads: UploadFlow, tx: UnboundedSender<Msg>) {
    let mut failures = failures();
    let mut resumed_at: Option<std::time::Instant> = None;
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
        let wait = match checker.run_once().await {
            Ok(_) => {
                failures.succeeded();
                CHECK_EVERY
            }
            Err(e) => {
                tracing::warn!(error = %e, "checker");
                failures.failed().max(CHECK_EVERY)
            }
        };
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(wait).await;
    }
}
