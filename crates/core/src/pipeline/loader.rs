//! The loader: keeps the uploaded bytes, validates them with the one import
//! module, and writes every row (or, for a rejected file, nothing).

use super::digest::{Hashing, sha256_of};
use super::keys::DiskKeys;
use crate::ports::RetryPolicy;
use crate::ports::{Body, LoadReport, ObjectKey, ObjectStatus, PortError, Ports, Progress, RowSink, WriteSummary};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use stockwatch_domain::import::{InventoryReader, NoKeys, ProblemLog, ReaderEnd, SeenKeys, Warning};
use stockwatch_domain::names::is_unsafe_for_terminal;
use stockwatch_domain::{InventoryRow, Timestamp, check_as_of};

/// The result of loading one object.
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    pub key: ObjectKey,
    pub report: LoadReport,
}

impl LoadOutcome {
    pub fn is_loaded(&self) -> bool {
        self.report.status == ObjectStatus::Loaded
    }
}

/// How long a loader holds an upload it loads before another may take it
/// over (it stopped): loads of millions of rows take seconds.
pub const LOAD_LEASE: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct Loader {
    ports: Ports,
    retry: RetryPolicy,
    elsewhere: Option<Duration>,
    lease: Duration,
    /// Who holds the uploads this loader loads.
    token: String,
}

