//! The Lambda handlers, called as Lambda calls them, with realistic event
//! JSON from tests/events, against moto: the same loader and checker the CLI
//! runs, on real S3, DynamoDB and SNS APIs.

use stockwatch_testkit as common;
use stockwatch_testkit::delay_proxy;
use stockwatch_testkit::moto;
use stockwatch_testkit::runtime_api;
use stockwatch_testkit::scripted;

use aws_lambda_events::event::s3::S3Event;
use bytes::Bytes;
use delay_proxy::counting_proxy;
use runtime_api::{Answer, RuntimeApi};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use stockwatch_aws::{AwsSettings, Clients, connect_with};
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};
use stockwatch_core::ports::{AlertClaim, AlertFilter, ObjectKey, ObjectStatus, Ports, StockFilter};
use stockwatch_functions::check_stock::{self, CheckStock};
use stockwatch_functions::load_inventory::{self, Outcome};

fn event_json(name: &str, bucket: &str) -> Value {
    let path = common::repo().join("tests/events").join(name);
    let text = std::fs::read_to_string(&path).unwrap().replace("{{bucket}}", bucket);
    serde_json::from_str(&text).unwrap()
}

fn s3_event(name: &str, bucket: &str) -> S3Event {
    serde_json::from_value(event_json(name, bucket)).unwrap()
}

fn sample(path: &str) -> Bytes {
    Bytes::from(std::fs::read(common::repo().join(path)).unwrap())
}

