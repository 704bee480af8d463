//! Load benchmark: a generated 1,000,000-row file (10,000 stores × 100
//! items) loaded end to end by the real binary into an empty local backend
//! (parse, validate, write, change log), beside the same file imported into
//! a plain table by the sqlite3 shell's `.import` as the floor, and into a
//! table keyed (store, item) as ours is (the keyed floor).
//!
//!     cargo bench --bench load                      # 3 runs, medians
//!     cargo bench --bench load -- --stores 1000 --runs 5
//!
//! Prints a Markdown table for BENCHMARKS.md.

mod common;
use common::write_inventory;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Options {
    stores: usize,
    items: usize,
    runs: usize,
}

fn options() -> Options {
    let mut o = Options {
        stores: 10_000,
        items: 100,
        runs: 3,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = || {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .expect("a number after the flag")
        };
        match args[i].as_str() {
            "--stores" => o.stores = value(),
            "--items" => o.items = value(),
            "--runs" => o.runs = value(),
            _ => {} // cargo passes --bench
        }
        i += if args[i].starts_with("--") && args[i] != "--bench" {
            2
        } else {
            1
        };
    }
    o
}

fn generate(path: &Path, o: &Options) -> u64 {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    // About 2% out of stock, some low, most in stock.
    write_inventory(&mut out, o.stores, o.items, |r| match r % 100 {
        0 | 1 => 0,
        2..=6 => r % 4,
        _ => 4 + r % 200,
    })
    .unwrap();
    (o.stores * o.items) as u64
}

/// Runs a command, returning its wall time and peak resident memory (from
/// wait4, so it is this child's own figure).
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which std cannot see
fn measure(cmd: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let child = cmd.spawn().expect("the command starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child's pid with valid out-pointers.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed with status {status}"
    );
    (elapsed, usage.ru_maxrss as u64 * 1024)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let _ = std::fs::remove_dir_all(&path);
    let _ = std::fs::remove_file(&path);
    path
}

