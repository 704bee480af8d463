//! Large files in the console: a generated 100 MB CSV previewed, uploaded
//! and loaded into a local backend while the console's loop keeps taking
//! key presses, all through the real code (Previewer, Loader with its
//! progress callback, update and view into a TestBackend).
//!
//!     cargo bench --bench files
//!     cargo bench --bench files -- --megabytes 20
//!
//! Reports: time to the first preview rows and to the full check, the
//! progress updates of the upload (how many, longest gap), and the time
//! from a key press to the end of its frame while all of that runs, p50/p99.

mod common;
use common::{flag, percentile};

use bytes::Bytes;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stockwatch_console::app::{App, Settings};
use stockwatch_console::clock::Clock;
use stockwatch_console::keymap::{DEFAULT, Keymap};
use stockwatch_console::messages::Msg;
use stockwatch_console::theme::Theme;
use stockwatch_console::update::update;
use stockwatch_console::view::view;
use stockwatch_core::live::LiveStock;
use stockwatch_core::pipeline::Loader;
use stockwatch_domain::preview::Previewer;
use stockwatch_domain::{Thresholds, Timestamp};
use stockwatch_local::LocalBackend;

fn main() {
    let megabytes = flag("--megabytes", 100);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory-huge.csv");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "store,item,count").unwrap();
        let (mut written, mut n) = (0usize, 0usize);
        while written < megabytes * 1_000_000 {
            let line = format!("Store {:06},Item {:03},{}\n", n / 100, n % 100, (n * 7) % 60);
            written += line.len();
            out.write_all(line.as_bytes()).unwrap();
            n += 1;
        }
    }
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!("generated {:.0} MB", size as f64 / 1e6);

    // 1. Preview: the first rows, then the whole file, as the console does.
    let started = Instant::now();
    let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let mut previewer = Previewer::new(file, Thresholds::new(3), 200);
    previewer.step(201);
    let first_rows = started.elapsed();
    while previewer.step(100_000) {}
    let full_check = started.elapsed();
    let rows = previewer.preview().summary.rows;
    eprintln!(
        "preview: first rows after {:.1} ms, {rows} rows checked after {:.2} s",
        ms(first_rows),
        full_check.as_secs_f64()
    );

    // 2. The upload and the console loop at once.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (progress_events, latencies) = runtime.block_on(async {
        let backend = LocalBackend::open(&dir.path().join("data")).unwrap().ports;
        let keymap = Keymap::load(("default", DEFAULT), None).unwrap();
        let mut app = App::new(
            LiveStock::new(Thresholds::new(3)),
            keymap,
            Settings::new("bench", "-"),
            Clock::utc(Timestamp::now()),
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
        let sent_at: Arc<Mutex<VecDeque<Instant>>> = Arc::default();
        let progress: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();

        // The upload, reporting progress like the console's.
        let body = Bytes::from(std::fs::read(&path).unwrap());
        let loader = Loader::new(backend.clone());
        let (events, tx_upload) = (progress.clone(), tx.clone());
        let report: stockwatch_core::ports::Progress = Arc::new(move |sent, total| {
            events.lock().unwrap().push((Instant::now(), sent));
            let _ = tx_upload.send(Msg::TransferProgress { id: 1, sent, total });
        });
        let upload = tokio::spawn(async move { loader.upload("inventory-huge.csv", body, None, Some(report)).await });

        // A preview of the same file in the background, as on selection.
        let preview_path = path.clone();
        let preview = tokio::task::spawn_blocking(move || {
            let file = std::io::BufReader::new(std::fs::File::open(preview_path).unwrap());
            Previewer::new(file, Thresholds::new(3), 200).run()
        });

        // Key presses every 20 ms, stamped when sent.
        let (keys_tx, stamps) = (tx.clone(), sent_at.clone());
        let keys = tokio::spawn(async move {
            let codes = [KeyCode::Char('j'), KeyCode::Char('k'), KeyCode::Tab, KeyCode::BackTab];
            for n in 0.. {
                tokio::time::sleep(Duration::from_millis(20)).await;
                stamps.lock().unwrap().push_back(Instant::now());
                if keys_tx
                    .send(Msg::Key(KeyEvent::new(codes[n % codes.len()], KeyModifiers::NONE)))
                    .is_err()
                {
                    return;
                }
            }
        });

        // The console's loop: apply what is waiting, draw, measure keys.
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
        let theme = Theme { colour: true };
        let mut latencies = Vec::new();
        while !upload.is_finished() || !preview.is_finished() {
            let Ok(Some(first)) = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await else {
                continue;
            };
            let mut pending = vec![first];
            while let Ok(more) = rx.try_recv() {
                pending.push(more);
            }
            let key_count = pending.iter().filter(|m| matches!(m, Msg::Key(_))).count();
            for msg in pending {
                update(&mut app, msg);
            }
            terminal.draw(|frame| view(frame, &app, theme)).unwrap();
            for _ in 0..key_count {
                if let Some(at) = sent_at.lock().unwrap().pop_front() {
                    latencies.push(at.elapsed());
                }
            }
        }
        keys.abort();
        let outcome = upload.await.unwrap().unwrap();
        assert!(outcome.is_loaded(), "{:?}", outcome.report.failure);
        preview.await.unwrap();
        let events = progress.lock().unwrap().clone();
        (events, latencies)
    });

    let gaps: Vec<Duration> = progress_events.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let longest_gap = gaps.iter().max().copied().unwrap_or_default();
    let mut latencies = latencies;
    latencies.sort();
    println!("| {:.0} MB CSV ({rows} rows) | measured | target |", size as f64 / 1e6);
    println!("|---|---:|---:|");
    println!("| preview: first rows shown | {:.1} ms | at once |", ms(first_rows));
    println!(
        "| preview: whole file checked (in the background) | {:.2} s | |",
        full_check.as_secs_f64()
    );
    println!(
        "| upload progress updates / longest gap between them | {} / {:.1} ms | smooth |",
        progress_events.len(),
        ms(longest_gap)
    );
    println!(
        "| key press → frame while previewing, uploading and loading, p50 / p99 ({} presses) | {:.1} / {:.1} ms | < 50 ms |",
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
