//! What moto cannot do, driven through the real AWS adapter over HTTP to a
//! scripted endpoint: shard splits, expired iterators, trimmed records, a
//! replaced stream, throttling of reads and of writes.

use stockwatch_testkit::moto;
use stockwatch_testkit::scripted;

use scripted::{Scripted, error, serve};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use stockwatch_aws::feed::{Position, StreamFeed};
use stockwatch_aws::table::DynamoTable;
use stockwatch_aws::{Clients, WriteMode};
use stockwatch_core::ports::{Backoff, ChangeFeed, FeedCursor, InventoryTable, ObjectKey, RetryPolicy, Snapshot};
use stockwatch_domain::{InventoryRow, Timestamp};

async fn clients(endpoint: &Scripted) -> Clients {
    let credentials = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "scripted");
    // As shipped (adapters::aws::Clients): one attempt per call; retries are
    // stockwatch's RetryPolicy, the one layer.
    let retry = aws_config::retry::RetryConfig::disabled();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .retry_config(retry)
        .load()
        .await;
    Clients::from_config(&config, true, None).unwrap()
}

async fn feed(endpoint: &Scripted) -> StreamFeed {
    let c = clients(endpoint).await;
    StreamFeed::new(c.streams, c.dynamodb, "Inventory".into())
}

fn describe_table(arn: &str) -> (u16, Value) {
    (
        200,
        json!({"Table": {"TableName": "Inventory", "TableStatus": "ACTIVE", "LatestStreamArn": arn}}),
    )
}

fn shard(id: &str, parent: Option<&str>, closed: bool) -> Value {
    let mut range = json!({"StartingSequenceNumber": "1"});
    if closed {
        range["EndingSequenceNumber"] = json!("999999");
    }
    let mut shard = json!({"ShardId": id, "SequenceNumberRange": range});
    if let Some(parent) = parent {
        shard["ParentShardId"] = json!(parent);
    }
    shard
}

fn describe_stream(arn: &str, shards: Vec<Value>) -> (u16, Value) {
    (
        200,
        json!({"StreamDescription": {"StreamArn": arn, "StreamStatus": "ENABLED", "StreamViewType": "NEW_AND_OLD_IMAGES", "Shards": shards}}),
    )
}

/// A stream record of item `item` in store B changing from `old` to `new`.
fn record(seq: &str, item: &str, old: Option<u32>, new: u32) -> Value {
    let image = |count: u32| json!({"Store": {"S": "B"}, "Item": {"S": item}, "Count": {"N": count.to_string()}, "AsOf": {"N": seq}});
    let mut data = json!({
        "Keys": {"Store": {"S": "B"}, "Item": {"S": item}},
        "NewImage": image(new),
        "SequenceNumber": seq,
        "SizeBytes": 60,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": 1_795_000_000.0
    });
    if let Some(old) = old {
        data["OldImage"] = image(old);
    }
    json!({"eventID": format!("e{seq}"), "eventName": if old.is_some() { "MODIFY" } else { "INSERT" }, "eventSource": "aws:dynamodb", "dynamodb": data})
}

fn records(list: Vec<Value>, next: Option<&str>) -> (u16, Value) {
    let mut body = json!({"Records": list});
    if let Some(next) = next {
        body["NextShardIterator"] = json!(next);
    }
    (200, body)
}

/// Iterators name what they were asked for: `it|shard|type|sequence`.
fn iterator_for(body: &Value) -> (u16, Value) {
    let it = format!(
        "it|{}|{}|{}",
        body["ShardId"].as_str().unwrap_or(""),
        body["ShardIteratorType"].as_str().unwrap_or(""),
        body["SequenceNumber"].as_str().unwrap_or("")
    );
    (200, json!({"ShardIterator": it}))
}

fn ids(batch: &stockwatch_core::ports::FeedPage) -> Vec<String> {
    batch.changes.iter().map(|c| c.id.clone()).collect()
}

fn cursor(arn: &str, shards: &[(&str, &str)]) -> FeedCursor {
    Position {
        arn: arn.into(),
        shards: shards.iter().map(|(s, q)| (s.to_string(), q.to_string())).collect(),
        ..Position::default()
    }
    .to_cursor()
}

#[tokio::test]
async fn a_parent_shard_is_read_to_its_end_before_its_children() {
    let endpoint = serve(|op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        "DescribeStream" => describe_stream(
            "arn:s1",
            vec![
                shard("C1", Some("P"), false),
                shard("P", None, true),
                shard("C2", Some("P"), false),
            ],
        ),
        "GetShardIterator" => iterator_for(body),
        "GetRecords" => match body["ShardIterator"].as_str().unwrap() {
            "it|P|TRIM_HORIZON|" => records(vec![record("100", "x", None, 5)], Some("it|P|more")),
            "it|P|more" => records(vec![record("200", "x", Some(5), 0)], None),
            "it|C1|TRIM_HORIZON|" => records(vec![record("300", "x", Some(0), 7)], Some("it|C1|next")),
            "it|C2|TRIM_HORIZON|" => records(vec![record("400", "y", None, 2)], Some("it|C2|next")),
            _ => records(vec![], Some("it|idle")),
        },
        _ => error(400, "UnknownOperationException", op),
    });
    let feed = feed(&endpoint).await;

    // With room for one record, only the parent is touched.
    let first = feed.read(None, 1).await.unwrap();
    assert_eq!(ids(&first), ["e100"]);
    let asked: Vec<String> = endpoint
        .bodies_of("GetShardIterator")
        .iter()
        .map(|b| b["ShardId"].to_string())
        .collect();
    assert_eq!(asked, ["\"P\""], "children were opened before their parent ended");

    let rest = feed.read(Some(&first.cursor), 100).await.unwrap();
    assert_eq!(
        ids(&rest),
        ["e200", "e300", "e400"],
        "the parent's end, then its children"
    );
    let position = Position::parse(Some(&rest.cursor)).unwrap();
    assert!(
        position.done.contains("P"),
        "a shard without a next iterator is finished"
    );
    assert_eq!(position.shards["C1"], "300");
    assert!(!rest.gap);

    // An empty batch from an open shard does not end it.
    let idle = feed.read(Some(&rest.cursor), 100).await.unwrap();
    assert!(idle.changes.is_empty());
    let position = Position::parse(Some(&idle.cursor)).unwrap();
    assert!(!position.done.contains("C1") && !position.done.contains("C2"));
}