fn main() {
    let o = options();
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("inventory-big.csv");
    let rows = generate(&csv, &o);
    let size = std::fs::metadata(&csv).unwrap().len();
    eprintln!(
        "generated {rows} rows ({:.1} MB) in {}",
        size as f64 / 1e6,
        csv.display()
    );

    let bin = env!("CARGO_BIN_EXE_stockwatch");
    let upload = |args: &[&str], what: &str| {
        let (mut times, mut peak) = (Vec::new(), 0);
        for run in 0..o.runs {
            let data = fresh(tmp.path(), "data");
            let (t, rss) = measure(
                Command::new(bin)
                    .args(args)
                    .arg(&csv)
                    .env("STOCKWATCH_DATA_DIR", &data)
                    .env("STOCKWATCH_LOG_DIR", tmp.path().join("logs"))
                    .env("XDG_CONFIG_HOME", tmp.path().join("config"))
                    .stdout(std::process::Stdio::null()),
            );
            eprintln!(
                "stockwatch {what} run {}: {:.2} s, peak {:.0} MB",
                run + 1,
                t.as_secs_f64(),
                rss as f64 / 1e6
            );
            times.push(t);
            peak = peak.max(rss);
        }
        (median(times), peak)
    };
    let (ours, peak) = upload(&["upload", "--no-check"], "upload --no-check");
    // The loaded database, for the check's floor below.
    let loaded = tmp.path().join("loaded.db");
    std::fs::copy(tmp.path().join("data/stockwatch.db"), &loaded).unwrap();
    let (checked, checked_peak) = upload(&["upload"], "upload");

    // The floors: the sqlite3 shell's `.import` into a plain table, and
    // into one keyed as ours is (store, item), WITHOUT ROWID.
    let has_sqlite3 = Command::new("sqlite3").arg("-version").output().is_ok();
    let floor = |name: &str, sql: &[&str]| {
        let mut times = Vec::new();
        for run in 0..o.runs {
            let db = fresh(tmp.path(), &format!("{name}.db"));
            let mut shell = Command::new("sqlite3");
            shell.arg(&db).arg(".mode csv").args(sql);
            let (t, _) = measure(shell.stdout(std::process::Stdio::null()));
            eprintln!("sqlite3 .import ({name}) run {}: {:.2} s", run + 1, t.as_secs_f64());
            times.push(t);
        }
        median(times)
    };
    let plain = format!(".import '{}' inventory", csv.display());
    let keyed = format!(".import --skip 1 '{}' inventory", csv.display());
    const KEYED: &str =
        "CREATE TABLE inventory (store TEXT, item TEXT, count INTEGER, PRIMARY KEY (store, item)) WITHOUT ROWID;";
    const CHANGES_TABLE: &str = "CREATE TABLE changes (id INTEGER PRIMARY KEY AUTOINCREMENT, store TEXT, item TEXT,
         new_count INTEGER, new_as_of INTEGER, new_source INTEGER);";
    const CHANGES_ROWS: &str = "INSERT INTO changes (store, item, new_count, new_as_of, new_source)
         SELECT store, item, count, 1, 1 FROM inventory;";
    // The history's index (migration 8), there before the rows go in, as the loader meets it.
    const HISTORY_INDEX: &str =
        "CREATE INDEX changes_day ON changes (new_as_of / 86400000, store, item, new_as_of, new_count, new_source)
         WHERE new_count IS NOT NULL;";
    // The check's floor: what its ledger must write, as one statement of
    // the sqlite3 shell on the loaded database: every change read, an
    // alert row (all six indexes) per OUT or LOW count, OUT ones marked sent.
    const CHECK: &str = "BEGIN;
        INSERT INTO alerts (change_id, kind, store, item, count, threshold, as_of, source, raised_at, state,
            notify, claim_token, claimed_at, rev, transition)
        SELECT id, IIF(new_count = 0, 'OUT', 'LOW'), store, item, new_count, 3, new_as_of, 'k', 0, 'open',
            new_count = 0, 't', 0, 1, json_array(store, item, new_as_of) || '#' || IIF(new_count = 0, 'OUT', 'LOW')
        FROM changes WHERE new_count <= 3;
        UPDATE alerts SET published_at = 1 WHERE notify = 1;
        COMMIT;";
    let check_floor = |runs: usize| {
        let mut times = Vec::new();
        for run in 0..runs {
            let db = fresh(tmp.path(), "check.db");
            std::fs::copy(&loaded, &db).unwrap();
            let (t, _) = measure(Command::new("sqlite3").arg(&db).arg(CHECK));
            eprintln!("sqlite3 check floor run {}: {:.2} s", run + 1, t.as_secs_f64());
            times.push(t);
        }
        median(times)
    };
    let floors = if has_sqlite3 {
        Some((
            floor("plain", &[&plain]),
            floor("keyed", &[KEYED, &keyed]),
            floor(
                "keyed+changes",
                &["BEGIN;", KEYED, &keyed, CHANGES_TABLE, CHANGES_ROWS, "COMMIT;"],
            ),
            floor(
                "keyed+changes+history",
                &[
                    "BEGIN;",
                    KEYED,
                    &keyed,
                    CHANGES_TABLE,
                    HISTORY_INDEX,
                    CHANGES_ROWS,
                    "COMMIT;",
                ],
            ),
            check_floor(o.runs),
        ))
    } else {
        eprintln!("sqlite3 is not installed (apt-get install sqlite3): no floor measured");
        None
    };

    let rate = |t: Duration| rows as f64 / t.as_secs_f64();
    println!("| loader | rows | median time | rows/s | peak RSS |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| stockwatch upload (parse, validate, upsert, change log) | {rows} | {:.2} s | {:.0} | {:.0} MB |",
        ours.as_secs_f64(),
        rate(ours),
        peak as f64 / 1e6
    );
    println!(
        "| stockwatch upload, checking (the default: and every alert claimed, messages sent) | {rows} | {:.2} s | {:.0} | {:.0} MB |",
        checked.as_secs_f64(),
        rate(checked),
        checked_peak as f64 / 1e6
    );
    if let Some((plain, keyed, with_changes, with_history, check)) = floors {
        for (what, t) in [
            ("sqlite3 `.import` into a plain table (floor)", plain),
            (
                "sqlite3 `.import` into a table keyed (store, item), WITHOUT ROWID (keyed floor)",
                keyed,
            ),
            (
                "the keyed floor plus one change record per row, one transaction (keyed floor with change log)",
                with_changes,
            ),
            (
                "that plus the history's index on the change log (keyed floor with change log and history)",
                with_history,
            ),
        ] {
            println!("| {what} | {rows} | {:.2} s | {:.0} | |", t.as_secs_f64(), rate(t));
        }
        println!(
            "\nupload --no-check takes {:.2}× the plain floor's time, {:.2}× the keyed floor's, {:.2}× the keyed floor's with a change log, {:.2}× that with the history's index.",
            ours.as_secs_f64() / plain.as_secs_f64(),
            ours.as_secs_f64() / keyed.as_secs_f64(),
            ours.as_secs_f64() / with_changes.as_secs_f64(),
            ours.as_secs_f64() / with_history.as_secs_f64()
        );
        println!(
            "The check's floor (its ledger's writes as one sqlite3 statement on the loaded database): {:.2} s; \
             upload --no-check plus that floor would take {:.2}× upload --no-check.",
            check.as_secs_f64(),
            (ours + check).as_secs_f64() / ours.as_secs_f64()
        );
    }
    println!(
        "upload (checking) takes {:.2}× the time of upload --no-check.",
        checked.as_secs_f64() / ours.as_secs_f64()
    );
}
