//! Does `watch --json` keep up with a burst of alerts? A follower (the real
//! release binary, `watch --json --no-checker`) runs while another process
//! uploads a file whose every row is out of stock and raises all its alerts;
//! each `raised` line is timed when the follower prints it. Reported: alerts
//! raised per second (by their raise times), alerts seen per second, and the
//! lag from raised to seen.
//!
//! `cargo bench --bench watch [-- --alerts 100000]`

#[path = "common/mod.rs"]
mod common;

use common::{flag, percentile};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn main() {
    let alerts = flag("--alerts", 100_000);
    let stores = 100;
    let items = alerts.div_ceil(stores);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("everything-out.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    common::write_inventory(&mut out, stores, items, |_| 0).unwrap();
    drop(out);
    let total = stores * items;
    let bin = env!("CARGO_BIN_EXE_stockwatch");
    let command = || {
        let mut cmd = Command::new(bin);
        cmd.env("STOCKWATCH_DATA_DIR", dir.path().join("data"))
            .env("STOCKWATCH_LOG_DIR", dir.path().join("logs"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"));
        cmd
    };
    assert!(command().arg("provision").output().unwrap().status.success());
    let mut watch = command()
        .args(["watch", "--json", "--no-checker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    // (raised at, seen at) of each alert, in ms since the epoch.
    let follower = std::thread::spawn(move || {
        let mut seen = Vec::with_capacity(total);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let at = now_ms();
            if !line.contains("\"raised\"") {
                continue;
            }
            let event: serde_json::Value = serde_json::from_str(&line).unwrap();
            let raised = event["alert"]["raised_at"].as_str().unwrap();
            let raised = time::OffsetDateTime::parse(raised, &time::format_description::well_known::Rfc3339).unwrap();
            seen.push(((raised.unix_timestamp_nanos() / 1_000_000) as i64, at));
            if seen.len() == total {
                break;
            }
        }
        seen
    });
    std::thread::sleep(Duration::from_millis(500));
    println!("uploading {total} rows, every one out of stock: {total} alerts to raise");
    let upload = command().arg("upload").arg(&file).output().unwrap();
    assert!(upload.status.success(), "{}", String::from_utf8_lossy(&upload.stderr));
    let waited = std::time::Instant::now();
    while !follower.is_finished() && waited.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = watch.kill();
    let _ = watch.wait();
    let seen = follower.join().unwrap();
    assert_eq!(seen.len(), total, "the follower missed alerts");
    let span = |times: &mut Vec<i64>| {
        times.sort_unstable();
        (times[times.len() - 1] - times[0]).max(1) as f64 / 1000.0
    };
    let raised_span = span(&mut seen.iter().map(|s| s.0).collect());
    let seen_span = span(&mut seen.iter().map(|s| s.1).collect());
    let mut lags: Vec<Duration> = seen
        .iter()
        .map(|(raised, at)| Duration::from_millis((at - raised).max(0) as u64))
        .collect();
    lags.sort_unstable();
    println!("| watch --json, {total} alerts raised by one upload | measured | target |");
    println!("|---|---:|---:|");
    println!(
        "| alerts raised per second (by raise time) | {:.0} | ≥ 5000 |",
        total as f64 / raised_span
    );
    println!(
        "| alerts seen per second by the follower | {:.0} | keeps up |",
        total as f64 / seen_span
    );
    println!(
        "| lag raised → seen p50 / p99 / max | {:.2} / {:.2} / {:.2} s | < 2 s |",
        percentile(&lags, 0.5).as_secs_f64(),
        percentile(&lags, 0.99).as_secs_f64(),
        lags[lags.len() - 1].as_secs_f64()
    );
}
