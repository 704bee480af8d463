//! The inventory domain: pure types and rules, no I/O and no async.
//! Every front end and backend uses these, so the rules exist once.

pub mod alert;
pub mod forecast;
pub mod gathered;
pub mod import;
pub mod joiners;
pub mod names;
pub mod notify;
pub mod preview;
pub mod rules;
pub mod snooze;
pub mod time;

pub use alert::{Acknowledgement, Alert, AlertId, AlertKind, AlertState, Message, Notification, transition_key};
pub use forecast::{Forecast, Point, forecast};
pub use import::{Accepted, InventoryRow, Problem, ProblemKind, Rejected, Warning, import};
pub use names::{MAX_ITEM_BYTES, MAX_STORE_BYTES, escape_for_terminal, terminal_safe_json};
pub use rules::{
    DEFAULT_LOW_THRESHOLD, DEFAULT_SOON_WITHIN_MS, Decision, Level, Thresholds, decide, decide_soon, is_soon, level,
    supersedes,
};
pub use snooze::{MAX_DURATION, MAX_SPAN, Snooze, parse_duration, parse_span, parse_wait, snoozed};
pub use time::{MAX_AS_OF_AHEAD_MS, Timestamp, check_as_of, check_as_of_given};
