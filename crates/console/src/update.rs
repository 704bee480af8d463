//! The console's one reducer: `update(app, msg)` changes the state and
//! returns effects for the runtime to perform. No I/O here: terminal input
//! and background tasks arrive as messages. Keys go to `keys`, clicks to
//! `mouse`; everything else (rows, changes, alerts, listings, previews,
//! uploads, ticks) is applied here. Before it returns, every pane's rows
//! are brought up to date, so drawing never computes them, and a new
//! message gets a new serial (the run loop expires it by that).

use super::app::{App, Feed};
use super::keys;
use super::messages::{Effect, Msg};
use super::mouse;
use super::pane::Pane;

/// Said when changes or alert states were lost on the way (a stream
/// trimmed or replaced): both are read again after it, so one message says it.
const LOST: &str = "changes were lost on the way; the counts and the alerts are read again";

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let message_before = app.message.clone();
    // The pane the operator acted in: its selection follows its cursor.
    let key_in = matches!(msg, Msg::Key(_)).then_some(app.focus);
    let clicked = matches!(msg, Msg::Mouse(_));
    // Ticks and news held by a pause decide for themselves whether
    // anything on screen changed; everything else does change it.
    if !matches!(
        msg,
        Msg::Tick(_) | Msg::MessageExpired(_) | Msg::Listed { .. } | Msg::Snoozes(_)
    ) {
        app.dirty = true;
    }
    let mut effects = match msg {
        Msg::Key(key) => keys::on_key(app, key),
        Msg::Mouse(event) => mouse::on_mouse(app, event),
        msg => on_news(app, msg),
    };
    let moved = if clicked { Some(app.focus) } else { key_in };
    app.refresh(moved);
    // Histories of what is shown and not read yet (a store's items, the
    // soon view's, the item in detail): read once, then kept by the feed.
    let unread = app.history_to_read();
    if !unread.is_empty() {
        effects.push(Effect::ReadHistory(unread));
    }
    if app.files.open
        && app.focus == Pane::Files
        && let Some((path, ticket)) = app.files.preview_selection()
    {
        effects.push(Effect::Preview { path, ticket });
    }
    // A new message expires by itself (the run loop sets its timer).
    if app.message.is_some() && app.message != message_before {
        app.message_serial += 1;
    }
    effects
}

/// Everything but keys and clicks: what the background tasks report.
fn on_news(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(_) | Msg::Mouse(_) => {}
        Msg::Resize(width, height) => app.size = (width, height),
        Msg::Tick(now) => {
            // A new day (dates move from times to days), or a snooze that
            // ended: something drawn changed.
            let ended = app.snoozes.iter().any(|s| s.until > app.now && s.until <= now);
            app.now = now;
            if app.clock.set_now(now) || ended {
                app.dirty = true;
            }
            // New and deleted files show without leaving the folder.
            if app.files.open {
                let (dir, ticket) = app.files.ask_listing(app.files.dir.clone());
                return vec![Effect::List { dir, ticket }];
            }
        }
        Msg::MessageExpired(serial) => {
            if serial == app.message_serial && app.message.take().is_some() {
                app.dirty = true;
            }
        }
        Msg::Rows(rows) => {
            for row in rows {
                app.live_stock.apply_row(row);
            }
        }
        Msg::SnapshotDone => app.feed = Feed::Live,
        Msg::Changes { changes, seen_at } => {
            if let Some(newest) = changes.iter().map(|c| c.at).max() {
                app.lag_ms = Some((seen_at.0 - newest.0).max(0));
            }
            if app.paused {
                app.held.extend(changes);
            } else {
                app.apply_changes(changes);
            }
            if app.feed != Feed::Loading {
                app.feed = Feed::Live;
            }
        }
        Msg::FeedError(error) => app.feed = Feed::Error(error),
        Msg::FeedOk => app.feed = Feed::Live,
        Msg::Resync => {
            app.message = Some(LOST.into());
            app.live_stock.reset();
            // Changes were lost: the histories held miss points; read again.
            app.item_history = Default::default();
            app.held.clear();
            app.feed = Feed::Loading;
        }
        Msg::Refresh => {
            // Nothing is wiped: the rows read again are merged by the
            // table's rule, the unresolved alerts replaced when they come.
            app.refreshing = true;
            app.message = Some("relay silent: reading the view again".into());
        }
        Msg::LedgerError(error) => app.ledger_error = Some(error),
        Msg::RelaySilent(silent) => app.relay_silent = silent,
        Msg::Snoozes(snoozes) => {
            // Read every minute: drawn again only when they changed.
            if app.snoozes != snoozes {
                app.snoozes = snoozes;
                app.dirty = true;
            }
        }
        Msg::Said(text) => app.message = Some(text),
        Msg::AlertsLoaded(alerts) => {
            app.ledger_error = None;
            for alert in alerts {
                app.live_alerts.put(alert);
            }
            if !app.alerts_loaded {
                app.alerts_loaded = true;
                app.seen_up_to = app.live_alerts.newest();
            }
        }
        Msg::AlertsResync(alerts) => {
            app.ledger_error = None;
            app.live_alerts.replace_unresolved(alerts);
            app.message = Some(if std::mem::take(&mut app.refreshing) {
                "relay silent: the view was read again".into()
            } else {
                LOST.into()
            });
        }
        Msg::Alerts(alerts) => {
            app.ledger_error = None;
            if app.take_alerts(alerts) {
                return vec![Effect::Bell];
            }
        }
        Msg::Acknowledged { done, failed } => {
            app.message = Some(acknowledged(&done, &failed));
            for alert in done {
                app.live_alerts.put(alert);
            }
        }
        Msg::Reopened(Ok(alert)) => {
            app.message = Some(format!(
                "#{} is open again: its acknowledgement was taken back",
                alert.id
            ));
            app.live_alerts.put(alert);
        }
        Msg::Reopened(Err(why)) => app.message = Some(why),
        Msg::History(read) => app.item_history.loaded(read),
        Msg::Listed { listing, ticket } => {
            let (changed, message) = app.files.listed(listing, &ticket);
            if let Some(message) = message {
                app.message = Some(message);
            }
            app.dirty |= changed;
        }
        Msg::Previewed { path, preview, ticket } => app.files.previewed(path, *preview, &ticket),
        Msg::TransferProgress { id, sent, total } => app.files.progressed(id, sent, total),
        Msg::TransferDone { id, result } => {
            app.files.finished(id, result);
            if let Some(summary) = app.files.all_done() {
                app.message = Some(summary);
            }
        }
    }
    Vec::new()
}

/// "acknowledged 9 alerts", "acknowledged #4", and what failed.
fn acknowledged(done: &[stockwatch_domain::Alert], failed: &[String]) -> String {
    let mut text = match done {
        [] => String::new(),
        [one] => format!("acknowledged #{}", one.id),
        many => format!("acknowledged {} alerts", super::text::thousands(many.len())),
    };
    if let Some(first) = failed.first() {
        if !text.is_empty() {
            text.push_str("; ");
        }
        text.push_str(&match failed.len() {
            1 => first.clone(),
            n => format!("{n} not acknowledged, the first: {first}"),
        });
    }
    text
}
