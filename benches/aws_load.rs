//! AWS benchmark against moto (real HTTP, the real SDK):
//! 1. the same generated 10,000-row file (100 stores × 100 items) loaded
//!    (a) the original system's way: read the object, then one PutItem per
//!    row in sequence, no conditions; (b) by stockwatch's loader in each
//!    write mode (batched per store under a lock, and one conditional
//!    PutItem per row with bounded concurrency);
//! 2. the stream tail's latency, write → seen by the feed, p50 and p99.
//!
//! ```text
//! cargo bench --bench aws_load                    # starts moto itself
//! STOCKWATCH_TEST_MOTO=http://127.0.0.1:5000 cargo bench --bench aws_load
//! cargo bench --bench aws_load -- --concurrency 64 --writes 300
//! cargo bench --bench aws_load -- --huge-store 200000 --runs 3   # one store, one partition key
//! ```

mod common;
use common::{flag, percentile, write_inventory};

use stockwatch_testkit::moto;

use bytes::Bytes;
use std::time::{Duration, Instant};
use stockwatch_aws::{AwsSettings, WriteMode, connect_with};
use stockwatch_core::pipeline::Loader;
use stockwatch_core::ports::{Body, ObjectKey};

fn generate(stores: usize, items: usize) -> String {
    let mut text = Vec::new();
    write_inventory(&mut text, stores, items, |r| r % 50).unwrap();
    String::from_utf8(text).unwrap()
}

/// Puts the file in the deployment's bucket, then times the naive loader on it.
async fn time_naive(clients: &stockwatch_aws::Clients, settings: &AwsSettings, key: &str, text: &str) -> Duration {
    clients
        .s3
        .put_object()
        .bucket(&settings.bucket)
        .key(key)
        .body(text.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap();
    let started = Instant::now();
    let rows = naive_load(clients, settings, key).await;
    assert_eq!(rows, text.lines().count() - 1, "every row loaded");
    started.elapsed()
}

/// The original system's loader, in Rust: every row a plain PutItem, one after another.
async fn naive_load(clients: &stockwatch_aws::Clients, settings: &AwsSettings, key: &str) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let object = clients
        .s3
        .get_object()
        .bucket(&settings.bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    let mut reader = csv::Reader::from_reader(&body[..]);
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        clients
            .dynamodb
            .put_item()
            .table_name(&settings.table)
            .item("Store", S(record[0].to_string()))
            .item("Item", S(record[1].to_string()))
            .item("Count", N(record[2].to_string()))
            .send()
            .await
            .unwrap();
        rows += 1;
    }
    rows
}

/// The floor: the rows written with unconditional BatchWriteItem and nothing
/// else (no validation, no snapshot rule, no report). No correct loader can
/// beat this on the same server.
async fn batch_floor(clients: &stockwatch_aws::Clients, settings: &AwsSettings, text: &str) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let requests: Vec<WriteRequest> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let put = PutRequest::builder()
                .item("Store", S(r[0].to_string()))
                .item("Item", S(r[1].to_string()))
                .item("Count", N(r[2].to_string()))
                .build()
                .unwrap();
            WriteRequest::builder().put_request(put).build()
        })
        .collect();
    for chunk in requests.chunks(25) {
        let mut pending = chunk.to_vec();
        while !pending.is_empty() {
            let out = clients
                .dynamodb
                .batch_write_item()
                .request_items(&settings.table, pending)
                .send()
                .await
                .unwrap();
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&settings.table))
                .unwrap_or_default();
        }
    }
    requests.len()
}

fn main() {
    common::on_moto(run);
}

/// Puts the file in the backend's bucket, then times stockwatch's loader on
/// it; the load must succeed.
async fn time_load(
    backend: &stockwatch_core::ports::Ports,
    key: &str,
    text: &str,
) -> (Duration, stockwatch_core::pipeline::LoadOutcome) {
    let object = ObjectKey::parse(key).unwrap();
    backend
        .objects
        .put(&object, &Body::Bytes(Bytes::from(text.to_string())), None, None)
        .await
        .unwrap();
    let started = Instant::now();
    let outcome = Loader::new(backend.clone()).load_object(&object, None).await.unwrap();
    let took = started.elapsed();
    assert!(outcome.is_loaded(), "{:?}", outcome.report.failure);
    (took, outcome)
}

/// One store of `items` rows (every row one partition key): the original
/// loader and stockwatch's conditional mode, fresh deployments each run.
/// (The batched mode's transactions cannot be measured at this size on
/// moto, which copies the whole table for every item of a transaction.)
async fn huge_store(items: usize, concurrency: usize) {
    let runs = flag("--runs", 3);
    let text = generate(1, items);
    let key = "uploads/huge.csv";
    let mut naive = Vec::new();
    let mut ours = Vec::new();
    for run in 1..=runs {
        let (_, settings, clients) = moto::fresh().await;
        naive.push(time_naive(&clients, &settings, key, &text).await);
        let (_, mut settings, clients) = moto::fresh().await;
        settings.write_concurrency = concurrency;
        settings.write_mode = WriteMode::Conditional;
        let backend = connect_with(&settings, clients).await.unwrap();
        let (took, outcome) = time_load(&backend, key, &text).await;
        ours.push(took);
        assert_eq!(outcome.report.write.changed as usize, items);
        eprintln!(
            "run {run}: naive {:.1} s, stockwatch conditional {:.1} s",
            naive[run - 1].as_secs_f64(),
            ours[run - 1].as_secs_f64()
        );
    }
    let ratios: Vec<f64> = naive
        .iter()
        .zip(&ours)
        .map(|(n, o)| n.as_secs_f64() / o.as_secs_f64())
        .collect();
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let (naive, ours) = (median(naive), median(ours));
    println!("| one store of {items} items into moto, median of {runs} | time | rows/s | vs naive |");
    println!("|---|---:|---:|---:|");
    table_row("naive: one PutItem per row in sequence", naive, items, 1.0);
    table_row(
        &format!("stockwatch conditional: one conditional PutItem per row, {concurrency} in flight"),
        ours,
        items,
        sorted[sorted.len() / 2],
    );
}

