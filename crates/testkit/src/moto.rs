//! The moto server the test command starts (STOCKWATCH_TEST_MOTO), and fresh,
//! uniquely named AWS resources on it for each test.

#![allow(dead_code)]

use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use stockwatch_aws::provision::{Request, provision};
use stockwatch_aws::{AwsSettings, Clients, connect_with};
use stockwatch_core::ports::Ports;

/// The endpoint, or a clear failure: an AWS test that cannot reach moto must
/// not pass by skipping.
/// The real binary on moto (through `endpoint`, moto or a proxy in front
/// of it), named by environment as an operator would, nothing inherited that
/// could change its behaviour; its clock offset by libfaketime when `clock`
/// is given (`"-5m"`). Logs and config go under `dir`.
#[allow(dead_code)]
pub fn stockwatch_on(
    settings: &AwsSettings,
    dir: &std::path::Path,
    endpoint: &str,
    clock: Option<&str>,
) -> std::process::Command {
    let mut cmd = match clock {
        Some(offset) => {
            let mut c = std::process::Command::new("faketime");
            c.arg("-f")
                .arg(beside_this_clock(offset))
                .arg(crate::binary("stockwatch"));
            c
        }
        None => std::process::Command::new(crate::binary("stockwatch")),
    };
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("STOCKWATCH_") || key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(operator_env(settings, endpoint))
        .env("STOCKWATCH_USER", "tester")
        .env("STOCKWATCH_LOG_DIR", dir.join("logs"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .current_dir(crate::repo());
    cmd
}

/// `offset` (`-5m`) from this process's clock: when the suite itself runs
/// under libfaketime (FAKETIME `+365d`, the clock a year ahead), a child's
/// offset adds to it, as a nested faketime would otherwise replace it.
fn beside_this_clock(offset: &str) -> String {
    let seconds = |text: &str| -> Option<i64> {
        let text = text.trim();
        let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len()));
        let n: i64 = number.trim_start_matches('+').parse().ok()?;
        Some(
            n * match unit {
                "" | "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                "y" => 365 * 86_400,
                _ => return None,
            },
        )
    };
    match std::env::var("FAKETIME").ok().and_then(|outer| seconds(&outer)) {
        Some(outer) => format!("{:+}s", outer + seconds(offset).expect("an offset such as -5m")),
        None => offset.to_string(),
    }
}

/// The environment that points stockwatch at a deployment on moto (through
/// `endpoint`), as an operator names it: backend, names, region, keys.
#[allow(dead_code)]
pub fn operator_env(settings: &AwsSettings, endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("STOCKWATCH_BACKEND", "aws".into()),
        ("STOCKWATCH_BUCKET", settings.bucket.clone()),
        ("STOCKWATCH_TABLE", settings.table.clone()),
        ("STOCKWATCH_LEDGER_TABLE", settings.ledger_table.clone()),
        ("STOCKWATCH_TOPIC", settings.topic.clone()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
    ]
}

pub fn endpoint() -> String {
    std::env::var("STOCKWATCH_TEST_MOTO").unwrap_or_else(|_| {
        panic!(
            "STOCKWATCH_TEST_MOTO is not set: the AWS tests run against moto's server, which ./scripts/test.sh \
             installs and starts (or start one yourself: moto_server -p 5000, then STOCKWATCH_TEST_MOTO=http://127.0.0.1:5000)"
        )
    })
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_at(&endpoint()).await
}

/// A configuration for moto at `url` (the benchmark puts a proxy in front).
pub async fn sdk_config_at(url: &str) -> aws_config::SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "moto");
    // As shipped: the same timeouts, one attempt per call.
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .timeout_config(stockwatch_aws::timeouts())
        .retry_config(stockwatch_aws::retries())
        .load()
        .await
}

pub async fn clients() -> Clients {
    Clients::from_config(&sdk_config().await, true, None).unwrap()
}

/// Names no other test (or earlier run against the same server) uses.
pub fn unique_settings() -> AwsSettings {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let tag = format!(
        "{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        nanos % 100_000
    );
    let mut settings = AwsSettings::new(format!("sw-test-{tag}"));
    settings.table = format!("Inventory-{tag}");
    settings.ledger_table = format!("Alerts-{tag}");
    settings.topic = format!("NoStock-{tag}");
    settings
}

/// Provisions a fresh deployment on moto and connects to it.
pub async fn fresh() -> (Ports, AwsSettings, Clients) {
    fresh_at(&endpoint()).await
}

