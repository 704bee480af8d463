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
    TooLong {
        bytes: usize,
        max: usize,
    },
    ControlChar {
        ch: char,
    },
    /// Shows as nothing, or changes how the text around it shows: `Ber\u{ad}lin`
    /// reads "Berlin" but is another store.
    Invisible {
        ch: char,
    },
    /// Nothing in it shows on its own: only spaces, combining marks or
    /// blank symbols (U+2800 BRAILLE PATTERN BLANK), so it reads as empty.
    NothingVisible,
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameProblem::Empty => f.write_str("is empty"),
            NameProblem::TooLong { bytes, max } => write!(f, "is {bytes} bytes; the most is {max}"),
            NameProblem::ControlChar { ch } => write!(f, "contains the control character {}", describe_char(*ch)),
            NameProblem::Invisible { ch } => write!(
                f,
                "contains {}, which shows as nothing: no store or item holds it",
                describe_invisible(*ch)
            ),
            NameProblem::NothingVisible => f.write_str("has nothing that shows by itself"),
        }
    }
}

/// A store or item name as typed (a flag, a setting, a prompt), as the
/// files' names are kept: trimmed, composed (NFC), and checked, so
/// `Cafe\u{301}` finds `Café` everywhere and `Ber\u{ad}lin` is refused
/// rather than matching nothing.
pub fn name_argument(value: &str, max_bytes: usize) -> Result<String, NameProblem> {
    let trimmed = value.trim();
    let name = composed(trimmed).unwrap_or_else(|| trimmed.to_string());
    check_name(&name, max_bytes)?;
    Ok(name)
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
    if let Some(ch) = first_hidden(value) {
        return Err(NameProblem::Invisible { ch });
    }
    if !value.chars().any(is_visible_base) {
        return Err(NameProblem::NothingVisible);
    }
    Ok(())
}

/// The first invisible character that means nothing where it stands (a
/// joiner or selector a script or emoji needs is not one: `joiners`).
fn first_hidden(value: &str) -> Option<char> {
    if !value.chars().any(is_invisible) {
        return None;
    }
    let chars: Vec<char> = value.chars().collect();
    (0..chars.len())
        .find(|&i| is_invisible(chars[i]) && !crate::joiners::meaningful_at(&chars, i))
        .map(|i| chars[i])
}

/// A character that shows by itself: not a space or separator, not a
/// combining mark (it shows only on another), not a control or format
/// character, and not a symbol drawn blank.
fn is_visible_base(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    !matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Mark | GeneralCategoryGroup::Separator | GeneralCategoryGroup::Other
    ) && c != '\u{2800}'
}

/// Free text people type (who acknowledged, a note): one line of visible
/// text, or the first character that is not, named (`U+009B`, `U+202E
/// RIGHT-TO-LEFT OVERRIDE`). It is listed on every later terminal.
pub fn check_line(text: &str) -> Result<(), String> {
    match text.chars().find(|&c| is_unsafe_for_terminal(c)) {
        None => Ok(()),
        Some(ch) if is_invisible(ch) => Err(describe_invisible(ch)),
        Some(ch) => Err(describe_char(ch)),
    }
}

/// Default-ignorable code points and format characters (Unicode's
/// Default_Ignorable_Code_Point and general category Cf): nothing a person
/// sees, so nothing a name may hold.
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF
        // Format characters that are not default-ignorable: they still
        // change how text shows (Arabic number signs, Egyptian controls).
        | 0x0600..=0x0605 | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x110BD | 0x110CD
        | 0x13430..=0x1343F)
}

/// The composed form (NFC) of a name, when it differs: `Cafe\u{301}` and
/// `Café` look the same and must be the same item.
pub fn composed(value: &str) -> Option<String> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    if is_nfc_quick(value.chars()) == IsNormalized::Yes {
        return None;
    }
    let nfc: String = value.nfc().collect();
    (nfc != value).then_some(nfc)
}

/// Characters that must never reach a terminal raw: C0/C1 controls (ESC starts
/// escape sequences), line and paragraph separators, and the invisible
/// bidi/format characters that can make text display as something it is not.
/// Variation selectors stay: they only pick a glyph (the emoji form of ❤).
pub fn is_unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || (is_invisible(c) && !matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}'))
}

/// Escapes `text` for a terminal: unsafe characters become `\u{..}`.
pub fn escape_for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_for_terminal) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    // Joiners and selectors that carry meaning (`joiners`) show as they are:
    // they change no text around them, and escaped they would break the
    // names that need them.
    if chars
        .iter()
        .enumerate()
        .all(|(i, &c)| !is_unsafe_for_terminal(c) || crate::joiners::meaningful_at(&chars, i))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if is_unsafe_for_terminal(c) && !crate::joiners::meaningful_at(&chars, i) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// JSON text made safe for a terminal, and still the same JSON: characters