#[tokio::test]
async fn an_expired_iterator_resumes_after_the_last_applied_record() {
    let expired_once = Arc::new(AtomicU32::new(0));
    let flag = expired_once.clone();
    let endpoint = serve(move |op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        "DescribeStream" => describe_stream("arn:s1", vec![shard("A", None, false)]),
        "GetShardIterator" => iterator_for(body),
        "GetRecords" if body["ShardIterator"] == "it|A|next" => records(vec![], Some("it|A|next")),
        "GetRecords" if flag.fetch_add(1, Ordering::SeqCst) == 0 => {
            error(400, "ExpiredIteratorException", "Iterator expired")
        }
        "GetRecords" => records(vec![record("200", "x", Some(3), 0)], Some("it|A|next")),
        _ => error(400, "UnknownOperationException", op),
    });
    let feed = feed(&endpoint).await;
    let batch = feed.read(Some(&cursor("arn:s1", &[("A", "100")])), 10).await.unwrap();
    assert_eq!(ids(&batch), ["e200"]);
    assert!(!batch.gap);
    let asked = endpoint.bodies_of("GetShardIterator");
    assert_eq!(asked.len(), 2, "a fresh iterator after the expired one");
    for body in asked {
        assert_eq!(body["ShardIteratorType"], "AFTER_SEQUENCE_NUMBER");
        assert_eq!(body["SequenceNumber"], "100");
    }
}

#[tokio::test]
async fn trimmed_records_are_a_gap_and_reading_goes_on_from_the_oldest_kept() {
    let endpoint = serve(|op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        "DescribeStream" => describe_stream("arn:s1", vec![shard("A", None, false)]),
        "GetShardIterator" => iterator_for(body),
        "GetRecords" => match body["ShardIterator"].as_str().unwrap() {
            "it|A|AFTER_SEQUENCE_NUMBER|100" => error(400, "TrimmedDataAccessException", "trimmed"),
            "it|A|TRIM_HORIZON|" => records(vec![record("900", "x", Some(4), 0)], Some("it|A|next")),
            _ => records(vec![], Some("it|A|next")),
        },
        _ => error(400, "UnknownOperationException", op),
    });
    let feed = feed(&endpoint).await;
    let batch = feed.read(Some(&cursor("arn:s1", &[("A", "100")])), 10).await.unwrap();
    assert!(batch.gap, "consumers must learn that changes were lost");
    assert_eq!(ids(&batch), ["e900"]);
    assert_eq!(Position::parse(Some(&batch.cursor)).unwrap().shards["A"], "900");
}

#[tokio::test]
async fn a_new_stream_is_a_gap_and_is_read_from_its_start() {
    let endpoint = serve(|op, body| match op {
        "DescribeTable" => describe_table("arn:new"),
        // moto reuses shard ids across streams: position is per stream.
        "DescribeStream" => describe_stream("arn:new", vec![shard("A", None, false)]),
        "GetShardIterator" => iterator_for(body),
        "GetRecords" if body["ShardIterator"] == "it|A|next" => records(vec![], Some("it|A|next")),
        "GetRecords" => records(vec![record("5", "x", None, 1)], Some("it|A|next")),
        _ => error(400, "UnknownOperationException", op),
    });
    let feed = feed(&endpoint).await;
    let batch = feed.read(Some(&cursor("arn:old", &[("A", "100")])), 10).await.unwrap();
    assert!(batch.gap);
    assert_eq!(ids(&batch), ["e5"]);
    let asked = endpoint.bodies_of("GetShardIterator");
    assert_eq!(asked[0]["StreamArn"], "arn:new");
    assert_eq!(asked[0]["ShardIteratorType"], "TRIM_HORIZON");
}

#[tokio::test]
async fn throttled_reads_back_off_and_recover() {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let endpoint = serve(move |op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        "DescribeStream" => describe_stream("arn:s1", vec![shard("A", None, false)]),
        "GetShardIterator" => iterator_for(body),
        "GetRecords" if body["ShardIterator"] == "it|A|next" => records(vec![], Some("it|A|next")),
        "GetRecords" if counter.fetch_add(1, Ordering::SeqCst) < 2 => {
            error(400, "LimitExceededException", "too many readers on this shard")
        }
        "GetRecords" => records(vec![record("7", "x", None, 0)], Some("it|A|next")),
        _ => error(400, "UnknownOperationException", op),
    });
    let feed = feed(&endpoint).await;
    let retry = RetryPolicy {
        backoff: Backoff::new(Duration::from_millis(5), Duration::from_millis(20)),
        ..RetryPolicy::default()
    };
    let batch = retry.run("read the feed", || feed.read(None, 10)).await.unwrap();
    assert_eq!(ids(&batch), ["e7"]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "two throttled answers, then the records"
    );
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_a_transient_error() {
    let endpoint = serve(|op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        "DescribeStream" => describe_stream("arn:s1", vec![shard("A", None, false)]),
        "GetShardIterator" => iterator_for(body),
        _ => error(400, "LimitExceededException", "too many readers on this shard"),
    });
    let feed = feed(&endpoint).await;
    let err = feed.read(None, 10).await.unwrap_err();
    assert!(err.is_transient(), "{err}: callers back off and try again");
}

#[tokio::test]
async fn throttled_writes_are_retried_and_rows_that_keep_failing_are_reported() {
    let flaky = Arc::new(AtomicU32::new(0));
    let counter = flaky.clone();
    let endpoint = serve(move |op, body| match (op, body["Item"]["Item"]["S"].as_str()) {
        ("PutItem", Some("never")) => error(
            400,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded",
        ),
        ("PutItem", Some("flaky")) if counter.fetch_add(1, Ordering::SeqCst) < 4 => {
            error(400, "ProvisionedThroughputExceededException", "slow down")
        }
        // Rows, and the store lock (taken in either write mode).
        ("PutItem" | "DeleteItem", _) => (200, json!({})),
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let table = DynamoTable::new(c.dynamodb, "Inventory".into(), 4, WriteMode::Conditional);
    let row = |item: &str, line: u64| InventoryRow {
        store: "B".into(),
        item: item.into(),
        count: 1,
        line,
    };
    let batch = Snapshot {
        rows: Arc::new(vec![row("ok", 2), row("flaky", 3), row("never", 4), row("fine", 5)]),
        as_of: Timestamp(1),
        source: ObjectKey::parse("uploads/x.csv").unwrap(),
    };
    let summary = table.write(batch).await.unwrap();
    assert_eq!(summary.changed, 3, "the throttled row got through on a retry");
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].line, 4);
    assert!(
        summary.failed[0].reason.contains("ProvisionedThroughputExceeded"),
        "{}",
        summary.failed[0].reason
    );
    assert!(flaky.load(Ordering::SeqCst) >= 5);
}

/// A DynamoDB transaction cancellation, with one reason per item.
fn cancelled(reasons: Vec<Value>) -> (u16, Value) {
    (
        400,
        json!({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
               "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
               "CancellationReasons": reasons}),
    )
}

