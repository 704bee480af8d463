//! How check-stock sends, called as Lambda calls it, against moto, with the
//! messages read back through SQS queues subscribed to the topics: a file's
//! rows arriving as 50 stream batches are one message per store, sent by
//! the scheduled sweep once the grouping window closes; reminders come once
//! per interval from the sweep, to the escalation topic.

use stockwatch_testkit as common;
use stockwatch_testkit::moto;

use serde_json::{Value, json};
use std::time::Duration;
use stockwatch_aws::connect_with;
use stockwatch_core::pipeline::{Checker, CheckerConfig};
use stockwatch_core::ports::{AlertFilter, Ports, all_pages};
use stockwatch_domain::{Acknowledgement, Timestamp};
use stockwatch_functions::check_stock::{self, CheckStock};

const SOURCE: &str = "uploads/20261130-080000.000-1a/inventory-all.csv";

/// A stream record of `store`'s `item` going from 5 to `count`.
fn record(store: &str, item: &str, count: u32, sequence: u64) -> Value {
    let image = |count: u32, as_of: i64| {
        json!({
            "Store": {"S": store}, "Item": {"S": item}, "Count": {"N": count.to_string()},
            "AsOf": {"N": as_of.to_string()}, "Source": {"S": SOURCE}
        })
    };
    json!({
        "eventID": format!("event-{sequence}"),
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795767342,
            "Keys": {"Store": {"S": store}, "Item": {"S": item}},
            "SequenceNumber": format!("{sequence:021}"),
            "SizeBytes": 120,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "OldImage": image(5, 1_795_766_400_000),
            "NewImage": image(count, 1_795_766_500_000),
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/stockwatch-InventoryTable-1A2B3C/stream/2026-11-27T08:00:00.000"
    })
}

fn sweep_event() -> Value {
    let path = common::repo().join("tests/events/scheduled-sweep.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn function(backend: &Ports, name: &str, change: impl FnOnce(&mut CheckerConfig)) -> CheckStock {
    let mut config = CheckerConfig {
        name: name.into(),
        ..CheckerConfig::default()
    };
    change(&mut config);
    CheckStock::new(Checker::new(backend.clone(), config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_arriving_as_50_stream_batches_is_one_message_per_store() {
    let (backend, settings, clients) = moto::fresh().await;
    let (sqs, url) = moto::queue_on_topic(&clients, settings.topic_arn.as_ref().unwrap(), &settings.topic).await;
    let stores = ["Berlin", "Calcutta", "Karachi", "Pusan", "Shanghai"];
    let records: Vec<Value> = (0..500u64)
        .map(|i| {
            let store = stores[i as usize % 5];
            let count = if i % 50 < 5 { 0 } else { 7 };
            record(store, &format!("Item {i:03}"), count, i + 1)
        })
        .collect();
    // Long enough that a loaded machine between alert batches (every fifth
    // batch holds some) does not close the window early.
    let wait = Duration::from_secs(8);
    let instance = function(&backend, "check-stock", |c| c.group_wait = wait);
    for batch in records.chunks(10) {
        let response = check_stock::handle_any(&instance, json!({ "Records": batch }))
            .await
            .unwrap();
        assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    }
    let sent = moto::texts(&sqs, &url).await;
    assert!(sent.is_empty(), "the batches' alerts are held for the window: {sent:?}");
    let early = check_stock::handle_any(&instance, sweep_event()).await.unwrap();
    assert_eq!(early["published"], 0, "the window is open: its newest alert is new");

    tokio::time::sleep(wait + Duration::from_millis(300)).await;
    let other = function(&backend, "check-stock", |c| c.group_wait = wait);
    let swept = check_stock::handle_any(&other, sweep_event()).await.unwrap();
    assert_eq!(swept["published"], 50, "{swept}");
    let texts = moto::texts(&sqs, &url).await;
    assert_eq!(texts.len(), 5, "one per store: {texts:?}");
    for (store, text) in stores.iter().zip(&texts) {
        let (head, items) = text.split_once(": ").unwrap();
        assert_eq!(head, format!("{store} is out of stock of 10 items"));
        assert_eq!(items.split(", ").count(), 10, "{text}");
    }
    let alerts = all_pages(|page| {
        let backend = backend.clone();
        async move { backend.ledger.list(&AlertFilter::default(), page.as_ref(), 100).await }
    })
    .await
    .unwrap();
    assert_eq!(alerts.len(), 50);
    assert!(alerts.iter().all(|a| a.published_at.is_some()));
    let again = check_stock::handle_any(&other, sweep_event()).await.unwrap();
    assert_eq!(again["published"], 0, "a window is sent once");
    assert!(moto::texts(&sqs, &url).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_sends_reminders_once_per_interval_to_the_escalation_topic() {
    let (_, mut settings, clients) = moto::fresh().await;
    let topic = settings.topic_arn.clone().unwrap();
    let escalation = clients
        .sns
        .create_topic()
        .name(format!("{}-escalation", settings.topic))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    settings.escalation_topic_arn = Some(escalation.clone());
    let backend = connect_with(&settings, clients.clone()).await.unwrap();
    let (sqs, alerts_url) = moto::queue_on_topic(&clients, &topic, &settings.topic).await;
    let (_, managers_url) = moto::queue_on_topic(&clients, &escalation, &format!("{}-managers", settings.topic)).await;
    let every = Duration::from_millis(1500);
    let reminding = |name: &str| {
        function(&backend, name, |c| {
            c.renotify_after = Some(every);
            c.group_wait = Duration::ZERO;
        })
    };
    let (one, two) = (reminding("check-stock"), reminding("check-stock"));
    let batch = json!({ "Records": [record("Berlin", "Echo Dot", 0, 1), record("Berlin", "Echo Show", 0, 2)] });
    check_stock::handle_any(&one, batch).await.unwrap();
    assert_eq!(
        moto::texts(&sqs, &alerts_url).await,
        ["Berlin is out of stock of 2 items: Echo Dot, Echo Show"]
    );
    let sweep_both = || async {
        let (a, b) = tokio::join!(
            check_stock::handle_any(&one, sweep_event()),
            check_stock::handle_any(&two, sweep_event())
        );
        a.unwrap()["published"].as_u64().unwrap() + b.unwrap()["published"].as_u64().unwrap()
    };
    assert_eq!(sweep_both().await, 0, "not due yet");

    tokio::time::sleep(every + Duration::from_millis(300)).await;
    assert_eq!(sweep_both().await, 2, "each alert reminded once, by one of the two");
    let reminders = moto::texts(&sqs, &managers_url).await;
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert!(
        reminders[0].starts_with("Berlin is still out of stock after ")
            && reminders[0].ends_with(" s, unacknowledged: Echo Dot, Echo Show"),
        "{reminders:?}"
    );
    assert!(moto::texts(&sqs, &alerts_url).await.is_empty(), "reminders escalate");

    let open = backend
        .ledger
        .list(&AlertFilter::default(), None, 10)
        .await
        .unwrap()
        .items;
    for alert in &open {
        let ack = Acknowledgement {
            by: "ana".into(),
            at: Timestamp::now(),
            note: None,
        };
        backend.ledger.acknowledge(alert.id, &ack).await.unwrap();
    }
    tokio::time::sleep(every + Duration::from_millis(300)).await;
    assert_eq!(sweep_both().await, 0, "acknowledged: no more reminders");
    assert!(moto::texts(&sqs, &managers_url).await.is_empty());
}
