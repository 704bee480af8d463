//! A team on one setup, on moto: `stockwatch relay` and 20 followers
//! (`watch --json`, real release binaries, every request of theirs through
//! a counting proxy). Measured:
//! - steady state: the followers' GetRecords and ledger Scans over 60 s
//!   (zero), and their requests of any kind per follower-hour;
//! - every change of 20 uploads reaching all 20 followers: p50/p99 delay;
//! - an acknowledgement made under a clock five minutes slow: the delay
//!   until all 20 show it;
//! - a follower killed (SIGKILL) and started again: nothing new lost;
//! - the ledger: a follower's start and steady state read the same with
//!   100 and with 100,000 resolved alerts in it.
//!
//! `cargo bench --bench fanout [-- --followers 20 --steady 60]`

#[path = "common/mod.rs"]
mod common;
use stockwatch_testkit::delay_proxy;
use stockwatch_testkit::moto;
use stockwatch_testkit::running;

use common::{flag, percentile};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};
use stockwatch_aws::AwsSettings;

fn stockwatch(settings: &AwsSettings, dir: &std::path::Path, endpoint: &str, clock: Option<&str>) -> Command {
    let mut cmd = moto::stockwatch_on(settings, dir, endpoint, clock);
    cmd.env("STOCKWATCH_USER", "bench");
    cmd
}

/// A follower: its process and its JSON lines with the time each arrived.
struct Follower {
    child: Child,
    lines: Receiver<(Instant, serde_json::Value)>,
}

impl Follower {
    fn start(mut cmd: Command) -> Follower {
        let mut child = cmd
            .args(["watch", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let event = serde_json::from_str(&line).unwrap();
                if tx.send((Instant::now(), event)).is_err() {
                    return;
                }
            }
        });
        Follower { child, lines }
    }

    /// Everything that arrived so far.
    fn drain(&self) -> Vec<(Instant, serde_json::Value)> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Requests counted since the last reset, by operation.
fn counted(proxy: &delay_proxy::DelayProxy) -> HashMap<String, usize> {
    proxy.counts.lock().unwrap().clone()
}

fn main() {
    common::on_moto(run);
}

