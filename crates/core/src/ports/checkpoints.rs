//! Named, durable positions in the feed, one per checker.

use super::*;
use async_trait::async_trait;

/// Named, durable feed positions, one per checker.
#[async_trait]
pub trait Checkpoints: Send + Sync {
    async fn load(&self, name: &str) -> PortResult<Option<FeedCursor>>;
    /// Never moves a checkpoint backwards.
    async fn save(&self, name: &str, cursor: &FeedCursor) -> PortResult<()>;
}

// ---------- alert ledger ----------
