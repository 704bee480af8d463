//! The SQLite file behind the local backend: schema, pragmas, and running
//! blocking SQLite calls off the async threads.
//!
//! Several processes share one data dir: WAL lets readers run beside the one
//! writer, every write transaction is `BEGIN IMMEDIATE` (so writers queue on
//! the busy timeout instead of failing mid-transaction), and ids handed out
//! inside those transactions are therefore committed in order.
//!
//! Change records are written by `LocalTable::write`, not by triggers: a
//! trigger per row made bulk loads about twice as slow.

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stockwatch_core::ports::{Need, PortError, PortResult, Reason};

/// How long a writer waits for another process's transaction before the
/// attempt counts as a transient failure (and is retried with backoff).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema's version (SQLite's `user_version`): the first schema, then
/// one step per migration.
const SCHEMA_VERSION: i64 = 1 + MIGRATIONS.len() as i64;

/// Changes to the first schema, in order; a data dir at version n gets
/// `MIGRATIONS[n - 1..]`, a new one the schema and all of them.
const MIGRATIONS: &[&str] = &[
    // 2: alerts are claimed by transition (the same key whichever path finds
    // it: the change log, or a reconcile), not by change id and kind.
    r#"
    ALTER TABLE alerts ADD COLUMN transition TEXT;
    UPDATE alerts SET transition = 'change:' || change_id || '#' || kind;
    CREATE UNIQUE INDEX alerts_transition ON alerts (transition);
    "#,
    // 3: the outbox: messages written in the transaction that marks their
    // alerts published, exported to outbox.jsonl by position.
    r#"
    CREATE TABLE outbox (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        entry   TEXT    NOT NULL,  -- the OutboxEntry as JSON (its seq is the row's)
        sent_at INTEGER NOT NULL
    );
    "#,
    // 4: uploads keep the as-of their uploader asked for, and the lease of
    // the loader at work on them, so a load a crash cut short is resumed.
    r#"
    ALTER TABLE objects ADD COLUMN as_of INTEGER;
    ALTER TABLE objects ADD COLUMN loading_by TEXT;
    ALTER TABLE objects ADD COLUMN loading_until INTEGER;
    CREATE INDEX objects_received ON objects (uploaded_at) WHERE status = 'received';
    "#,
    // 5: snoozes: a store's (item '') or an item's new alerts are not
    // notified until `until`.
    r#"
    CREATE TABLE snoozes (
        store TEXT    NOT NULL,
        item  TEXT    NOT NULL,
        until INTEGER NOT NULL,
        by    TEXT    NOT NULL,
        note  TEXT,
        PRIMARY KEY (store, item)
    );
    "#,
    // 6: reminders: how many were claimed per alert, and the open OUT
    // alerts by their last message, for the ones due.
    r#"
    ALTER TABLE alerts ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX alerts_remind ON alerts (published_at) WHERE state = 'open' AND kind = 'OUT' AND notify = 1;
    "#,
    // 7: history: an item's changes by as-of time, the index holding all a
    // trend or a forecast reads (no visit to the change rows).
    r#"
    CREATE INDEX changes_item ON changes (store, item, new_as_of, new_count, new_source) WHERE new_count IS NOT NULL;
    "#,
    // 8: the history's index by as-of day first: a day's load adds to the
    // end of it instead of beside every item's earlier points (which had a
    // reload rewrite most of the index).
    r#"
    DROP INDEX changes_item;
    CREATE INDEX changes_day ON changes (new_as_of / 86400000, store, item, new_as_of, new_count, new_source)
        WHERE new_count IS NOT NULL;
    "#,
    // 9: snapshots older than the table's row (back files loaded after
    // newer ones): no change of the table, but points of the history.
    r#"
    CREATE TABLE older_snapshots (
        store  TEXT    NOT NULL,
        item   TEXT    NOT NULL,
        as_of  INTEGER NOT NULL,
        count  INTEGER NOT NULL,
        source INTEGER NOT NULL REFERENCES sources (id),
        at     INTEGER NOT NULL,  -- when it was written, for pruning as the change log is
        PRIMARY KEY (store, item, as_of)
    ) WITHOUT ROWID;
    "#,
];

/// A file's number, given on first use.
pub(crate) const SOURCE_ID: &str = "
INSERT INTO sources (key) VALUES (?1) ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id";

/// A snapshot older than the table's row: a point of the history only.
pub(crate) const KEEP_OLDER: &str = "
INSERT INTO older_snapshots (store, item, as_of, count, source, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (store, item, as_of) DO NOTHING";

const SCHEMA: &str = r#"
-- Object keys, numbered: rows and changes name their file by number, which
-- keeps a million-row load from writing the same long key two million times.
CREATE TABLE sources (
    id  INTEGER PRIMARY KEY,
    key TEXT    NOT NULL UNIQUE
);

CREATE TABLE inventory (
    store      TEXT    NOT NULL,
    item       TEXT    NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 0),
    as_of      INTEGER NOT NULL,  -- ms since epoch: the snapshot this count is from
    updated_at INTEGER NOT NULL,  -- ms since epoch: when it was written
    source     INTEGER NOT NULL REFERENCES sources (id),  -- the file it came from
    PRIMARY KEY (store, item)
) WITHOUT ROWID;

-- The change feed, written in the same transaction as each row change.
-- AUTOINCREMENT: ids never repeat, even after pruning. The kind follows from
-- the images: no old image is an insert, no new image a removal.
CREATE TABLE changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    store      TEXT    NOT NULL,
    item       TEXT    NOT NULL,
    old_count  INTEGER, old_as_of INTEGER, old_source INTEGER,
    new_count  INTEGER, new_as_of INTEGER, new_source INTEGER,
    at         INTEGER NOT NULL
);

