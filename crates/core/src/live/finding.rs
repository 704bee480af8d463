//! Finding by name as people type it: case and accents do not matter
//! ("sao" finds "São Paulo"), nor where in the name the text is
//! ("paulista"). `:store` and Tab rank what they find (the name itself,
//! then names starting with the text, then names with a word starting
//! with it), and take a fuzzy match when no name holds the text. Folding
//! and the fuzzy score are nucleo's (the matcher of the helix editor); the
//! substring test is done here on folded text, as nucleo 0.3's misses a
//! second occurrence in non-ASCII names ("lista" in "São Paulo Paulista").

use nucleo_matcher::chars::{normalize, to_lower_case};
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// A text as it is compared: lower case (Unicode's simple folding), Latin
/// letters without their accents (nucleo's tables: "São" → "sao").
pub fn fold(text: &str) -> String {
    text.chars().map(|c| normalize(to_lower_case(c))).collect()
}

/// What was typed, folded once, to look for in many names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    folded: String,
}

impl Needle {
    pub fn substring(typed: &str) -> Needle {
        Needle { folded: fold(typed) }
    }

    /// Where in a name (in bytes of its folded text) it is first found.
    pub fn position(&self, name: &str) -> Option<usize> {
        fold(name).find(&self.folded)
    }

    pub fn is_in(&self, name: &str) -> bool {
        // ASCII folds to its lower case: compared in place, no copy (a
        // search over a million names of a chain is mostly this).
        if name.is_ascii() && self.folded.is_ascii() {
            let needle = self.folded.as_bytes();
            return needle.is_empty()
                || name
                    .as_bytes()
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle));
        }
        self.position(name).is_some()
    }
}

/// The names that hold `typed`, best first: one equal to it but for case
/// and accents, then those starting with it, then those with a word
/// starting with it, then the rest (earlier first; folded name order on a tie);
/// with none, the names holding its letters in order, by nucleo's score.
pub fn find<'a>(names: &'a [String], typed: &str) -> Vec<&'a String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return names.iter().collect();
    }
    let needle = Needle::substring(typed);
    let mut found: Vec<(u8, usize, String, &String)> = names
        .iter()
        .filter_map(|name| {
            let folded = fold(name);
            let at = folded.find(&needle.folded)?;
            let word_start = folded[..at].chars().next_back().is_some_and(|c| !c.is_alphanumeric());
            let rank = match at {
                0 if folded.len() == needle.folded.len() => 0,
                0 => 1,
                _ if word_start => 2,
                _ => 3,
            };
            Some((rank, at, folded, name))
        })
        .collect();
    if found.is_empty() {
        // Folded on both sides, so nucleo compares plain letters.
        let atom = Atom::new(
            &needle.folded,
            CaseMatching::Ignore,
            Normalization::Never,
            AtomKind::Fuzzy,
            false,
        );
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        found = names
            .iter()
            .filter_map(|name| {
                let folded = fold(name);
                let score = atom.score(Utf32Str::new(&folded, &mut buf), &mut matcher)?;
                Some((4, usize::from(u16::MAX - score), folded, name))
            })
            .collect();
    }
    // Ties in the order people read names: "São" between "Sao" and "Sap".
    found.sort_by(|a, b| (a.0, a.1, &a.2, a.3).cmp(&(b.0, b.1, &b.2, b.3)));
    found.into_iter().map(|(_, _, _, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_ascii_shortcut_finds_what_folding_finds(name in "[ -~]{0,24}", typed in "[ -~]{0,4}") {
            let needle = Needle::substring(&typed);
            prop_assert_eq!(needle.is_in(&name), fold(&name).contains(&fold(&typed)));
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn case_accents_and_place_in_the_name_do_not_matter() {
        let stores = names(&["Berlin", "São Paulo Paulista", "Sapporo", "Shanghai", "東京 渋谷"]);
        assert_eq!(find(&stores, "sao")[0], "São Paulo Paulista");
        assert_eq!(find(&stores, "SAO")[0], "São Paulo Paulista");
        assert_eq!(find(&stores, "paulista"), [&stores[1]]);
        assert_eq!(find(&stores, "渋谷"), [&stores[4]]);
        assert_eq!(find(&stores, "sh")[0], "Shanghai", "a name starting with it first");
        assert_eq!(find(&stores, "berlin"), [&stores[0]]);
        // Nothing holds "spro" as typed: its letters in order do.
        assert_eq!(find(&stores, "spro")[0], "Sapporo");
        assert!(find(&stores, "xyz").is_empty());
        let filter = Needle::substring("PAULO");
        assert!(filter.is_in("São Paulo Paulista") && !filter.is_in("Berlin"));
        assert!(Needle::substring("lista").is_in("São Paulo Paulista"));
        assert!(Needle::substring("ZÜRICH").is_in("Zürich HB") && Needle::substring("zurich").is_in("Zürich HB"));
    }

    #[test]
    fn the_name_itself_comes_before_longer_ones() {
        let stores = names(&["Berlin Mitte", "Berlin", "Alt-Berlin"]);
        assert_eq!(find(&stores, "berlin"), [&stores[1], &stores[0], &stores[2]]);
    }
}
