//! Uploads previewed and waiting for their confirmation, each in a
//! directory of its own (removed with it), for 30 minutes at most.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Uploads waiting for their confirmation, at most; the oldest goes.
const HELD_AT_MOST: usize = 32;
/// An upload not confirmed within this goes.
const HELD_FOR: Duration = Duration::from_secs(30 * 60);

pub struct HeldUpload {
    pub user: String,
    /// The file, under the name it was uploaded with, in a directory of its own.
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
    pub at: Instant,
}

/// Uploads previewed and not yet confirmed, by token.
#[derive(Default)]
pub struct Held {
    uploads: Mutex<HashMap<String, HeldUpload>>,
}

impl Held {
    pub fn hold(&self, token: String, upload: HeldUpload) {
        let mut uploads = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        uploads.retain(|_, u| u.at.elapsed() < HELD_FOR);
        if uploads.len() >= HELD_AT_MOST
            && let Some(oldest) = uploads.iter().min_by_key(|(_, u)| u.at).map(|(t, _)| t.clone())
        {
            uploads.remove(&oldest);
        }
        uploads.insert(token, upload);
    }

    pub fn take(&self, token: &str, user: &str) -> Option<HeldUpload> {
        let mut uploads = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        match uploads.get(token) {
            Some(u) if u.user == user && u.at.elapsed() < HELD_FOR => uploads.remove(token),
            _ => None,
        }
    }
}
