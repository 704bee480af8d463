//! Invisible characters that carry meaning where they stand: joiners and
//! variation selectors that scripts and emoji need. Everywhere else they
//! only hide a difference (`Ber\u{ad}lin` reads "Berlin"), and names refuse
//! them. The rules, from Unicode's own data (joining types, combining
//! classes, emoji properties):
//!
//! - ZERO WIDTH NON-JOINER after a virama, or between a letter that joins
//!   on its left and one that joins on its right (RFC 5892, Appendix A.1:
//!   Persian `می‌خواهم`);
//! - ZERO WIDTH JOINER after a virama (RFC 5892, Appendix A.2: Hindi
//!   `क्‍ष`), or between two emoji (UTS #51 ZWJ sequences: `👨‍👩‍👧`);
//! - VARIATION SELECTOR-15/16 after an emoji or a keycap base (`1️⃣`, `❤️`);
//! - Mongolian free variation selectors after a Mongolian letter;
//! - tag characters after an emoji, ended by CANCEL TAG (UTS #51 tag
//!   sequences: the flag of Scotland).
//!
//! Never at a name's start, and a joiner never at its end.

use unicode_joining_type::{JoiningType, get_joining_type};
use unicode_normalization::char::canonical_combining_class;
use unicode_properties::UnicodeEmoji;

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';
const CANCEL_TAG: char = '\u{E007F}';
/// Canonical_Combining_Class=Virama.
const VIRAMA: u8 = 9;

/// Whether `chars[i]`, an invisible character, means something where it stands.
pub fn meaningful_at(chars: &[char], i: usize) -> bool {
    let Some(&c) = chars.get(i) else { return false };
    if i == 0 {
        return false;
    }
    let before = chars[i - 1];
    let last = i + 1 == chars.len();
    match c {
        ZWNJ => !last && (is_virama(before) || joins_across(chars, i)),
        ZWJ => !last && (is_virama(before) || between_emoji(chars, i)),
        '\u{FE0E}' | '\u{FE0F}' => is_emoji(before) || matches!(before, '0'..='9' | '#' | '*'),
        '\u{180B}'..='\u{180D}' | '\u{180F}' => matches!(before, '\u{1820}'..='\u{1878}' | '\u{1880}'..='\u{18AA}'),
        '\u{E0020}'..='\u{E007E}' | CANCEL_TAG => in_tag_sequence(chars, i),
        _ => false,
    }
}

fn is_virama(c: char) -> bool {
    canonical_combining_class(c) == VIRAMA
}

fn is_emoji(c: char) -> bool {
    c.is_emoji_char() && !c.is_ascii()
}

/// `(L|D) T* ZWNJ T* (R|D)`: a letter joining on its left before, one
/// joining on its right after, only transparent marks between.
fn joins_across(chars: &[char], i: usize) -> bool {
    let kind = |c: char| get_joining_type(c);
    let left = chars[..i]
        .iter()
        .rev()
        .map(|&c| kind(c))
        .find(|&t| t != JoiningType::Transparent);
    let right = chars[i + 1..]
        .iter()
        .map(|&c| kind(c))
        .find(|&t| t != JoiningType::Transparent);
    matches!(left, Some(JoiningType::LeftJoining | JoiningType::DualJoining))
        && matches!(right, Some(JoiningType::RightJoining | JoiningType::DualJoining))
}

/// An emoji before (after its presentation selector or skin-tone modifier)
/// and an emoji after.
fn between_emoji(chars: &[char], i: usize) -> bool {
    let modifier = |c: char| matches!(c, '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}');
    let before = chars[..i].iter().rev().copied().find(|&c| !modifier(c));
    before.is_some_and(is_emoji) && chars.get(i + 1).copied().is_some_and(is_emoji)
}

/// Tag characters run from an emoji to a CANCEL TAG, with at least one
/// tag between.
fn in_tag_sequence(chars: &[char], i: usize) -> bool {
    let tag = |c: char| matches!(c, '\u{E0020}'..='\u{E007E}');
    let start = chars[..i].iter().rposition(|&c| !tag(c)).map_or(0, |p| p + 1);
    let base_ok = start > 0 && is_emoji(chars[start - 1]);
    let end = chars[i..].iter().position(|&c| !tag(c)).map(|p| i + p);
    let cancelled = match chars[i] {
        CANCEL_TAG => true,
        _ => end.is_some_and(|e| chars[e] == CANCEL_TAG),
    };
    let has_tags = start < i || (chars[i] != CANCEL_TAG);
    base_ok && cancelled && has_tags
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The invisible characters these tests use.
    fn invisible(c: char) -> bool {
        matches!(c, ZWNJ | ZWJ | '\u{FE0E}' | '\u{FE0F}' | '\u{180B}'..='\u{180F}' | '\u{E0020}'..='\u{E007F}')
    }

    fn all_meaningful(text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        (0..chars.len())
            .filter(|&i| invisible(chars[i]))
            .all(|i| meaningful_at(&chars, i))
    }

    #[test]
    fn joiners_and_selectors_where_scripts_and_emoji_need_them() {
        for text in [
            "می\u{200C}خواهم",
            "क्\u{200D}ष",
            "क्\u{200C}ष",
            "👨\u{200D}👩\u{200D}👧",
            "🏳\u{FE0F}\u{200D}🌈",
            "👩🏽\u{200D}💻",
            "1\u{FE0F}\u{20E3}",
            "❤\u{FE0F}",
            "ᠠ\u{180B}",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        ] {
            assert!(all_meaningful(text), "{text:?}");
        }
    }

    #[test]
    fn alone_at_the_ends_or_hiding_a_difference_they_mean_nothing() {
        for text in [
            "\u{200D}",
            "Ber\u{200D}lin",
            "Ber\u{200C}lin",
            "क्\u{200D}",
            "\u{200C}می",
            "a\u{FE0F}",
            "\u{FE0F}❤",
            "B\u{180B}",
            "🏴\u{E0067}\u{E0062}",
            "Berlin\u{E0067}\u{E007F}",
            "🏴\u{E007F}",
        ] {
            assert!(!all_meaningful(text), "{text:?}");
        }
    }
}
