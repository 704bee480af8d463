//! Back-test of the stock-out forecast on synthetic histories whose sales
//! are known: for each kind of history, items sell from a random stock
//! until they run out; each is forecast from the snapshots uploaded up to
//! seven days before its true run-out (the 7-day horizon), and the error
//! is the predicted run-out time's distance from the true one, in days.
//!
//! With `--scale`, forecasting at scale instead: 10,000 stores × 100 items
//! given two weeks of daily snapshots (14 files loaded with `upload
//! --spread 1d --no-check` into a fresh data dir), then the real binary's
//! `stock --soon --json`, which forecasts every item from its history,
//! timed with its peak memory (medians of `--runs`).
//!
//! ```text
//! cargo bench --bench forecast                    # 2,000 items per kind
//! cargo bench --bench forecast -- --items 10000 --horizon 3
//! cargo bench --bench forecast -- --scale --stores 10000 --runs 3
//! ```

mod common;
use common::flag;
use stockwatch_domain::Timestamp;
use stockwatch_domain::forecast::{DAY_MS, DEFAULT_WINDOW_MS, Point, forecast};

/// A seeded xorshift: the same histories every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Poisson-distributed with mean `mean` (Knuth's method, for small means;
    /// a normal approximation above 30).
    fn poisson(&mut self, mean: f64) -> f64 {
        if mean > 30.0 {
            let (u, v) = (self.unit().max(1e-12), self.unit());
            let normal = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            return (mean + normal * mean.sqrt()).round().max(0.0);
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0.0, 1.0);
        loop {
            p *= self.unit();
            if p <= limit {
                return k;
            }
            k += 1.0;
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Steady,
    Weekly,
    Noisy,
    Restocked,
    MissedUploads,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Steady => "steady: the same sales every day",
            Kind::Weekly => "weekly season: weekends sell 2× weekdays",
            Kind::Noisy => "noisy: Poisson sales around the mean",
            Kind::Restocked => "noisy, restocked once in the last two weeks",
            Kind::MissedUploads => "noisy, 30% of uploads missed, times ±6 h",
        }
    }
}

/// One item's true sales: units sold on each day from day 0.
fn daily_sales(kind: Kind, mean: f64, days: usize, rng: &mut Rng) -> Vec<f64> {
    (0..days)
        .map(|d| match kind {
            Kind::Steady => mean,
            // Weekends twice weekdays, the week's mean still `mean`.
            Kind::Weekly => {
                if d % 7 >= 5 {
                    mean * 14.0 / 9.0
                } else {
                    mean * 7.0 / 9.0
                }
            }
            Kind::Noisy | Kind::Restocked | Kind::MissedUploads => rng.poisson(mean),
        })
        .collect()
}

/// Units sold by time `t` (days, fractional), sales spread evenly over each day.
fn sold_by(sales: &[f64], t: f64) -> f64 {
    let whole = (t.floor() as usize).min(sales.len());
    let mut sold: f64 = sales[..whole].iter().sum();
    if whole < sales.len() {
        sold += sales[whole] * (t - t.floor());
    }
    sold
}

/// When cumulative sales reach `stock` (days).
fn runs_out(sales: &[f64], stock: f64) -> Option<f64> {
    let mut sold = 0.0;
    for (d, &s) in sales.iter().enumerate() {
        if sold + s >= stock && s > 0.0 {
            return Some(d as f64 + (stock - sold) / s);
        }
        sold += s;
    }
    None
}

