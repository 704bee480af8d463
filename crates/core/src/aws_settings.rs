//! The names and knobs of one AWS deployment: plain data the settings build
//! and the AWS adapter reads (here, so the functions and the CLI share one
//! settings path without knowing the SDK).

use std::time::Duration;

pub const DEFAULT_CONCURRENCY: usize = 32;

/// How rows are written; both keep an older snapshot from overwriting a newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// A hundred rows at a time: BatchGetItem, then one TransactWriteItems
    /// of the rows that supersede, each conditional. Fewest requests.
    #[default]
    Batched,
    /// One conditional PutItem per row. Fewest write units.
    Conditional,
}

impl WriteMode {
    pub const ALL: [WriteMode; 2] = [WriteMode::Batched, WriteMode::Conditional];

    /// The name settings use (`write_mode = "batched"`).
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::Batched => "batched",
            WriteMode::Conditional => "conditional",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            WriteMode::Batched => {
                "a hundred rows at a time: BatchGetItem, then one conditional TransactWriteItems of the rows that supersede (fewest requests)"
            }
            WriteMode::Conditional => "one conditional PutItem per row (fewest write units)",
        }
    }
}

pub const DEFAULT_TABLE: &str = "Inventory";
pub const DEFAULT_LEDGER_TABLE: &str = "StockwatchAlerts";
pub const DEFAULT_TOPIC: &str = "NoStock";

/// Names and knobs of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub bucket: String,
    pub table: String,
    pub ledger_table: String,
    /// Topic name, for provisioning and for messages.
    pub topic: String,
    /// The topic's ARN when known; otherwise provisioning's record of it.
    pub topic_arn: Option<String>,
    /// The fan-out feed's topic when a stack names it; otherwise
    /// provisioning's record of it.
    pub fanout_topic_arn: Option<String>,
    /// What followers' queue names start with, when a stack says
    /// (`FollowerQueuePrefix`); otherwise derived from the fan-out topic.
    pub follower_queue_prefix: Option<String>,
    /// Where reminders go instead of the alert topic, when set
    /// (`alerts.escalation_topic_arn`).
    pub escalation_topic_arn: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Writes (stores, in batched mode) in flight at once during a load.
    pub write_concurrency: usize,
    pub write_mode: WriteMode,
    /// The deployed stack the names came from (its functions load and check).
    pub stack: Option<String>,
    /// The stack's Cognito user pool and app client: the web dashboard's sign-in.
    pub user_pool_id: Option<String>,
    pub user_pool_client_id: Option<String>,
    /// How long history points are kept after they are recorded.
    pub history_keep: Duration,
    /// A follower's queue not kept alive for this long is removed
    /// (`settings::knobs::ABANDONED`; tests shorten it).
    pub follower_abandoned: Duration,
}

impl AwsSettings {
    pub fn new(bucket: impl Into<String>) -> Self {
        AwsSettings {
            bucket: bucket.into(),
            table: DEFAULT_TABLE.into(),
            ledger_table: DEFAULT_LEDGER_TABLE.into(),
            topic: DEFAULT_TOPIC.into(),
            topic_arn: None,
            fanout_topic_arn: None,
            follower_queue_prefix: None,
            escalation_topic_arn: None,
            region: None,
            profile: None,
            write_concurrency: DEFAULT_CONCURRENCY,
            write_mode: WriteMode::default(),
            stack: None,
            user_pool_id: None,
            user_pool_client_id: None,
            history_keep: crate::ports::DEFAULT_HISTORY_KEEP,
            follower_abandoned: crate::settings::knobs::ABANDONED,
        }
    }
}
