//! The streaming reader: one record at a time, each checked as it comes,
//! so a preview shows the first rows at once and a loader never holds a
//! whole file.

use super::InventoryRow;
use super::keys::{InMemoryKeys, SeenKeys, fingerprint};
use super::problems::{Field, Problem, ProblemKind, ProblemLog, Warning, shorten, shorten_to};
use super::quotes::{self, QuoteTracker};
use crate::names::{
    MAX_ITEM_BYTES, MAX_STORE_BYTES, NameProblem, check_name, composed, describe_char, describe_invisible,
    escape_for_terminal,
};
use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;

/// What is known once the whole file has been read.
#[derive(Debug, Default)]
pub struct ReaderEnd {
    /// Problems of the file as a whole (header, no rows, unclosed quote),
    /// and duplicates found only at the end.
    pub problems: ProblemLog,
    pub warnings: Vec<Warning>,
    pub stores: usize,
    pub rows_read: u64,
    /// Names written decomposed and stored composed (NFC): how many, and
    /// the first line that had one.
    composed: (u64, u64),
}

/// Column positions of the required fields, from the header.
#[derive(Debug, Clone, Copy)]
struct Layout {
    index: [usize; 3],
    width: usize,
}

impl Layout {
    fn column(&self, field: Field) -> usize {
        self.index[field as usize]
    }
}

/// Streams an inventory file record by record.
pub struct InventoryReader<R: Read> {
    csv: csv::Reader<QuoteTracker<R>>,
    layout: Option<Layout>,
    started: bool,
    end: ReaderEnd,
    /// Recent stores' shared names (bounded: a file of a million stores
    /// does not keep a million names).
    stores: HashSet<Arc<str>>,
    /// Every store seen, by a 64-bit hash of its name: counted in bounded
    /// memory (a collision among a million names: about 1 in 30 million).
    seen_stores: HashSet<u64>,
    last_store: Option<Arc<str>>,
    /// The keys named so far, for duplicates.
    keys: Box<dyn SeenKeys>,
    lookahead: Option<csv::ByteRecord>,
    spare: Option<csv::ByteRecord>,
    finished: bool,
}

impl<R: Read> InventoryReader<R> {
    /// A reader that keeps the keys it has seen in memory.
    pub fn new(input: R) -> Self {
        InventoryReader::with_keys(input, Box::new(InMemoryKeys::default()))
    }

    /// A reader that keeps the keys it has seen in `keys` (bounded memory
    /// for files of any length: the loader's).
    pub fn with_keys(input: R, keys: Box<dyn SeenKeys>) -> Self {
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(QuoteTracker::new(input));
        InventoryReader {
            csv,
            layout: None,
            started: false,
            end: ReaderEnd::default(),
            stores: HashSet::new(),
            seen_stores: HashSet::new(),
            last_store: None,
            keys,
            lookahead: None,
            spare: None,
            finished: false,
        }
    }

    /// The next data row, or the problems of that row. `None` at the end of
    /// the file, or when the header is unusable (see `finish`).
    pub fn next_record(&mut self) -> Option<Result<InventoryRow, Vec<Problem>>> {
        if !self.started {
            self.started = true;
            self.read_header();
        }
        let layout = self.layout?;
        loop {
            let record = self.next_raw()?;
            let line = self.line_of(&record);
            // The last record swallowed the rest of the file into an open
            // quote: its fields are garbage, so report the quote alone.
            if self.lookahead.is_none()
                && let Some(quote_line) = self.csv.get_ref().unclosed_quote_line()
            {
                self.end.rows_read += 1;
                return Some(Err(vec![Problem::new(quote_line, None, ProblemKind::UnclosedQuote)]));
            }
            let quoting = self.quote_problems_of_current();
            if is_blank(&record) {
                self.spare = Some(record);
                continue;
            }
            self.end.rows_read += 1;
            let mut checked = self.check_row(&record, line, layout);
            self.spare = Some(record);
            if !quoting.is_empty() {
                let mut problems = checked.err().unwrap_or_default();
                problems.extend(quoting);
                problems.sort_by_key(|p| p.column);
                checked = Err(problems);
            }
            return Some(checked);
        }
    }

