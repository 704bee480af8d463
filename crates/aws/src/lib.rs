//! The AWS backend: S3 for the bucket, DynamoDB for the inventory table and
//! the alert ledger, DynamoDB Streams for the change feed, SNS for
//! notifications. Credentials, region and profile come from the standard
//! chain; endpoints from `AWS_ENDPOINT_URL` and the per-service variables,
//! so LocalStack and moto work unchanged.

pub mod attrs;
mod batched_writer;
pub mod checkpoints;
mod conditional_writer;
mod errors;
pub mod fanout;
pub mod fanout_sequence;
pub mod feed;
pub mod history;
pub mod ledger;
mod objects;
mod pace;
pub mod provision;
mod publisher;
pub mod server_clock;
pub mod stack;
pub mod table;

pub use errors::sdk_error;
pub use objects::{MULTIPART_THRESHOLD, REPORTS_PREFIX};
pub use stockwatch_core::aws_settings::{AwsSettings, DEFAULT_LEDGER_TABLE, DEFAULT_TABLE, DEFAULT_TOPIC, WriteMode};

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use std::sync::Arc;
use std::time::Duration;
use stockwatch_core::ports::{Need, PortError, PortResult, Ports};

/// Every call's timeouts: nothing hangs. Requests that carry a file's bytes
/// get longer ones, sized for a slow link (`objects`).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .read_timeout(Duration::from_secs(20))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(90))
        .build()
}

/// One attempt per call: stockwatch's RetryPolicy is the one retry layer
/// (ports/retry.rs), so a throttled call costs at most its attempts, not
/// the SDK's three inside each of them.
pub fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::disabled()
}

/// One client per service, built from one shared configuration.
#[derive(Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub region: String,
    pub profile: Option<String>,
    /// The shared configuration, for clients of other services (the
    /// functions' SQS).
    pub config: aws_config::SdkConfig,
    /// AWS's time, from the responses of the ledger's, SNS's and SQS's clients.
    pub server_clock: server_clock::ServerClock,
}

impl Clients {
    /// Loads the standard chain with explicit timeouts: nothing hangs.
    pub async fn load(settings: &AwsSettings) -> PortResult<Clients> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts())
            .retry_config(retries());
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let config = loader.load().await;
        // Custom endpoints (moto, LocalStack) serve buckets by path, not by host name.
        let custom_endpoint = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        Clients::from_config(&config, custom_endpoint, settings.profile.clone())
    }

    /// Clients from a ready configuration (tests point one at moto).
    pub fn from_config(
        config: &aws_config::SdkConfig,
        path_style: bool,
        profile: Option<String>,
    ) -> PortResult<Clients> {
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| PortError::setup(Need::Region, "no AWS region is set"))?;
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(path_style)
            .build();
        let server_clock = server_clock::ServerClock::default();
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(config)
            .interceptor(server_clock.interceptor())
            .build();
        let sns = aws_sdk_sns::config::Builder::from(config)
            .interceptor(server_clock.interceptor())
            .build();
        let sqs = aws_sdk_sqs::config::Builder::from(config)
            .interceptor(server_clock.interceptor())
            .build();
        Ok(Clients {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            sns: aws_sdk_sns::Client::from_conf(sns),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
            cloudformation: aws_sdk_cloudformation::Client::new(config),
            region,
            profile,
            config: config.clone(),
            server_clock,
        })
    }
}

/// Builds every port. The topic ARN is resolved here (settings, then the
/// ledger's record from provisioning), so a missing topic is said at start.
pub async fn connect(settings: &AwsSettings) -> PortResult<Ports> {
    let clients = Clients::load(settings).await?;
    connect_with(settings, clients).await
}

pub async fn connect_with(settings: &AwsSettings, clients: Clients) -> PortResult<Ports> {
    connect_as(settings, clients, Role::Follower).await
}

/// The ports of the publisher of the fan-out feed (`stockwatch relay`): it
/// publishes to the topic provisioning made, alive or not before it.
pub async fn connect_publisher(settings: &AwsSettings, clients: Clients) -> PortResult<Ports> {
    connect_as(settings, clients, Role::Publisher).await
}

/// The ports of a deployed function: no look-ups in the ledger (the load
/// function may not read it); it publishes the fan-out feed when its
/// environment names the topic (check-stock), and follows nothing.
pub async fn connect_function(settings: &AwsSettings, clients: Clients) -> PortResult<Ports> {
    connect_as(settings, clients, Role::Function).await
}

