//! Logs go to a file, never to the terminal: the console owns the screen and
//! the CLI's stdout belongs to scripts.

use std::path::PathBuf;
use std::sync::Mutex;
use tracing_subscriber::EnvFilter;

pub const LOG_FILE: &str = "stockwatch.log";

/// Where this process logs: `STOCKWATCH_LOG_DIR`, else the platform's state
/// dir. Set but empty, it names no folder (not the current one): no log.
pub fn log_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("STOCKWATCH_LOG_DIR") {
        Some(dir) if dir.is_empty() => return None,
        Some(dir) => PathBuf::from(dir),
        None => crate::settings::default_log_dir()?,
    };
    Some(dir.join(LOG_FILE))
}

/// The log settings, checked before anything runs: an empty
/// `STOCKWATCH_LOG_DIR` is a mistake to say, as an empty data dir is.
pub fn check_settings() -> Result<(), String> {
    match std::env::var_os("STOCKWATCH_LOG_DIR") {
        Some(dir) if dir.is_empty() => {
            Err("STOCKWATCH_LOG_DIR is set but empty; name a folder for the log, or unset it for the default".into())
        }
        _ => Ok(()),
    }
}

/// Starts logging at `STOCKWATCH_LOG` level (default `info`). A log file that
/// cannot be opened means no logs, never a failed command.
pub fn init() -> Option<PathBuf> {
    let path = log_path()?;
    std::fs::create_dir_all(path.parent()?).ok()?;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).ok()?;
    let filter = EnvFilter::try_from_env("STOCKWATCH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .ok()?;
    tracing::info!(pid = std::process::id(), args = ?std::env::args_os().collect::<Vec<_>>(), "start");
    Some(path)
}
