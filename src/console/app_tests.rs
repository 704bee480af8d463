use super::*;
use crate::console::messages::{Effect, Msg};
use crate::console::stock_pane::{Column, StockView};
use crate::console::test_support::{app_with, row};
use crate::console::update::update;
use crate::domain::{Alert, AlertKind, AlertState};
use crate::ports::{ChangeKind, Image};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn app(read_only: bool) -> App {
    let rows = vec![
        row("Berlin", "Echo Dot", 12),
        row("Berlin", "Echo Plus", 0),
        row("Pusan", "Echo Show", 0),
        row("Pusan", "Amazon Tap", 3),
        row("Pusan", "Echo Dot", 20),
        row("Karachi", "Echo Dot", 19),
    ];
    app_with(rows, read_only)
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let modifiers = if matches!(code, KeyCode::Char(c) if c.is_ascii_uppercase()) {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    update(app, Msg::Key(KeyEvent::new(code, modifiers)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn alert(id: &str, store: &str, item: &str, state: AlertState) -> Alert {
    Alert {
        id: id.parse().unwrap(),
        change_id: format!("c{id}"),
        kind: AlertKind::Out,
        store: store.into(),
        item: item.into(),
        count: 0,
        threshold: 3,
        as_of: Timestamp(1),
        source: "k".into(),
        raised_at: Timestamp(1),
        state,
        acknowledged: None,
        resolved_at: None,
        published_at: None,
    }
}

#[test]
fn stores_are_listed_most_urgent_first_and_the_cursor_follows_keys() {
    let mut app = app(false);
    assert_eq!(app.stores.rows(), ["Pusan", "Berlin", "Karachi"]);
    assert_eq!(app.stock.store(), Some("Pusan"));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.stock.store(), Some("Berlin"));
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.cursor(Pane::Stores), 2, "the cursor stops at the last row");
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.cursor(Pane::Stores), 0);
}

#[test]
fn opening_a_store_shows_its_items_out_of_stock_first() {
    let mut app = app(false);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Stock);
    let items: Vec<(String, u32)> = app.stock.rows().iter().map(|r| (r.item.clone(), r.count)).collect();
    assert_eq!(
        items,
        [
            ("Echo Show".to_string(), 0),
            ("Amazon Tap".to_string(), 3),
            ("Echo Dot".to_string(), 20)
        ]
    );
    press(&mut app, KeyCode::Char('s')); // next column: as of
    press(&mut app, KeyCode::Char('s')); // item
    press(&mut app, KeyCode::Char('s')); // count
    assert_eq!(app.stock.sort.column, Column::Count);
    press(&mut app, KeyCode::Char('S'));
    assert_eq!(app.stock.rows()[0].count, 20, "reversed: highest count first");
    press(&mut app, KeyCode::Esc);
    assert_eq!((app.focus, app.stock.view.clone()), (Pane::Stores, None));
}

#[test]
fn the_out_view_lists_every_out_of_stock_item() {
    let mut app = app(false);
    press(&mut app, KeyCode::Char('o'));
    let rows: Vec<(String, String)> = app
        .stock
        .rows()
        .iter()
        .map(|r| (r.store.clone(), r.item.clone()))
        .collect();
    assert_eq!(
        rows,
        [
            ("Berlin".to_string(), "Echo Plus".to_string()),
            ("Pusan".to_string(), "Echo Show".to_string())
        ]
    );
}

#[test]
fn filters_apply_as_typed_and_invert_with_a_bang() {
    let mut app = app(false);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "ber");
    assert_eq!(app.stores.rows(), ["Berlin"]);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.filter(Pane::Stores), "ber");
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "!a");
    assert_eq!(app.stores.rows(), ["Berlin"], "stores without an `a`");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.stores.rows().len(), 3, "Esc clears the filter");
}

