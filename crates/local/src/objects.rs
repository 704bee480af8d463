//! The bucket: a folder of files, one per object key, plus a row per object
//! in `objects` with its load status and report.

use super::db::{Db, SqlResultExt};
use super::load_locks::LoadLocks;
use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::OptionalExtension;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use stockwatch_core::ports::{
    Body, Fetched, LoadReport, ObjectInfo, ObjectKey, ObjectStatus, ObjectStore, Page, PageToken, PortError,
    PortResult, Progress, Reason,
};
use stockwatch_domain::Timestamp;

/// Progress is reported after each chunk written.
const CHUNK: usize = 1 << 20;

pub struct LocalObjects {
    db: Db,
    bucket: PathBuf,
    staging: PathBuf,
    /// Loaders' holds the kernel releases when they die (lock files).
    locks: LoadLocks,
}

impl LocalObjects {
    pub fn new(db: Db, bucket: PathBuf, staging: PathBuf, locks: PathBuf) -> Self {
        let locks = LoadLocks::new(locks);
        LocalObjects {
            db,
            bucket,
            staging,
            locks,
        }
    }

    /// The file of a key. Keys are validated (no `..`, no absolute parts), so
    /// joining their segments cannot leave the bucket folder.
    pub fn path_of(&self, key: &ObjectKey) -> PathBuf {
        let mut path = self.bucket.clone();
        path.extend(key.segments());
        debug_assert!(path.starts_with(&self.bucket));
        path
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> PortError {
    let message = format!("cannot {what} {}: {e}", path.display());
    let kind = e.kind();
    // The file system's error stays underneath the sentence (`Error::source`).
    match kind {
        // Said as the database says it, whichever step found the disk full.
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            PortError::Permanent(Reason::because(super::db::disk_full(path), e))
        }
        std::io::ErrorKind::NotFound => PortError::NotFound(Reason::because(message, e)),
        std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            PortError::Transient(Reason::because(message, e))
        }
        _ => PortError::Permanent(Reason::because(message, e)),
    }
}

/// Copies to a staging file a chunk at a time, then renames: readers see
/// all of an object or none, and no file is ever held whole. A staging file
/// left by a failure (a full disk) is removed.
fn store_file(staging_dir: &Path, target: &Path, body: &Body, progress: Option<Progress>) -> PortResult<()> {
    let staged = tempfile_in(staging_dir)?;
    let stored = copy_to(&staged, body, progress).and_then(|()| {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("create the folder", parent, e))?;
        }
        std::fs::rename(&staged, target).map_err(|e| io_error("store", target, e))
    });
    if stored.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    stored
}

/// A kept copy is never readable by more people than its source, nor by
/// everyone: the source's group bits within `r--`, none for others (the
/// owner, this user, reads and replaces it).
#[cfg(unix)]
const KEPT_MODE_AT_MOST: u32 = 0o640;

fn copy_to(staged: &Path, body: &Body, progress: Option<Progress>) -> PortResult<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let source_mode = match body {
            Body::File(path) => std::fs::metadata(path).map_or(0, |m| m.permissions().mode()),
            Body::Bytes(_) => KEPT_MODE_AT_MOST,
        };
        options.mode(source_mode & KEPT_MODE_AT_MOST | 0o600);
    }
    let mut file = options.open(staged).map_err(|e| io_error("create", staged, e))?;
    let total = body.len().map_err(|e| io_error("read", staged, e))?;
    let mut source = body.open().map_err(|e| io_error("read", staged, e))?;
    let mut sent = 0u64;
    if let Some(report) = &progress {
        report(0, total);
    }
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let n = source.read(&mut buffer).map_err(|e| io_error("read", staged, e))?;
        if n == 0 {
            break;
        }
        file.write_all(&buffer[..n]).map_err(|e| io_error("write", staged, e))?;
        sent += n as u64;
        if let Some(report) = &progress {
            report(sent, total);
        }
    }
    file.sync_all().map_err(|e| io_error("flush", staged, e))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> PortResult<T> + Send + 'static) -> PortResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PortError::permanent(format!("a file task stopped unexpectedly: {e}")))?
}

fn tempfile_in(dir: &Path) -> PortResult<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| io_error("create the folder", dir, e))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(dir.join(format!("upload-{}-{nanos}", std::process::id())))
}

/// An `objects` row as read by `SELECT_OBJECT`.
struct Row {
    key: String,
    size: i64,
    uploaded_at: i64,
    status: String,
    report: Option<String>,
    as_of: Option<i64>,
    loading_until: Option<i64>,
    loading_by: Option<String>,
}