/// Who connects, for the fan-out feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A console or watch: through the topic while a relay is alive.
    Follower,
    /// `stockwatch relay`: publishes to the topic.
    Publisher,
    /// A function: publishes if told the topic, never looks it up.
    Function,
}

async fn connect_as(settings: &AwsSettings, clients: Clients, role: Role) -> PortResult<Ports> {
    let publisher = role != Role::Follower;
    let ledger = Arc::new(ledger::DynamoLedger::followed(
        clients.dynamodb.clone(),
        clients.streams.clone(),
        settings.ledger_table.clone(),
    ));
    let topic_arn = match &settings.topic_arn {
        Some(arn) => arn.clone(),
        None => ledger.recorded_arn(ledger::TOPIC_KEY).await?.ok_or_else(|| {
            PortError::setup(
                Need::TopicArn,
                format!(
                    "the topic {} is not provisioned for the ledger table {}",
                    settings.topic, settings.ledger_table
                ),
            )
        })?,
    };
    let profile = clients
        .profile
        .as_ref()
        .map(|p| format!(" (profile {p})"))
        .unwrap_or_default();
    let location = match &settings.stack {
        Some(stack) => format!("aws: {}{profile} / stack {stack}", clients.region),
        None => format!(
            "aws: {}{profile} / table {} / bucket {}",
            clients.region, settings.table, settings.bucket
        ),
    };
    let feed: Arc<feed::StreamFeed> = Arc::new(feed::StreamFeed::new(
        clients.streams.clone(),
        clients.dynamodb.clone(),
        settings.table.clone(),
    ));
    // Followers go through the fan-out topic while a relay publishes to
    // it; otherwise each reads the stream and the ledger's stream itself,
    // polling once a second.
    // A follower that cannot find out falls back to reading the streams:
    // what is wrong with the ledger is said by the calls that need it.
    let fanout_topic = match (&settings.fanout_topic_arn, role) {
        (Some(arn), _) => Some(arn.clone()),
        (None, Role::Function) => None,
        (None, Role::Publisher) => ledger.recorded_arn(ledger::FANOUT_TOPIC_KEY).await?,
        (None, Role::Follower) => ledger.recorded_arn(ledger::FANOUT_TOPIC_KEY).await.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "no fan-out topic found; following the streams");
            None
        }),
    };
    let relayed = match &fanout_topic {
        Some(_) if !publisher => fanout::publisher_alive(&ledger, &clients.server_clock)
            .await
            .unwrap_or(false),
        _ => false,
    };
    let fanout: Arc<dyn stockwatch_core::ports::Fanout> = match fanout_topic {
        Some(arn) if publisher || relayed => Arc::new(fanout::SnsFanout::new(
            clients.sns.clone(),
            clients.sqs.clone(),
            arn,
            settings.follower_queue_prefix.clone(),
            ledger.clone(),
            settings.follower_abandoned,
            clients.server_clock.clone(),
        )),
        None if role == Role::Publisher => {
            return Err(PortError::setup(
                Need::TopicArn,
                format!(
                    "the ledger table {} has no fan-out topic; `stockwatch provision` makes it",
                    settings.ledger_table
                ),
            ));
        }
        _ => Arc::new(
            stockwatch_core::ports::DirectFanout::new(feed.clone(), ledger.clone())
                .polling_every(Duration::from_secs(1)),
        ),
    };
    Ok(Ports {
        objects: Arc::new(objects::S3Objects::new(clients.s3.clone(), settings.bucket.clone())),
        table: Arc::new(table::DynamoTable::new(
            clients.dynamodb.clone(),
            settings.table.clone(),
            settings.write_concurrency,
            settings.write_mode,
        )),
        feed,
        checkpoints: Arc::new(checkpoints::DynamoCheckpoints::new(
            clients.dynamodb.clone(),
            settings.ledger_table.clone(),
        )),
        publisher: Arc::new(
            publisher::SnsPublisher::new(clients.sns.clone(), topic_arn, ledger.clone())
                .escalating_to(settings.escalation_topic_arn.clone()),
        ),
        ledger,
        history: Arc::new(history::DynamoHistory::new(
            clients.dynamodb.clone(),
            history::history_table(&settings.table),
            settings.history_keep,
        )),
        fanout,
        relayed,
        // Four shards' GetRecords a second at most per reader, backing off
        // to one read each two seconds while nothing happens.
        idle_poll: Duration::from_secs(2),
        location,
    })
}
