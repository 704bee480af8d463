//! CSV import: the one place an inventory file is parsed and validated.
//!
//! A file is accepted only if every row is valid; otherwise its problems are
//! reported with their line (and column where they have one): the first
//! hundred whole, every one counted by kind. `InventoryReader` streams
//! records (a preview shows the first rows at once, a loader never holds a
//! whole file); `import` reads a whole file at once, for small inputs.

mod keys;
mod problems;
mod quotes;
mod reader;

pub use keys::{Fingerprint, InMemoryKeys, NoKeys, PassThrough, SeenKeys, fingerprint};
pub use problems::{Field, Problem, ProblemKind, ProblemLog, SHOWN_PROBLEMS, Warning};
pub use quotes::{MAX_FIELDS, MAX_RECORD_BYTES};
pub use reader::{InventoryReader, ReaderEnd, thousands};

use std::sync::Arc;

/// One valid row of an inventory file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryRow {
    /// Shared between the rows of one store: files hold many rows per store.
    pub store: Arc<str>,
    pub item: Box<str>,
    pub count: u32,
    /// Line of the file the row starts on (1-based; the header is line 1).
    pub line: u64,
}

#[derive(Debug)]
pub struct Accepted {
    pub rows: Vec<InventoryRow>,
    pub stores: usize,
    pub warnings: Vec<Warning>,
}

#[derive(Debug)]
pub struct Rejected {
    pub problems: ProblemLog,
    pub warnings: Vec<Warning>,
    /// Data rows read, valid or not.
    pub rows_read: u64,
}

/// Parses and validates a whole file held in memory.
pub fn import(bytes: &[u8]) -> Result<Accepted, Rejected> {
    let mut reader = InventoryReader::new(bytes);
    let mut rows = Vec::with_capacity(bytes.len() / 24);
    let mut problems = ProblemLog::default();
    while let Some(record) = reader.next_record() {
        match record {
            Ok(row) if problems.is_empty() => rows.push(row),
            Ok(_) => {}
            Err(found) => {
                rows = Vec::new(); // rejected whole: stop holding rows
                found.into_iter().for_each(|p| problems.push(p));
            }
        }
    }
    let end = reader.finish();
    problems.absorb(end.problems);
    if problems.is_empty() {
        return Ok(Accepted {
            rows,
            stores: end.stores,
            warnings: end.warnings,
        });
    }
    problems.trim();
    Err(Rejected {
        problems,
        warnings: end.warnings,
        rows_read: end.rows_read,
    })
}

#[cfg(test)]
mod tests;
