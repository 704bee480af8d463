//! The deployed stack's paths under its own IAM policies: the load
//! function, the check function and a console operator each run with
//! credentials that hold exactly their policy as deploy/template.yaml
//! writes it (rendered with the real ARNs of a deployment on moto), moto's
//! IAM switch on, and every request judged on its resource too
//! (common/iam.rs). The stack is named `stockwatch-prod-eu-central-1`, a
//! name too long to make follower queue names from. A missing permission
//! fails with the action and resource named; a permission no path uses is
//! either gone from the template or said there (and below) why it stays.

use stockwatch_testkit as common;
use stockwatch_testkit::iam;
use stockwatch_testkit::moto;

use iam::{IamProxy, Policy};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Duration;
use stockwatch_aws::{AwsSettings, Clients};
use stockwatch_core::pipeline::{Checker, Loader};
use stockwatch_core::ports::{AlertFilter, ObjectKey, Ports};
use stockwatch_domain::Timestamp;
use stockwatch_domain::import::thousands;
use stockwatch_functions::FunctionSettings;
use stockwatch_functions::check_stock::{self, CheckStock};
use stockwatch_functions::load_inventory::{self, LoadInventory};

const STACK: &str = "stockwatch-prod-eu-central-1";

/// Held while a function's sweeps may beat, and while a follower must see
/// no live publisher: one deployment serves every test of this binary.
static BEATS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The test's users and the policy each holds.
const USERS: [(&str, &str); 4] = [
    ("load", "LoadInventoryRole"),
    ("check", "CheckStockRole"),
    ("operator", "OperatorPolicy"),
    ("partial", "PartialOperatorPolicy"),
];

/// One deployment on the IAM moto for every test of this binary.
struct World {
    moto: String,
    proxy: IamProxy,
    settings: AwsSettings,
    admin: (String, String),
    keys: HashMap<&'static str, (String, String)>,
    policies: HashMap<String, Policy>,
    load_queue: String,
    check_queue: String,
    inventory_stream: String,
    ledger_stream: String,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        std::thread::spawn(|| tokio::runtime::Runtime::new().unwrap().block_on(set_up()))
            .join()
            .unwrap()
    })
}

fn moto_iam() -> String {
    std::env::var("STOCKWATCH_TEST_MOTO_IAM").unwrap_or_else(|_| {
        panic!(
            "STOCKWATCH_TEST_MOTO_IAM is not set: these tests need a moto server of their own (its IAM switch is \
             turned on), which ./scripts/test.sh starts"
        )
    })
}

/// A configuration signed with `keys`, at `url` (the proxy or moto).
async fn config_as(url: &str, keys: &(String, String)) -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new(&keys.0, &keys.1, None, None, "iam-test");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new(iam::REGION))
        .credentials_provider(credentials)
        .timeout_config(stockwatch_aws::timeouts())
        .retry_config(stockwatch_aws::retries())
        .load()
        .await
}

async fn clients_as(url: &str, keys: &(String, String)) -> Clients {
    Clients::from_config(&config_as(url, keys).await, true, None).unwrap()
}

