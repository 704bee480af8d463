//! What keys do, through `update`: global keys, each pane's own, the
//! command and filter lines, the confirmation, and --read-only.

use crate::app::{App, Mode};
use crate::keymap::{Action, KeyContext};
use crate::messages::{Effect, Msg};
use crate::pane::Pane;
use crate::stock_pane::{Column, StockView};
use crate::test_support::{alert, app, deliver_listing, press, samples_dir, typed};
use crate::update::update;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use stockwatch_domain::{AlertId, AlertState};

#[test]
fn acknowledging_one_or_all_with_a_confirmation_that_defaults_to_cancel() {
    let mut app = app(false);
    update(
        &mut app,
        Msg::Alerts(vec![
            alert("9", "Berlin", "Echo Plus", AlertState::Open),
            alert("10", "Pusan", "Echo Show", AlertState::Open),
            alert("3", "Pusan", "Echo Dot", AlertState::Resolved),
        ]),
    );
    assert_eq!(
        app.alerts.rows().iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        ["10", "9"],
        "newest first, resolved hidden"
    );
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    assert_eq!(app.focus, Pane::Alerts);
    assert_eq!(
        press(&mut app, KeyCode::Char('a')),
        [Effect::Acknowledge {
            ids: vec![AlertId(10)],
            note: None
        }]
    );
    press(&mut app, KeyCode::Char('A'));
    assert!(matches!(app.mode, Mode::ConfirmAckAll { yes: false, .. }));
    assert!(
        press(&mut app, KeyCode::Enter).is_empty(),
        "Enter on the default (Cancel) does nothing"
    );
    press(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Right);
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        [Effect::Acknowledge {
            ids: vec![AlertId(10), AlertId(9)],
            note: None
        }]
    );
}

/// An app where every action that writes would do something: an open
/// alert, the file pane on samples/ with a CSV file selected, an upload
/// still sending.
fn ready_to_write(read_only: bool) -> App {
    let mut app = app(read_only);
    // The newest (selected) is open; the last one shown is acknowledged.
    update(
        &mut app,
        Msg::Alerts(vec![
            alert("2", "Berlin", "Echo Plus", AlertState::Open),
            alert("1", "Pusan", "Echo Show", AlertState::Acknowledged),
        ]),
    );
    app.files.dir = samples_dir();
    let opened = press(&mut app, KeyCode::Char('f'));
    deliver_listing(&mut app, &opened);
    press(&mut app, KeyCode::Char('j'));
    let (csv, false) = app.files.selected().unwrap() else {
        panic!("a file is selected")
    };
    app.files.start(vec![csv]);
    app
}

/// The pane where an action of `context` applies.
fn pane_for(context: KeyContext) -> Pane {
    match context {
        KeyContext::Alerts => Pane::Alerts,
        KeyContext::Files => Pane::Files,
        KeyContext::Stock => Pane::Stock,
        KeyContext::Global | KeyContext::List => Pane::Stores,
    }
}

#[test]
fn read_only_refuses_every_write() {
    let writes: Vec<Action> = Action::ALL.iter().copied().filter(|a| a.writes()).collect();
    assert!(
        writes.len() >= 4,
        "acknowledge, acknowledge all, upload, cancel: {writes:?}"
    );
    for action in writes {
        // Its first key in the live keymap, in the pane where it applies.
        let press_it = |app: &mut App| {
            let key = app.keymap.keys_of(action)[0].to_event();
            app.focus = pane_for(action.context());
            if action == Action::Reopen {
                // What it takes back: the acknowledged alert, last in the list.
                let bottom = app.keymap.keys_of(Action::Bottom)[0].to_event();
                update(app, Msg::Key(bottom));
            }
            update(app, Msg::Key(key))
        };
        let mut writable = ready_to_write(false);
        let effects = press_it(&mut writable);
        assert!(
            !effects.is_empty() || writable.mode != Mode::Normal,
            "`{}` does nothing even when writes are allowed: this test no longer tries it",
            action.name()
        );
        let mut app = ready_to_write(true);
        let effects = press_it(&mut app);
        assert_eq!(effects, [], "read-only `{}`", action.name());
        assert_eq!(app.mode, Mode::Normal, "read-only `{}` asks nothing", action.name());
        assert_eq!(
            app.message.as_deref(),
            Some(format!("read-only console: cannot {}", action.help()).as_str()),
            "refusals say what is off in the help's words, not the action's internal name"
        );
    }
}

#[test]
fn each_pane_moves_and_filters_its_own_list() {
    let mut app = app(false);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Stock);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "echo");
    press(&mut app, KeyCode::Enter);
    assert_eq!((app.cursor(Pane::Stock), app.filter(Pane::Stock)), (0, "echo"));
    assert_eq!((app.cursor(Pane::Stores), app.filter(Pane::Stores)), (0, ""));
    assert_eq!(app.stores.rows().len(), 3, "the stock pane's filter is its own");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.cursor(Pane::Stock), 1);
    assert_eq!(
        app.stock.store(),
        Some("Pusan"),
        "still pinned: moving in stock keeps the store"
    );
    press(&mut app, KeyCode::BackTab);
    assert_eq!(app.focus, Pane::Stores);
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.stock.sort.column, Column::State, "sorting is the stock pane's key");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.cursor(Pane::Stores), 1);
    assert_eq!(app.cursor(Pane::Stock), 0, "another store's list opens at its top");
}

#[test]
fn the_out_view_starts_at_its_top_from_the_key_and_the_command() {
    for open in [":out", ":all", "o"] {
        let mut app = app(false);
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Char('j'));
        assert_eq!(app.cursor(Pane::Stock), 1);
        if let Some(command) = open.strip_prefix(':') {
            press(&mut app, KeyCode::Char(':'));
            typed(&mut app, command);
            press(&mut app, KeyCode::Enter);
        } else {
            typed(&mut app, open);
        }
        assert_eq!(app.stock.view, Some(StockView::Out), "{open}");
        assert_eq!((app.focus, app.cursor(Pane::Stock)), (Pane::Stock, 0), "{open}");
    }
}

#[test]
fn commands_and_help() {
    let mut app = app(false);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "store pus");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.stock.view, Some(StockView::Store("Pusan".into())));
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "alerts");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Alerts);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "nonsense");
    press(&mut app, KeyCode::Enter);
    assert!(
        app.message
            .as_deref()
            .unwrap()
            .starts_with("unknown command `nonsense`")
    );
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.mode, Mode::Help { scroll: 0 });
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "q");
    assert_eq!(press(&mut app, KeyCode::Enter), [Effect::Quit]);
    assert_eq!(press(&mut app, KeyCode::Char('q')), [Effect::Quit]);
}

#[test]
fn moving_in_the_stores_pane_unpins_an_opened_store() {
    let mut app = app(false);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.stock.view, Some(StockView::Store("Pusan".into())));
    app.focus = Pane::Stores;
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.stock.view, None);
    assert_eq!(app.stock.store(), Some("Berlin"));
}

#[test]
fn ctrl_c_quits_from_the_command_line_too() {
    let mut app = app(false);
    press(&mut app, KeyCode::Char(':'));
    let quit = update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert_eq!(quit, [Effect::Quit]);
}
