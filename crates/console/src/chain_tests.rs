//! The console with a chain's data (40 stores × 300 items with accented,
//! CJK and 60-character names, 2,000 open alerts) at the sizes operators
//! use: what the panes give room to, what they say they hide, where lists
//! open, and finding stores as people type them.

use super::app::{App, Mode};
use super::messages::{Effect, Msg};
use super::pane::Pane;
use super::test_support::{alert, app_with, press, row, typed};
use super::update::update;
use ratatui::crossterm::event::KeyCode;
use stockwatch_domain::AlertState;

use stockwatch_testkit::chain::{item_name, store_names as chain_stores};

/// The chain's rows (every seventh item out of stock) and 2,000 open
/// alerts on them.
pub fn chain_app() -> App {
    let mut rows = Vec::new();
    for store in chain_stores() {
        for i in 0..300 {
            rows.push(row(&store, &item_name(i), (i % 7) as u32 * 2));
        }
    }
    let mut app = app_with(rows, false);
    let stores = chain_stores();
    let alerts = (1..=2000u64)
        .map(|id| {
            let store = &stores[(id % 40) as usize];
            alert(
                &id.to_string(),
                store,
                &format!("Artículo {:03}", id % 300),
                AlertState::Open,
            )
        })
        .collect();
    update(&mut app, Msg::AlertsLoaded(alerts));
    app
}

use super::test_support::screen_lines as screen;

/// The rows between a pane's title line and its bottom border.
fn pane_rows<'a>(lines: &'a [String], title: &str) -> &'a [String] {
    let top = lines
        .iter()
        .position(|l| l.contains(title))
        .unwrap_or_else(|| panic!("no {title}:\n{}", lines.join("\n")));
    let bottom = lines[top + 1..]
        .iter()
        .position(|l| l.starts_with('└') || l.starts_with('┗'))
        .map_or(lines.len(), |b| top + 1 + b);
    &lines[top + 1..bottom]
}

#[test]
fn at_80x24_the_alerts_pane_keeps_a_third_and_every_list_says_what_it_hides() {
    let app = chain_app();
    let lines = screen(&app, 80, 24);
    let shown = lines.join("\n");
    // The header row, then the alerts.
    let alert_rows = pane_rows(&lines, "Alerts (2,000 open").len() - 1;
    assert!(alert_rows >= 7, "{alert_rows} alert rows:\n{shown}");
    assert!(shown.contains("↓ 1,993 more") || shown.contains("↓1,993"), "{shown}");
    assert!(
        shown.contains("↓ 3") && shown.contains("more"),
        "the stores say what is below:\n{shown}"
    );
    // Smaller still: every list still says what it hides.
    let small = screen(&app, 60, 15).join("\n");
    assert!(small.matches('↓').count() >= 2, "{small}");
}

#[test]
fn store_finds_by_any_part_without_accents_and_opens_at_the_top_highlighted() {
    let mut app = chain_app();
    // Somewhere down another store's list first.
    app.focus = Pane::Stock;
    for _ in 0..40 {
        press(&mut app, KeyCode::Char('j'));
    }
    // Typed with the stores pane focused, as at start.
    app.focus = Pane::Stores;
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "store sao");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.stock.store(), Some("São Paulo Paulista"));
    assert_eq!(app.cursor(Pane::Stock), 0, "a store opens at its first row");
    assert_eq!(
        app.stores.selected().map(String::as_str),
        Some("São Paulo Paulista"),
        "the stores pane's cursor is on the store shown"
    );
    let lines = screen(&app, 80, 24);
    assert!(
        lines.iter().any(|l| l.contains("São Paulo Paulista (300 items)")),
        "{lines:#?}"
    );
    // Any part of the name, and a store of another script.
    for (typed_text, store) in [("store paulista", "São Paulo Paulista"), ("store 渋谷", "東京 渋谷")] {
        press(&mut app, KeyCode::Char(':'));
        typed(&mut app, typed_text);
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.stock.store(), Some(store));
        assert_eq!(app.stores.selected().map(String::as_str), Some(store));
    }
    // The out view opens at its top too.
    for _ in 0..25 {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Char('o'));
    assert_eq!(app.cursor(Pane::Stock), 0, "the out view opens at its first row");
}

#[test]
fn tab_lists_the_stores_a_start_finds_and_the_filter_ignores_accents() {
    let mut app = chain_app();
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "store s");
    press(&mut app, KeyCode::Tab);
    let said = app.message.clone().unwrap_or_default();
    assert!(
        said.contains("São Paulo Paulista") && said.contains("Sapporo"),
        "{said}"
    );
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "store tienda");
    press(&mut app, KeyCode::Tab);
    let said = app.message.clone().unwrap_or_default();
    assert!(said.contains("Tienda 10 Ñandú") && said.contains("… 22 more"), "{said}");
    press(&mut app, KeyCode::Esc);
    app.focus = Pane::Stores;
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "krakow");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.stores.rows(), ["Kraków Główny"]);
}