fn row_to_info(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        key: row.get(0)?,
        size: row.get(1)?,
        uploaded_at: row.get(2)?,
        status: row.get(3)?,
        report: row.get(4)?,
        as_of: row.get(5)?,
        loading_until: row.get(6)?,
        loading_by: row.get(7)?,
    })
}

/// An object's info; a load whose loader has ended (its lock file free) is
/// said to have stopped now, not when its lease would run out.
fn info_from(raw: Row, locks: &LoadLocks) -> PortResult<ObjectInfo> {
    let Row {
        key,
        size,
        uploaded_at,
        status,
        report,
        as_of,
        loading_until,
        loading_by,
    } = raw;
    let loading_until = match (loading_until, loading_by) {
        (Some(until), Some(holder)) if locks.ended(&holder) => Some(until.min(Timestamp::now().0 - 1)),
        (until, _) => until,
    };
    let report = match report {
        Some(json) => Some(
            serde_json::from_str::<LoadReport>(&json)
                .map_err(|e| PortError::permanent(format!("the stored report of {key} is unreadable: {e}")))?,
        ),
        None => None,
    };
    Ok(ObjectInfo {
        key: ObjectKey::parse(&key).map_err(PortError::permanent)?,
        size: size.max(0) as u64,
        uploaded_at: Timestamp(uploaded_at),
        as_of: as_of.map(Timestamp),
        status: ObjectStatus::parse(&status).unwrap_or(ObjectStatus::Received),
        loading_until: loading_until.map(Timestamp),
        report,
    })
}

const SELECT_OBJECT: &str =
    "SELECT key, size, uploaded_at, status, report, as_of, loading_until, loading_by FROM objects";

