//! Creates, idempotently, everything the AWS backend needs: the bucket, the
//! `Inventory` table (Store HASH, Item RANGE, on-demand, stream
//! NEW_AND_OLD_IMAGES), the ledger table (with TTL), the topic and optional
//! email/SMS subscriptions. Says what it created and what it found.

use super::errors::sdk_error;
use super::ledger::{DynamoLedger, FANOUT_TOPIC_KEY, INDEXES, Index, TOPIC_KEY};
use super::{AwsSettings, Clients};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_s3::error::ProvideErrorMetadata;
use std::time::Duration;
use stockwatch_core::ports::{Need, PortError, PortResult};

/// One line of the provisioning report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub created: bool,
    pub what: String,
}

impl Step {
    fn new(created: bool, what: impl Into<String>) -> Step {
        Step {
            created,
            what: what.into(),
        }
    }
}

#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub settings: &'a AwsSettings,
    pub email: Option<&'a str>,
    pub sms: Option<&'a str>,
}

pub async fn provision(clients: &Clients, request: Request<'_>) -> PortResult<(Vec<Step>, String)> {
    let settings = request.settings;
    let mut steps = vec![bucket(clients, settings).await?];
    steps.push(abort_stalled_uploads(clients, &settings.bucket).await?);
    steps.push(inventory_table(clients, &settings.table).await?);
    steps.push(history_table(clients, &super::history::history_table(&settings.table)).await?);
    steps.push(ledger_table(clients, &settings.ledger_table).await?);
    let (step, arn) = topic(clients, settings).await?;
    steps.push(step);
    let ledger = DynamoLedger::new(clients.dynamodb.clone(), settings.ledger_table.clone());
    ledger.record_arn(TOPIC_KEY, &arn).await?;
    steps.push(fanout_topic(clients, settings, &ledger).await?);
    if let Some(email) = request.email {
        steps.push(subscribe(clients, &arn, "email", email).await?);
    }
    if let Some(number) = request.sms {
        steps.push(subscribe(clients, &arn, "sms", number).await?);
    }
    Ok((steps, arn))
}

async fn bucket(clients: &Clients, settings: &AwsSettings) -> PortResult<Step> {
    let what = format!("bucket {}", settings.bucket);
    if clients.s3.head_bucket().bucket(&settings.bucket).send().await.is_ok() {
        return Ok(Step::new(false, what));
    }
    let mut create = clients.s3.create_bucket().bucket(&settings.bucket);
    // us-east-1 is the one region that refuses a location constraint.
    if clients.region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    clients.region.as_str(),
                ))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => Ok(Step::new(true, what)),
        Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(Step::new(false, what)),
        Err(e) if e.code() == Some("BucketAlreadyExists") => Err(PortError::setup(
            Need::BucketName,
            format!("the bucket name {} is taken by another AWS account", settings.bucket),
        )),
        Err(e) => Err(sdk_error(&format!("the bucket {}", settings.bucket), e)),
    }
}

/// The rule the template's bucket has too: parts of an upload nobody
/// completed or aborted (a killed process) are removed after a day, instead
/// of costing storage for ever. Rules already there are kept.
async fn abort_stalled_uploads(clients: &Clients, bucket: &str) -> PortResult<Step> {
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule,
        LifecycleRuleFilter,
    };
    let what = format!("lifecycle rule {ABORT_RULE} on bucket {bucket}");
    let existing = match clients
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => out.rules.unwrap_or_default(),
        Err(e) if e.code() == Some("NoSuchLifecycleConfiguration") => Vec::new(),
        Err(e) => return Err(sdk_error(&format!("the bucket {bucket}"), e)),
    };
    if existing.iter().any(|r| r.abort_incomplete_multipart_upload().is_some()) {
        return Ok(Step::new(false, what));
    }
    let rule = LifecycleRule::builder()
        .id(ABORT_RULE)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(1)
                .build(),
        )
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))?;
    let mut rules = existing;
    rules.push(rule);
    let configuration = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))?;
    clients
        .s3
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the bucket {bucket}"), e))?;
    Ok(Step::new(true, what))
}

/// The lifecycle rule's id (the template's has the same).
pub const ABORT_RULE: &str = "abort-stalled-multipart-uploads";

fn key(name: &str, kind: KeyType) -> PortResult<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))
}

fn string_attribute(name: &str) -> PortResult<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))
}

