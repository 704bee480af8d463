//! `--dynamodb-local`: the original system's two functions and stockwatch's
//! loader and check-stock on AWS's own DynamoDB emulator (moto keeps S3 and
//! SNS), each request counted by operation with the capacity DynamoDB
//! Local says it consumed, timed as it is and again with every request held
//! for a round trip. Where DynamoDB's speed cannot be measured here, this
//! is what it is derived from: round trips on the critical path are the
//! time a held round trip adds, divided by it; the time on DynamoDB at a
//! round trip of r is about that many times r; the cost is the capacity at
//! on-demand prices.
//!
//! ```text
//! cargo bench --bench original --features lambda -- --dynamodb-local [--stores 20 --items 100 --rtt-ms 20]
//! ```

use super::common::counting::{Counted, CountingProxy, counting_proxy, ensure_dynamodb_local};
use super::common::{flag, write_inventory};
use super::{KEY, check_function, moto, put_file, run_original_on, stream_events};
use serde_json::json;
use std::time::{Duration, Instant};
use stockwatch_aws::{AwsSettings, Clients, connect_with};
use stockwatch_core::pipeline::Loader;
use stockwatch_core::ports::{ObjectKey, Ports};
use stockwatch_functions::check_stock;

/// On-demand prices (us-east-1, per million): read units, write units, SNS publishes.
const READ_PRICE: f64 = 0.125;
const WRITE_PRICE: f64 = 0.625;
const PUBLISH_PRICE: f64 = 0.50;

/// One phase of one system, measured.
#[derive(Clone, Default)]
struct Phase {
    seconds: f64,
    dynamodb: Counted,
    others: Counted,
}

/// A deployment with DynamoDB through `dynamodb` (the counting proxy in
/// front of DynamoDB Local) and the rest through `others` (moto's).
async fn deployment(dynamodb: &str, others: &str) -> (Ports, AwsSettings, Clients) {
    let mut clients = Clients::from_config(&moto::sdk_config_at(others).await, true, None).unwrap();
    let config = moto::sdk_config_at(dynamodb).await;
    clients.dynamodb = aws_sdk_dynamodb::Client::new(&config);
    clients.streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let mut settings = moto::unique_settings();
    let (_, arn) = moto::provisioned(&clients, &settings).await;
    settings.topic_arn = Some(arn);
    let ports = connect_with(&settings, clients.clone()).await.unwrap();
    (ports, settings, clients)
}

struct Proxies {
    dynamodb: CountingProxy,
    others: CountingProxy,
}

impl Proxies {
    fn start(&self) {
        self.dynamodb.take();
        self.others.take();
    }

    fn phase(&self, seconds: f64) -> Phase {
        Phase {
            seconds,
            dynamodb: self.dynamodb.take(),
            others: self.others.take(),
        }
    }

    fn hold(&self, rtt: Duration) {
        self.dynamodb.set_delay(rtt);
        self.others.set_delay(rtt);
    }
}

/// The four phases (original load, stockwatch load, original check,
/// stockwatch check) on fresh deployments.
async fn phases(text: &str, rows: usize, p: &Proxies) -> [Phase; 4] {
    let (d, o) = (p.dynamodb.url.clone(), p.others.url.clone());
    let (original, original_settings, _) = deployment(&d, &o).await;
    put_file(&original, text).await;
    p.start();
    let seconds = run_original_on(
        "load_inventory.py",
        (&o, Some(&d)),
        &original_settings.table,
        &[&original_settings.bucket, KEY],
        None,
    );
    let original_load = p.phase(seconds);

    let (ours, settings, clients) = deployment(&d, &o).await;
    put_file(&ours, text).await;
    p.start();
    let started = Instant::now();
    let outcome = Loader::new(ours.clone())
        .load_object(&ObjectKey::parse(KEY).unwrap(), None)
        .await
        .unwrap();
    let our_load = p.phase(started.elapsed().as_secs_f64());
    assert_eq!(
        outcome.report.write.changed as usize, rows,
        "{:?}",
        outcome.report.failure
    );

    let events = stream_events(&clients, &settings).await;
    clients.sns.create_topic().name("NoStock").send().await.unwrap();
    p.start();
    let seconds = run_original_on(
        "check_stock.py",
        (&o, Some(&d)),
        &settings.table,
        &[],
        Some(serde_json::to_string(&events).unwrap()),
    );
    let original_check = p.phase(seconds);
    let function = check_function(&ours);
    p.start();
    let started = Instant::now();
    for event in events {
        let response = check_stock::handle_any(&function, event).await.unwrap();
        assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    }
    let our_check = p.phase(started.elapsed().as_secs_f64());
    [original_load, our_load, original_check, our_check]
}