/// Provisions `settings` without subscriptions; the steps and the topic ARN.
pub async fn provisioned(clients: &Clients, settings: &AwsSettings) -> (Vec<stockwatch_aws::provision::Step>, String) {
    provision(
        clients,
        Request {
            settings,
            email: None,
            sms: None,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("provisioning on moto at {} failed: {e}", endpoint()))
}

pub async fn fresh_at(url: &str) -> (Ports, AwsSettings, Clients) {
    let clients = Clients::from_config(&sdk_config_at(url).await, true, None).unwrap();
    let mut settings = unique_settings();
    let (_, arn) = provisioned(&clients, &settings).await;
    settings.topic_arn = Some(arn);
    let backend = connect_with(&settings, clients.clone()).await.unwrap();
    (backend, settings, clients)
}

/// DynamoDB Local, AWS's own emulator, which the test command starts
/// (STOCKWATCH_TEST_DYNAMODB_LOCAL), or a clear failure.
pub fn dynamodb_local() -> String {
    std::env::var("STOCKWATCH_TEST_DYNAMODB_LOCAL").unwrap_or_else(|_| {
        panic!(
            "STOCKWATCH_TEST_DYNAMODB_LOCAL is not set: these tests run DynamoDB on DynamoDB Local, which \
             ./scripts/test.sh installs and starts"
        )
    })
}

/// Clients with DynamoDB and its streams on DynamoDB Local (which checks
/// conditions and serializes transactions as DynamoDB does), S3, SNS, SQS
/// and CloudFormation on moto.
pub async fn clients_on_dynamodb_local() -> Clients {
    let mut clients = clients().await;
    let dynamodb = sdk_config_at(&dynamodb_local()).await;
    clients.dynamodb = aws_sdk_dynamodb::Client::new(&dynamodb);
    clients.streams = aws_sdk_dynamodbstreams::Client::new(&dynamodb);
    clients
}

/// A fresh deployment with DynamoDB on DynamoDB Local.
pub async fn fresh_on_dynamodb_local() -> (AwsSettings, Clients) {
    let clients = clients_on_dynamodb_local().await;
    let mut settings = unique_settings();
    let (_, arn) = provisioned(&clients, &settings).await;
    settings.topic_arn = Some(arn);
    (settings, clients)
}

/// The ledger stream's batch of one record, as its trigger sends it to
/// check-stock: the alert's item as the ledger holds it now.
pub async fn ledger_batch(
    dynamodb: &aws_sdk_dynamodb::Client,
    ledger_table: &str,
    alert: &stockwatch_domain::Alert,
    stream_arn: &str,
) -> Value {
    let key = format!("claim#{}", alert.transition);
    let item = dynamodb
        .get_item()
        .table_name(ledger_table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key.clone()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let image: serde_dynamo::Item = item.into();
    serde_json::json!({"Records": [{
        "eventID": "ledger-1", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "eventSourceARN": stream_arn,
        "dynamodb": {"ApproximateCreationDateTime": stockwatch_domain::Timestamp::now().0 / 1000,
            "Keys": {"pk": {"S": key}}, "NewImage": image,
            "SequenceNumber": "900000000000000000001", "SizeBytes": 100, "StreamViewType": "NEW_IMAGE"}
    }]})
}

/// An SQS queue subscribed (raw delivery off) to the topic, made with the
/// clients' own keys; returns its client and URL.
pub async fn queue_on_topic(
    clients: &stockwatch_aws::Clients,
    topic_arn: &str,
    name: &str,
) -> (aws_sdk_sqs::Client, String) {
    let sqs = clients.sqs.clone();
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn = attributes.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    clients
        .sns
        .subscribe()
        .topic_arn(topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    (sqs, url)
}

/// The texts (SNS `Message`) a queue subscribed to a topic received, sorted.
#[allow(dead_code)]
pub async fn texts(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut texts: Vec<String> = drain(sqs, url)
        .await
        .iter()
        .map(|m| m["Message"].as_str().unwrap().to_string())
        .collect();
    texts.sort();
    texts
}

pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return messages;
        }
        for m in batch {
            messages.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

/// A CloudFormation stack on moto with the outputs deploy/template.yaml
/// declares, naming the deployment `settings` describes (moto cannot run the
/// SAM transform, so the stand-in only carries the names). Returns its name.
pub async fn stand_in_stack(clients: &Clients, settings: &AwsSettings) -> String {
    use stockwatch_aws::stack::{BUCKET_OUTPUT, LEDGER_TABLE_OUTPUT, TABLE_OUTPUT, TOPIC_ARN_OUTPUT};
    let name = format!("stockwatch-{}", settings.table.to_lowercase().replace('_', "-"));
    let output = |value: &str| serde_json::json!({ "Value": value });
    let template = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": { "Placeholder": { "Type": "AWS::SQS::Queue" } },
        "Outputs": {
            BUCKET_OUTPUT: output(&settings.bucket),
            TABLE_OUTPUT: output(&settings.table),
            LEDGER_TABLE_OUTPUT: output(&settings.ledger_table),
            TOPIC_ARN_OUTPUT: output(settings.topic_arn.as_deref().unwrap()),
        }
    });
    clients
        .cloudformation
        .create_stack()
        .stack_name(&name)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    name
}
