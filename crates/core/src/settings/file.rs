//! The config file (`config.toml`), the layer between the defaults and the
//! environment: read once, checked whole, each mistake named by its line;
//! and where stockwatch keeps its files (config, data, logs).

use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use stockwatch_domain::{DEFAULT_LOW_THRESHOLD, Thresholds, escape_for_terminal};
use toml::Spanned;

/// The config file as written by people. Unknown keys are errors: a typo
/// must not silently change nothing.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub backend: Option<Spanned<String>>,
    pub data_dir: Option<Spanned<PathBuf>>,
    pub checker_name: Option<String>,
    /// Built-in key set of the console: default or arrows.
    pub keymap: Option<Spanned<String>>,
    /// The console's times: "local" (the default) or "utc".
    pub time: Option<Spanned<String>>,
    /// The console takes clicks and the wheel (default false: the
    /// terminal keeps its own selection for copying).
    pub mouse: Option<bool>,
    /// How long each item's history is kept, e.g. "90d" (the default).
    pub history_keep: Option<Spanned<String>>,
    #[serde(default)]
    pub alerts: AlertSettings,
    #[serde(default)]
    pub aws: AwsFileSettings,
    /// The file it came from, and where its lines start: a value found
    /// wrong after parsing is named by its line too.
    #[serde(skip)]
    source: Source,
}

#[derive(Debug, Default, PartialEq)]
struct Source {
    path: String,
    line_starts: Vec<usize>,
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
    pub write_mode: Option<crate::aws_settings::WriteMode>,
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
    /// Notify SOON alerts (a predicted run-out within the horizon) too (default false).
    pub notify_soon: Option<bool>,
    /// How far ahead a predicted run-out raises SOON, e.g. "3d" (default).
    pub soon_within: Option<Spanned<String>>,
    /// The console rings the terminal bell on a new OUT alert (default true).
    pub bell: Option<bool>,
    /// Messages one pass (an upload's check, a `check`) sends at most;
    /// more become one summary (default 10).
    pub max_messages_per_pass: Option<usize>,
    /// Where alerts arrive in many small batches (a relay; a stack's
    /// function takes its `GroupWait` parameter): what they raise is sent
    /// together once no new alert came for this long (default "30s").
    pub group_wait: Option<Spanned<String>>,
    /// Remind of OUT alerts still open and unacknowledged this long after
    /// their last message, e.g. "1h" (default: never).
    pub renotify_after: Option<Spanned<String>>,
    /// Reminders go to this topic instead of the alert topic (AWS).
    pub escalation_topic_arn: Option<String>,
    /// Per-item settings: `[[alerts.item]]` with `item`, optional `store`,
    /// `low_threshold` and `soon_within`.
    #[serde(default, rename = "item")]
    pub items: Vec<Spanned<ItemThreshold>>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ItemThreshold {
    pub item: String,
    pub store: Option<String>,
    pub low_threshold: Option<u32>,
    /// How far ahead a predicted run-out of this item raises SOON ("7d").
    pub soon_within: Option<String>,
}

impl ItemThreshold {
    /// The store (if any) and item, kept as the files' names are
    /// (composed, checked), or what is wrong with them.
    fn names(&self) -> Result<(Option<String>, String), String> {
        use stockwatch_domain::names::name_argument;
        let item = name_argument(&self.item, stockwatch_domain::MAX_ITEM_BYTES)
            .map_err(|p| format!("[[alerts.item]]: item `{}` {p}", escape_for_terminal(&self.item)))?;
        let store = match &self.store {
            Some(store) => Some(name_argument(store, stockwatch_domain::MAX_STORE_BYTES).map_err(|p| {
                format!(
                    "[[alerts.item]] for `{}`: store `{}` {p} (leave store out for every store)",
                    escape_for_terminal(&item),
                    escape_for_terminal(store)
                )
            })?),
            None => None,
        };
        Ok((store, item))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    /// `detail` may run over several lines (TOML's own errors point at the
    /// spot); each is shown escaped.
    #[error("the config file {path} is invalid:{}", lines_apart(.detail))]
    Invalid { path: String, detail: String },
}

/// A one-line detail follows on the same line, TOML's pointing ones below.
fn lines_apart(detail: &str) -> String {
    if detail.contains('\n') {
        format!("\n{detail}")
    } else {
        format!(" {detail}")
    }
}

impl ConfigError {
    /// Whether the message runs over several lines on purpose.
    pub fn is_multiline(&self) -> bool {
        matches!(self, ConfigError::Invalid { detail, .. } if detail.contains('\n'))
    }
}

/// Config and keymap files are a few lines; anything bigger is not one
/// (`STOCKWATCH_CONFIG=/dev/zero` must not fill memory).
pub const MAX_SETTINGS_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a settings file people write: a regular file of at most
/// `MAX_SETTINGS_FILE_BYTES`, checked before a byte is read.
pub fn read_settings_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a pipe, a device or a folder)",
        ));
    }
    if meta.len() > MAX_SETTINGS_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "it is {} bytes; a settings file has at most {MAX_SETTINGS_FILE_BYTES}",
                meta.len()
            ),
        ));
    }
    let mut text = String::new();
    // Bounded even if the file grows while it is read.
    file.take(MAX_SETTINGS_FILE_BYTES).read_to_string(&mut text)?;
    Ok(text)
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
/// was asked for by name (`--config`, `STOCKWATCH_CONFIG`) is an error.
pub fn load(path: &Path, must_exist: bool) -> Result<ConfigFile, ConfigError> {
    let shown = path.display().to_string();
    let text = match read_settings_file(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(ConfigFile::default());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::Unreadable {
                path: shown,
                reason: "it does not exist; create it (docs/cli.md: Settings), or drop --config / unset \
                         STOCKWATCH_CONFIG to use the default"
                    .into(),
            });
        }
        Err(e) => {
            return Err(ConfigError::Unreadable {
                path: shown,
                reason: e.to_string(),
            });
        }
    };
    let mut config = parse(&text).map_err(|detail| ConfigError::Invalid {
        path: shown.clone(),
        detail,
    })?;
    config.source.path = shown;
    Ok(config)
}