/// unsafe for a terminal (only ever inside strings, since JSON's own syntax
/// is ASCII) become `\uXXXX` escapes, surrogate pairs above the BMP.
pub fn terminal_safe_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe_for_terminal) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        // Newlines between pretty-printed lines are JSON's own whitespace.
        if c == '\n' || !is_unsafe_for_terminal(c) {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            out.push_str(&format!("\\u{unit:04x}"));
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

/// An invisible character with its Unicode name, e.g. `U+00AD SOFT HYPHEN`.
pub fn describe_invisible(ch: char) -> String {
    let name = match ch as u32 {
        0x00AD => "SOFT HYPHEN",
        0x034F => "COMBINING GRAPHEME JOINER",
        0x061C => "ARABIC LETTER MARK",
        0x115F => "HANGUL CHOSEONG FILLER",
        0x1160 => "HANGUL JUNGSEONG FILLER",
        0x180E => "MONGOLIAN VOWEL SEPARATOR",
        0x180B..=0x180D | 0x180F => "MONGOLIAN FREE VARIATION SELECTOR",
        0x200B => "ZERO WIDTH SPACE",
        0x200C => "ZERO WIDTH NON-JOINER",
        0x200D => "ZERO WIDTH JOINER",
        0x200E => "LEFT-TO-RIGHT MARK",
        0x200F => "RIGHT-TO-LEFT MARK",
        0x202A => "LEFT-TO-RIGHT EMBEDDING",
        0x202B => "RIGHT-TO-LEFT EMBEDDING",
        0x202C => "POP DIRECTIONAL FORMATTING",
        0x202D => "LEFT-TO-RIGHT OVERRIDE",
        0x202E => "RIGHT-TO-LEFT OVERRIDE",
        0x2060 => "WORD JOINER",
        0x2066 => "LEFT-TO-RIGHT ISOLATE",
        0x2067 => "RIGHT-TO-LEFT ISOLATE",
        0x2068 => "FIRST STRONG ISOLATE",
        0x2069 => "POP DIRECTIONAL ISOLATE",
        0x3164 => "HANGUL FILLER",
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF => "VARIATION SELECTOR",
        0xFEFF => "ZERO WIDTH NO-BREAK SPACE",
        0xFFA0 => "HALFWIDTH HANGUL FILLER",
        0xFFF9 => "INTERLINEAR ANNOTATION ANCHOR",
        0xFFFA => "INTERLINEAR ANNOTATION SEPARATOR",
        0xFFFB => "INTERLINEAR ANNOTATION TERMINATOR",
        0xE0001 => "LANGUAGE TAG",
        0xE0020..=0xE007F => "TAG CHARACTER",
        _ => "an invisible format character",
    };
    format!("U+{:04X} {name}", ch as u32)
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
    fn names_with_nothing_that_shows_by_itself_are_refused() {
        for blank in ["\u{2800}", "\u{301}", "\u{3000}", "\u{301}\u{308}", "\u{2800} \u{2800}"] {
            assert_eq!(check_name(blank, 100), Err(NameProblem::NothingVisible), "{blank:?}");
        }
        for fine in ["e\u{301}", "Café", "🍎", "東京", "7", "A\u{2800}B", "·"] {
            assert_eq!(check_name(fine, 100), Ok(()), "{fine:?}");
        }
    }

    #[test]
    fn invisible_characters_are_refused_and_named() {
        for (name, ch, said) in [
            ("Ber\u{ad}lin", '\u{ad}', "U+00AD SOFT HYPHEN"),
            ("\u{3164}", '\u{3164}', "U+3164 HANGUL FILLER"),
            ("Dot\u{180e}", '\u{180e}', "U+180E MONGOLIAN VOWEL SEPARATOR"),
            ("Dot\u{e0041}", '\u{e0041}', "U+E0041 TAG CHARACTER"),
            ("a\u{fff9}b\u{fffb}", '\u{fff9}', "U+FFF9 INTERLINEAR ANNOTATION ANCHOR"),
            ("\u{202e}tloB", '\u{202e}', "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ] {
            assert_eq!(check_name(name, 100), Err(NameProblem::Invisible { ch }), "{name:?}");
            assert_eq!(describe_invisible(ch), said);
        }
        assert_eq!(check_name("Echo Dot (3rd Gen) – ünd 上海", 100), Ok(()));
    }

    #[test]
    fn typed_names_are_kept_as_files_names_are() {
        assert_eq!(name_argument(" Cafe\u{301} ", MAX_STORE_BYTES).unwrap(), "Café");
        assert_eq!(name_argument("", MAX_STORE_BYTES), Err(NameProblem::Empty));
        assert_eq!(
            name_argument("Ber\u{ad}lin", MAX_STORE_BYTES),
            Err(NameProblem::Invisible { ch: '\u{ad}' })
        );
        assert_eq!(
            name_argument("Ber\u{ad}lin", MAX_STORE_BYTES).unwrap_err().to_string(),
            "contains U+00AD SOFT HYPHEN, which shows as nothing: no store or item holds it"
        );
    }

    #[test]
    fn decomposed_names_compose() {
        assert_eq!(composed("Cafe\u{301}"), Some("Café".to_string()));
        assert_eq!(composed("Café"), None);
        assert_eq!(composed("Berlin"), None);
    }

    #[test]
    fn escaping_neutralises_escape_sequences_and_bidi() {
        assert_eq!(escape_for_terminal("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(escape_for_terminal("a\tb\nc"), "a\\tb\\nc");
        assert_eq!(escape_for_terminal("abc\u{202E}def"), "abc\\u{202e}def");
        assert!(matches!(
            escape_for_terminal("Berlin Üß 上海 ❤\u{FE0F}"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape_for_terminal("Ber\u{ad}lin\u{2028}"), "Ber\\u{ad}lin\\u{2028}");
    }

    #[test]
    fn json_made_terminal_safe_is_the_same_json() {
        let value = serde_json::json!({
            "name": "a\u{9b}31m\u{202E}b\u{2066}c\u{2028}d\u{E0041}e\u{7f}",
            "fine": "Café 上海 ❤\u{FE0F}",
        });
        let raw = serde_json::to_string_pretty(&value).unwrap();
        let safe = terminal_safe_json(&raw);
        assert!(safe.chars().all(|c| c == '\n' || !is_unsafe_for_terminal(c)), "{safe}");
        assert!(safe.contains("\\u009b") && safe.contains("\\udb40\\udc41"), "{safe}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
        assert!(matches!(terminal_safe_json("{\"fine\":\"Café\"}"), Cow::Borrowed(_)));
    }
}
