//! The AWS backend against moto, beyond the shared contract: what reaches
//! SNS (read through an SQS queue subscribed to the topic), provisioning,
//! and the real binary behaving as it does on the local backend.

use stockwatch_testkit as common;
use stockwatch_testkit::moto;
use stockwatch_testkit::throttle_proxy;

use bytes::Bytes;
use common::{samples, stderr, stdout};
use serde_json::Value;
use std::process::Command;
use stockwatch_aws::provision::{Request, provision};
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_stock_alerts_reach_sns_once_with_the_original_subject_and_message() {
    let (backend, settings, clients) = moto::fresh().await;
    let (sqs, url) = moto::queue_on_topic(&clients, settings.topic_arn.as_ref().unwrap(), &settings.topic).await;
    let loader = Loader::new(backend.clone());
    for file in samples() {
        let body = Bytes::from(std::fs::read(common::repo().join(&file)).unwrap());
        assert!(loader.upload(&file, body, None, None).await.unwrap().is_loaded());
    }
    // Two checkers on the same feed: still one message per transition.
    let first = Checker::new(
        backend.clone(),
        CheckerConfig {
            name: "one".into(),
            ..Default::default()
        },
    );
    let second = Checker::new(
        backend.clone(),
        CheckerConfig {
            name: "two".into(),
            ..Default::default()
        },
    );
    let (a, b) = tokio::join!(first.run_once(), second.run_once());
    assert_eq!(
        a.unwrap().raised.len() + b.unwrap().raised.len(),
        9,
        "6 OUT and 3 LOW, each claimed once"
    );
    let messages = moto::drain(&sqs, &url).await;
    let mut texts: Vec<String> = messages
        .iter()
        .map(|m| m["Message"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            "Berlin is out of stock of Echo Plus",
            "Calcutta is out of stock of Echo (2nd Gen)",
            "Karachi is out of stock of Echo Plus",
            "Pusan is out of stock of Echo Show",
            "Shanghai is out of stock of Echo Show",
            "Springfield is out of stock of Echo Dot"
        ]
    );
    assert!(messages.iter().all(|m| m["Subject"] == "Inventory Alert!"));
}

#[tokio::test]
async fn provisioning_twice_finds_everything_and_a_wrong_stream_is_refused() {
    let clients = moto::clients().await;
    let settings = moto::unique_settings();
    let (first, _) = provision(
        &clients,
        Request {
            settings: &settings,
            email: Some("ops@example.com"),
            sms: None,
        },
    )
    .await
    .unwrap();
    assert!(first.iter().all(|s| s.created), "{first:?}");
    assert_eq!(
        first.len(),
        8,
        "bucket, its lifecycle rule, table, history table, ledger, topic, fan-out topic, email subscription"
    );
    // Parts of uploads nobody finished (a killed process) expire, as the
    // template's bucket has it.
    let rules = clients
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(&settings.bucket)
        .send()
        .await
        .unwrap();
    assert!(
        rules.rules().iter().any(|r| r
            .abort_incomplete_multipart_upload()
            .and_then(|a| a.days_after_initiation())
            == Some(1)),
        "{rules:?}"
    );
    let (again, _) = provision(
        &clients,
        Request {
            settings: &settings,
            email: Some("ops@example.com"),
            sms: None,
        },
    )
    .await
    .unwrap();
    assert!(again.iter().all(|s| !s.created), "{again:?}");

    // A table made by hand with the wrong stream view.
    let mut wrong = moto::unique_settings();
    wrong.table = format!("{}-keys-only", wrong.table);
    let key = |name: &str, kind| {
        aws_sdk_dynamodb::types::KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let attr = |name: &str| {
        aws_sdk_dynamodb::types::AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    clients
        .dynamodb
        .create_table()
        .table_name(&wrong.table)
        .key_schema(key("Store", aws_sdk_dynamodb::types::KeyType::Hash))
        .key_schema(key("Item", aws_sdk_dynamodb::types::KeyType::Range))
        .attribute_definitions(attr("Store"))
        .attribute_definitions(attr("Item"))
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::KeysOnly)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let err = provision(
        &clients,
        Request {
            settings: &wrong,
            email: None,
            sms: None,
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("KEYS_ONLY") && err.contains("StreamViewType=NEW_AND_OLD_IMAGES"),
        "{err}"
    );
}

/// The real binary on moto, named by environment like an operator would.
fn stockwatch(settings: &stockwatch_aws::AwsSettings, dir: &std::path::Path) -> Command {
    moto::stockwatch_on(settings, dir, &moto::endpoint(), None)
}

fn json_of(out: std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)))
}

