//! Plain `stockwatch`: the full-screen console.

use super::error::CliError;
use super::{Session, alerts::operator};
use clap::Args;
use std::io::IsTerminal;
use stockwatch_console::app::Settings;
use stockwatch_console::keymap::{Keymap, builtin};
use stockwatch_console::run::{Options, run};

#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Console (plain stockwatch)")]
pub struct ConsoleArgs {
    /// Hide and refuse every action that writes (acknowledging, uploading,
    /// cancelling an upload); no checker either.
    #[arg(long)]
    pub read_only: bool,
    /// Do not run the checker in the console (another process does; with
    /// --stack the deployed check-stock function always does).
    #[arg(long)]
    pub no_checker: bool,
    /// Built-in key set to start from: default or arrows [default: default].
    #[arg(long, value_name = "NAME")]
    pub keymap: Option<String>,
    /// Show times in UTC, not the local time zone (config: time = "utc").
    #[arg(long)]
    pub utc: bool,
    /// Take clicks and the wheel (config: mouse = true). Off by default:
    /// while the console has the mouse, selecting text to copy needs Shift
    /// (Option on macOS) in most terminals.
    #[arg(long, overrides_with = "no_mouse")]
    pub mouse: bool,
    /// Leave the mouse to the terminal, whatever the config says.
    #[arg(long)]
    pub no_mouse: bool,
    /// No terminal bell on new OUT alerts (config: alerts.bell = false).
    #[arg(long)]
    pub no_bell: bool,
}

pub const KEYMAP_FILE: &str = "keymap.toml";
/// Beside the log: the file pane's last directory.
pub const LAST_DIR_FILE: &str = "last-dir";

/// The built-in set, with the user's keymap.toml over it: beside the
/// config file read (`--config`), else in the config dir.
pub fn load_keymap(name: &str, config: Option<&std::path::Path>) -> Result<Keymap, CliError> {
    let base = builtin(name).ok_or_else(|| {
        CliError::Usage(format!(
            "there is no built-in keymap `{}`; the built-in keymaps are default and arrows",
            stockwatch_domain::escape_for_terminal(name)
        ))
    })?;
    let user_path = match config.and_then(std::path::Path::parent) {
        Some(dir) => Some(dir.join(KEYMAP_FILE)),
        None => stockwatch_core::settings::project_dirs().map(|d| d.config_dir().join(KEYMAP_FILE)),
    };
    let user = match &user_path {
        Some(path) => match stockwatch_core::settings::read_settings_file(path) {
            Ok(text) => Some((path.display().to_string(), text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(CliError::Usage(format!(
                    "cannot read the keymap {}: {e}",
                    path.display()
                )));
            }
        },
        None => None,
    };
    let base_name = format!("keymaps/{name}.toml (built in)");
    Keymap::load((&base_name, base), user.as_ref().map(|(p, t)| (p.as_str(), t.as_str())))
        .map_err(|e| CliError::Usage(e.to_string()))
}

pub async fn start(ctx: &Session, args: &ConsoleArgs) -> Result<(), CliError> {
    let name = args
        .keymap
        .clone()
        .or_else(|| ctx.config.keymap.as_ref().map(|k| k.get_ref().clone()))
        .unwrap_or_else(|| "default".into());
    let keymap = load_keymap(&name, ctx.config.path())?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "the console needs a terminal; `stockwatch watch` follows changes and alerts as plain lines".into(),
        ));
    }
    let last_dir_file = stockwatch_core::logging::log_path().and_then(|p| p.parent().map(|d| d.join(LAST_DIR_FILE)));
    let remembered = last_dir_file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .map(|text| std::path::PathBuf::from(text.trim()));
    // The console's checker retries quietly (logged): a line on stderr
    // would be drawn over the screen. Read-only consoles change nothing;
    // on a stack, the deployed check-stock function raises the alerts.
    // A data dir this user may only read gives a read-only console: no
    // key offers what would fail.
    let read_only = args.read_only || ctx.data_read_only();
    let checker = (!args.no_checker && !read_only && ctx.roles.checks_here())
        .then(|| stockwatch_core::pipeline::Checker::new(ctx.ports.clone(), ctx.checker_config.clone()));
    let log_path =
        stockwatch_core::logging::log_path().map_or_else(|| "(no log file)".into(), |p| p.display().to_string());
    let config = &ctx.config;
    let settings = Settings {
        read_only,
        bell: !args.no_bell && config.alerts.bell.unwrap_or(true),
        mouse: !args.no_mouse && (args.mouse || config.mouse.unwrap_or(false)),
        home: directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()),
        ..Settings::new(&ctx.ports.location, &log_path)
    };
    let options = Options {
        keymap,
        settings,
        utc: args.utc || config.time.as_ref().is_some_and(|t| t.get_ref() == "utc"),
        checker: checker.clone(),
        thresholds: ctx.checker_config.thresholds.clone(),
        operator: operator()?,
        uploads: stockwatch_core::pipeline::UploadFlow::new(ctx.ports.clone(), ctx.quiet_loader(), checker),
        start_dir: remembered
            .filter(|d| d.is_dir())
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default(),
        last_dir_file,
        knobs: ctx.knobs,
    };
    run(ctx.ports.clone(), options)
        .await
        .map_err(|e| CliError::Io(format!("the terminal failed: {e}")))
}
