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
use super::pane::{Movement, Pane};
use super::stock_pane::StockView;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use stockwatch_domain::{AlertId, AlertState};

pub use line::COMMANDS;

pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    app.message = None;
    match std::mem::replace(&mut app.mode, Mode::Normal) {
        Mode::Help { scroll } => return on_help_key(app, key, scroll),
        Mode::Command(prompt) => return line::on_key(app, key, prompt, line::Line::Command),
        Mode::Filter(prompt) => return line::on_key(app, key, prompt, line::Line::Filter),
        Mode::Note { ids, prompt } => return line::on_note_key(app, key, ids, prompt),
        Mode::Snooze { store, item, prompt } => return line::on_snooze_key(app, key, store, item, prompt),
        Mode::ConfirmAckAll { ids, yes } => return on_confirm_key(app, key, yes, Confirmed::Acknowledge(ids)),
        Mode::ConfirmQuit { yes } => return on_confirm_key(app, key, yes, Confirmed::Quit),
        Mode::Detail { store, item, alert } => return on_detail_key(app, key, store, item, alert),
        Mode::Normal => {}
    }
    let Some(action) = app.keymap.action(app.focus.key_contexts(), &key) else {
        app.message = Some(does_nothing_here(app, &key));
        return Vec::new();
    };
    if refused(app, action) {
        return Vec::new();
    }
    if action.context() == KeyContext::Global {
        return on_global(app, action);
    }
    if action == Action::SnoozeStore {
        return snooze_store(app);
    }
    match app.focus {
        Pane::Stores => stores::on_action(app, action),
        Pane::Stock => stock::on_action(app, action),
        Pane::Alerts => alerts::on_action(app, action),
        Pane::Files => files::on_action(app, action),
        Pane::Preview => {
            if let Some(movement) = Movement::of(action) {
                app.files.preview_scroll = movement.apply(app.files.preview_scroll);
            }
            Vec::new()
        }
    }
}

/// Asks how long to snooze the store of the focused pane's selection.
fn snooze_store(app: &mut App) -> Vec<Effect> {
    let store = match app.focus {
        Pane::Stores => app.stores.selected().cloned(),
        Pane::Stock => app.stock.selected().map(|row| row.store.clone()),
        Pane::Alerts => app
            .alerts
            .selected()
            .and_then(|id| app.live_alerts.get(id))
            .map(|alert| alert.store.clone()),
        Pane::Files | Pane::Preview => None,
    };
    match store {
        Some(store) => {
            app.mode = Mode::Snooze {
                store,
                item: None,
                prompt: crate::prompt::Prompt::new("2h"),
            }
        }
        None => app.message = Some("no store selected".into()),
    }
    Vec::new()
}

/// Why a key did nothing: what it does in another pane and how to get
/// there, or that it is bound nowhere.
fn does_nothing_here(app: &App, key: &KeyEvent) -> String {
    let shown = crate::keymap::Key::from_event(key).map_or_else(|| "that key".to_string(), |k| k.to_string());
    let elsewhere = KeyContext::ALL
        .into_iter()
        .find_map(|context| app.keymap.action(&[context], key).map(|action| (context, action)));
    match elsewhere {
        Some((context, action)) => format!(
            "{shown} ({}) works in the {} pane: {} moves there",
            action.help(),
            context.name(),
            app.keymap.first_key(Action::NextPane)
        ),
        None => format!(
            "{shown} does nothing here; {} lists the keys",
            app.keymap.first_key(Action::Help)
        ),
    }
}

/// In --read-only, an action that writes is refused, in the help's words.
fn refused(app: &mut App, action: Action) -> bool {
    if app.read_only() && action.writes() {
        app.message = Some(format!("read-only console: cannot {}", action.help()));
        return true;
    }
    false
}

/// Moving keys scroll the help; any other key closes it.
fn on_help_key(app: &mut App, key: KeyEvent, scroll: u16) -> Vec<Effect> {
    if let Some(movement) = app.keymap.action(&[KeyContext::List], &key).and_then(Movement::of) {
        let limit = super::overlays::help_scroll_limit(app, app.size) as usize;
        let scroll = movement.apply(scroll as usize).min(limit) as u16;
        app.mode = Mode::Help { scroll };
    }
    Vec::new()
}

/// What a confirmation dialog asks for.
enum Confirmed {
    Acknowledge(Vec<AlertId>),
    Quit,
}

