//! CSV import: the one place an inventory file is parsed and validated.
//!
//! A file is accepted only if every row is valid; otherwise every problem is
//! reported with its line (and column where it has one). `InventoryReader`
//! streams records so a preview can show the first rows at once; `import`
//! collects a whole file for the loader.

use crate::domain::names::{
    MAX_ITEM_BYTES, MAX_STORE_BYTES, NameProblem, check_name, describe_char, escape_for_terminal,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::sync::Arc;

mod quotes;
use quotes::QuoteTracker;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Store,
    Item,
    Count,
}

impl Field {
    const ALL: [Field; 3] = [Field::Store, Field::Item, Field::Count];

    pub fn name(self) -> &'static str {
        match self {
            Field::Store => "store",
            Field::Item => "item",
            Field::Count => "count",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ProblemKind {
    EmptyFile,
    MissingColumn {
        name: Field,
    },
    RepeatedColumn {
        name: Field,
        first_column: usize,
    },
    NoDataRows,
    WrongFieldCount {
        found: usize,
        expected: usize,
    },
    EmptyValue {
        field: Field,
    },
    TooLong {
        field: Field,
        bytes: usize,
        max: usize,
    },
    ControlChar {
        field: Field,
        character: String,
    },
    NotANumber {
        value: String,
    },
    Negative {
        value: String,
    },
    NotWhole {
        value: String,
    },
    TooLarge {
        value: String,
    },
    InvalidUtf8,
    UnclosedQuote,
    StrayQuote,
    TextAfterQuote,
    Duplicate {
        store: String,
        item: String,
        first_line: u64,
    },
    Unreadable {
        detail: String,
    },
}

/// A reason the file is rejected, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub line: u64,
    /// 1-based CSV column, where the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(flatten)]
    pub kind: ProblemKind,
    /// The sentence shown to people, kept in reports so they read the same everywhere.
    pub message: String,
}

impl Problem {
    /// The file itself could not be read (a preview of a vanished file).
    pub fn unreadable(detail: &str) -> Problem {
        Problem::new(
            0,
            None,
            ProblemKind::Unreadable {
                detail: detail.to_string(),
            },
        )
    }

