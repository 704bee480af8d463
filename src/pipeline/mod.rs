//! The pipeline, written once against the ports: the loader (object → rows
//! in the table) and the checker (change feed → alerts → notifications).

pub mod checker;
pub mod loader;
pub mod retry;

pub use checker::{CheckReport, Checker, CheckerConfig};
pub use loader::{LoadOutcome, Loader};
pub use retry::{RetryNotice, RetryPolicy};
