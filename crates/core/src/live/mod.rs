//! Live copies of the inventory table, the alert ledger and the items'
//! histories shown, kept up to date
//! from a follower's snapshot and changes, and finding names in them as
//! people type: what every front end that shows the stock live (the
//! console, the web dashboard) holds, once.

mod alerts;
pub mod finding;
mod history;
mod stock;

pub use alerts::LiveAlerts;
pub use history::{ItemHistory, READ_AT_MOST, TREND_DAYS, sparkline};
pub use stock::{ItemRow, LiveStock, StoreSummary};