#[test]
fn changes_apply_live_and_wait_while_paused() {
    let mut app = app(false);
    let change = |count| Change {
        id: "x".into(),
        kind: ChangeKind::Modify,
        store: "Karachi".into(),
        item: "Echo Dot".into(),
        old: Some(Image {
            count: 19,
            as_of: Timestamp(1),
            source: "k".into(),
        }),
        new: Some(Image {
            count,
            as_of: Timestamp(2),
            source: "k".into(),
        }),
        at: Timestamp(2),
    };
    press(&mut app, KeyCode::Char('p'));
    update(
        &mut app,
        Msg::Changes {
            changes: vec![change(0)],
            gap: false,
            seen_at: Timestamp(2300),
        },
    );
    assert_eq!(
        app.live_stock.item("Karachi", "Echo Dot").unwrap().count,
        19,
        "paused: held back"
    );
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(
        app.live_stock.item("Karachi", "Echo Dot").unwrap().count,
        0,
        "resumed: applied"
    );
    assert_eq!(app.last_change, Some(Timestamp(2)));
}

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
        [Effect::Acknowledge(vec![AlertId(10)])]
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
        [Effect::Acknowledge(vec![AlertId(10), AlertId(9)])]
    );
}

#[test]
fn read_only_refuses_every_write() {
    let mut app = app(true);
    update(
        &mut app,
        Msg::Alerts(vec![alert("1", "Berlin", "Echo Plus", AlertState::Open)]),
    );
    app.focus = Pane::Alerts;
    assert!(press(&mut app, KeyCode::Char('a')).is_empty());
    assert!(app.message.as_deref().unwrap().starts_with("read-only"));
    assert!(press(&mut app, KeyCode::Char('A')).is_empty());
    assert_eq!(app.mode, Mode::Normal);
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
    assert_eq!(app.mode, Mode::Help);
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "q");
    assert_eq!(press(&mut app, KeyCode::Enter), [Effect::Quit]);
    assert_eq!(press(&mut app, KeyCode::Char('q')), [Effect::Quit]);
}

#[test]
fn the_lag_is_how_late_the_last_changes_arrived() {
    let mut app = app(false);
    let change = Change {
        id: "x".into(),
        kind: ChangeKind::Insert,
        store: "Berlin".into(),
        item: "New".into(),
        old: None,
        new: Some(Image {
            count: 0,
            as_of: Timestamp(5_000),
            source: "k".into(),
        }),
        at: Timestamp(5_000),
    };
    update(
        &mut app,
        Msg::Changes {
            changes: vec![change],
            gap: false,
            seen_at: Timestamp(5_400),
        },
    );
    assert_eq!(app.lag_ms, Some(400));
    assert_eq!(app.last_change, Some(Timestamp(5_000)));
}

#[test]
fn the_selection_stays_on_its_row_when_lists_change_under_it() {
    let mut app = app(false);
    update(
        &mut app,
        Msg::Alerts(vec![alert("9", "Berlin", "Echo Plus", AlertState::Open)]),
    );
    app.focus = Pane::Alerts;
    // A newer alert arrives on top while the operator is on #9.
    update(
        &mut app,
        Msg::Alerts(vec![alert("10", "Pusan", "Echo Show", AlertState::Open)]),
    );
    assert_eq!(
        press(&mut app, KeyCode::Char('a')),
        [Effect::Acknowledge(vec![AlertId(9)])]
    );

    // The stores re-sort by urgency: the cursor stays on the same store.
    app.focus = Pane::Stores;
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.stock.store(), Some("Berlin"));
    let change = |item: &str| Change {
        id: item.into(),
        kind: ChangeKind::Insert,
        store: "Karachi".into(),
        item: item.into(),
        old: None,
        new: Some(Image {
            count: 0,
            as_of: Timestamp(9),
            source: "k".into(),
        }),
        at: Timestamp(9),
    };
    update(
        &mut app,
        Msg::Changes {
            changes: vec![change("A"), change("B")],
            gap: false,
            seen_at: Timestamp(9),
        },
    );
    assert_eq!(app.stores.rows()[0], "Karachi", "Karachi is now the most urgent");
    assert_eq!(
        app.stock.store(),
        Some("Berlin"),
        "the stock pane did not jump to another store"
    );
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
fn an_inverted_filter_drops_rows_where_any_column_matches() {
    let mut app = app(false);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "!echo");
    let items: Vec<String> = app.stock.rows().iter().map(|r| r.item.clone()).collect();
    assert_eq!(items, ["Amazon Tap"]);
}

