//! Follows RFC 4180 quoting as the bytes stream past the csv crate, which is
//! lenient where the format is strict. It reports:
//! - an unclosed quote (the crate silently reads it to the end of the file),
//!   at the line it opened on;
//! - a quote inside an unquoted value and text after a closing quote (the
//!   crate keeps both as text), at their line and column;
//! - the real line of each record (the crate counts lines from the end of
//!   the previous record, so CRLF files and blank lines shift them).
//!
//! It also drops a leading UTF-8 BOM, and stops a record that runs past
//! `MAX_RECORD_BYTES` (a file of zeros, a quote never closed in a huge
//! file): the csv crate would hold it whole in memory.

use std::collections::VecDeque;
use std::io::Read;

/// The longest record read: far beyond any real row (a store and an item
/// are at most 3 KiB, and ten thousand empty extra columns 10 KiB).
pub const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// How far past `MAX_RECORD_BYTES` a record is read to see whether it ends
/// (then it is a long line) or not (a file of zeros, a quote never closed).
const ENDING_GRACE: u64 = 64 * 1024;
/// The most fields a record may have. An inventory file has three, and a
/// few more are ignored; millions (a 12 MB header of commas) would cost
/// hundreds of megabytes to hold, so reading stops there.
pub const MAX_FIELDS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteProblemKind {
    /// `5" screen`, or ` "Echo"` with a space before the quote.
    StrayQuote,
    /// `"Echo"Dot` or `"Echo" ` with a space after the closing quote.
    TextAfterQuote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteProblem {
    /// Byte offset, to attribute the problem to the record that holds it.
    pub offset: u64,
    pub line: u64,
    /// 1-based field of the record.
    pub column: usize,
    pub kind: QuoteProblemKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

pub struct QuoteTracker<R> {
    inner: R,
    state: State,
    line: u64,
    open_line: u64,
    column: usize,
    /// One quoting problem per field is enough to explain it.
    field_reported: bool,
    at_start: bool,
    offset: u64,
    previous: u8,
    at_line_start: bool,
    /// (byte offset, line) of each line's first byte not yet passed by the reader.
    line_starts: VecDeque<(u64, u64)>,
    problems: VecDeque<QuoteProblem>,
    /// Bytes since the current record started (a quoted value spans lines).
    record_bytes: u64,
    /// Why reading stopped: a record grew past a limit.
    too_long: Option<String>,
    /// The line of a record past `MAX_RECORD_BYTES`, until this read says
    /// whether it ended (a long line) or not (one that never ends).
    past_limit: Option<u64>,
    /// The line reading stopped at, for the problem that says why.
    stopped_at: Option<u64>,
}

impl<R: Read> QuoteTracker<R> {
    pub fn new(inner: R) -> Self {
        QuoteTracker {
            inner,
            state: State::FieldStart,
            line: 1,
            open_line: 0,
            column: 1,
            field_reported: false,
            at_start: true,
            offset: 0,
            previous: 0,
            at_line_start: true,
            line_starts: VecDeque::new(),
            problems: VecDeque::new(),
            record_bytes: 0,
            too_long: None,
            past_limit: None,
            stopped_at: None,
        }
    }

    /// The line reading stopped at, when a limit stopped it.
    pub fn stopped_at(&self) -> Option<u64> {
        self.stopped_at
    }

    fn stop(&mut self, line: u64, why: String) {
        if self.too_long.is_none() {
            self.too_long = Some(why);
            self.stopped_at = Some(line);
        }
    }

    /// The line of the first text at or after `byte`. Asked in increasing order.
    pub fn line_starting_at_or_after(&mut self, byte: u64) -> u64 {
        while self.line_starts.front().is_some_and(|&(offset, _)| offset < byte) {
            self.line_starts.pop_front();
        }
        self.line_starts.front().map_or(self.line, |&(_, line)| line)
    }

    /// The line being read.
    pub fn current_line(&self) -> u64 {
        self.line
    }

    /// Quoting problems found before byte `end` (all of them with `None`).
    pub fn take_problems_before(&mut self, end: Option<u64>) -> Vec<QuoteProblem> {
        let mut taken = Vec::new();
        while let Some(p) = self.problems.front() {
            if end.is_some_and(|end| p.offset >= end) {
                break;
            }
            taken.extend(self.problems.pop_front());
        }
        taken
    }

    /// Where a quote opened and never closed, once the whole input is read.
    pub fn unclosed_quote_line(&self) -> Option<u64> {
        (self.state == State::Quoted).then_some(self.open_line)
    }

    fn report(&mut self, kind: QuoteProblemKind) {
        if !self.field_reported {
            self.field_reported = true;
            self.problems.push_back(QuoteProblem {
                offset: self.offset,
                line: self.line,
                column: self.column,
                kind,
            });
        }
    }

    fn next_field(&mut self, b: u8) -> State {
        self.field_reported = false;
        // CR, LF and CRLF all end a record, as they do for the csv crate.
        self.column = if b == b',' { self.column + 1 } else { 1 };
        State::FieldStart
    }

    fn track(&mut self, bytes: &[u8]) {
        use State::*;
        for &b in bytes {
            self.state = match (self.state, b) {
                (FieldStart, b'"') => {
                    self.open_line = self.line;
                    Quoted
                }
                (Quoted, b'"') => QuoteInQuoted,
                (Quoted, _) => Quoted,
                (QuoteInQuoted, b'"') => Quoted,
                (_, b',' | b'\n' | b'\r') => self.next_field(b),
                (Unquoted, b'"') => {
                    self.report(QuoteProblemKind::StrayQuote);
                    Unquoted
                }
                (QuoteInQuoted, _) => {
                    self.report(QuoteProblemKind::TextAfterQuote);
                    Unquoted
                }
                (FieldStart | Unquoted, _) => Unquoted,
            };
            self.count_line(b);
            self.offset += 1;
            self.record_bytes += 1;
            if matches!(b, b'\n' | b'\r') && self.state != Quoted {
                self.record_bytes = 0;
                // It ended: long, not endless.
                if let Some(line) = self.past_limit.take() {
                    let why = format!("line {line} is longer than {} MiB", MAX_RECORD_BYTES / (1024 * 1024));
                    self.stop(line, why);
                }
            } else if self.record_bytes > MAX_RECORD_BYTES && self.too_long.is_none() && self.past_limit.is_none() {
                self.past_limit = Some(if self.state == Quoted {
                    self.open_line
                } else {
                    self.line
                });
            } else if self.record_bytes > MAX_RECORD_BYTES + ENDING_GRACE
                && let Some(line) = self.past_limit.take()
            {
                // Past the limit, and a little more, without ending: endless.
                let why = format!(
                    "line {line} runs past {} MiB without ending",
                    MAX_RECORD_BYTES / (1024 * 1024)
                );
                self.stop(line, why);
            }
            if self.column > MAX_FIELDS && self.too_long.is_none() {
                let why = format!(
                    "line {} has more than {MAX_FIELDS} fields; an inventory file has three (store, item, count), \
                     and a few more are ignored",
                    self.line
                );
                self.stop(self.line, why);
            }
        }
    }

    /// Lines end at LF, CRLF or a lone CR.
    fn count_line(&mut self, b: u8) {
        match b {
            b'\r' => {
                self.line += 1;
                self.at_line_start = true;
            }
            b'\n' => {
                if self.previous != b'\r' {
                    self.line += 1;
                }
                self.at_line_start = true;
            }
            _ if self.at_line_start => {
                // Recorded after the byte's own line is known.
                self.line_starts.push_back((self.offset, self.line));
                self.at_line_start = false;
            }
            _ => {}
        }
        self.previous = b;
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(why) = &self.too_long {
            return Err(std::io::Error::other(why.clone()));
        }
        let mut n = self.inner.read(buf)?;
        if self.at_start && n > 0 {
            self.at_start = false;
            // A BOM split over reads is not worth handling: readers here give
            // at least a few bytes at a time.
            if buf[..n].starts_with(b"\xEF\xBB\xBF") {
                buf.copy_within(3..n, 0);
                n -= 3;
                if n == 0 {
                    // Zero would read as the end of the file.
                    return self.read(buf);
                }
            }
        }
        self.track(&buf[..n]);
        Ok(n)
    }
}