/// The batched writer: unprocessed keys are asked for again; a put whose
/// condition failed (a newer snapshot landed after the read) is counted as
/// older and the others are sent again at once; a throttled transaction is
/// retried with backoff; what keeps failing is reported by line.
#[tokio::test]
async fn the_batched_writer_retries_keys_lost_races_and_throttling() {
    let gets = Arc::new(AtomicU32::new(0));
    let writes = Arc::new(AtomicU32::new(0));
    let (get_count, write_count) = (gets.clone(), writes.clone());
    let endpoint = serve(move |op, body| match op {
        "BatchGetItem" => {
            let keys = body["RequestItems"]["Inventory"]["Keys"].clone();
            if get_count.fetch_add(1, Ordering::SeqCst) == 0 {
                // Nothing stored yet, but the first answer defers every key.
                (
                    200,
                    json!({"Responses": {"Inventory": []}, "UnprocessedKeys": {"Inventory": {"Keys": keys, "ConsistentRead": true}}}),
                )
            } else {
                (200, json!({"Responses": {"Inventory": []}, "UnprocessedKeys": {}}))
            }
        }
        "TransactWriteItems" => {
            let items: Vec<String> = body["TransactItems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["Put"]["Item"]["Item"]["S"].as_str().unwrap().to_string())
                .collect();
            let none = || json!({"Code": "None"});
            match write_count.fetch_add(1, Ordering::SeqCst) {
                // "late" lost to a newer write made after the read.
                0 => cancelled(
                    items
                        .iter()
                        .map(|i| {
                            if i == "late" {
                                json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                                       "Item": {"Store": {"S": "B"}, "Item": {"S": "late"}, "Count": {"N": "7"}, "AsOf": {"N": "9"}}})
                            } else {
                                none()
                            }
                        })
                        .collect(),
                ),
                1 => cancelled(items.iter().map(|_| json!({"Code": "ThrottlingError"})).collect()),
                _ => {
                    assert!(!items.contains(&"late".to_string()), "the lost row is not sent again");
                    (200, json!({}))
                }
            }
        }
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let table = DynamoTable::new(c.dynamodb, "Inventory".into(), 4, WriteMode::Batched);
    let row = |item: &str, line: u64| InventoryRow {
        store: "B".into(),
        item: item.into(),
        count: 1,
        line,
    };
    let snapshot = Snapshot {
        rows: Arc::new(vec![row("a", 2), row("late", 3), row("b", 4)]),
        as_of: Timestamp(1),
        source: ObjectKey::parse("uploads/x.csv").unwrap(),
    };
    let summary = table.write(snapshot.clone()).await.unwrap();
    assert_eq!((summary.changed, summary.older), (2, 1), "{summary:?}");
    assert!(summary.failed.is_empty(), "{summary:?}");
    assert_eq!(gets.load(Ordering::SeqCst), 2, "unprocessed keys were asked for again");
    assert_eq!(writes.load(Ordering::SeqCst), 3);
    let puts = endpoint.bodies_of("TransactWriteItems");
    assert!(
        puts.iter()
            .flat_map(|b| b["TransactItems"].as_array().unwrap().clone())
            .all(|t| t["Put"]["ConditionExpression"].as_str().unwrap().contains("#a < :a")),
        "every put carries the snapshot rule"
    );

    // Throttled for good: every row is reported, by line, as worth retrying.
    let throttled = serve(|op, body| match op {
        "BatchGetItem" => (200, json!({"Responses": {"Inventory": []}})),
        "TransactWriteItems" => cancelled(
            body["TransactItems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|_| json!({"Code": "ThrottlingError"}))
                .collect(),
        ),
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&throttled).await;
    let table = DynamoTable::new(c.dynamodb, "Inventory".into(), 4, WriteMode::Batched);
    let summary = table.write(snapshot).await.unwrap();
    assert_eq!(summary.failed.iter().map(|f| f.line).collect::<Vec<_>>(), [2, 3, 4]);
    assert!(summary.failed.iter().all(|f| f.transient));
}

/// A 5xx whose body names no error code (a proxy's, or moto's when two
/// transactions race in it) is the service failing on its side, and a
/// dropped connection (or a timeout) a network fault: both retried, not
/// reported as a permanent failure of every row.
#[tokio::test]
async fn a_server_error_without_a_code_is_retried() {
    let writes = Arc::new(AtomicU32::new(0));
    let count = writes.clone();
    let endpoint = serve(move |op, _| match op {
        "BatchGetItem" => (200, json!({"Responses": {"Inventory": []}})),
        "TransactWriteItems" => match count.fetch_add(1, Ordering::SeqCst) {
            0 => (500, json!({})),
            // The connection drops: no answer at all (a timeout is the same
            // kind of fault, only slower to test).
            1 => (0, Value::Null),
            _ => (200, json!({})),
        },
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let table = DynamoTable::new(c.dynamodb, "Inventory".into(), 4, WriteMode::Batched);
    let snapshot = Snapshot {
        rows: Arc::new(vec![InventoryRow {
            store: "B".into(),
            item: "a".into(),
            count: 1,
            line: 2,
        }]),
        as_of: Timestamp(1),
        source: ObjectKey::parse("uploads/x.csv").unwrap(),
    };
    let summary = table.write(snapshot).await.unwrap();
    assert!(summary.failed.is_empty(), "{summary:?}");
    assert_eq!((summary.changed, writes.load(Ordering::SeqCst)), (1, 3));
}

#[tokio::test]
async fn a_position_trimmed_away_before_reading_is_a_gap_too() {
    let endpoint = serve(|op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        "DescribeStream" => describe_stream("arn:s1", vec![shard("A", None, false)]),
        "GetShardIterator" if body["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER" => {
            error(400, "TrimmedDataAccessException", "trimmed")
        }
        "GetShardIterator" => iterator_for(body),
        "GetRecords" if body["ShardIterator"] == "it|A|TRIM_HORIZON|" => {
            records(vec![record("900", "x", Some(4), 0)], Some("it|A|next"))
        }
        "GetRecords" => records(vec![], Some("it|A|next")),
        _ => error(400, "UnknownOperationException", op),
    });
    let feed = feed(&endpoint).await;
    let batch = feed.read(Some(&cursor("arn:s1", &[("A", "100")])), 10).await.unwrap();
    assert!(batch.gap);
    assert_eq!(ids(&batch), ["e900"]);
}

#[tokio::test]
async fn an_expired_tip_takes_a_new_tip_instead_of_replaying_history() {
    let tips = Arc::new(AtomicU32::new(0));
    let taken = tips.clone();
    let endpoint = serve(move |op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        "DescribeStream" => describe_stream("arn:s1", vec![shard("A", None, false)]),
        // The first tip iterator is the one that will have expired.
        "GetShardIterator" if body["ShardIteratorType"] == "LATEST" && taken.fetch_add(1, Ordering::SeqCst) > 0 => {
            (200, json!({"ShardIterator": "it|A|fresh"}))
        }
        "GetShardIterator" => iterator_for(body),
        "GetRecords" if body["ShardIterator"] == "it|A|LATEST|" => error(400, "ExpiredIteratorException", "expired"),
        "GetRecords" if body["ShardIterator"] == "it|A|TRIM_HORIZON|" => {
            records(vec![record("1", "old", None, 0)], Some("it|A|old"))
        }
        "GetRecords" => records(vec![], Some("it|A|next")),
        _ => error(400, "UnknownOperationException", op),
    });
    let tip_feed = feed(&endpoint).await;
    let tip = tip_feed.tip().await.unwrap();
    // A later process resumes from the tip after its iterator expired.
    let feed = feed(&endpoint).await;
    let batch = feed.read(Some(&tip), 10).await.unwrap();
    assert!(
        batch.changes.is_empty(),
        "history before the tip was replayed: {:?}",
        ids(&batch)
    );
    assert!(batch.gap, "what happened while the tip sat unused was not seen");
    let kinds: Vec<Value> = endpoint
        .bodies_of("GetShardIterator")
        .iter()
        .map(|b| b["ShardIteratorType"].clone())
        .collect();
    assert!(kinds.iter().all(|k| k == "LATEST"), "{kinds:?}");
}

/// One retry layer: the real binary, throttled on every call, sends each
/// request exactly as often as its RetryPolicy allows (6), not the SDK's 3
/// attempts inside each of those (18), and says so once.
#[test]
fn a_throttled_call_costs_the_retry_policy_s_attempts_and_no_more() {
    let endpoint = serve(|op, _| match op {
        "Scan" => error(400, "ProvisionedThroughputExceededException", "slow down"),
        _ => error(400, "UnknownOperationException", op),
    });
    let logs = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stockwatch"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("STOCKWATCH_") || key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args([
            "--backend",
            "aws",
            "--bucket",
            "b",
            "--topic-arn",
            "arn:aws:sns:us-east-1:123456789012:NoStock",
        ])
        .arg("stock")
        .env("STOCKWATCH_LOG_DIR", logs.path())
        .env("XDG_CONFIG_HOME", logs.path())
        .env("AWS_ENDPOINT_URL", &endpoint.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert_eq!(
        endpoint.operations().iter().filter(|op| *op == "Scan").count(),
        6,
        "{:?}",
        endpoint.operations()
    );
    assert_eq!(said.matches("retrying in").count(), 5, "each retry is shown: {said}");
    assert!(said.contains("try again in a moment"), "{said}");
}

/// Two checkers share a checkpoint. One has listed the shards since the
/// parent split; the other still trusts its list from before. Reading from
/// the shared position, the second must not take the child shard it does
/// not know for lost data (a "gap" makes every checker reconcile the table).
#[tokio::test]
async fn a_shard_another_reader_entered_is_listed_again_not_taken_for_lost() {
    let listings = Arc::new(AtomicU32::new(0));
    let counter = listings.clone();
    let endpoint = serve(move |op, body| match op {
        "DescribeTable" => describe_table("arn:s1"),
        // The first listing is from before the split; later ones after it.
        "DescribeStream" if counter.fetch_add(1, Ordering::SeqCst) == 0 => {
            describe_stream("arn:s1", vec![shard("P", None, false)])
        }
        "DescribeStream" => describe_stream("arn:s1", vec![shard("P", None, true), shard("C", Some("P"), false)]),
        "GetShardIterator" => iterator_for(body),
        "GetRecords" => match body["ShardIterator"].as_str().unwrap() {
            "it|P|TRIM_HORIZON|" => records(vec![record("100", "x", None, 5)], Some("it|P|more")),
            "it|P|more" | "it|P|AFTER_SEQUENCE_NUMBER|100" => records(vec![record("200", "x", Some(5), 0)], None),
            "it|C|TRIM_HORIZON|" => records(vec![record("300", "x", Some(0), 7)], Some("it|C|next")),
            _ => records(vec![], Some("it|idle")),
        },
        _ => error(400, "UnknownOperationException", op),
    });
    let stale = feed(&endpoint).await;
    let first = stale.read(None, 1).await.unwrap();
    assert_eq!(ids(&first), ["e100"]);
    // The other checker, with a fresh list, reads on into the child.
    let fresh = feed(&endpoint).await;
    let on = fresh.read(Some(&first.cursor), 100).await.unwrap();
    assert_eq!(ids(&on), ["e200", "e300"]);
    assert!(!on.gap);
    // The first checker reads from the shared checkpoint within its list's 10 s.
    let after = stale.read(Some(&on.cursor), 100).await.unwrap();
    assert!(!after.gap, "a shard another reader entered is not lost data");
    assert!(after.changes.is_empty(), "nothing read twice: {:?}", ids(&after));
    assert_eq!(Position::parse(Some(&after.cursor)).unwrap().shards["C"], "300");
}

/// SNS's answer to a PublishBatch of one entry that went through.
fn sns_batch_published(id: &str, n: u32) -> (u16, Value) {
    (
        200,
        Value::String(format!(
            "<PublishBatchResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishBatchResult><Successful><member><Id>{id}</Id><MessageId>m{n}</MessageId></member></Successful><Failed/></PublishBatchResult><ResponseMetadata><RequestId>r{n}</RequestId></ResponseMetadata></PublishBatchResponse>"
        )),
    )
}

fn sns_error(code: &str, message: &str) -> (u16, Value) {
    (
        500,
        Value::String(format!(
            "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        )),
    )
}

/// A publish that outlasts the lease must not be sent twice: SNS hangs on
/// the first attempts, longer than a third of the lease; a second checker
/// looks for stale claims all along. The publisher renews the claim before
/// every attempt and gives each attempt a third of the lease, so no one
/// takes the claim over while it may still be sent: SNS accepts it once.
/// (With one renewal before several long attempts, the second checker took
/// it over after the lease and both sent it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_that_outlasts_the_lease_is_still_sent_once() {
    use stockwatch_core::pipeline::{Checker, CheckerConfig};
    let accepted = Arc::new(AtomicU32::new(0));
    let calls = Arc::new(AtomicU32::new(0));
    let (sent, seen) = (accepted.clone(), calls.clone());
    let sns = serve(move |op, body| match op {
        "PublishBatch" => {
            // The first two attempts hang past their time; then SNS answers.
            if seen.fetch_add(1, Ordering::SeqCst) < 2 {
                std::thread::sleep(Duration::from_millis(2500));
                return sns_error("InternalError", "too slow");
            }
            let id = body["PublishBatchRequestEntries.member.1.Id"].as_str().unwrap_or("0");
            sns_batch_published(id, sent.fetch_add(1, Ordering::SeqCst) + 1)
        }
        _ => error(400, "InvalidAction", op),
    });
    let config = moto::sdk_config().await;
    let mut clients = Clients::from_config(&config, true, None).unwrap();
    clients.sns = aws_sdk_sns::Client::from_conf(
        aws_sdk_sns::config::Builder::from(&config)
            .endpoint_url(&sns.url)
            .build(),
    );
    let (_, mut settings, moto_clients) = moto::fresh().await;
    settings.topic_arn = Some("arn:aws:sns:us-east-1:123456789012:NoStock".into());
    drop(moto_clients);
    let ports = stockwatch_aws::connect_with(&settings, clients).await.unwrap();
    upload(&ports, "out.csv", b"store,item,count\nB,dot,0\n").await;
    let lease = Duration::from_millis(3000);
    let config = |name: &str| CheckerConfig {
        name: name.into(),
        lease,
        ..CheckerConfig::default()
    };
    let slow = Checker::new(ports.clone(), config("slow"));
    let sweeper = Checker::new(ports.clone(), config("sweeper"));
    let sending = tokio::spawn(async move { slow.run_once().await.unwrap() });
    // The other checker looks for stale claims every 200 ms meanwhile.
    let mut taken_over = 0;
    while !sending.is_finished() {
        taken_over += sweeper.sweep_now().await.unwrap().taken_over.len();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let report = sending.await.unwrap();
    assert_eq!(report.published, 1, "{report:?}");
    assert_eq!(taken_over, 0, "the claim was taken over while it was being sent");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "SNS accepted it once");
}

/// The feed of a real stream on moto whose first read says records were
/// lost and goes on from `kept_from`: a trimmed stream's shape.
struct TrimmedBefore {
    inner: Arc<dyn ChangeFeed>,
    kept_from: FeedCursor,
    trimmed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl ChangeFeed for TrimmedBefore {
    async fn read(
        &self,
        cursor: Option<&FeedCursor>,
        limit: usize,
    ) -> stockwatch_core::ports::PortResult<stockwatch_core::ports::FeedPage> {
        if !self.trimmed.swap(true, Ordering::SeqCst) {
            let mut page = self.inner.read(Some(&self.kept_from), limit).await?;
            page.gap = true;
            return Ok(page);
        }
        self.inner.read(cursor, limit).await
    }

    async fn tip(&self) -> stockwatch_core::ports::PortResult<FeedCursor> {
        self.inner.tip().await
    }
}

/// After a stream gap the checker reconciles the table and reads the
/// records kept after the gap: both find the same transition. One alert,
/// one SNS message (claims keyed by transition, not by path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_then_the_kept_records_notify_each_outage_once() {
    use stockwatch_core::pipeline::{Checker, CheckerConfig};
    let (ports, settings, clients) = moto::fresh().await;
    let (sqs, url) = moto::queue_on_topic(&clients, settings.topic_arn.as_ref().unwrap(), &settings.topic).await;
    upload(&ports, "before.csv", b"store,item,count\nB,dot,9\n").await;
    let kept_from = ports.feed.tip().await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    upload(&ports, "after.csv", b"store,item,count\nB,dot,0\n").await;
    let mut lossy = ports.clone();
    lossy.feed = Arc::new(TrimmedBefore {
        inner: ports.feed.clone(),
        kept_from,
        trimmed: std::sync::atomic::AtomicBool::new(false),
    });
    let report = Checker::new(lossy, CheckerConfig::default()).run_once().await.unwrap();
    assert!(report.gap);
    assert_eq!(report.raised.len(), 1, "{:?}", report.raised);
    let sent = moto::drain(&sqs, &url).await;
    assert_eq!(sent.len(), 1, "one message for B/dot: {sent:?}");
}

/// Two function instances in sandboxes that share a pid, started in the
/// same millisecond, with the same name: their claims must still be told
/// apart, or both think the one claim is theirs and both send it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_checkers_of_one_name_pid_and_millisecond_send_a_claim_once() {
    use stockwatch_core::pipeline::{CheckReport, Checker, CheckerConfig};
    let (ports, settings, clients) = moto::fresh().await;
    let (sqs, url) = moto::queue_on_topic(&clients, settings.topic_arn.as_ref().unwrap(), &settings.topic).await;
    upload(&ports, "out.csv", b"store,item,count\nB,dot,0\n").await;
    let changes = ports.feed.read(None, 100).await.unwrap().changes;
    let config = CheckerConfig {
        name: "check-stock".into(),
        ..CheckerConfig::default()
    };
    let (a, b) = (
        Checker::new(ports.clone(), config.clone()),
        Checker::new(ports.clone(), config),
    );
    let (mut ra, mut rb) = (CheckReport::default(), CheckReport::default());
    a.process(&changes, &mut ra).await.unwrap();
    // The same batch again on the other instance (Lambda retried it there).
    b.process(&changes, &mut rb).await.unwrap();
    assert_eq!(
        (ra.raised.len(), rb.raised.len()),
        (1, 0),
        "the other instance took the claim for its own"
    );
    assert_eq!(moto::drain(&sqs, &url).await.len(), 1, "and sent it once");
}

/// Stores and loads a small inventory file through the real loader.
async fn upload(ports: &stockwatch_core::ports::Ports, name: &str, csv: &'static [u8]) {
    stockwatch_core::pipeline::Loader::new(ports.clone())
        .upload(name, bytes::Bytes::from_static(csv), None, None)
        .await
        .unwrap();
}

/// Alert #7, Berlin's Dot out of stock, open, as the ledger table holds it,
/// with `more` attributes (claimed by "sender" unless `more` says).
fn open_alert(more: Value) -> Value {
    let mut item = json!({
        "pk": {"S": "claim#t1"}, "AlertId": {"N": "7"}, "ChangeId": {"S": "c1"}, "Kind": {"S": "OUT"},
        "Store": {"S": "Berlin"}, "Item": {"S": "Dot"}, "Count": {"N": "0"}, "Threshold": {"N": "3"},
        "AsOf": {"N": "10"}, "Source": {"S": "k"}, "RaisedAt": {"N": "1"}, "State": {"S": "open"},
        "ClaimToken": {"S": "sender"}, "ClaimedAt": {"N": "1"}, "Version": {"N": "3"}
    });
    for (name, value) in more.as_object().unwrap() {
        item[name] = value.clone();
    }
    item
}

/// A claim whose write went through while its answer was lost (a timeout):
/// the retry's put is refused, the claim it finds is its own, so it is won,
/// not lost to nobody. (A race under moto's load once raised 15 of 20.)
#[tokio::test]
async fn a_claim_whose_earlier_attempt_landed_is_still_won() {
    let gets = Arc::new(AtomicU32::new(0));
    let seen = gets.clone();
    let alert_item = open_alert(json!({"ClaimToken": {"S": "mine"}, "Version": {"N": "1"}}));
    let endpoint = serve(move |op, _| match op {
        // The claim's key and the restock marker: absent when read (the
        // earlier put not applied yet).
        "BatchGetItem" => (200, json!({"Responses": {"Alerts": []}})),
        "UpdateItem" => (200, json!({"Attributes": {"Next": {"N": "8"}}})),
        // The put is refused: the earlier attempt landed meanwhile.
        "PutItem" => error(400, "ConditionalCheckFailedException", "The conditional request failed"),
        "GetItem" => {
            seen.fetch_add(1, Ordering::SeqCst);
            (200, json!({"Item": alert_item.clone()}))
        }
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let ledger = stockwatch_aws::ledger::DynamoLedger::new(c.dynamodb, "Alerts".into());
    let claim = stockwatch_core::ports::AlertClaim {
        change_id: "c1".into(),
        kind: stockwatch_domain::AlertKind::Out,
        store: "Berlin".into(),
        item: "Dot".into(),
        count: 0,
        threshold: 3,
        as_of: Timestamp(10),
        source: "k".into(),
        notify: true,
    };
    use stockwatch_core::ports::{AlertClaims, ClaimOutcome};
    let outcome = ledger
        .claim(
            &[claim],
            &stockwatch_core::ports::Holder::Sender("mine".into()),
            Timestamp(1),
        )
        .await
        .unwrap()
        .remove(0);
    assert!(
        matches!(&outcome, ClaimOutcome::Won(a) if a.id.0 == 7),
        "the claim found after the refused put is ours: {outcome:?}"
    );
    assert_eq!(gets.load(Ordering::SeqCst), 1, "the refused claim was read");
}

/// A scripted table that takes `limit` transactions at once (60 ms each)
/// and throttles the rest, as a partition over its rate does; it counts
/// the transactions throttled and the most it ever held at once.
struct ThrottlingTable {
    endpoint: Scripted,
    throttles: Arc<AtomicU32>,
    most_at_once: Arc<AtomicU32>,
}

fn throttling_table(limit: u32) -> ThrottlingTable {
    let in_flight = Arc::new(AtomicU32::new(0));
    let throttles = Arc::new(AtomicU32::new(0));
    let most_at_once = Arc::new(AtomicU32::new(0));
    let (busy, refused, most) = (in_flight.clone(), throttles.clone(), most_at_once.clone());
    let endpoint = serve(move |op, body| match op {
        "BatchGetItem" => (200, json!({"Responses": {"Inventory": []}})),
        "TransactWriteItems" => {
            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(60));
            busy.fetch_sub(1, Ordering::SeqCst);
            if now > limit {
                refused.fetch_add(1, Ordering::SeqCst);
                let items = body["TransactItems"].as_array().unwrap().len();
                return cancelled((0..items).map(|_| json!({"Code": "ThrottlingError"})).collect());
            }
            (200, json!({}))
        }
        _ => error(400, "UnknownOperationException", op),
    });
    ThrottlingTable {
        endpoint,
        throttles,
        most_at_once,
    }
}

fn rows_of(stores: usize, items: usize) -> Snapshot {
    let rows: Vec<InventoryRow> = (0..stores)
        .flat_map(|store| {
            (0..items).map(move |item| InventoryRow {
                store: format!("S{store}").into(),
                item: format!("i{item}").into(),
                count: 1,
                line: (2 + store * items + item) as u64,
            })
        })
        .collect();
    Snapshot {
        rows: Arc::new(rows),
        as_of: Timestamp(1),
        source: ObjectKey::parse("uploads/x.csv").unwrap(),
    }
}

/// A table that takes four transactions at once and throttles the rest
/// (a partition over its rate): the loader halves what it keeps in flight
/// on throttling instead of retrying at full rate, so every row lands and
/// few are throttled more than once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loader_keeps_fewer_writes_in_flight_while_throttled() {
    let scripted = throttling_table(4);
    let c = clients(&scripted.endpoint).await;
    let table = DynamoTable::new(c.dynamodb, "Inventory".into(), 32, WriteMode::Batched);
    let summary = table.write(rows_of(32, 5)).await.unwrap();
    assert!(summary.failed.is_empty(), "{} rows failed", summary.failed.len());
    assert_eq!(summary.changed, 160);
    let throttled = scripted.throttles.load(Ordering::SeqCst);
    assert!(
        throttled <= 40,
        "{throttled} transactions throttled: the first burst of 32 stores (28 over) and few after"
    );
}

/// One store of 2,000 items (one partition key): its chunks go out several
/// at a time, as the partition takes them, not one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_huge_store_is_written_several_transactions_at_a_time() {
    let scripted = throttling_table(4);
    let c = clients(&scripted.endpoint).await;
    let table = DynamoTable::new(c.dynamodb, "Inventory".into(), 32, WriteMode::Batched);
    let summary = table.write(rows_of(1, 2_000)).await.unwrap();
    assert!(summary.failed.is_empty(), "{} rows failed", summary.failed.len());
    assert_eq!(summary.changed, 2_000);
    let most = scripted.most_at_once.load(Ordering::SeqCst);
    assert!(
        most >= 4,
        "at most {most} of the store's transactions in flight at once"
    );
    // The first burst (20 at once, 16 over) and a few as the pace grows back:
    // well under two throttles per transaction (timing decides the few).
    let throttled = scripted.throttles.load(Ordering::SeqCst);
    assert!(throttled < 40, "{throttled} transactions throttled");
}

/// Acknowledging an alert whose reminder is claimed but not sent yet is one
/// write that also cancels the reminder: with two writes, a crash (here: the
/// table failing) after the first let the reminder go out after the
/// acknowledgement.
#[tokio::test]
async fn acknowledging_cancels_a_pending_reminder_in_the_same_write() {
    let updates = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let seen = updates.clone();
    let alert = open_alert(json!({"Reminders": {"N": "1"}, "Pending": {"S": "sender"}}));
    let endpoint = serve(move |op, body| match op {
        "Query" => (200, json!({"Items": [{"pk": {"S": "claim#t1"}}], "Count": 1})),
        "GetItem" => (200, json!({"Item": alert.clone()})),
        "UpdateItem" => {
            let mut updates = seen.lock().unwrap();
            updates.push(body.clone());
            if updates.len() > 1 {
                return error(500, "InternalServerError", "the table went away");
            }
            let mut acked = alert.clone();
            acked["State"] = json!({"S": "acknowledged"});
            acked["AckBy"] = json!({"S": "ana"});
            acked["AckAt"] = json!({"N": "20"});
            acked["PublishedAt"] = json!({"N": "20"});
            acked.as_object_mut().unwrap().remove("Pending");
            (200, json!({"Attributes": acked}))
        }
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let ledger = stockwatch_aws::ledger::DynamoLedger::new(c.dynamodb, "Alerts".into());
    use stockwatch_core::ports::Alerts;
    let ack = stockwatch_domain::Acknowledgement {
        by: "ana".into(),
        at: Timestamp(20),
        note: None,
    };
    let acked = ledger.acknowledge(stockwatch_domain::AlertId(7), &ack).await.unwrap();
    assert_eq!(acked.state, stockwatch_domain::AlertState::Acknowledged);
    let updates = updates.lock().unwrap();
    assert_eq!(updates.len(), 1, "one write: {updates:?}");
    let expression = updates[0]["UpdateExpression"].as_str().unwrap();
    assert!(
        expression.contains("PublishedAt") && expression.contains("Pending"),
        "the reminder is cancelled with the acknowledgement: {expression}"
    );
}

/// Resolving (a restock) an alert whose reminder is claimed but not sent
/// yet cancels the reminder in the same write, as acknowledging does.
#[tokio::test]
async fn resolving_cancels_a_pending_reminder_in_the_same_write() {
    let updates = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = updates.clone();
    let alert = open_alert(json!({
        "Reminders": {"N": "1"}, "Pending": {"S": "sender"}, "ItemKey": {"S": "[\"Berlin\",\"Dot\"]"}
    }));
    let endpoint = serve(move |op, body| match op {
        "Query" => (200, json!({"Items": [alert.clone()], "Count": 1})),
        "UpdateItem" => {
            let expression = body["UpdateExpression"].as_str().unwrap_or_default().to_string();
            if expression.starts_with("SET AsOf") {
                return (200, json!({})); // the restock marker
            }
            let mut updates = seen.lock().unwrap();
            updates.push(expression.clone());
            // The table holds a pending reminder (Reminders 1, never sent
            // since): only the write whose condition asks for that holds.
            let condition = body["ConditionExpression"].as_str().unwrap_or_default();
            if !(condition.contains("Reminders > :zero") && condition.contains("attribute_not_exists(PublishedAt)")) {
                return error(400, "ConditionalCheckFailedException", "The conditional request failed");
            }
            // One try per shape of the alert (told; never told; a reminder
            // pending), no more.
            if updates.len() > 3 {
                return error(500, "InternalServerError", "the table went away");
            }
            (200, json!({}))
        }
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let ledger = stockwatch_aws::ledger::DynamoLedger::new(c.dynamodb, "Alerts".into());
    use stockwatch_core::ports::{AlertClaims, Restock};
    let restock = Restock {
        store: "Berlin".into(),
        item: "Dot".into(),
        as_of: Timestamp(20),
        change_id: "c2".into(),
        only: None,
    };
    assert_eq!(ledger.resolve(&[restock], Timestamp(20)).await.unwrap(), 1, "resolved");
    let updates = updates.lock().unwrap();
    let last = updates.last().unwrap();
    assert!(last.contains("PublishedAt") && last.contains("Resolved"), "{updates:?}");
}

/// A stream as DynamoDB keeps one: every rollover (about four hours) the
/// open shard closes and splits into two children, one of which lives
/// until the next rollover; shards are listed for six rollovers after they
/// close (24 hours), then trimmed away. Each shard holds one record per
/// rollover it is open. Readers share one checkpoint, kept in a scripted
/// ledger item under its version condition.
struct RollingShard {
    id: String,
    parent: Option<String>,
    /// The rollover it closed at.
    closed: Option<u32>,
    /// Its records' sequence numbers.
    records: Vec<u64>,
}

impl RollingShard {
    fn new(id: String, parent: Option<String>, first: u64) -> Self {
        RollingShard {
            id,
            parent,
            closed: None,
            records: vec![first],
        }
    }
}

struct RollingStream {
    shards: Vec<RollingShard>,
    rollover: u32,
    next_seq: u64,
    checkpoint: Option<(String, u64)>,
}

impl RollingStream {
    fn new() -> Self {
        RollingStream {
            shards: vec![RollingShard::new("s0".into(), None, 1)],
            rollover: 0,
            next_seq: 2,
            checkpoint: None,
        }
    }

    fn roll(&mut self) {
        self.rollover += 1;
        let now = self.rollover;
        let mut born = Vec::new();
        for shard in self.shards.iter_mut().filter(|s| s.closed.is_none()) {
            shard.closed = Some(now);
            shard.records.push(self.next_seq);
            self.next_seq += 1;
            // The long-lived child goes on; its sibling closes at the next rollover.
            if !shard.id.ends_with('b') {
                born.push((format!("s{now}a"), shard.id.clone()));
                born.push((format!("s{now}b"), shard.id.clone()));
            }
        }
        for (id, parent) in born {
            self.shards.push(RollingShard::new(id, Some(parent), self.next_seq));
            self.next_seq += 1;
        }
        // Closed for more than 24 hours: trimmed and no longer listed.
        self.shards.retain(|s| s.closed.is_none_or(|closed| now - closed < 6));
    }

    fn answer(&mut self, op: &str, body: &Value) -> (u16, Value) {
        match op {
            "DescribeTable" => describe_table("arn:rolling"),
            "DescribeStream" => {
                let listed = self
                    .shards
                    .iter()
                    .map(|s| shard(&s.id, s.parent.as_deref(), s.closed.is_some()))
                    .collect();
                describe_stream("arn:rolling", listed)
            }
            "GetShardIterator" => {
                let id = body["ShardId"].as_str().unwrap_or("");
                if !self.shards.iter().any(|s| s.id == id) {
                    return error(400, "ResourceNotFoundException", "the shard is gone");
                }
                iterator_for(body)
            }
            "GetRecords" => {
                let it = body["ShardIterator"].as_str().unwrap_or("").to_string();
                let parts: Vec<&str> = it.split('|').collect();
                let (id, after) = (parts[1], parts[3].parse::<u64>().unwrap_or(0));
                let Some(RollingShard {
                    closed, records: seqs, ..
                }) = self.shards.iter().find(|s| s.id == id)
                else {
                    return error(400, "TrimmedDataAccessException", "trimmed");
                };
                let list: Vec<Value> = seqs
                    .iter()
                    .filter(|&&seq| seq > after)
                    .map(|seq| record(&seq.to_string(), id, None, 1))
                    .collect();
                let last = seqs.iter().copied().filter(|&s| s > after).max().unwrap_or(after);
                let next = format!("it|{id}|AFTER_SEQUENCE_NUMBER|{last}");
                records(list, closed.is_none().then_some(next.as_str()))
            }
            "GetItem" => match &self.checkpoint {
                Some((cursor, version)) => (
                    200,
                    json!({"Item": {"pk": {"S": body["Key"]["pk"]["S"]}, "Cursor": {"S": cursor}, "Version": {"N": version.to_string()}}}),
                ),
                None => (200, json!({})),
            },
            "PutItem" => {
                let stored = self.checkpoint.as_ref().map(|(_, v)| *v);
                let expected = body["ExpressionAttributeValues"][":v"]["N"]
                    .as_str()
                    .and_then(|v| v.parse::<u64>().ok());
                if stored != expected {
                    return error(400, "ConditionalCheckFailedException", "the checkpoint moved");
                }
                let item = &body["Item"];
                self.checkpoint = Some((
                    item["Cursor"]["S"].as_str().unwrap().to_string(),
                    item["Version"]["N"].as_str().unwrap().parse().unwrap(),
                ));
                (200, json!({}))
            }
            _ => error(400, "UnknownOperationException", op),
        }
    }
}

/// Readers sharing a checkpoint through 100 rollovers: every record is
/// read, no pass reports a gap that is not there, and what is stored stays
/// the same size (finished shards are forgotten once trimmed away).
#[tokio::test]
async fn checkpoints_forget_finished_shards_through_a_hundred_rollovers() {
    use stockwatch_aws::checkpoints::DynamoCheckpoints;
    use stockwatch_core::ports::Checkpoints;
    let stream = Arc::new(std::sync::Mutex::new(RollingStream::new()));
    let scripted = stream.clone();
    let endpoint = serve(move |op, body| scripted.lock().unwrap().answer(op, body));
    let c = clients(&endpoint).await;
    let readers = [feed(&endpoint).await, feed(&endpoint).await];
    let checkpoints = DynamoCheckpoints::new(c.dynamodb.clone(), "Ledger".into());
    let mut seen = std::collections::BTreeSet::new();
    let mut sizes = Vec::new();
    for rollover in 0..100 {
        // Two readers take turns, as two checkers of one name do.
        let reader = &readers[rollover % 2];
        loop {
            let cursor = checkpoints.load("check-stock").await.unwrap();
            let page = reader.read(cursor.as_ref(), 1000).await.unwrap();
            assert!(!page.gap, "a false gap at rollover {rollover}");
            seen.extend(page.changes.iter().map(|c| c.id.clone()));
            checkpoints.save("check-stock", &page.cursor).await.unwrap();
            if page.changes.is_empty() {
                break;
            }
        }
        sizes.push(stream.lock().unwrap().checkpoint.as_ref().unwrap().0.len());
        // A shard's end makes its reader list the shards again: the
        // children appear, the trimmed shards drop out.
        stream.lock().unwrap().roll();
    }
    let cursor = checkpoints.load("check-stock").await.unwrap();
    let last = readers[0].read(cursor.as_ref(), 1000).await.unwrap();
    assert!(!last.gap);
    seen.extend(last.changes.iter().map(|c| c.id.clone()));
    let written = stream.lock().unwrap().next_seq - 1;
    let expected: Vec<u64> = (1..=written).collect();
    let missing: Vec<&u64> = expected
        .iter()
        .filter(|seq| !seen.contains(&format!("e{seq}")))
        .collect();
    assert!(missing.is_empty(), "records never read: {missing:?}");
    let (early, late) = (sizes[10], *sizes.last().unwrap());
    assert!(
        late <= early + 64,
        "the stored checkpoint grows with every rollover: {early} bytes after 10, {late} after 100"
    );
}

/// The answer to taking the held claim `claim#t<i>`: the alert it now is.
fn taken_claim(body: &Value) -> (u16, Value) {
    let pk = body["Key"]["pk"]["S"].as_str().unwrap().to_string();
    let id = pk.trim_start_matches("claim#t").parse::<u64>().unwrap() + 1;
    (
        200,
        json!({"Attributes": open_alert(json!({"pk": {"S": pk}, "AlertId": {"N": id.to_string()}}))}),
    )
}

/// A storm's window of 400 held claims is taken several updates at a time
/// (one after another, 10,000 took longer than the lease they were taken
/// for), and the claims' index keys are spread over several partitions
/// (one constant key is one hot index partition).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_is_taken_many_claims_at_a_time_over_spread_index_keys() {
    use stockwatch_aws::ledger::DynamoLedger;
    use stockwatch_core::ports::AlertClaims;
    let in_flight = Arc::new(AtomicU32::new(0));
    let most_at_once = Arc::new(AtomicU32::new(0));
    let parts_asked = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let parts_set = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let (busy, most, asked, set) = (
        in_flight.clone(),
        most_at_once.clone(),
        parts_asked.clone(),
        parts_set.clone(),
    );
    let endpoint = serve(move |op, body| match op {
        "Query" => {
            let part = body["ExpressionAttributeValues"][":p"]["S"]
                .as_str()
                .unwrap_or("")
                .to_string();
            asked.lock().unwrap().insert(part.clone());
            // Claims from before the spread sit under the bare value.
            let items: Vec<Value> = if part == "held" {
                (0..400)
                    .map(|i| json!({"pk": {"S": format!("claim#t{i}")}, "ClaimedAt": {"N": "1000"}}))
                    .collect()
            } else {
                Vec::new()
            };
            (200, json!({"Items": items}))
        }
        "UpdateItem" => {
            let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            busy.fetch_sub(1, Ordering::SeqCst);
            set.lock().unwrap().insert(
                body["ExpressionAttributeValues"][":p"]["S"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
            taken_claim(body)
        }
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let ledger = DynamoLedger::new(c.dynamodb, "Ledger".into());
    let taken = ledger.take_held("sender-1", Timestamp(5000)).await.unwrap();
    assert_eq!(taken.len(), 400);
    let most = most_at_once.load(Ordering::SeqCst);
    assert!(most >= 8, "at most {most} claims taken at once");
    let asked = parts_asked.lock().unwrap().clone();
    assert!(asked.len() >= 8, "the window's partitions asked: {asked:?}");
    let set = parts_set.lock().unwrap().clone();
    assert!(set.len() >= 4, "the taken claims' Pending keys: {set:?}");
}

/// A claim that cannot be taken (here: refused) does not strand the ones
/// taken with it: they carry the taker's token, and no one else would send
/// them before the lease passed.
#[tokio::test]
async fn claims_taken_are_sent_even_when_one_take_fails() {
    use stockwatch_aws::ledger::DynamoLedger;
    use stockwatch_core::ports::AlertClaims;
    let endpoint = serve(move |op, body| match op {
        "Query" if body["ExpressionAttributeValues"][":p"]["S"] == "held" => {
            let items: Vec<Value> = (0..20)
                .map(|i| json!({"pk": {"S": format!("claim#t{i}")}, "ClaimedAt": {"N": "1000"}}))
                .collect();
            (200, json!({"Items": items}))
        }
        "Query" => (200, json!({"Items": []})),
        "UpdateItem" => {
            if body["Key"]["pk"]["S"] == "claim#t7" {
                return error(400, "ValidationException", "an item this build cannot read");
            }
            taken_claim(body)
        }
        _ => error(400, "UnknownOperationException", op),
    });
    let c = clients(&endpoint).await;
    let ledger = DynamoLedger::new(c.dynamodb, "Ledger".into());
    let taken = ledger.take_held("sender-1", Timestamp(5000)).await.unwrap();
    assert_eq!(taken.len(), 19, "every claim but the refused one");
}