#[test]
fn z_snoozes_the_selected_store_from_any_list() {
    let mut app = chain_app();
    app.focus = Pane::Stores;
    press(&mut app, KeyCode::Char('Z'));
    let store = app.stores.selected().cloned().unwrap();
    let prompt = screen(&app, 100, 24).join("\n");
    assert!(prompt.contains("snooze every item of"), "{prompt}");
    assert!(matches!(&app.mode, Mode::Snooze { item: None, .. }));
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effects,
        [Effect::Snooze {
            store,
            item: None,
            duration: std::time::Duration::from_secs(2 * 3600)
        }]
    );
    // From an alert: its store.
    app.focus = Pane::Alerts;
    let alert_store = app
        .alerts
        .selected()
        .and_then(|id| app.live_alerts.get(id))
        .map(|a| a.store.clone())
        .unwrap();
    press(&mut app, KeyCode::Char('Z'));
    assert!(matches!(&app.mode, Mode::Snooze { store, item: None, .. } if *store == alert_store));
}

#[test]
fn a_list_moved_in_keeps_its_order_until_g_or_a_quiet_spell() {
    use stockwatch_domain::Timestamp;
    let mut app = chain_app();
    update(&mut app, Msg::Tick(Timestamp(1_000)));
    app.focus = Pane::Stores;
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('j'));
    }
    let before: Vec<String> = app.stores.rows().to_vec();
    let under_cursor = app.stores.selected().cloned().unwrap();
    // The last store runs out of everything: the most urgent by far.
    let last = before.last().unwrap().clone();
    let changes = (0..300)
        .filter(|i| i % 7 != 0)
        .map(|i| super::test_support::change(&last, &item_name(i), Some((i % 7) as u32 * 2), Some(0), 5))
        .collect();
    super::test_support::deliver_changes(&mut app, changes, 2_000);
    assert_eq!(
        app.stores.rows(),
        &before[..],
        "the order holds while the operator reads"
    );
    assert_eq!(app.stores.selected(), Some(&under_cursor));
    assert!(screen(&app, 80, 24)[0].contains("order held"), "and says so");
    // A quiet spell later it re-sorts; so does g at once.
    update(&mut app, Msg::Tick(Timestamp(2_000 + 31_000)));
    assert_eq!(app.stores.rows()[0], last, "re-sorted after a quiet spell");
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.stores.rows()[0], last);
    assert!(!screen(&app, 80, 24)[0].contains("order held"));
}

#[test]
fn numbers_and_times_are_never_cut_and_acknowledging_does_not_reflow() {
    use stockwatch_domain::{Acknowledgement, Timestamp};
    let mut app = chain_app();
    app.last_change = Some(Timestamp(1_000));
    app.message = Some("a long message that would push the counts off the screen if it came first".into());
    let mut lines = screen(&app, 80, 24);
    let status = lines.pop().unwrap();
    let above = lines.pop().unwrap();
    let totals = app.live_stock.totals().clone();
    for whole in [
        format!("✗{} out", super::text::thousands(totals.out as usize)),
        format!("▼{} low", super::text::thousands(totals.low as usize)),
        "last change 00:00:01".to_string(),
    ] {
        assert!(status.contains(&whole), "{whole} whole in {status:?}");
    }
    assert!(
        !status.contains("a long") && above.contains("a long message that would push the counts off the screen"),
        "the message gives way to the numbers, and is read whole on the row above: {above:?} / {status:?}"
    );
    // Acknowledging the top alert: the alerts header does not move.
    app.message = None;
    let header = |app: &App| {
        let lines = screen(app, 80, 24);
        pane_rows(&lines, "Alerts (")[0].clone()
    };
    let before = header(&app);
    let mut acked = app.live_alerts.get(app.alerts.selected().unwrap()).unwrap().clone();
    acked.state = AlertState::Acknowledged;
    acked.version += 1;
    acked.acknowledged = Some(Acknowledgement {
        by: "unknown@vm-with-a-long-name".into(),
        at: Timestamp(61_000),
        note: Some("truck due at four".into()),
    });
    update(&mut app, Msg::Alerts(vec![acked]));
    let lines = screen(&app, 80, 24);
    assert_eq!(header(&app), before, "the columns stay where they were");
    let row = pane_rows(&lines, "Alerts (")[1].clone();
    assert!(
        row.contains("✓ acked") && row.contains("00:01"),
        "the time whole: {row:?}"
    );
}

#[test]
fn at_200_columns_the_numbers_stay_next_to_the_names() {
    let mut app = chain_app();
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "store berlin");
    press(&mut app, KeyCode::Enter);
    let lines = screen(&app, 200, 50);
    let header = &pane_rows(&lines, "Berlin Mitte (300 items)")[0];
    // In cells (characters here: the header is narrow text).
    let at = |word: &str| header[..header.find(word).unwrap()].chars().count();
    let (item, count) = (at("ITEM"), at("COUNT"));
    assert!(count - item < 80, "COUNT {count} columns from ITEM {item}: {header:?}");
}

