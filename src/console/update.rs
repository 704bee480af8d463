//! The console's one reducer: `update(app, msg)` changes the state and
//! returns effects for the runtime to perform. No I/O here: terminal input
//! and background tasks arrive as messages. Keys go to `keys`; everything
//! else (rows, changes, alerts, listings, previews, uploads) is applied here.
//! Before it returns, every pane's rows are brought up to date, so drawing
//! never computes them.

use super::app::{App, Feed};
use super::keys;
use super::messages::{Effect, Msg};
use super::pane::Pane;

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    app.dirty = true;
    let moved = matches!(msg, Msg::Key(_)).then_some(app.focus);
    let mut effects = match msg {
        Msg::Key(key) => keys::on_key(app, key),
        msg => {
            on_news(app, msg);
            Vec::new()
        }
    };
    app.refresh(moved);
    if app.files.open
        && app.focus == Pane::Files
        && let Some((path, ticket)) = app.files.preview_selection()
    {
        effects.push(Effect::Preview { path, ticket });
    }
    effects
}

/// Everything but keys: what the background tasks report.
fn on_news(app: &mut App, msg: Msg) {
    match msg {
        Msg::Key(_) | Msg::Resize => {}
        Msg::Rows(rows) => {
            for row in rows {
                app.live_stock.apply_row(row);
            }
        }
        Msg::SnapshotDone => app.feed = Feed::Live,
        Msg::Changes { changes, gap, seen_at } => {
            if let Some(newest) = changes.iter().map(|c| c.at).max() {
                app.lag_ms = Some((seen_at.0 - newest.0).max(0));
            }
            if gap {
                app.message = Some("changes were lost from the feed; the counts are read again".into());
            }
            if app.paused {
                app.held.extend(changes);
                // Nothing shown changed, unless there is news of the gap.
                app.dirty = gap;
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
            app.live_stock.reset();
            app.held.clear();
            app.feed = Feed::Loading;
        }
        Msg::LedgerError(error) => app.ledger_error = Some(error),
        Msg::Alerts(alerts) => {
            app.ledger_error = None;
            for alert in alerts {
                app.live_alerts.put(alert);
            }
        }
        Msg::Acknowledged(Ok(alert)) => {
            app.message = Some(format!("acknowledged #{}", alert.id));
            app.live_alerts.put(*alert);
        }
        Msg::Acknowledged(Err(error)) => app.message = Some(error),
        Msg::Listed { listing, ticket } => {
            if let Some(message) = app.files.listed(listing, &ticket) {
                app.message = Some(message);
            }
        }
        Msg::Previewed { path, preview, ticket } => app.files.previewed(path, *preview, &ticket),
        Msg::TransferProgress { id, sent, total } => app.files.progressed(id, sent, total),
        Msg::TransferDone { id, result } => app.files.finished(id, result),
    }
}