#[test]
fn the_cli_behaves_on_aws_as_on_the_local_backend() {
    let dir = tempfile::tempdir().unwrap();
    let settings = moto::unique_settings();
    let run = |args: &[&str]| stockwatch(&settings, dir.path()).args(args).output().unwrap();

    let out = run(&["provision"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created table"), "{}", stdout(&out));

    let mut upload = vec!["upload"];
    let files = samples();
    upload.extend(files.iter().map(String::as_str));
    let out = run(&upload);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).matches(": loaded 6 rows (1 store)").count(),
        6,
        "{}",
        stdout(&out)
    );

    let alerts = json_of(run(&["alerts", "--json"]));
    let outs = alerts.as_array().unwrap().iter().filter(|a| a["kind"] == "OUT").count();
    assert_eq!((outs, alerts.as_array().unwrap().len()), (6, 9));
    let stock = json_of(run(&["stock", "--out", "--json"]));
    assert_eq!(stock.as_array().unwrap().len(), 6);

    let invalid = run(&["upload", "samples/invalid/bad-counts.csv"]);
    assert_eq!(invalid.status.code(), Some(3));
    assert!(stdout(&invalid).contains("line 2, column 3 (count): `4.5` is not a whole number"));
    assert_eq!(
        json_of(run(&["stock", "--json"])).as_array().unwrap().len(),
        36,
        "the rejected file wrote nothing"
    );

    let again = run(&upload);
    assert_eq!(
        stdout(&again).matches("0 changed, 6 unchanged").count(),
        6,
        "{}",
        stdout(&again)
    );
    assert_eq!(
        json_of(run(&["alerts", "--all", "--json"])).as_array().unwrap().len(),
        9,
        "nothing new raised"
    );

    let id = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["item"] == "Echo Plus" && a["store"] == "Berlin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ack = run(&["ack", &id, "--note", "truck on the way"]);
    assert!(ack.status.success(), "{}", stderr(&ack));
    assert_eq!(run(&["ack", &id]).status.code(), Some(5));
    assert_eq!(run(&["ack", "99999"]).status.code(), Some(4));
    let acked = json_of(run(&["alerts", "--json"]));
    let berlin = acked
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id.as_str())
        .unwrap();
    assert_eq!(berlin["acknowledged"]["by"], "tester");
    assert_eq!(berlin["acknowledged"]["note"], "truck on the way");

    let uploads = json_of(run(&["uploads", "--json", "--limit", "100"]));
    assert!(uploads.as_array().unwrap().iter().any(|u| u["status"] == "rejected"));
}

