//! A preview of an inventory file before it is uploaded, from the same
//! import code the loader uses: the first rows with their problems, a
//! summary (rows, stores, out of stock, low), and whether it would load.
//! Built in steps, so a big file shows its first rows at once and the
//! validation completes in the background.

use crate::import::{InMemoryKeys, InventoryReader, InventoryRow, Problem, SeenKeys};
use crate::rules::{Level, Thresholds, level};
use std::collections::HashSet;
use std::io::Read;

/// One record of the file as the preview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewRow {
    Valid { row: InventoryRow, level: Level },
    Invalid { line: u64, problems: Vec<Problem> },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    pub stores: usize,
    pub out: u64,
    pub low: u64,
    /// Problems found so far (all of them, even past the listed ones).
    pub problems: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Verdict {
    /// Still reading.
    #[default]
    Checking,
    WouldLoad,
    WouldBeRejected {
        problems: u64,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Preview {
    /// The first rows, in file order.
    pub rows: Vec<PreviewRow>,
    pub summary: Summary,
    /// Problems to list, in file order (the first `MAX_LISTED`).
    pub problems: Vec<Problem>,
    pub verdict: Verdict,
}

/// Problems kept for listing; the count goes on past it.
pub const MAX_LISTED: usize = 500;

pub struct Previewer<R: Read> {
    reader: Option<InventoryReader<R>>,
    thresholds: Thresholds,
    keep_rows: usize,
    stores: HashSet<std::sync::Arc<str>>,
    preview: Preview,
}

impl<R: Read> Previewer<R> {
    /// Keeps the first `keep_rows` rows for display.
    pub fn new(input: R, thresholds: Thresholds, keep_rows: usize) -> Self {
        Previewer::with_keys(input, Box::new(InMemoryKeys::default()), thresholds, keep_rows)
    }

    /// As `new`, keeping the keys seen in `keys` (bounded memory for any
    /// file: the console's).
    pub fn with_keys(input: R, keys: Box<dyn SeenKeys>, thresholds: Thresholds, keep_rows: usize) -> Self {
        Previewer {
            reader: Some(InventoryReader::with_keys(input, keys)),
            thresholds,
            keep_rows,
            stores: HashSet::new(),
            preview: Preview::default(),
        }
    }

    pub fn preview(&self) -> &Preview {
        &self.preview
    }

    /// Reads up to `records` more records; `false` once the file is done.
    pub fn step(&mut self, records: usize) -> bool {
        let Some(reader) = self.reader.as_mut() else {
            return false;
        };
        for _ in 0..records {
            let Some(record) = reader.next_record() else {
                self.finish();
                return false;
            };
            let shown = self.preview.rows.len() < self.keep_rows;
            match record {
                Ok(row) => {
                    self.preview.summary.rows += 1;
                    let low = self.thresholds.low_for(&row.store, &row.item);
                    let state = level(row.count, low);
                    match state {
                        Level::Out => self.preview.summary.out += 1,
                        Level::Low => self.preview.summary.low += 1,
                        Level::Ok => {}
                    }
                    if !self.stores.contains(&row.store) {
                        self.stores.insert(row.store.clone());
                    }
                    if shown {
                        self.preview.rows.push(PreviewRow::Valid { row, level: state });
                    }
                }
                Err(problems) => {
                    self.preview.summary.rows += 1;
                    let line = problems.first().map_or(0, |p| p.line);
                    note(&mut self.preview, &problems);
                    if shown {
                        self.preview.rows.push(PreviewRow::Invalid { line, problems });
                    }
                }
            }
        }
        self.preview.summary.stores = self.stores.len();
        true
    }

    /// Reads to the end.
    pub fn run(mut self) -> Preview {
        while self.step(10_000) {}
        self.preview
    }

    fn finish(&mut self) {
        let Some(reader) = self.reader.take() else { return };
        let end = reader.finish();
        note(&mut self.preview, &end.problems.shown);
        // Problems of the file as a whole beyond the ones listed still count.
        self.preview.summary.problems += end.problems.total - end.problems.shown.len() as u64;
        self.preview.problems.sort_by_key(|p| (p.line, p.column));
        self.preview.summary.stores = self.stores.len();
        self.preview.verdict = match self.preview.summary.problems {
            0 => Verdict::WouldLoad,
            problems => Verdict::WouldBeRejected { problems },
        };
    }
}

fn note(preview: &mut Preview, problems: &[Problem]) {
    preview.summary.problems += problems.len() as u64;
    let room = MAX_LISTED.saturating_sub(preview.problems.len());
    preview.problems.extend(problems.iter().take(room).cloned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(text: &str, keep: usize) -> Preview {
        Previewer::new(text.as_bytes(), Thresholds::new(3), keep).run()
    }

    #[test]
    fn a_valid_file_would_load_with_its_summary() {
        let p = preview("store,item,count\nBerlin,Dot,12\nBerlin,Plus,0\nPusan,Tap,3\n", 10);
        assert_eq!(p.verdict, Verdict::WouldLoad);
        assert_eq!(
            p.summary,
            Summary {
                rows: 3,
                stores: 2,
                out: 1,
                low: 1,
                problems: 0
            }
        );
        assert!(matches!(&p.rows[1], PreviewRow::Valid { level: Level::Out, .. }));
    }

    #[test]
    fn a_bad_file_would_be_rejected_with_every_problem_located() {
        let p = preview("store,item,count\nBerlin,Dot,x\nBerlin,Show,1\nBerlin,Dot,2\n", 10);
        assert_eq!(p.verdict, Verdict::WouldBeRejected { problems: 2 });
        let lines: Vec<u64> = p.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 4]);
        assert!(matches!(&p.rows[0], PreviewRow::Invalid { line: 2, .. }));
        let missing = preview("store,item\nBerlin,Dot\n", 10);
        assert_eq!(
            missing.verdict,
            Verdict::WouldBeRejected { problems: 1 },
            "header problems count too"
        );
    }

    #[test]
    fn the_first_rows_come_before_the_whole_file_is_read() {
        let mut text = String::from("store,item,count\n");
        for i in 0..50_000 {
            text.push_str(&format!("S{},item{i},{}\n", i % 100, i % 9));
        }
        text.push_str("S7,item7,oops\n");
        let mut previewer = Previewer::new(text.as_bytes(), Thresholds::new(3), 20);
        assert!(previewer.step(100));
        assert_eq!(previewer.preview().rows.len(), 20);
        assert_eq!(previewer.preview().verdict, Verdict::Checking);
        let done = previewer.run();
        assert_eq!(done.summary.rows, 50_001);
        assert_eq!(
            done.verdict,
            Verdict::WouldBeRejected { problems: 2 },
            "a bad count and a duplicate, at the very end"
        );
    }
}