CREATE TABLE objects (
    key         TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    report      TEXT             -- the loader's LoadReport as JSON
);
CREATE INDEX objects_newest ON objects (uploaded_at DESC, key DESC);

-- The alert ledger. The claim is a unique key (since version 2 the
-- transition's, see MIGRATIONS): one transition, one alert, however many
-- checkers race for it.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id    TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    store        TEXT    NOT NULL,
    item         TEXT    NOT NULL,
    count        INTEGER NOT NULL,
    threshold    INTEGER NOT NULL,
    as_of        INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    raised_at    INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    acked_by     TEXT,
    acked_at     INTEGER,
    ack_note     TEXT,
    resolved_at  INTEGER,
    notify       INTEGER NOT NULL,
    claim_token  TEXT    NOT NULL,
    claimed_at   INTEGER NOT NULL,
    published_at INTEGER,
    rev          INTEGER NOT NULL,  -- ledger revision of the last change, for followers
    UNIQUE (change_id, kind)
);
CREATE INDEX alerts_item ON alerts (store, item, state);
CREATE INDEX alerts_rev ON alerts (rev, id);
CREATE INDEX alerts_source ON alerts (source);
CREATE INDEX alerts_unpublished ON alerts (claimed_at) WHERE notify = 1 AND published_at IS NULL;

