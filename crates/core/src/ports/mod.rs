//! Ports: what the pipeline needs from a backend, shaped for a networked one.
//! Reads come in pages, writes report per-row outcomes (partial failure),
//! and errors say whether a retry can help.

pub mod fanout;
mod key;
pub mod retry;

pub use fanout::{DirectFanout, Event, Fanout, Subscription};
pub use key::ObjectKey;
pub use retry::{Backoff, Failures, Idle, RetryHook, RetryNotice, RetryPolicy};

use async_trait::async_trait;
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Worth retrying with backoff: a busy database, throttling, a dropped connection.
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    NotFound(String),
    /// A conditional write lost: someone else changed the thing first.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// Retrying will not help (corrupt data, no permission).
    #[error("{0}")]
    Permanent(String),
    /// Nothing works until a person sets something up (a missing table, no
    /// credentials). The message says what is wrong; `need` lets each front
    /// end say how to fix it in its own terms (flags and environment for the
    /// CLI, the template for a function): advice that names a flag would be
    /// wrong in a Lambda log.
    #[error("{message}")]
    Setup { need: Need, message: String },
}

/// What a person must set up before a backend can work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The local data dir cannot be made or used.
    DataDir,
    /// The local data dir can be read, not written, and this writes.
    WritableDataDir,
    /// No AWS credentials were found, or AWS refused them.
    Credentials,
    /// No AWS region is set.
    Region,
    /// A bucket, table or topic does not exist (in this account and region).
    Resource,
    /// The notification topic's ARN is not known.
    TopicArn,
    /// The inventory table has no NEW_AND_OLD_IMAGES stream.
    Stream,
    /// There is no deployed stack of that name.
    Stack,
    /// The bucket name belongs to another AWS account.
    BucketName,
    /// AWS refused a call: the identity's policy does not allow the action
    /// on the resource (both named in the message).
    Permission,
}

impl PortError {
    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Transient(_))
    }

    pub fn setup(need: Need, message: impl Into<String>) -> PortError {
        PortError::Setup {
            need,
            message: message.into(),
        }
    }
}

pub type PortResult<T> = Result<T, PortError>;

/// What every ledger says of an id it does not hold.
pub fn no_such_alert(id: AlertId) -> PortError {
    PortError::NotFound(format!("there is no alert {id}"))
}

/// A page of results and the token for the next one, if any.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageToken>,
}

/// Every item of a paged listing: `fetch` is called with each page's token.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> PortResult<Vec<T>>
where
    F: FnMut(Option<PageToken>) -> Fut,
    Fut: std::future::Future<Output = PortResult<Page<T>>>,
{
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = fetch(token.take()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
}

/// Opaque to callers; each backend puts its own continuation in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageToken(pub String);

impl PageToken {
    /// Uploads list newest first, on every backend: the next page starts
    /// after the last object's place, "<uploaded_at>/<key>".
    pub fn after_object(last: &ObjectInfo) -> PageToken {
        PageToken(format!("{}/{}", last.uploaded_at.0, last.key.as_str()))
    }

    /// Alerts list newest (highest id) first, on every backend: the next
    /// page starts below the last alert's id.
    pub fn after_alert(last: &Alert) -> PageToken {
        PageToken(last.id.to_string())
    }

    /// The id `after_alert` recorded: the next page holds lower ids only.
    pub fn alert_place(&self) -> PortResult<AlertId> {
        AlertId::parse(&self.0).map_err(|_| PortError::Invalid("the page token is damaged".into()))
    }

    /// The place `after_object` recorded.
    pub fn object_place(&self) -> PortResult<(Timestamp, ObjectKey)> {
        self.0
            .split_once('/')
            .and_then(|(at, key)| Some((Timestamp(at.parse().ok()?), ObjectKey::parse(key).ok()?)))
            .ok_or_else(|| PortError::Invalid("the page token is damaged".into()))
    }
}

/// Called with (bytes sent, bytes total) while an object uploads.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What an upload carries: bytes at hand (small files, tests) or a local
/// file, read in pieces so no file is ever held whole.
#[derive(Debug, Clone)]
pub enum Body {
    Bytes(Bytes),
    File(PathBuf),
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body::Bytes(bytes)
    }
}

