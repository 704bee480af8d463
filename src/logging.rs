//! Logs go to a file, never to the terminal: the console owns the screen and
//! the CLI's stdout belongs to scripts.

use std::path::PathBuf;
use std::sync::Mutex;
use tracing_subscriber::EnvFilter;

pub const LOG_FILE: &str = "stockwatch.log";

/// Where this process logs: `STOCKWATCH_LOG_DIR`, else the platform's state dir.
pub fn log_path() -> Option<PathBuf> {
    let dir = std::env::var_os("STOCKWATCH_LOG_DIR")
        .map(PathBuf::from)
        .or_else(crate::config::default_log_dir)?;
    Some(dir.join(LOG_FILE))
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