/// Waits until a new table is ACTIVE (moto is at once; AWS takes a while).
async fn wait_active(clients: &Clients, table: &str) -> PortResult<()> {
    for _ in 0..120 {
        let out = clients
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the table {table}"), e))?;
        if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(PortError::transient(format!(
        "the table {table} is still not ACTIVE after two minutes"
    )))
}

/// The table's description, or `None` when it does not exist.
async fn describe(clients: &Clients, table: &str) -> PortResult<Option<aws_sdk_dynamodb::types::TableDescription>> {
    match clients.dynamodb.describe_table().table_name(table).send().await {
        Ok(out) => Ok(out.table),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(sdk_error(&format!("the table {table}"), e)),
    }
}

/// Creates an on-demand table with string keys, and waits until it is ACTIVE.
async fn create(
    clients: &Clients,
    table: &str,
    keys: &[(&str, KeyType, bool)],
    stream: Option<StreamSpecification>,
) -> PortResult<()> {
    let mut request = clients
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for (name, kind, number) in keys {
        request = request
            .key_schema(key(name, kind.clone())?)
            .attribute_definitions(attribute(name, *number)?);
    }
    request
        .set_stream_specification(stream)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the table {table}"), e))?;
    wait_active(clients, table).await
}

async fn inventory_table(clients: &Clients, table: &str) -> PortResult<Step> {
    let what = format!("table {table} (Store, Item; stream NEW_AND_OLD_IMAGES)");
    if let Some(found) = describe(clients, table).await? {
        let stream = found.stream_specification();
        let view = stream.filter(|s| s.stream_enabled()).and_then(|s| s.stream_view_type());
        if view != Some(&StreamViewType::NewAndOldImages) {
            return Err(PortError::permanent(format!(
                "the table {table} exists but its stream is {}; alerts need the old and new count of each change. \
                 Enable it with: aws dynamodb update-table --table-name {table} \
                 --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES \
                 (disable a stream of another view type first)",
                view.map_or("off".to_string(), |v| v.as_str().to_string())
            )));
        }
        return Ok(Step::new(false, what));
    }
    let stream = StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewAndOldImages)
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))?;
    create(
        clients,
        table,
        &[("Store", KeyType::Hash, false), ("Item", KeyType::Range, false)],
        Some(stream),
    )
    .await?;
    Ok(Step::new(true, what))
}

fn attribute(name: &str, number: bool) -> PortResult<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(if number {
            ScalarAttributeType::N
        } else {
            ScalarAttributeType::S
        })
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))
}

/// An index's key schema and projection, and its attributes' definitions.
fn index_parts(index: &Index) -> PortResult<(Vec<KeySchemaElement>, Projection, Vec<AttributeDefinition>)> {
    let mut schema = vec![key(index.hash.0, KeyType::Hash)?];
    let mut attributes = vec![attribute(index.hash.0, index.hash.1)?];
    if let Some((name, number)) = index.range {
        schema.push(key(name, KeyType::Range)?);
        attributes.push(attribute(name, number)?);
    }
    let projection = Projection::builder()
        .projection_type(if index.whole_items {
            ProjectionType::All
        } else {
            ProjectionType::KeysOnly
        })
        .build();
    Ok((schema, projection, attributes))
}

/// Creates the ledger table with its indexes and stream, and waits.
async fn create_ledger(clients: &Clients, table: &str) -> PortResult<()> {
    let mut request = clients
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .attribute_definitions(string_attribute("pk")?)
        .stream_specification(ledger_stream()?);
    // Indexes share attributes (AlertId): each is defined once.
    let mut defined = std::collections::BTreeSet::from(["pk".to_string()]);
    for index in &INDEXES {
        let (schema, projection, attributes) = index_parts(index)?;
        for attribute in attributes {
            if defined.insert(attribute.attribute_name().to_string()) {
                request = request.attribute_definitions(attribute);
            }
        }
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(schema))
                .projection(projection)
                .build()
                .map_err(|e| PortError::permanent(e.to_string()))?,
        );
    }
    request
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the table {table}"), e))?;
    wait_active(clients, table).await
}

fn ledger_stream() -> PortResult<StreamSpecification> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::NewImage)
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))
}

/// Adds one index to an existing ledger (AWS takes one at a time) and
/// waits until it is ACTIVE.
async fn add_index(clients: &Clients, table: &str, index: &Index) -> PortResult<()> {
    let (schema, projection, attributes) = index_parts(index)?;
    let action = CreateGlobalSecondaryIndexAction::builder()
        .index_name(index.name)
        .set_key_schema(Some(schema))
        .projection(projection)
        .build()
        .map_err(|e| PortError::permanent(e.to_string()))?;
    clients
        .dynamodb
        .update_table()
        .table_name(table)
        .set_attribute_definitions(Some(attributes))
        .global_secondary_index_updates(GlobalSecondaryIndexUpdate::builder().create(action).build())
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the index {} of table {table}", index.name), e))?;
    for _ in 0..600 {
        let found = describe(clients, table).await?;
        let active = found.as_ref().is_some_and(|t| {
            t.global_secondary_indexes().iter().any(|i| {
                i.index_name() == Some(index.name)
                    && i.index_status() == Some(&aws_sdk_dynamodb::types::IndexStatus::Active)
            })
        });
        if active {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(PortError::transient(format!(
        "the index {} of table {table} is still being built; run provision again later",
        index.name
    )))
}

async fn ledger_table(clients: &Clients, table: &str) -> PortResult<Step> {
    let what = format!(
        "ledger table {table} (pk; indexes {}; stream NEW_IMAGE; TTL on ExpiresAt)",
        INDEXES.iter().map(|i| i.name).collect::<Vec<_>>().join(", ")
    );
    let mut changed = false;
    match describe(clients, table).await? {
        None => {
            create_ledger(clients, table).await?;
            changed = true;
        }
        Some(found) => {
            // A ledger made by an older version: add what this one queries
            // and follows.
            let have: Vec<String> = found
                .global_secondary_indexes()
                .iter()
                .filter_map(|i| i.index_name().map(String::from))
                .collect();
            for index in INDEXES.iter().filter(|i| !have.iter().any(|h| h == i.name)) {
                add_index(clients, table, index).await?;
                changed = true;
            }
            if !found.stream_specification().is_some_and(|s| s.stream_enabled()) {
                clients
                    .dynamodb
                    .update_table()
                    .table_name(table)
                    .stream_specification(ledger_stream()?)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("the stream of table {table}"), e))?;
                wait_active(clients, table).await?;
                changed = true;
            }
        }
    }
    // Alerts raised before reminders existed join their index (once).
    let ledger = DynamoLedger::new(clients.dynamodb.clone(), table.to_string());
    if ledger.backfill_reminders().await? > 0 {
        changed = true;
    }
    // A first run may have stopped before this step: check it every time.
    let ttl_enabled = ensure_ttl(clients, table, "ExpiresAt").await?;
    Ok(Step::new(changed || ttl_enabled, what))
}

