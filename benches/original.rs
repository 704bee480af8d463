//! The original system as the yardstick, on moto (real HTTP): its two
//! Python functions (benches/original/*.py, run with boto3 from the test
//! venv, timing their handlers only) against stockwatch's loader and
//! check-stock handler, on the same generated file and the same stream
//! batches (100 records each, as the trigger sends them). Medians of
//! `--runs`, ratios within one run.
//!
//! ```text
//! cargo bench --bench original
//! cargo bench --bench original -- --runs 5 --stores 20 --items 100 --rtt-ms 10
//! cargo bench --bench original -- --batched   # transactions: see BENCHMARKS.md
//! ```

mod common;
#[path = "original/counted.rs"]
mod counted;
use common::{flag, write_inventory};

use stockwatch_testkit::moto;

use bytes::Bytes;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use stockwatch_aws::feed::StreamFeed;
use stockwatch_aws::{AwsSettings, Clients, WriteMode, connect_with};
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};
use stockwatch_core::ports::{Body, ObjectKey, Ports};
use stockwatch_functions::check_stock::{self, CheckStock};

const KEY: &str = "uploads/bench/inventory.csv";

fn python() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/moto-venv/bin/python")
}

fn script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/original")
        .join(name)
}

/// Runs an original function against moto at `endpoint` (DynamoDB at
/// `dynamodb` when given); its handler's seconds.
fn run_original(name: &str, endpoint: &str, table: &str, args: &[&str], stdin: Option<String>) -> f64 {
    run_original_on(name, (endpoint, None), table, args, stdin)
}

fn run_original_on(
    name: &str,
    (endpoint, dynamodb): (&str, Option<&str>),
    table: &str,
    args: &[&str],
    stdin: Option<String>,
) -> f64 {
    use std::io::Write;
    let mut command = std::process::Command::new(python());
    if let Some(url) = dynamodb {
        command.env("AWS_ENDPOINT_URL_DYNAMODB", url);
    }
    let mut child = command
        .arg(script(name))
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("TABLE", table)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python from the test venv (./scripts/test.sh installs it)");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    // Load-Inventory says its time on stdout, Check-Stock (which prints
    // each message, as it logged them) on stderr.
    let said = [out.stdout, out.stderr]
        .iter()
        .flat_map(|o| String::from_utf8_lossy(o).lines().map(String::from).collect::<Vec<_>>())
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .find_map(|v| v["seconds"].as_f64());
    said.unwrap_or_else(|| panic!("{name} said no time"))
}

async fn put_file(backend: &Ports, text: &str) {
    backend
        .objects
        .put(
            &ObjectKey::parse(KEY).unwrap(),
            &Body::Bytes(Bytes::from(text.to_string())),
            None,
            None,
        )
        .await
        .unwrap();
}

/// The table's stream as the Lambda trigger delivers it: events of at most
/// 100 records, in the stream's order.
async fn stream_events(clients: &Clients, settings: &AwsSettings) -> Vec<Value> {
    let feed = StreamFeed::new(
        clients.streams.clone(),
        clients.dynamodb.clone(),
        settings.table.clone(),
    );
    let arn = feed.stream_arn().await.unwrap();
    let mut records = Vec::new();
    for shard in feed.shards(&arn).await.unwrap() {
        let mut iterator = clients
            .streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap())
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        while let Some(it) = iterator {
            let page = clients.streams.get_records().shard_iterator(it).send().await.unwrap();
            if page.records().is_empty() {
                break;
            }
            for record in page.records() {
                records.push(lambda_record(record, &arn));
            }
            iterator = page.next_shard_iterator;
        }
    }
    records.chunks(100).map(|chunk| json!({ "Records": chunk })).collect()
}

fn image(map: Option<&std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>) -> Value {
    match map {
        Some(map) => serde_json::to_value(serde_dynamo::Item::from(map.clone())).unwrap(),
        None => json!({}),
    }
}