#[test]
fn a_chain_at_80x24_60x15_and_200x50() {
    let app = chain_app();
    for (width, height) in [(80, 24), (60, 15), (200, 50)] {
        insta::assert_snapshot!(
            format!("chain_{width}x{height}"),
            screen(&app, width, height).join("\n")
        );
    }
}

#[test]
fn the_file_pane_keeps_numbers_whole_and_each_upload_on_one_line() {
    use super::files::pane::{Transfer, TransferResult};
    use stockwatch_domain::Thresholds;
    use stockwatch_domain::preview::Previewer;
    let mut app = chain_app();
    let dir = tempfile::tempdir().unwrap();
    // A chain's file: 200 stores, CJK and long names.
    let mut csv = String::from("store,item,count\n");
    for s in 0..200 {
        for i in 0..10 {
            let count = if i % 5 == 0 { 0 } else { i * 3 };
            csv.push_str(&format!("東京 {s:03},商品 {i} 渋谷,{count}\n"));
        }
    }
    let path = dir.path().join("chain.csv");
    std::fs::write(&path, &csv).unwrap();
    let preview = Previewer::new(std::fs::File::open(&path).unwrap(), Thresholds::new(3), 50).run();
    app.files.open = true;
    app.files.dir = dir.path().to_path_buf();
    app.files.preview = Some((path.clone(), preview));
    let long = "inventory-Mönchengladbach-Rheydt-Hauptbahnhof-2026-12-07.csv";
    let transfer = |id: u64, sent: u64, result: Option<TransferResult>| Transfer {
        id,
        path: dir.path().join(long),
        sent,
        total: 1_800,
        result,
    };
    app.files.transfers = vec![
        transfer(1, 1_800, Some(TransferResult::Cancelled)),
        transfer(
            2,
            1_800,
            Some(TransferResult::Rejected {
                problems: 3,
                first: vec!["line 2, column 3 (count): `4.5` is not a whole number".into()],
            }),
        ),
        transfer(
            3,
            1_800,
            Some(TransferResult::Loaded {
                rows: 2_000,
                changed: 1_200,
                alerts: 400,
                source_changed: false,
            }),
        ),
        transfer(4, 1_800, Some(TransferResult::Failed("the disk is full".into()))),
        transfer(5, 0, None),
    ];
    for (width, height, rows) in [(80, 30, 5), (60, 24, 4)] {
        let lines = screen(&app, width, height);
        let shown = lines.join("\n");
        // One line each, newest first; what does not fit is said.
        let uploads = pane_rows(&lines, "Uploads (5)");
        assert_eq!(uploads.len(), rows, "{shown}");
        if rows < 5 {
            assert!(shown.contains("↓ 1 more"), "{shown}");
        }
        let mut expected = vec![
            ("0%  0 B / 1.8 kB", "progress"),
            ("2,000 rows", "a load's rows"),
            ("400 alerts", "a load's alerts"),
            ("REJECTED, 3 problems", "a rejection"),
            ("cancelled", "a cancel"),
        ];
        expected.truncate(rows);
        for (whole, what) in expected {
            assert!(
                uploads.iter().any(|l| l.contains(whole)),
                "{what} whole on one line at {width}:\n{shown}"
            );
        }
        // The preview: the summary's numbers whole, CJK rows with their state.
        assert!(shown.contains("2,000 rows") && shown.contains("200 stores"), "{shown}");
        assert!(shown.contains("✗400 out"), "{shown}");
        let cjk = lines.iter().find(|l| l.contains("000") && l.contains('商')).unwrap();
        assert!(cjk.contains("OUT"), "the state column stays: {cjk:?}");
    }
}

#[test]
fn a_silent_relay_s_fresh_read_merges_and_a_hold_that_ends_is_drawn() {
    use stockwatch_domain::Timestamp;
    let mut app = chain_app();
    update(&mut app, Msg::Tick(Timestamp(1_000)));
    app.focus = Pane::Stores;
    press(&mut app, KeyCode::Char('j'));
    let (items, under_cursor) = (app.live_stock.totals().items, app.stores.selected().cloned());
    // The relay fell silent: the view is read again and merged, not wiped.
    update(&mut app, Msg::Refresh);
    assert_eq!(app.live_stock.totals().items, items, "nothing wiped while it is read");
    update(&mut app, Msg::Rows(vec![row("Berlin Mitte", "Nuevo artículo", 4)]));
    update(&mut app, Msg::SnapshotDone);
    update(&mut app, Msg::AlertsResync(Vec::new()));
    assert_eq!(
        app.live_stock.totals().items,
        items + 1,
        "what the relay missed is there"
    );
    assert_eq!(app.stores.selected().cloned(), under_cursor, "the cursor stays");
    let said = app.message.clone().unwrap_or_default();
    assert!(said.contains("read again") && !said.contains("lost"), "{said}");
    // The hold ends with a tick alone: the re-sorted list is drawn.
    app.dirty = false;
    update(&mut app, Msg::Tick(Timestamp(2_000)));
    assert!(!app.dirty, "a tick that changes nothing draws nothing");
    update(&mut app, Msg::Tick(Timestamp(40_000)));
    assert!(app.dirty, "the hold ended: drawn again");
}
