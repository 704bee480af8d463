//! The console's runtime: the terminal, and the tasks that feed one channel.
//! Input (a thread reading the terminal), the change feed, the alert ledger,
//! the in-console checker and a clock each send messages; the loop applies
//! them with `update` and draws only when something changed.

use super::app::App;
use super::files::pane::TransferResult;
use super::keymap::Keymap;
use super::latest::Ticket;
use super::live_stock::LiveStock;
use super::messages::{Effect, Msg};
use super::theme::Theme;
use super::update::update;
use super::view::view;
use crate::domain::{Acknowledgement, AlertId, Thresholds, Timestamp};
use crate::pipeline::{Checker, UploadFlow};
use crate::ports::{AlertFilter, PortError, Ports, StockFilter};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::{execute, terminal};
use ratatui::{Terminal, backend::CrosstermBackend};
use std::collections::HashMap;
use std::io::Stdout;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// How often the feed is asked for changes: a change shows within a second.
const FEED_POLL: Duration = Duration::from_millis(250);
const LEDGER_POLL: Duration = Duration::from_secs(1);
const CHECK_EVERY: Duration = Duration::from_millis(500);
const SNAPSHOT_PAGE: usize = 5000;
const UPLOADS_AT_ONCE: usize = 2;
/// Rows of a previewed file shown before the rest is checked.
const PREVIEW_ROWS: usize = 200;

pub struct Options {
    pub keymap: Keymap,
    pub read_only: bool,
    pub checker: Option<Checker>,
    pub thresholds: Thresholds,
    pub log_path: String,
    pub operator: String,
    /// Where the file pane starts (the last directory used, or the current one).
    pub start_dir: PathBuf,
    /// Where the file pane remembers its directory.
    pub last_dir_file: Option<PathBuf>,
    /// Uploads the file pane's files: loads them here (or waits for the
    /// deployed function), then raises their alerts with the console's checker.
    pub uploads: UploadFlow,
}

type Term = Terminal<CrosstermBackend<Stdout>>;

fn enter() -> std::io::Result<Term> {
    terminal::enable_raw_mode()?;
    execute!(std::io::stdout(), terminal::EnterAlternateScreen)?;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    term.hide_cursor()?;
    term.clear()?;
    Ok(term)
}

/// Puts the terminal back as it was; safe to call more than once.
pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        terminal::LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Runs until the operator quits or the session ends (SIGTERM, SIGHUP).
pub async fn run(ports: Ports, options: Options) -> std::io::Result<()> {
    // A panic must not leave the terminal in raw mode.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    let mut term = enter()?;
    let result = event_loop(&mut term, ports, options).await;
    restore();
    result
}

async fn event_loop(term: &mut Term, ports: Ports, options: Options) -> std::io::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Msg>();
    let mut app = App::new(
        LiveStock::new(options.thresholds.clone()),
        options.keymap,
        options.read_only,
        ports.location.clone(),
        options.log_path.clone(),
    );
    app.files.dir = options.start_dir.clone();
    spawn_input(tx.clone());
    // The background tasks are watched: one that panics ends the console
    // (terminal given back, the reason said) instead of leaving it stale.
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(follow_feed(ports.clone(), tx.clone()));
    tasks.spawn(follow_ledger(ports.clone(), tx.clone()));
    if let Some(checker) = options.checker.clone() {
        tasks.spawn(run_checker(checker, tx.clone()));
    }
    let theme = Theme::from_env();
    let mut transfers: HashMap<u64, tokio::task::AbortHandle> = HashMap::new();
    // A few uploads at a time; the rest wait their turn.
    let uploads = Arc::new(tokio::sync::Semaphore::new(UPLOADS_AT_ONCE));
    let mut stop = Box::pin(crate::shutdown::signal());
    loop {
        if app.dirty {
            term.draw(|frame| view(frame, &app, theme))?;
            app.dirty = false;
        }
        let first = tokio::select! {
            _ = &mut stop => return Ok(()),
            Some(Err(failure)) = tasks.join_next(), if !tasks.is_empty() => {
                return Err(std::io::Error::other(format!("a background task of the console failed: {failure}")));
            }
            msg = rx.recv() => match msg { Some(m) => m, None => return Ok(()) },
        };
        // Apply everything already waiting before drawing again.
        let mut pending = vec![first];
        while let Ok(more) = rx.try_recv() {
            pending.push(more);
        }
        for msg in pending {
            for effect in update(&mut app, msg) {
                match effect {
                    Effect::Quit => return Ok(()),
                    Effect::Repaint => term.clear()?,
                    Effect::Acknowledge(ids) => {
                        tokio::spawn(acknowledge(ports.clone(), ids, options.operator.clone(), tx.clone()));
                    }
                    Effect::List { dir, ticket } => {
                        let (tx, remember) = (tx.clone(), options.last_dir_file.clone());
                        tokio::task::spawn_blocking(move || {
                            let listing = super::files::listing::list_dir(&dir);
                            // The next console starts where this one was; a superseded listing
                            // must not overwrite the directory asked for after it.
                            if !ticket.is_current() {
                                return;
                            }
                            if let (None, Some(file)) = (&listing.error, remember) {
                                let _ = std::fs::write(file, listing.dir.to_string_lossy().as_bytes());
                            }
                            let _ = tx.send(Msg::Listed { listing, ticket });
                        });
                    }
                    Effect::Preview { path, ticket } => {
                        let (tx, thresholds) = (tx.clone(), options.thresholds.clone());
                        tokio::task::spawn_blocking(move || preview(path, thresholds, ticket, tx));
                    }
                    Effect::Upload(files) => {
                        for (id, path) in files {
                            let task = upload(options.uploads.clone(), uploads.clone(), id, path, tx.clone());
                            transfers.insert(id, tokio::spawn(task).abort_handle());
                        }
                    }
                    Effect::Cancel(id) => {
                        if let Some(handle) = transfers.remove(&id) {
                            handle.abort();
                            let _ = tx.send(Msg::TransferDone {
                                id,
                                result: TransferResult::Cancelled,
                            });
                        }
                    }
                }
            }
        }
    }
}