impl Loader {
    pub fn new(ports: Ports) -> Self {
        Loader {
            ports,
            retry: RetryPolicy::default(),
            elsewhere: None,
            lease: LOAD_LEASE,
            token: format!("load-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// How long this loader holds an upload while loading it (shorter in
    /// tests that kill loaders).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Uploads are loaded by someone else (the S3-triggered function): this
    /// loader only stores them and waits up to `timeout` for their report.
    pub fn loaded_elsewhere(mut self, timeout: Duration) -> Self {
        self.elsewhere = Some(timeout);
        self
    }

    /// How this loader retries transient failures.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// How transient failures are retried, and who hears of each retry.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Stores a file in the bucket under a fresh key, then loads it. The
    /// as-of time is the upload time unless given.
    pub async fn upload(
        &self,
        file_name: &str,
        body: impl Into<Body>,
        as_of: Option<Timestamp>,
        progress: Option<Progress>,
    ) -> Result<LoadOutcome, PortError> {
        let body = body.into();
        if self.elsewhere.is_some() && as_of.is_some() {
            return Err(PortError::Invalid(
                "an as-of time needs this process to load the file; the deployed function loads with the upload time"
                    .into(),
            ));
        }
        if let Some(as_of) = as_of {
            check_as_of(as_of, Timestamp::now()).map_err(PortError::invalid)?;
        }
        let mut key = upload_key(file_name, Timestamp::now());
        if self.elsewhere.is_some() {
            key = visible_to_the_function(key);
        }
        let info = self
            .retry
            .run("upload", || {
                self.ports.objects.put(&key, &body, as_of, progress.clone())
            })
            .await?;
        if let Some(timeout) = self.elsewhere {
            return self.wait_for_report(&key, timeout).await;
        }
        // Held while loading: if this process stops, another resumes it.
        self.retry
            .run("hold the upload", || {
                self.ports.objects.begin_load(&key, &self.token, self.lease)
            })
            .await?;
        // The bytes loaded are the bytes kept: the kept object is read, not
        // the source again (which may have changed since it was copied).
        // Locally that is the bucket's own file; on S3 a download.
        let kept = self.retry.run("read", || self.ports.objects.fetch(&key)).await?;
        let outcome = self
            .load_body(
                &key,
                Body::File(kept.path.clone()),
                as_of.unwrap_or(info.uploaded_at),
                false,
            )
            .await;
        drop(kept);
        outcome
    }

    /// Loads the uploads whose loader stopped before it finished (a killed
    /// upload, console or function): each is taken for this loader's lease,
    /// loaded as its uploader would have, and its report says it was
    /// resumed. Loading twice changes nothing, so a race here is harmless.
    pub async fn resume_stalled(&self) -> Result<Vec<LoadOutcome>, PortError> {
        if self.elsewhere.is_some() {
            // The deployed function's uploads: its scheduled sweep resumes them.
            return Ok(Vec::new());
        }
        let before = Timestamp(Timestamp::now().0 - self.lease.as_millis() as i64);
        let mut resumed = Vec::new();
        // Twenty at a time, until none is left (or a sweep's worth is done).
        for _ in 0..50 {
            let stalled = self
                .retry
                .run("look for stopped loads", || self.ports.objects.stalled(before, 20))
                .await?;
            let mut taken = 0;
            for key in stalled {
                let mine = self
                    .retry
                    .run("hold the upload", || {
                        self.ports.objects.begin_load(&key, &self.token, self.lease)
                    })
                    .await?;
                if !mine {
                    continue;
                }
                taken += 1;
                tracing::warn!(key = %key, "loading an upload whose loader stopped");
                resumed.push(self.load_stored(&key, None, true).await?);
            }
            if taken == 0 {
                break;
            }
        }
        Ok(resumed)
    }

    /// Waits for the report another loader keeps beside the object.
    async fn wait_for_report(&self, key: &ObjectKey, timeout: Duration) -> Result<LoadOutcome, PortError> {
        let started = std::time::Instant::now();
        loop {
            let info = self
                .retry
                .run("read the report", || self.ports.objects.head(key))
                .await?;
            if let Some(report) = info.report.filter(|r| r.status != ObjectStatus::Received) {
                return Ok(LoadOutcome {
                    key: key.clone(),
                    report,
                });
            }
            if started.elapsed() >= timeout {
                return Err(PortError::transient(format!(
                    "{key} is uploaded, but no loader reported on it within {} s; is the load function deployed?",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Loads an object already in the bucket (an S3 event, a reload), as of
    /// `as_of`, else the time its uploader asked for, else its upload time.
    pub async fn load_object(&self, key: &ObjectKey, as_of: Option<Timestamp>) -> Result<LoadOutcome, PortError> {
        self.load_stored(key, as_of, false).await
    }

    async fn load_stored(
        &self,
        key: &ObjectKey,
        as_of: Option<Timestamp>,
        resumed: bool,
    ) -> Result<LoadOutcome, PortError> {
        let info = self.retry.run("read", || self.ports.objects.head(key)).await?;
        let fetched = self.retry.run("read", || self.ports.objects.fetch(key)).await?;
        let as_of = as_of.or(info.as_of).unwrap_or(info.uploaded_at);
        let outcome = self
            .load_body(key, Body::File(fetched.path.clone()), as_of, resumed)
            .await;
        drop(fetched);
        outcome
    }

    /// Validates and writes a file, a chunk of rows at a time, then keeps
    /// the report beside it. Where the table can undo a write (locally: one
    /// transaction), the file is read once, written as it is read, and a
    /// rejection undoes it; elsewhere (DynamoDB) it is read twice: checked
    /// whole first, written only if valid. Either way a rejected file writes
    /// nothing, and no file is ever held whole in memory.
    async fn load_body(
        &self,
        key: &ObjectKey,
        body: Body,
        as_of: Timestamp,
        resumed: bool,
    ) -> Result<LoadOutcome, PortError> {
        let started = std::time::Instant::now();
        let mut report = LoadReport {
            status: ObjectStatus::Loaded,
            as_of,
            rows: 0,
            stores: 0,
            write: WriteSummary::default(),
            warnings: Vec::new(),
            problems: Vec::new(),
            problem_count: 0,
            problem_kinds: Default::default(),
            failure: None,
            resumed,
            sha256: None,
            source_changed: false,
            loaded_at: Timestamp::now(),
        };
        let mut sink = Some(
            self.retry
                .run("start writing", || self.ports.table.begin(as_of, key))
                .await?,
        );
        let undoable = sink.as_ref().is_some_and(|s| s.undoable());
        let older = OlderPoints {
            ports: &self.ports,
            as_of,
            source: key,
            retry: &self.retry,
        };
        let read = if undoable {
            read_and_write(
                &body,
                Box::new(DiskKeys::default()),
                sink.as_mut(),
                &older,
                &mut report.write,
            )
            .await?
        } else {
            let checked = read_and_write(&body, Box::new(DiskKeys::default()), None, &older, &mut report.write).await?;
            if checked.problems.is_empty() {
                read_and_write(&body, Box::new(NoKeys), sink.as_mut(), &older, &mut report.write).await?
            } else {
                checked
            }
        };
        report.rows = read.rows_read;
        report.stores = read.stores as u64;
        report.warnings = read.warnings;
        report.sha256 = read.sha256;
        let sink = sink.take().expect("the sink is used only above");
        if !read.problems.is_empty() {
            sink.abandon().await;
            report.status = ObjectStatus::Rejected;
            report.write = WriteSummary::default();
            report.problem_count = read.problems.total;
            report.problem_kinds = read.problems.by_kind;
            report.problems = read.problems.shown;
            tracing::info!(key = %key, problems = report.problem_count, "rejected");
        } else if let Some(e) = read.write_error {
            sink.abandon().await;
            report.status = ObjectStatus::Failed;
            report.failure = Some(e.to_string());
        } else {
            if let Err(e) = sink.commit().await {
                report.status = ObjectStatus::Failed;
                report.failure = Some(e.to_string());
                report.write = WriteSummary::default();
            } else if !report.write.failed.is_empty() {
                report.status = ObjectStatus::Failed;
                report.failure = Some(format!("{} rows could not be written", report.write.failed.len()));
            }
            tracing::info!(key = %key, status = report.status.as_str(), rows = report.rows, elapsed = ?started.elapsed(), "loaded");
        }
        report.loaded_at = Timestamp::now();
        self.retry
            .run("record the report", || self.ports.objects.set_report(key, &report))
            .await?;
        Ok(LoadOutcome {
            key: key.clone(),
            report,
        })
    }
}

/// Where the rows a sink found older than the table's go: the history keeps
/// every snapshot, the table only the newest (sinks that keep them in their
/// own transaction hand none).
struct OlderPoints<'a> {
    ports: &'a Ports,
    as_of: Timestamp,
    source: &'a ObjectKey,
    retry: &'a RetryPolicy,
}

impl OlderPoints<'_> {
    async fn keep(&self, rows: &[InventoryRow]) -> Result<(), PortError> {
        if rows.is_empty() {
            return Ok(());
        }
        let kept = self
            .retry
            .run("record older snapshots in the history", || {
                self.ports.history.record_older(rows, self.as_of, self.source)
            })
            .await;
        match kept {
            // A history that is not there (a stack from before it) or
            // refuses for good: the table's rows stand, said in the log.
            Err(e) if !e.is_transient() => {
                tracing::warn!(error = %e, rows = rows.len(), "older snapshots not kept in the history");
                Ok(())
            }
            other => other,
        }
    }
}

/// Rows handed from the reading thread to the writer at a time.
const CHUNK_ROWS: usize = 10_000;

/// What a read of a file found (and a write, if it wrote).
struct Read {
    problems: ProblemLog,
    warnings: Vec<Warning>,
    stores: usize,
    rows_read: u64,
    /// The write failed part way: what was written is undone where it can be.
    write_error: Option<PortError>,
    /// The SHA-256 of the bytes read.
    sha256: Option<String>,
}

enum Piece {
    Rows(Vec<InventoryRow>),
    End(ReaderEnd, ProblemLog, Option<String>),
}

/// Reads `body` on a blocking thread and, with a `sink`, writes its rows as
/// they come until a problem shows (what comes after it is only checked).
async fn read_and_write(
    body: &Body,
    keys: Box<dyn SeenKeys>,
    mut sink: Option<&mut Box<dyn RowSink>>,
    older: &OlderPoints<'_>,
    written: &mut WriteSummary,
) -> Result<Read, PortError> {
    let input = body
        .open()
        .map_err(|e| PortError::permanent(format!("the file cannot be read: {e}")))?;
    let want_rows = sink.is_some();
    let (input, digest) = Hashing::new(input);
    let whole = body.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Piece>(2);
    let reading = tokio::task::spawn_blocking(move || {
        let mut reader = InventoryReader::with_keys(input, keys);
        let mut problems = ProblemLog::default();
        let mut chunk = Vec::with_capacity(if want_rows { CHUNK_ROWS } else { 0 });
        while let Some(record) = reader.next_record() {
            match record {
                Ok(row) if want_rows && problems.is_empty() => {
                    chunk.push(row);
                    if chunk.len() == CHUNK_ROWS && tx.blocking_send(Piece::Rows(std::mem::take(&mut chunk))).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(found) => {
                    chunk.clear();
                    found.into_iter().for_each(|p| problems.push(p));
                }
            }
        }
        if !chunk.is_empty() && problems.is_empty() && tx.blocking_send(Piece::Rows(chunk)).is_err() {
            return;
        }
        let end = reader.finish();
        // A read that stopped early (an unusable header) hashes the whole
        // body again: the report names every byte that was kept.
        let sha256 = digest.finish().or_else(|| whole.open().and_then(sha256_of).ok());
        let _ = tx.blocking_send(Piece::End(end, problems, sha256));
    });
    let mut write_error = None;
    let mut end = None;
    while let Some(piece) = rx.recv().await {
        match piece {
            Piece::Rows(rows) => {
                if let (Some(sink), None) = (sink.as_mut(), &write_error) {
                    match sink.write(rows).await {
                        Ok(mut summary) => {
                            let rows = std::mem::take(&mut summary.older_rows);
                            written.add(summary);
                            if let Err(e) = older.keep(&rows).await {
                                write_error = Some(e);
                            }
                        }
                        Err(e) => write_error = Some(e),
                    }
                }
            }
            Piece::End(reader_end, problems, sha256) => end = Some((reader_end, problems, sha256)),
        }
    }
    reading
        .await
        .map_err(|e| PortError::permanent(format!("the import task stopped unexpectedly: {e}")))?;
    let (reader_end, mut problems, sha256) =
        end.ok_or_else(|| PortError::Permanent("the import task stopped before the end of the file".into()))?;
    problems.absorb(reader_end.problems);
    problems.trim();
    written.failed.sort_by_key(|f| f.line);
    Ok(Read {
        problems,
        warnings: reader_end.warnings,
        stores: reader_end.stores,
        rows_read: reader_end.rows_read,
        write_error,
        sha256,
    })
}

/// `uploads/20261126-222433.123-1f2a001/inventory-berlin.csv`: sorted by time,
/// unique per upload, ending in the name the operator knows.
pub fn upload_key(file_name: &str, at: Timestamp) -> ObjectKey {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let name = key_safe_name(file_name.rsplit('/').next().unwrap_or(file_name));
    let name = if ObjectKey::parse(&name).is_ok() {
        name
    } else {
        "upload.csv".to_string()
    };
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0xfff;
    let unique = format!("{:x}{sequence:03x}", std::process::id());
    let key = format!("uploads/{}-{unique}/{name}", at.to_compact());
    ObjectKey::parse(&key).unwrap_or_else(|_| ObjectKey::parse("uploads/upload.csv").expect("a valid key"))
}

/// A file name as an upload key keeps it. A backslash is a letter in a Unix
/// file name but a separator to many tools: kept readable as `_`, like
/// characters no terminal may show.
pub fn key_safe_name(name: &str) -> String {
    name.chars()
        .map(|c| if c == '\\' || is_unsafe_for_terminal(c) { '_' } else { c })
        .collect()
}

/// The deployed function hears only of keys ending in `.csv` or `.CSV` (the
/// bucket notification's filter, deploy/template.yaml): any other name would
/// leave the upload waiting for a report that never comes.
fn visible_to_the_function(key: ObjectKey) -> ObjectKey {
    let name = key.as_str();
    if name.ends_with(".csv") || name.ends_with(".CSV") {
        return key;
    }
    ObjectKey::parse(&format!("{name}.csv")).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_keys_keep_the_file_name_and_stay_inside_the_bucket() {
        let at = Timestamp::parse_rfc3339("2026-11-26T22:24:33.123Z").unwrap();
        let key = upload_key("samples/inventory-berlin.csv", at);
        assert!(key.as_str().starts_with("uploads/20261126-222433.123-"), "{key}");
        assert_eq!(key.file_name(), "inventory-berlin.csv");
        assert_eq!(upload_key("..", at).file_name(), "upload.csv");
        assert_eq!(upload_key("a\u{1b}b.csv", at).file_name(), "a_b.csv");
        assert_eq!(upload_key("back\\slash.csv", at).file_name(), "back_slash.csv");
        assert_eq!(upload_key("a\u{9b}\u{202e}b.csv", at).file_name(), "a__b.csv");
        assert_ne!(upload_key("x.csv", at), upload_key("x.csv", at));
    }

    #[test]
    fn uploads_for_the_function_end_in_csv() {
        let key = |k: &str| {
            visible_to_the_function(ObjectKey::parse(k).unwrap())
                .as_str()
                .to_string()
        };
        assert_eq!(key("uploads/1/berlin.csv"), "uploads/1/berlin.csv");
        assert_eq!(key("uploads/1/BERLIN.CSV"), "uploads/1/BERLIN.CSV");
        assert_eq!(key("uploads/1/berlin.txt"), "uploads/1/berlin.txt.csv");
        assert_eq!(key("uploads/1/berlin"), "uploads/1/berlin.csv");
    }
}
