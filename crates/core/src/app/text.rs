//! Text people type that every later terminal shows (who acknowledged, a
//! note): one visible line of a sane length, or an error naming what is
//! wrong. One check for the CLI's flags and the console's prompts.

use super::AppError;
use std::fmt;

/// Longest name and note kept: a line in a listing, not a file.
pub const MAX_NAME_BYTES: usize = 256;
pub const MAX_NOTE_BYTES: usize = 2000;

/// Which typed text a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Who acts (`--by`, `STOCKWATCH_USER`).
    Name,
    /// Why, or what is being done about it (`--note`, the console's prompt).
    Note,
    /// A store named to find or snooze (`--store`).
    Store,
    /// An item named to find or snooze (`--item`).
    Item,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Name => "the name",
            Field::Note => "the note",
            Field::Store => "the store name",
            Field::Item => "the item name",
        })
    }
}

impl Field {
    fn max_bytes(self) -> usize {
        match self {
            Field::Name => MAX_NAME_BYTES,
            Field::Note => MAX_NOTE_BYTES,
            Field::Store => stockwatch_domain::MAX_STORE_BYTES,
            Field::Item => stockwatch_domain::MAX_ITEM_BYTES,
        }
    }
}

/// `text` trimmed, if it is a line fit to keep and show.
pub fn checked(field: Field, text: &str) -> Result<String, AppError> {
    let text = text.trim();
    let invalid = |problem: String| AppError::Invalid { field, problem };
    if text.is_empty() {
        return Err(invalid("is empty".into()));
    }
    if text.len() > field.max_bytes() {
        return Err(invalid(format!(
            "is {} bytes; the most is {}",
            text.len(),
            field.max_bytes()
        )));
    }
    stockwatch_domain::names::check_line(text).map_err(|ch| {
        invalid(format!(
            "contains {ch}, which would be shown raw on every terminal that lists it; write plain text on one line"
        ))
    })?;
    Ok(text.to_string())
}

/// A store or item name as typed, kept as the files' names are (trimmed,
/// composed, checked): one rule for every flag, prompt and setting.
pub fn name(field: Field, text: &str) -> Result<String, AppError> {
    stockwatch_domain::names::name_argument(text, field.max_bytes()).map_err(|problem| AppError::Invalid {
        field,
        problem: problem.to_string(),
    })
}

/// A note if one was written (blank is none), checked.
pub fn optional_note(note: Option<&str>) -> Result<Option<String>, AppError> {
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => checked(Field::Note, note).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_kept_trimmed_and_what_is_wrong_is_named() {
        assert_eq!(checked(Field::Name, "  ana@ops ").unwrap(), "ana@ops");
        let said = |field, text: &str| checked(field, text).unwrap_err().to_string();
        assert_eq!(said(Field::Note, "  "), "the note is empty");
        assert_eq!(
            said(Field::Name, &"x".repeat(300)),
            "the name is 300 bytes; the most is 256"
        );
        assert!(
            said(Field::Note, "two\nlines").starts_with("the note contains"),
            "{}",
            said(Field::Note, "a\nb")
        );
        assert!(said(Field::Note, "evil \u{202e}txt").contains("RIGHT-TO-LEFT OVERRIDE"));
        assert_eq!(optional_note(Some("   ")).unwrap(), None);
        assert_eq!(optional_note(None).unwrap(), None);
    }
}