    /// Quoting problems inside the record just taken from `next_raw`: those
    /// before the start of the one read ahead.
    fn quote_problems_of_current(&mut self) -> Vec<Problem> {
        let end = self.lookahead.as_ref().and_then(|r| r.position()).map(|p| p.byte());
        self.csv
            .get_mut()
            .take_problems_before(end)
            .into_iter()
            .map(|q| {
                let kind = match q.kind {
                    quotes::QuoteProblemKind::StrayQuote => ProblemKind::StrayQuote,
                    quotes::QuoteProblemKind::TextAfterQuote => ProblemKind::TextAfterQuote,
                };
                Problem::new(q.line, Some(q.column), kind)
            })
            .collect()
    }

    /// Ends the read: whole-file problems, warnings and counts.
    pub fn finish(mut self) -> ReaderEnd {
        while self.next_record().is_some() {}
        if self.layout.is_some() && self.end.rows_read == 0 {
            let line = 2;
            self.end
                .problems
                .push(Problem::new(line, None, ProblemKind::NoDataRows));
        }
        let problems = &mut self.end.problems;
        let looked = self.keys.repeats(&mut |line, first_line| {
            problems.push(Problem::new(line, None, ProblemKind::Repeated { first_line }));
        });
        if let Err(detail) = looked {
            let detail = format!("its duplicates could not be looked for: {detail}");
            problems.push(Problem::new(0, None, ProblemKind::Unreadable { detail }));
        }
        let (composed, first) = self.end.composed;
        if composed > 0 {
            self.end.warnings.push(Warning {
                line: first,
                column: None,
                message: format!(
                    "{composed} store or item {} not in Unicode's composed form (an accent apart from its \
                     letter, or a character that stands for another, as U+212A KELVIN SIGN for K) and \
                     stored composed (NFC), as every other name is: the same name is one store or item",
                    if composed == 1 { "name was" } else { "names were" }
                ),
            });
        }
        self.end.stores = self.seen_stores.len();
        self.end
    }

    /// Reads one record ahead so the last record is known to be last.
    fn next_raw(&mut self) -> Option<csv::ByteRecord> {
        if self.finished && self.lookahead.is_none() {
            return None;
        }
        let current = match self.lookahead.take() {
            Some(r) => r,
            None => self.read_one()?,
        };
        self.lookahead = self.read_one();
        Some(current)
    }

