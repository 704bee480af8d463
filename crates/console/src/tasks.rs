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
use ratatui::crossterm::event::{self, Event, KeyEventKind, MouseButton, MouseEventKind};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stockwatch_core::app::{Duties, FollowEnd, FollowOptions, Followed, Operations, PUBLISHER_SILENT, Part};
use stockwatch_core::ports::{Backoff, Failures};
use stockwatch_domain::Timestamp;
use tokio::sync::mpsc::UnboundedSender;

/// The least wait after a failure.
const FEED_POLL: Duration = Duration::from_millis(250);
const LEDGER_POLL: Duration = Duration::from_secs(1);
/// How long a receive waits while nothing happens (a direct subscription
/// reads every quarter second meanwhile; a queue answers at once).
const RECEIVE_WAIT: Duration = Duration::from_secs(10);

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

/// The console's one follower (`app::Follower`): its snapshot, then what
/// it receives, each turned into a message. A failed step is said and
/// tried again after a growing wait. Its subscription's end is left in
/// `slot` for the run loop to end at exit.
pub async fn follow(
    ops: Operations,
    follower: String,
    keep_alive_every: Duration,
    tx: UnboundedSender<Msg>,
    slot: Arc<Mutex<Option<FollowEnd>>>,
) {
    let options = FollowOptions {
        snapshot: true,
        snoozes: true,
        from_start: false,
        wait: RECEIVE_WAIT,
        keep_alive_every,
        silent_after: PUBLISHER_SILENT,
    };
    let mut failures = failures();
    let mut follower = loop {
        match ops.follow(&follower, options.clone()).await {
            Ok(follower) => break follower,
            Err(e) => {
                if tx.send(Msg::FeedError(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(failures.failed().max(FEED_POLL)).await;
            }
        }
    };
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(follower.ender());
    loop {
        if tx.is_closed() {
            return;
        }
        // A snapshot under way says LIVE only when it is done (SnapshotDone).
        let snapshotting = follower.in_snapshot();
        match follower.next().await {
            Ok(followed) => {
                if failures.succeeded() && !snapshotting && tx.send(Msg::FeedOk).is_err() {
                    return;
                }
                for msg in followed.into_iter().flat_map(messages) {
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
            }
            Err(failed) => {
                let msg = match failed.part {
                    Part::Feed => Msg::FeedError(failed.to_string()),
                    Part::Ledger => Msg::LedgerError(failed.to_string()),
                };
                if tx.send(msg).is_err() {
                    return;
                }
                let least = if failed.part == Part::Feed {
                    FEED_POLL
                } else {
                    LEDGER_POLL
                };
                tokio::time::sleep(failures.failed().max(least)).await;
            }
        }
    }
}

/// What the follower gave, as the console's messages.
fn messages(followed: Followed) -> Vec<Msg> {
    let msg = match followed {
        Followed::Rows { rows, last: false } => Msg::Rows(rows),
        Followed::Rows { rows, last: true } => return vec![Msg::Rows(rows), Msg::SnapshotDone],
        Followed::Unresolved { alerts, again: false } => Msg::AlertsLoaded(alerts),
        Followed::Unresolved { alerts, again: true } => Msg::AlertsResync(alerts),
        Followed::Gap => Msg::Resync,
        Followed::Refresh => Msg::Refresh,
        Followed::Changes(changes) => Msg::Changes {
            changes,
            seen_at: Timestamp::now(),
        },
        Followed::Alerts(alerts) => Msg::Alerts(alerts),
        Followed::Snoozes(snoozes) => Msg::Snoozes(snoozes),
        Followed::PublisherSilent(silent) => Msg::RelaySilent(silent),
        Followed::Reconnected { away } => Msg::Said(stockwatch_core::app::reconnected_said(away)),
    };
    vec![msg]
}

/// The console's own relay passes (unless a relay or a stack raises the
/// alerts): each reads what the feed and the ledger have, checks the
/// changes (quietly: a failure is logged, not drawn over) and publishes
/// them to this console's view. Busy, it goes again at once; idle, it
/// waits longer each time up to `idle_poll`, with jitter, so consoles that
/// went quiet together do not read together. Its duties load the uploads
/// whose loader stopped (a killed console or upload), so none stays
/// `received` while a console is open.
pub async fn run_relay(duties: Duties, idle_poll: Duration, tx: UnboundedSender<Msg>) {
    duties
        .keep_running(idle_poll, "the console's checker", tx.closed())
        .await;
}
