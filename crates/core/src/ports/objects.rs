//! The object store: the bucket uploads are kept in, each object with
//! its load report beside it.

use super::*;
use async_trait::async_trait;

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
    /// The SHA-256 (hex) of the kept object, the bytes that were loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The uploaded file changed while it was read (written to, cut or
    /// replaced): what was kept and loaded is what was read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub source_changed: bool,
    pub loaded_at: Timestamp,
}

impl LoadReport {
    /// Every problem the file had (reports before counts existed list them all).
    pub fn problems_in_all(&self) -> u64 {
        self.problem_count.max(self.problems.len() as u64)
    }

    /// Said when the file changed while it was uploaded.
    pub fn source_change_said(&self) -> Option<String> {
        self.source_changed.then(|| {
            let sha = self.sha256.as_deref().map_or(String::new(), |s| format!(" (sha256 {})", &s[..s.len().min(12)]));
            format!(
                "the file changed while it was uploaded: the copy kept{sha} is what was loaded, not what the file holds now"
            )
        })
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