#[test]
fn a_resync_replaces_every_row() {
    let mut app = app(false);
    update(&mut app, Msg::Resync);
    update(&mut app, Msg::Rows(vec![row("Berlin", "Echo Dot", 1)]));
    update(&mut app, Msg::SnapshotDone);
    assert_eq!(app.stores.rows(), ["Berlin"], "stores deleted meanwhile are gone");
    assert_eq!(app.live_stock.totals().items, 1);
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

mod files {
    use super::*;
    use crate::console::files::listing::list_dir;
    use crate::console::files::pane::TransferResult;
    use crate::console::latest::Ticket;
    use crate::domain::preview::Preview;

    fn samples_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
    }

    /// The one directory `effects` ask to list, with its ticket.
    fn asked_listing(effects: &[Effect]) -> (PathBuf, Ticket) {
        match effects {
            [Effect::List { dir, ticket }] => (dir.clone(), ticket.clone()),
            _ => panic!("one listing asked for: {effects:?}"),
        }
    }

    /// The one file `effects` ask to preview, with its ticket.
    fn asked_preview(effects: &[Effect]) -> (PathBuf, Ticket) {
        match effects {
            [Effect::Preview { path, ticket }] => (path.clone(), ticket.clone()),
            _ => panic!("one preview asked for: {effects:?}"),
        }
    }

    /// Lists the directory `effects` ask for and hands it back, as the runtime does.
    fn deliver_listing(app: &mut App, effects: &[Effect]) {
        let (dir, ticket) = asked_listing(effects);
        update(
            app,
            Msg::Listed {
                listing: list_dir(&dir),
                ticket,
            },
        );
    }

    fn with_files() -> App {
        let mut app = app(false);
        app.files.dir = samples_dir();
        let effects = press(&mut app, KeyCode::Char('f'));
        assert_eq!(
            asked_listing(&effects).0,
            samples_dir(),
            "opening the pane lists its directory"
        );
        assert_eq!(app.focus, Pane::Files);
        deliver_listing(&mut app, &effects);
        app
    }

    #[test]
    fn browsing_enters_directories_goes_up_and_previews_csv_files() {
        let mut app = with_files();
        // Directories first: invalid/ is on top; entering it asks for a listing.
        assert_eq!(
            asked_listing(&press(&mut app, KeyCode::Enter)).0,
            samples_dir().join("invalid")
        );
        // Moving onto a CSV file previews it.
        let effects = press(&mut app, KeyCode::Char('j'));
        assert_eq!(asked_preview(&effects).0, samples_dir().join("inventory-berlin.csv"));
        assert!(
            press(&mut app, KeyCode::Char('.')).is_empty(),
            "toggling hidden files needs no I/O"
        );
        assert_eq!(
            asked_listing(&press(&mut app, KeyCode::Char('h'))).0,
            samples_dir().parent().unwrap()
        );
    }

    #[test]
    fn marks_upload_together_and_results_show_per_file() {
        let mut app = with_files();
        press(&mut app, KeyCode::Char('j'));
        press(&mut app, KeyCode::Char(' '));
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(app.files.marks.len(), 2);
        let effects = press(&mut app, KeyCode::Char('u'));
        let [Effect::Upload(started)] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!(started.len(), 2);
        assert!(app.files.marks.is_empty());
        let (id, _) = started[0];
        update(
            &mut app,
            Msg::TransferProgress {
                id,
                sent: 50,
                total: 100,
            },
        );
        assert_eq!(app.files.transfers[0].sent, 50);
        update(
            &mut app,
            Msg::TransferDone {
                id,
                result: TransferResult::Loaded {
                    rows: 6,
                    changed: 6,
                    alerts: 1,
                },
            },
        );
        assert!(app.files.transfers[0].result.is_some());
        assert_eq!(
            press(&mut app, KeyCode::Char('x')),
            [Effect::Cancel(started[1].0)],
            "x cancels the one still running"
        );
        let other = started[1].0;
        update(
            &mut app,
            Msg::TransferProgress {
                id: other,
                sent: 100,
                total: 100,
            },
        );
        assert!(
            press(&mut app, KeyCode::Char('x')).is_empty(),
            "a file already loading is not cancelled"
        );
        assert!(app.message.as_deref().unwrap().contains("all or nothing"));
    }

    #[test]
    fn read_only_browses_and_previews_but_never_uploads() {
        let mut app = app(true);
        app.files.dir = samples_dir();
        let effects = press(&mut app, KeyCode::Char('f'));
        deliver_listing(&mut app, &effects);
        assert!(!press(&mut app, KeyCode::Char('j')).is_empty(), "previews still work");
        assert!(press(&mut app, KeyCode::Char('u')).is_empty());
        assert!(app.message.as_deref().unwrap().starts_with("read-only"));
    }

    #[test]
    fn a_slow_listing_of_a_directory_left_behind_is_dropped() {
        let mut app = with_files();
        // Enter invalid/, then go back up before its listing arrives.
        let (invalid, older) = asked_listing(&press(&mut app, KeyCode::Enter));
        let (parent, newer) = asked_listing(&press(&mut app, KeyCode::Char('h')));
        assert!(!older.is_current(), "the listing job left behind sees it is superseded");
        update(
            &mut app,
            Msg::Listed {
                listing: list_dir(&parent),
                ticket: newer,
            },
        );
        update(
            &mut app,
            Msg::Listed {
                listing: list_dir(&invalid),
                ticket: older,
            },
        );
        assert_eq!(app.files.dir, parent, "the directory asked for last wins");
    }

    #[test]
    fn a_late_preview_of_a_file_no_longer_selected_is_dropped() {
        let mut app = with_files();
        let (berlin, older) = asked_preview(&press(&mut app, KeyCode::Char('j')));
        let (next, newer) = asked_preview(&press(&mut app, KeyCode::Char('j')));
        assert!(!older.is_current(), "selecting another file stops the first preview");
        let late = Msg::Previewed {
            path: berlin,
            preview: Box::new(Preview::default()),
            ticket: older,
        };
        update(&mut app, late);
        assert_eq!(app.files.preview.as_ref().map(|(p, _)| p), Some(&next));
        let done = Msg::Previewed {
            path: next.clone(),
            preview: Box::new(Preview::default()),
            ticket: newer,
        };
        update(&mut app, done);
        assert_eq!(app.files.preview.as_ref().map(|(p, _)| p), Some(&next));
    }

    #[test]
    fn a_finished_upload_keeps_its_result_and_a_directory_clears_the_preview() {
        let mut app = with_files();
        let (_, ticket) = asked_preview(&press(&mut app, KeyCode::Char('j')));
        assert!(app.files.preview.is_some(), "a CSV file is previewed");
        press(&mut app, KeyCode::Char('k'));
        assert!(app.files.preview.is_none(), "a directory has no preview");
        assert!(!ticket.is_current(), "and the preview under way stops");
        press(&mut app, KeyCode::Char('j'));
        let effects = press(&mut app, KeyCode::Char('u'));
        let [Effect::Upload(started)] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        let id = started[0].0;
        let loaded = TransferResult::Loaded {
            rows: 6,
            changed: 6,
            alerts: 0,
        };
        update(&mut app, Msg::TransferDone { id, result: loaded });
        let late = TransferResult::Failed("cancelled".into());
        update(&mut app, Msg::TransferDone { id, result: late });
        assert!(matches!(
            app.files.transfers[0].result,
            Some(TransferResult::Loaded { .. })
        ));
    }
}