/// Turns on expiry by `attribute` unless it is on; whether it did.
async fn ensure_ttl(clients: &Clients, table: &str, attribute: &str) -> PortResult<bool> {
    let ttl = clients
        .dynamodb
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the TTL of table {table}"), e))?;
    let enabled = ttl
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| {
            matches!(
                s,
                aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled
                    | aws_sdk_dynamodb::types::TimeToLiveStatus::Enabling
            )
        });
    if enabled {
        return Ok(false);
    }
    clients
        .dynamodb
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(attribute)
                .build()
                .map_err(|e| PortError::permanent(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the TTL of table {table}"), e))?;
    Ok(true)
}

/// The history of the inventory table: each item's counts by as-of time,
/// expiring after the kept period.
async fn history_table(clients: &Clients, table: &str) -> PortResult<Step> {
    let what = format!("history table {table} (Key, AsOf; TTL on Expires)");
    let mut changed = false;
    if describe(clients, table).await?.is_none() {
        create(
            clients,
            table,
            &[("Key", KeyType::Hash, false), ("AsOf", KeyType::Range, true)],
            None,
        )
        .await?;
        changed = true;
    }
    let ttl_enabled = ensure_ttl(clients, table, "Expires").await?;
    Ok(Step::new(changed || ttl_enabled, what))
}

async fn topic(clients: &Clients, settings: &AwsSettings) -> PortResult<(Step, String)> {
    if let Some(arn) = &settings.topic_arn {
        return Ok((Step::new(false, format!("topic {arn}")), arn.clone()));
    }
    let ledger = DynamoLedger::new(clients.dynamodb.clone(), settings.ledger_table.clone());
    recorded_topic(clients, &ledger, TOPIC_KEY, &settings.topic, "topic").await
}

/// The fan-out feed's topic (not the alert topic people subscribe to):
/// `stockwatch relay` publishes to it, each console's queue is subscribed.
async fn fanout_topic(clients: &Clients, settings: &AwsSettings, ledger: &DynamoLedger) -> PortResult<Step> {
    let name = format!("{}-fanout", settings.topic);
    let (step, _) = recorded_topic(clients, ledger, FANOUT_TOPIC_KEY, &name, "fan-out topic").await?;
    Ok(step)
}

/// The topic the ledger records under `key` if it still answers, else the
/// topic `name` made now (CreateTopic is idempotent: it returns the ARN of
/// a topic of that name) and recorded.
async fn recorded_topic(
    clients: &Clients,
    ledger: &DynamoLedger,
    key: &str,
    name: &str,
    what: &str,
) -> PortResult<(Step, String)> {
    if let Some(arn) = ledger.recorded_arn(key).await?
        && clients.sns.get_topic_attributes().topic_arn(&arn).send().await.is_ok()
    {
        return Ok((Step::new(false, format!("{what} {name} ({arn})")), arn));
    }
    let out = clients
        .sns
        .create_topic()
        .name(name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the topic {name}"), e))?;
    let arn = out.topic_arn().unwrap_or_default().to_string();
    ledger.record_arn(key, &arn).await?;
    Ok((Step::new(true, format!("{what} {name} ({arn})")), arn))
}

async fn subscribe(clients: &Clients, arn: &str, protocol: &str, endpoint: &str) -> PortResult<Step> {
    let existing = clients
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the topic {arn}"), e))?;
    let found = existing
        .subscriptions()
        .iter()
        .any(|s| s.protocol() == Some(protocol) && s.endpoint() == Some(endpoint));
    let what = match protocol {
        "email" => format!("email subscription {endpoint} (confirm it from the message AWS sends)"),
        _ => format!("SMS subscription {endpoint} (new accounts start in the SMS sandbox)"),
    };
    if found {
        return Ok(Step::new(false, what));
    }
    clients
        .sns
        .subscribe()
        .topic_arn(arn)
        .protocol(protocol)
        .endpoint(endpoint)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("the topic {arn}"), e))?;
    Ok(Step::new(true, what))
}