/// History and forecasts through the real binary on moto: two weeks of
/// daily snapshots loaded with `--spread`, each upload's check keeping the
/// stream's changes in the history table; `history`, `stock --soon` and a
/// SOON alert as on the local backend.
#[test]
fn history_and_forecasts_work_on_aws() {
    let dir = tempfile::tempdir().unwrap();
    let settings = moto::unique_settings();
    let run = |args: &[&str]| stockwatch(&settings, dir.path()).args(args).output().unwrap();
    assert!(run(&["provision"]).status.success());
    let files: Vec<String> = (1..=14).map(|d| format!("samples/history/day-{d:02}.csv")).collect();
    let mut upload = vec!["upload", "--spread", "1d"];
    upload.extend(files.iter().map(String::as_str));
    let out = run(&upload);
    assert!(out.status.success(), "{}", stderr(&out));

    let points = json_of(run(&["history", "--store", "Berlin", "--item", "Echo Dot", "--json"]));
    let counts: Vec<u64> = points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .collect();
    assert_eq!(
        counts,
        [23, 21, 17, 15, 12, 6, 4, 2, 27, 22, 22, 22, 17, 12],
        "the sample's days"
    );
    let text = stdout(&run(&["history", "--store", "Berlin", "--item", "Echo Dot"]));
    assert!(text.contains("Sells 3.0 a day (last 14 days): 4.0 days left"), "{text}");

    let soon = json_of(run(&["stock", "--soon", "5", "--json"]));
    let soon = soon.as_array().unwrap();
    assert!(
        soon.iter().any(|r| r["store"] == "Berlin" && r["item"] == "Echo Dot"),
        "{soon:?}"
    );
    let days: Vec<f64> = soon.iter().map(|r| r["days_left"].as_f64().unwrap()).collect();
    assert!(
        days.windows(2).all(|w| w[0] <= w[1]) && days.iter().all(|d| *d <= 5.0),
        "{days:?}"
    );
    let alerts = json_of(run(&["alerts", "--all", "--json"]));
    assert!(
        alerts.as_array().unwrap().iter().any(|a| a["kind"] == "SOON"),
        "the samples bring items within three days of running out: {alerts}"
    );
}

/// A deployment from before the history (no history table): uploads are
/// checked (OUT and LOW as ever) and `stock` lists everything, days left
/// unknown, saying why once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_history_table_checking_and_listing_go_on() {
    let (_, settings, clients) = moto::fresh().await;
    clients
        .dynamodb
        .delete_table()
        .table_name(stockwatch_aws::history::history_table(&settings.table))
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| stockwatch(&settings, dir.path()).args(args).output().unwrap();
    let out = run(&["upload", "samples/inventory-berlin.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("OUT Berlin is out of stock of Echo Plus"),
        "{}",
        stdout(&out)
    );
    let listed = run(&["stock", "--json"]);
    assert!(stderr(&listed).contains("days left unknown"), "{}", stderr(&listed));
    let rows = json_of(listed);
    assert_eq!(rows.as_array().unwrap().len(), 6);
    assert!(rows.as_array().unwrap().iter().all(|r| r["days_left"].is_null()));
    let soon = run(&["stock", "--soon"]);
    assert!(!soon.status.success(), "--soon cannot do without it");
    assert!(
        stderr(&soon).contains("-history"),
        "names the missing table: {}",
        stderr(&soon)
    );
}

