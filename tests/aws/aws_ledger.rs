//! The ledger on DynamoDB (moto) is queried, not scanned: a counting proxy
//! in front of moto sees every request of the paths a console, `watch` and
//! the checker take all day, and none of them is a Scan. A ledger made by
//! an older version is upgraded in place by `provision`.

use stockwatch_testkit as common;
use stockwatch_testkit::delay_proxy;
use stockwatch_testkit::moto;

use bytes::Bytes;
use stockwatch_aws::ledger::{DynamoLedger, INDEXES};
use stockwatch_core::pipeline::{Checker, CheckerConfig, Loader};
use stockwatch_core::ports::{AlertClaims, AlertFilter, Alerts};
use stockwatch_domain::{Acknowledgement, Timestamp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_paths_query_the_ledger_and_never_scan_it() {
    let proxy = delay_proxy::counting_proxy(&moto::endpoint());
    let (backend, settings, clients) = moto::fresh_at(&proxy.url).await;
    let loader = Loader::new(backend.clone());
    let checker = Checker::new(backend.clone(), CheckerConfig::default());
    let follower_tip = backend.ledger.tip().await.unwrap();
    for file in ["samples/inventory-berlin.csv", "samples/inventory-pusan.csv"] {
        let body = Bytes::from(std::fs::read(common::repo().join(file)).unwrap());
        assert!(loader.upload(file, body, None, None).await.unwrap().is_loaded());
    }
    proxy.reset();

    // What runs all day: the checker's passes (stale claims, restocks), a
    // follower's polls, the console's listing of unresolved alerts.
    let raised = checker.run_once().await.unwrap().raised;
    assert_eq!(raised.len(), 3, "Berlin OUT, Pusan OUT and LOW");
    let page = backend.ledger.changes_since(Some(&follower_tip), 100).await.unwrap();
    assert!(page.alerts.len() >= 3, "the follower sees them: {:?}", page.alerts);
    let open = backend
        .ledger
        .list(&AlertFilter::default(), None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(open.len(), 3);
    // A console that never saw the alert acknowledges it by its number.
    let another = DynamoLedger::followed(
        clients.dynamodb.clone(),
        clients.streams.clone(),
        settings.ledger_table.clone(),
    );
    let ack = Acknowledgement {
        by: "ana".into(),
        at: Timestamp::now(),
        note: None,
    };
    another.acknowledge(open[0].id, &ack).await.unwrap();
    // A restock resolves the Berlin alert; the next pass finds it by item.
    let restock = "store,item,count\nBerlin,Echo Plus,20\n";
    assert!(
        loader
            .upload("restock.csv", Bytes::from(restock), None, None)
            .await
            .unwrap()
            .is_loaded()
    );
    checker.run_once().await.unwrap();
    let resolved = backend
        .ledger
        .list(&AlertFilter::default(), None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(resolved.len(), 2, "the restocked item's alert left the unresolved list");
    backend.ledger.changes_since(Some(&page.cursor), 100).await.unwrap();
    backend.ledger.tip().await.unwrap();

    assert_eq!(
        proxy.count("Scan"),
        0,
        "no Scan on any periodic path: {:?}",
        proxy.counts.lock().unwrap()
    );
    assert!(
        proxy.count("Query") > 0,
        "the indexes were queried: {:?}",
        proxy.counts.lock().unwrap()
    );
}

#[tokio::test]
async fn provision_upgrades_a_ledger_made_by_an_older_version() {
    let clients = moto::clients().await;
    let settings = moto::unique_settings();
    // The old ledger: a key, no indexes, no stream.
    clients
        .dynamodb
        .create_table()
        .table_name(&settings.ledger_table)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // An alert it held: open, notified, from before reminders existed.
    let n = |v: i64| aws_sdk_dynamodb::types::AttributeValue::N(v.to_string());
    let text = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.into());
    let sent_at = stockwatch_domain::Timestamp::now().0 - 7_200_000;
    clients
        .dynamodb
        .put_item()
        .table_name(&settings.ledger_table)
        .item("pk", text("claim#[\"Berlin\",\"Dot\",1]#OUT"))
        .item("AlertId", n(1))
        .item("ChangeId", text("c1"))
        .item("Kind", text("OUT"))
        .item("Store", text("Berlin"))
        .item("Item", text("Dot"))
        .item("Count", n(0))
        .item("Threshold", n(3))
        .item("AsOf", n(1))
        .item("RaisedAt", n(sent_at))
        .item("State", text("open"))
        .item("Notify", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .item("ClaimToken", text("old"))
        .item("ClaimedAt", n(sent_at))
        .item("PublishedAt", n(sent_at))
        .send()
        .await
        .unwrap();
    let (steps, _) = moto::provisioned(&clients, &settings).await;
    let upgraded = DynamoLedger::new(clients.dynamodb.clone(), settings.ledger_table.clone());
    let due = upgraded
        .due_reminders(stockwatch_domain::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|a| a.item.as_str()).collect::<Vec<_>>(),
        ["Dot"],
        "an alert from before reminders is reminded of too"
    );
    let ledger_step = steps.iter().find(|s| s.what.starts_with("ledger table")).unwrap();
    assert!(ledger_step.created, "the upgrade is a change: {ledger_step:?}");
    let table = clients
        .dynamodb
        .describe_table()
        .table_name(&settings.ledger_table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let names: Vec<&str> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    for index in &INDEXES {
        assert!(names.contains(&index.name), "{} in {names:?}", index.name);
    }
    assert!(table.stream_specification().is_some_and(|s| s.stream_enabled()));
    let (again, _) = moto::provisioned(&clients, &settings).await;
    assert!(
        !again
            .iter()
            .find(|s| s.what.starts_with("ledger table"))
            .unwrap()
            .created,
        "a second run finds it as it should be"
    );
}