    fn read_one(&mut self) -> Option<csv::ByteRecord> {
        if self.finished {
            return None;
        }
        // Records are recycled: a fresh one per row cost a tenth of a big import.
        let mut record = self.spare.take().unwrap_or_default();
        match self.csv.read_byte_record(&mut record) {
            Ok(true) => Some(record),
            Ok(false) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                // A limit that stopped reading names its own line; the
                // reader is past it by then.
                let tracker = self.csv.get_ref();
                let line = e
                    .position()
                    .map(|p| p.line())
                    .or(tracker.stopped_at())
                    .unwrap_or_else(|| tracker.current_line());
                self.end.problems.push(Problem::new(
                    line,
                    None,
                    ProblemKind::Unreadable { detail: e.to_string() },
                ));
                None
            }
        }
    }

    /// The csv crate places a record's start before the line breaks and
    /// blank lines that precede it (a CRLF file reads one line early), so the
    /// line comes from the tracker instead.
    fn line_of(&mut self, record: &csv::ByteRecord) -> u64 {
        let byte = record.position().map_or(0, |p| p.byte());
        self.csv.get_mut().line_starting_at_or_after(byte)
    }

    fn read_header(&mut self) {
        let header = loop {
            match self.next_raw() {
                None => {
                    if self.end.problems.is_empty() {
                        self.end.problems.push(Problem::new(1, None, ProblemKind::EmptyFile));
                    }
                    return;
                }
                Some(r) if is_blank(&r) => continue,
                Some(r) => break r,
            }
        };
        if self.lookahead.is_none()
            && let Some(quote_line) = self.csv.get_ref().unclosed_quote_line()
        {
            self.end
                .problems
                .push(Problem::new(quote_line, None, ProblemKind::UnclosedQuote));
            return;
        }
        let line = self.line_of(&header);
        let quoting = self.quote_problems_of_current();
        if !quoting.is_empty() {
            quoting.into_iter().for_each(|p| self.end.problems.push(p));
            return;
        }
        let mut index: [Option<usize>; 3] = [None; 3];
        let mut ok = true;
        // Columns not used: named when few, counted when many (a header of
        // three million columns is one warning, not three million).
        let mut unused: Vec<(usize, String)> = Vec::new();
        let mut unused_count = 0u64;
        for (i, raw) in header.iter().enumerate() {
            let column = i + 1;
            let Ok(text) = std::str::from_utf8(raw) else {
                self.end
                    .problems
                    .push(Problem::new(line, Some(column), ProblemKind::InvalidUtf8));
                ok = false;
                continue;
            };
            let name = text.trim().to_lowercase();
            match Field::ALL.iter().find(|f| f.name() == name) {
                Some(&field) => match index[field as usize] {
                    Some(first) => {
                        ok = false;
                        self.end.problems.push(Problem::new(
                            line,
                            Some(column),
                            ProblemKind::RepeatedColumn {
                                name: field,
                                first_column: first + 1,
                            },
                        ));
                    }
                    None => index[field as usize] = Some(i),
                },
                None => {
                    unused_count += 1;
                    if unused.len() < UNUSED_NAMED {
                        unused.push((
                            column,
                            shorten_to(&escape_for_terminal(text.trim()), HEADER_QUOTED_CHARS),
                        ));
                    }
                }
            }
        }
        if unused_count <= UNUSED_NAMED as u64 {
            for (column, name) in unused {
                self.end.warnings.push(Warning {
                    line,
                    column: Some(column),
                    message: format!("column `{name}` is not used and was ignored"),
                });
            }
        } else if let Some(&(first_column, _)) = unused.first() {
            let names: Vec<String> = unused.iter().map(|(_, n)| format!("`{n}`")).collect();
            self.end.warnings.push(Warning {
                line,
                column: Some(first_column),
                message: format!(
                    "{} columns are not used and were ignored: {}, …",
                    thousands(unused_count),
                    names.join(", ")
                ),
            });
        }
        for field in Field::ALL {
            if index[field as usize].is_none() {
                ok = false;
                self.end
                    .problems
                    .push(Problem::new(line, None, ProblemKind::MissingColumn { name: field }));
            }
        }
        if ok {
            self.layout = Some(Layout {
                index: index.map(|i| i.unwrap_or_default()),
                width: header.len(),
            });
        }
    }

    fn check_row(&mut self, record: &csv::ByteRecord, line: u64, layout: Layout) -> Result<InventoryRow, Vec<Problem>> {
        if record.len() != layout.width {
            return Err(vec![Problem::new(
                line,
                None,
                ProblemKind::WrongFieldCount {
                    found: record.len(),
                    expected: layout.width,
                },
            )]);
        }
        let mut problems = Vec::new();
        // Every column must be UTF-8, used or not: the file is text. Each
        // required field is decoded once; `None` marks one that is not text.
        let mut decoded: [Option<&str>; 3] = [None; 3];
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    if let Some(field) = Field::ALL.iter().find(|f| layout.column(**f) == i) {
                        decoded[*field as usize] = Some(trim_value(text));
                    }
                }
                Err(_) => problems.push(Problem::new(line, Some(i + 1), ProblemKind::InvalidUtf8)),
            }
        }
        let [mut store, mut item, count_text] = decoded;
        // Decomposed names are stored composed: one name, one key.
        let composed_store = store.and_then(composed);
        let composed_item = item.and_then(composed);
        if composed_store.is_some() || composed_item.is_some() {
            if self.end.composed.0 == 0 {
                self.end.composed.1 = line;
            }
            self.end.composed.0 += 1;
        }
        if let Some(c) = &composed_store {
            store = Some(c);
        }
        if let Some(c) = &composed_item {
            item = Some(c);
        }
        let mut names_ok = store.is_some() && item.is_some();
        for (field, value, max) in [
            (Field::Store, store, MAX_STORE_BYTES),
            (Field::Item, item, MAX_ITEM_BYTES),
        ] {
            let Some(value) = value else { continue };
            if let Err(problem) = check_name(value, max) {
                names_ok = false;
                let kind = match problem {
                    NameProblem::Empty => ProblemKind::EmptyValue { field },
                    NameProblem::TooLong { bytes, max } => ProblemKind::TooLong { field, bytes, max },
                    NameProblem::ControlChar { ch } => ProblemKind::ControlChar {
                        field,
                        character: describe_char(ch),
                    },
                    NameProblem::Invisible { ch } => ProblemKind::InvisibleChar {
                        field,
                        character: describe_invisible(ch),
                    },
                    NameProblem::NothingVisible => ProblemKind::NothingVisible { field },
                };
                problems.push(Problem::new(line, Some(layout.column(field) + 1), kind));
            }
        }
        let count = count_text.and_then(|text| match parse_count(text) {
            Ok(count) => Some(count),
            Err(kind) => {
                let column = Some(layout.column(Field::Count) + 1);
                problems.push(Problem::new(line, column, kind));
                None
            }
        });
        let (store, item) = (store.unwrap_or_default(), item.unwrap_or_default());
        if names_ok && let Some(first_line) = self.keys.insert(fingerprint(store, item), line) {
            problems.push(Problem::new(
                line,
                None,
                ProblemKind::Duplicate {
                    store: shorten(store),
                    item: shorten(item),
                    first_line,
                },
            ));
        }
        match count {
            Some(count) if problems.is_empty() => Ok(InventoryRow {
                store: self.intern_store(store),
                item: item.into(),
                count,
                line,
            }),
            _ => Err(problems),
        }
    }

    fn intern_store(&mut self, store: &str) -> Arc<str> {
        // Files list a store's rows together: most rows hit the last one.
        if let Some(last) = &self.last_store
            && &**last == store
        {
            return last.clone();
        }
        let shared = self.intern_store_slow(store);
        self.last_store = Some(shared.clone());
        shared
    }

    fn intern_store_slow(&mut self, store: &str) -> Arc<str> {
        if let Some(existing) = self.stores.get(store) {
            return existing.clone();
        }
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(store, &mut hasher);
        self.seen_stores.insert(std::hash::Hasher::finish(&hasher));
        if self.stores.len() >= INTERNED_STORES {
            self.stores.clear();
        }
        let shared: Arc<str> = store.into();
        self.stores.insert(shared.clone());
        shared
    }
}