#[test]
fn watch_follows_the_stream_on_aws() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let settings = moto::unique_settings();
    assert!(
        stockwatch(&settings, dir.path())
            .arg("provision")
            .output()
            .unwrap()
            .status
            .success()
    );
    let mut watch = stockwatch(&settings, dir.path())
        // From the start of the (fresh) stream: no race with the upload below
        // on a slow machine, and still following what arrives later.
        .args(["watch", "--json", "--from-start"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = stockwatch(&settings, dir.path())
        .args(["upload", "--no-check", "samples/inventory-berlin.csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = BufReader::new(watch.stdout.take().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut events: Vec<Value> = Vec::new();
    let mut line = String::new();
    while std::time::Instant::now() < deadline && !events.iter().any(|e| e["event"] == "raised") {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        events.push(serde_json::from_str(&line).unwrap());
    }
    watch.kill().unwrap();
    watch.wait().unwrap();
    assert_eq!(events.iter().filter(|e| e["type"] == "change").count(), 6, "{events:?}");
    let raised = events
        .iter()
        .find(|e| e["event"] == "raised")
        .expect("the watch's checker raised the alert");
    assert_eq!(raised["alert"]["item"], "Echo Plus");
}

#[tokio::test]
async fn big_files_upload_in_parts_with_progress() {
    use std::sync::{Arc, Mutex};
    let (backend, _, _) = moto::fresh().await;
    let size = stockwatch_aws::MULTIPART_THRESHOLD + 3 * 1024 * 1024;
    let body = Bytes::from(vec![b'x'; size]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress: stockwatch_core::ports::Progress =
        Arc::new(move |sent, total| sink.lock().unwrap().push((sent, total)));
    let key = stockwatch_core::ports::ObjectKey::parse("uploads/big.csv").unwrap();
    let info = backend
        .objects
        .put(&key, &body.clone().into(), None, Some(progress))
        .await
        .unwrap();
    assert_eq!(info.size, size as u64);
    assert_eq!(backend.objects.get(&key).await.unwrap(), body);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 3, "progress at the start and after each part: {seen:?}");
    assert_eq!(seen.last(), Some(&(size as u64, size as u64)));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn missing_settings_and_resources_are_one_sentence_each() {
    let dir = tempfile::tempdir().unwrap();
    let settings = moto::unique_settings();
    let run = |cmd: &mut Command| cmd.output().unwrap();

    let out = run(stockwatch(&settings, dir.path())
        .env_remove("STOCKWATCH_BUCKET")
        .arg("stock"));
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert!(
        said.contains("needs a bucket: pass --stack NAME") && said.contains("--bucket NAME"),
        "{said}"
    );

    let mut beside_no_stack = stockwatch(&settings, dir.path());
    for name in ["BUCKET", "TABLE", "LEDGER_TABLE", "TOPIC"] {
        beside_no_stack.env_remove(format!("STOCKWATCH_{name}"));
    }
    let out = run(beside_no_stack.args(["--stack", "no-such-stack", "stock"]));
    assert_ne!(out.status.code(), Some(0));
    let said = stderr(&out);
    assert!(
        said.contains("there is no stack no-such-stack in us-east-1") && said.contains("sam deploy --guided"),
        "{said}"
    );

    let out = run(stockwatch(&settings, dir.path())
        .env_remove("AWS_REGION")
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .arg("stock"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no AWS region is set; set AWS_REGION"),
        "{}",
        stderr(&out)
    );

    // Nothing provisioned under these names yet.
    let out = run(stockwatch(&settings, dir.path()).arg("stock"));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not exist") && stderr(&out).contains("stockwatch --backend aws provision"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
}

/// A cancelled upload (its task dropped mid-way, as the console's cancel
/// does) aborts its multipart upload: no parts are left costing storage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_multipart_upload_leaves_no_parts() {
    use std::sync::Arc;
    let (backend, settings, clients) = moto::fresh().await;
    let size = 3 * stockwatch_aws::MULTIPART_THRESHOLD;
    let body = Bytes::from(vec![b'x'; size]);
    let (first_part, mut sent) = tokio::sync::mpsc::unbounded_channel();
    let progress: stockwatch_core::ports::Progress = Arc::new(move |done, _| {
        if done > 0 {
            let _ = first_part.send(());
        }
    });
    let key = stockwatch_core::ports::ObjectKey::parse("uploads/cancelled.csv").unwrap();
    let objects = backend.objects.clone();
    let upload = tokio::spawn(async move { objects.put(&key, &body.into(), None, Some(progress)).await });
    sent.recv().await.expect("a part was sent");
    upload.abort();
    let mut left = usize::MAX;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let listed = clients
            .s3
            .list_multipart_uploads()
            .bucket(&settings.bucket)
            .send()
            .await
            .unwrap();
        left = listed.uploads().len();
        if left == 0 {
            break;
        }
    }
    assert_eq!(left, 0, "the cancelled upload's parts were left in the bucket");
}

/// A 1 Mbit/s uplink can upload: every request that carries a body may
/// take what the body needs at the slowest supported rate (with 8 MiB
/// parts and a fixed 30 s per attempt, every attempt failed below about
/// 2.3 Mbit/s). One full part and a bit through a 1 Mbit/s proxy (~45 s);
/// a 50 MB file is ten such parts, each with its own time and retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_megabit_link_uploads_a_file_in_parts() {
    let slow = throttle_proxy::throttle_proxy(&moto::endpoint(), 1_000_000 / 8);
    let (backend, _, _) = moto::fresh_at(&slow.url).await;
    let size = stockwatch_aws::MULTIPART_THRESHOLD + 100 * 1024;
    let body = Bytes::from(vec![b'x'; size]);
    let key = stockwatch_core::ports::ObjectKey::parse("uploads/over-a-slow-link.csv").unwrap();
    let started = std::time::Instant::now();
    let info = backend
        .objects
        .put(&key, &body.clone().into(), None, None)
        .await
        .unwrap();
    assert_eq!(info.size, size as u64);
    assert!(
        started.elapsed() > std::time::Duration::from_secs(40),
        "the link was really slow: {:?}",
        started.elapsed()
    );
}

/// What people receive on AWS, read back through an SQS queue subscribed
/// to the topic, from the real binary: three items out in Berlin are one
/// message naming the three, a snoozed store's alert sends nothing, and
/// with STOCKWATCH_RENOTIFY_AFTER=2s an unacknowledged alert is reminded
/// once per interval, and not after `ack`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_snoozed_and_reminded_messages_reach_the_topic() {
    let dir = tempfile::tempdir().unwrap();
    let clients = moto::clients().await;
    let mut settings = moto::unique_settings();
    let (_, topic) = moto::provisioned(&clients, &settings).await;
    settings.topic_arn = Some(topic.clone());
    let (sqs, url) = moto::queue_on_topic(&clients, &topic, &settings.topic).await;
    let run = |args: &[&str], renotify: Option<&str>| {
        let mut cmd = stockwatch(&settings, dir.path());
        if let Some(after) = renotify {
            cmd.env("STOCKWATCH_RENOTIFY_AFTER", after);
        }
        let out = cmd.args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let received = || async {
        moto::drain(&sqs, &url)
            .await
            .iter()
            .map(|m| {
                (
                    m["Subject"].as_str().unwrap().to_string(),
                    m["Message"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    run(&["snooze", "--store", "Pusan", "--for", "1h"], None);
    let file = dir.path().join("three.csv");
    std::fs::write(
        &file,
        "store,item,count\nBerlin,Echo Plus,0\nBerlin,Echo Dot,0\nBerlin,Echo Show,0\nPusan,Amazon Tap,0\n",
    )
    .unwrap();
    run(&["upload", file.to_str().unwrap()], None);
    let first = received().await;
    assert_eq!(
        first.len(),
        1,
        "Berlin's three in one message, Pusan snoozed: {first:?}"
    );
    let (subject, text) = &first[0];
    assert_eq!(subject, "Inventory Alert!");
    let (head, items) = text.split_once(": ").unwrap();
    assert_eq!(head, "Berlin is out of stock of 3 items");
    let mut items: Vec<&str> = items.split(", ").collect();
    items.sort();
    assert_eq!(items, ["Echo Dot", "Echo Plus", "Echo Show"]);
    let alerts = json_of(run(&["alerts", "--json"], None));
    let pusan = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["store"] == "Pusan")
        .unwrap();
    assert_eq!(pusan["snoozed"]["by"], "tester", "raised, shown snoozed: {pusan}");

    run(&["check"], Some("2s"));
    assert!(received().await.is_empty(), "not due yet");
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    run(&["check"], Some("2s"));
    run(&["check"], Some("2s"));
    let reminders = received().await;
    assert_eq!(reminders.len(), 1, "once per interval: {reminders:?}");
    assert_eq!(reminders[0].0, "Inventory Alert! (reminder)");
    assert!(
        reminders[0].1.starts_with("Berlin is still out of stock after ")
            && reminders[0].1.contains(" s, unacknowledged: "),
        "{reminders:?}"
    );
    for alert in alerts.as_array().unwrap().iter().filter(|a| a["store"] == "Berlin") {
        run(&["ack", alert["id"].as_str().unwrap()], None);
    }
    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    run(&["check"], Some("2s"));
    assert!(received().await.is_empty(), "acknowledged: no more reminders");
}