    fn new(line: u64, column: Option<usize>, kind: ProblemKind) -> Self {
        let message = describe(&kind);
        Problem {
            line,
            column,
            kind,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
            if let Some(field) = field_of(&self.kind) {
                write!(f, " ({})", field.name())?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

fn field_of(kind: &ProblemKind) -> Option<Field> {
    match kind {
        ProblemKind::EmptyValue { field }
        | ProblemKind::TooLong { field, .. }
        | ProblemKind::ControlChar { field, .. } => Some(*field),
        ProblemKind::NotANumber { .. }
        | ProblemKind::Negative { .. }
        | ProblemKind::NotWhole { .. }
        | ProblemKind::TooLarge { .. } => Some(Field::Count),
        _ => None,
    }
}

fn describe(kind: &ProblemKind) -> String {
    match kind {
        ProblemKind::EmptyFile => "the file is empty; expected a header line `store,item,count`".into(),
        ProblemKind::MissingColumn { name } => {
            format!("the header has no `{}` column", name.name())
        }
        ProblemKind::RepeatedColumn { name, first_column } => {
            format!(
                "column `{}` appears again (first in column {first_column})",
                name.name()
            )
        }
        ProblemKind::NoDataRows => "the file has a header but no data rows".into(),
        ProblemKind::WrongFieldCount { found, expected } => {
            format!("{found} fields, but the header has {expected}")
        }
        ProblemKind::EmptyValue { field } => format!("the {} is empty", field.name()),
        ProblemKind::TooLong { field, bytes, max } => {
            format!("the {} is {bytes} bytes long; the limit is {max} bytes", field.name())
        }
        ProblemKind::ControlChar { field, character } => {
            format!("the {} contains the control character {character}", field.name())
        }
        ProblemKind::NotANumber { value } => {
            format!("`{value}` is not a number; write a whole number such as 12")
        }
        ProblemKind::Negative { value } => format!("`{value}` is negative; counts start at 0"),
        ProblemKind::NotWhole { value } => format!("`{value}` is not a whole number"),
        ProblemKind::TooLarge { value } => {
            format!("`{value}` is larger than the maximum count {}", u32::MAX)
        }
        ProblemKind::InvalidUtf8 => "the text is not valid UTF-8".into(),
        ProblemKind::UnclosedQuote => "a quoted value starts here and is never closed".into(),
        ProblemKind::StrayQuote => "a double quote inside an unquoted value; a quoted value starts with its quote \
             (no space before it), and a quote inside one is written twice, as in \"5\"\" screen\""
            .into(),
        ProblemKind::TextAfterQuote => {
            "text after the closing quote of a quoted value; put all of the value inside the quotes".into()
        }
        ProblemKind::Duplicate {
            store,
            item,
            first_line,
        } => {
            format!("store `{store}` and item `{item}` already appear on line {first_line}")
        }
        ProblemKind::Unreadable { detail } => format!("the file could not be read: {detail}"),
    }
}

/// Something accepted but worth telling, such as an ignored column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub line: u64,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug)]
pub struct Accepted {
    pub rows: Vec<InventoryRow>,
    pub stores: usize,
    pub warnings: Vec<Warning>,
}

#[derive(Debug)]
pub struct Rejected {
    /// Sorted by line, then column.
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
    /// Data rows read, valid or not.
    pub rows_read: u64,
}

/// Parses and validates a whole file.
pub fn import(bytes: &[u8]) -> Result<Accepted, Rejected> {
    let mut reader = InventoryReader::new(bytes);
    let mut rows = Vec::with_capacity(bytes.len() / 24);
    let mut problems = Vec::new();
    while let Some(record) = reader.next_record() {
        match record {
            Ok(row) if problems.is_empty() => rows.push(row),
            Ok(_) => {}
            Err(found) => {
                rows = Vec::new(); // rejected whole: stop holding rows
                problems.extend(found);
            }
        }
    }
    let end = reader.finish();
    problems.extend(end.problems);
    if problems.is_empty() {
        return Ok(Accepted {
            rows,
            stores: end.stores,
            warnings: end.warnings,
        });
    }
    problems.sort_by_key(|p| (p.line, p.column));
    Err(Rejected {
        problems,
        warnings: end.warnings,
        rows_read: end.rows_read,
    })
}

/// What is known once the whole file has been read.
#[derive(Debug, Default)]
pub struct ReaderEnd {
    /// Problems of the file as a whole (header, no rows, unclosed quote).
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
    pub stores: usize,
    pub rows_read: u64,
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
    stores: HashSet<Arc<str>>,
    last_store: Option<Arc<str>>,
    /// 128-bit fingerprint of (store, item) → first line: exact in practice,
    /// and a quarter of the memory of keeping the names twice.
    seen: HashMap<(u64, u64), u64, BuildHasherDefault<PassThrough>>,
    lookahead: Option<csv::ByteRecord>,
    spare: Option<csv::ByteRecord>,
    finished: bool,
}

impl<R: Read> InventoryReader<R> {
    pub fn new(input: R) -> Self {
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
            last_store: None,
            seen: HashMap::default(),
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
        self.end.stores = self.stores.len();
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
                let line = e.position().map_or(0, |p| p.line());
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
            self.end.problems.extend(quoting);
            return;
        }
        let mut index: [Option<usize>; 3] = [None; 3];
        let mut ok = true;
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
                None => self.end.warnings.push(Warning {
                    line,
                    column: Some(column),
                    message: format!(
                        "column `{}` is not used and was ignored",
                        shorten(&escape_for_terminal(text.trim()))
                    ),
                }),
            }
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
        let [store, item, count_text] = decoded;
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
        if names_ok {
            let key = fingerprint(store, item);
            if let Some(&first_line) = self.seen.get(&key) {
                problems.push(Problem::new(
                    line,
                    None,
                    ProblemKind::Duplicate {
                        store: shorten(&escape_for_terminal(store)),
                        item: shorten(&escape_for_terminal(item)),
                        first_line,
                    },
                ));
            } else {
                self.seen.insert(key, line);
            }
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

/// The fingerprints are hashes already: hashing them again is wasted work.
#[derive(Default)]
struct PassThrough(u64);

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

fn fingerprint(store: &str, item: &str) -> (u64, u64) {
    let mut a = DefaultHasher::new();
    (store, item).hash(&mut a);
    let mut b = DefaultHasher::new();
    (0x5eed_u32, item, store).hash(&mut b);
    (a.finish(), b.finish())
}

/// Values quoted in messages are cut so one bad cell cannot flood a report.
fn shorten(value: &str) -> String {
    const MAX_CHARS: usize = 60;
    if value.chars().count() <= MAX_CHARS {
        value.to_string()
    } else {
        let cut: String = value.chars().take(MAX_CHARS).collect();
        format!("{cut}…")
    }
}

fn parse_count(value: &str) -> Result<u32, ProblemKind> {
    let shown = || shorten(&escape_for_terminal(value));
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
        Some(rest) if numeric(rest) => Err(ProblemKind::Negative { value: shown() }),
        None if numeric(value) => Err(ProblemKind::NotWhole { value: shown() }),
        _ => Err(ProblemKind::NotANumber { value: shown() }),
    }
}

#[cfg(test)]
mod tests;