async fn set_up() -> World {
    let moto = moto_iam();
    // A server left judging by an earlier run: off, and wiped.
    iam::http(
        &moto,
        "POST",
        "/moto-api/reset-auth",
        &[("Content-Type", "text/plain")],
        "inf",
    );
    iam::http(&moto, "POST", "/moto-api/reset", &[], "");
    let test_keys = ("test".to_string(), "test".to_string());
    let clients = clients_as(&moto, &test_keys).await;

    // The stack first: the bucket's name and the queue prefix come from its id.
    let stack_id = clients
        .cloudformation
        .create_stack()
        .stack_name(STACK)
        .template_body(json!({"Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}}}).to_string())
        .send()
        .await
        .unwrap()
        .stack_id
        .unwrap();
    let guid = stack_id.rsplit('/').next().unwrap().to_string();
    let mut settings = AwsSettings::new(format!("stockwatch-{}-{guid}", iam::ACCOUNT));
    settings.table = format!("{STACK}-InventoryTable-1QX7ZJ2B9K");
    settings.ledger_table = format!("{STACK}-LedgerTable-8FJ3N0S1WQ");
    settings.topic = format!("{STACK}-NoStock");
    let (_, topic_arn) = moto::provisioned(&clients, &settings).await;
    settings.topic_arn = Some(topic_arn.clone());
    let fanout_arn = format!("{topic_arn}-fanout");
    settings.fanout_topic_arn = Some(fanout_arn.clone());
    let queue = |name: String| {
        let sqs = clients.sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .send()
                .await
                .unwrap()
                .queue_url
                .unwrap()
        }
    };
    let load_queue = queue(format!("{STACK}-LoadFailureQueue-2KD8")).await;
    let check_queue = queue(format!("{STACK}-CheckFailureQueue-7HS1")).await;
    let stream_of = |table: String| {
        let dynamodb = clients.dynamodb.clone();
        async move {
            let described = dynamodb.describe_table().table_name(table).send().await.unwrap();
            described.table.unwrap().latest_stream_arn.unwrap()
        }
    };
    let inventory_stream = stream_of(settings.table.clone()).await;
    let ledger_stream = stream_of(settings.ledger_table.clone()).await;

    // What the template's names stand for in this deployment.
    let arn_of_table = |t: &str| format!("arn:aws:dynamodb:{}:{}:table/{t}", iam::REGION, iam::ACCOUNT);
    let queue_arn = |url: &str| {
        format!(
            "arn:aws:sqs:{}:{}:{}",
            iam::REGION,
            iam::ACCOUNT,
            url.rsplit('/').next().unwrap()
        )
    };
    let history = stockwatch_aws::history::history_table(&settings.table);
    let mut d = iam::Deployment {
        stack_name: STACK.into(),
        stack_id: stack_id.clone(),
        ..Default::default()
    };
    let mut name = |logical: &str, reference: &str, attrs: &[(&str, String)]| {
        d.refs.insert(logical.into(), reference.into());
        for (attr, value) in attrs {
            d.attrs.insert(format!("{logical}.{attr}"), value.clone());
        }
    };
    name(
        "InventoryBucket",
        &settings.bucket,
        &[("Arn", format!("arn:aws:s3:::{}", settings.bucket))],
    );
    name(
        "InventoryTable",
        &settings.table,
        &[
            ("Arn", arn_of_table(&settings.table)),
            ("StreamArn", inventory_stream.clone()),
        ],
    );
    name("HistoryTable", &history, &[("Arn", arn_of_table(&history))]);
    name(
        "LedgerTable",
        &settings.ledger_table,
        &[
            ("Arn", arn_of_table(&settings.ledger_table)),
            ("StreamArn", ledger_stream.clone()),
        ],
    );
    name("AlertTopic", &topic_arn, &[("TopicName", settings.topic.clone())]);
    name(
        "FanoutTopic",
        &fanout_arn,
        &[("TopicName", format!("{}-fanout", settings.topic))],
    );
    name("LoadFailureQueue", &load_queue, &[("Arn", queue_arn(&load_queue))]);
    name("CheckFailureQueue", &check_queue, &[("Arn", queue_arn(&check_queue))]);
    for (logical, function) in [
        ("LoadInventoryLogGroup", "load-inventory"),
        ("CheckStockLogGroup", "check-stock"),
    ] {
        let group = format!("/stockwatch/{STACK}/{function}");
        let arn = format!("arn:aws:logs:{}:{}:log-group:{group}:*", iam::REGION, iam::ACCOUNT);
        name(logical, &group, &[("Arn", arn)]);
    }
    name(
        "LoadInventoryFunction",
        &format!("{STACK}-LoadInventoryFunction-1"),
        &[],
    );
    name("CheckStockFunction", &format!("{STACK}-CheckStockFunction-1"), &[]);
    name("EscalationTopicArn", "", &[]);
    name(
        "OperatorPolicy",
        &format!("arn:aws:iam::{}:policy/{STACK}-OperatorPolicy-1", iam::ACCOUNT),
        &[],
    );
    // Only outputs name them: no policy grants anything on the pool.
    name("UserPool", &format!("{}_Dashboard1", iam::REGION), &[]);
    name("UserPoolClient", "4dashboardclient0000000001", &[]);
    let policies = iam::policies(&d);

    // The stack's outputs, as the template renders them for this stack.
    let template = iam::template();
    let outputs: Vec<Value> = template["Outputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter_map(|(key, output)| {
            let value = iam::render(&output["Value"], &d)?;
            Some(json!({"OutputKey": key.as_str().unwrap(), "OutputValue": value}))
        })
        .collect();
    let prefix = outputs
        .iter()
        .find(|o| o["OutputKey"] == "FollowerQueuePrefix")
        .map(|o| o["OutputValue"].as_str().unwrap().to_string());
    settings.follower_queue_prefix = prefix;
    let stand_in_outputs: serde_json::Map<String, Value> = outputs
        .iter()
        .map(|o| {
            (
                o["OutputKey"].as_str().unwrap().to_string(),
                json!({"Value": o["OutputValue"]}),
            )
        })
        .collect();
    clients
        .cloudformation
        .update_stack()
        .stack_name(STACK)
        .template_body(
            json!({"Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}}, "Outputs": stand_in_outputs}).to_string(),
        )
        .send()
        .await
        .unwrap();

    // Users holding each policy (moto's copy), then moto judges.
    let admin = iam::create_user(
        &moto,
        "admin",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    );
    // And an operator whose policy lost the ledger's UpdateItem (an old copy
    // of the managed policy): what a refused call says.
    let mut policies = policies;
    let mut partial = policies["OperatorPolicy"].clone();
    for statement in &mut partial.statements {
        if statement.sid == "ReadAndAcknowledgeAlerts" {
            statement.actions.retain(|a| a != "dynamodb:UpdateItem");
        }
    }
    policies.insert("PartialOperatorPolicy".into(), partial);
    let mut keys = HashMap::new();
    for (user, logical) in USERS {
        keys.insert(user, iam::create_user(&moto, user, &policies[logical].for_moto()));
    }
    iam::enforce(&moto);
    let proxy = iam::proxy(&moto);
    proxy.judge(&admin, "admin", None);
    for (user, logical) in USERS {
        proxy.judge(&keys[user], user, Some(policies[logical].clone()));
    }
    proxy.name_stack(STACK, &stack_id);
    World {
        moto,
        proxy,
        settings,
        admin,
        keys,
        policies,
        load_queue,
        check_queue,
        inventory_stream,
        ledger_stream,
    }
}

/// Ports with the admin's keys (setting the scene), through the proxy
/// unjudged (it signs SNS's form bodies so that moto can check them).
async fn admin_ports(w: &World) -> Ports {
    let clients = clients_as(&w.proxy.url, &w.admin).await;
    stockwatch_aws::connect_publisher(&w.settings, clients).await.unwrap()
}

/// Rows written as a store's file would write them, by the admin.
async fn load_as_admin(w: &World, store: &str, rows: &[(&str, u32)], as_of: Timestamp) {
    let mut csv = String::from("store,item,count\n");
    for (item, count) in rows {
        csv.push_str(&format!("{store},{item},{count}\n"));
    }
    Loader::new(admin_ports(w).await)
        .upload(&format!("{store}.csv"), bytes::Bytes::from(csv), Some(as_of), None)
        .await
        .unwrap();
}

/// The function's settings as the template's environment gives them.
fn function_settings(w: &World, failure_queue: &str) -> FunctionSettings {
    let s = &w.settings;
    let vars: HashMap<&str, String> = HashMap::from([
        (stockwatch_functions::BUCKET_VAR, s.bucket.clone()),
        (stockwatch_functions::TABLE_VAR, s.table.clone()),
        (stockwatch_functions::LEDGER_TABLE_VAR, s.ledger_table.clone()),
        (stockwatch_functions::TOPIC_ARN_VAR, s.topic_arn.clone().unwrap()),
        (
            stockwatch_functions::FANOUT_TOPIC_ARN_VAR,
            s.fanout_topic_arn.clone().unwrap(),
        ),
        (stockwatch_functions::FAILURE_QUEUE_VAR, failure_queue.to_string()),
        (stockwatch_functions::GROUP_WAIT_VAR, "1s".into()),
        (stockwatch_functions::RENOTIFY_AFTER_VAR, "1s".into()),
    ]);
    FunctionSettings::from_vars(|name| vars.get(name).cloned()).unwrap()
}

/// The permissions a role's paths used, against what its policy grants:
/// granted but never used must be one of `kept`, each with its reason
/// (said in the template too), and each of `kept` must be unused.
fn unused_grants(w: &World, user: &str, logical: &str, kept: &[(&str, &str)]) {
    let calls = w.proxy.calls_of(user);
    // A statement's action is used when an allowed call made it on one of
    // the statement's resources.
    let used = |action: &str, resources: &[String]| {
        calls.iter().any(|j| {
            j.allowed
                && iam::matches(&action.to_ascii_lowercase(), &j.action.to_ascii_lowercase())
                && resources.iter().any(|r| iam::matches(r, &j.resource))
        })
    };
    let unused: BTreeSet<String> = w.policies[logical]
        .granted()
        .into_iter()
        .filter(|(_, action, resources)| !used(action, resources))
        .map(|(sid, action, _)| format!("{sid}: {action}"))
        .collect();
    let said: BTreeSet<String> = kept.iter().map(|(grant, _)| grant.to_string()).collect();
    assert_eq!(
        unused, said,
        "{logical} grants what no path of {user} used (remove it, or say in the template and here why it stays)"
    );
}

/// What `user` was refused so far, for a failing assertion's message.
fn denials(w: &World, user: &str) -> String {
    let denied = w.proxy.denied(user);
    if denied.is_empty() {
        return String::new();
    }
    format!(
        "\n{user} was denied (deploy/template.yaml must grant it):\n  {}",
        denied.join("\n  ")
    )
}

fn assert_allowed(w: &World, user: &str) {
    let denied = w.proxy.denied(user);
    assert!(denied.is_empty(), "{user} was denied:\n  {}", denied.join("\n  "));
}

/// A Lambda stream batch of the table's records, read from moto's stream
/// (the trigger's view): every record after `after`, its shard, and the
/// first and last sequence numbers.
async fn stream_batch(w: &World, after: Option<&str>) -> (Value, String, String, String) {
    let clients = clients_as(&w.moto, &w.admin).await;
    let shards = clients
        .streams
        .describe_stream()
        .stream_arn(&w.inventory_stream)
        .send()
        .await
        .unwrap();
    let shard = shards.stream_description.unwrap().shards.unwrap()[0]
        .shard_id
        .clone()
        .unwrap();
    let request = clients
        .streams
        .get_shard_iterator()
        .stream_arn(&w.inventory_stream)
        .shard_id(&shard);
    let request = match after {
        Some(seq) => request
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::AfterSequenceNumber)
            .sequence_number(seq),
        None => request.shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon),
    };
    let iterator = request.send().await.unwrap().shard_iterator.unwrap();
    let records = clients
        .streams
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .unwrap()
        .records
        .unwrap_or_default();
    let attrs = |image: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| {
        let item: serde_dynamo::Item = stockwatch_aws::attrs::from_stream(image.unwrap_or(&HashMap::new())).into();
        serde_json::to_value(item).unwrap()
    };
    let mut last = String::new();
    let first = records
        .first()
        .and_then(|r| r.dynamodb()?.sequence_number().map(String::from))
        .unwrap_or_default();
    let events: Vec<Value> = records
        .iter()
        .map(|r| {
            let data = r.dynamodb().unwrap();
            last = data.sequence_number().unwrap().to_string();
            let mut change = json!({
                "ApproximateCreationDateTime": Timestamp::now().0 / 1000,
                "Keys": attrs(data.keys()),
                "SequenceNumber": data.sequence_number(),
                "SizeBytes": 100,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "NewImage": attrs(data.new_image()),
            });
            if data.old_image().is_some() {
                change["OldImage"] = attrs(data.old_image());
            }
            json!({
                "eventID": r.event_id(), "eventName": r.event_name().unwrap().as_str(), "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": iam::REGION, "dynamodb": change,
                "eventSourceARN": w.inventory_stream,
            })
        })
        .collect();
    (json!({"Records": events}), shard, first, last)
}

fn sweep_event() -> Value {
    let path = common::repo().join("tests/events/scheduled-sweep.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_function_does_its_work_under_its_role() {
    let w = world();
    // Its sweeps beat: a follower started meanwhile would not read the streams.
    let _beats = BEATS.lock().await;
    // What reaches the alert topic, read through a queue the admin subscribed.
    let admin = clients_as(&w.moto, &w.admin).await;
    let (sqs, alerts_url) =
        moto::queue_on_topic(&admin, w.settings.topic_arn.as_deref().unwrap(), "check-role-alerts").await;
    let settings = function_settings(w, &w.check_queue);
    let clients = clients_as(&w.proxy.url, &w.keys["check"]).await;
    let connected_ports = stockwatch_aws::connect_function(&settings.aws, clients.clone())
        .await
        .unwrap();
    let failures = stockwatch_functions::failures::FailureQueue::new(clients.sqs.clone(), w.check_queue.clone());
    let feed = stockwatch_aws::feed::StreamFeed::new(
        clients.streams.clone(),
        clients.dynamodb.clone(),
        settings.aws.table.clone(),
    );
    let mut config = settings.checker.clone();
    config.lease = Duration::from_millis(500);
    config.notify_soon = true;
    let function = CheckStock::new(Checker::new(connected_ports.clone(), config))
        .publishing(connected_ports.fanout.clone(), settings.aws.ledger_table.clone())
        .with_failures(feed, failures);

    // A stream batch: two items run out, one is low; history is recorded.
    let now = Timestamp::now();
    load_as_admin(w, "Check-Berlin", &[("Dot", 0), ("Echo", 0), ("Show", 2)], now).await;
    let (batch, shard, _, first_last) = stream_batch(w, None).await;
    let response = check_stock::handle_any(&function, batch).await.unwrap();
    assert_eq!(
        response["batchItemFailures"],
        json!([]),
        "{response}{}",
        denials(w, "check")
    );
    // The window (1 s) closes; the scheduled sweep sends it and beats.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let swept = check_stock::handle_any(&function, sweep_event()).await.unwrap();
    assert!(swept["published"].as_u64() >= Some(1), "{swept}{}", denials(w, "check"));
    let texts = moto::texts(&sqs, &alerts_url).await;
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Check-Berlin is out of stock of 2 items")),
        "{texts:?}"
    );
    // A reminder, a second after the message, from the next sweep.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let reminded = check_stock::handle_any(&function, sweep_event()).await.unwrap();
    assert!(
        reminded["published"].as_u64() >= Some(1),
        "{reminded}{}",
        denials(w, "check")
    );

    // A restock then a sell-out, in a batch given up on: the sweep reads it
    // again from the stream; a batch no longer kept makes it read the table.
    load_as_admin(w, "Check-Berlin", &[("Dot", 9), ("Show", 0)], Timestamp(now.0 + 60_000)).await;
    let (_, _, first, last) = stream_batch(w, Some(&first_last)).await;
    let given_up = json!({"DDBStreamBatchInfo": {"streamArn": w.inventory_stream, "shardId": shard,
        "startSequenceNumber": first, "endSequenceNumber": last, "batchSize": 2}});
    admin
        .sqs
        .send_message()
        .queue_url(&w.check_queue)
        .message_body(given_up.to_string())
        .send()
        .await
        .unwrap();
    let recovered = check_stock::handle_any(&function, sweep_event()).await.unwrap();
    assert_eq!(
        recovered["recovered_batches"].as_u64(),
        Some(1),
        "{recovered}{}",
        denials(w, "check")
    );
    // Records no longer kept (moto keeps them forever): the table is read.
    function.checker.reconcile_now().await.unwrap();

    // The ledger's stream: alert states published to the fan-out feed.
    let alert = connected_ports
        .ledger
        .list(&AlertFilter::default(), None, 1)
        .await
        .unwrap()
        .items
        .remove(0);
    let ledger_batch = moto::ledger_batch(&admin.dynamodb, &w.settings.ledger_table, &alert, &w.ledger_stream).await;
    let relayed = check_stock::handle_any(&function, ledger_batch).await.unwrap();
    assert_eq!(
        relayed["batchItemFailures"],
        json!([]),
        "{relayed}{}",
        denials(w, "check")
    );

    assert_allowed(w, "check");
    unused_grants(
        w,
        "check",
        "CheckStockRole",
        &[
            // Lambda's event source mappings read both streams with the
            // function's role (the four actions AWS lists for a trigger).
            ("ReadTheStream: dynamodb:DescribeStream", "the stream trigger"),
            ("FindTheStream: dynamodb:ListStreams", "the stream trigger"),
            (
                "ReadTheLedgerStream: dynamodb:DescribeStream",
                "the ledger stream's trigger",
            ),
            (
                "ReadTheLedgerStream: dynamodb:GetRecords",
                "the ledger stream's trigger",
            ),
            (
                "ReadTheLedgerStream: dynamodb:GetShardIterator",
                "the ledger stream's trigger",
            ),
            (
                "ReadTheLedgerStream: dynamodb:ListStreams",
                "the ledger stream's trigger",
            ),
            (
                "GiveUpToTheFailureQueue: sqs:SendMessage",
                "Lambda's on-failure destination, with the role",
            ),
            ("Log: logs:CreateLogStream", "the Lambda runtime's logs"),
            ("Log: logs:PutLogEvents", "the Lambda runtime's logs"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_function_loads_under_its_role() {
    let w = world();
    let settings = function_settings(w, &w.load_queue);
    let clients = clients_as(&w.proxy.url, &w.keys["load"]).await;
    let ports = stockwatch_aws::connect_function(&settings.aws, clients.clone())
        .await
        .unwrap();
    let function = LoadInventory {
        loader: Loader::new(ports).with_lease(Duration::from_millis(1)),
        bucket: settings.aws.bucket.clone(),
        failures: Some(stockwatch_functions::failures::FailureQueue::new(
            clients.sqs.clone(),
            w.load_queue.clone(),
        )),
    };
    let admin = admin_ports(w).await;
    // The table holds a newer snapshot of Dot: the upload's Dot is a point
    // of the history only, which the loader keeps itself.
    let newer = Timestamp(Timestamp::now().0 + 240_000);
    load_as_admin(w, "Load-Berlin", &[("Dot", 9)], newer).await;
    // An upload, as an operator's `upload` stores it; its S3 event.
    let key = ObjectKey::parse(&format!(
        "uploads/{}-op1/load-berlin.csv",
        Timestamp::now().to_compact()
    ))
    .unwrap();
    let file = bytes::Bytes::from_static(b"store,item,count\nLoad-Berlin,Dot,4\nLoad-Berlin,Echo,0\n");
    admin.objects.put(&key, &file.clone().into(), None, None).await.unwrap();
    let path = common::repo().join("tests/events/s3-object-created.json");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{bucket}}", &w.settings.bucket);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["Records"] = json!([event["Records"][0].clone()]);
    event["Records"][0]["s3"]["object"]["key"] = json!(key.as_str());
    let loaded = load_inventory::handle_any(&function, event.clone()).await.unwrap();
    assert!(
        loaded.to_string().contains("\"loaded\""),
        "{loaded}{}",
        denials(w, "load")
    );
    let dot = admin.history.points("Load-Berlin", "Dot", Timestamp(0)).await.unwrap();
    assert!(
        dot.iter().any(|p| p.count == 4),
        "the older snapshot is in the history: {dot:?}"
    );

    // An upload whose load stopped, and an event given up on: the sweep.
    let stopped = ObjectKey::parse(&format!(
        "uploads/{}-op2/load-munich.csv",
        Timestamp::now().to_compact()
    ))
    .unwrap();
    let file = bytes::Bytes::from_static(b"store,item,count\nLoad-Munich,Dot,1\n");
    admin.objects.put(&stopped, &file.into(), None, None).await.unwrap();
    let admin_clients = clients_as(&w.moto, &w.admin).await;
    admin_clients
        .sqs
        .send_message()
        .queue_url(&w.load_queue)
        .message_body(json!({"requestContext": {"condition": "RetriesExhausted"}, "requestPayload": event}).to_string())
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let swept = load_inventory::handle_any(&function, sweep_event()).await.unwrap();
    assert_eq!(
        swept["recovered_events"].as_u64(),
        Some(1),
        "{swept}{}",
        denials(w, "load")
    );
    assert!(swept["resumed"].as_u64() >= Some(1), "{swept}{}", denials(w, "load"));

    assert_allowed(w, "load");
    unused_grants(
        w,
        "load",
        "LoadInventoryRole",
        &[
            (
                "GiveUpToTheFailureQueue: sqs:SendMessage",
                "Lambda sends what it gave up on with the role",
            ),
            ("Log: logs:CreateLogStream", "the Lambda runtime's logs"),
            ("Log: logs:PutLogEvents", "the Lambda runtime's logs"),
        ],
    );
}

/// The real binary as an operator of the stack: `--stack` and the keys of
/// a user holding OperatorPolicy, through the judging proxy.
fn operator(w: &World, env: &common::Env) -> std::process::Command {
    operator_as(w, env, "operator")
}

fn operator_as(w: &World, env: &common::Env, user: &str) -> std::process::Command {
    let mut cmd = env.cmd();
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    let (key, secret) = &w.keys[user];
    cmd.env("AWS_ENDPOINT_URL", &w.proxy.url)
        .env("AWS_REGION", iam::REGION)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("STOCKWATCH_STACK", STACK);
    cmd
}

fn succeeds(w: &World, env: &common::Env, args: &[&str]) -> String {
    let out = operator(w, env).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}\ndenied so far: {:?}",
        common::stderr(&out),
        w.proxy.denied("operator")
    );
    common::stdout(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_works_under_the_operator_policy() {
    let w = world();
    let env = common::Env::new();
    let admin = admin_ports(w).await;
    // The scene: the stack's function raised alerts and beats.
    load_as_admin(w, "Op-Berlin", &[("Dot", 0), ("Echo", 7)], Timestamp::now()).await;
    let checker = Checker::new(
        admin.clone(),
        stockwatch_core::pipeline::CheckerConfig {
            name: "op-scene".into(),
            ..Default::default()
        },
    );
    checker.run_once().await.unwrap();

    succeeds(w, &env, &["stock", "--json"]);
    let stock = succeeds(w, &env, &["stock", "--store", "Op-Berlin", "--json"]);
    assert!(stock.contains("Dot"), "{stock}");
    succeeds(w, &env, &["history", "--store", "Op-Berlin", "--item", "Dot", "--json"]);
    let alerts: Value = serde_json::from_str(&succeeds(w, &env, &["alerts", "--json"])).unwrap();
    let id = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["store"] == "Op-Berlin")
        .map(|a| a["id"].as_str().unwrap().to_string())
        .expect("the scene's alert");
    succeeds(w, &env, &["alerts", "--all", "--json"]);
    succeeds(w, &env, &["ack", &id, "--note", "on it"]);
    // Taken back and given again: the operator's policy covers both.
    succeeds(w, &env, &["unack", &id]);
    succeeds(w, &env, &["ack", &id, "--note", "on it"]);
    succeeds(w, &env, &["snooze", "--store", "Op-Berlin", "--for", "1h"]);
    succeeds(w, &env, &["unsnooze", "--store", "Op-Berlin"]);
    succeeds(w, &env, &["uploads", "--json"]);

    // Following: the fan-out feed through a queue of its own, named by the
    // stack's prefix (this stack's name is too long to make one from).
    let subscribed = || {
        w.proxy
            .calls_of("operator")
            .iter()
            .filter(|j| j.operation == "Subscribe" && j.allowed)
            .count()
    };
    let follow = |before: usize| {
        let child = operator(w, &env)
            .args(["watch", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while subscribed() == before && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(100));
        }
        child
    };
    // Before the stack's function beats (or long after), a follower reads
    // the streams itself.
    let beats = BEATS.lock().await;
    clients_as(&w.moto, &w.admin)
        .await
        .dynamodb
        .put_item()
        .table_name(&w.settings.ledger_table)
        .item("pk", aws_sdk_dynamodb::types::AttributeValue::S("relay#beat".into()))
        .item("At", aws_sdk_dynamodb::types::AttributeValue::N("0".into()))
        .send()
        .await
        .unwrap();
    let direct = operator(w, &env)
        .args(["watch", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let read_records = || {
        w.proxy
            .calls_of("operator")
            .iter()
            .filter(|j| j.operation == "GetRecords" && j.allowed)
            .count()
    };
    let started = std::time::Instant::now();
    while read_records() < 2 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    unsafe { libc::kill(direct.id() as i32, libc::SIGTERM) };
    let out = direct.wait_with_output().unwrap();
    assert!(
        read_records() >= 2,
        "watch never read the streams: {}",
        common::stderr(&out)
    );
    drop(beats);
    // Then through the fan-out feed. Two at once: the second looks at the
    // first's heartbeat before it subscribes (the reaper at every start).
    admin.fanout.beat().await.unwrap();
    let first = follow(0);
    let second = follow(1);
    // What is published reaches them, and each takes it off its queue.
    admin.fanout.beat().await.unwrap();
    let received = || {
        w.proxy
            .calls_of("operator")
            .iter()
            .filter(|j| j.operation.starts_with("DeleteMessage") && j.allowed)
            .count()
    };
    let started = std::time::Instant::now();
    while received() < 2 && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut said = String::new();
    for child in [first, second] {
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let out = child.wait_with_output().unwrap();
        said.push_str(&common::stderr(&out));
    }
    assert_eq!(
        subscribed(),
        2,
        "watch never followed: {said}\ndenied: {:?}",
        w.proxy.denied("operator")
    );

    // An upload the stack's load function loads.
    let mut upload = operator(w, &env);
    upload.args(["upload", "--json", "samples/inventory-berlin.csv"]);
    let child = tokio::task::spawn_blocking(move || upload.output().unwrap());
    let load_clients = clients_as(&w.moto, &w.admin).await;
    let loader = Loader::new(admin.clone());
    let started = std::time::Instant::now();
    loop {
        let pending = admin
            .objects
            .stalled(Timestamp(Timestamp::now().0 + 5_000), 10)
            .await
            .unwrap();
        if let Some(key) = pending.first() {
            loader.load_object(key, None).await.unwrap();
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the upload never reached the bucket"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(load_clients);
    let out = child.await.unwrap();
    assert!(out.status.success(), "upload: {}", common::stderr(&out));

    // The web dashboard on the stack: its one follower, a store's page (its
    // items' histories), then SIGTERM (its queue removed on the way out).
    let (mut server, url) = common::running::serve(operator(w, &env), &[]);
    let started = std::time::Instant::now();
    while !iam::http(&url, "GET", "/healthz", &[], "").contains("\"ready\":true") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the dashboard never read its picture; denied: {:?}",
            w.proxy.denied("operator")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = iam::http(&url, "GET", "/store?name=Op-Berlin", &[], "");
    assert!(page.contains("data-item=\"Dot\""), "{page}");
    unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) };
    let started = std::time::Instant::now();
    while server.0.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the dashboard did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_allowed(w, "operator");
    unused_grants(
        w,
        "operator",
        "OperatorPolicy",
        &[
            (
                "Upload: s3:AbortMultipartUpload",
                "an upload of over 5 MiB whose parts failed is abandoned",
            ),
            (
                "OwnQueues: sqs:TagQueue",
                "SQS asks for it to tag a queue as CreateQueue makes it; moto judges one CreateQueue",
            ),
            (
                "OwnQueues: sqs:GetQueueUrl",
                "a reaper looks up a queue made after its listing before unsubscribing it (aws_relay's race test)",
            ),
        ],
    );
}

/// docs/aws.md's idle figures are the template's schedules: invocations a
/// month (30 days) of each function's sweep, and their sum.
#[test]
fn the_documented_sweep_figures_are_the_template_s() {
    let template = iam::template();
    let mut total = 0;
    let readme = std::fs::read_to_string(common::repo().join("docs/aws.md")).unwrap();
    let idle = &readme[readme
        .find("### What it costs idle")
        .expect("docs/aws.md says what it costs idle")..];
    let idle = &idle[..idle[4..].find("\n## ").map_or(idle.len(), |end| end + 4)];
    for (function, logical) in [
        ("check-stock", "CheckStockFunction"),
        ("load-inventory", "LoadInventoryFunction"),
    ] {
        let schedule = template["Resources"][logical]["Properties"]["Events"]["Sweep"]["Properties"]["Schedule"]
            .as_str()
            .unwrap();
        let minutes: u64 = schedule
            .trim_start_matches("rate(")
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let a_month = 30 * 24 * 60 / minutes;
        total += a_month;
        let row = idle
            .lines()
            .find(|l| l.starts_with(&format!("| {function} |")))
            .unwrap_or_else(|| panic!("docs/aws.md has no row for {function}'s sweep"));
        assert!(
            row.contains(&format!("| {} |", thousands(a_month))),
            "{schedule} is {} invocations a month: {row}",
            thousands(a_month)
        );
    }
    assert!(
        idle.contains(&format!("{} short invocations a month", thousands(total))),
        "{total} in all: {idle}"
    );
}

/// A call the policy refuses says which action on which resource, and what
/// grants it: not "the ledger table … failed: an error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_call_names_the_action_the_resource_and_the_policy_that_grants_it() {
    let w = world();
    let env = common::Env::new();
    let out = operator_as(w, &env, "partial")
        .args(["snooze", "--store", "Denied-Berlin", "--for", "1h"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = common::stderr(&out);
    let ledger = format!("table/{}", w.settings.ledger_table);
    assert!(
        said.contains("dynamodb:UpdateItem on arn:aws:dynamodb:") && said.contains(&ledger),
        "{said}"
    );
    assert!(said.contains("OperatorPolicyArn"), "what grants it: {said}");
    assert_eq!(said.trim_end().lines().count(), 1, "one sentence: {said}");
}
