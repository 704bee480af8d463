use super::*;
use crate::messages::{Effect, Msg};
use crate::stock_pane::{Column, Sort};
use crate::test_support::{app_with, row};
use crate::theme::Theme;
use crate::update::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use stockwatch_core::ports::StockRow;
use stockwatch_domain::{Thresholds, Timestamp};

fn app(rows: Vec<StockRow>) -> App {
    app_with(rows, false)
}

fn samples() -> Vec<StockRow> {
    vec![
        row("Berlin", "Echo Dot", 12),
        row("Berlin", "Echo Plus", 0),
        row("Pusan", "Echo Show", 0),
        row("Pusan", "Amazon Tap", 3),
    ]
}

fn render(app: &App, width: u16, height: u16, colour: bool) -> Buffer {
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
    let app = app(samples());
    let buffer = render(&app, 80, 24, true);
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
    let app = app(samples());
    let buffer = render(&app, 100, 30, true);
    let (x, y) = find(&buffer, "Echo Show").expect("the out-of-stock row is shown");
    assert_eq!(buffer[(x, y)].fg, Color::Red);
    let (x, y) = find(&buffer, "Amazon Tap").unwrap();
    assert_eq!(buffer[(x, y)].fg, Color::Yellow);
    let plain = render(&app, 100, 30, false);
    let (x, y) = find(&plain, "Echo Show").unwrap();
    assert_eq!(plain[(x, y)].fg, Color::Reset, "NO_COLOR: no colour at all");
    assert!(
        text(&plain).contains("✗ OUT") && text(&plain).contains("▼ LOW"),
        "the states are words too"
    );
}

#[test]
fn text_from_the_backend_is_escaped() {
    let app = app(vec![row("Evil\u{1b}[2J", "Dot\u{7}", 0)]);
    let screen = text(&render(&app, 100, 24, true));
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
    let screen = text(&render(&app, 100, 60, true));
    assert!(screen.contains("acknowledge the selected alert"), "{screen}");
    assert!(screen.contains("/logs/stockwatch.log"));
    assert!(screen.contains("q, ctrl-c"));
}

#[test]
fn an_empty_backend_says_what_to_do() {
    let mut app = app(Vec::new());
    // At 80×24 and 60×15 the whole command shows, with this console's data
    // dir (another shell would otherwise upload elsewhere), and the key of
    // the file pane.
    for (width, height) in [(80, 24), (60, 15)] {
        let screen = text(&render(&app, width, height, true));
        // The text as read across the wrapped lines of each pane.
        let flat = screen
            .replace(['│', '\n'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("stockwatch upload --data-dir /data samples/*.csv"),
            "{screen}"
        );
        assert!(flat.contains("f previews and"), "{screen}");
    }
    app.settings.location = "local: /home/ana/my data".into();
    app.settings.read_only = true;
    let screen = text(&render(&app, 100, 30, true));
    assert!(
        screen.contains("--data-dir '/home/ana/my data' samples/*.csv"),
        "{screen}"
    );
    assert!(
        !screen.contains("previews and uploads"),
        "read-only: no file pane offered"
    );
}

#[test]
fn only_the_rows_that_fit_are_drawn_and_the_cursor_stays_visible() {
    let rows: Vec<StockRow> = (0..2000).map(|i| row("Big", &format!("item {i:04}"), 10 + i)).collect();
    let mut app = app(rows);
    update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    app.stock.sort = Sort {
        column: Column::Item,
        reversed: false,
    };
    for _ in 0..150 {
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)));
    }
    let screen = text(&render(&app, 80, 24, true));
    assert!(screen.contains("item 1500"), "{screen}");
    assert!(!screen.contains("item 0000"));
}

/// Snapshots of the real render path: text and styles, at the sizes ops
/// staff use, with and without colour.
mod snapshots {
    use super::*;
    use stockwatch_domain::{Acknowledgement, Alert, AlertKind, AlertState};

    fn alert(id: &str, store: &str, item: &str, kind: AlertKind, acked: bool) -> Alert {
        Alert {
            id: id.parse().unwrap(),
            transition: String::new(),
            change_id: format!("c{id}"),
            kind,
            store: store.into(),
            item: item.into(),
            count: if kind == AlertKind::Out { 0 } else { 3 },
            threshold: 3,
            as_of: Timestamp(1_795_000_000_000),
            source: "k".into(),
            raised_at: Timestamp(1_795_000_000_000),
            state: if acked {
                AlertState::Acknowledged
            } else {
                AlertState::Open
            },
            acknowledged: acked.then(|| Acknowledgement {
                by: "ana".into(),
                at: Timestamp(1_795_000_060_000),
                note: Some("truck at 4".into()),
            }),
            resolved_at: None,
            published_at: None,
            version: 1,
            reminders: 0,
        }
    }

