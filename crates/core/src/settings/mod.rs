//! One settings path for every front end. Values come in layers, the
//! later winning: defaults → the config file (`file`: checked when read,
//! its mistakes named by line) → the environment → flags. Each value keeps
//! where it came from (`Origin`), so a bad one is named the way it was
//! given (`STOCKWATCH_LOW_THRESHOLD`, `--low-threshold`, `config.toml line
//! 4`). The CLI gives all four layers; the Lambda functions give the
//! environment their template sets, by the same rules.
//!
//! - `file`: the config file (`config.toml`) and where things live;
//! - `rules`: the alert rules and the checker's configuration, built here once;
//! - `roles`: who loads, who checks, how followers follow, whether this
//!   process writes: decided once for a deployment;
//! - `knobs`: what only tests turn (short leases), kept apart from the rest.

mod file;
pub mod knobs;
mod roles;
mod rules;

pub use file::*;
pub use knobs::TestKnobs;
pub use roles::{Checks, Follows, Loads, Roles};
pub use rules::AlertRules;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// The config file (values there are checked when it is read).
    File,
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File => f.write_str("the config file"),
            Origin::Env(name) | Origin::Flag(name) => f.write_str(name),
        }
    }
}

/// A setting given in the environment or by a flag: its variable, and its
/// flag when the CLI has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Setting {
    pub env: &'static str,
    pub flag: Option<&'static str>,
}

const fn setting(env: &'static str, flag: Option<&'static str>) -> Setting {
    Setting { env, flag }
}

pub const BUCKET: Setting = setting("STOCKWATCH_BUCKET", Some("--bucket"));
pub const TABLE: Setting = setting("STOCKWATCH_TABLE", Some("--table"));
pub const LEDGER_TABLE: Setting = setting("STOCKWATCH_LEDGER_TABLE", Some("--ledger-table"));
pub const TOPIC_ARN: Setting = setting("STOCKWATCH_TOPIC_ARN", Some("--topic-arn"));
/// The fan-out feed's topic (the check function publishes to it).
pub const FANOUT_TOPIC_ARN: Setting = setting("STOCKWATCH_FANOUT_TOPIC_ARN", None);
/// A function's own failure queue, which its scheduled sweep finishes.
pub const FAILURE_QUEUE_URL: Setting = setting("STOCKWATCH_FAILURE_QUEUE_URL", None);
pub const LOW_THRESHOLD: Setting = setting("STOCKWATCH_LOW_THRESHOLD", Some("--low-threshold"));
pub const NOTIFY_LOW: Setting = setting("STOCKWATCH_NOTIFY_LOW", Some("--notify-low"));
pub const NOTIFY_SOON: Setting = setting("STOCKWATCH_NOTIFY_SOON", Some("--notify-soon"));
pub const SOON_WITHIN: Setting = setting("STOCKWATCH_SOON_WITHIN", None);
pub const HISTORY_KEEP: Setting = setting("STOCKWATCH_HISTORY_KEEP", None);
pub const MAX_MESSAGES: Setting = setting("STOCKWATCH_MAX_MESSAGES_PER_PASS", None);
pub const GROUP_WAIT: Setting = setting("STOCKWATCH_GROUP_WAIT", Some("--group-wait"));
pub const RENOTIFY_AFTER: Setting = setting("STOCKWATCH_RENOTIFY_AFTER", Some("--renotify-after"));
pub const ESCALATION_TOPIC_ARN: Setting = setting("STOCKWATCH_ESCALATION_TOPIC_ARN", Some("--escalation-topic-arn"));

/// Every setting read from the environment by `Given::from_env`.
pub const FROM_ENV: &[Setting] = &[
    BUCKET,
    TABLE,
    LEDGER_TABLE,
    TOPIC_ARN,
    FANOUT_TOPIC_ARN,
    FAILURE_QUEUE_URL,
    LOW_THRESHOLD,
    NOTIFY_LOW,
    NOTIFY_SOON,
    SOON_WITHIN,
    HISTORY_KEEP,
    MAX_MESSAGES,
    GROUP_WAIT,
    RENOTIFY_AFTER,
    ESCALATION_TOPIC_ARN,
];

/// A value that cannot be used, named as it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct SettingsError {
    pub origin: Origin,
    pub problem: String,
}

/// The values given in the environment and by flags (flags win), each
/// with its origin. Blank is not given.
#[derive(Debug, Clone, Default)]
pub struct Given {
    values: BTreeMap<Setting, (String, Origin)>,
}