/// One pass on a DynamoDB Local of its own (it slows as its one in-memory
/// database fills: passes on one would not compare), every request held
/// for `hold`.
async fn pass(text: &str, rows: usize, hold: Duration) -> [Phase; 4] {
    let local = ensure_dynamodb_local();
    let proxies = Proxies {
        dynamodb: counting_proxy(&local.url),
        others: counting_proxy(&moto::endpoint()),
    };
    proxies.hold(hold);
    let measured = phases(text, rows, &proxies).await;
    drop(local);
    measured
}

pub async fn run() {
    let (stores, items) = (flag("--stores", 20), flag("--items", 100));
    let rtt = Duration::from_millis(flag("--rtt-ms", 20) as u64);
    let mut text = Vec::new();
    write_inventory(&mut text, stores, items, |r| r % 50).unwrap();
    let text = String::from_utf8(text).unwrap();
    let rows = stores * items;
    eprintln!("moto at {}; {rows} rows", moto::endpoint());
    // Plain, held, plain again: the held pass is compared with the mean of
    // the plain ones on either side of it.
    let before = pass(&text, rows, Duration::ZERO).await;
    let held = pass(&text, rows, rtt).await;
    let after = pass(&text, rows, Duration::ZERO).await;
    let plain: Vec<Phase> = before
        .iter()
        .zip(&after)
        .map(|(a, b)| Phase {
            seconds: (a.seconds + b.seconds) / 2.0,
            ..a.clone()
        })
        .collect();
    let per_thousand = |n: f64| n * 1000.0 / rows as f64;
    println!(
        "| {rows} rows, {stores} stores | DynamoDB requests (per 1,000 rows) | other requests | read / write units | \
         on DynamoDB Local | +{} ms a request | round trips on the critical path | expected at 5 ms | at 20 ms | cost per 1,000 rows |",
        rtt.as_millis()
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    let names = [
        "load: original (one PutItem per row)",
        "load: stockwatch (transactions of 100, conditional)",
        "check: original (a Publish per OUT record)",
        "check: stockwatch (claims in the ledger, grouped messages)",
    ];
    for (i, name) in names.iter().enumerate() {
        let (a, b) = (&plain[i], &held[i]);
        let trips = ((b.seconds - a.seconds) / rtt.as_secs_f64()).max(0.0);
        let publishes = ["Publish", "PublishBatch"]
            .iter()
            .map(|op| a.others.requests.get(*op).copied().unwrap_or(0))
            .sum::<u64>() as f64;
        let cost =
            (a.dynamodb.read_units * READ_PRICE + a.dynamodb.write_units * WRITE_PRICE + publishes * PUBLISH_PRICE)
                / 1e6;
        println!(
            "| {name} | {} ({:.0}): {} | {} | {:.0} / {:.0} | {:.2} s | {:.2} s | {:.0} | {:.2} s | {:.2} s | ${:.5} |",
            a.dynamodb.total(),
            per_thousand(a.dynamodb.total() as f64),
            a.dynamodb.said(),
            a.others.said(),
            a.dynamodb.read_units,
            a.dynamodb.write_units,
            a.seconds,
            b.seconds,
            trips,
            trips * 0.005,
            trips * 0.020,
            per_thousand(cost),
        );
    }
}
