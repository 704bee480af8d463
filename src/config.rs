//! Settings for the front ends: a TOML config file, overridden by
//! environment variables and flags (the CLI reads those two), over defaults.
//! A front-end module: it may use the adapters' settings types, never the
//! CLI or the console.

use crate::domain::{DEFAULT_LOW_THRESHOLD, Thresholds, escape_for_terminal};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The config file as written by people. Unknown keys are errors: a typo
/// must not silently change nothing.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub backend: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub checker_name: Option<String>,
    /// Built-in key set of the console: default or arrows.
    pub keymap: Option<String>,
    #[serde(default)]
    pub alerts: AlertSettings,
    #[serde(default)]
    pub aws: AwsFileSettings,
}

/// `[aws]`: names of the deployment, overridden by flags and environment.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsFileSettings {
    /// A stack deployed from deploy/template.yaml: its outputs name the rest.
    pub stack: Option<String>,
    pub bucket: Option<String>,
    pub table: Option<String>,
    pub ledger_table: Option<String>,
    pub topic: Option<String>,
    pub topic_arn: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub write_concurrency: Option<usize>,
    pub write_mode: Option<crate::adapters::aws::WriteMode>,
    pub loader: Option<LoaderKind>,
}

/// Who loads uploaded files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoaderKind {
    /// This process, after uploading.
    #[default]
    Console,
    /// The deployed S3-triggered load-inventory function; uploads wait for its report.
    Function,
}

impl LoaderKind {
    pub const ALL: [LoaderKind; 2] = [LoaderKind::Console, LoaderKind::Function];

    /// The name settings use (`loader = "function"`).
    pub fn name(self) -> &'static str {
        match self {
            LoaderKind::Console => "console",
            LoaderKind::Function => "function",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            LoaderKind::Console => "load in this process after uploading",
            LoaderKind::Function => "upload only; the deployed load-inventory function loads",
        }
    }
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    pub low_threshold: Option<u32>,
    pub notify_low: Option<bool>,
    /// Per-item thresholds: `[[alerts.item]]` with `item`, optional `store`, `low_threshold`.
    #[serde(default, rename = "item")]
    pub items: Vec<ItemThreshold>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ItemThreshold {
    pub item: String,
    pub store: Option<String>,
    pub low_threshold: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Unreadable { path: String, source: std::io::Error },
    #[error("the config file {path} is invalid: {detail}")]
    Invalid { path: String, detail: String },
}

pub const CONFIG_FILE: &str = "config.toml";

/// The platform's folders for stockwatch (XDG on Linux).
pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "stockwatch")
}

pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join(CONFIG_FILE))
}

pub fn default_data_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.data_dir().to_path_buf())
}

/// Where logs go: never the terminal.
pub fn default_log_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.state_dir().unwrap_or(d.data_local_dir()).to_path_buf())
}

/// Loads a config file. A missing default file is fine; a missing file that
/// was asked for by name is an error.
pub fn load(path: &Path, must_exist: bool) -> Result<ConfigFile, ConfigError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(ConfigFile::default());
        }
        Err(source) => {
            return Err(ConfigError::Unreadable { path: shown, source });
        }
    };
    parse(&text).map_err(|detail| ConfigError::Invalid { path: shown, detail })
}

pub fn parse(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e| escape_for_terminal(e.to_string().trim()).replace("\\n", "; "))
}

impl ConfigFile {
    /// Thresholds from the file, with `override_default` (a flag or
    /// environment variable) taking precedence for the global one.
    pub fn thresholds(&self, override_default: Option<u32>) -> Thresholds {
        let default = override_default
            .or(self.alerts.low_threshold)
            .unwrap_or(DEFAULT_LOW_THRESHOLD);
        let mut thresholds = Thresholds::new(default);
        for t in &self.alerts.items {
            thresholds.set(t.store.as_deref(), &t.item, t.low_threshold);
        }
        thresholds
    }
}

/// Expands a leading `~/` the way a shell would, for paths in the config file.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), directories::BaseDirs::new()) {
        (Ok(rest), Some(base)) => base.home_dir().join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_config_file_parses() {
        let config = parse(
            r#"
backend = "local"
data_dir = "~/stock"

[alerts]
low_threshold = 5
notify_low = true

[[alerts.item]]
item = "Echo Dot"
low_threshold = 10

[[alerts.item]]
item = "Echo Dot"
store = "Berlin"
low_threshold = 1
"#,
        )
        .unwrap();
        let t = config.thresholds(None);
        assert_eq!(t.low_for("Pusan", "Echo Show"), 5);
        assert_eq!(t.low_for("Pusan", "Echo Dot"), 10);
        assert_eq!(t.low_for("Berlin", "Echo Dot"), 1);
        assert_eq!(config.thresholds(Some(2)).low_for("Pusan", "Echo Show"), 2);
        assert_eq!(config.alerts.notify_low, Some(true));
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let err = parse("backend = \"local\"\n[alerts]\nlow_treshold = 5\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("low_treshold"), "{err}");
    }

    #[test]
    fn a_missing_default_file_is_an_empty_config() {
        let config = load(Path::new("/nonexistent/stockwatch.toml"), false).unwrap();
        assert_eq!(config, ConfigFile::default());
        assert!(load(Path::new("/nonexistent/stockwatch.toml"), true).is_err());
    }
}