/// A confirmation: `y`, or Enter on the yes button, says yes; ←/→, Tab,
/// h/l move between the buttons; anything else (n, Esc) says no.
fn on_confirm_key(app: &mut App, key: KeyEvent, yes: bool, asked: Confirmed) -> Vec<Effect> {
    let toggle = matches!(
        key.code,
        KeyCode::Left | KeyCode::Right | KeyCode::Tab | KeyCode::BackTab | KeyCode::Char('h') | KeyCode::Char('l')
    );
    let confirmed = key.code == KeyCode::Char('y') || (key.code == KeyCode::Enter && yes);
    match asked {
        Confirmed::Acknowledge(ids) if toggle => app.mode = Mode::ConfirmAckAll { ids, yes: !yes },
        Confirmed::Quit if toggle => app.mode = Mode::ConfirmQuit { yes: !yes },
        Confirmed::Acknowledge(ids) if confirmed => return vec![Effect::Acknowledge { ids, note: None }],
        Confirmed::Quit if confirmed => return vec![Effect::Quit],
        Confirmed::Acknowledge(_) => app.message = Some("nothing acknowledged".into()),
        Confirmed::Quit => app.message = Some("still running; the uploads go on".into()),
    }
    Vec::new()
}

/// Quits, unless uploads are running: then asks first.
pub fn quit(app: &mut App) -> Vec<Effect> {
    if app.files.any_running() {
        app.mode = Mode::ConfirmQuit { yes: false };
        return Vec::new();
    }
    vec![Effect::Quit]
}

/// The item's detail: acknowledging keys act on its alert, help and quit
/// keep their meaning, any other key closes it.
fn on_detail_key(app: &mut App, key: KeyEvent, store: String, item: String, alert: Option<AlertId>) -> Vec<Effect> {
    let contexts = [KeyContext::Alerts, KeyContext::List, KeyContext::Global];
    let action = app.keymap.action(&contexts, &key);
    let open = alert
        .and_then(|id| app.live_alerts.get(id))
        .filter(|a| a.state == AlertState::Open)
        .map(|a| a.id);
    match action {
        Some(Action::Quit) => return quit(app),
        Some(Action::Help) => app.mode = Mode::Help { scroll: 0 },
        Some(action @ (Action::Acknowledge | Action::AcknowledgeWithNote)) => {
            app.mode = Mode::Detail { store, item, alert };
            if refused(app, action) {
                return Vec::new();
            }
            let Some(id) = open else {
                app.message = Some("no open alert to acknowledge here".into());
                return Vec::new();
            };
            if action == Action::Acknowledge {
                return vec![Effect::Acknowledge {
                    ids: vec![id],
                    note: None,
                }];
            }
            app.mode = Mode::Note {
                ids: vec![id],
                prompt: Default::default(),
            };
        }
        _ => {}
    }
    Vec::new()
}

/// The keys of the [global] table, whichever pane has the focus.
fn on_global(app: &mut App, action: Action) -> Vec<Effect> {
    let pane = app.focus;
    match action {
        Action::Quit => return quit(app),
        Action::Suspend => return vec![Effect::Suspend],
        Action::Help => app.mode = Mode::Help { scroll: 0 },
        Action::Command => app.mode = Mode::Command(Default::default()),
        Action::Filter => app.mode = Mode::Filter(super::prompt::Prompt::new(app.filter(pane))),
        Action::NextPane => app.focus = pane.step(1, app.files.open),
        Action::PreviousPane => app.focus = pane.step(-1, app.files.open),
        Action::Back => {
            if !app.filter(pane).is_empty() {
                app.filter_mut(pane).clear();
            } else if app.files.open && matches!(pane, Pane::Files | Pane::Preview) {
                app.files.open = false;
                app.focus = Pane::Stores;
            } else if app.stock.view.is_some() {
                app.stock.view = None;
                app.focus = Pane::Stores;
            }
        }
        Action::Pause => {
            if app.paused {
                app.resume();
            } else {
                app.paused = true;
            }
        }
        Action::Out => app.show_stock(StockView::Out),
        Action::Soon => app.show_stock(StockView::Soon),
        Action::Redraw => {
            let mut effects = vec![Effect::Repaint];
            if app.files.open {
                let (dir, ticket) = app.files.ask_listing(app.files.dir.clone());
                effects.push(Effect::List { dir, ticket });
            }
            return effects;
        }
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
