//! Performing what `update` asks for: each effect becomes a background job
//! (acknowledging, listing a directory, previewing or uploading a file)
//! whose result comes back as a message. Listings and previews carry the
//! ticket they were asked with (see `latest`): a superseded one delivers
//! nothing, and a preview stops at its next step. Quitting and repainting
//! are the run loop's own.

use super::files::listing::list_dir;
use super::files::pane::TransferResult;
use super::latest::Ticket;
use super::messages::{Effect, Msg};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stockwatch_core::app::{AppError, Operations, SnoozeTarget};
use stockwatch_core::pipeline::UploadFlow;
use stockwatch_core::ports::{AlertFilter, ObjectStatus, Progress};
use stockwatch_domain::preview::{Preview, Previewer, Verdict};
use stockwatch_domain::{AlertId, Problem, Thresholds, Timestamp};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

const UPLOADS_AT_ONCE: usize = 2;
/// How long a message stays in the status bar.
const MESSAGE_SHOWN: std::time::Duration = std::time::Duration::from_secs(6);
/// Rows of a previewed file shown before the rest is checked.
const PREVIEW_ROWS: usize = 200;
/// Rows a preview checks between looks at its ticket.
const PREVIEW_STEP: usize = 100_000;

/// What performing effects needs, and the uploads under way.
pub struct Effects {
    ops: Operations,
    /// Who acknowledges.
    operator: String,
    thresholds: Thresholds,
    uploads: UploadFlow,
    /// Where the file pane remembers its directory.
    last_dir_file: Option<PathBuf>,
    tx: UnboundedSender<Msg>,
    /// Running uploads by transfer id, to cancel them.
    transfers: HashMap<u64, AbortHandle>,
    /// A few uploads at a time; the rest wait their turn.
    upload_slots: Arc<Semaphore>,
}

impl Effects {
    pub fn new(
        ops: Operations,
        operator: String,
        thresholds: Thresholds,
        uploads: UploadFlow,
        last_dir_file: Option<PathBuf>,
        tx: UnboundedSender<Msg>,
    ) -> Effects {
        Effects {
            ops,
            operator,
            thresholds,
            uploads,
            last_dir_file,
            tx,
            transfers: HashMap::new(),
            upload_slots: Arc::new(Semaphore::new(UPLOADS_AT_ONCE)),
        }
    }

    /// Starts the job an effect asks for; returns at once.
    pub fn perform(&mut self, effect: Effect) {
        let tx = self.tx.clone();
        match effect {
            // The run loop's own.
            Effect::Quit | Effect::Repaint | Effect::Bell | Effect::Suspend => {}
            Effect::Acknowledge { ids, note } => {
                tokio::spawn(acknowledge(self.ops.clone(), ids, note, self.operator.clone(), tx));
            }
            Effect::Unacknowledge(id) => {
                let ops = self.ops.clone();
                tokio::spawn(async move {
                    let done = ops.unacknowledge(id, Timestamp::now()).await;
                    let _ = tx.send(Msg::Reopened(done.map_err(|e| format!("#{id}: {e}"))));
                });
            }
            Effect::LoadAlerts => {
                tokio::spawn(load_alerts(self.ops.clone(), tx));
            }
            Effect::ReadHistory(items) => {
                tokio::spawn(read_history(self.ops.clone(), items, tx));
            }
            Effect::Snooze { store, item, duration } => {
                tokio::spawn(snooze(
                    self.ops.clone(),
                    store,
                    item,
                    duration,
                    self.operator.clone(),
                    tx,
                ));
            }
            Effect::ExpireMessage(serial) => {
                tokio::spawn(async move {
                    tokio::time::sleep(MESSAGE_SHOWN).await;
                    let _ = tx.send(Msg::MessageExpired(serial));
                });
            }
            Effect::List { dir, ticket } => {
                let remember = self.last_dir_file.clone();
                tokio::task::spawn_blocking(move || list(&dir, ticket, remember.as_deref(), &tx));
            }
            Effect::Preview { path, ticket } => {
                let thresholds = self.thresholds.clone();
                tokio::task::spawn_blocking(move || preview(path, thresholds, ticket, tx));
            }
            Effect::Upload(files) => {
                for (id, path) in files {
                    let job = upload(self.uploads.clone(), self.upload_slots.clone(), id, path, tx.clone());
                    self.transfers.insert(id, tokio::spawn(job).abort_handle());
                }
            }
            Effect::Cancel(id) => {
                if let Some(handle) = self.transfers.remove(&id) {
                    handle.abort();
                    let result = TransferResult::Cancelled;
                    let _ = tx.send(Msg::TransferDone { id, result });
                }
            }
        }
    }
}

