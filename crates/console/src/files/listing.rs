//! Reading directories for the file pane, with no UI: a listing (read off
//! the UI thread, capped so a huge directory cannot stall anything) and what
//! is shown of it: directories first, CSV files marked, hidden files on
//! request, filtered as the operator types.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Entries read from one directory at most; the rest is counted, not kept.
pub const MAX_ENTRIES: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// For display and filtering; not valid UTF-8 names show replacement characters.
    pub name: String,
    /// The name as the file system has it, for opening the file.
    pub os_name: OsString,
    pub is_dir: bool,
    pub size: u64,
}

impl Entry {
    pub fn path_in(&self, dir: &Path) -> PathBuf {
        dir.join(&self.os_name)
    }

    pub fn hidden(&self) -> bool {
        self.name.starts_with('.')
    }

    pub fn is_csv(&self) -> bool {
        !self.is_dir && self.name.to_ascii_lowercase().ends_with(".csv")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub dir: PathBuf,
    /// Directories first, then files, each by name.
    pub entries: Vec<Entry>,
    /// Entries past `MAX_ENTRIES` that were not kept.
    pub more: usize,
    /// Why the directory could not be read, if it could not.
    pub error: Option<String>,
}

/// Reads a directory. Blocking: the console runs it on a worker thread.
pub fn list_dir(dir: &Path) -> Listing {
    let mut listing = Listing {
        dir: dir.to_path_buf(),
        entries: Vec::new(),
        more: 0,
        error: None,
    };
    let reader = match std::fs::read_dir(dir) {
        Ok(reader) => reader,
        Err(e) => {
            listing.error = Some(format!("cannot read {}: {e}", dir.display()));
            return listing;
        }
    };
    for entry in reader {
        let Ok(entry) = entry else { continue };
        if listing.entries.len() >= MAX_ENTRIES {
            listing.more += 1;
            continue;
        }
        let os_name = entry.file_name();
        let name = os_name.to_string_lossy().into_owned();
        // Follows symlinks, so a link to a directory can be entered.
        let meta = std::fs::metadata(entry.path()).ok();
        listing.entries.push(Entry {
            name,
            os_name,
            is_dir: meta.as_ref().is_some_and(|m| m.is_dir()),
            size: meta.as_ref().map_or(0, |m| m.len()),
        });
    }
    listing
        .entries
        .sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    listing
}

/// What the pane shows of a listing, in order, as indices into its entries.
pub fn shown(listing: &Listing, show_hidden: bool, filter: &str) -> Vec<usize> {
    let needle = filter.to_lowercase();
    listing
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| show_hidden || !e.hidden())
        .filter(|(_, e)| needle.is_empty() || e.name.to_lowercase().contains(&needle))
        .map(|(i, _)| i)
        .collect()
}

/// `12.3 MB`-style sizes for the listing.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_come_first_and_hidden_files_only_on_request() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("zeta")).unwrap();
        std::fs::create_dir(dir.path().join(".secret")).unwrap();
        std::fs::write(dir.path().join("a.csv"), "store,item,count\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        std::fs::write(dir.path().join(".hidden.csv"), "x").unwrap();
        let listing = list_dir(dir.path());
        assert_eq!(listing.error, None);
        let names = |show_hidden, filter| {
            shown(&listing, show_hidden, filter)
                .into_iter()
                .map(|i| listing.entries[i].name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(false, ""), ["zeta", "a.csv", "notes.txt"]);
        assert_eq!(
            names(true, ""),
            [".secret", "zeta", ".hidden.csv", "a.csv", "notes.txt"]
        );
        assert!(listing.entries.iter().find(|e| e.name == "a.csv").unwrap().is_csv());
        assert_eq!(names(false, "CSV"), ["a.csv"]);
    }

    #[test]
    fn a_name_that_is_not_utf8_still_opens_the_right_file() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let raw = std::ffi::OsStr::from_bytes(b"caf\xe9.csv");
        std::fs::write(dir.path().join(raw), "store,item,count\n").unwrap();
        let listing = list_dir(dir.path());
        let entry = &listing.entries[0];
        assert_eq!(entry.name, "caf\u{fffd}.csv", "shown with a replacement character");
        assert!(entry.is_csv());
        let bytes = std::fs::read(entry.path_in(dir.path())).unwrap();
        assert_eq!(bytes, b"store,item,count\n");
    }

    #[test]
    fn an_unreadable_directory_is_a_message_not_a_failure() {
        let listing = list_dir(Path::new("/no/such/dir"));
        assert!(
            listing
                .error
                .as_deref()
                .unwrap()
                .starts_with("cannot read /no/such/dir")
        );
        assert!(listing.entries.is_empty());
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(12_345), "12.3 kB");
        assert_eq!(human_size(104_857_600), "104.9 MB");
    }
}