impl Body {
    pub fn len(&self) -> std::io::Result<u64> {
        match self {
            Body::Bytes(bytes) => Ok(bytes.len() as u64),
            Body::File(path) => Ok(std::fs::metadata(path)?.len()),
        }
    }

    pub fn is_empty(&self) -> std::io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// A reader of it, from the start.
    pub fn open(&self) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        match self {
            Body::Bytes(bytes) => Ok(Box::new(std::io::Cursor::new(bytes.clone()))),
            Body::File(path) => Ok(Box::new(std::io::BufReader::with_capacity(
                256 * 1024,
                std::fs::File::open(path)?,
            ))),
        }
    }
}

/// An object's bytes as a local file to read (the bucket's own file
/// locally; a download from S3), removed when dropped if it is a copy.
#[derive(Debug)]
pub struct Fetched {
    pub path: PathBuf,
    remove: bool,
}

impl Fetched {
    /// The object's own file (nothing to remove).
    pub fn in_place(path: PathBuf) -> Fetched {
        Fetched { path, remove: false }
    }

    /// A copy made for reading, removed when dropped.
    pub fn copy(path: PathBuf) -> Fetched {
        Fetched { path, remove: true }
    }
}

impl Drop for Fetched {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

// ---------- object store (the bucket) ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectStatus {
    /// Stored, not loaded yet (or the loader died while loading).
    Received,
    Loaded,
    Rejected,
    /// The rows were valid but could not all be written.
    Failed,
}

impl ObjectStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectStatus::Received => "received",
            ObjectStatus::Loaded => "loaded",
            ObjectStatus::Rejected => "rejected",
            ObjectStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Received, Self::Loaded, Self::Rejected, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What the loader concluded about an object, kept beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadReport {
    pub status: ObjectStatus,
    pub as_of: Timestamp,
    pub rows: u64,
    pub stores: u64,
    pub write: WriteSummary,
    pub warnings: Vec<Warning>,
    /// The first problems (`domain::import::SHOWN_PROBLEMS`), in line order.
    pub problems: Vec<Problem>,
    /// Every problem, counted: all of them, and by kind (`not_a_number`…).
    #[serde(default)]
    pub problem_count: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub problem_kinds: BTreeMap<String, u64>,
    /// Why the load failed, when it did (status `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Loaded by another process after the one that uploaded it stopped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resumed: bool,
    pub loaded_at: Timestamp,
}

impl LoadReport {
    /// Every problem the file had (reports before counts existed list them all).
    pub fn problems_in_all(&self) -> u64 {
        self.problem_count.max(self.problems.len() as u64)
    }

