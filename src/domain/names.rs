//! Store and item names: their limits (DynamoDB's key limits, so both backends
//! accept the same names) and how any text is made safe to show on a terminal.

use std::borrow::Cow;

/// DynamoDB partition key limit (the store is the partition key).
pub const MAX_STORE_BYTES: usize = 2048;
/// DynamoDB sort key limit (the item is the sort key).
pub const MAX_ITEM_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    TooLong { bytes: usize, max: usize },
    ControlChar { ch: char },
}

/// Checks a trimmed store or item name against the limits.
pub fn check_name(value: &str, max_bytes: usize) -> Result<(), NameProblem> {
    if value.is_empty() {
        return Err(NameProblem::Empty);
    }
    if value.len() > max_bytes {
        return Err(NameProblem::TooLong {
            bytes: value.len(),
            max: max_bytes,
        });
    }
    if let Some(ch) = value.chars().find(|c| c.is_control()) {
        return Err(NameProblem::ControlChar { ch });
    }
    Ok(())
}

/// Characters that must never reach a terminal raw: C0/C1 controls (ESC starts
/// escape sequences) and the invisible bidi/format characters that can make
/// text display as something it is not.
fn is_unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Escapes every unsafe character as `\u{1b}` (tab as `\t`, newline as `\n`);
/// everything else is returned untouched, without allocating.
pub fn escape_for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_for_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_for_terminal(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Short readable name of a control character for error messages, e.g. `U+001B (ESC)`.
pub fn describe_char(ch: char) -> String {
    let name = match ch {
        '\0' => Some("NUL"),
        '\t' => Some("TAB"),
        '\n' => Some("LF"),
        '\r' => Some("CR"),
        '\u{1b}' => Some("ESC"),
        '\u{7f}' => Some("DEL"),
        _ => None,
    };
    match name {
        Some(n) => format!("U+{:04X} ({n})", ch as u32),
        None => format!("U+{:04X}", ch as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bytes_not_chars() {
        let store = "ü".repeat(1024); // 2048 bytes
        assert_eq!(check_name(&store, MAX_STORE_BYTES), Ok(()));
        let too_long = format!("{store}x");
        assert_eq!(
            check_name(&too_long, MAX_STORE_BYTES),
            Err(NameProblem::TooLong { bytes: 2049, max: 2048 })
        );
        assert!(check_name(&"i".repeat(1025), MAX_ITEM_BYTES).is_err());
        assert!(check_name(&"i".repeat(1024), MAX_ITEM_BYTES).is_ok());
    }

    #[test]
    fn control_characters_are_named() {
        assert_eq!(
            check_name("Echo\u{1b}[31m", 100),
            Err(NameProblem::ControlChar { ch: '\u{1b}' })
        );
        assert_eq!(check_name("a\0b", 100), Err(NameProblem::ControlChar { ch: '\0' }));
        assert_eq!(check_name("", 100), Err(NameProblem::Empty));
        assert_eq!(describe_char('\u{1b}'), "U+001B (ESC)");
        assert_eq!(describe_char('\u{85}'), "U+0085");
    }

    #[test]
    fn escaping_neutralises_escape_sequences_and_bidi() {
        assert_eq!(escape_for_terminal("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(escape_for_terminal("a\tb\nc"), "a\\tb\\nc");
        assert_eq!(escape_for_terminal("abc\u{202E}def"), "abc\\u{202e}def");
        assert!(matches!(escape_for_terminal("Berlin Üß 上海"), Cow::Borrowed(_)));
    }
}
