//! The application layer: each operator use case once, below every front
//! end. The CLI, the console and the functions parse their input and show
//! the outcome; what a use case does with the backend (its checks, its
//! retries, how it recovers an answer lost on the way back) lives here, so
//! the front ends cannot drift apart.
//!
//! - `alerts`: acknowledge (one or many), one alert, the alert listing;
//! - `snoozes`: snooze and unsnooze an item or a store, the snoozes now;
//! - `stock`: the stock a page at a time with levels and forecasts, an
//!   item's history with its forecast, the uploads;
//! - `history`: items' stock over time;
//! - `duties`: what a long-running process owes on a schedule (its pass,
//!   stalled uploads, the beat, reaping) for the relay, `watch`, the
//!   console and the check function;
//! - `follower`: the snapshot, then the changes and alerts as they come
//!   (the console and `watch`);
//! - `text`: what people type (names, notes), checked once for all.

mod alerts;
mod duties;
mod follower;
mod history;
mod snoozes;
mod stock;
pub mod text;

pub use alerts::{Acknowledged, AlertPages};
pub use duties::{Duties, Pass, REAP_EVERY, RESUME_EVERY, Round, Schedule, checking_viewer};
pub use follower::{
    FollowEnd, FollowFailed, FollowOptions, Followed, Follower, PUBLISHER_SILENT, Part, reconnected_said,
};
pub use snoozes::SnoozeTarget;
pub use stock::{ItemHistory, StockLine, StockPage, StockQuery, StockReader};
pub use text::Field;

use crate::ports::{PortError, Ports, RetryPolicy};

/// Why a use case did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// What a person typed cannot be used; each front end names the field
    /// in its own terms (a flag, a prompt).
    #[error("{field} {problem}")]
    Invalid { field: Field, problem: String },
    /// The backend said no, or could not be reached after the retries.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// The use cases, over one backend's ports, with one retry policy.
#[derive(Clone)]
pub struct Operations {
    ports: Ports,
    retries: RetryPolicy,
}

impl Operations {
    pub fn new(ports: Ports, retries: RetryPolicy) -> Operations {
        Operations { ports, retries }
    }

    /// The ports underneath, for the pipeline's parts a front end starts.
    pub fn ports(&self) -> &Ports {
        &self.ports
    }
}
