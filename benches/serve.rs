//! The web dashboard (`stockwatch serve`, the real release binary on a
//! local data dir). Measured:
//! - 200 pages following the event stream at once while a burst of 10,000
//!   changes (one upload) is loaded: each change's delay from its write to
//!   every page (p50/p99/max over every change × page), and the server's
//!   peak memory (VmHWM);
//! - with 1,000,000 items in 10,000 stores: the first page, a store's page,
//!   a search, each answered in (median/p99 of 20, on loopback), the time
//!   to the first whole picture, and the peak memory.
//!
//! `cargo bench --bench serve [-- --clients 200 --changes 10000 --stores 10000 --items 100]`

#[path = "common/mod.rs"]
mod common;

use bytes::Bytes;
use common::{flag, percentile, write_inventory};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use stockwatch_testkit::Env;
use stockwatch_testkit::running::{self, Running};

type Http = Client<HttpConnector, Empty<Bytes>>;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// `--no-checker` on the command line: the server only follows (the
/// uploads' own checks raise the alerts), to tell its checking apart.
fn serve(env: &Env) -> (Running, String) {
    let mut args = vec!["--per-client", "100000"];
    if std::env::args().any(|a| a == "--no-checker") {
        args.push("--no-checker");
    }
    running::serve(env.cmd(), &args)
}

/// The server's peak resident memory so far, in MB.
fn peak_mb(server: &Running) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.0.id())).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

fn upload(env: &Env, path: &std::path::Path) {
    let out = env.cmd().arg("upload").arg(path).output().unwrap();
    assert!(out.status.success(), "{}", stockwatch_testkit::stderr(&out));
}

async fn get(http: &Http, url: &str) -> (Duration, String) {
    let started = Instant::now();
    let response = http.get(url.parse().unwrap()).await.unwrap();
    assert!(response.status().is_success(), "{url}: {}", response.status());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (started.elapsed(), String::from_utf8_lossy(&body).into_owned())
}

async fn wait_ready(http: &Http, url: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (_, body) = get(http, &format!("{url}/healthz")).await;
        if body.contains("\"ready\":true") {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One page following /events: each change's delay (its write to this
/// page), until `changes` have come.
async fn follow(http: Http, url: String, changes: usize, connected: tokio::sync::mpsc::Sender<()>) -> Vec<Duration> {
    let response = http.get(format!("{url}/events").parse().unwrap()).await.unwrap();
    let mut body = response.into_body();
    let _ = connected.send(()).await;
    let (mut buffer, mut delays) = (String::new(), Vec::with_capacity(changes));
    while delays.len() < changes {
        let frame = match tokio::time::timeout(Duration::from_secs(60), body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            _ => panic!("a page stopped hearing after {} changes", delays.len()),
        };
        let Some(data) = frame.data_ref() else { continue };
        let arrived = now_ms();
        buffer.push_str(&String::from_utf8_lossy(data));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if !event.starts_with("event: stock\n") {
                continue;
            }
            let data = event.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            let told: serde_json::Value = serde_json::from_str(data).unwrap();
            let delay = Duration::from_millis((arrived - told["at"].as_i64().unwrap()).max(0) as u64);
            delays.extend(std::iter::repeat_n(delay, told["changed"].as_u64().unwrap() as usize));
        }
    }
    delays
}

fn main() {
    let clients = flag("--clients", 200);
    let changes = flag("--changes", 10_000);
    let stores = flag("--stores", 10_000);
    let items = flag("--items", 100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(clients + 8)
        .build_http();
    let mut rows = Vec::new();

    // A burst followed by many pages.
    let env = Env::new();
    let per_store = 100.min(changes);
    let burst_stores = changes.div_ceil(per_store);
    let base = env.dir.path().join("base.csv");
    write_inventory(
        &mut std::fs::File::create(&base).unwrap(),
        burst_stores,
        per_store,
        |r| 50 + r % 50,
    )
    .unwrap();
    upload(&env, &base);
    let (server, url) = serve(&env);
    runtime.block_on(async {
        wait_ready(&http, &url).await;
        let (connected, mut heard) = tokio::sync::mpsc::channel(clients);
        let pages: Vec<_> = (0..clients)
            .map(|_| tokio::spawn(follow(http.clone(), url.clone(), changes, connected.clone())))
            .collect();
        for _ in 0..clients {
            heard.recv().await.unwrap();
        }
        let burst = env.dir.path().join("burst.csv");
        // Counts 0–49: every row changes (the base has 50–99).
        write_inventory(&mut std::fs::File::create(&burst).unwrap(), burst_stores, per_store, |r| r % 50).unwrap();
        let started = Instant::now();
        upload(&env, &burst);
        let loaded = started.elapsed();
        let mut delays = Vec::new();
        for page in pages {
            delays.extend(page.await.unwrap());
        }
        delays.sort();
        eprintln!("burst of {changes} loaded in {loaded:?}, heard by {clients} pages");
        rows.push(format!(
            "| {clients} pages, a burst of {changes} changes: change → page p50 / p99 / max | {} / {} / {} ms | p99 < 1,000 ms |",
            percentile(&delays, 0.5).as_millis(),
            percentile(&delays, 0.99).as_millis(),
            delays.last().unwrap().as_millis()
        ));
        rows.push(format!("| … server's peak memory | {:.0} MB | < 200 MB |", peak_mb(&server)));
    });
    drop(server);

    // A chain's worth of items.
    let env = Env::new();
    let big = env.dir.path().join("big.csv");
    write_inventory(&mut std::fs::File::create(&big).unwrap(), stores, items, |r| r % 60).unwrap();
    let started = Instant::now();
    upload(&env, &big);
    eprintln!("loaded {} items in {:?}", stores * items, started.elapsed());
    let (server, url) = serve(&env);
    runtime.block_on(async {
        let ready = wait_ready(&http, &url).await;
        let pages = [
            ("first page (stores by urgency, open alerts)", format!("{url}/")),
            (
                "a store's page (100 items, days left, trend)",
                format!("{url}/store?name=Store%2000042"),
            ),
            ("the alerts page", format!("{url}/alerts")),
            (
                "a search that finds (\"item 042\")",
                format!("{url}/search?q=item%20042"),
            ),
            ("a search that finds nothing", format!("{url}/search?q=zzzz")),
        ];
        for (what, page) in pages {
            let mut times = Vec::new();
            for _ in 0..20 {
                times.push(get(&http, &page).await.0);
            }
            times.sort();
            rows.push(format!(
                "| {} items: {what}, median / p99 | {} / {} ms | first page < 300 ms |",
                stores * items,
                percentile(&times, 0.5).as_millis(),
                percentile(&times, 0.99).as_millis()
            ));
        }
        rows.push(format!(
            "| {} items: from start to the whole picture | {:.1} s | |",
            stores * items,
            ready.as_secs_f64()
        ));
        rows.push(format!("| … server's peak memory | {:.0} MB | |", peak_mb(&server)));
    });
    drop(server);
    println!("| stockwatch serve | measured | target |\n|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
