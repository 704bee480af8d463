//! What goes into `update` (`Msg`: a key, or news from a background task)
//! and what comes out of it (`Effect`: work for the runtime, which does the
//! I/O and answers with more messages).

use super::files::listing::Listing;
use super::files::pane::TransferResult;
use super::latest::Ticket;
use ratatui::crossterm::event::{KeyEvent, MouseEvent};
use std::path::PathBuf;
use stockwatch_core::ports::{Change, HistoryPoint, StockRow};
use stockwatch_domain::preview::Preview;
use stockwatch_domain::{Alert, AlertId, Timestamp};

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// A click or the wheel (with the mouse on).
    Mouse(MouseEvent),
    /// The terminal's new size.
    Resize(u16, u16),
    /// The clock's regular tick: the day may have changed, the file pane's
    /// directory is listed again.
    Tick(Timestamp),
    /// The message with this serial has been shown long enough.
    MessageExpired(u64),
    /// Rows of the initial snapshot (pages of it).
    Rows(Vec<StockRow>),
    SnapshotDone,
    /// Changes from the feed, and when the runtime received them.
    Changes {
        changes: Vec<Change>,
        seen_at: Timestamp,
    },
    FeedError(String),
    /// The feed answers again after errors.
    FeedOk,
    /// The feed lost changes: the rows that follow replace everything.
    Resync,
    /// The relay is silent: the rows that follow are merged with what is held.
    Refresh,
    LedgerError(String),
    /// A line for the status bar from a background job.
    Said(String),
    /// The snoozes active now (read at start, every minute, and after one
    /// is set here).
    Snoozes(Vec<stockwatch_domain::Snooze>),
    /// The relay has not been heard of for a while (`true`), or is again.
    RelaySilent(bool),
    /// Alerts already in the ledger when the console started (or read for
    /// the history view): known, so not "new".
    AlertsLoaded(Vec<Alert>),
    /// Alerts raised or changed since the last message.
    Alerts(Vec<Alert>),
    /// Every unresolved alert, read again after the ledger's changes were
    /// lost: it replaces what the console held as unresolved.
    AlertsResync(Vec<Alert>),
    /// What an acknowledgement did: the alerts acknowledged, and why the
    /// others could not be.
    Acknowledged {
        done: Vec<Alert>,
        failed: Vec<String>,
    },
    /// What taking an acknowledgement back did: the alert open again, or why not.
    Reopened(Result<Alert, String>),
    /// Items' histories read (for trends and forecasts), oldest first.
    History(Vec<((String, String), Vec<HistoryPoint>)>),
    /// The listing asked for with `ticket`.
    Listed {
        listing: Listing,
        ticket: Ticket,
    },
    /// The preview (partial, then whole) asked for with `ticket`.
    Previewed {
        path: PathBuf,
        preview: Box<Preview>,
        ticket: Ticket,
    },
    TransferProgress {
        id: u64,
        sent: u64,
        total: u64,
    },
    TransferDone {
        id: u64,
        result: TransferResult,
    },
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Acknowledge {
        ids: Vec<AlertId>,
        note: Option<String>,
    },
    /// Take an alert's acknowledgement back.
    Unacknowledge(AlertId),
    /// Every alert of the ledger, resolved ones too (the history view).
    LoadAlerts,
    /// Read these items' histories (store, item), for their trends and
    /// forecasts.
    ReadHistory(Vec<(String, String)>),
    /// Snooze a store's item, or the whole store, for a while.
    Snooze {
        store: String,
        item: Option<String>,
        duration: std::time::Duration,
    },
    /// Ring the terminal bell.
    Bell,
    /// Clear the message `serial` after a while.
    ExpireMessage(u64),
    /// Stop the process (Ctrl-Z) with the terminal given back; redraw when
    /// it is continued.
    Suspend,
    Quit,
    /// Clear and redraw everything (after a terminal mess).
    Repaint,
    /// Read a directory (off the UI thread), unless a newer listing was
    /// asked for meanwhile.
    List {
        dir: PathBuf,
        ticket: Ticket,
    },
    /// Preview a file in the background, until another file is selected.
    Preview {
        path: PathBuf,
        ticket: Ticket,
    },
    Upload(Vec<(u64, PathBuf)>),
    Cancel(u64),
}
