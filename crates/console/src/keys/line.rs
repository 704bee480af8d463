//! Typing in the command line (`:`), the filter line (`/`) or a note, and
//! running commands. The field edits like readline (see `prompt`), ↑/↓ walk
//! what was typed before, Tab completes commands and store names. A filter
//! applies as it is typed, to the focused pane.

use crate::app::{App, Mode};
use crate::messages::Effect;
use crate::pane::Pane;
use crate::prompt::{Edit, Prompt, common_prefix, remember};
use crate::stock_pane::StockView;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use stockwatch_domain::{AlertId, escape_for_terminal};

/// Lines kept in each history.
const HISTORY: usize = 100;

/// The commands, with their argument and what they do: `:help` and the
/// help overlay list them, Tab completes them.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("store", "NAME", "open a store's stock (Tab completes the name)"),
    ("stores", "", "back to the stores list"),
    ("out", "", "every out-of-stock item across stores"),
    ("soon", "", "every item predicted to run out soon, across stores"),
    ("alerts", "", "focus the alerts"),
    ("history", "", "every alert, resolved ones too"),
    ("cd", "PATH", "open the file pane in a folder (~ is home)"),
    ("help", "", "list the keys and commands"),
    ("quit", "", "quit (:q)"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Command,
    Filter,
}