/// Acknowledges each alert; one message says what came of all of them.
async fn acknowledge(ops: Operations, ids: Vec<AlertId>, note: Option<String>, by: String, tx: UnboundedSender<Msg>) {
    let outcome = ops.acknowledge_all(&ids, &by, note.as_deref(), Timestamp::now()).await;
    let failed = outcome.failed.iter().map(|(id, e)| format!("#{id}: {e}")).collect();
    let _ = tx.send(Msg::Acknowledged {
        done: outcome.done,
        failed,
    });
}

/// Snoozes an item or a store, then says so and sends the snoozes as they are now.
async fn snooze(
    ops: Operations,
    store: String,
    item: Option<String>,
    duration: std::time::Duration,
    by: String,
    tx: UnboundedSender<Msg>,
) {
    let target = SnoozeTarget::Store { store, item };
    let done = async {
        let snooze = ops.snooze(&target, duration, &by, None, Timestamp::now()).await?;
        Ok::<_, AppError>((snooze, ops.snoozes(Timestamp::now()).await?))
    };
    match done.await {
        Ok((snooze, snoozes)) => {
            let _ = tx.send(Msg::Snoozes(snoozes));
            let _ = tx.send(Msg::Said(format!(
                "snoozed {} until {}: its new alerts are not notified",
                snooze.target(),
                snooze.until.to_display()
            )));
        }
        Err(e) => {
            let _ = tx.send(Msg::LedgerError(format!("could not snooze: {e}")));
        }
    }
}

/// Every alert, resolved ones too, for the history view.
async fn load_alerts(ops: Operations, tx: UnboundedSender<Msg>) {
    let filter = AlertFilter {
        include_resolved: true,
        ..Default::default()
    };
    let _ = tx.send(match ops.alerts(&filter).await {
        Ok(alerts) => Msg::AlertsLoaded(alerts),
        Err(e) => Msg::LedgerError(format!("could not read the alert history: {e}")),
    });
}

/// Reads items' histories far enough back for trends and forecasts.
async fn read_history(ops: Operations, items: Vec<(String, String)>, tx: UnboundedSender<Msg>) {
    let since = Timestamp(Timestamp::now().0 - stockwatch_core::pipeline::forecasts::READ_BACK_MS);
    let _ = tx.send(match ops.histories(&items, since).await {
        Ok(points) => Msg::History(items.into_iter().zip(points).collect()),
        // Kept as asked: trends stay blank rather than asking again and again.
        Err(e) => Msg::Said(format!("could not read the items' history (trends, days left): {e}")),
    });
}

/// Lists a directory and, if it can be read, remembers it for the next
/// console. Blocking: runs on a worker thread.
fn list(dir: &Path, ticket: Ticket, remember: Option<&Path>, tx: &UnboundedSender<Msg>) {
    let listing = list_dir(dir);
    // A superseded listing must not overwrite the directory asked for after it.
    if !ticket.is_current() {
        return;
    }
    if let (None, Some(file)) = (&listing.error, remember) {
        let _ = std::fs::write(file, listing.dir.to_string_lossy().as_bytes());
    }
    let _ = tx.send(Msg::Listed { listing, ticket });
}

/// Previews a file: its first rows at once, then the whole file checked.
/// Stops, sending nothing more, once its ticket is stale (another file
/// selected). Blocking: runs on a worker thread.
fn preview(path: PathBuf, thresholds: Thresholds, ticket: Ticket, tx: UnboundedSender<Msg>) {
    let send = |preview: &Preview| {
        let msg = Msg::Previewed {
            path: path.clone(),
            preview: Box::new(preview.clone()),
            ticket: ticket.clone(),
        };
        ticket.is_current() && tx.send(msg).is_ok()
    };
    // Only regular files: a FIFO or a link to /dev/zero would block or never end.
    let file = match regular_file(&path).and_then(|()| std::fs::File::open(&path)) {
        Ok(file) => file,
        Err(e) => {
            let failed = Preview {
                verdict: Verdict::WouldBeRejected { problems: 1 },
                problems: vec![Problem::unreadable(&e.to_string())],
                ..Preview::default()
            };
            send(&failed);
            return;
        }
    };
    let mut previewer = Previewer::with_keys(
        std::io::BufReader::new(file),
        Box::new(stockwatch_core::pipeline::keys::DiskKeys::default()),
        thresholds,
        PREVIEW_ROWS,
    );
    let mut more = previewer.step(PREVIEW_ROWS + 1);
    if !send(previewer.preview()) {
        return;
    }
    while more {
        if !ticket.is_current() {
            return;
        }
        more = previewer.step(PREVIEW_STEP);
    }
    send(previewer.preview());
}