/// Trims spaces (including no-break and other Unicode spaces) but never a
/// control character: a tab or newline at the edge of a value is an error to
/// report, not whitespace to drop.
fn trim_value(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() && !c.is_control())
}

/// A line holding nothing but whitespace; CSV readers already skip empty ones.
fn is_blank(record: &csv::ByteRecord) -> bool {
    record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace)
}

/// Store names shared between rows at most: files list a store's rows
/// together, so a few thousand cover any interleaving worth sharing.
const INTERNED_STORES: usize = 4096;

/// A header cell is quoted in reports this far: enough to know a column
/// by, not enough to copy out a private file uploaded by mistake (its first
/// line taken for a header, as `/etc/shadow`'s would be).
const HEADER_QUOTED_CHARS: usize = 12;

/// Header columns named in the warning about unused ones.
const UNUSED_NAMED: usize = 3;

/// `3,000,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn parse_count(value: &str) -> Result<u32, ProblemKind> {
    // The value itself (cut): reports carry it as it was.
    let shown = || shorten(value);
    if value.is_empty() {
        return Err(ProblemKind::EmptyValue { field: Field::Count });
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value
            .parse::<u32>()
            .map_err(|_| ProblemKind::TooLarge { value: shown() });
    }
    let unsigned = value.strip_prefix('-');
    let numeric = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && s.bytes().any(|b| b.is_ascii_digit())
            && s.bytes().filter(|&b| b == b'.').count() <= 1
    };
    match unsigned {
        // `-0` is no count below zero: only not written as counts are.
        Some(rest) if numeric(rest) && rest.bytes().all(|b| b == b'0' || b == b'.') => {
            Err(ProblemKind::NotANumber { value: shown() })
        }
        Some(rest) if numeric(rest) => Err(ProblemKind::Negative { value: shown() }),
        None if numeric(value) => Err(ProblemKind::NotWhole { value: shown() }),
        _ => Err(ProblemKind::NotANumber { value: shown() }),
    }
}
