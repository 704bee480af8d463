//! The alert rules, from every layer, and the checker's configuration
//! built from them: the one place a `CheckerConfig` is made.

use super::{
    ConfigFile, ESCALATION_TOPIC_ARN, GROUP_WAIT, Given, HISTORY_KEEP, LOW_THRESHOLD, MAX_MESSAGES, NOTIFY_LOW,
    NOTIFY_SOON, RENOTIFY_AFTER, SOON_WITHIN, SettingsError, TestKnobs, count, duration, wait, whole_number, yes_or_no,
};
use crate::pipeline::{CheckerConfig, DEFAULT_GROUP_WAIT};
use crate::ports::DEFAULT_HISTORY_KEEP;
use std::time::Duration;
use stockwatch_domain::Thresholds;

/// When alerts are raised and who is told.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    pub thresholds: Thresholds,
    pub notify_low: bool,
    pub notify_soon: bool,
    /// Messages one pass sends at most before one summary.
    pub max_messages: usize,
    /// Reminders of OUT alerts still open this long after their last message.
    pub renotify_after: Option<Duration>,
    /// Where alerts come in many small batches (a relay, the check
    /// function): what they raise is sent together once none came for this long.
    pub group_wait: Duration,
    /// Where reminders go instead of the alert topic.
    pub escalation_topic_arn: Option<String>,
    /// How long history points are kept.
    pub history_keep: Duration,
}

impl AlertRules {
    /// A value given (a flag, the environment) wins over the file's, the
    /// file's over the default. The file's values were checked when it was
    /// read; the others are checked here, named as they were given.
    pub fn resolve(given: &Given, file: &ConfigFile) -> Result<AlertRules, SettingsError> {
        let alerts = &file.alerts;
        let mut thresholds = file.thresholds(given.parsed(LOW_THRESHOLD, whole_number)?);
        if let Some(within) = given.parsed(SOON_WITHIN, duration)? {
            thresholds.set_soon_within(None, None, within);
        }
        let file_duration = |value| ConfigFile::alerts_duration(value);
        Ok(AlertRules {
            thresholds,
            notify_low: given
                .parsed(NOTIFY_LOW, yes_or_no)?
                .unwrap_or(alerts.notify_low.unwrap_or(false)),
            notify_soon: given
                .parsed(NOTIFY_SOON, yes_or_no)?
                .unwrap_or(alerts.notify_soon.unwrap_or(false)),
            max_messages: given
                .parsed(MAX_MESSAGES, count)?
                .or(alerts.max_messages_per_pass)
                .unwrap_or(stockwatch_domain::notify::DEFAULT_MAX_MESSAGES)
                .max(1),
            renotify_after: given
                .parsed(RENOTIFY_AFTER, duration)?
                .or_else(|| file_duration(&alerts.renotify_after)),
            group_wait: given
                .parsed(GROUP_WAIT, wait)?
                .or_else(|| file_duration(&alerts.group_wait))
                .unwrap_or(DEFAULT_GROUP_WAIT),
            escalation_topic_arn: given
                .text(ESCALATION_TOPIC_ARN)
                .map(|(v, _)| v.to_string())
                .or_else(|| alerts.escalation_topic_arn.clone()),
            history_keep: given
                .parsed(HISTORY_KEEP, duration)?
                .unwrap_or_else(|| file.history_keep()),
        })
    }

    /// The checker's configuration under `name`. `grouping`: whether this
    /// checker holds what it raises for the grouping window (a relay and
    /// the check function do; a pass run once sends what it raised).
    pub fn checker_config(&self, name: impl Into<String>, grouping: bool, knobs: &TestKnobs) -> CheckerConfig {
        let defaults = CheckerConfig::default();
        CheckerConfig {
            name: name.into(),
            thresholds: self.thresholds.clone(),
            notify_low: self.notify_low,
            notify_soon: self.notify_soon,
            max_messages: self.max_messages,
            renotify_after: self.renotify_after,
            group_wait: if grouping { self.group_wait } else { Duration::ZERO },
            lease: knobs.lease.unwrap_or(defaults.lease),
            ..defaults
        }
    }
}

impl Default for AlertRules {
    fn default() -> AlertRules {
        AlertRules {
            thresholds: Thresholds::default(),
            notify_low: false,
            notify_soon: false,
            max_messages: stockwatch_domain::notify::DEFAULT_MAX_MESSAGES,
            renotify_after: None,
            group_wait: DEFAULT_GROUP_WAIT,
            escalation_topic_arn: None,
            history_keep: DEFAULT_HISTORY_KEEP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::parse;

    #[test]
    fn given_values_win_over_the_file_and_the_file_over_the_defaults() {
        let file = parse("[alerts]\nlow_threshold = 4\nnotify_low = true\ngroup_wait = \"5s\"\n").unwrap();
        let rules = AlertRules::resolve(&Given::default(), &file).unwrap();
        assert_eq!(rules.thresholds.low_for("S", "i"), 4);
        assert!(rules.notify_low && !rules.notify_soon);
        assert_eq!(rules.group_wait, Duration::from_secs(5));
        assert_eq!(rules.history_keep, DEFAULT_HISTORY_KEEP);

        let env = |name: &str| match name {
            "STOCKWATCH_LOW_THRESHOLD" => Some("9".into()),
            "STOCKWATCH_NOTIFY_LOW" => Some("off".into()),
            "STOCKWATCH_RENOTIFY_AFTER" => Some("1h".into()),
            _ => None,
        };
        let given = Given::from_env(env).flag(GROUP_WAIT, Some("0".into()));
        let rules = AlertRules::resolve(&given, &file).unwrap();
        assert_eq!(rules.thresholds.low_for("S", "i"), 9);
        assert!(!rules.notify_low);
        assert_eq!(rules.renotify_after, Some(Duration::from_secs(3600)));
        assert_eq!(rules.group_wait, Duration::ZERO);

        let config = rules.checker_config("relay", true, &TestKnobs::default());
        assert_eq!((config.name.as_str(), config.group_wait), ("relay", Duration::ZERO));
        assert_eq!(config.lease, CheckerConfig::default().lease);
        let knobs = TestKnobs {
            lease: Some(Duration::from_millis(300)),
            ..TestKnobs::default()
        };
        assert_eq!(
            rules.checker_config("x", false, &knobs).lease,
            Duration::from_millis(300)
        );
    }

    #[test]
    fn a_bad_value_is_named_as_it_was_given() {
        let env = |name: &str| (name == "STOCKWATCH_NOTIFY_SOON").then(|| "maybe".to_string());
        let error = AlertRules::resolve(&Given::from_env(env), &ConfigFile::default()).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("STOCKWATCH_NOTIFY_SOON: `maybe` is not a yes or a no"),
            "{error}"
        );
    }
}