/// Fails unless `path` is a regular file (after following links).
fn regular_file(path: &Path) -> std::io::Result<()> {
    if std::fs::metadata(path)?.is_file() {
        Ok(())
    } else {
        Err(std::io::Error::other("not a regular file"))
    }
}

/// Uploads and loads one file, reporting progress, then what it did.
async fn upload(flow: UploadFlow, slots: Arc<Semaphore>, id: u64, path: PathBuf, tx: UnboundedSender<Msg>) {
    let Ok(_slot) = slots.acquire_owned().await else { return };
    let progress_tx = tx.clone();
    let progress: Progress = Arc::new(move |sent, total| {
        let _ = progress_tx.send(Msg::TransferProgress { id, sent, total });
    });
    let result = match flow.upload_file(&path, None, Some(progress)).await {
        Err(e) => TransferResult::Failed(e.to_string()),
        Ok(uploaded) => {
            let report = &uploaded.outcome.report;
            match report.status {
                ObjectStatus::Loaded => TransferResult::Loaded {
                    rows: report.rows,
                    changed: report.write.changed,
                    alerts: uploaded.counts.total as usize,
                    source_changed: report.source_changed,
                },
                ObjectStatus::Rejected => TransferResult::Rejected {
                    problems: report.problems_in_all() as usize,
                    first: report.problems.iter().take(5).map(|p| p.to_string()).collect(),
                },
                _ => TransferResult::Failed(
                    report
                        .failure
                        .clone()
                        .unwrap_or_else(|| "the load did not finish".into()),
                ),
            }
        }
    };
    let _ = tx.send(Msg::TransferDone { id, result });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latest::Latest;
    use tokio::sync::mpsc::unbounded_channel;

    fn received(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>) -> Vec<Msg> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn a_device_is_not_previewed_and_does_not_hang() {
        let (tx, mut rx) = unbounded_channel();
        // /dev/zero never ends: reading it would spin the preview forever.
        preview(
            PathBuf::from("/dev/zero"),
            Thresholds::default(),
            Latest::new().issue(),
            tx,
        );
        let Ok(Msg::Previewed { preview, .. }) = rx.try_recv() else {
            panic!("a preview message")
        };
        assert!(
            preview.problems[0].message.contains("not a regular file"),
            "{preview:?}"
        );
    }

    #[test]
    fn a_preview_sends_its_first_rows_then_the_whole_file_unless_superseded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        let rows: String = (0..1000).map(|i| format!("Berlin,Item {i},{}\n", i % 7)).collect();
        std::fs::write(&path, format!("store,item,count\n{rows}")).unwrap();
        let previews = Latest::new();
        let (tx, mut rx) = unbounded_channel();
        preview(path.clone(), Thresholds::default(), previews.issue(), tx.clone());
        let verdicts: Vec<Verdict> = received(&mut rx)
            .into_iter()
            .map(|m| match m {
                Msg::Previewed { preview, .. } => preview.verdict,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(verdicts, [Verdict::Checking, Verdict::WouldLoad]);

        let stale = previews.issue();
        let _newer = previews.issue();
        preview(path, Thresholds::default(), stale, tx);
        assert!(received(&mut rx).is_empty(), "a superseded preview sends nothing");
    }

    #[test]
    fn a_superseded_listing_is_neither_sent_nor_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let remember = dir.path().join("last-dir");
        let listings = Latest::new();
        let (tx, mut rx) = unbounded_channel();
        let stale = listings.issue();
        let current = listings.issue();
        list(dir.path(), stale, Some(&remember), &tx);
        assert!(received(&mut rx).is_empty());
        assert!(!remember.exists(), "the directory asked for after it stays remembered");
        list(dir.path(), current, Some(&remember), &tx);
        assert!(matches!(received(&mut rx).as_slice(), [Msg::Listed { .. }]));
        assert_eq!(
            std::fs::read_to_string(&remember).unwrap(),
            dir.path().to_string_lossy()
        );
    }
}
