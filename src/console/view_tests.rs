use super::*;
use crate::console::app::{Msg, update};
use crate::console::inventory::Inventory;
use crate::console::keymap::{DEFAULT, Keymap};
use crate::domain::{Thresholds, Timestamp};
use crate::ports::StockRow;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn row(store: &str, item: &str, count: u32) -> StockRow {
    StockRow {
        store: store.into(),
        item: item.into(),
        count,
        as_of: Timestamp(1),
        updated_at: Timestamp(1),
        source: "k".into(),
    }
}

fn app(rows: Vec<StockRow>) -> App {
    let keymap = Keymap::load(("default", DEFAULT), None).unwrap();
    let mut app = App::new(
        Inventory::new(Thresholds::new(3)),
        keymap,
        false,
        "local: /data".into(),
        "/logs/stockwatch.log".into(),
    );
    update(&mut app, Msg::Rows(rows));
    update(&mut app, Msg::SnapshotDone);
    app
}

fn samples() -> Vec<StockRow> {
    vec![
        row("Berlin", "Echo Dot", 12),
        row("Berlin", "Echo Plus", 0),
        row("Pusan", "Echo Show", 0),
        row("Pusan", "Amazon Tap", 3),
    ]
}

fn render(app: &mut App, width: u16, height: u16, colour: bool) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view(frame, app, Theme { colour })).unwrap();
    terminal.backend().buffer().clone()
}

fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    (0..area.height)
        .map(|y| (0..area.width).map(|x| buffer[(x, y)].symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The cell where `needle` starts on screen.
fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let area = buffer.area;
    for y in 0..area.height {
        let line: Vec<&str> = (0..area.width).map(|x| buffer[(x, y)].symbol()).collect();
        let joined: String = line.concat();
        if let Some(byte) = joined.find(needle) {
            let column = joined[..byte].chars().count() as u16;
            return Some((column, y));
        }
    }
    None
}

#[test]
fn every_pane_fits_at_80_by_24() {
    let mut app = app(samples());
    let buffer = render(&mut app, 80, 24, true);
    let screen = text(&buffer);
    for expected in [
        "Stores (2)",
        "Pusan (2 items)",
        "Alerts (0 open",
        "✗ OUT",
        "local: /data",
        "? help",
    ] {
        assert!(screen.contains(expected), "missing {expected:?} in\n{screen}");
    }
}

#[test]
fn out_of_stock_rows_are_red_and_still_marked_without_colour() {
    let mut app = app(samples());
    let buffer = render(&mut app, 100, 30, true);
    let (x, y) = find(&buffer, "Echo Show").expect("the out-of-stock row is shown");
    assert_eq!(buffer[(x, y)].fg, Color::Red);
    let (x, y) = find(&buffer, "Amazon Tap").unwrap();
    assert_eq!(buffer[(x, y)].fg, Color::Yellow);
    let plain = render(&mut app, 100, 30, false);
    let (x, y) = find(&plain, "Echo Show").unwrap();
    assert_eq!(plain[(x, y)].fg, Color::Reset, "NO_COLOR: no colour at all");
    assert!(
        text(&plain).contains("✗ OUT") && text(&plain).contains("▼ LOW"),
        "the states are words too"
    );
}

#[test]
fn text_from_the_backend_is_escaped() {
    let mut app = app(vec![row("Evil\u{1b}[2J", "Dot\u{7}", 0)]);
    let screen = text(&render(&mut app, 100, 24, true));
    assert!(screen.contains("Evil\\u{1b}[2J"), "{screen}");
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}'));
}

#[test]
fn the_help_overlay_comes_from_the_keymap_and_names_the_log_file() {
    let mut app = app(samples());
    update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)),
    );
    let screen = text(&render(&mut app, 100, 40, true));
    assert!(screen.contains("acknowledge the selected alert"), "{screen}");
    assert!(screen.contains("/logs/stockwatch.log"));
    assert!(screen.contains("q, ctrl-c"));
}

#[test]
fn an_empty_backend_says_what_to_do() {
    let mut app = app(Vec::new());
    let screen = text(&render(&mut app, 80, 24, true));
    assert!(screen.contains("stockwatch upload samples/*.csv"), "{screen}");
}

#[test]
fn only_the_rows_that_fit_are_drawn_and_the_cursor_stays_visible() {
    let rows: Vec<StockRow> = (0..2000).map(|i| row("Big", &format!("item {i:04}"), 10 + i)).collect();
    let mut app = app(rows);
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    app.sort = (crate::console::app::Column::Item, false);
    for _ in 0..150 {
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)));
    }
    let screen = text(&render(&mut app, 80, 24, true));
    assert!(screen.contains("item 1500"), "{screen}");
    assert!(!screen.contains("item 0000"));
}
