//! The embedded local backend: a data dir holding a SQLite database (the
//! inventory table, its change log, the alert ledger, the objects list), a
//! bucket folder of uploaded files and an outbox of notifications.

mod db;
mod history;
mod ledger;
mod load_locks;
mod objects;
mod outbox;
mod table;
mod tidy;

pub use db::DB_FILE;
pub use history::LocalHistory;
pub use ledger::LocalLedger;
pub use outbox::{LocalPublisher, OUTBOX_FILE, OutboxEntry};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use stockwatch_core::ports::{Need, PortError, PortResult, Ports};

pub const BUCKET_DIR: &str = "bucket";
const STAGING_DIR: &str = "staging";
/// Each local loader's lock file (`load_locks`).
const LOCKS_DIR: &str = "locks";

/// What opening a data dir found or made, for `stockwatch provision`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub data_dir: PathBuf,
    pub created_database: bool,
    pub created_bucket: bool,
    /// This user may read the data dir, not write it: reads work, writes
    /// fail with `Need::WritableDataDir`.
    pub read_only: bool,
}

pub struct LocalBackend {
    pub ports: Ports,
    pub ledger: Arc<LocalLedger>,
    pub opened: Opened,
}

impl LocalBackend {
    /// Opens the data dir, creating it and its database when missing.
    pub fn open(data_dir: &Path) -> PortResult<LocalBackend> {
        LocalBackend::keeping_history(data_dir, stockwatch_core::ports::DEFAULT_HISTORY_KEEP)
    }

    /// `open`, keeping history (the change log) for `keep`.
    pub fn keeping_history(data_dir: &Path, keep: std::time::Duration) -> PortResult<LocalBackend> {
        if data_dir.exists() && !data_dir.is_dir() {
            return Err(PortError::setup(
                Need::DataDir,
                format!("the data dir {} is a file, not a folder", data_dir.display()),
            ));
        }
        std::fs::create_dir_all(data_dir).map_err(|e| {
            PortError::setup(
                Need::DataDir,
                format!("cannot create the data dir {}: {e}", data_dir.display()),
            )
        })?;
        let bucket = data_dir.join(BUCKET_DIR);
        let created_bucket = !bucket.is_dir();
        std::fs::create_dir_all(&bucket).map_err(|e| {
            PortError::setup(
                Need::DataDir,
                format!("cannot create the bucket folder {}: {e}", bucket.display()),
            )
        })?;
        let (db, created_database) = db::Db::open(data_dir)?;
        if !db.is_read_only() {
            tidy::leftovers(&data_dir.join(STAGING_DIR), &bucket.join("uploads"));
            load_locks::LoadLocks::new(data_dir.join(LOCKS_DIR)).tidy();
        }
        let table = Arc::new(table::LocalTable::new(db.clone()));
        let ledger = Arc::new(LocalLedger::new(db.clone()));
        // Followers read SQLite directly: cheap, and always current.
        let fanout = Arc::new(stockwatch_core::ports::DirectFanout::new(table.clone(), ledger.clone()).reading(5000));
        let ports = Ports {
            objects: Arc::new(objects::LocalObjects::new(
                db.clone(),
                bucket,
                data_dir.join(STAGING_DIR),
                data_dir.join(LOCKS_DIR),
            )),
            table: table.clone(),
            feed: table,
            checkpoints: Arc::new(table::LocalCheckpoints::new(db.clone())),
            ledger: ledger.clone(),
            history: Arc::new(LocalHistory::new(db.clone(), keep)),
            publisher: Arc::new(LocalPublisher::new(db.clone(), data_dir.join(OUTBOX_FILE))),
            fanout,
            relayed: false,
            idle_poll: std::time::Duration::from_millis(250),
            location: format!("local: {}", data_dir.display()),
        };
        Ok(LocalBackend {
            ports,
            ledger,
            opened: Opened {
                data_dir: data_dir.to_path_buf(),
                created_database,
                created_bucket,
                read_only: db.is_read_only(),
            },
        })
    }
}
