//! The Lambda functions (a crate of their own, so neither the console nor
//! the CLI compiles the Lambda crates): *load-inventory*, triggered by the
//! bucket, and *check-stock*, triggered by the table's stream. Thin, as the CLI is:
//! they turn events into calls of the one loader and the one checker.

pub mod check_stock;
pub mod failures;
pub mod load_inventory;

use stockwatch_aws::{self as aws, AwsSettings};
use stockwatch_core::pipeline::CheckerConfig;
use stockwatch_core::ports::{Need, PortError, Ports};
use stockwatch_core::settings::{self, AlertRules, ConfigFile, Given, SettingsError, TestKnobs};

/// What a deployed function is told by its environment (deploy/template.yaml
/// sets these; they are the CLI's variables).
#[derive(Debug, Clone)]
pub struct FunctionSettings {
    pub aws: AwsSettings,
    pub checker: CheckerConfig,
    /// The function's own failure queue (what Lambda gave up on), which its
    /// scheduled sweep finishes; none in deployments made before it existed.
    pub failure_queue_url: Option<String>,
}

pub const BUCKET_VAR: &str = settings::BUCKET.env;
pub const TABLE_VAR: &str = settings::TABLE.env;
pub const LEDGER_TABLE_VAR: &str = settings::LEDGER_TABLE.env;
pub const TOPIC_ARN_VAR: &str = settings::TOPIC_ARN.env;
pub const LOW_THRESHOLD_VAR: &str = settings::LOW_THRESHOLD.env;
pub const NOTIFY_LOW_VAR: &str = settings::NOTIFY_LOW.env;
pub const NOTIFY_SOON_VAR: &str = settings::NOTIFY_SOON.env;
pub const HISTORY_KEEP_VAR: &str = settings::HISTORY_KEEP.env;
pub const SOON_WITHIN_VAR: &str = settings::SOON_WITHIN.env;
pub const MAX_MESSAGES_VAR: &str = settings::MAX_MESSAGES.env;
pub const GROUP_WAIT_VAR: &str = settings::GROUP_WAIT.env;
pub const RENOTIFY_AFTER_VAR: &str = settings::RENOTIFY_AFTER.env;
pub const ESCALATION_TOPIC_ARN_VAR: &str = settings::ESCALATION_TOPIC_ARN.env;
pub const FAILURE_QUEUE_VAR: &str = settings::FAILURE_QUEUE_URL.env;
pub const FANOUT_TOPIC_ARN_VAR: &str = settings::FANOUT_TOPIC_ARN.env;

/// What to do about a name the function's environment lacks.
const SET_BY_THE_TEMPLATE: &str = "deploy the function with deploy/template.yaml, which sets it";

impl FunctionSettings {
    pub fn from_env() -> Result<FunctionSettings, PortError> {
        FunctionSettings::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings path the CLI takes, with the environment as the only
    /// layer: the same names and rules. Every name is required: a function
    /// must never fall back to a default table of some other deployment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<FunctionSettings, PortError> {
        let invalid = |e: SettingsError| PortError::permanent(e.to_string());
        let given = Given::from_env(&var);
        let mut aws = AwsSettings::new(given.required(settings::BUCKET, SET_BY_THE_TEMPLATE).map_err(invalid)?);
        aws.table = given.required(settings::TABLE, SET_BY_THE_TEMPLATE).map_err(invalid)?;
        aws.ledger_table = given
            .required(settings::LEDGER_TABLE, SET_BY_THE_TEMPLATE)
            .map_err(invalid)?;
        aws.topic_arn = Some(
            given
                .required(settings::TOPIC_ARN, SET_BY_THE_TEMPLATE)
                .map_err(invalid)?,
        );
        let optional = |setting| given.text(setting).map(|(v, _)| v.to_string());
        aws.fanout_topic_arn = optional(settings::FANOUT_TOPIC_ARN);
        let rules = AlertRules::resolve(&given, &ConfigFile::default()).map_err(invalid)?;
        aws.escalation_topic_arn = rules.escalation_topic_arn.clone();
        aws.history_keep = rules.history_keep;
        // A stream batch's alerts are held for the window: the function is
        // the relay of a stack.
        let checker = rules.checker_config("check-stock", true, &TestKnobs::default());
        Ok(FunctionSettings {
            aws,
            checker,
            failure_queue_url: optional(settings::FAILURE_QUEUE_URL),
        })
    }
}