/// Parses and checks a config file's text. Errors name their line.
pub fn parse(text: &str) -> Result<ConfigFile, String> {
    let mut config: ConfigFile = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
    config.source.line_starts = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    config.check()?;
    Ok(config)
}

impl ConfigFile {
    /// The file it was read from; none when no file was read (the default
    /// one does not exist).
    pub fn path(&self) -> Option<&Path> {
        (!self.source.path.is_empty()).then(|| Path::new(&self.source.path))
    }

    /// The 1-based line of a span in the file.
    pub fn line_of(&self, span: &Range<usize>) -> usize {
        self.source
            .line_starts
            .partition_point(|&start| start <= span.start)
            .max(1)
    }

    /// A value found wrong by a caller (a keymap name only the console
    /// knows), named by its file and line.
    pub fn invalid_at(&self, span: &Range<usize>, problem: &str) -> ConfigError {
        ConfigError::Invalid {
            path: self.source.path.clone(),
            detail: format!("line {}: {problem}", self.line_of(span)),
        }
    }

    /// What TOML's types cannot say: empty paths, unknown backends, an item
    /// given two thresholds.
    fn check(&self) -> Result<(), String> {
        let at = |span: Range<usize>, problem: String| Err(format!("line {}: {problem}", self.line_of(&span)));
        if let Some(time) = &self.time
            && !matches!(time.get_ref().as_str(), "utc" | "local")
        {
            return at(
                time.span(),
                format!(
                    "time = \"{}\" is not a choice; write \"local\" or \"utc\"",
                    stockwatch_domain::escape_for_terminal(time.get_ref())
                ),
            );
        }
        if let Some(dir) = &self.data_dir
            && dir.get_ref().as_os_str().is_empty()
        {
            return at(
                dir.span(),
                "data_dir is empty; name a folder, or remove the line for the default".into(),
            );
        }
        if let Some(backend) = &self.backend
            && !matches!(backend.get_ref().as_str(), "local" | "aws")
        {
            return at(
                backend.span(),
                format!(
                    "backend `{}` is unknown; use `local` or `aws`",
                    escape_for_terminal(backend.get_ref())
                ),
            );
        }
        for (name, value, parse) in [
            (
                "group_wait",
                &self.alerts.group_wait,
                stockwatch_domain::parse_wait as fn(&str) -> Result<std::time::Duration, String>,
            ),
            (
                "renotify_after",
                &self.alerts.renotify_after,
                stockwatch_domain::parse_duration,
            ),
            (
                "soon_within",
                &self.alerts.soon_within,
                stockwatch_domain::parse_duration,
            ),
            ("history_keep", &self.history_keep, stockwatch_domain::parse_duration),
        ] {
            if let Some(value) = value
                && let Err(problem) = parse(value.get_ref())
            {
                return at(value.span(), format!("{name}: {problem}"));
            }
        }
        let mut seen: std::collections::HashMap<(Option<String>, String), Range<usize>> = Default::default();
        for entry in &self.alerts.items {
            let t = entry.get_ref();
            let (store, item) = match t.names() {
                Ok(names) => names,
                Err(problem) => return at(entry.span(), problem),
            };
            if t.low_threshold.is_none() && t.soon_within.is_none() {
                return at(
                    entry.span(),
                    format!(
                        "[[alerts.item]] for `{}` sets nothing; give it low_threshold, soon_within or both",
                        escape_for_terminal(&t.item)
                    ),
                );
            }
            if let Some(Err(problem)) = t.soon_within.as_deref().map(stockwatch_domain::parse_duration) {
                return at(entry.span(), format!("soon_within: {problem}"));
            }
            // Compared composed: `Cafe\u{301}` and `Café` are one item.
            if let Some(first) = seen.insert((store.clone(), item.clone()), entry.span()) {
                let whose = match &store {
                    Some(store) => format!(
                        "item `{}` at store `{}`",
                        escape_for_terminal(&item),
                        escape_for_terminal(store)
                    ),
                    None => format!("item `{}` (every store)", escape_for_terminal(&item)),
                };
                return at(
                    entry.span(),
                    format!(
                        "a second [[alerts.item]] for {whose}; the first is on line {}: keep one",
                        self.line_of(&first)
                    ),
                );
            }
        }
        Ok(())
    }