#[async_trait]
impl ObjectStore for LocalObjects {
    async fn put(
        &self,
        key: &ObjectKey,
        body: &Body,
        as_of: Option<Timestamp>,
        progress: Option<Progress>,
    ) -> PortResult<ObjectInfo> {
        if self.db.is_read_only() {
            return Err(self.db.read_only_error());
        }
        let target = self.path_of(key);
        let staging = self.staging.clone();
        let size = body.len().map_err(|e| io_error("read", &target, e))?;
        let body = body.clone();
        let stored = target.clone();
        blocking(move || store_file(&staging, &stored, &body, progress)).await?;
        let info = ObjectInfo {
            key: key.clone(),
            size,
            uploaded_at: Timestamp::now(),
            as_of,
            status: ObjectStatus::Received,
            loading_until: None,
            report: None,
        };
        let (k, size, at, as_of) = (
            key.as_str().to_string(),
            info.size as i64,
            info.uploaded_at.0,
            as_of.map(|t| t.0),
        );
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO objects (key, size, uploaded_at, status, report, as_of) VALUES (?1, ?2, ?3, 'received', NULL, ?4)
                     ON CONFLICT (key) DO UPDATE SET size = excluded.size, uploaded_at = excluded.uploaded_at,
                         status = 'received', report = NULL, as_of = excluded.as_of,
                         loading_by = NULL, loading_until = NULL",
                    rusqlite::params![k, size, at, as_of],
                )
                .db(tx)
            })
            .await
            .inspect_err(|_| {
                // Unrecorded, the file would sit in the bucket unseen by
                // every listing: the upload failed as a whole.
                let _ = std::fs::remove_file(&target);
            })?;
        Ok(info)
    }

    async fn get(&self, key: &ObjectKey) -> PortResult<Bytes> {
        let path = self.path_of(key);
        blocking(move || {
            std::fs::read(&path)
                .map(Bytes::from)
                .map_err(|e| io_error("read", &path, e))
        })
        .await
    }

    async fn fetch(&self, key: &ObjectKey) -> PortResult<Fetched> {
        let path = self.path_of(key);
        if !path.is_file() {
            return Err(PortError::not_found(format!("there is no object {key} in the bucket")));
        }
        Ok(Fetched::in_place(path))
    }

    async fn head(&self, key: &ObjectKey) -> PortResult<ObjectInfo> {
        let k = key.as_str().to_string();
        let raw = self
            .db
            .read(move |tx| {
                tx.query_row(&format!("{SELECT_OBJECT} WHERE key = ?1"), [&k], row_to_info)
                    .optional()
                    .db(tx)
            })
            .await?;
        match raw {
            Some(raw) => info_from(raw, &self.locks),
            None => Err(PortError::not_found(format!("there is no object {key} in the bucket"))),
        }
    }

    async fn set_report(&self, key: &ObjectKey, report: &LoadReport) -> PortResult<()> {
        let json = serde_json::to_string(report)
            .map_err(|e| PortError::permanent(format!("cannot encode the report: {e}")))?;
        let (k, status) = (key.as_str().to_string(), report.status.as_str());
        let updated = self
            .db
            .write(move |tx| {
                tx.execute(
                    "UPDATE objects SET status = ?2, report = ?3, loading_by = NULL, loading_until = NULL WHERE key = ?1",
                    rusqlite::params![k, status, json],
                )
                .db(tx)
            })
            .await?;
        if updated == 0 {
            return Err(PortError::not_found(format!("there is no object {key} in the bucket")));
        }
        Ok(())
    }

    async fn list(&self, page: Option<&PageToken>, limit: usize) -> PortResult<Page<ObjectInfo>> {
        let after = match page {
            Some(token) => {
                let (at, key) = token.object_place()?;
                Some((at.0, key.as_str().to_string()))
            }
            None => None,
        };
        let raws = self
            .db
            .read(move |tx| {
                let (at, key) = after.unwrap_or((i64::MAX, String::new()));
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "{SELECT_OBJECT} WHERE (uploaded_at < ?1 OR (uploaded_at = ?1 AND key < ?2))
                         ORDER BY uploaded_at DESC, key DESC LIMIT ?3"
                    ))
                    .db(tx)?;
                let rows = stmt
                    .query_map(rusqlite::params![at, key, limit as i64], row_to_info)
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        let items = raws
            .into_iter()
            .map(|raw| info_from(raw, &self.locks))
            .collect::<PortResult<Vec<_>>>()?;
        let next = (items.len() == limit && limit > 0)
            .then(|| items.last().map(PageToken::after_object))
            .flatten();
        Ok(Page { items, next })
    }

    async fn begin_load(&self, key: &ObjectKey, token: &str, lease: Duration) -> PortResult<bool> {
        if let Err(e) = self.locks.hold(token) {
            // Without it the lease alone decides, as on AWS.
            tracing::warn!(error = %e, "could not lock this loader's file; a stop is noticed after the lease");
        }
        let (k, token) = (key.as_str().to_string(), token.to_string());
        let now = Timestamp::now().0;
        let until = now.saturating_add(lease.as_millis() as i64);
        // A holder whose process ended (its lock released) holds nothing.
        let holder = {
            let k = k.clone();
            self.db
                .read(move |tx| {
                    tx.query_row(
                        "SELECT loading_by FROM objects WHERE key = ?1 AND loading_until >= ?2",
                        rusqlite::params![k, now],
                        |r| r.get::<_, Option<String>>(0),
                    )
                    .optional()
                    .db(tx)
                })
                .await?
                .flatten()
        };
        let ended = holder.filter(|h| *h != token && self.locks.ended(h));
        let taken = self
            .db
            .write(move |tx| {
                tx.execute(
                    "UPDATE objects SET loading_by = ?2, loading_until = ?3
                     WHERE key = ?1 AND status = 'received'
                       AND (loading_until IS NULL OR loading_until < ?4 OR loading_by = ?2 OR loading_by = ?5)",
                    rusqlite::params![k, token, until, now, ended],
                )
                .db(tx)
            })
            .await?;
        Ok(taken == 1)
    }

    async fn stalled(&self, before: Timestamp, limit: usize) -> PortResult<Vec<ObjectKey>> {
        let now = Timestamp::now().0;
        let keys: Vec<String> = self
            .db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT key FROM objects
                         WHERE status = 'received' AND uploaded_at < ?1 AND coalesce(loading_until, 0) < ?2
                         ORDER BY uploaded_at LIMIT ?3",
                    )
                    .db(tx)?;
                let rows = stmt
                    .query_map(rusqlite::params![before.0, now, limit as i64], |r| r.get(0))
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        // Held under a running lease by a loader whose process has ended:
        // stalled now, not when the lease runs out.
        let held: Vec<(String, String)> = self
            .db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT key, loading_by FROM objects
                         WHERE status = 'received' AND loading_by IS NOT NULL AND loading_until >= ?1
                         ORDER BY uploaded_at LIMIT 1000",
                    )
                    .db(tx)?;
                let rows = stmt
                    .query_map(rusqlite::params![now], |r| Ok((r.get(0)?, r.get(1)?)))
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        let mut keys = keys;
        for (key, holder) in held {
            if keys.len() < limit && !keys.contains(&key) && self.locks.ended(&holder) {
                keys.push(key);
            }
        }
        keys.iter()
            .map(|k| ObjectKey::parse(k).map_err(PortError::permanent))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn a_file_system_error_is_kept_under_the_sentence() {
        let path = Path::new("/data/bucket/uploads/a.csv");
        let error = io_error("read", path, std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(matches!(error, PortError::NotFound(_)), "{error:?}");
        assert!(
            error.to_string().starts_with("cannot read /data/bucket/uploads/a.csv"),
            "{error}"
        );
        let io = error.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(io.map(std::io::Error::kind), Some(std::io::ErrorKind::NotFound));
    }
}