    fn loaded() -> App {
        let mut rows = samples();
        rows.extend([
            row("Karachi", "Echo Plus", 0),
            row("Karachi", "Echo Dot", 19),
            row("Calcutta", "Echo Look", 3),
        ]);
        let mut app = app(rows);
        update(
            &mut app,
            Msg::Alerts(vec![
                alert("1", "Berlin", "Echo Plus", AlertKind::Out, true),
                alert("2", "Pusan", "Echo Show", AlertKind::Out, false),
                alert("3", "Pusan", "Amazon Tap", AlertKind::Low, false),
                alert("4", "Karachi", "Echo Plus", AlertKind::Out, false),
            ]),
        );
        app
    }

    fn key(app: &mut App, code: KeyCode) {
        update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    fn check(name: &str, app: &App) {
        for (width, height) in [(80, 24), (60, 15), (160, 48)] {
            for colour in [true, false] {
                let buffer = render(app, width, height, colour);
                let suffix = if colour { "colour" } else { "no_color" };
                insta::assert_debug_snapshot!(format!("{name}_{width}x{height}_{suffix}"), buffer);
            }
        }
    }

    #[test]
    fn main_view() {
        check("main", &loaded());
    }

    #[test]
    fn out_view() {
        let mut app = loaded();
        key(&mut app, KeyCode::Char('o'));
        check("out", &app);
    }

    #[test]
    fn alerts_focused() {
        let mut app = loaded();
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Char('j'));
        check("alerts", &app);
    }

    #[test]
    fn help_overlay() {
        let mut app = loaded();
        key(&mut app, KeyCode::Char('?'));
        check("help", &app);
    }

    #[test]
    fn confirm_acknowledge_all() {
        let mut app = loaded();
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Tab);
        update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT)),
        );
        check("confirm", &app);
    }

    #[test]
    fn empty_backend() {
        check("empty", &app(Vec::new()));
    }
}

mod files_snapshots {
    use super::*;
    use crate::files::listing::list_dir;
    use stockwatch_domain::preview::Previewer;

    #[test]
    fn the_file_pane_previewing_an_invalid_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/invalid");
        let mut app = app(samples());
        app.files.dir = dir.clone();
        let opened = update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE)),
        );
        let [Effect::List { ticket, .. }] = opened.as_slice() else {
            panic!("{opened:?}")
        };
        let mut listing = list_dir(&dir);
        listing.dir = "/samples/invalid".into(); // the snapshot must not depend on the checkout's path
        let ticket = ticket.clone();
        update(&mut app, Msg::Listed { listing, ticket });
        let path = dir.join("bad-counts.csv");
        let preview = Previewer::new(std::fs::File::open(&path).unwrap(), Thresholds::new(3), 50).run();
        app.files.preview = Some((path, preview));
        for (width, height) in [(80, 24), (60, 15), (160, 48)] {
            let buffer = render(&app, width, height, true);
            insta::assert_debug_snapshot!(format!("files_invalid_{width}x{height}"), buffer);
        }
        let screen = text(&render(&app, 160, 48, false));
        assert!(screen.contains("would be rejected: 5 errors"), "{screen}");
        assert!(screen.contains("line 2, column 3 (count): `4.5` is not a whole number"));
    }
}

/// Trends, days left, the soon view and the detail chart, from histories
/// the runtime read (the effect asked for them) and the rows' counts.
mod forecasts {
    use super::*;
    use crate::test_support::{alert, press, typed};

    use stockwatch_core::ports::HistoryPoint;
    use stockwatch_domain::forecast::DAY_MS;
    use stockwatch_domain::{Alert, AlertKind, AlertState};

    const NOW: i64 = 20 * DAY_MS;

    fn stock_row(store: &str, item: &str, count: u32) -> StockRow {
        StockRow {
            as_of: Timestamp(NOW),
            updated_at: Timestamp(NOW),
            ..row(store, item, count)
        }
    }

