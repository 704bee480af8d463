//! Numbers and counted nouns as people write them: `1 item`, `2 items`,
//! `1,000,036 items`.

pub fn thousands(n: usize) -> String {
    stockwatch_domain::import::thousands(n as u64)
}

/// `n` and the noun, plural unless one: `count(3, "alert")` is `3 alerts`.
pub fn count(n: usize, noun: &str) -> String {
    let suffix = match (n, noun.ends_with('s') || noun.ends_with('x')) {
        (1, _) => "",
        (_, true) => "es",
        _ => "s",
    };
    format!("{} {noun}{suffix}", thousands(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_nouns_agree_and_group_thousands() {
        assert_eq!(count(1, "item"), "1 item");
        assert_eq!(count(0, "item"), "0 items");
        assert_eq!(count(1_000_036, "item"), "1,000,036 items");
        assert_eq!(count(2, "change"), "2 changes");
    }
}
