//! Items' counts over time, for trends and forecasts.

use super::*;
use async_trait::async_trait;

/// One point of an item's history: its count as of a snapshot, and the
/// file that said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub as_of: Timestamp,
    pub count: u32,
    /// Shared: one file is the source of many points.
    pub source: Arc<str>,
}

impl HistoryPoint {
    pub fn point(&self) -> stockwatch_domain::Point {
        stockwatch_domain::Point {
            as_of: self.as_of,
            count: self.count,
        }
    }
}

/// How long history is kept unless configured (`history.keep`).
pub const DEFAULT_HISTORY_KEEP: Duration = Duration::from_secs(90 * 86_400);

/// Every change of an item's count with its as-of time, for trends and
/// forecasts. Locally the change log is the history; on AWS (whose stream
/// keeps 24 hours) a table written by whoever reads the stream.
#[async_trait]
pub trait History: Send + Sync {
    /// Keeps the new counts of `changes` (removals have none). Recording a
    /// change again changes nothing.
    async fn record(&self, changes: &[Change]) -> PortResult<()>;
    /// Keeps rows of a snapshot older than the table's (the table keeps its
    /// newer count; the history keeps every snapshot). Again changes nothing.
    async fn record_older(&self, rows: &[InventoryRow], as_of: Timestamp, source: &ObjectKey) -> PortResult<()>;
    /// One item's points as of `since` or later, oldest first.
    async fn points(&self, store: &str, item: &str, since: Timestamp) -> PortResult<Vec<HistoryPoint>>;
    /// Each item's points as of `since` or later, oldest first, in the
    /// order of `items` (any items, in any order).
    async fn points_of(&self, items: &[(String, String)], since: Timestamp) -> PortResult<Vec<Vec<HistoryPoint>>>;
    /// `points_of` for the items of one page of the table, in its order
    /// (most rows from the first to the last): a backend may read the
    /// whole range at once.
    async fn points_of_page(&self, items: &[(String, String)], since: Timestamp) -> PortResult<Vec<Vec<HistoryPoint>>> {
        self.points_of(items, since).await
    }
}