impl Line {
    fn mode(self, prompt: Prompt) -> Mode {
        match self {
            Line::Command => Mode::Command(prompt),
            Line::Filter => Mode::Filter(prompt),
        }
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c')
}

/// A key while `line` is open (the mode is already Normal: it is set again
/// while the line stays open).
pub fn on_key(app: &mut App, key: KeyEvent, mut prompt: Prompt, line: Line) -> Vec<Effect> {
    let pane = app.focus;
    if is_ctrl_c(&key) {
        app.mode = line.mode(prompt);
        return super::quit(app);
    }
    let history = match line {
        Line::Command => &app.histories.commands,
        Line::Filter => &app.histories.filters,
    };
    match prompt.edit(&key, history) {
        Edit::Changed => {
            // Filters apply as they are typed.
            if line == Line::Filter {
                app.filter_mut(pane).clear();
                app.filter_mut(pane).push_str(prompt.text());
                *app.cursor_mut(pane) = 0;
            }
            app.mode = line.mode(prompt);
            return Vec::new();
        }
        Edit::Moved => {
            app.mode = line.mode(prompt);
            return Vec::new();
        }
        Edit::Ignored => {}
    }
    match key.code {
        KeyCode::Esc => {
            if line == Line::Filter {
                app.filter_mut(pane).clear();
            }
        }
        KeyCode::Enter => match line {
            Line::Command => {
                remember(&mut app.histories.commands, prompt.text().trim(), HISTORY);
                return run_command(app, prompt.text().trim());
            }
            Line::Filter => {
                remember(&mut app.histories.filters, prompt.text(), HISTORY);
                *app.filter_mut(pane) = prompt.text().to_string();
            }
        },
        KeyCode::Tab if line == Line::Command => {
            complete(app, &mut prompt);
            app.mode = line.mode(prompt);
        }
        _ => app.mode = line.mode(prompt),
    }
    Vec::new()
}

/// Typing the note for an acknowledgement: Enter acknowledges, Esc does not.
pub fn on_note_key(app: &mut App, key: KeyEvent, ids: Vec<AlertId>, mut prompt: Prompt) -> Vec<Effect> {
    if is_ctrl_c(&key) {
        app.mode = Mode::Note { ids, prompt };
        return super::quit(app);
    }
    if prompt.edit(&key, &[]) != Edit::Ignored {
        app.mode = Mode::Note { ids, prompt };
        return Vec::new();
    }
    match key.code {
        KeyCode::Enter => {
            let note = prompt.text().trim();
            let note = (!note.is_empty()).then(|| note.to_string());
            vec![Effect::Acknowledge { ids, note }]
        }
        KeyCode::Esc => {
            app.message = Some("nothing acknowledged".into());
            Vec::new()
        }
        _ => {
            app.mode = Mode::Note { ids, prompt };
            Vec::new()
        }
    }
}

/// Typing how long to snooze: Enter snoozes, Esc does not.
pub fn on_snooze_key(
    app: &mut App,
    key: KeyEvent,
    store: String,
    item: Option<String>,
    mut prompt: Prompt,
) -> Vec<Effect> {
    if is_ctrl_c(&key) {
        app.mode = Mode::Snooze { store, item, prompt };
        return super::quit(app);
    }
    if prompt.edit(&key, &[]) != Edit::Ignored {
        app.mode = Mode::Snooze { store, item, prompt };
        return Vec::new();
    }
    match key.code {
        KeyCode::Enter => match stockwatch_domain::parse_span(prompt.text()) {
            Ok(duration) => vec![Effect::Snooze { store, item, duration }],
            Err(reason) => {
                app.message = Some(reason);
                app.mode = Mode::Snooze { store, item, prompt };
                Vec::new()
            }
        },
        KeyCode::Esc => {
            app.message = Some("nothing snoozed".into());
            Vec::new()
        }
        _ => {
            app.mode = Mode::Snooze { store, item, prompt };
            Vec::new()
        }
    }
}

/// Tab: completes the command word, or a store name after `store `; with
/// several candidates, completes what they share and lists them.
fn complete(app: &mut App, prompt: &mut Prompt) {
    let text = prompt.text().to_string();
    let (candidates, before): (Vec<String>, &str) = match text.split_once(' ') {
        None => (
            COMMANDS
                .iter()
                .map(|(name, _, _)| name.to_string())
                .filter(|name| name.starts_with(&text))
                .collect(),
            "",
        ),
        Some(("store", partial)) => {
            let stores = crate::finding::find(app.live_stock.stores_by_urgency(), partial)
                .into_iter()
                .cloned()
                .collect();
            (stores, "store ")
        }
        Some(_) => return,
    };
    match candidates.as_slice() {
        [] => app.message = Some("nothing to complete".into()),
        [one] => prompt.set(&format!("{before}{one}{}", if before.is_empty() { " " } else { "" })),
        many => {
            if let Some(shared) = common_prefix(many.iter().map(String::as_str)) {
                let partial = &text[before.len().min(text.len())..];
                if shared.chars().count() > partial.trim_start().chars().count() {
                    prompt.set(&format!("{before}{shared}"));
                }
            }
            let shown: Vec<String> = many
                .iter()
                .take(8)
                .map(|c| escape_for_terminal(c).into_owned())
                .collect();
            let more = many.len().saturating_sub(shown.len());
            let tail = if more > 0 {
                format!(" … {more} more")
            } else {
                String::new()
            };
            app.message = Some(format!("{}{tail}", shown.join("  ")));
        }
    }
}

fn run_command(app: &mut App, command: &str) -> Vec<Effect> {
    let (verb, rest) = command.split_once(' ').map_or((command, ""), |(v, r)| (v, r.trim()));
    match verb {
        "q" | "quit" => return super::quit(app),
        "help" | "h" => app.mode = Mode::Help { scroll: 0 },
        "alerts" => app.focus = Pane::Alerts,
        "history" => {
            app.alerts.show = crate::alerts_pane::AlertShow::All;
            app.focus = Pane::Alerts;
            if !app.alerts.history_loaded {
                app.alerts.history_loaded = true;
                return vec![Effect::LoadAlerts];
            }
        }
        "stores" => {
            app.stock.view = None;
            app.focus = Pane::Stores;
        }
        // `:all` is the out view's old name.
        "out" | "all" => app.show_stock(StockView::Out),
        "soon" => app.show_stock(StockView::Soon),
        "store" if !rest.is_empty() => {
            // Every store, whatever the stores pane's filter shows; the best match.
            let found = crate::finding::find(app.live_stock.stores_by_urgency(), rest)
                .first()
                .map(|s| s.to_string());
            match found {
                Some(store) => app.show_stock(StockView::Store(store)),
                None => app.message = Some(format!("no store matches `{}`", escape_for_terminal(rest))),
            }
        }
        "cd" => {
            let dir = expand_home(if rest.is_empty() { "~" } else { rest }, app.settings.home.as_deref());
            let dir = if dir.is_relative() {
                app.files.dir.join(dir)
            } else {
                dir
            };
            app.files.open = true;
            app.focus = Pane::Files;
            let (dir, ticket) = app.files.ask_listing(dir);
            return vec![Effect::List { dir, ticket }];
        }
        "" => {}
        _ => {
            let names: Vec<String> = COMMANDS.iter().map(|(name, _, _)| format!(":{name}")).collect();
            app.message = Some(format!(
                "unknown command `{}`; commands: {} (:help explains them)",
                escape_for_terminal(command),
                names.join(" ")
            ))
        }
    }
    Vec::new()
}

/// `~` and `~/…` are the home directory.
fn expand_home(path: &str, home: Option<&std::path::Path>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => home.join(rest.trim_start_matches('/')),
        _ => PathBuf::from(path),
    }
}