-- Newest restock per item: an alert claimed late for an older snapshot
-- is born resolved.
CREATE TABLE restocks (
    store     TEXT    NOT NULL,
    item      TEXT    NOT NULL,
    as_of     INTEGER NOT NULL,
    change_id TEXT    NOT NULL,
    PRIMARY KEY (store, item)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    name       TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('ledger_rev', 0);
"#;

pub const DB_FILE: &str = "stockwatch.db";

struct Inner {
    path: PathBuf,
    /// Opened for reading only: the data dir cannot be written by this user.
    read_only: bool,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// The file opened, to notice it removed or replaced under a running
    /// process (a restore by `mv`, a data dir made again): SQLite would go
    /// on with the unlinked file, and every write would be lost.
    opened: FileIdentity,
}

/// Which file a path names (device and inode), looked at again at most
/// once a second.
struct FileIdentity {
    id: Option<(u64, u64)>,
    last_checked: Mutex<std::time::Instant>,
}

impl FileIdentity {
    const EVERY: Duration = Duration::from_secs(1);

    fn of(path: &Path) -> FileIdentity {
        FileIdentity {
            id: file_id(path),
            last_checked: Mutex::new(std::time::Instant::now()),
        }
    }

    /// Fails once the path names another file, or none.
    fn still(&self, path: &Path) -> PortResult<()> {
        {
            let mut last = self.last_checked.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < Self::EVERY || self.id.is_none() {
                return Ok(());
            }
            *last = std::time::Instant::now();
        }
        if file_id(path) == self.id {
            return Ok(());
        }
        Err(PortError::permanent(format!(
            "the database {} was removed or replaced while stockwatch was running (a restore, or the data dir \
             made again); this process would go on with the old one and lose what it writes: start it again \
             to use the database there now",
            path.display()
        )))
    }
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// No inode to compare: not checked.
#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<(u64, u64)> {
    None
}

/// Two connections: one for writes, one for reads, so a long load does not
/// hold up the reads of the same process.
#[derive(Clone)]
pub struct Db(Arc<Inner>);

impl Db {
    /// Opens (creating if needed) the database in `dir`. Returns whether the
    /// schema was created by this call. A data dir this user may read but
    /// not write opens for reading: every write then fails with
    /// `Need::WritableDataDir`, and reads work.
    pub fn open(dir: &Path) -> PortResult<(Db, bool)> {
        let path = dir.join(DB_FILE);
        let writable = connect(&path).and_then(|mut writer| {
            let created = migrate(&mut writer, &path)?;
            Ok((writer, connect(&path)?, created))
        });
        let (writer, reader, created, read_only) = match writable {
            Ok((writer, reader, created)) => (writer, reader, created, false),
            Err(e) if is_read_only(&e) && path.is_file() => {
                let reader = connect_read_only(&path)?;
                (connect_read_only(&path)?, reader, false, true)
            }
            Err(e) => return Err(e),
        };
        if read_only {
            tracing::info!(path = %path.display(), "the data dir is read-only: opened for reading");
        }
        Ok((
            Db(Arc::new(Inner {
                opened: FileIdentity::of(&path),
                path,
                read_only,
                writer: Mutex::new(writer),
                reader: Mutex::new(reader),
            })),
            created,
        ))
    }

    /// Whether this data dir was opened for reading only.
    pub fn is_read_only(&self) -> bool {
        self.0.read_only
    }

    /// The error of every write to a read-only data dir.
    pub fn read_only_error(&self) -> PortError {
        let dir = self.0.path.parent().unwrap_or(&self.0.path);
        PortError::setup(
            Need::WritableDataDir,
            format!(
                "the data dir {} is read-only for this user, and this needs to write to it",
                dir.display()
            ),
        )
    }

    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// Runs `f` in an immediate (write-locked) transaction, off the async threads.
    pub async fn write<T, F>(&self, f: F) -> PortResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, PortError> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.write_blocking(f)).await
    }

    /// Runs `f` on the read connection, in one read transaction (one snapshot).
    pub async fn read<T, F>(&self, f: F) -> PortResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, PortError> + Send + 'static,
    {
        let db = self.clone();
        run_blocking(move || db.read_blocking(f)).await
    }

    /// A write transaction held open across calls, on a thread of its own
    /// (a load streams its rows in): rolled back unless committed.
    pub async fn begin_held(&self) -> PortResult<HeldWrite> {
        let (jobs, queue) = std::sync::mpsc::channel::<HeldJob>();
        let (started, ready) = tokio::sync::oneshot::channel();
        if self.0.read_only {
            return Err(self.read_only_error());
        }
        self.0.opened.still(&self.0.path)?;
        let db = self.clone();
        std::thread::spawn(move || {
            let inner = &db.0;
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
                Ok(tx) => tx,
                Err(e) => {
                    let _ = started.send(Err(sql_error(&inner.path, e)));
                    return;
                }
            };
            let _ = started.send(Ok(()));
            for job in queue {
                match job {
                    HeldJob::Run(f) => f(&tx),
                    HeldJob::Commit(done) => {
                        let _ = done.send(tx.commit().map_err(|e| sql_error(&inner.path, e)));
                        return;
                    }
                }
            }
            // Dropped without a commit: the transaction rolls back.
        });
        ready.await.map_err(|_| thread_stopped())??;
        Ok(HeldWrite { jobs })
    }

    /// `write`, on a thread that may block.
    pub fn write_blocking<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> PortResult<T>) -> PortResult<T> {
        if self.0.read_only {
            return Err(self.read_only_error());
        }
        let inner = &self.0;
        inner.opened.still(&inner.path)?;
        let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&inner.path, e))?;
        let value = f(&tx)?;
        let committing = std::time::Instant::now();
        tx.commit().map_err(|e| sql_error(&inner.path, e))?;
        tracing::trace!(elapsed = ?committing.elapsed(), "committed");
        Ok(value)
    }

    /// `read`, on a thread that may block.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> PortResult<T>) -> PortResult<T> {
        let inner = &self.0;
        inner.opened.still(&inner.path)?;
        let mut conn = inner.reader.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(|e| sql_error(&inner.path, e))?;
        f(&tx)
    }
}

