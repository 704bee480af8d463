//! The loader: keeps the uploaded bytes, validates them with the one import
//! module, and writes every row (or, for a rejected file, nothing).

use crate::domain::{Timestamp, check_as_of, import};
use crate::ports::RetryPolicy;
use crate::ports::{LoadReport, ObjectKey, ObjectStatus, PortError, Ports, Progress, Snapshot, WriteSummary};
use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

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
        body: Bytes,
        as_of: Option<Timestamp>,
        progress: Option<Progress>,
    ) -> Result<LoadOutcome, PortError> {
        if self.elsewhere.is_some() && as_of.is_some() {
            return Err(PortError::Invalid(
                "an as-of time needs this process to load the file; the deployed function loads with the upload time"
                    .into(),
            ));
        }
        if let Some(as_of) = as_of {
            check_as_of(as_of, Timestamp::now()).map_err(PortError::Invalid)?;
        }
        let mut key = upload_key(file_name, Timestamp::now());
        if self.elsewhere.is_some() {
            key = visible_to_the_function(key);
        }
        let info = self
            .retry
            .run("upload", || {
                self.ports.objects.put(&key, body.clone(), as_of, progress.clone())
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
        self.load_bytes(&key, body, as_of.unwrap_or(info.uploaded_at), false)
            .await
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
                let info = self.retry.run("read", || self.ports.objects.head(&key)).await?;
                let body = self.retry.run("read", || self.ports.objects.get(&key)).await?;
                let as_of = info.as_of.unwrap_or(info.uploaded_at);
                resumed.push(self.load_bytes(&key, body, as_of, true).await?);
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
                return Err(PortError::Transient(format!(
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
        let info = self.retry.run("read", || self.ports.objects.head(key)).await?;
        let body = self.retry.run("read", || self.ports.objects.get(key)).await?;
        let as_of = as_of.or(info.as_of).unwrap_or(info.uploaded_at);
        self.load_bytes(key, body, as_of, false).await
    }

    async fn load_bytes(
        &self,
        key: &ObjectKey,
        body: Bytes,
        as_of: Timestamp,
        resumed: bool,
    ) -> Result<LoadOutcome, PortError> {
        // Parsing a big file takes a while: keep it off the async threads.
        let started = std::time::Instant::now();
        let imported = tokio::task::spawn_blocking(move || import(&body))
            .await
            .map_err(|e| PortError::Permanent(format!("the import task stopped unexpectedly: {e}")))?;
        tracing::debug!(key = %key, elapsed = ?started.elapsed(), "imported");
        let mut report = LoadReport {
            status: ObjectStatus::Loaded,
            as_of,
            rows: 0,
            stores: 0,
            write: WriteSummary::default(),
            warnings: Vec::new(),
            problems: Vec::new(),
            failure: None,
            resumed,
            loaded_at: Timestamp::now(),
        };
        match imported {
            Err(rejected) => {
                report.status = ObjectStatus::Rejected;
                report.rows = rejected.rows_read;
                report.problems = rejected.problems;
                report.warnings = rejected.warnings;
                tracing::info!(key = %key, problems = report.problems.len(), "rejected");
            }
            Ok(accepted) => {
                report.rows = accepted.rows.len() as u64;
                report.stores = accepted.stores as u64;
                report.warnings = accepted.warnings;
                let snapshot = Snapshot {
                    rows: Arc::new(accepted.rows),
                    as_of,
                    source: key.clone(),
                };
                let started = std::time::Instant::now();
                let written = self
                    .retry
                    .run("write", || self.ports.table.write(snapshot.clone()))
                    .await;
                tracing::debug!(key = %key, elapsed = ?started.elapsed(), "written");
                match written {
                    Ok(summary) => {
                        if !summary.failed.is_empty() {
                            report.status = ObjectStatus::Failed;
                            report.failure = Some(format!("{} rows could not be written", summary.failed.len()));
                        }
                        report.write = summary;
                    }
                    Err(e) => {
                        report.status = ObjectStatus::Failed;
                        report.failure = Some(e.to_string());
                    }
                }
                tracing::info!(key = %key, status = report.status.as_str(), rows = report.rows, "loaded");
            }
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

/// `uploads/20261126-222433.123-1f2a001/inventory-berlin.csv`: sorted by time,
/// unique per upload, ending in the name the operator knows.
pub fn upload_key(file_name: &str, at: Timestamp) -> ObjectKey {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let name: String = name.chars().map(|c| if c.is_control() { '_' } else { c }).collect();
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