/// Every port, as the CLI connects them, the clients, and the function's
/// failure queue. The error is said as `explain` says it.
pub async fn connect(settings: &FunctionSettings) -> Result<Connected, String> {
    let clients = aws::Clients::load(&settings.aws).await.map_err(|e| explain(&e))?;
    let ports = aws::connect_function(&settings.aws, clients.clone())
        .await
        .map_err(|e| explain(&e))?;
    let failures = settings.failure_queue_url.as_ref().map(|url| {
        let sqs = aws_sdk_sqs::Client::new(&clients.config);
        failures::FailureQueue::new(sqs, url.clone())
    });
    Ok(Connected {
        ports,
        clients,
        failures,
    })
}

pub struct Connected {
    pub ports: Ports,
    pub clients: aws::Clients,
    pub failures: Option<failures::FailureQueue>,
}

/// An error as a function's log should say it: what to fix is the stack
/// (its template, its variables, its role), never a flag of the CLI.
pub fn explain(error: &PortError) -> String {
    let PortError::Setup { need, message } = error else {
        return error.to_string();
    };
    let advice = match need {
        Need::Credentials => "check the function's execution role (deploy/template.yaml grants what it needs)",
        Need::Region => "Lambda sets AWS_REGION; check the function's environment",
        Need::Resource | Need::TopicArn | Need::Stream | Need::Stack | Need::BucketName => {
            "check the function's STOCKWATCH_* variables against the stack's resources (deploy/template.yaml sets them)"
        }
        Need::DataDir | Need::WritableDataDir => "functions use the AWS backend only",
        Need::Permission => "the function's role in deploy/template.yaml must grant it; deploy the template again",
    };
    format!("{message}; {advice}")
}

/// In Lambda, stdout is the log: CloudWatch keeps it. `AWS_LAMBDA_LOG_LEVEL`
/// and `AWS_LAMBDA_LOG_FORMAT` (the template's LoggingConfig) shape it. Each
/// JSON line carries `timestamp` and `level` at its top (Lambda's log-level
/// filtering reads them; a line without a timestamp counts as INFO) and its
/// message as `message`. The runtime's own subscriber writes no time.
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into())
        .to_ascii_lowercase();
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stdout);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = if json {
        logs.json().flatten_event(true).with_current_span(false).try_init()
    } else {
        logs.try_init()
    };
}

/// A function's failed invocation as Lambda reports it: `errorType` names
/// what failed (`LoadFailed`, not a Rust type path), `errorMessage` is the
/// one-line sentence, and the same sentence is logged once.
pub fn failed(error_type: &str, error: &dyn std::fmt::Display) -> lambda_runtime::Diagnostic {
    let message = error.to_string();
    tracing::error!(error_type, "{message}");
    lambda_runtime::Diagnostic {
        error_type: error_type.to_string(),
        error_message: message,
    }
}

/// The answer to an event no retry can make handled: logged once, with
/// the start of the event, and nothing for Lambda to retry.
pub fn dropped(payload: &serde_json::Value, why: &str) -> serde_json::Value {
    let shown: String = payload.to_string().chars().take(200).collect();
    let shown = stockwatch_domain::escape_for_terminal(&shown).into_owned();
    tracing::error!(event = %shown, why, "not an event this function handles; dropped, not retried");
    serde_json::json!({ "dropped": format!("not an event this function handles ({why})") })
}

