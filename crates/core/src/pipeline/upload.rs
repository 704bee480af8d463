//! One upload, as every front end does it: a local file is read, stored in
//! the bucket and loaded (or left to the deployed function), its alerts are
//! raised when this process checks, and the alerts its rows raised, whoever
//! raised them, are listed.

use super::{CheckReport, Checker, LoadOutcome, Loader};
use crate::ports::{AlertFilter, Body, PortError, Ports, Progress};
use std::path::Path;
use stockwatch_domain::{Alert, AlertKind, Timestamp};

/// Alerts of one upload kept whole; past it, only counted (a file of a
/// million stores out of stock raises a million alerts).
pub const KEPT_ALERTS: usize = 1000;

/// The alerts an upload's rows raised, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertCounts {
    pub total: u64,
    pub out: u64,
    pub low: u64,
    pub soon: u64,
    /// Not sent (yet): LOW and SOON unless notified, snoozed, or waiting.
    pub unsent: u64,
}

/// What uploading one file did.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub outcome: LoadOutcome,
    /// The first `KEPT_ALERTS` alerts its rows raised, oldest first (empty
    /// unless it loaded and alerts were checked); `counts` counts them all.
    pub alerts: Vec<Alert>,
    pub counts: AlertCounts,
    /// What this process's checker did after the load (it may also have
    /// sent claims a stopped checker left behind), when it ran.
    pub check: Option<CheckReport>,
    /// The checker failed after the load (which stands): its alerts are
    /// raised by the next check, here or elsewhere; `alerts` lists those
    /// raised before it stopped.
    pub check_error: Option<PortError>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The local file could not be read: nothing reached the bucket.
    #[error("cannot read {path}: {reason}; nothing was uploaded for it")]
    Unreadable { path: String, reason: String },
    /// The backend failed (after retries).
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Uploads files with one loader and, when this process raises alerts,
/// one checker.
#[derive(Clone)]
pub struct UploadFlow {
    ports: Ports,
    loader: Loader,
    checker: Option<Checker>,
}

impl UploadFlow {
    /// `checker`: run after each load so its alerts are raised at once;
    /// `None` leaves them to another process (`--no-check`, a stack).
    pub fn new(ports: Ports, loader: Loader, checker: Option<Checker>) -> UploadFlow {
        UploadFlow { ports, loader, checker }
    }

    /// Stores, loads and checks one local file. The as-of time is the
    /// upload time unless given.
    pub async fn upload_file(
        &self,
        path: &Path,
        as_of: Option<Timestamp>,
        progress: Option<Progress>,
    ) -> Result<Uploaded, UploadError> {
        let (body, before) = read_regular_file(path).await?;
        let name = path
            .file_name()
            .map_or_else(|| "upload.csv".into(), |n| n.to_string_lossy().into_owned());
        let mut outcome = self.loader.upload(&name, body, as_of, progress).await?;
        if SourceFingerprint::of(path).ok() != Some(before) {
            // What was kept is what was loaded; the file now holds something
            // else (or is gone). Said in the report, kept with the object.
            tracing::warn!(key = %outcome.key, path = %path.display(), "the file changed while it was uploaded");
            outcome.report.source_changed = true;
            let (objects, key, report) = (&self.ports.objects, &outcome.key, &outcome.report);
            self.loader
                .retry()
                .run("record the report", || objects.set_report(key, report))
                .await?;
        }
        let mut uploaded = Uploaded {
            outcome,
            alerts: Vec::new(),
            counts: AlertCounts::default(),
            check: None,
            check_error: None,
        };
        if let (true, Some(checker)) = (uploaded.outcome.is_loaded(), &self.checker) {
            let checked = async {
                let report = checker.run_once().await?;
                Ok::<_, PortError>((report, self.alerts_of(&uploaded.outcome).await?))
            };
            match checked.await {
                Ok((report, (alerts, counts))) => {
                    uploaded.check = Some(report);
                    (uploaded.alerts, uploaded.counts) = (alerts, counts);
                }
                Err(e) => {
                    // The load stands: what the check raised before it
                    // stopped is listed (a full disk still reads).
                    if let Ok((alerts, counts)) = self.alerts_of(&uploaded.outcome).await {
                        (uploaded.alerts, uploaded.counts) = (alerts, counts);
                    }
                    uploaded.check_error = Some(e);
                }
            }
        }
        Ok(uploaded)
    }

    /// The loader the uploads go through.
    pub fn loader(&self) -> &Loader {
        &self.loader
    }

    /// Loads uploads whose loader stopped before finishing (`Loader::resume_stalled`).
    pub async fn resume_stalled(&self) -> Result<Vec<LoadOutcome>, PortError> {
        self.loader.resume_stalled().await
    }

    /// The alerts raised by an upload's rows, whoever's checker claimed
    /// them: the first `KEPT_ALERTS`, oldest first (as the file reads),
    /// and all of them counted, read a page at a time.
    pub async fn alerts_of(&self, outcome: &LoadOutcome) -> Result<(Vec<Alert>, AlertCounts), PortError> {
        let filter = AlertFilter {
            include_resolved: true,
            source: Some(outcome.key.as_str().to_string()),
            state: None,
        };
        let mut counts = AlertCounts::default();
        // Newest first: the oldest are the last `KEPT_ALERTS` read.
        let mut oldest = std::collections::VecDeque::with_capacity(KEPT_ALERTS);
        let mut page = None;
        loop {
            let read = self.ports.ledger.list(&filter, page.as_ref(), 500).await?;
            for alert in read.items {
                counts.total += 1;
                match alert.kind {
                    AlertKind::Out => counts.out += 1,
                    AlertKind::Low => counts.low += 1,
                    AlertKind::Soon => counts.soon += 1,
                }
                counts.unsent += u64::from(alert.published_at.is_none());
                if oldest.len() == KEPT_ALERTS {
                    oldest.pop_front();
                }
                oldest.push_back(alert);
            }
            match read.next {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        let mut alerts: Vec<Alert> = oldest.into();
        alerts.reverse();
        Ok((alerts, counts))
    }
}

/// What says a file is still the one that was opened: the same inode, size
/// and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceFingerprint {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl SourceFingerprint {
    fn of(path: &Path) -> std::io::Result<SourceFingerprint> {
        Ok(SourceFingerprint::from(&std::fs::metadata(path)?))
    }

    fn from(metadata: &std::fs::Metadata) -> SourceFingerprint {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        SourceFingerprint {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            inode: (metadata.dev(), metadata.ino()),
        }
    }
}

/// The file to upload, if it is a regular file: a FIFO would block and a
/// device (/dev/zero) never ends. Checked before a byte is read; the file
/// is then read in pieces, never whole.
async fn read_regular_file(path: &Path) -> Result<(Body, SourceFingerprint), UploadError> {
    let unreadable = |reason: String| UploadError::Unreadable {
        path: path.display().to_string(),
        reason,
    };
    let metadata = tokio::fs::metadata(path).await.map_err(|e| unreadable(e.to_string()))?;
    if !metadata.is_file() {
        return Err(unreadable(
            "it is not a regular file (a pipe, a device or a folder); upload a file".into(),
        ));
    }
    // Openable now: say so here, not half way through.
    std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    Ok((Body::File(path.to_path_buf()), SourceFingerprint::from(&metadata)))
}
