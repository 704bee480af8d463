//! Typing in the command line (`:`) or the filter line (`/`), and running
//! commands. A filter applies as it is typed, to the focused pane.

use crate::console::app::{App, Mode};
use crate::console::messages::Effect;
use crate::console::pane::Pane;
use crate::console::stock_pane::StockView;
use crate::domain::escape_for_terminal;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Command,
    Filter,
}

impl Line {
    fn mode(self, text: String) -> Mode {
        match self {
            Line::Command => Mode::Command(text),
            Line::Filter => Mode::Filter(text),
        }
    }
}

/// A key while `line` is open with `text` typed so far (the mode is
/// already Normal: it is set again while the line stays open).
pub fn on_key(app: &mut App, key: KeyEvent, mut text: String, line: Line) -> Vec<Effect> {
    let pane = app.focus;
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        app.mode = line.mode(text);
        return vec![Effect::Quit];
    }
    match key.code {
        KeyCode::Esc => {
            if line == Line::Filter {
                app.filter_mut(pane).clear();
            }
        }
        KeyCode::Enter => match line {
            Line::Command => return run_command(app, text.trim()),
            Line::Filter => *app.filter_mut(pane) = text,
        },
        KeyCode::Backspace => {
            text.pop();
            if line == Line::Filter {
                app.filter_mut(pane).clone_from(&text);
            }
            app.mode = line.mode(text);
        }
        KeyCode::Char(c) if !c.is_control() => {
            text.push(c);
            // Filters apply as they are typed.
            if line == Line::Filter {
                app.filter_mut(pane).clone_from(&text);
                *app.cursor_mut(pane) = 0;
            }
            app.mode = line.mode(text);
        }
        _ => app.mode = line.mode(text),
    }
    Vec::new()
}

fn run_command(app: &mut App, command: &str) -> Vec<Effect> {
    let (verb, rest) = command.split_once(' ').map_or((command, ""), |(v, r)| (v, r.trim()));
    match verb {
        "q" | "quit" => return vec![Effect::Quit],
        "alerts" => app.focus = Pane::Alerts,
        "stores" => {
            app.stock.view = None;
            app.focus = Pane::Stores;
        }
        // `:all` is the out view's old name.
        "out" | "all" => app.show_stock(StockView::Out),
        "store" if !rest.is_empty() => {
            let wanted = rest.to_lowercase();
            // Every store, whatever the stores pane's filter shows.
            let stores = app.live_stock.stores_by_urgency();
            let found = stores
                .iter()
                .find(|s| s.to_lowercase() == wanted)
                .or_else(|| stores.iter().find(|s| s.to_lowercase().starts_with(&wanted)))
                .cloned();
            match found {
                Some(store) => app.show_stock(StockView::Store(store)),
                None => app.message = Some(format!("no store matches `{}`", escape_for_terminal(rest))),
            }
        }
        "" => {}
        _ => {
            app.message = Some(format!(
                "unknown command `{}`; try :store NAME, :alerts, :out, :stores, :q",
                escape_for_terminal(command)
            ))
        }
    }
    Vec::new()
}
