//! What goes into `update` (`Msg`: a key, or news from a background task)
//! and what comes out of it (`Effect`: work for the runtime, which does the
//! I/O and answers with more messages).

use super::files::listing::Listing;
use super::files::pane::TransferResult;
use super::latest::Ticket;
use crate::domain::preview::Preview;
use crate::domain::{Alert, AlertId, Timestamp};
use crate::ports::{Change, StockRow};
use ratatui::crossterm::event::KeyEvent;
use std::path::PathBuf;

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    /// Rows of the initial snapshot (pages of it).
    Rows(Vec<StockRow>),
    SnapshotDone,
    /// Changes from the feed, and when the runtime received them.
    Changes {
        changes: Vec<Change>,
        gap: bool,
        seen_at: Timestamp,
    },
    FeedError(String),
    /// The feed answers again after errors.
    FeedOk,
    /// The feed lost changes: the rows that follow replace everything.
    Resync,
    LedgerError(String),
    /// Alerts raised or changed since the last message.
    Alerts(Vec<Alert>),
    Acknowledged(Result<Box<Alert>, String>),
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
    Acknowledge(Vec<AlertId>),
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