/// Settings or connections a function cannot start without: said in one
/// line (stderr and the log), and the process ends, as Lambda expects of
/// an init failure.
pub fn or_stop<T>(result: Result<T, impl std::fmt::Display>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    const ALL: [(&str, &str); 4] = [
        (BUCKET_VAR, "b"),
        (TABLE_VAR, "t"),
        (LEDGER_TABLE_VAR, "l"),
        (TOPIC_ARN_VAR, "arn:aws:sns:eu-west-1:123456789012:NoStock"),
    ];

    #[test]
    fn settings_come_from_the_environment() {
        let mut pairs = ALL.to_vec();
        pairs.push((LOW_THRESHOLD_VAR, "5"));
        pairs.push((NOTIFY_LOW_VAR, "true"));
        let s = FunctionSettings::from_vars(vars(&pairs)).unwrap();
        assert!(!s.checker.notify_soon, "SOON is not notified unless asked");
        assert_eq!(s.checker.thresholds.soon_within_days("Berlin", "Dot"), 3.0);
        assert_eq!((s.aws.bucket.as_str(), s.aws.table.as_str()), ("b", "t"));
        assert_eq!(s.aws.ledger_table, "l");
        assert_eq!(s.checker.thresholds.low_for("Berlin", "Dot"), 5);
        assert!(s.checker.notify_low);
        assert_eq!(
            s.checker.group_wait,
            std::time::Duration::from_secs(30),
            "the default window"
        );
        assert_eq!(s.checker.renotify_after, None, "no reminders unless asked");

        pairs.push((GROUP_WAIT_VAR, "2m"));
        pairs.push((RENOTIFY_AFTER_VAR, "1h"));
        pairs.push((NOTIFY_SOON_VAR, "true"));
        pairs.push((SOON_WITHIN_VAR, "5d"));
        pairs.push((HISTORY_KEEP_VAR, "30d"));
        let s = FunctionSettings::from_vars(vars(&pairs)).unwrap();
        assert_eq!(s.aws.history_keep, std::time::Duration::from_secs(30 * 86_400));
        assert!(s.checker.notify_soon);
        assert_eq!(s.checker.thresholds.soon_within_days("Berlin", "Dot"), 5.0);
        assert_eq!(s.checker.group_wait, std::time::Duration::from_secs(120));
        assert_eq!(s.checker.renotify_after, Some(std::time::Duration::from_secs(3600)));
        pairs.push((GROUP_WAIT_VAR, "0"));
        let s = FunctionSettings::from_vars(vars(&pairs)).unwrap();
        assert_eq!(s.checker.group_wait, std::time::Duration::ZERO, "0: each batch at once");
        pairs.push((RENOTIFY_AFTER_VAR, "soon"));
        let e = FunctionSettings::from_vars(vars(&pairs)).unwrap_err().to_string();
        assert!(e.contains(RENOTIFY_AFTER_VAR), "{e}");
    }

    #[test]
    fn a_missing_name_is_said_not_defaulted() {
        for missing in ALL.map(|(k, _)| k) {
            let pairs: Vec<_> = ALL.iter().copied().filter(|(k, _)| *k != missing).collect();
            let e = FunctionSettings::from_vars(vars(&pairs)).unwrap_err().to_string();
            assert!(e.contains(missing), "{e}");
        }
        let mut pairs = ALL.to_vec();
        pairs.push((LOW_THRESHOLD_VAR, "three"));
        let e = FunctionSettings::from_vars(vars(&pairs)).unwrap_err().to_string();
        assert!(e.contains("whole number"), "{e}");
    }

    #[test]
    fn the_template_sets_every_variable_read_here() {
        let template = include_str!("../../../deploy/template.yaml");
        let optional = [
            LOW_THRESHOLD_VAR,
            NOTIFY_LOW_VAR,
            NOTIFY_SOON_VAR,
            SOON_WITHIN_VAR,
            HISTORY_KEEP_VAR,
            FAILURE_QUEUE_VAR,
            GROUP_WAIT_VAR,
            RENOTIFY_AFTER_VAR,
            ESCALATION_TOPIC_ARN_VAR,
        ];
        for name in ALL.map(|(name, _)| name).into_iter().chain(optional) {
            assert!(
                template.contains(&format!("{name}:")),
                "deploy/template.yaml does not set {name}"
            );
        }
    }
}