/// The forecast's error for one synthetic item, in days; `None` when the
/// item gives no test (it never runs out in the simulated span).
fn one_item(kind: Kind, horizon: f64, rng: &mut Rng) -> Option<f64> {
    let mean = 3.0 + rng.unit() * 47.0; // 3 to 50 units a day
    let days = 90;
    let sales = daily_sales(kind, mean, days, rng);
    // Stock for 20 to 40 days; a restock adds 10 to 20 days' worth.
    let stock = mean * (20.0 + rng.unit() * 20.0);
    let restock = (kind == Kind::Restocked).then(|| mean * (10.0 + rng.unit() * 10.0));
    // The restock lands 3 to 12 days before the forecast (or before the first
    // stock runs out): the run-out with it, then where it goes.
    let total = stock + restock.unwrap_or(0.0);
    let out = runs_out(&sales, total)?;
    let at = out - horizon;
    if at < 15.0 {
        return None; // less than two weeks of history
    }
    // Before the first stock ran out (sales are not lost to an empty shelf).
    let first_out = runs_out(&sales, stock).unwrap_or(f64::MAX);
    let restock_day = restock.map(|_| (at - 3.0 - rng.unit() * 9.0).min(first_out - 1.0));
    let count_at = |t: f64| -> u32 {
        let added = match (restock, restock_day) {
            (Some(units), Some(day)) if t >= day => units,
            _ => 0.0,
        };
        (stock + added - sold_by(&sales, t)).max(0.0).floor() as u32
    };
    // Daily uploads at 08:00 (missed and jittered for that kind), up to the forecast time.
    let mut points = Vec::new();
    for d in 0..days {
        let mut t = d as f64 + 8.0 / 24.0;
        if kind == Kind::MissedUploads {
            if rng.unit() < 0.3 {
                continue;
            }
            t += (rng.unit() - 0.5) * 0.5;
        }
        if t > at {
            break;
        }
        points.push(Point {
            as_of: Timestamp((t * DAY_MS as f64) as i64),
            count: count_at(t),
        });
    }
    let latest = *points.last()?;
    let f = forecast(&points, latest, DEFAULT_WINDOW_MS)?;
    let predicted = f.runs_out_at.0 as f64 / DAY_MS as f64;
    Some((predicted - out).abs())
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// Two weeks of daily snapshots of `stores` × 100 items: each item sells
/// its own rate a day from its own stock, a few run out.
fn write_history(dir: &std::path::Path, stores: usize) -> Vec<std::path::PathBuf> {
    use std::io::Write;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let items: Vec<(u32, u32)> = (0..stores * 100)
        .map(|_| {
            let rate = 1 + (rng.next() % 20) as u32;
            (rate, rate * (5 + (rng.next() % 30) as u32))
        })
        .collect();
    (0..14u32)
        .map(|day| {
            let path = dir.join(format!("day-{:02}.csv", day + 1));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            writeln!(out, "store,item,count").unwrap();
            for (n, (rate, stock)) in items.iter().enumerate() {
                let count = stock.saturating_sub(rate * day);
                writeln!(out, "Store {:05},Item {:03},{count}", n / 100, n % 100).unwrap();
            }
            out.flush().unwrap();
            path
        })
        .collect()
}

/// Runs the binary with the data dir, returning its wall time and peak RSS.
#[allow(clippy::zombie_processes)] // reaped by wait4, which std cannot see
fn measure(data: &std::path::Path, args: &[&std::ffi::OsStr]) -> (f64, u64) {
    let started = std::time::Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_stockwatch"))
        .args(args)
        .env("STOCKWATCH_DATA_DIR", data.join("data"))
        .env("STOCKWATCH_LOG_DIR", data.join("logs"))
        .env("XDG_CONFIG_HOME", data.join("config"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: wait4 on our own child's pid with valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert!(
        pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?} failed"
    );
    (started.elapsed().as_secs_f64(), usage.ru_maxrss as u64 * 1024)
}

fn scale() {
    let (stores, runs) = (flag("--stores", 10_000), flag("--runs", 3));
    let dir = tempfile::tempdir().unwrap();
    let files = write_history(dir.path(), stores);
    let mut args: Vec<&std::ffi::OsStr> = ["upload", "--no-check", "--spread", "1d"]
        .map(std::ffi::OsStr::new)
        .to_vec();
    args.extend(files.iter().map(|f| f.as_os_str()));
    let (loaded, _) = measure(dir.path(), &args);
    eprintln!("loaded 14 days of {} items in {loaded:.1} s", stores * 100);
    let soon = ["stock", "--soon", "--json"].map(std::ffi::OsStr::new);
    let mut timed = Vec::new();
    for run in 1..=runs {
        let (forecast, peak) = measure(dir.path(), &soon);
        eprintln!(
            "run {run}: stock --soon {forecast:.2} s, peak {:.0} MB",
            peak as f64 / 1e6
        );
        timed.push((forecast, peak));
    }
    timed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (forecast, _) = timed[timed.len() / 2];
    let peak = timed.iter().map(|t| t.1).max().unwrap();
    println!(
        "| {} items, 14 daily snapshots each, median of {runs} | time | peak RSS |",
        stores * 100
    );
    println!("|---|---:|---:|");
    println!(
        "| `stock --soon --json`: every item's history read and forecast | {forecast:.2} s | {:.0} MB |",
        peak as f64 / 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--scale") {
        return scale();
    }
    let items = flag("--items", 2000);
    let horizon = flag("--horizon", 7) as f64;
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    println!(
        "| history ({items} items, forecast {horizon} days before the true run-out) | tested (two weeks of history or more) | median error | p90 error |"
    );
    println!("|---|---:|---:|---:|");
    for kind in [
        Kind::Steady,
        Kind::Weekly,
        Kind::Noisy,
        Kind::Restocked,
        Kind::MissedUploads,
    ] {
        let mut errors = Vec::new();
        let mut tried = 0;
        while tried < items {
            tried += 1;
            if let Some(e) = one_item(kind, horizon, &mut rng) {
                errors.push(e);
            }
        }
        errors.sort_by(f64::total_cmp);
        println!(
            "| {} | {} of {} | {:.2} days | {:.2} days |",
            kind.describe(),
            errors.len(),
            items,
            quantile(&errors, 0.5),
            quantile(&errors, 0.9)
        );
    }
}