    /// Berlin: Echo Dot sold 2 a day for two weeks (12 left: 6 days), Echo
    /// Show never sold; Pusan: Amazon Tap, 1 a day (5 left).
    fn with_history() -> App {
        let mut app = app(vec![
            stock_row("Berlin", "Echo Dot", 12),
            stock_row("Berlin", "Echo Show", 40),
            stock_row("Pusan", "Amazon Tap", 5),
        ]);
        update(&mut app, Msg::Tick(Timestamp(NOW)));
        press(&mut app, KeyCode::Char(':'));
        typed(&mut app, "store Berlin");
        press(&mut app, KeyCode::Enter);
        // The store shown had its items' histories asked for (an effect the
        // runtime reads them for): asking again finds nothing new.
        let again = app
            .item_history
            .to_read([("Berlin", "Echo Dot"), ("Berlin", "Echo Show")].into_iter());
        assert!(again.is_empty(), "{again:?}");
        let points = |start: u32, per_day: u32| -> Vec<HistoryPoint> {
            (0..14)
                .map(|d| HistoryPoint {
                    as_of: Timestamp(NOW - (14 - d) * DAY_MS),
                    count: start - per_day * d as u32,
                    source: "day.csv".into(),
                })
                .collect()
        };
        update(
            &mut app,
            Msg::History(vec![
                (("Berlin".into(), "Echo Dot".into()), points(40, 2)),
                (("Berlin".into(), "Echo Show".into()), vec![]),
                (("Pusan".into(), "Amazon Tap".into()), points(19, 1)),
            ]),
        );
        app
    }

    #[test]
    fn a_stores_items_show_their_trend_and_days_left_and_sort_by_them() {
        let mut app = with_history();
        let wide = text(&render(&app, 160, 48, false));
        assert!(wide.contains("TREND") && wide.contains("DAYS LEFT"), "{wide}");
        let dot = wide.lines().find(|l| l.contains("Echo Dot")).unwrap();
        assert!(dot.contains(" 6.0 "), "{dot}");
        // Fourteen days falling: blocks from the highest to the lowest, never up.
        let blocks = "▁▂▃▄▅▆▇█";
        let trend: Vec<usize> = dot.chars().filter_map(|c| blocks.find(c)).collect();
        assert_eq!(trend.len(), 14, "{dot}");
        assert!(trend.windows(2).all(|w| w[0] >= w[1]) && trend[0] > trend[13], "{dot}");
        let show = wide.lines().find(|l| l.contains("Echo Show")).unwrap();
        assert!(show.contains(" - "), "no sales, no forecast: {show}");
        // At 80×24 the trend gives way; names and counts stay whole.
        let small = text(&render(&app, 80, 24, false));
        assert!(!small.contains("TREND") && small.contains("Echo Dot") && small.contains("Echo Show"));
        // Sorted by days left, the soonest first, no forecast last.
        while app.stock.sort.column != Column::DaysLeft {
            press(&mut app, KeyCode::Char('s'));
        }
        let items: Vec<&str> = app.stock.rows().iter().map(|r| r.item.as_str()).collect();
        assert_eq!(items, ["Echo Dot", "Echo Show"]);
    }

    #[test]
    fn the_soon_view_lists_items_with_open_soon_alerts_across_stores_soonest_first() {
        let mut app = with_history();
        let soon = |id: &str, store: &str, item: &str| Alert {
            kind: AlertKind::Soon,
            ..alert(id, store, item, AlertState::Open)
        };
        update(
            &mut app,
            Msg::Alerts(vec![soon("1", "Berlin", "Echo Dot"), soon("2", "Pusan", "Amazon Tap")]),
        );
        press(&mut app, KeyCode::Char('r'));
        let screen = text(&render(&app, 160, 48, false));
        assert!(screen.contains("Runs out soon, every store (2)"), "{screen}");
        let rows: Vec<(&str, Option<f64>)> = app
            .stock
            .rows()
            .iter()
            .map(|r| (r.store.as_str(), r.days_left))
            .collect();
        assert_eq!(rows, [("Pusan", Some(5.0)), ("Berlin", Some(6.0))]);
    }

    #[test]
    fn the_detail_view_draws_the_history_and_the_forecast_line() {
        let mut app = with_history();
        press(&mut app, KeyCode::Enter); // the first row: Echo Dot
        let screen = text(&render(&app, 100, 40, false));
        assert!(screen.contains("Forecast sells 2.0 a day: 6.0 days left"), "{screen}");
        assert!(
            screen.contains("last 14 days · forecast") && screen.contains("now"),
            "{screen}"
        );
        let braille = screen.chars().filter(|c| ('\u{2801}'..='\u{28ff}').contains(c)).count();
        let dots = screen.matches('•').count();
        assert!(
            braille > 10 && dots > 5,
            "the history ({braille}) and the forecast ({dots}):\n{screen}"
        );
        // Too short a terminal for the chart: the words stay.
        let short = text(&render(&app, 100, 20, false));
        assert!(
            short.contains("6.0 days left") && !short.contains("last 14 days"),
            "{short}"
        );
    }
}