type HeldFn = Box<dyn FnOnce(&rusqlite::Transaction<'_>) + Send>;

enum HeldJob {
    Run(HeldFn),
    Commit(tokio::sync::oneshot::Sender<PortResult<()>>),
}

/// An open write transaction (see `Db::begin_held`). Dropped uncommitted,
/// it rolls back.
pub struct HeldWrite {
    jobs: std::sync::mpsc::Sender<HeldJob>,
}

impl HeldWrite {
    /// Runs `f` inside the transaction.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> PortResult<T> + Send + 'static,
    ) -> PortResult<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: HeldFn = Box::new(move |tx| {
            let _ = reply.send(f(tx));
        });
        self.jobs.send(HeldJob::Run(job)).map_err(|_| thread_stopped())?;
        answer.await.map_err(|_| thread_stopped())?
    }

    pub async fn commit(self) -> PortResult<()> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs.send(HeldJob::Commit(reply)).map_err(|_| thread_stopped())?;
        answer.await.map_err(|_| thread_stopped())?
    }
}

/// The held transaction's thread is gone (it panicked): nothing was committed.
fn thread_stopped() -> PortError {
    PortError::Permanent("the database thread stopped unexpectedly".into())
}

async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> PortResult<T> + Send + 'static) -> PortResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PortError::permanent(format!("a database task stopped unexpectedly: {e}")))?
}

fn connect(path: &Path) -> PortResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| sql_error(path, e))?;
    // WAL: readers never block the writer; NORMAL: durable at checkpoints,
    // and a crash can lose at most the last transactions, never corrupt.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| sql_error(path, e))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| sql_error(path, e))?;
    // 64 MiB of page cache keeps big loads from thrashing the B-tree.
    conn.pragma_update(None, "cache_size", -32768)
        .map_err(|e| sql_error(path, e))?;
    Ok(conn)
}

/// Whether opening for writing failed because this user may not write:
/// the file, its folder (SQLite's WAL and journal files), or the disk.
fn is_read_only(error: &PortError) -> bool {
    matches!(
        error,
        PortError::Setup {
            need: Need::WritableDataDir,
            ..
        }
    )
}

/// For a data dir this user may only read. SQLite's WAL needs its shared
/// memory file: when no writer has it open (none is there) and the folder
/// is read-only, the file is opened as immutable, read as it stands.
fn connect_read_only(path: &Path) -> PortResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let uri = |immutable: bool| {
        let escaped = path
            .to_string_lossy()
            .replace('%', "%25")
            .replace('?', "%3f")
            .replace('#', "%23");
        format!("file:{escaped}?mode=ro{}", if immutable { "&immutable=1" } else { "" })
    };
    let open = |immutable: bool| -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(uri(immutable), flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Reading the schema is what fails when the WAL index cannot be made.
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version != SCHEMA_VERSION {
            return Err(rusqlite::Error::InvalidQuery);
        }
        Ok(conn)
    };
    let shm = PathBuf::from(format!("{}-shm", path.display()));
    let conn = match open(false) {
        Ok(conn) => conn,
        Err(rusqlite::Error::InvalidQuery) => return Err(old_schema(path)),
        Err(_) if !shm.exists() => open(true).map_err(|e| match e {
            rusqlite::Error::InvalidQuery => old_schema(path),
            other => sql_error(path, other),
        })?,
        Err(e) => return Err(sql_error(path, e)),
    };
    Ok(conn)
}