/// `| what | 1.2 s | 8333 | 3.4× |`: a loader's line of the results table.
fn table_row(what: &str, took: Duration, rows: usize, faster: f64) {
    let seconds = took.as_secs_f64();
    println!(
        "| {what} | {seconds:.1} s | {:.0} | {faster:.1}× |",
        rows as f64 / seconds
    );
}

async fn run() {
    let concurrency = flag("--concurrency", 32);
    if let huge @ 1.. = flag("--huge-store", 0) {
        return huge_store(huge, concurrency).await;
    }
    let writes = flag("--writes", 200);
    let text = generate(100, 100);
    eprintln!("moto at {}; 10,000 rows, concurrency {concurrency}", moto::endpoint());

    // (a) the naive loader into its own fresh deployment.
    let (_, naive_settings, clients) = moto::fresh().await;
    let key = "uploads/bench.csv";
    let naive = time_naive(&clients, &naive_settings, key, &text).await;
    eprintln!("naive: 10000 rows in {:.1} s", naive.as_secs_f64());

    // The floor, into a deployment of its own.
    let (_, floor_settings, clients) = moto::fresh().await;
    let started = Instant::now();
    batch_floor(&clients, &floor_settings, &text).await;
    let floor = started.elapsed();
    eprintln!("floor: 10000 rows in {:.1} s", floor.as_secs_f64());

    // (b) stockwatch's loader, each write mode into a deployment of its own.
    let mut results = Vec::new();
    let mut last = None;
    for mode in [WriteMode::Batched, WriteMode::Conditional] {
        let (_, mut settings, clients) = moto::fresh().await;
        settings.write_concurrency = concurrency;
        settings.write_mode = mode;
        let backend = connect_with(&settings, clients.clone()).await.unwrap();
        let (took, outcome) = time_load(&backend, key, &text).await;
        assert_eq!(outcome.report.write.changed, 10_000);
        eprintln!("stockwatch {mode:?}: 10000 rows in {:.1} s", took.as_secs_f64());
        results.push((mode, took));
        last = Some((backend, settings, clients));
    }
    let (backend, settings, clients) = last.unwrap();

    // The same two loaders with a network round trip on every request.
    let rtt = Duration::from_millis(flag("--rtt-ms", 10) as u64);
    let target: std::net::SocketAddr = moto::endpoint().trim_start_matches("http://").parse().unwrap();
    let proxied = common::latency_proxy(target, rtt).await;
    let (_, slow_naive_settings, slow_clients) = moto::fresh_at(&proxied).await;
    let slow_naive = time_naive(&slow_clients, &slow_naive_settings, key, &text).await;
    eprintln!(
        "naive with {} ms per request: {:.1} s",
        rtt.as_millis(),
        slow_naive.as_secs_f64()
    );
    let (slow_backend, _, _) = moto::fresh_at(&proxied).await;
    let (slow_ours, _) = time_load(&slow_backend, key, &text).await;
    eprintln!(
        "stockwatch batched with {} ms per request: {:.1} s",
        rtt.as_millis(),
        slow_ours.as_secs_f64()
    );

    // Stream latency: one write at a time, the feed polled every 20 ms.
    let feed = backend.feed.clone();
    let mut cursor = feed.tip().await.unwrap();
    let mut latencies = Vec::new();
    for n in 0..writes {
        let written = Instant::now();
        clients
            .dynamodb
            .put_item()
            .table_name(&settings.table)
            .item("Store", aws_sdk_dynamodb::types::AttributeValue::S("Latency".into()))
            .item("Item", aws_sdk_dynamodb::types::AttributeValue::S(format!("probe {n}")))
            .item("Count", aws_sdk_dynamodb::types::AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap();
        loop {
            let batch = feed.read(Some(&cursor), 100).await.unwrap();
            cursor = batch.cursor;
            if batch.changes.iter().any(|c| c.item == format!("probe {n}")) {
                latencies.push(written.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    latencies.sort();

    let vs = |base: Duration, t: Duration| base.as_secs_f64() / t.as_secs_f64();
    println!("| loader (10,000 rows into moto) | time | rows/s | vs naive |");
    println!("|---|---:|---:|---:|");
    table_row("naive: one PutItem per row in sequence", naive, 10_000, 1.0);
    table_row(
        "floor: unconditional BatchWriteItem of 25, nothing else",
        floor,
        10_000,
        vs(naive, floor),
    );
    for (mode, took) in &results {
        let how = match mode {
            WriteMode::Batched => format!(
                "stockwatch batched: BatchGet 100 + one conditional TransactWriteItems, {concurrency} in flight"
            ),
            WriteMode::Conditional => {
                format!("stockwatch conditional: one conditional PutItem per row, {concurrency} in flight")
            }
        };
        table_row(&how, *took, 10_000, vs(naive, *took));
    }
    let ms = rtt.as_millis();
    table_row(
        &format!("naive, {ms} ms round trip per request (latency proxy)"),
        slow_naive,
        10_000,
        1.0,
    );
    table_row(
        &format!("stockwatch batched, {ms} ms round trip per request"),
        slow_ours,
        10_000,
        vs(slow_naive, slow_ours),
    );
    println!(
        "\nStream tail, write → seen by the feed ({} writes, polled every 20 ms): p50 {:.0} ms, p99 {:.0} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
}
