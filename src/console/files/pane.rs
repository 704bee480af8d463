//! The file pane's state: where it is, what is listed and marked, the
//! preview of the selected file, and the uploads under way or done.

use super::listing::{Entry, Listing, visible};
use crate::console::latest::Latest;
use crate::domain::preview::Preview;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferResult {
    Loaded { rows: u64, changed: u64, alerts: usize },
    Rejected { problems: usize, first: Vec<String> },
    Failed(String),
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: u64,
    pub path: PathBuf,
    pub sent: u64,
    pub total: u64,
    /// `None` while it runs.
    pub result: Option<TransferResult>,
}

#[derive(Debug, Default)]
pub struct FilesPane {
    pub open: bool,
    pub dir: PathBuf,
    pub listing: Option<Listing>,
    pub show_hidden: bool,
    pub marks: BTreeSet<PathBuf>,
    /// The file previewed and its preview (partial until `verdict` is set).
    pub preview: Option<(PathBuf, Preview)>,
    pub transfers: Vec<Transfer>,
    /// Listings asked for: a slower, older listing arriving after a newer
    /// request is dropped.
    pub listings: Latest,
    /// Previews asked for: selecting another file stops the one under way.
    pub previews: Latest,
    next_id: u64,
}

impl FilesPane {
    pub fn new(dir: PathBuf) -> FilesPane {
        FilesPane {
            dir,
            ..FilesPane::default()
        }
    }

    pub fn entries(&self, filter: &str) -> Vec<&Entry> {
        self.listing
            .as_ref()
            .map_or_else(Vec::new, |l| visible(l, self.show_hidden, filter))
    }

    /// The path and kind of the entry at `row`.
    pub fn entry_path(&self, filter: &str, row: usize) -> Option<(PathBuf, bool)> {
        let entries = self.entries(filter);
        let entry = entries.get(row)?;
        Some((entry.path_in(&self.dir), entry.is_dir))
    }

    pub fn parent(&self) -> Option<PathBuf> {
        self.dir.parent().map(Path::to_path_buf)
    }

    /// Starts transfers for `paths`; returns their ids.
    pub fn start(&mut self, paths: Vec<PathBuf>) -> Vec<(u64, PathBuf)> {
        // Sizes come from the listing: no file system call on the UI thread.
        // Files marked in another directory start at 0 until progress reports.
        let sizes: std::collections::HashMap<PathBuf, u64> = self
            .listing
            .iter()
            .flat_map(|l| l.entries.iter().map(|e| (e.path_in(&l.dir), e.size)))
            .collect();
        paths
            .into_iter()
            .map(|path| {
                self.next_id += 1;
                let total = sizes.get(&path).copied().unwrap_or(0);
                self.transfers.push(Transfer {
                    id: self.next_id,
                    path: path.clone(),
                    sent: 0,
                    total,
                    result: None,
                });
                (self.next_id, path)
            })
            .collect()
    }

    /// The newest transfer still sending bytes: once a file is loading, its
    /// write is all or nothing and is left to finish.
    pub fn newest_cancellable(&self) -> Option<u64> {
        self.transfers
            .iter()
            .rev()
            .find(|t| t.result.is_none() && (t.total == 0 || t.sent < t.total))
            .map(|t| t.id)
    }

    pub fn any_running(&self) -> bool {
        self.transfers.iter().any(|t| t.result.is_none())
    }

    pub fn transfer_mut(&mut self, id: u64) -> Option<&mut Transfer> {
        self.transfers.iter_mut().find(|t| t.id == id)
    }
}
