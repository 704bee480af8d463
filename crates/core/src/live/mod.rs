//! Live copies of the inventory table and the alert ledger, kept up to date
//! from a follower's snapshot and changes, and finding names in them as
//! people type: what every front end that shows the stock live (the
//! console, the web dashboard) holds, once.

mod alerts;
pub mod finding;
mod stock;

pub use alerts::LiveAlerts;
pub use stock::{ItemRow, LiveStock, StoreSummary};
