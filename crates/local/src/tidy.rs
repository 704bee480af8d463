//! What a process that stopped left behind in the data dir, removed when
//! the next one opens it: staging copies of uploads killed mid-copy, and
//! upload folders left empty (an upload refused after its folder was made).
//! Best effort: what cannot be removed stays, said in the log.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Older than this, an empty upload folder is no upload in progress (its
/// file is renamed in right after the folder is made).
const EMPTY_FOLDER_AGE: Duration = Duration::from_secs(60);
/// Where the system cannot say whether a process lives, a staging copy
/// untouched this long is a dead one's.
const STAGING_AGE: Duration = Duration::from_secs(24 * 3600);

/// Removes what stopped processes left in `staging` and under `uploads`.
pub fn leftovers(staging: &Path, uploads: &Path) {
    let now = SystemTime::now();
    let old = |path: &Path, age: Duration| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|at| now.duration_since(at).unwrap_or_default() > age)
    };
    for entry in std::fs::read_dir(staging).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // `upload-<pid>-<nanos>`: its writer is gone, or it is very old.
        let Some(pid) = name.strip_prefix("upload-").and_then(|rest| rest.split('-').next()) else {
            continue;
        };
        let dead = match process_lives(pid) {
            Some(lives) => !lives,
            None => old(&path, STAGING_AGE),
        };
        if dead {
            match std::fs::remove_file(&path) {
                Ok(()) => tracing::info!(file = %path.display(), "removed a staging copy a stopped upload left"),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "could not remove a stopped upload's staging copy")
                }
            }
        }
    }
    for entry in std::fs::read_dir(uploads).into_iter().flatten().flatten() {
        let path = entry.path();
        let empty = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
        if empty && old(&path, EMPTY_FOLDER_AGE) && std::fs::remove_dir(&path).is_ok() {
            tracing::info!(folder = %path.display(), "removed an upload folder a refused upload left empty");
        }
    }
}

/// Whether the process `pid` lives, where the system says (`/proc`).
fn process_lives(pid: &str) -> Option<bool> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(pid.parse::<u32>().is_ok() && proc.join(pid).exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_uploads_copy_and_an_old_empty_folder_go_and_the_rest_stays() {
        let dir = tempfile::tempdir().unwrap();
        let (staging, uploads) = (dir.path().join("staging"), dir.path().join("uploads"));
        std::fs::create_dir_all(&staging).unwrap();
        let dead = staging.join("upload-4294967-1");
        let mine = staging.join(format!("upload-{}-2", std::process::id()));
        std::fs::write(&dead, "store,item,count\n").unwrap();
        std::fs::write(&mine, "store,item,count\n").unwrap();
        let (old_empty, new_empty, full) = (uploads.join("a"), uploads.join("b"), uploads.join("c"));
        for folder in [&old_empty, &new_empty, &full] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(full.join("x.csv"), "").unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        for folder in [&old_empty, &full] {
            std::fs::File::open(folder).unwrap().set_modified(long_ago).unwrap();
        }
        leftovers(&staging, &uploads);
        assert!(!dead.exists(), "a stopped process's copy goes");
        assert!(mine.exists(), "a live process's copy stays");
        assert!(!old_empty.exists(), "an old empty folder goes");
        assert!(
            new_empty.exists() && full.exists(),
            "one just made, and one with its file, stay"
        );
    }
}