/// A store's own tool puts a file straight into the bucket.
async fn put(clients: &Clients, bucket: &str, key: &str, body: Bytes) {
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

async fn stock(backend: &Ports) -> Vec<(String, String, u32)> {
    let page = backend.table.scan(&StockFilter::default(), None, 1000).await.unwrap();
    page.items.into_iter().map(|r| (r.store, r.item, r.count)).collect()
}

/// The files the S3 event names, at their decoded keys.
async fn put_event_files(clients: &Clients, bucket: &str) {
    put(
        clients,
        bucket,
        "uploads/20261127-081542.318-2a1/inventory-berlin.csv",
        sample("samples/inventory-berlin.csv"),
    )
    .await;
    put(
        clients,
        bucket,
        "stores/Karachi Saddar/inventory+karachi übersicht.csv",
        sample("samples/inventory-karachi.csv"),
    )
    .await;
    put(
        clients,
        bucket,
        "stores/Pusan/inventory-pusan.csv",
        sample("samples/inventory-pusan.csv"),
    )
    .await;
    put(
        clients,
        bucket,
        "invalid/inventory bad count.csv",
        sample("samples/invalid/bad-counts.csv"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_event_loads_every_record_at_its_decoded_key() {
    let (backend, settings, clients) = moto::fresh().await;
    put_event_files(&clients, &settings.bucket).await;
    let loader = Loader::new(backend.clone());
    let event = s3_event("s3-object-created.json", &settings.bucket);
    let response = load_inventory::handle(&loader, &settings.bucket, event).await.unwrap();
    let results: Vec<(&str, Outcome)> = response.files.iter().map(|f| (f.key.as_str(), f.outcome)).collect();
    assert_eq!(
        results,
        [
            ("uploads/20261127-081542.318-2a1/inventory-berlin.csv", Outcome::Loaded),
            ("stores/Karachi Saddar/inventory+karachi übersicht.csv", Outcome::Loaded),
            ("stores/Pusan/inventory-pusan.csv", Outcome::Loaded),
            ("invalid/inventory bad count.csv", Outcome::Rejected),
        ]
    );
    let rows = stock(&backend).await;
    assert_eq!(
        rows.len(),
        18,
        "six items of Berlin, Karachi and Pusan, none of the rejected file"
    );
    assert!(rows.contains(&("Berlin".into(), "Echo Plus".into(), 0)));
    assert!(rows.contains(&("Karachi".into(), "Echo Plus".into(), 0)));
    // The rejected file is kept, with a report naming its bad lines.
    let rejected = backend
        .objects
        .head(&ObjectKey::parse("invalid/inventory bad count.csv").unwrap())
        .await
        .unwrap();
    let report = rejected.report.expect("the rejection is reported beside the file");
    assert_eq!(report.status, ObjectStatus::Rejected);
    let mut lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    lines.dedup();
    assert_eq!(lines, [2, 3, 4, 5, 6], "{:?}", report.problems);
    let loaded = backend
        .objects
        .head(&ObjectKey::parse("stores/Karachi Saddar/inventory+karachi übersicht.csv").unwrap())
        .await
        .unwrap();
    assert_eq!(loaded.report.unwrap().status, ObjectStatus::Loaded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_delivery_changes_nothing() {
    let (backend, settings, clients) = moto::fresh().await;
    put_event_files(&clients, &settings.bucket).await;
    let loader = Loader::new(backend.clone());
    let first = load_inventory::handle(
        &loader,
        &settings.bucket,
        s3_event("s3-object-created.json", &settings.bucket),
    )
    .await
    .unwrap();
    assert_eq!(first.count(Outcome::Loaded), 3);
    let before = stock(&backend).await;
    let tip = backend.feed.tip().await.unwrap();
    // S3 delivers at least once: the same event again.
    let again = load_inventory::handle(
        &loader,
        &settings.bucket,
        s3_event("s3-object-created.json", &settings.bucket),
    )
    .await
    .unwrap();
    assert_eq!(again.count(Outcome::Loaded), 3);
    assert_eq!(again.count(Outcome::Rejected), 1);
    for file in again.files.iter().filter(|f| f.outcome == Outcome::Loaded) {
        assert!(file.detail.contains(" 0 changed, 6 unchanged"), "{}", file.detail);
    }
    assert_eq!(stock(&backend).await, before);
    let changes = backend.feed.read(Some(&tip), 100).await.unwrap();
    assert!(
        changes.changes.is_empty(),
        "a second delivery writes no change: {:?}",
        changes.changes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_not_for_the_loader_are_skipped_not_retried() {
    let (backend, settings, _clients) = moto::fresh().await;
    let loader = Loader::new(backend.clone());
    let event = s3_event("s3-not-for-the-loader.json", &settings.bucket);
    let response = load_inventory::handle(&loader, &settings.bucket, event).await.unwrap();
    let details: Vec<(Outcome, &str)> = response.files.iter().map(|f| (f.outcome, f.detail.as_str())).collect();
    assert_eq!(details.len(), 5);
    assert!(details[..4].iter().all(|(o, _)| *o == Outcome::Skipped), "{details:?}");
    assert!(details[0].1.contains("ObjectRemoved:Delete"), "{}", details[0].1);
    assert!(details[1].1.contains("someone-elses-bucket"), "{}", details[1].1);
    assert!(details[2].1.contains("a report"), "{}", details[2].1);
    assert!(details[3].1.contains("does not exist"), "{}", details[3].1);
    // A key S3 allows but no stockwatch path can hold: said, never retried.
    assert_eq!(details[4].0, Outcome::Unusable);
    assert!(details[4].1.contains("empty, `.` or `..` part"), "{}", details[4].1);
    assert!(stock(&backend).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_that_cannot_finish_fails_the_invocation_for_a_retry() {
    let (_, settings, clients) = moto::fresh().await;
    put_event_files(&clients, &settings.bucket).await;
    // The table is gone (or not yet there): nothing can be written.
    let broken = AwsSettings {
        table: format!("{}-missing", settings.table),
        ..settings.clone()
    };
    let backend = connect_with(&broken, clients.clone()).await.unwrap();
    let loader = Loader::new(backend.clone());
    let event = s3_event("s3-object-created.json", &settings.bucket);
    let failed = load_inventory::handle(&loader, &settings.bucket, event)
        .await
        .unwrap_err();
    assert_eq!((failed.failed, failed.total), (3, 4), "{failed}");
    assert!(failed.to_string().contains("inventory-berlin.csv"), "{failed}");
    assert_eq!(
        failed.response.count(Outcome::Rejected),
        1,
        "a bad file is settled, not retried"
    );
    let report = backend
        .objects
        .head(&ObjectKey::parse("stores/Pusan/inventory-pusan.csv").unwrap())
        .await
        .unwrap()
        .report
        .unwrap();
    assert_eq!(report.status, ObjectStatus::Failed);
}

fn checker(backend: &Ports, lease_ms: u64) -> Checker {
    checker_named(backend, lease_ms, "check-stock")
}

/// Checkers of different names hold claims under different tokens, as two
/// Lambda instances do.
fn checker_named(backend: &Ports, lease_ms: u64, name: &str) -> Checker {
    Checker::new(
        backend.clone(),
        CheckerConfig {
            name: name.into(),
            lease: std::time::Duration::from_millis(lease_ms),
            ..CheckerConfig::default()
        },
    )
}

fn failures(response: &Value) -> Vec<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect()
}

async fn alerts(backend: &Ports) -> Vec<(String, String, String)> {
    let page = backend.ledger.list(&AlertFilter::default(), None, 100).await.unwrap();
    let mut alerts: Vec<_> = page
        .items
        .into_iter()
        .map(|a| (a.kind.as_str().to_string(), a.store, a.item))
        .collect();
    alerts.sort();
    alerts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_batch_alerts_once_and_reports_only_the_bad_record() {
    let (backend, settings, clients) = moto::fresh().await;
    let (sqs, url) = moto::queue_on_topic(&clients, settings.topic_arn.as_ref().unwrap(), &settings.topic).await;
    let checker = checker(&backend, 60_000);
    let batch = event_json("dynamodb-stream-batch.json", &settings.bucket);
    let response = check_stock::handle_any(&CheckStock::new(checker.clone()), batch.clone())
        .await
        .unwrap();
    assert_eq!(
        failures(&response),
        ["400000000000000000005"],
        "only the record whose Count is not a number"
    );
    let expected = [
        ("LOW".to_string(), "Berlin".to_string(), "Show".to_string()),
        ("OUT".into(), "Berlin".into(), "Dot".into()),
        ("OUT".into(), "Karachi".into(), "Pen".into()),
    ];
    assert_eq!(
        alerts(&backend).await,
        expected,
        "INSERT raises nothing, REMOVE nothing"
    );
    assert_eq!(
        moto::texts(&sqs, &url).await,
        ["Berlin is out of stock of Dot", "Karachi is out of stock of Pen"]
    );
    // Lambda delivers the batch again to another instance: whole (a
    // duplicate), and from the failed record on (its retry).
    let elsewhere = checker_named(&backend, 60_000, "another-instance");
    let again = check_stock::handle_any(&CheckStock::new(elsewhere.clone()), batch.clone())
        .await
        .unwrap();
    assert_eq!(failures(&again), ["400000000000000000005"]);
    let tail = serde_json::json!({ "Records": batch["Records"].as_array().unwrap()[4..] });
    let retried = check_stock::handle_any(&CheckStock::new(elsewhere.clone()), tail)
        .await
        .unwrap();
    assert_eq!(failures(&retried), ["400000000000000000005"]);
    assert_eq!(alerts(&backend).await, expected, "no second alert");
    assert!(moto::texts(&sqs, &url).await.is_empty(), "no second notification");
}

fn reported(response: &aws_lambda_events::event::streams::DynamoDbEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect()
}

/// A copy of `record` for another store and sequence number.
fn moved(record: &Value, store: &str, sequence: &str) -> Value {
    let mut record = record.clone();
    let data = &mut record["dynamodb"];
    for part in ["Keys", "NewImage", "OldImage"] {
        if data[part].is_object() {
            data[part]["Store"]["S"] = store.into();
        }
    }
    data["SequenceNumber"] = sequence.into();
    record["eventID"] = format!("moved-{sequence}").into();
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_no_retry_can_read_holds_nothing_back() {
    let (backend, settings, _clients) = moto::fresh().await;
    let checker = checker(&backend, 60_000);
    let batch = event_json("dynamodb-stream-batch.json", &settings.bucket);
    let records = batch["Records"].as_array().unwrap();
    // The bad Berlin/Pen record; Berlin/Pen then running out; a write that
    // repairs a bad Count (the old image is the bad one); Karachi/Pen.
    let pen_out = moved(&records[5], "Berlin", "400000000000000000007");
    let mut repair = moved(&records[4], "Hamburg", "400000000000000000008");
    repair["dynamodb"]["OldImage"] = repair["dynamodb"]["NewImage"].clone();
    repair["dynamodb"]["NewImage"]["Count"] = serde_json::json!({"N": "1"});
    let event = serde_json::json!({ "Records": [records[4], pen_out, repair, records[5]] });
    let response = check_stock::handle(&checker, serde_json::from_value(event).unwrap())
        .await
        .unwrap();
    assert_eq!(reported(&response), ["400000000000000000005"], "the bad record alone");
    assert_eq!(
        alerts(&backend).await,
        [
            ("LOW".to_string(), "Hamburg".to_string(), "Pen".to_string()),
            ("OUT".into(), "Berlin".into(), "Pen".into()),
            ("OUT".into(), "Karachi".into(), "Pen".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_ledger_fails_every_readable_record_is_reported() {
    let (_, settings, clients) = moto::fresh().await;
    let broken = AwsSettings {
        ledger_table: format!("{}-missing", settings.ledger_table),
        ..settings.clone()
    };
    let backend = stockwatch_aws::connect_function(&broken, clients).await.unwrap();
    let batch = event_json("dynamodb-stream-batch.json", &settings.bucket);
    let response = check_stock::handle(&checker(&backend, 60_000), serde_json::from_value(batch).unwrap())
        .await
        .unwrap();
    let all: Vec<String> = (1..=6).map(|n| format!("40000000000000000000{n}")).collect();
    assert_eq!(reported(&response), all, "Lambda retries the whole batch in order");
}

/// A checker claims an outage two minutes ago, then stops before telling anyone.
async fn claim_and_stop(backend: &Ports, store: &str, item: &str) {
    let claim = AlertClaim {
        change_id: format!("stopped-{store}-{item}"),
        kind: stockwatch_domain::AlertKind::Out,
        store: store.into(),
        item: item.into(),
        count: 0,
        threshold: 3,
        as_of: stockwatch_domain::Timestamp(1_795_766_400_000),
        source: "stores/Pusan/inventory-pusan.csv".into(),
        notify: true,
    };
    let past = stockwatch_domain::Timestamp(stockwatch_domain::Timestamp::now().0 - 120_000);
    backend
        .ledger
        .claim(
            &[claim],
            &stockwatch_core::ports::Holder::Sender("stopped-publisher".into()),
            past,
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_sends_what_a_stopped_publisher_left() {
    let (backend, settings, clients) = moto::fresh().await;
    let (sqs, url) = moto::queue_on_topic(&clients, settings.topic_arn.as_ref().unwrap(), &settings.topic).await;
    claim_and_stop(&backend, "Pusan", "Echo Show").await;
    let checker = checker(&backend, 1_000);
    let sweep = event_json("scheduled-sweep.json", &settings.bucket);
    let response = check_stock::handle_any(&CheckStock::new(checker.clone()), sweep)
        .await
        .unwrap();
    assert_eq!(response["published"], 1);
    assert_eq!(moto::texts(&sqs, &url).await, ["Pusan is out of stock of Echo Show"]);
    let page = backend.ledger.list(&AlertFilter::default(), None, 10).await.unwrap();
    assert!(page.items[0].published_at.is_some());
    // Something else sent here is answered, not failed into a retry.
    let unknown = check_stock::handle_any(
        &CheckStock::new(checker.clone()),
        serde_json::json!({"hello": "\u{1b}[2J"}),
    )
    .await
    .unwrap();
    let said = unknown["dropped"].as_str().unwrap_or_default();
    assert!(
        said.contains("not a stream batch") && !said.contains('\u{1b}'),
        "{unknown}"
    );
}

/// The whole path with the function in it: the real binary, pointed at a
/// stack by name, uploads and waits; the function (this test, as Lambda
/// would) loads on the bucket's event; the binary prints the function's report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_attached_to_a_stack_waits_for_the_functions_report() {
    let (backend, settings, clients) = moto::fresh().await;
    let stack = moto::stand_in_stack(&clients, &settings).await;
    let env = common::Env::new();
    // AWS_REGION (below) wins over the config file's region, as environment
    // variables win over the file everywhere.
    let config = env.dir.path().join("config/stockwatch");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[aws]\nregion = \"ap-south-1\"\n").unwrap();
    let mut upload = env.cmd();
    // --stack alone means the AWS backend.
    upload
        .env("AWS_ENDPOINT_URL", moto::endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .args(["--stack", &stack, "upload", "--json", "samples/inventory-berlin.csv"]);
    let child = tokio::task::spawn_blocking(move || upload.output().unwrap());
    // The bucket's ObjectCreated event, as S3 would send it.
    let started = std::time::Instant::now();
    let key = loop {
        let listed = clients
            .s3
            .list_objects_v2()
            .bucket(&settings.bucket)
            .send()
            .await
            .unwrap();
        if let Some(key) = listed
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .find(|k| k.starts_with("uploads/"))
        {
            break key.to_string();
        }
        if child.is_finished() || started.elapsed() > ANSWER_WITHIN {
            let out = child.await.unwrap();
            panic!("the upload never reached the bucket: {}", common::stderr(&out));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let mut event = event_json("s3-object-created.json", &settings.bucket);
    event["Records"] = serde_json::json!([event["Records"][0].clone()]);
    event["Records"][0]["s3"]["object"]["key"] = percent_encode_key(&key).into();
    let event: S3Event = serde_json::from_value(event).unwrap();
    let response = load_inventory::handle(&Loader::new(backend.clone()), &settings.bucket, event)
        .await
        .unwrap();
    assert_eq!(response.count(Outcome::Loaded), 1);
    let out = child.await.unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = printed.to_string();
    assert!(
        text.contains("loaded") && text.contains("inventory-berlin.csv"),
        "{text}"
    );
    assert_eq!(stock(&backend).await.len(), 6);

    // A bucket variable left from another deployment beside the stack is
    // refused, not silently mixed in.
    let out = env
        .cmd()
        .env("AWS_ENDPOINT_URL", moto::endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("STOCKWATCH_BUCKET", "acme-old-files")
        .args(["--stack", &stack, "stock"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = common::stderr(&out);
    assert!(
        said.contains("but so does --bucket / STOCKWATCH_BUCKET / bucket"),
        "{said}"
    );
}

/// S3's form encoding of a key (enough for the keys uploads get).
fn percent_encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A function binary started as Lambda starts a `bootstrap`: the Runtime
/// API's address and the function's environment, as the template sets it.
struct Function(Child);

impl Function {
    fn start(binary: &str, api: &RuntimeApi, settings: &AwsSettings, unset: Option<&str>) -> Command {
        let mut cmd = Command::new(binary);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("STOCKWATCH_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "stockwatch-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_ENDPOINT_URL", moto::endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("STOCKWATCH_BUCKET", &settings.bucket)
            .env("STOCKWATCH_TABLE", &settings.table)
            .env("STOCKWATCH_LEDGER_TABLE", &settings.ledger_table)
            .env("STOCKWATCH_TOPIC_ARN", settings.topic_arn.as_deref().unwrap())
            // The template's window is 30 s; a test's is short, yet long
            // enough that a sweep right after a batch comes inside it on a
            // busy machine (the tier's tests run side by side).
            .env("STOCKWATCH_GROUP_WAIT", "5s")
            // As the template's LoggingConfig sets it.
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(name) = unset {
            cmd.env_remove(name);
        }
        cmd
    }

    fn spawn(binary: &str, api: &RuntimeApi, settings: &AwsSettings) -> Function {
        Function(Function::start(binary, api, settings, None).spawn().unwrap())
    }
}

impl Function {
    /// Stops it and returns what it logged (its stdout).
    fn logs(mut self) -> String {
        let _ = self.0.kill();
        let mut logs = String::new();
        if let Some(mut out) = self.0.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut logs);
        }
        logs
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn response(answer: Answer) -> Value {
    match answer {
        Answer::Response(v) => v,
        Answer::Error(e) => panic!("the function failed: {e}"),
    }
}

const ANSWER_WITHIN: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_binaries_answer_through_the_lambda_runtime_api() {
    let (backend, settings, clients) = moto::fresh().await;
    put_event_files(&clients, &settings.bucket).await;

    let loads = RuntimeApi::start();
    let _load_inventory = Function::spawn(env!("CARGO_BIN_EXE_load-inventory"), &loads, &settings);
    let event = event_json("s3-object-created.json", &settings.bucket);
    let answer = tokio::task::spawn_blocking(move || loads.invoke(&event, ANSWER_WITHIN))
        .await
        .unwrap();
    let outcomes: Vec<String> = response(answer)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["loaded", "loaded", "loaded", "rejected"]);
    assert_eq!(stock(&backend).await.len(), 18);

    let checks = Arc::new(RuntimeApi::start());
    let _check_stock = Function::spawn(env!("CARGO_BIN_EXE_check-stock"), &checks, &settings);
    let invoke = |name: &'static str| {
        let (checks, event) = (checks.clone(), event_json(name, &settings.bucket));
        tokio::task::spawn_blocking(move || checks.invoke(&event, ANSWER_WITHIN))
    };
    assert_eq!(
        response(invoke("dynamodb-stream-batch.json").await.unwrap()),
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "400000000000000000005"}]})
    );
    assert_eq!(alerts(&backend).await.len(), 3);
    // The batch's two OUT alerts are held for the window (5 s here);
    // a claim a stopped publisher left two minutes ago is sent at once.
    claim_and_stop(&backend, "Pusan", "Echo Show").await;
    assert_eq!(
        response(invoke("scheduled-sweep.json").await.unwrap()),
        serde_json::json!({"published": 1, "recovered_batches": 0, "raised": 0}),
        "the stopped publisher's claim; the window is still open"
    );
    tokio::time::sleep(Duration::from_millis(5300)).await;
    assert_eq!(
        response(invoke("scheduled-sweep.json").await.unwrap()),
        serde_json::json!({"published": 2, "recovered_batches": 0, "raised": 0}),
        "the window, once no new alert came for its length"
    );

    // A load that cannot finish fails the invocation, so Lambda retries it.
    let broken = AwsSettings {
        table: format!("{}-missing", settings.table),
        ..settings.clone()
    };
    let retries = RuntimeApi::start();
    let _failing = Function::spawn(env!("CARGO_BIN_EXE_load-inventory"), &retries, &broken);
    let event = event_json("s3-object-created.json", &settings.bucket);
    let answer = tokio::task::spawn_blocking(move || retries.invoke(&event, ANSWER_WITHIN))
        .await
        .unwrap();
    let Answer::Error(error) = answer else {
        panic!("expected a failed invocation")
    };
    assert_eq!(error["errorType"], "LoadFailed", "named for people: {error}");
    let message = error["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("3 of 4 files could not be loaded"), "{message}");
    // Logs Lambda can filter by level: JSON lines with a timestamp and a
    // level at the top, the failure said in one line, not a debug dump.
    let logs = _failing.logs();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["timestamp"].is_string() && l["level"].is_string()),
        "{logs}"
    );
    let failure = lines
        .iter()
        .find(|l| l["level"] == "ERROR" && l["error_type"] == "LoadFailed")
        .unwrap_or_else(|| panic!("no ERROR line for the failure: {logs}"));
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("3 of 4 files could not be loaded"),
        "{failure}"
    );
    assert!(!logs.contains("LoadFailed {"), "a debug dump: {logs}");
}

/// What can never succeed (an event of another kind, sent to a function by
/// mistake) is answered and said once, not failed: Lambda would retry it,
/// then keep it in the failure queue for the sweep to log every minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_of_another_kind_is_dropped_with_one_report_not_retried() {
    let (_, settings, _) = moto::fresh().await;
    let sqs_event = serde_json::json!({"Records": [{"messageId": "1", "eventSource": "aws:sqs", "body": "{}"}]});
    let bridge_event = serde_json::json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}});
    for binary in [env!("CARGO_BIN_EXE_load-inventory"), env!("CARGO_BIN_EXE_check-stock")] {
        let api = Arc::new(RuntimeApi::start());
        let function = Function::spawn(binary, &api, &settings);
        for event in [serde_json::json!({}), sqs_event.clone(), bridge_event.clone()] {
            let (api, sent) = (api.clone(), event.clone());
            let answer = tokio::task::spawn_blocking(move || api.invoke(&sent, ANSWER_WITHIN))
                .await
                .unwrap();
            let answer = response(answer);
            assert!(answer["dropped"].is_string(), "{binary}, {event}: {answer}");
        }
        let logs = function.logs();
        let said = logs.lines().filter(|l| l.contains("dropped, not retried")).count();
        assert_eq!(said, 3, "one report each: {logs}");
    }
    // A stream batch this build cannot read is not dropped: it fails, so
    // Lambda retries it and keeps it in the failure queue for the sweep.
    let batch = serde_json::json!({"Records": [{"eventSource": "aws:dynamodb", "eventName": "INSERT"}]});
    let function = CheckStock::new(checker(
        &connect_with(&settings, moto::clients().await).await.unwrap(),
        60_000,
    ));
    let failed = check_stock::handle_any(&function, batch).await.unwrap_err();
    assert_eq!(failed.kind(), "UnreadableBatch", "{failed}");
}

#[test]
fn a_function_without_its_settings_stops_saying_which() {
    let api = RuntimeApi::start();
    let mut settings = moto::unique_settings();
    settings.topic_arn = Some("arn:aws:sns:us-east-1:123456789012:NoStock".into());
    for binary in [env!("CARGO_BIN_EXE_load-inventory"), env!("CARGO_BIN_EXE_check-stock")] {
        let out = Function::start(binary, &api, &settings, Some("STOCKWATCH_TOPIC_ARN"))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("STOCKWATCH_TOPIC_ARN: not set") && said.contains("deploy/template.yaml"),
            "{said}"
        );
    }
}

/// Berlin out of Echo Dot (and not of Echo Show), loaded straight away.
async fn upload_berlin_out_of_echo_dot(backend: &Ports) {
    Loader::new(backend.clone())
        .upload(
            "gone.csv",
            Bytes::from_static(b"store,item,count\nBerlin,Echo Dot,0\nBerlin,Echo Show,9\n"),
            None,
            None,
        )
        .await
        .unwrap();
}

/// A plain SQS queue for a function's failures, and a client for it.
async fn failure_queue(clients: &Clients, name: &str) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&moto::sdk_config().await);
    let url = sqs
        .create_queue()
        .queue_name(format!("failures-{name}-{}", std::process::id()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let _ = clients;
    (sqs, url)
}

async fn queued(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    out.attributes()
        .map(|a| a.values().filter_map(|v| v.parse::<usize>().ok()).sum())
        .unwrap_or(0)
}

/// After its retries, the stream trigger gives a batch up to the failure
/// queue: the record of its shard and sequence range. The scheduled sweep
/// reads those records again and raises what they would have raised.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_raises_what_a_stream_batch_given_up_on_would_have() {
    let (backend, settings, clients) = moto::fresh().await;
    let (sns_sqs, sns_url) =
        moto::queue_on_topic(&clients, settings.topic_arn.as_ref().unwrap(), &settings.topic).await;
    upload_berlin_out_of_echo_dot(&backend).await;
    // The batch as the trigger saw it: the stream's records, by sequence number.
    let feed = stockwatch_aws::feed::StreamFeed::new(
        clients.streams.clone(),
        clients.dynamodb.clone(),
        settings.table.clone(),
    );
    let arn = feed.stream_arn().await.unwrap();
    let shard = feed.shards(&arn).await.unwrap()[0].shard_id().unwrap().to_string();
    let iterator = clients
        .streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let records = clients
        .streams
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .unwrap();
    let seqs: Vec<String> = records
        .records()
        .iter()
        .map(|r| r.dynamodb().unwrap().sequence_number().unwrap().to_string())
        .collect();
    assert_eq!(seqs.len(), 2);
    let (sqs, url) = failure_queue(&clients, "check").await;
    let given_up = serde_json::json!({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": shard, "startSequenceNumber": seqs[0], "endSequenceNumber": seqs[1],
            "batchSize": 2, "streamArn": arn
        }
    });
    sqs.send_message()
        .queue_url(&url)
        .message_body(given_up.to_string())
        .send()
        .await
        .unwrap();

    let function = CheckStock::new(checker(&backend, 60_000)).with_failures(
        feed,
        stockwatch_functions::failures::FailureQueue::new(sqs.clone(), url.clone()),
    );
    let sweep = event_json("scheduled-sweep.json", &settings.bucket);
    let response = check_stock::handle_any(&function, sweep.clone()).await.unwrap();
    assert_eq!(
        (response["recovered_batches"].as_u64(), response["raised"].as_u64()),
        (Some(1), Some(1)),
        "{response}"
    );
    assert_eq!(
        moto::texts(&sns_sqs, &sns_url).await,
        ["Berlin is out of stock of Echo Dot"]
    );
    assert_eq!(queued(&sqs, &url).await, 0, "done with, so deleted");
    // Nothing given up on any more: the next sweep raises nothing twice.
    let again = check_stock::handle_any(&function, sweep).await.unwrap();
    assert_eq!(again["recovered_batches"].as_u64(), Some(0));
}

/// S3 events Lambda gave up on, and uploads whose load stopped, are loaded
/// by the load function's scheduled sweep.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_sweep_loads_events_given_up_on_and_stopped_uploads() {
    let (backend, settings, clients) = moto::fresh().await;
    put_event_files(&clients, &settings.bucket).await;
    let (sqs, url) = failure_queue(&clients, "load").await;
    let event = event_json("s3-object-created.json", &settings.bucket);
    let given_up = serde_json::json!({
        "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": event,
        "version": "1.0"
    });
    sqs.send_message()
        .queue_url(&url)
        .message_body(given_up.to_string())
        .send()
        .await
        .unwrap();
    // And an upload stored by a loader that stopped before loading it.
    // Named as its uploader named it an hour ago (no date in a fixture).
    let uploaded = stockwatch_domain::Timestamp(stockwatch_domain::Timestamp::now().0 - 3_600_000);
    let stopped = ObjectKey::parse(&format!(
        "uploads/{}-dead/inventory-shanghai.csv",
        uploaded.to_compact()
    ))
    .unwrap();
    backend
        .objects
        .put(&stopped, &sample("samples/inventory-shanghai.csv").into(), None, None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let function = load_inventory::LoadInventory {
        loader: Loader::new(backend.clone()).with_lease(Duration::from_millis(1)),
        bucket: settings.bucket.clone(),
        failures: Some(stockwatch_functions::failures::FailureQueue::new(
            sqs.clone(),
            url.clone(),
        )),
    };
    let response = load_inventory::handle_any(&function, event_json("scheduled-sweep.json", &settings.bucket))
        .await
        .unwrap();
    assert_eq!(response["recovered_events"].as_u64(), Some(1), "{response}");
    assert!(response["resumed"].as_u64() >= Some(1), "{response}");
    assert_eq!(
        backend.objects.head(&stopped).await.unwrap().status,
        ObjectStatus::Loaded
    );
    let stores: std::collections::BTreeSet<String> = stock(&backend).await.into_iter().map(|r| r.0).collect();
    assert!(stores.contains("Shanghai") && stores.contains("Berlin"), "{stores:?}");
    assert_eq!(queued(&sqs, &url).await, 0);
}

/// What a follower's queue brings, waiting up to 10 s for something.
async fn receive_some(
    ports: &Ports,
    follower: &mut stockwatch_core::ports::Subscription,
) -> Vec<stockwatch_core::ports::Event> {
    for _ in 0..10 {
        let got = ports.fanout.receive(follower, Duration::from_secs(1)).await.unwrap();
        if !got.is_empty() {
            return got;
        }
    }
    Vec::new()
}

/// With a fan-out topic, check-stock is the stack's publisher: the changes
/// of the batches it checks, and (its second trigger) the ledger's alert
/// states reach a follower's queue; its sweep says it is alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_publishes_the_fan_out_feed() {
    let (_, settings, clients) = moto::fresh().await;
    let ports = stockwatch_aws::connect_publisher(&settings, clients.clone())
        .await
        .unwrap();
    let mut follower = ports.fanout.subscribe("a console").await.unwrap();
    let function =
        CheckStock::new(checker(&ports, 60_000)).publishing(ports.fanout.clone(), settings.ledger_table.clone());
    let batch = event_json("dynamodb-stream-batch.json", &settings.bucket);
    check_stock::handle_any(&function, batch).await.unwrap();
    let received = receive_some(&ports, &mut follower).await;
    let changed: Vec<(String, String)> = received
        .iter()
        .filter_map(|e| match e {
            stockwatch_core::ports::Event::Change(c) => Some((c.store.clone(), c.item.clone())),
            _ => None,
        })
        .collect();
    assert!(changed.contains(&("Berlin".into(), "Dot".into())), "{received:?}");

    // The ledger's stream: a record of the alert the batch raised.
    let raised = ports
        .ledger
        .list(&AlertFilter::default(), None, 10)
        .await
        .unwrap()
        .items;
    let alert = raised.iter().find(|a| a.item == "Dot").unwrap();
    let stream = format!(
        "arn:aws:dynamodb:us-east-1:123456789012:table/{}/stream/2026-11-30T00:00:00.000",
        settings.ledger_table
    );
    let record = moto::ledger_batch(&clients.dynamodb, &settings.ledger_table, alert, &stream).await;
    let response = check_stock::handle_any(&function, record).await.unwrap();
    assert!(failures(&response).is_empty(), "{response}");
    let relayed = receive_some(&ports, &mut follower).await;
    assert!(
        relayed
            .iter()
            .any(|e| matches!(e, stockwatch_core::ports::Event::Alert(a) if a.id == alert.id)),
        "{relayed:?}"
    );
    assert_eq!(
        alerts(&ports).await.len(),
        3,
        "relaying alert states raised nothing more"
    );

    // The sweep beats: a console started now follows through the topic.
    let sweep = event_json("scheduled-sweep.json", &settings.bucket);
    check_stock::handle_any(&function, sweep).await.unwrap();
    let mut stack = settings.clone();
    stack.fanout_topic_arn = None;
    let console = connect_with(&stack, clients.clone()).await.unwrap();
    assert!(console.relayed, "a live publisher is found");
    ports.fanout.unsubscribe(&follower).await.unwrap();
}

/// Batches given up on whose records the stream no longer keeps: the sweep
/// reads the table once for all of them (a Scan per batch was up to 50 a
/// minute), raises what they would have raised, and is done with each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sweep_reads_the_table_once_for_every_batch_no_longer_kept() {
    let (backend, settings, clients) = moto::fresh().await;
    upload_berlin_out_of_echo_dot(&backend).await;
    let (sqs, url) = failure_queue(&clients, "check").await;
    // A stream of the table's that is gone (disabled and aged out).
    let gone = format!(
        "arn:aws:dynamodb:us-east-1:123456789012:table/{}/stream/2026-01-01T00:00:00.000",
        settings.table
    );
    for n in 0..3 {
        let batch = serde_json::json!({"DDBStreamBatchInfo": {"streamArn": gone, "shardId": format!("shardId-{n}"),
            "startSequenceNumber": "100", "endSequenceNumber": "200", "batchSize": 2}});
        sqs.send_message()
            .queue_url(&url)
            .message_body(batch.to_string())
            .send()
            .await
            .unwrap();
    }
    let proxy = counting_proxy(&moto::endpoint());
    let counted_clients = Clients::from_config(&moto::sdk_config_at(&proxy.url).await, true, None).unwrap();
    let ports = connect_with(&settings, counted_clients.clone()).await.unwrap();
    // The stream, as AWS answers for records past its 24 hours.
    let trimmed = scripted::serve(|_, _| scripted::error(400, "TrimmedDataAccessException", "trimmed"));
    let streams_config = moto::sdk_config_at(&trimmed.url).await;
    let feed = stockwatch_aws::feed::StreamFeed::new(
        aws_sdk_dynamodbstreams::Client::new(&streams_config),
        counted_clients.dynamodb.clone(),
        settings.table.clone(),
    );
    let function = CheckStock::new(checker(&ports, 60_000)).with_failures(
        feed,
        stockwatch_functions::failures::FailureQueue::new(sqs.clone(), url.clone()),
    );
    proxy.reset();
    let response = check_stock::handle_any(&function, event_json("scheduled-sweep.json", &settings.bucket))
        .await
        .unwrap();
    assert_eq!(response["recovered_batches"].as_u64(), Some(3), "{response}");
    assert_eq!(response["raised"].as_u64(), Some(1), "{response}");
    assert_eq!(proxy.count("Scan"), 1, "one read of the table for the three batches");
    assert_eq!(queued(&sqs, &url).await, 0, "done with, so deleted");
}
