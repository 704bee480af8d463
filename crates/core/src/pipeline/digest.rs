//! The SHA-256 of the bytes a load read, taken as they are read: the
//! report names exactly what was loaded, without a second pass.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::{Arc, Mutex};

/// A reader that hashes what passes through it; the hash is read from
/// its [`DigestHandle`] once the reader is done.
pub struct Hashing<R> {
    inner: R,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    hasher: Sha256,
    at_end: bool,
}

/// Where a [`Hashing`] reader's result is read.
#[derive(Clone)]
pub struct DigestHandle(Arc<Mutex<State>>);

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> (Hashing<R>, DigestHandle) {
        let state = Arc::new(Mutex::new(State::default()));
        (
            Hashing {
                inner,
                state: state.clone(),
            },
            DigestHandle(state),
        )
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if n == 0 && !buf.is_empty() {
            state.at_end = true;
        }
        state.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl DigestHandle {
    /// The hex SHA-256 of everything read, if the reader reached the end
    /// (a read that stopped early, at an unusable header, has none).
    pub fn finish(&self) -> Option<String> {
        let state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.at_end.then(|| hex(&state.hasher.clone().finalize()))
    }
}

/// The hex SHA-256 of a whole reader.
pub fn sha256_of(mut input: impl Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut input, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_of_what_was_read_to_the_end() {
        let (mut reader, digest) = Hashing::new(&b"abc"[..]);
        let mut first = [0u8; 2];
        reader.read_exact(&mut first).unwrap();
        assert_eq!(digest.finish(), None, "not at the end yet");
        std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        // FIPS 180-2's example.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(digest.finish().as_deref(), Some(abc));
        assert_eq!(sha256_of(&b"abc"[..]).unwrap(), abc);
    }
}
