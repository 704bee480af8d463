//! The change feed: every change of the table, with old and new images.

use super::*;
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Modify => "MODIFY",
            ChangeKind::Remove => "REMOVE",
        }
    }
}

/// A row's image before or after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub count: u32,
    pub as_of: Timestamp,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Unique identity of the change (the stream record's eventID on AWS).
    pub id: String,
    pub kind: ChangeKind,
    pub store: String,
    pub item: String,
    pub old: Option<Image>,
    pub new: Option<Image>,
    /// When the change was written.
    pub at: Timestamp,
}

/// Where a reader of the feed is; opaque to everyone but its backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCursor(pub String);

#[derive(Debug, Clone)]
pub struct FeedPage {
    pub changes: Vec<Change>,
    /// Pass this to the next read; equal to the input when nothing was new.
    pub cursor: FeedCursor,
    /// Changes were lost before these (trimmed from the stream, or the stream
    /// was replaced): anyone keeping a copy of the table must read it again.
    pub gap: bool,
}

#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Changes after `cursor` (from the beginning when `None`), oldest first.
    async fn read(&self, cursor: Option<&FeedCursor>, limit: usize) -> PortResult<FeedPage>;
    /// A cursor at the newest change: reading from it returns only later ones.
    async fn tip(&self) -> PortResult<FeedCursor>;
}
