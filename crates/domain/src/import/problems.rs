//! What can be wrong with an inventory file, said once: the problems (with
//! their line and column), the warnings, and how a report keeps them short.

use crate::names::escape_for_terminal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Store,
    Item,
    Count,
}

impl Field {
    pub(super) const ALL: [Field; 3] = [Field::Store, Field::Item, Field::Count];

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
    /// A character that shows as nothing (or changes how the text around it
    /// shows): a soft hyphen, a zero-width space, a bidi control, a tag.
    InvisibleChar {
        field: Field,
        character: String,
    },
    /// Nothing in the name shows by itself (spaces, combining marks, a
    /// blank symbol): it reads as empty.
    NothingVisible {
        field: Field,
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
    /// A duplicate found only at the end of a very big file, whose names
    /// are no longer at hand (the lines tell which).
    Repeated {
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

    pub(super) fn new(line: u64, column: Option<usize>, kind: ProblemKind) -> Self {
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
        | ProblemKind::ControlChar { field, .. }
        | ProblemKind::InvisibleChar { field, .. }
        | ProblemKind::NothingVisible { field } => Some(*field),
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
        ProblemKind::InvisibleChar { field, character } => format!(
            "the {} contains {character}, which shows as nothing: two names that look alike would be two \
             different stores or items",
            field.name()
        ),
        ProblemKind::NothingVisible { field } => format!(
            "the {} has nothing that shows by itself (only spaces, combining marks or blank symbols): it \
             would read as empty",
            field.name()
        ),
        ProblemKind::NotANumber { value } => {
            format!("`{}` is not a number; write a whole number such as 12", shown(value))
        }
        ProblemKind::Negative { value } => format!("`{}` is negative; counts start at 0", shown(value)),
        ProblemKind::NotWhole { value } => format!("`{}` is not a whole number", shown(value)),
        ProblemKind::TooLarge { value } => {
            format!("`{}` is larger than the maximum count {}", shown(value), u32::MAX)
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
            format!(
                "store `{}` and item `{}` already appear on line {first_line}",
                shown(store),
                shown(item)
            )
        }
        ProblemKind::Repeated { first_line } => {
            format!("the same store and item as on line {first_line}")
        }
        ProblemKind::Unreadable { detail } => {
            format!("the file could not be read: {}", escape_for_terminal(detail))
        }
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

/// A value from a file as a message shows it: escaped, and cut so one bad
/// cell cannot flood a report. (Problems keep the value itself: reports in
/// JSON carry it exactly.)
fn shown(value: &str) -> String {
    shorten(&escape_for_terminal(value))
}

/// Values quoted in messages are cut so one bad cell cannot flood a report.
pub(super) fn shorten(value: &str) -> String {
    shorten_to(value, 60)
}

/// `value`, cut to `max_chars` with `…` after it when longer.
pub(super) fn shorten_to(value: &str, max_chars: usize) -> String {
    if value.chars().count() <= max_chars {
        value.to_string()
    } else {
        let cut: String = value.chars().take(max_chars).collect();
        format!("{cut}…")
    }
}

impl ProblemKind {
    /// Its code, as reports name it (`not_a_number`).
    pub fn code(&self) -> &'static str {
        match self {
            ProblemKind::EmptyFile => "empty_file",
            ProblemKind::MissingColumn { .. } => "missing_column",
            ProblemKind::RepeatedColumn { .. } => "repeated_column",
            ProblemKind::NoDataRows => "no_data_rows",
            ProblemKind::WrongFieldCount { .. } => "wrong_field_count",
            ProblemKind::EmptyValue { .. } => "empty_value",
            ProblemKind::TooLong { .. } => "too_long",
            ProblemKind::ControlChar { .. } => "control_char",
            ProblemKind::InvisibleChar { .. } => "invisible_char",
            ProblemKind::NothingVisible { .. } => "nothing_visible",
            ProblemKind::NotANumber { .. } => "not_a_number",
            ProblemKind::Negative { .. } => "negative",
            ProblemKind::NotWhole { .. } => "not_whole",
            ProblemKind::TooLarge { .. } => "too_large",
            ProblemKind::InvalidUtf8 => "invalid_utf8",
            ProblemKind::UnclosedQuote => "unclosed_quote",
            ProblemKind::StrayQuote => "stray_quote",
            ProblemKind::TextAfterQuote => "text_after_quote",
            ProblemKind::Duplicate { .. } | ProblemKind::Repeated { .. } => "duplicate",
            ProblemKind::Unreadable { .. } => "unreadable",
        }
    }
}

/// How many problems a report keeps whole. A file with two million bad
/// lines is rejected with its first hundred problems and a count of every
/// kind, not a report of hundreds of megabytes.
pub const SHOWN_PROBLEMS: usize = 100;

/// A file's problems: the first `SHOWN_PROBLEMS` (by line) kept, all counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemLog {
    pub shown: Vec<Problem>,
    pub total: u64,
    pub by_kind: BTreeMap<String, u64>,
}

impl ProblemLog {
    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        *self.by_kind.entry(problem.kind.code().to_string()).or_default() += 1;
        self.shown.push(problem);
        if self.shown.len() > 2 * SHOWN_PROBLEMS {
            self.trim();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Adds another log's problems and counts to this one.
    pub fn absorb(&mut self, other: ProblemLog) {
        self.total += other.total;
        for (kind, n) in other.by_kind {
            *self.by_kind.entry(kind).or_default() += n;
        }
        self.shown.extend(other.shown);
        self.trim();
    }

    /// The first `SHOWN_PROBLEMS`, in line order.
    pub fn trim(&mut self) {
        self.shown.sort_by_key(|p| (p.line, p.column));
        self.shown.truncate(SHOWN_PROBLEMS);
    }
}
