//! The file pane's state: where it is, what is listed, shown and marked,
//! the preview of the selected file, and the uploads under way or done; and
//! how listings, previews and upload reports change it. No I/O: reading
//! directories and files is asked for with a ticket (see `latest`).

use super::listing::{Entry, Listing, shown};
use crate::latest::{Latest, Ticket};
use crate::pane::PaneState;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use stockwatch_domain::preview::Preview;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferResult {
    /// `source_changed`: the file changed while it uploaded (the copy kept
    /// is what was loaded).
    Loaded {
        rows: u64,
        changed: u64,
        alerts: usize,
        source_changed: bool,
    },
    Rejected {
        problems: usize,
        first: Vec<String>,
    },
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
    /// The cursor's row is keyed by file name.
    pub list: PaneState<String>,
    pub open: bool,
    pub dir: PathBuf,
    listing: Option<Listing>,
    pub show_hidden: bool,
    pub marks: BTreeSet<PathBuf>,
    /// The file previewed and its preview (partial until `verdict` is set).
    pub preview: Option<(PathBuf, Preview)>,
    /// The first problem or row the focused preview shows.
    pub preview_scroll: usize,
    pub transfers: Vec<Transfer>,
    /// Listings asked for: a slower, older listing arriving after a newer
    /// request is dropped.
    listings: Latest,
    /// Previews asked for: selecting another file stops the one under way.
    previews: Latest,
    /// The entries shown (indices into the listing), in order.
    rows: Vec<usize>,
    /// Bumped by every listing received, so `rows` know when to recompute.
    listing_version: u64,
    /// The listing version, hidden files setting and filter `rows` were computed for.
    rows_of: Option<(u64, bool, String)>,
    next_id: u64,
    /// Why the last listing failed, said once rather than at every re-list.
    last_error: Option<String>,
    /// Transfers before this index have been summed up to the operator.
    reported: usize,
}

impl FilesPane {
    pub fn new(dir: PathBuf) -> FilesPane {
        FilesPane {
            dir,
            ..FilesPane::default()
        }
    }

    /// The directory's listing, once one has arrived.
    pub fn listing(&self) -> Option<&Listing> {
        self.listing.as_ref()
    }

    /// How many entries are shown.
    pub fn shown_count(&self) -> usize {
        self.rows.len()
    }

    /// The entry shown at `row`.
    pub fn entry(&self, row: usize) -> Option<&Entry> {
        let listing = self.listing.as_ref()?;
        listing.entries.get(*self.rows.get(row)?)
    }

    /// The path of the entry under the cursor, and whether it is a directory.
    pub fn selected(&self) -> Option<(PathBuf, bool)> {
        let entry = self.entry(self.list.cursor)?;
        Some((entry.path_in(&self.dir), entry.is_dir))
    }

    pub fn parent(&self) -> Option<PathBuf> {
        self.dir.parent().map(Path::to_path_buf)
    }

    /// Asks for `dir`'s listing: the ticket makes any listing asked for
    /// before it stale.
    pub fn ask_listing(&self, dir: PathBuf) -> (PathBuf, Ticket) {
        (dir, self.listings.issue())
    }

    /// A listing arrived; returns whether anything shown changed, and what
    /// to tell the operator, if anything. A listing of the same directory
    /// (Ctrl-L, the timer) keeps the cursor on its file; going up selects
    /// the folder the operator came from.
    pub fn listed(&mut self, listing: Listing, ticket: &Ticket) -> (bool, Option<String>) {
        // Only the directory asked for last: an older listing finishing late is dropped.
        if !ticket.is_current() || self.listing.as_ref() == Some(&listing) {
            return (false, None);
        }
        let message = if listing.error.is_some() && listing.error == self.last_error {
            None
        } else if let Some(error) = &listing.error {
            Some(error.clone())
        } else if listing.more > 0 && self.listing.as_ref().is_none_or(|l| l.dir != listing.dir) {
            Some(format!(
                "showing the first {} entries; {} more not listed",
                crate::text::thousands(listing.entries.len()),
                crate::text::thousands(listing.more)
            ))
        } else {
            None
        };
        self.last_error.clone_from(&listing.error);
        // A directory that cannot be read keeps the last one on screen.
        if listing.error.is_some() && self.listing.is_some() {
            return (message.is_some(), message);
        }
        let same_dir = self.listing.is_some() && listing.dir == self.dir;
        if !same_dir {
            // A new directory starts unfiltered, at the top, or on the
            // folder the operator came up from.
            self.list.filter.clear();
            self.list.start_over();
            let came_from = self
                .dir
                .strip_prefix(&listing.dir)
                .ok()
                .and_then(|rest| rest.components().next())
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            if let Some(name) = came_from {
                self.list.select(name);
            }
        }
        self.dir = listing.dir.clone();
        self.listing = Some(listing);
        self.listing_version += 1;
        (true, message)
    }

