//! The inventory table: rows with their snapshot time and origin, written
//! a file at a time (newest snapshot wins).

use super::*;
use async_trait::async_trait;

/// A row as stored, with its snapshot time and origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRow {
    pub store: String,
    pub item: String,
    pub count: u32,
    pub as_of: Timestamp,
    pub updated_at: Timestamp,
    pub source: String,
}

/// One file's rows, to be written as of one time. Shared, not copied: a
/// file can hold millions of rows.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub rows: Arc<Vec<InventoryRow>>,
    pub as_of: Timestamp,
    pub source: ObjectKey,
}

/// What a write did, row by row, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteSummary {
    /// New rows and rows whose count changed (each wrote a change record).
    pub changed: u64,
    /// Same count, newer snapshot: the as-of moved on, nothing else.
    pub unchanged: u64,
    /// The table already held a newer snapshot of the row: left alone.
    pub older: u64,
    /// Rows that could not be written, with the reason (networked backends).
    pub failed: Vec<RowFailure>,
    /// The older rows themselves, where the sink leaves their history points
    /// to the loader (DynamoDB); a sink that keeps them itself, in its own
    /// transaction (SQLite), leaves this empty. Taken by the loader, never kept.
    #[serde(skip)]
    pub older_rows: Vec<InventoryRow>,
}

impl WriteSummary {
    /// Adds another part's outcome (a store's, a chunk's) to this one.
    pub fn add(&mut self, part: WriteSummary) {
        self.changed += part.changed;
        self.unchanged += part.unchanged;
        self.older += part.older;
        self.failed.extend(part.failed);
        self.older_rows.extend(part.older_rows);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowFailure {
    pub line: u64,
    pub reason: String,
    /// Whether trying again later may succeed (busy, throttled, locked).
    #[serde(default)]
    pub transient: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StockFilter {
    pub store: Option<String>,
    /// Only rows with a count at or below this.
    pub count_at_most: Option<u32>,
}

#[async_trait]
pub trait InventoryTable: Send + Sync {
    /// Starts writing one file's rows as of one time: the loader streams
    /// them in, a chunk at a time, so no file is ever held whole.
    async fn begin(&self, as_of: Timestamp, source: &ObjectKey) -> PortResult<Box<dyn RowSink>>;
    /// Rows in (store, item) order.
    async fn scan(&self, filter: &StockFilter, page: Option<&PageToken>, limit: usize) -> PortResult<Page<StockRow>>;

    /// Writes a whole snapshot at once (small files, tests).
    async fn write(&self, snapshot: Snapshot) -> PortResult<WriteSummary> {
        let mut sink = self.begin(snapshot.as_of, &snapshot.source).await?;
        let summary = sink.write(snapshot.rows.to_vec()).await?;
        sink.commit().await?;
        Ok(summary)
    }
}

/// One file's rows on their way into the table. Each row is upserted only
/// if the table holds no newer snapshot of it; a row whose count is
/// unchanged writes no change record.
#[async_trait]
pub trait RowSink: Send {
    /// Whether `abandon` undoes what was written: then a file can be
    /// validated while it is written (one transaction, locally). Otherwise
    /// the loader validates the whole file before writing any of it.
    fn undoable(&self) -> bool;
    /// Writes the next rows of the file.
    async fn write(&mut self, rows: Vec<InventoryRow>) -> PortResult<WriteSummary>;
    /// Makes what was written final.
    async fn commit(self: Box<Self>) -> PortResult<()>;
    /// Drops what was written, where `undoable`; elsewhere it stays.
    async fn abandon(self: Box<Self>);
}

// ---------- change feed ----------