fn lambda_record(record: &aws_sdk_dynamodbstreams::types::Record, arn: &str) -> Value {
    let data = record.dynamodb().unwrap();
    let mut change = json!({
        "ApproximateCreationDateTime": data.approximate_creation_date_time().map_or(0, |t| t.secs()),
        "Keys": image(data.keys()),
        "SequenceNumber": data.sequence_number().unwrap(),
        "SizeBytes": data.size_bytes().unwrap_or(0),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if data.new_image().is_some() {
        change["NewImage"] = image(data.new_image());
    }
    if data.old_image().is_some() {
        change["OldImage"] = image(data.old_image());
    }
    json!({
        "eventID": record.event_id().unwrap(),
        "eventName": record.event_name().unwrap().as_str(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": arn,
    })
}

/// check-stock as the benchmark runs it: each batch's alerts sent with it
/// (no grouping window: the same work per batch as the original, plus the
/// ledger).
fn check_function(ports: &Ports) -> CheckStock {
    CheckStock::new(Checker::new(
        ports.clone(),
        CheckerConfig {
            name: "check-stock".into(),
            group_wait: Duration::ZERO,
            ..CheckerConfig::default()
        },
    ))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Run {
    original_load: f64,
    our_load: f64,
    original_check: f64,
    our_check: f64,
    raised: u64,
    original_out: usize,
}

async fn one_run(text: &str, rows: usize, endpoint: &str) -> Run {
    // The original loader, into a deployment of its own.
    let (original, original_settings, _) = moto::fresh_at(endpoint).await;
    put_file(&original, text).await;
    let original_load = run_original(
        "load_inventory.py",
        endpoint,
        &original_settings.table,
        &[&original_settings.bucket, KEY],
        None,
    );

    // stockwatch's loader, into another. moto copies a whole table for
    // every item of a transaction (time and memory grow with the table), so
    // the batched mode's transactions are measured only with `--batched`;
    // by default the conditional mode (one conditional PutItem per row).
    let (_, mut settings, clients) = moto::fresh_at(endpoint).await;
    settings.write_mode = if std::env::args().any(|a| a == "--batched") {
        WriteMode::Batched
    } else {
        WriteMode::Conditional
    };
    let ours = connect_with(&settings, clients.clone()).await.unwrap();
    put_file(&ours, text).await;
    let started = Instant::now();
    let outcome = Loader::new(ours.clone())
        .load_object(&ObjectKey::parse(KEY).unwrap(), None)
        .await
        .unwrap();
    let our_load = started.elapsed().as_secs_f64();
    assert!(
        outcome.is_loaded(),
        "{:?}: {:?}",
        outcome.report.failure,
        outcome.report.write.failed.first()
    );
    assert_eq!(outcome.report.write.changed as usize, rows);

    // Both checkers over the stream batches stockwatch's load made. The
    // original finds its topic by listing topics for one named NoStock.
    let events = stream_events(&clients, &settings).await;
    clients.sns.create_topic().name("NoStock").send().await.unwrap();
    let original_check = run_original(
        "check_stock.py",
        endpoint,
        &settings.table,
        &[],
        Some(serde_json::to_string(&events).unwrap()),
    );
    let original_out = events
        .iter()
        .flat_map(|e| e["Records"].as_array().unwrap())
        .filter(|r| r["dynamodb"]["NewImage"]["Count"]["N"] == "0")
        .count();
    let function = check_function(&ours);
    let started = Instant::now();
    for event in events {
        let response = check_stock::handle_any(&function, event).await.unwrap();
        assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    }
    let our_check = started.elapsed().as_secs_f64();
    let raised = ours
        .ledger
        .list(&Default::default(), None, 10_000)
        .await
        .unwrap()
        .items
        .len() as u64;
    Run {
        original_load,
        our_load,
        original_check,
        our_check,
        raised,
        original_out,
    }
}

fn main() {
    if std::env::var_os("STOCKWATCH_BENCH_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("STOCKWATCH_BENCH_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    common::on_moto(run);
}

async fn run() {
    if std::env::args().any(|a| a == "--dynamodb-local") {
        return counted::run().await;
    }
    let runs = flag("--runs", 3);
    let (stores, items) = (flag("--stores", 20), flag("--items", 100));
    let mut text = Vec::new();
    write_inventory(&mut text, stores, items, |r| r % 50).unwrap();
    let text = String::from_utf8(text).unwrap();
    let rows = stores * items;
    let endpoint = match flag("--rtt-ms", 0) {
        0 => moto::endpoint(),
        ms => {
            let target: std::net::SocketAddr = moto::endpoint().trim_start_matches("http://").parse().unwrap();
            common::latency_proxy(target, Duration::from_millis(ms as u64)).await
        }
    };
    eprintln!("moto at {endpoint}; {rows} rows ({stores} stores), {runs} runs");
    let mut all = Vec::new();
    for n in 0..runs {
        let run = one_run(&text, rows, &endpoint).await;
        eprintln!(
            "run {}: load original {:.2} s, stockwatch {:.2} s; check original {:.2} s ({} OUT), stockwatch {:.2} s ({} alerts)",
            n + 1,
            run.original_load,
            run.our_load,
            run.original_check,
            run.original_out,
            run.our_check,
            run.raised
        );
        all.push(run);
    }
    let pick = |f: fn(&Run) -> f64| median(all.iter().map(f).collect());
    let ratio = |f: fn(&Run) -> f64| median(all.iter().map(f).collect());
    println!("| {rows} rows, {stores} stores, median of {runs} | original | stockwatch | stockwatch faster by |");
    println!("|---|---:|---:|---:|");
    println!(
        "| load | {:.2} s | {:.2} s | {:.1}× |",
        pick(|r| r.original_load),
        pick(|r| r.our_load),
        ratio(|r| r.original_load / r.our_load)
    );
    println!(
        "| check the stream ({} OUT for the original; {} OUT+LOW alerts and the ledger for stockwatch) | {:.2} s | {:.2} s | {:.2}× |",
        all[0].original_out,
        all[0].raised,
        pick(|r| r.original_check),
        pick(|r| r.our_check),
        ratio(|r| r.original_check / r.our_check)
    );
}
