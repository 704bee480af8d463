//! The keys of a file being loaded, in bounded memory whatever its length:
//! the first `IN_MEMORY` in a map (a duplicate of one of them is found at
//! once, with its names), the rest written to disk in sorted runs and
//! merged at the end (a duplicate among those is found then, by line).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use stockwatch_domain::import::{Fingerprint, InMemoryKeys, SeenKeys};

/// Keys held in the map: about 30 bytes each.
const IN_MEMORY: usize = 256 * 1024;
/// Keys per sorted run written to disk: 24 bytes each in memory.
const RUN: usize = 256 * 1024;

#[derive(Default)]
pub struct DiskKeys {
    memory: InMemoryKeys,
    buffer: Vec<(Fingerprint, u64)>,
    runs: Vec<File>,
    failed: Option<String>,
}

impl DiskKeys {
    fn spill(&mut self) {
        self.buffer.sort_unstable();
        let written = tempfile::tempfile().and_then(|file| {
            let mut out = BufWriter::new(file);
            for ((a, b), line) in self.buffer.drain(..) {
                out.write_all(&a.to_le_bytes())?;
                out.write_all(&b.to_le_bytes())?;
                out.write_all(&line.to_le_bytes())?;
            }
            let mut file = out.into_inner().map_err(|e| e.into_error())?;
            file.seek(SeekFrom::Start(0))?;
            Ok(file)
        });
        match written {
            Ok(file) => self.runs.push(file),
            Err(e) => {
                self.failed.get_or_insert(e.to_string());
                self.buffer.clear();
            }
        }
    }
}

impl SeenKeys for DiskKeys {
    fn insert(&mut self, key: Fingerprint, line: u64) -> Option<u64> {
        if let Some(first) = self.memory.first_line(&key) {
            return Some(first);
        }
        if self.memory.len() < IN_MEMORY {
            self.memory.add(key, line);
            return None;
        }
        self.buffer.push((key, line));
        if self.buffer.len() >= RUN {
            self.spill();
        }
        None
    }

    fn repeats(&mut self, found: &mut dyn FnMut(u64, u64)) -> Result<(), String> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.buffer.sort_unstable();
        let mut runs: Vec<Run> = self.runs.drain(..).map(|f| Run::File(BufReader::new(f))).collect();
        runs.push(Run::Memory(std::mem::take(&mut self.buffer).into_iter()));
        // Merge the sorted runs: equal keys come out together, first line first.
        let mut heap = BinaryHeap::new();
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(entry) = run.next().map_err(|e| e.to_string())? {
                heap.push(Reverse((entry, i)));
            }
        }
        let mut previous: Option<(Fingerprint, u64)> = None;
        while let Some(Reverse(((key, line), i))) = heap.pop() {
            match previous {
                Some((k, first)) if k == key => found(line, first),
                _ => previous = Some((key, line)),
            }
            if let Some(entry) = runs[i].next().map_err(|e| e.to_string())? {
                heap.push(Reverse((entry, i)));
            }
        }
        Ok(())
    }
}

enum Run {
    File(BufReader<File>),
    Memory(std::vec::IntoIter<(Fingerprint, u64)>),
}

impl Run {
    fn next(&mut self) -> std::io::Result<Option<(Fingerprint, u64)>> {
        match self {
            Run::Memory(entries) => Ok(entries.next()),
            Run::File(reader) => {
                let mut record = [0u8; 24];
                match reader.read_exact(&mut record) {
                    Ok(()) => {
                        let part =
                            |i: usize| u64::from_le_bytes(record[i * 8..i * 8 + 8].try_into().unwrap_or_default());
                        Ok(Some(((part(0), part(1)), part(2))))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_found_in_memory_at_once_and_on_disk_at_the_end() {
        let mut keys = DiskKeys::default();
        let total = IN_MEMORY + 2 * RUN + 10;
        for line in 0..total as u64 {
            assert_eq!(keys.insert((line, line * 7), line + 2), None);
        }
        // A key of the first ones, again: found at once.
        assert_eq!(keys.insert((5, 35), 999_999_990), Some(7));
        // Keys past the map, again: found at the end, in runs on disk.
        let late = (IN_MEMORY + 3) as u64;
        let later = (IN_MEMORY + RUN + 4) as u64;
        assert_eq!(keys.insert((late, late * 7), 999_999_991), None);
        assert_eq!(keys.insert((later, later * 7), 999_999_992), None);
        assert!(keys.runs.len() >= 2, "spilled to disk");
        let mut repeats = Vec::new();
        keys.repeats(&mut |line, first| repeats.push((line, first))).unwrap();
        repeats.sort();
        assert_eq!(repeats, vec![(999_999_991, late + 2), (999_999_992, later + 2)]);
    }
}
