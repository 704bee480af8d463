//! The console's behaviour through `update`, as keys and messages drive
//! it: data from the feed and the ledger, and how the panes follow it.
//! Keys are tested in keys/tests.rs, the file pane in files/pane_tests.rs.

use super::*;
use crate::messages::{Effect, Msg};
use crate::stock_pane::Column;
use crate::test_support::{alert, app, change, deliver_changes, press, row, typed};
use crate::update::update;
use ratatui::crossterm::event::KeyCode;
use stockwatch_core::ports::{ChangeKind, Image};
use stockwatch_domain::{AlertId, AlertState};

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
    press(&mut app, KeyCode::Char('s')); // next column: days left
    press(&mut app, KeyCode::Char('s')); // as of
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
    press(&mut app, KeyCode::Char('p'));
    deliver_changes(
        &mut app,
        vec![change("Karachi", "Echo Dot", Some(19), Some(0), 2)],
        2300,
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
        Msg::Alerts(vec![
            alert("8", "Karachi", "Echo Dot", AlertState::Open),
            alert("9", "Berlin", "Echo Plus", AlertState::Open),
        ]),
    );
    app.focus = Pane::Alerts;
    // The operator moves down to #8; a newer alert arrives on top.
    press(&mut app, KeyCode::Char('j'));
    update(
        &mut app,
        Msg::Alerts(vec![alert("10", "Pusan", "Echo Show", AlertState::Open)]),
    );
    assert_eq!(
        press(&mut app, KeyCode::Char('a')),
        [Effect::Acknowledge {
            ids: vec![AlertId(8)],
            note: None
        }]
    );

    // The stores re-sort by urgency: the cursor stays on the same store.
    app.focus = Pane::Stores;
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.stock.store(), Some("Berlin"));
    deliver_changes(
        &mut app,
        vec![
            change("Karachi", "A", None, Some(0), 9),
            change("Karachi", "B", None, Some(0), 9),
        ],
        9,
    );
    assert_ne!(
        app.stores.rows()[0],
        "Karachi",
        "the order holds while the operator reads"
    );
    update(&mut app, Msg::Tick(stockwatch_domain::Timestamp(60_000)));
    assert_eq!(
        app.stores.rows()[0],
        "Karachi",
        "Karachi is the most urgent once the order is free"
    );
    assert_eq!(
        app.stock.store(),
        Some("Berlin"),
        "the stock pane did not jump to another store"
    );
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

/// A store of a thousand items has the histories of the rows around the
/// cursor read, a stretch at a time as the cursor goes, not all at once.
#[test]
fn histories_are_read_around_the_cursor_as_it_goes() {
    let rows: Vec<_> = (0..1000).map(|i| row("Big", &format!("Item {i:04}"), 50)).collect();
    let mut app = crate::test_support::app_with(rows, false);
    let asked = |effects: &[Effect]| -> Vec<String> {
        effects
            .iter()
            .flat_map(|e| match e {
                Effect::ReadHistory(items) => items.iter().map(|(_, i)| i.clone()).collect(),
                _ => Vec::new(),
            })
            .collect()
    };
    // The store is shown from the start: the top rows were asked for, not the bottom's.
    let mut probe = |item: &str| app.item_history.to_read([("Big", item)].into_iter()).is_empty();
    assert!(probe("Item 0000") && probe("Item 0399"), "the top's asked for");
    assert!(!probe("Item 0998"), "the bottom's not");
    press(&mut app, KeyCode::Enter); // into the store's rows
    let last = asked(&press(&mut app, KeyCode::Char('G')));
    assert!(
        last.contains(&"Item 0999".to_string()),
        "the bottom's rows once the cursor is there"
    );
    assert!(
        asked(&press(&mut app, KeyCode::Char('k'))).is_empty(),
        "nothing new a row up"
    );
}
