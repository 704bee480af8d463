//! What a key does. An open overlay or line takes every key first (help,
//! the confirmation, the command or filter line); otherwise the key is
//! looked up in the live keymap for the focused pane, writes are refused in
//! --read-only, global actions are handled here, in one place, and the rest
//! by the focused pane's own module.

mod alerts;
mod files;
mod line;
mod stock;
mod stores;
#[cfg(test)]
mod tests;

use super::app::{App, Mode};
use super::keymap::{Action, KeyContext};
use super::messages::Effect;
use super::pane::Pane;
use super::stock_pane::StockView;
use crate::domain::AlertId;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    app.message = None;
    match std::mem::replace(&mut app.mode, Mode::Normal) {
        // Any key closes help; the help key toggles it.
        Mode::Help => return Vec::new(),
        Mode::Command(text) => return line::on_key(app, key, text, line::Line::Command),
        Mode::Filter(text) => return line::on_key(app, key, text, line::Line::Filter),
        Mode::ConfirmAckAll { ids, yes } => return on_confirm_key(app, key, ids, yes),
        Mode::Normal => {}
    }
    let Some(action) = app.keymap.action(app.focus.key_contexts(), &key) else {
        return Vec::new();
    };
    if app.read_only && action.writes() {
        app.message = Some(format!("read-only: `{}` is off", action.name()));
        return Vec::new();
    }
    if action.context() == KeyContext::Global {
        return on_global(app, action);
    }
    match app.focus {
        Pane::Stores => stores::on_action(app, action),
        Pane::Stock => stock::on_action(app, action),
        Pane::Alerts => alerts::on_action(app, action),
        Pane::Files => files::on_action(app, action),
    }
}

/// "Acknowledge N alerts?": only `y`, or Enter on Acknowledge, says yes.
fn on_confirm_key(app: &mut App, key: KeyEvent, ids: Vec<AlertId>, yes: bool) -> Vec<Effect> {
    match key.code {
        KeyCode::Left | KeyCode::Right | KeyCode::Tab | KeyCode::Char('h') | KeyCode::Char('l') => {
            app.mode = Mode::ConfirmAckAll { ids, yes: !yes };
            Vec::new()
        }
        KeyCode::Char('y') => vec![Effect::Acknowledge(ids)],
        KeyCode::Enter if yes => vec![Effect::Acknowledge(ids)],
        _ => {
            app.message = Some("nothing acknowledged".into());
            Vec::new()
        }
    }
}

/// The keys of the [global] table, whichever pane has the focus.
fn on_global(app: &mut App, action: Action) -> Vec<Effect> {
    let pane = app.focus;
    match action {
        Action::Quit => return vec![Effect::Quit],
        Action::Help => app.mode = Mode::Help,
        Action::Command => app.mode = Mode::Command(String::new()),
        Action::Filter => app.mode = Mode::Filter(app.filter(pane).to_string()),
        Action::NextPane => app.focus = pane.step(1, app.files.open),
        Action::PreviousPane => app.focus = pane.step(-1, app.files.open),
        Action::Back => {
            if !app.filter(pane).is_empty() {
                app.filter_mut(pane).clear();
            } else if app.stock.view.is_some() {
                app.stock.view = None;
                app.focus = Pane::Stores;
            }
        }
        Action::Pause => {
            app.paused = !app.paused;
            if !app.paused {
                let held = std::mem::take(&mut app.held);
                app.apply_changes(held);
            }
        }
        Action::Out => app.show_stock(StockView::Out),
        Action::Redraw => return vec![Effect::Repaint],
        Action::Files => {
            app.files.open = !app.files.open;
            app.focus = if app.files.open { Pane::Files } else { Pane::Stores };
            if app.files.open && app.files.listing().is_none() {
                let (dir, ticket) = app.files.ask_listing(app.files.dir.clone());
                return vec![Effect::List { dir, ticket }];
            }
        }
        _ => {}
    }
    Vec::new()
}
