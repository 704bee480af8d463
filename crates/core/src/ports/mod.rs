//! Ports: what the pipeline needs from a backend, shaped for a networked one.
//! Reads come in pages, writes report per-row outcomes (partial failure),
//! and errors say whether a retry can help. One file per port (`objects`,
//! `table`, `feed`, `history`, `checkpoints`, `ledger`, `publisher`,
//! `fanout`), `errors` for what they all say, and `Ports` here: one
//! backend's set.

mod checkpoints;
mod errors;
pub mod fanout;
mod feed;
mod history;
mod key;
mod ledger;
mod objects;
mod publisher;
pub mod retry;
mod table;

pub use checkpoints::*;
pub use errors::*;
pub use feed::*;
pub use history::*;
pub use ledger::*;
pub use objects::*;
pub use publisher::*;
pub use table::*;

pub use fanout::{DirectFanout, Event, Fanout, Subscription};
pub use key::ObjectKey;
pub use retry::{Backoff, Failures, Idle, RetryHook, RetryNotice, RetryPolicy};

// What the port files share: each takes them with `use super::*`.
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use stockwatch_domain::{
    Acknowledgement, Alert, AlertId, AlertKind, AlertState, InventoryRow, Message, Problem, Snooze, Timestamp, Warning,
    transition_key,
};

/// Every port of one backend, and where it is, for status lines.
#[derive(Clone)]
pub struct Ports {
    pub objects: Arc<dyn ObjectStore>,
    pub table: Arc<dyn InventoryTable>,
    pub feed: Arc<dyn ChangeFeed>,
    pub checkpoints: Arc<dyn Checkpoints>,
    pub ledger: Arc<dyn AlertLedger>,
    pub history: Arc<dyn History>,
    pub publisher: Arc<dyn Publisher>,
    /// What followers (consoles, watch) receive changes and alerts through:
    /// a relay's topic and a queue each, or the feed and ledger read directly.
    pub fanout: Arc<dyn Fanout>,
    /// A relay publishes the fan-out feed and runs the checker: followers
    /// only read what it publishes.
    pub relayed: bool,
    /// The longest a reader of an idle feed waits between reads: short on
    /// SQLite, longer where every read is a paid, rate-limited request.
    pub idle_poll: Duration,
    /// e.g. `local: /home/ana/.local/share/stockwatch`.
    pub location: String,
}