/// A read-only data dir cannot be brought up to this version's schema.
fn old_schema(path: &Path) -> PortError {
    PortError::setup(
        Need::WritableDataDir,
        format!(
            "the database {} is from another stockwatch version and must be upgraded, which needs writing",
            path.display()
        ),
    )
}

fn migrate(conn: &mut Connection, path: &Path) -> PortResult<bool> {
    let version = |conn: &Connection| -> PortResult<i64> {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| sql_error(path, e))
    };
    // Almost every open finds the schema in place: check without the write
    // lock, so reading commands never queue behind a long load.
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(PortError::permanent(format!(
            "the data dir was written by a newer stockwatch (schema {found}, this one knows {SCHEMA_VERSION}); upgrade stockwatch"
        )));
    }
    if found == SCHEMA_VERSION {
        return Ok(false);
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_error(path, e))?;
    // Another process may have created or migrated it while we waited.
    let found = version(&tx)?;
    let created = found == 0;
    if created {
        tx.execute_batch(SCHEMA).map_err(|e| sql_error(path, e))?;
    }
    for migration in &MIGRATIONS[(found.max(1) - 1) as usize..] {
        tx.execute_batch(migration).map_err(|e| sql_error(path, e))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| sql_error(path, e))?;
    tx.commit().map_err(|e| sql_error(path, e))?;
    Ok(created)
}

/// One sentence for a full disk, whichever file found it.
pub fn disk_full(path: &Path) -> String {
    format!(
        "the disk holding {} is full; free some space, then try again",
        path.display()
    )
}

/// Maps SQLite failures: lock contention is transient, the rest is not.
pub fn sql_error(path: &Path, error: rusqlite::Error) -> PortError {
    let code = error.sqlite_error_code();
    let text = match &error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    };
    match code {
        // SQLite's error stays underneath the sentence (`Error::source`).
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => PortError::Transient(Reason::because(
            format!(
                "the database {} is busy (another stockwatch is writing): {text}",
                path.display()
            ),
            error,
        )),
        // This user may not write the file or its folder (SQLite's WAL and
        // journal live beside it): opening falls back to reading.
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => PortError::setup(
            Need::WritableDataDir,
            format!("cannot open the database {} for writing: {text}", path.display()),
        ),
        Some(ErrorCode::DiskFull) => PortError::Permanent(Reason::because(disk_full(path), error)),
        // No retry mends it: what to do is said.
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => PortError::Permanent(Reason::because(
            format!(
                "the database {} is damaged ({text}); restore it from a backup, or move it aside and run \
                 `stockwatch provision` for a new one, then upload the files again (the bucket folder beside it \
                 keeps every file)",
                path.display()
            ),
            error,
        )),
        _ => PortError::Permanent(Reason::because(
            format!("the database {} failed: {text}", path.display()),
            error,
        )),
    }
}

/// Shorthand for mapping errors inside `Db::read`/`Db::write` closures.
pub trait SqlResultExt<T> {
    fn db(self, tx: &rusqlite::Transaction<'_>) -> PortResult<T>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn db(self, tx: &rusqlite::Transaction<'_>) -> PortResult<T> {
        self.map_err(|e| sql_error(Path::new(tx.path().unwrap_or("stockwatch.db")), e))
    }
}

/// Takes the next ledger revision; called inside a write transaction.
pub fn next_ledger_rev(tx: &rusqlite::Transaction<'_>) -> PortResult<i64> {
    tx.query_row(
        "UPDATE counters SET value = value + 1 WHERE name = 'ledger_rev' RETURNING value",
        [],
        |r| r.get(0),
    )
    .db(tx)
}
