//! Console benchmark on the real state and render path: a local backend
//! holding 1,000,000 items in 10,000 stores, read the way the console reads
//! it (table scan in pages → `update` → `view` into a TestBackend).
//!
//!     cargo bench --bench console                 # 10,000 stores × 100 items
//!     cargo bench --bench console -- --stores 1000
//!
//! Reports: time to the first frame (backend opened, every row read and
//! applied, first frame drawn), frame time and key-to-screen time (update
//! plus draw) at p50/p99 over 2,000 key presses, and peak RSS.

mod common;
use common::{flag, percentile, write_inventory};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::{Duration, Instant};
use stockwatch_console::app::{App, Settings};
use stockwatch_console::clock::Clock;
use stockwatch_console::keymap::{DEFAULT, Keymap};
use stockwatch_console::messages::Msg;
use stockwatch_console::theme::Theme;
use stockwatch_console::update::update;
use stockwatch_console::view::view;
use stockwatch_core::live::LiveStock;
use stockwatch_core::ports::{Change, ChangeKind, Image, StockFilter};
use stockwatch_domain::{Thresholds, Timestamp};
use stockwatch_local::LocalBackend;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let stores = flag("--stores", 10_000);
    let items = flag("--items", 100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Setup, not measured: the data in a local backend, loaded by the real
    // binary in its own process so this one's peak memory is the console's.
    let csv = dir.path().join("big.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    write_inventory(&mut out, stores, items, |r| r % 60).unwrap();
    drop(out);
    let data = dir.path().join("data");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_stockwatch"))
        .args(["upload", "--no-check"])
        .arg(&csv)
        .env("STOCKWATCH_DATA_DIR", &data)
        .env("STOCKWATCH_LOG_DIR", dir.path().join("logs"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    eprintln!("loaded {} items in {stores} stores", stores * items);

    // 1. Start to first frame, as the console does it.
    let started = Instant::now();
    let mut app = runtime.block_on(async {
        let backend = LocalBackend::open(&data).unwrap().ports;
        let keymap = Keymap::load(("default", DEFAULT), None).unwrap();
        let mut app = App::new(
            LiveStock::new(Thresholds::new(3)),
            keymap,
            Settings::new(&backend.location, "-"),
            Clock::utc(Timestamp::now()),
        );
        let mut page = None;
        loop {
            let batch = backend
                .table
                .scan(&StockFilter::default(), page.as_ref(), 5000)
                .await
                .unwrap();
            update(&mut app, Msg::Rows(batch.items));
            match batch.next {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        update(&mut app, Msg::SnapshotDone);
        app
    });
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let theme = Theme { colour: true };
    terminal.draw(|frame| view(frame, &app, theme)).unwrap();
    let first_frame = started.elapsed();
    eprintln!("first frame after {:.2} s", first_frame.as_secs_f64());

    // 2. Key presses: move through stores, open them, sort, page, switch panes.
    let keys = [
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::PageDown,
        KeyCode::Enter,
        KeyCode::Char('s'),
        KeyCode::Char('j'),
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::Char('o'),
        KeyCode::PageDown,
        KeyCode::Esc,
        KeyCode::BackTab,
    ];
    let mut frames = Vec::new();
    let mut presses = Vec::new();
    for n in 0..2000 {
        let code = keys[n % keys.len()];
        let pressed = Instant::now();
        update(&mut app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        let drawing = Instant::now();
        terminal.draw(|frame| view(frame, &app, theme)).unwrap();
        frames.push(drawing.elapsed());
        presses.push(pressed.elapsed());
        // A change arriving now and then, as on a live system.
        if n % 50 == 0 {
            let store = format!("Store {:05}", n % stores);
            let change = Change {
                id: n.to_string(),
                kind: ChangeKind::Modify,
                store,
                item: "Item 000".into(),
                old: None,
                new: Some(Image {
                    count: (n % 7) as u32,
                    as_of: Timestamp::now(),
                    source: "live".into(),
                }),
                at: Timestamp::now(),
            };
            update(
                &mut app,
                Msg::Changes {
                    changes: vec![change],
                    seen_at: Timestamp::now(),
                },
            );
        }
    }
    frames.sort();
    presses.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| console, {} items in {stores} stores (160×48 TestBackend) | measured | target |",
        stores * items
    );
    println!("|---|---:|---:|");
    println!(
        "| start → first frame (read every row, apply, draw) | {:.2} s | < 2 s |",
        first_frame.as_secs_f64()
    );
    println!(
        "| frame render p50 / p99 | {:.2} / {:.2} ms | p99 < 10 ms |",
        ms(percentile(&frames, 0.5)),
        ms(percentile(&frames, 0.99))
    );
    println!(
        "| key press → screen (update + draw) p50 / p99 | {:.2} / {:.2} ms | < 50 ms |",
        ms(percentile(&presses, 0.5)),
        ms(percentile(&presses, 0.99))
    );
    println!("| peak RSS | {:.0} MB | < 400 MB |", peak_rss_mb());
}
