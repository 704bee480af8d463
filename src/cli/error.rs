//! What the binary says when something goes wrong: one sentence with the
//! cause and what to do, and an exit code scripts can rely on.

use stockwatch_core::app::{AppError, Field};
use stockwatch_core::ports::{Need, PortError};
use stockwatch_core::settings::ConfigError;

/// Exit codes (documented in `stockwatch --help` and the README).
pub mod exit {
    pub const OK: u8 = 0;
    /// The backend or the file system failed (after retries): a full disk
    /// too, whichever step it stopped.
    pub const FAILURE: u8 = 1;
    /// Bad command line or config (clap uses 2 too).
    pub const USAGE: u8 = 2;
    /// `upload`: at least one file was rejected for its content (or is not
    /// a file: a folder, a pipe, a device).
    pub const REJECTED: u8 = 3;
    /// The alert or object named does not exist.
    pub const NOT_FOUND: u8 = 4;
    /// The alert cannot change that way (already acknowledged or resolved).
    pub const CONFLICT: u8 = 5;
}

pub const EXIT_CODES_HELP: &str = "Exit codes:
  0  success
  1  the backend or the file system failed (after retries; a full disk too)
  2  bad command line or config file
  3  upload: at least one file was rejected (its report names every bad line)
  4  the alert or upload named does not exist
  5  the alert cannot change that way (already acknowledged or resolved; unack: not acknowledged)";

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

/// A use case's refusal in the CLI's terms: typed text is named by its flag.
impl From<AppError> for CliError {
    fn from(error: AppError) -> CliError {
        match error {
            AppError::Invalid { field, problem } => {
                let flag = match field {
                    Field::Name => "the name (--by or STOCKWATCH_USER)",
                    Field::Note => "the note (--note)",
                    Field::Store => "the store (--store)",
                    Field::Item => "the item (--item)",
                };
                CliError::Usage(format!("{flag} {problem}"))
            }
            AppError::Port(e) => CliError::Port(e),
        }
    }
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Config(_) => exit::USAGE,
            CliError::Port(PortError::NotFound(_)) => exit::NOT_FOUND,
            // Something named does not exist: the same code as an alert or upload.
            CliError::Port(PortError::Setup {
                need: Need::Resource | Need::TopicArn | Need::Stack,
                ..
            }) => exit::NOT_FOUND,
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
            CliError::Port(PortError::Setup { need, message }) => Some(format!("{message}; {}", advice(*need))),
            other => Some(other.to_string()),
        }
    }
}

/// How to fix what a backend needs, with this binary's flags and variables.
pub fn advice(need: Need) -> &'static str {
    match need {
        Need::DataDir => "check its permissions, or pass --data-dir (or set STOCKWATCH_DATA_DIR) with a folder",
        Need::WritableDataDir => {
            "reading works there (stock, alerts, uploads, the console); to change anything, run as a user who may \
             write it or make it writable (chmod u+w), or pass --data-dir with another folder"
        }
        Need::Credentials => {
            "sign in (`aws sso login --profile NAME`), set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY"
        }
        Need::Region => "set AWS_REGION, pass --region, or give your AWS profile a region",
        Need::Resource => "create it with `stockwatch --backend aws provision` or check the name and region",
        Need::TopicArn => "run `stockwatch --backend aws provision` or pass --topic-arn",
        Need::Stream => "enable a NEW_AND_OLD_IMAGES stream on it (`stockwatch --backend aws provision` says how)",
        Need::Stack => "deploy one with `sam deploy --guided` (docs/aws.md), or check --region and --profile",
        Need::BucketName => "choose another name with --bucket",
        Need::Permission => {
            "operators of a stack need its managed policy (output OperatorPolicyArn of deploy/template.yaml) \
             attached to their role, user or SSO permission set; otherwise ask for that permission"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_errors_get_the_cli_s_advice_and_keep_their_exit_codes() {
        let missing = CliError::Port(PortError::setup(Need::Resource, "the table Inventory does not exist"));
        assert_eq!(missing.exit_code(), exit::NOT_FOUND);
        assert_eq!(
            missing.message().unwrap(),
            "the table Inventory does not exist; create it with `stockwatch --backend aws provision` or check the \
             name and region"
        );
        let region = CliError::Port(PortError::setup(Need::Region, "no AWS region is set"));
        assert_eq!(region.exit_code(), exit::FAILURE);
        assert!(region.message().unwrap().contains("pass --region"));
    }
}