async fn run() {
    let n = flag("--followers", 20);
    let steady = Duration::from_secs(flag("--steady", 60) as u64);
    let moto_url = moto::endpoint();
    let (_, settings, clients) = moto::fresh().await;
    let dir = tempfile::tempdir().unwrap();
    let relay = running::relay(stockwatch(&settings, dir.path(), &moto_url, None));
    let proxy = delay_proxy::counting_proxy(&moto_url);
    let mut followers: Vec<Follower> = (0..n)
        .map(|_| Follower::start(stockwatch(&settings, dir.path(), &proxy.url, None)))
        .collect();
    std::thread::sleep(Duration::from_secs(5));
    let started: HashMap<String, usize> = counted(&proxy);
    eprintln!("{n} followers subscribed; their start: {started:?}");

    // 1. Steady state, nothing happening.
    proxy.reset();
    std::thread::sleep(steady);
    let idle = counted(&proxy);
    let idle_total: usize = idle.values().sum();

    // 2. Twenty uploads, one change each: when does each reach each follower?
    proxy.reset();
    let file = dir.path().join("one.csv");
    let mut sent: Vec<(u32, Instant)> = Vec::new();
    for count in 1..=20u32 {
        std::fs::write(&file, format!("store,item,count\nBench,Widget,{}\n", 100 + count)).unwrap();
        let at = Instant::now();
        let out = stockwatch(&settings, dir.path(), &moto_url, None)
            .args(["upload", "--no-check", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        sent.push((100 + count, at));
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(5));
    let mut delays: Vec<Duration> = Vec::new();
    let mut missing = 0;
    let mut arrivals: Vec<Vec<(Instant, serde_json::Value)>> = followers.iter().map(|f| f.drain()).collect();
    for seen in &arrivals {
        for (count, at) in &sent {
            let arrived = seen
                .iter()
                .find(|(_, e)| e["type"] == "change" && e["item"] == "Widget" && e["new"]["count"] == *count);
            match arrived {
                Some((when, _)) => delays.push(when.duration_since(*at)),
                None => missing += 1,
            }
        }
    }
    delays.sort();
    let busy = counted(&proxy);

    // 3. An acknowledgement from a clock five minutes slow.
    let alert = loop {
        let out = stockwatch(&settings, dir.path(), &moto_url, None)
            .args(["alerts", "--json"])
            .output()
            .unwrap();
        let alerts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if let Some(first) = alerts.as_array().and_then(|a| a.first()) {
            break first["id"].as_str().unwrap().to_string();
        }
        // None yet: make one (an item out of stock).
        std::fs::write(&file, "store,item,count\nBench,Gadget,0\n").unwrap();
        stockwatch(&settings, dir.path(), &moto_url, None)
            .args(["upload", "--no-check", file.to_str().unwrap()])
            .output()
            .unwrap();
        std::thread::sleep(Duration::from_secs(2));
    };
    for (f, seen) in followers.iter().zip(arrivals.iter_mut()) {
        seen.extend(f.drain());
    }
    let acked_at = Instant::now();
    let out = stockwatch(&settings, dir.path(), &moto_url, Some("-5m"))
        .args(["ack", &alert, "--by", "slow clock"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut ack_delays = Vec::new();
    for follower in &followers {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut got = None;
        while got.is_none() && Instant::now() < deadline {
            if let Ok((when, e)) = follower.lines.recv_timeout(Duration::from_millis(200))
                && e["type"] == "alert"
                && e["event"] == "acknowledged"
                && e["alert"]["id"] == alert.as_str()
            {
                got = Some(when.duration_since(acked_at));
            }
        }
        ack_delays.push(got);
    }
    let ack_max = ack_delays.iter().flatten().max().copied();
    let ack_missing = ack_delays.iter().filter(|d| d.is_none()).count();

    // 4. A follower killed and started again: what comes next reaches it.
    unsafe {
        libc::kill(followers[0].child.id() as i32, libc::SIGKILL);
    }
    let _ = followers[0].child.wait();
    followers[0] = Follower::start(stockwatch(&settings, dir.path(), &proxy.url, None));
    std::thread::sleep(Duration::from_secs(4));
    std::fs::write(&file, "store,item,count\nBench,Widget,777\n").unwrap();
    stockwatch(&settings, dir.path(), &moto_url, None)
        .args(["upload", "--no-check", file.to_str().unwrap()])
        .output()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    let restarted_ok = followers.iter().all(|f| {
        f.drain()
            .iter()
            .any(|(_, e)| e["type"] == "change" && e["new"]["count"] == 777)
    });

    // 5. The ledger's size: a follower's start with 100, then 100,000
    // resolved alerts in the ledger (the history grows; what is read
    // should not).
    let start_reads = |proxy: &delay_proxy::DelayProxy| {
        let c = counted(proxy);
        ["Query", "Scan", "GetItem"]
            .iter()
            .map(|op| c.get(*op).copied().unwrap_or(0))
            .sum::<usize>()
    };
    let mut ledger_reads = Vec::new();
    for history in [100usize, 100_000] {
        resolved_history(&clients.dynamodb, &settings.ledger_table, history).await;
        proxy.reset();
        let one = Follower::start(stockwatch(&settings, dir.path(), &proxy.url, None));
        std::thread::sleep(Duration::from_secs(6));
        ledger_reads.push((history, start_reads(&proxy)));
        drop(one);
    }
    drop(relay);
    drop(followers);

    println!("| fan-out on moto: a relay and {n} followers (watch --json) | measured |");
    println!("|---|---:|");
    println!(
        "| followers' GetRecords / ledger Scans over {} s of steady state | {} / {} |",
        steady.as_secs(),
        idle.get("GetRecords").copied().unwrap_or(0),
        idle.get("Scan").copied().unwrap_or(0)
    );
    let per_hour = idle_total as f64 / n as f64 * 3600.0 / steady.as_secs_f64();
    println!("| followers' requests per follower-hour, idle (all SQS long polls and heartbeats) | {per_hour:.0} |");
    println!(
        "| change reaching every follower, p50 / p99 / max ({} deliveries, {missing} missing) | {:.2} / {:.2} / {:.2} s |",
        delays.len(),
        percentile(&delays, 0.5).as_secs_f64(),
        percentile(&delays, 0.99).as_secs_f64(),
        delays.last().unwrap().as_secs_f64()
    );
    println!(
        "| followers' GetRecords / Scans while the 20 uploads were followed | {} / {} |",
        busy.get("GetRecords").copied().unwrap_or(0),
        busy.get("Scan").copied().unwrap_or(0)
    );
    println!(
        "| acknowledgement from a clock 5 min slow, shown by all (max; {ack_missing} missing) | {} |",
        ack_max.map_or("never".into(), |d| format!("{:.2} s", d.as_secs_f64()))
    );
    println!(
        "| follower SIGKILLed and started again: the next change reached all | {} |",
        if restarted_ok { "yes" } else { "NO" }
    );
    for (history, reads) in ledger_reads {
        println!("| a follower's start, {history} resolved alerts in the ledger: ledger reads | {reads} |");
    }
}

/// Writes `count` resolved alerts into the ledger (as the checker leaves
/// them: in no index but ById and ByItem), in batches.
async fn resolved_history(dynamodb: &aws_sdk_dynamodb::Client, table: &str, count: usize) {
    use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
    let s = |v: String| AttributeValue::S(v);
    let n = |v: i64| AttributeValue::N(v.to_string());
    let requests: Vec<WriteRequest> = (0..count)
        .map(|i| {
            let id = 1_000_000 + i as i64;
            let item = HashMap::from([
                ("pk".to_string(), s(format!("claim#history-{count}-{i}"))),
                ("AlertId".to_string(), n(id)),
                ("ChangeId".to_string(), s(format!("h{i}"))),
                ("Kind".to_string(), s("OUT".into())),
                ("Store".to_string(), s(format!("Store {}", i % 500))),
                ("Item".to_string(), s(format!("Item {i}"))),
                (
                    "ItemKey".to_string(),
                    s(format!("[\"Store {}\",\"Item {i}\"]", i % 500)),
                ),
                ("Count".to_string(), n(0)),
                ("Threshold".to_string(), n(3)),
                ("AsOf".to_string(), n(1)),
                ("RaisedAt".to_string(), n(1)),
                ("State".to_string(), s("resolved".into())),
                ("ResolvedAt".to_string(), n(2)),
                ("Version".to_string(), n(2)),
            ]);
            WriteRequest::builder()
                .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                .build()
        })
        .collect();
    for chunk in requests.chunks(25) {
        dynamodb
            .batch_write_item()
            .request_items(table, chunk.to_vec())
            .send()
            .await
            .unwrap();
    }
}