/// Terminal input on its own thread: reading blocks, the UI does not.
fn spawn_input(tx: UnboundedSender<Msg>) {
    std::thread::spawn(move || {
        loop {
            if tx.is_closed() {
                return;
            }
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let msg = match event::read() {
                Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Ok(Event::Resize(_, _)) => Msg::Resize,
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    });
}

/// Snapshot, then tail: the tail's position is taken first so nothing that
/// happens during the scan is missed (applying twice is harmless).
async fn follow_feed(ports: Ports, tx: UnboundedSender<Msg>) {
    let mut failures = 0u32;
    let mut cursor = loop {
        match ports.feed.tip().await {
            Ok(tip) => break tip,
            Err(e) => {
                if tx.send(Msg::FeedError(e.to_string())).is_err() {
                    return;
                }
                failures += 1;
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    };
    if snapshot(&ports, &tx).await.is_err() {
        return;
    }
    loop {
        match ports.feed.read(Some(&cursor), 1000).await {
            Ok(batch) => {
                if failures > 0 && tx.send(Msg::FeedOk).is_err() {
                    return;
                }
                failures = 0;
                let full = batch.changes.len() == 1000;
                if batch.gap {
                    // Lost changes: start over from a fresh read of the table,
                    // so rows deleted meanwhile go too.
                    if tx.send(Msg::Resync).is_err() || snapshot(&ports, &tx).await.is_err() {
                        return;
                    }
                }
                if !batch.changes.is_empty() || batch.gap {
                    let changes = Msg::Changes {
                        changes: batch.changes,
                        gap: batch.gap,
                        seen_at: Timestamp::now(),
                    };
                    if tx.send(changes).is_err() {
                        return;
                    }
                }
                cursor = batch.cursor;
                if !full {
                    tokio::time::sleep(FEED_POLL).await;
                }
            }
            Err(e) => {
                failures += 1;
                if tx.send(Msg::FeedError(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    }
}

async fn snapshot(ports: &Ports, tx: &UnboundedSender<Msg>) -> Result<(), ()> {
    let mut page = None;
    let mut failures = 0u32;
    loop {
        match ports
            .table
            .scan(&StockFilter::default(), page.as_ref(), SNAPSHOT_PAGE)
            .await
        {
            Ok(batch) => {
                tx.send(Msg::Rows(batch.items)).map_err(|_| ())?;
                match batch.next {
                    Some(next) => page = Some(next),
                    None => return tx.send(Msg::SnapshotDone).map_err(|_| ()),
                }
            }
            Err(e) => {
                failures += 1;
                tx.send(Msg::FeedError(e.to_string())).map_err(|_| ())?;
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    }
}

async fn follow_ledger(ports: Ports, tx: UnboundedSender<Msg>) {
    let mut failures = 0u32;
    // Where following starts, then everything unresolved as of then.
    let (mut cursor, alerts) = loop {
        let start = async {
            let tip = ports.ledger.tip().await?;
            let filter = AlertFilter::default();
            let alerts = crate::ports::all_pages(|page| {
                let (ledger, filter) = (&ports.ledger, &filter);
                async move { ledger.list(filter, page.as_ref(), 1000).await }
            })
            .await?;
            Ok::<_, PortError>((tip, alerts))
        };
        match start.await {
            Ok(found) => break found,
            Err(e) => {
                failures += 1;
                if tx.send(Msg::LedgerError(e.to_string())).is_err() {
                    return;
                }
                tokio::time::sleep(backoff(failures)).await;
            }
        }
    };
    if tx.send(Msg::Alerts(alerts)).is_err() {
        return;
    }
    let mut failing = false;
    loop {
        tokio::time::sleep(LEDGER_POLL).await;
        match ports.ledger.changes_since(Some(&cursor), 1000).await {
            Ok((alerts, next)) => {
                cursor = next;
                // After an error, an empty answer still says the ledger is back.
                if (!alerts.is_empty() || failing) && tx.send(Msg::Alerts(alerts)).is_err() {
                    return;
                }
                failing = false;
            }
            Err(e) => {
                failing = true;
                if tx.send(Msg::LedgerError(e.to_string())).is_err() {
                    return;
                }
            }
        }
    }
}

async fn run_checker(checker: Checker, tx: UnboundedSender<Msg>) {
    loop {
        if let Err(e) = checker.run_once().await {
            tracing::warn!(error = %e, "checker");
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}

async fn acknowledge(ports: Ports, ids: Vec<AlertId>, by: String, tx: UnboundedSender<Msg>) {
    for id in ids {
        let ack = Acknowledgement {
            by: by.clone(),
            at: Timestamp::now(),
            note: None,
        };
        let result = ports
            .ledger
            .acknowledge(id, &ack)
            .await
            .map(Box::new)
            .map_err(|e| e.to_string());
        if tx.send(Msg::Acknowledged(result)).is_err() {
            return;
        }
    }
}

/// Previews a file: its first rows at once, then the whole file checked.
/// Stops, sending nothing more, once its ticket is stale (another file selected).
fn preview(path: PathBuf, thresholds: crate::domain::Thresholds, ticket: Ticket, tx: UnboundedSender<Msg>) {
    use crate::domain::preview::{Preview, Previewer};
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
                verdict: crate::domain::preview::Verdict::WouldBeRejected { problems: 1 },
                problems: vec![crate::domain::Problem::unreadable(&e.to_string())],
                ..Preview::default()
            };
            send(&failed);
            return;
        }
    };
    let mut previewer = Previewer::new(std::io::BufReader::new(file), thresholds, PREVIEW_ROWS);
    let mut more = previewer.step(PREVIEW_ROWS + 1);
    if !send(previewer.preview()) {
        return;
    }
    while more {
        if !ticket.is_current() {
            return;
        }
        more = previewer.step(100_000);
    }
    send(previewer.preview());
}

/// Fails unless `path` is a regular file (after following links).
fn regular_file(path: &std::path::Path) -> std::io::Result<()> {
    if std::fs::metadata(path)?.is_file() {
        Ok(())
    } else {
        Err(std::io::Error::other("not a regular file"))
    }
}

/// Uploads and loads one file, reporting progress, then what it did.
async fn upload(
    flow: UploadFlow,
    slots: Arc<tokio::sync::Semaphore>,
    id: u64,
    path: PathBuf,
    tx: UnboundedSender<Msg>,
) {
    let Ok(_slot) = slots.acquire_owned().await else { return };
    let progress_tx = tx.clone();
    let progress: crate::ports::Progress = Arc::new(move |sent, total| {
        let _ = progress_tx.send(Msg::TransferProgress { id, sent, total });
    });
    let result = match flow.upload_file(&path, None, Some(progress)).await {
        Err(e) => TransferResult::Failed(e.to_string()),
        Ok(uploaded) => {
            let report = &uploaded.outcome.report;
            match report.status {
                crate::ports::ObjectStatus::Loaded => TransferResult::Loaded {
                    rows: report.rows,
                    changed: report.write.changed,
                    alerts: uploaded.alerts.len(),
                },
                crate::ports::ObjectStatus::Rejected => TransferResult::Rejected {
                    problems: report.problems.len(),
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

fn backoff(failures: u32) -> Duration {
    Duration::from_millis(250)
        .saturating_mul(1 << failures.min(5))
        .min(Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::latest::Latest;

    #[test]
    fn a_device_is_not_previewed_and_does_not_hang() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
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
}