    /// `2,000,000 not_a_number, 3 duplicate`: the kinds, most first.
    pub fn problem_kinds_said(&self) -> String {
        let mut kinds: Vec<(&String, &u64)> = self.problem_kinds.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        kinds
            .iter()
            .map(|(kind, n)| {
                format!(
                    "{} {}",
                    stockwatch_domain::import::thousands(**n),
                    kind.replace('_', " ")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    pub key: ObjectKey,
    pub size: u64,
    /// When it was stored, to the millisecond on every backend (S3's own
    /// time has whole seconds: stockwatch keeps its own in the metadata).
    pub uploaded_at: Timestamp,
    /// The as-of time the uploader asked for (`--as-of`), kept with the
    /// object so whoever loads it uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<Timestamp>,
    pub status: ObjectStatus,
    /// A loader is at work on it until then (a `received` object whose time
    /// has passed was left by a loader that stopped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loading_until: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<LoadReport>,
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Stores the bytes under `key`, replacing any object of that key, with
    /// the as-of time its loader must use (none: the upload time).
    async fn put(
        &self,
        key: &ObjectKey,
        body: &Body,
        as_of: Option<Timestamp>,
        progress: Option<Progress>,
    ) -> PortResult<ObjectInfo>;
    /// The whole object (small objects, tests).
    async fn get(&self, key: &ObjectKey) -> PortResult<Bytes>;
    /// The object as a local file to read in pieces (the loader's way).
    async fn fetch(&self, key: &ObjectKey) -> PortResult<Fetched>;
    async fn head(&self, key: &ObjectKey) -> PortResult<ObjectInfo>;
    /// Keeps the loader's report with the object.
    async fn set_report(&self, key: &ObjectKey, report: &LoadReport) -> PortResult<()>;
    /// Newest first.
    async fn list(&self, page: Option<&PageToken>, limit: usize) -> PortResult<Page<ObjectInfo>>;
    /// Takes `key` to load it, for `lease`: `false` when it is settled or
    /// another loader's lease on it still runs (leave it to them). S3 keeps
    /// no leases: there it is always `true`, and a second load of an object
    /// changes nothing (newest snapshot wins).
    async fn begin_load(&self, key: &ObjectKey, token: &str, lease: Duration) -> PortResult<bool>;
    /// Uploads still `received` whose loader stopped: no lease on them runs
    /// and they were stored before `before`. Oldest first, at most `limit`.
    async fn stalled(&self, before: Timestamp, limit: usize) -> PortResult<Vec<ObjectKey>>;
}

// ---------- inventory table ----------

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
}

impl WriteSummary {
    /// Adds another part's outcome (a store's, a chunk's) to this one.
    pub fn add(&mut self, part: WriteSummary) {
        self.changed += part.changed;
        self.unchanged += part.unchanged;
        self.older += part.older;
        self.failed.extend(part.failed);
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

/// Named, durable feed positions, one per checker.
#[async_trait]
pub trait Checkpoints: Send + Sync {
    async fn load(&self, name: &str) -> PortResult<Option<FeedCursor>>;
    /// Never moves a checkpoint backwards.
    async fn save(&self, name: &str, cursor: &FeedCursor) -> PortResult<()>;
}

// ---------- alert ledger ----------

/// A checker's claim on one transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertClaim {
    pub change_id: String,
    pub kind: AlertKind,
    pub store: String,
    pub item: String,
    pub count: u32,
    pub threshold: u32,
    pub as_of: Timestamp,
    pub source: String,
    /// Whether anyone is told (LOW alerts only when configured).
    pub notify: bool,
}

impl AlertClaim {
    /// What is claimed: the transition's identity (`transition_key`).
    pub fn transition(&self) -> String {
        transition_key(&self.store, &self.item, self.as_of, self.kind, &self.change_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This caller won the claim: it must publish (when `notify`) and mark it.
    Won(Alert),
    /// Another checker claimed this transition first.
    Lost(Alert),
}

impl ClaimOutcome {
    pub fn alert(&self) -> &Alert {
        match self {
            ClaimOutcome::Won(a) | ClaimOutcome::Lost(a) => a,
        }
    }
}

/// A restock of an item: alerts raised by older snapshots resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restock {
    pub store: String,
    pub item: String,
    pub as_of: Timestamp,
    pub change_id: String,
    /// `None`: the stock came back; every alert of the item raised before
    /// `as_of` is resolved, and claims of older snapshots are born
    /// resolved. `Some(kind)`: only that kind's alerts are resolved (a
    /// SOON whose prediction moved out, or that a LOW or OUT took over).
    pub only: Option<AlertKind>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Include resolved alerts.
    pub include_resolved: bool,
    pub source: Option<String>,
    pub state: Option<AlertState>,
}

/// Where a follower of the ledger is; opaque like `FeedCursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCursor(pub String);

#[async_trait]
pub trait AlertLedger: Send + Sync {
    /// Claims each transition with a conditional insert keyed by its
    /// `transition`: however many checkers try, by whichever path, one wins.
    /// `token` identifies the claimer (the `Publisher` sends only what it holds).
    async fn claim(&self, claims: &[AlertClaim], token: &str, now: Timestamp) -> PortResult<Vec<ClaimOutcome>>;
    /// Takes over claims whose publisher died: unpublished, claimed before
    /// `claimed_before`. The caller publishes them under its `token`.
    async fn take_stale(&self, claimed_before: Timestamp, token: &str, now: Timestamp) -> PortResult<Vec<Alert>>;
    /// Resolves the item's alerts raised by snapshots older than the restock,
    /// including ones claimed later by a slower checker. Returns how many.
    async fn resolve(&self, restocks: &[Restock], now: Timestamp) -> PortResult<u64>;
    /// Conditional: only an open alert can be acknowledged.
    async fn acknowledge(&self, id: AlertId, ack: &Acknowledgement) -> PortResult<Alert>;
    async fn get(&self, id: AlertId) -> PortResult<Alert>;
    /// Newest first.
    async fn list(&self, filter: &AlertFilter, page: Option<&PageToken>, limit: usize) -> PortResult<Page<Alert>>;
    /// A cursor at the newest revision: followers that start from it see only
    /// what happens next.
    async fn tip(&self) -> PortResult<LedgerCursor>;
    /// Alerts raised or changed (acknowledged, resolved) after `cursor`, in
    /// the ledger's own order (a revision, or the ledger stream's sequence;
    /// never a writer's clock). An alert may come more than once (each
    /// write); its newest state is the last.
    async fn changes_since(&self, cursor: Option<&LedgerCursor>, limit: usize) -> PortResult<LedgerPage>;
    /// Snoozes a store or an item (replacing its snooze, if any).
    async fn snooze(&self, snooze: &Snooze) -> PortResult<()>;
    /// Ends a store's or an item's snooze; whether there was one.
    async fn unsnooze(&self, store: &str, item: Option<&str>) -> PortResult<bool>;
    /// The snoozes still active at `now` (a key lookup, never a scan).
    async fn snoozes(&self, now: Timestamp) -> PortResult<Vec<Snooze>>;
    /// The claims held for a grouping window (claimed under a `held_token`):
    /// the window's sender waits until the newest is old enough (an index
    /// query, never a scan).
    async fn held(&self) -> PortResult<PendingClaims>;
    /// Takes every claim held for a grouping window, to send them together
    /// under `token`. Claims a sender holds (not held) are never taken here:
    /// only `take_stale`, after their lease, takes those.
    async fn take_held(&self, token: &str, now: Timestamp) -> PortResult<Vec<Alert>>;
    /// OUT alerts still open and notified whose last message went out at or
    /// before `notified_before`: due for a reminder (an index query).
    async fn due_reminders(&self, notified_before: Timestamp) -> PortResult<Vec<Alert>>;
    /// Claims the next reminder of each alert, conditional on its last
    /// message being the one the caller saw and its being open still, so
    /// however many checkers try, one wins each. The alerts won come back
    /// unpublished under `token` (sent and marked like any claim, taken
    /// over after the lease), `reminders` counted up. Acknowledging or
    /// resolving an alert cancels a reminder not sent yet.
    async fn claim_reminders(&self, due: &[Alert], token: &str, now: Timestamp) -> PortResult<Vec<Alert>>;
}

/// The token under which a claimer holds claims for a grouping window
/// rather than sending them itself: `take_held` gives them to the window's
/// sender.
pub fn held_token(token: &str) -> String {
    format!("{HELD}{token}")
}

/// What a held claim's token starts with.
pub const HELD: &str = "held:";

/// The longest a grouping window stays open: held claims older than this
/// are abandoned (their window's sender stopped) and any checker's
/// `take_stale` takes them.
pub const WINDOW_LONGEST: Duration = Duration::from_secs(600);

/// Claims held for a grouping window (`AlertLedger::held`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingClaims {
    pub count: u64,
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
}

/// What a follower of the ledger reads at once.
#[derive(Debug, Clone)]
pub struct LedgerPage {
    pub alerts: Vec<Alert>,
    pub cursor: LedgerCursor,
    /// Changes were lost (the ledger stream trimmed them, or was replaced):
    /// what the follower holds may be stale; list the alerts again.
    pub gap: bool,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Sent, and the alerts it carries marked published.
    Sent,
    /// Not sent by this caller: a claim it carries was taken over by another
    /// checker, or is published already.
    NotOurs,
    /// Sending failed after retries: the claims stay unpublished, and a
    /// checker takes them over after the lease and sends them.
    Failed(String),
}

/// Sends messages about claimed alerts and marks them published, as one
/// step where the backend allows it.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Sends each message, and marks the alerts it carries published, only
    /// while `token` holds every one of their claims. Locally the send and
    /// the mark are one transaction: each message goes out exactly once. On
    /// SNS the claims are renewed, the message published within a third of
    /// the `lease`, then marked: a crash between SNS accepting a message and
    /// the mark sends it again after the lease.
    async fn deliver(&self, messages: &[Message], token: &str, lease: Duration) -> PortResult<Vec<Delivery>>;

    /// Finishes what a stopped process left half done (the local outbox
    /// file behind its table); nothing to do on SNS.
    async fn flush(&self) -> PortResult<()> {
        Ok(())
    }
}

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