impl Given {
    /// Every setting of `FROM_ENV` that `var` has.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Given {
        let mut given = Given::default();
        for setting in FROM_ENV {
            if let Some(value) = var(setting.env).filter(|v| !v.trim().is_empty()) {
                given.values.insert(*setting, (value, Origin::Env(setting.env)));
            }
        }
        given
    }

    /// A flag's value, over the environment's.
    pub fn flag(mut self, setting: Setting, value: Option<String>) -> Given {
        if let (Some(value), Some(flag)) = (value, setting.flag) {
            self.values.insert(setting, (value, Origin::Flag(flag)));
        }
        self
    }

    /// The text given for a setting, and where.
    pub fn text(&self, setting: Setting) -> Option<(&str, &Origin)> {
        self.values.get(&setting).map(|(v, o)| (v.trim(), o))
    }

    /// A setting that must be given (a function's names: never a default
    /// table of some other deployment).
    pub fn required(&self, setting: Setting, advice: &str) -> Result<String, SettingsError> {
        self.text(setting)
            .map(|(v, _)| v.to_string())
            .ok_or_else(|| SettingsError {
                origin: Origin::Env(setting.env),
                problem: format!("not set; {advice}"),
            })
    }

    /// A setting read by `parse`, its problem named by its origin.
    pub fn parsed<T>(
        &self,
        setting: Setting,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, SettingsError> {
        match self.text(setting) {
            None => Ok(None),
            Some((text, origin)) => parse(text).map(Some).map_err(|problem| SettingsError {
                origin: origin.clone(),
                problem,
            }),
        }
    }
}

/// The one reading of yes and no: 1/0, yes/no, true/false, on/off.
pub fn yes_or_no(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err(format!(
            "`{}` is not a yes or a no; write 1/0, yes/no, true/false or on/off",
            stockwatch_domain::escape_for_terminal(text)
        )),
    }
}

/// A whole number (a threshold).
pub fn whole_number(text: &str) -> Result<u32, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "must be a whole number, not `{}`",
            stockwatch_domain::escape_for_terminal(text)
        )
    })
}

/// A whole number above 0 (a count of messages).
pub fn count(text: &str) -> Result<usize, String> {
    text.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        format!(
            "must be a whole number above 0, not `{}`",
            stockwatch_domain::escape_for_terminal(text)
        )
    })
}

/// A span of time: 30m, 2h, 1d, 1h30m.
pub fn duration(text: &str) -> Result<Duration, String> {
    stockwatch_domain::parse_duration(text)
}

/// A wait that may be 0 (none).
pub fn wait(text: &str) -> Result<Duration, String> {
    stockwatch_domain::parse_wait(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_environment_and_errors_name_what_was_given() {
        let env = |name: &str| match name {
            "STOCKWATCH_LOW_THRESHOLD" => Some("five".to_string()),
            "STOCKWATCH_GROUP_WAIT" => Some("2s".to_string()),
            "STOCKWATCH_TABLE" => Some("  ".to_string()),
            _ => None,
        };
        let given = Given::from_env(env);
        assert_eq!(
            given.parsed(LOW_THRESHOLD, whole_number).unwrap_err().to_string(),
            "STOCKWATCH_LOW_THRESHOLD: must be a whole number, not `five`"
        );
        let given = given.flag(LOW_THRESHOLD, Some("7".into()));
        assert_eq!(given.parsed(LOW_THRESHOLD, whole_number).unwrap(), Some(7));
        assert_eq!(given.parsed(GROUP_WAIT, wait).unwrap(), Some(Duration::from_secs(2)));
        assert_eq!(given.text(TABLE), None, "blank is not given");
        assert_eq!(
            given.required(TABLE, "the template sets it").unwrap_err().to_string(),
            "STOCKWATCH_TABLE: not set; the template sets it"
        );
        let given = given.flag(GROUP_WAIT, Some("soon".into()));
        assert!(
            given
                .parsed(GROUP_WAIT, wait)
                .unwrap_err()
                .to_string()
                .starts_with("--group-wait: ")
        );
    }

    #[test]
    fn yes_and_no_read_one_way_everywhere() {
        for yes in ["1", "yes", "TRUE", "on"] {
            assert_eq!(yes_or_no(yes), Ok(true), "{yes}");
        }
        for no in ["0", "no", "false", "Off"] {
            assert_eq!(yes_or_no(no), Ok(false), "{no}");
        }
        assert!(yes_or_no("maybe").unwrap_err().contains("`maybe` is not a yes or a no"));
    }
}
