//! The pipeline, written once against the ports: the loader (object → rows
//! in the table) and the checker (change feed → alerts → notifications).

pub mod checker;
pub mod digest;
pub mod forecasts;
pub mod keys;
pub mod loader;
pub mod relay;
pub mod upload;

pub use crate::ports::{RetryNotice, RetryPolicy};
pub use checker::{CheckReport, Checker, CheckerConfig, DEFAULT_GROUP_WAIT};
pub use loader::{LoadOutcome, Loader};
pub use relay::{Relay, RelayReport};
pub use upload::{AlertCounts, UploadError, UploadFlow, Uploaded};
