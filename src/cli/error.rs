//! What the binary says when something goes wrong: one sentence with the
//! cause and what to do, and an exit code scripts can rely on.

use crate::config::ConfigError;
use crate::ports::PortError;

/// Exit codes (documented in `stockwatch --help` and the README).
pub mod exit {
    pub const OK: u8 = 0;
    /// The backend or the file system failed (after retries).
    pub const FAILURE: u8 = 1;
    /// Bad command line or config (clap uses 2 too).
    pub const USAGE: u8 = 2;
    /// `upload`: at least one file was rejected or could not be loaded.
    pub const REJECTED: u8 = 3;
    /// The alert or object named does not exist.
    pub const NOT_FOUND: u8 = 4;
    /// The alert cannot change that way (already acknowledged or resolved).
    pub const CONFLICT: u8 = 5;
}

pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  the backend or the file system failed (after retries)
  2  bad command line or config file
  3  upload: at least one file was rejected or could not be loaded
  4  the alert or upload named does not exist
  5  the alert cannot change that way (already acknowledged or resolved)";

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Port(#[from] PortError),
    #[error("{0}")]
    Io(String),
    /// Already reported on the way (e.g. rejected files): only the code remains.
    #[error("")]
    Reported(u8),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Config(_) => exit::USAGE,
            CliError::Port(PortError::NotFound(_)) => exit::NOT_FOUND,
            CliError::Port(PortError::Conflict(_)) => exit::CONFLICT,
            CliError::Port(PortError::Invalid(_)) => exit::USAGE,
            CliError::Port(_) | CliError::Io(_) => exit::FAILURE,
            CliError::Reported(code) => *code,
        }
    }

    /// The sentence for people; a hint is added where one helps.
    pub fn message(&self) -> Option<String> {
        match self {
            CliError::Reported(_) => None,
            CliError::Port(PortError::Transient(m)) => Some(format!("{m}; try again in a moment")),
            other => Some(other.to_string()),
        }
    }
}
