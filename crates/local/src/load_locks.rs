//! A local loader's hold on the uploads it loads, known to the operating
//! system: each loader token locks a file of its own (`flock`), which the
//! kernel releases when the process ends, however it ends. An upload whose
//! holder's file is unlocked is resumed at once instead of after the load
//! lease (kept for AWS, where nothing like it exists).

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A lock file unlocked this long belongs to no loader at work (a loader
/// locks its file right after making it).
const ABANDONED_AGE: Duration = Duration::from_secs(60);

pub struct LoadLocks {
    dir: PathBuf,
    /// The tokens this process holds, with their locked files.
    held: Mutex<HashMap<String, File>>,
}

impl LoadLocks {
    pub fn new(dir: PathBuf) -> LoadLocks {
        LoadLocks {
            dir,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// The lock file of `token`; none for a token that could not be a file
    /// name (a holder's token is read from the database).
    fn path(&self, token: &str) -> Option<PathBuf> {
        let safe = !token.is_empty()
            && token.len() <= 100
            && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        safe.then(|| self.dir.join(format!("loader-{token}.lock")))
    }

    /// Locks `token`'s file for as long as this process runs.
    pub fn hold(&self, token: &str) -> std::io::Result<()> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.contains_key(token) {
            return Ok(());
        }
        let Some(path) = self.path(token) else {
            return Err(std::io::Error::other(format!("`{token}` cannot name a lock file")));
        };
        std::fs::create_dir_all(&self.dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(std::io::Error::other("the lock is held elsewhere")),
            Err(TryLockError::Error(e)) => return Err(e),
        }
        held.insert(token.to_string(), file);
        Ok(())
    }

    /// Whether `token`'s loader has ended: its file exists and nobody holds
    /// its lock. Unknown (no file: a loader of an older version, or one on
    /// another machine) counts as alive: its lease decides.
    pub fn ended(&self, token: &str) -> bool {
        if self.held.lock().unwrap_or_else(|p| p.into_inner()).contains_key(token) {
            return false;
        }
        let Some(path) = self.path(token) else { return false };
        let Ok(file) = File::open(&path) else { return false };
        // Taken (and released as `file` drops): its holder is gone.
        file.try_lock().is_ok()
    }

    /// Removes the lock files of loaders that ended a while ago.
    pub fn tidy(&self) {
        let now = SystemTime::now();
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(token) = name.strip_prefix("loader-").and_then(|n| n.strip_suffix(".lock")) else {
                continue;
            };
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|at| now.duration_since(at).unwrap_or_default() > ABANDONED_AGE);
            if old && self.ended(token) {
                remove(&entry.path());
            }
        }
    }
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(file = %path.display(), error = %e, "could not remove an ended loader's lock file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_token_is_alive_an_unknown_one_too_and_a_released_one_ended() {
        let dir = tempfile::tempdir().unwrap();
        let mine = LoadLocks::new(dir.path().to_path_buf());
        let other = LoadLocks::new(dir.path().to_path_buf());
        mine.hold("load-1").unwrap();
        assert!(!mine.ended("load-1"));
        assert!(!other.ended("load-1"), "held by another handle of the same process");
        assert!(!other.ended("load-unknown"), "no file: its lease decides");
        assert!(!other.ended("../etc/passwd"), "not a token");
        drop(mine);
        assert!(other.ended("load-1"), "released when its holder ended");
    }
}