    /// A duration setting of `[alerts]` (checked, each by its own rule,
    /// when the file was read).
    pub fn alerts_duration(value: &Option<Spanned<String>>) -> Option<std::time::Duration> {
        value
            .as_ref()
            .and_then(|v| stockwatch_domain::parse_wait(v.get_ref()).ok())
    }

    /// How long history is kept (`history_keep`, checked when read).
    pub fn history_keep(&self) -> std::time::Duration {
        Self::alerts_duration(&self.history_keep).unwrap_or(crate::ports::DEFAULT_HISTORY_KEEP)
    }

    /// Thresholds from the file, with `override_default` (a flag or
    /// environment variable) taking precedence for the global one.
    pub fn thresholds(&self, override_default: Option<u32>) -> Thresholds {
        let default = override_default
            .or(self.alerts.low_threshold)
            .unwrap_or(DEFAULT_LOW_THRESHOLD);
        let mut thresholds = Thresholds::new(default);
        if let Some(within) = Self::alerts_duration(&self.alerts.soon_within) {
            thresholds.set_soon_within(None, None, within);
        }
        for t in self.alerts.items.iter().map(Spanned::get_ref) {
            // Checked when the file was read.
            let Ok((store, item)) = t.names() else { continue };
            if let Some(low) = t.low_threshold {
                thresholds.set(store.as_deref(), &item, low);
            }
            if let Some(Ok(within)) = t.soon_within.as_deref().map(stockwatch_domain::parse_duration) {
                thresholds.set_soon_within(store.as_deref(), Some(&item), within);
            }
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
    fn soon_horizons_are_set_globally_and_per_item() {
        let config = parse(
            r#"
[alerts]
notify_soon = true
soon_within = "5d"

[[alerts.item]]
item = "Echo Dot"
soon_within = "7d"

[[alerts.item]]
item = "Echo Dot"
store = "Berlin"
low_threshold = 2
soon_within = "36h"
"#,
        )
        .unwrap();
        let t = config.thresholds(None);
        assert_eq!(t.soon_within_days("Pusan", "Echo Show"), 5.0);
        assert_eq!(t.soon_within_days("Pusan", "Echo Dot"), 7.0);
        assert_eq!(t.soon_within_days("Berlin", "Echo Dot"), 1.5);
        assert_eq!(
            (t.low_for("Berlin", "Echo Dot"), t.low_for("Pusan", "Echo Dot")),
            (2, 3)
        );
        assert_eq!(config.alerts.notify_soon, Some(true));
        let err = parse("[alerts]\nsoon_within = \"soon\"\n").unwrap_err();
        assert!(err.contains("soon_within") && err.contains("line 2"), "{err}");
        let err = parse("[[alerts.item]]\nitem = \"Echo\"\n").unwrap_err();
        assert!(err.contains("sets nothing"), "{err}");
        let err = parse("[[alerts.item]]\nitem = \"Echo\"\nsoon_within = \"3x\"\n").unwrap_err();
        assert!(err.contains("soon_within"), "{err}");
    }

    #[test]
    fn item_settings_name_items_as_files_do() {
        // Decomposed in the file, composed in the data: one item.
        let config =
            parse("[[alerts.item]]\nitem = \"Cafe\\u0301\"\nstore = \"Mu\\u0308nchen\"\nlow_threshold = 9\n").unwrap();
        assert_eq!(config.thresholds(None).low_for("München", "Café"), 9);
        // The same item twice once composed: both lines named.
        let err = parse(
            "[[alerts.item]]\nitem = \"Café\"\nlow_threshold = 2\n\n[[alerts.item]]\nitem = \"Cafe\\u0301\"\nlow_threshold = 5\n",
        )
        .unwrap_err();
        assert!(err.contains("a second [[alerts.item]] for item `Café`"), "{err}");
        assert!(err.contains("line 5") && err.contains("line 1"), "{err}");
        let err = parse("[[alerts.item]]\nitem = \"Dot\"\nstore = \"\"\nlow_threshold = 2\n").unwrap_err();
        assert!(err.contains("store `` is empty"), "{err}");
        let err = parse("[[alerts.item]]\nitem = \"Do\\u00adt\"\nlow_threshold = 2\n").unwrap_err();
        assert!(err.contains("SOFT HYPHEN"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let err = parse("backend = \"local\"\n[alerts]\nlow_treshold = 5\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("low_treshold"), "{err}");
    }

    #[test]
    fn notification_durations_read_as_people_write_them_or_name_their_line() {
        let config = parse("[alerts]\nrenotify_after = \"1h30m\"\ngroup_wait = \"45s\"\n").unwrap();
        assert_eq!(
            ConfigFile::alerts_duration(&config.alerts.renotify_after),
            Some(std::time::Duration::from_secs(5400))
        );
        assert_eq!(
            ConfigFile::alerts_duration(&config.alerts.group_wait),
            Some(std::time::Duration::from_secs(45))
        );
        let err = parse("[alerts]\nbell = true\nrenotify_after = \"hourly\"\n").unwrap_err();
        assert!(err.contains("line 3") && err.contains("renotify_after"), "{err}");
        assert!(err.contains("not a duration"), "{err}");
    }

    #[test]
    fn a_missing_default_file_is_an_empty_config() {
        let config = load(Path::new("/nonexistent/stockwatch.toml"), false).unwrap();
        assert_eq!(config, ConfigFile::default());
        assert!(load(Path::new("/nonexistent/stockwatch.toml"), true).is_err());
    }
}