    /// The selected CSV file is previewed as soon as it is selected: returns
    /// the file to preview and its ticket when the selection changed.
    pub fn preview_selection(&mut self) -> Option<(PathBuf, Ticket)> {
        let Some(entry) = self.entry(self.list.cursor).filter(|e| e.is_csv()) else {
            // A directory or another file: no stale preview of the last CSV
            // beside it, and no preview job working on for nothing.
            if self.preview.take().is_some() {
                self.previews.cancel();
            }
            return None;
        };
        let path = entry.path_in(&self.dir);
        if self.preview.as_ref().is_some_and(|(p, _)| *p == path) {
            return None;
        }
        self.preview = Some((path.clone(), Preview::default()));
        self.preview_scroll = 0;
        Some((path, self.previews.issue()))
    }

    /// A preview, partial or whole, arrived.
    pub fn previewed(&mut self, path: PathBuf, preview: Preview, ticket: &Ticket) {
        // Only the file still selected: an older preview finishing late is dropped.
        if ticket.is_current() {
            self.preview = Some((path, preview));
        }
    }

    /// Recomputes the shown entries if the listing, the hidden files setting
    /// or the filter changed, then keeps the cursor on its file.
    pub fn refresh(&mut self, moved: bool) {
        let inputs = (self.listing_version, self.show_hidden);
        let current = self
            .rows_of
            .as_ref()
            .is_some_and(|(version, hidden, filter)| (*version, *hidden) == inputs && *filter == self.list.filter);
        if !current {
            self.rows = self
                .listing
                .as_ref()
                .map_or_else(Vec::new, |l| shown(l, self.show_hidden, &self.list.filter));
            self.rows_of = Some((inputs.0, inputs.1, self.list.filter.clone()));
        }
        let preview_lines = self
            .preview
            .as_ref()
            .map_or(0, |(_, p)| p.problems.len() + p.rows.len() + 3);
        self.preview_scroll = self.preview_scroll.min(preview_lines);
        let (rows, entries) = (&self.rows, self.listing.as_ref().map_or(&[][..], |l| &l.entries));
        let name_at = |row: usize| rows.get(row).map(|&i| entries[i].name.clone());
        self.list.follow(moved, rows.len(), name_at, |name| {
            rows.iter().position(|&i| entries[i].name == *name)
        });
    }

    /// Marks the selected file for upload, or unmarks it; moves down.
    pub fn toggle_mark(&mut self) {
        if let Some((path, false)) = self.selected() {
            if !self.marks.remove(&path) {
                self.marks.insert(path);
            }
            self.list.cursor += 1;
        }
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

    pub fn progressed(&mut self, id: u64, sent: u64, total: u64) {
        if let Some(t) = self.transfer_mut(id) {
            t.sent = sent;
            t.total = total;
        }
    }

    pub fn finished(&mut self, id: u64, result: TransferResult) {
        // The first outcome stands: a late "cancelled" must not hide a finished load.
        if let Some(t) = self.transfer_mut(id)
            && t.result.is_none()
        {
            t.result = Some(result);
        }
    }

    /// Once the last running transfer is done: what the batch came to
    /// ("3 files loaded, 1 rejected"), said once.
    pub fn all_done(&mut self) -> Option<String> {
        if self.any_running() || self.reported >= self.transfers.len() {
            return None;
        }
        let batch = &self.transfers[self.reported..];
        self.reported = self.transfers.len();
        let tally = |wanted: fn(&TransferResult) -> bool| {
            batch.iter().filter(|t| t.result.as_ref().is_some_and(wanted)).count()
        };
        let loaded = tally(|r| matches!(r, TransferResult::Loaded { .. }));
        let parts = [
            (tally(|r| matches!(r, TransferResult::Rejected { .. })), "rejected"),
            (tally(|r| matches!(r, TransferResult::Failed(_))), "failed"),
            (tally(|r| matches!(r, TransferResult::Cancelled)), "cancelled"),
        ];
        let mut text = format!("{} loaded", crate::text::count(loaded, "file"));
        for (n, what) in parts {
            if n > 0 {
                text.push_str(&format!(", {n} {what}"));
            }
        }
        Some(text)
    }

    fn transfer_mut(&mut self, id: u64) -> Option<&mut Transfer> {
        self.transfers.iter_mut().find(|t| t.id == id)
    }
}

#[cfg(test)]
#[path = "pane_tests.rs"]
mod tests;
