//! Which (store, item) keys a file has already named, for its duplicates.
//! Kept as 128-bit fingerprints (exact in practice, a quarter of the memory
//! of the names). How they are kept is the caller's: in memory here; the
//! loader's keeps a bounded number in memory and the rest on disk, so a
//! file of any length is read in bounded memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// A key's fingerprint.
pub type Fingerprint = (u64, u64);

pub fn fingerprint(store: &str, item: &str) -> Fingerprint {
    let mut a = DefaultHasher::new();
    (store, item).hash(&mut a);
    let mut b = DefaultHasher::new();
    (0x5eed_u32, item, store).hash(&mut b);
    (a.finish(), b.finish())
}

pub trait SeenKeys: Send {
    /// Records that `line` names the key. `Some(first line)` when it is
    /// known at once that an earlier line named it too.
    fn insert(&mut self, key: Fingerprint, line: u64) -> Option<u64>;
    /// Tells `found` of the repeats found only at the end: (line, first
    /// line). `Err` when they could not be looked for (a full disk).
    fn repeats(&mut self, _found: &mut dyn FnMut(u64, u64)) -> Result<(), String> {
        Ok(())
    }
}

/// No keys kept: for reading a file already validated.
pub struct NoKeys;

impl SeenKeys for NoKeys {
    fn insert(&mut self, _key: Fingerprint, _line: u64) -> Option<u64> {
        None
    }
}

/// Every key in memory: for previews, tests and small files.
#[derive(Default)]
pub struct InMemoryKeys {
    seen: HashMap<Fingerprint, u64, BuildHasherDefault<PassThrough>>,
}

impl InMemoryKeys {
    /// The first line that named `key`, if one did.
    pub fn first_line(&self, key: &Fingerprint) -> Option<u64> {
        self.seen.get(key).copied()
    }

    pub fn add(&mut self, key: Fingerprint, line: u64) {
        self.seen.entry(key).or_insert(line);
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

impl SeenKeys for InMemoryKeys {
    fn insert(&mut self, key: Fingerprint, line: u64) -> Option<u64> {
        match self.seen.get(&key) {
            Some(&first) => Some(first),
            None => {
                self.seen.insert(key, line);
                None
            }
        }
    }
}

/// The fingerprints are hashes already: hashing them again is wasted work.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}
