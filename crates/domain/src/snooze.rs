//! Snoozes: a store, or one item of it, whose new alerts are raised and
//! shown but not notified until a time; a snooze ends by itself.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snooze {
    pub store: String,
    /// `None`: every item of the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    pub until: Timestamp,
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Snooze {
    /// Whether it silences the item's alerts at `now`.
    pub fn covers(&self, store: &str, item: &str, now: Timestamp) -> bool {
        now < self.until && self.store == store && self.item.as_deref().is_none_or(|i| i == item)
    }

    /// "Berlin" or "Berlin / Echo Dot".
    pub fn target(&self) -> String {
        match &self.item {
            Some(item) => format!("{} / {item}", self.store),
            None => self.store.clone(),
        }
    }
}

/// The first active snooze covering an item, if any.
pub fn snoozed<'a>(snoozes: &'a [Snooze], store: &str, item: &str, now: Timestamp) -> Option<&'a Snooze> {
    snoozes.iter().find(|s| s.covers(store, item, now))
}

/// `90s`, `30m`, `2h`, `1d`, or several together (`1h30m`).
/// The longest duration any setting or flag takes: a hundred years (past
/// it, times wrap when added to a date).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 366 * 86_400);

/// The longest span between snapshots (`upload --spread`) and the longest
/// snooze: a year.
pub const MAX_SPAN: Duration = Duration::from_secs(366 * 86_400);

/// A duration of at most `MAX_SPAN`, said as `what` when longer.
pub fn parse_span(text: &str) -> Result<Duration, String> {
    let span = parse_duration(text)?;
    if span > MAX_SPAN {
        return Err(format!(
            "`{}` is longer than a year; give at most 366d",
            super::escape_for_terminal(text)
        ));
    }
    Ok(span)
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let wrong = || {
        format!(
            "`{}` is not a duration; write it like 30m, 2h, 1d or 1h30m",
            super::escape_for_terminal(text)
        )
    };
    let mut total = Duration::ZERO;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| wrong())?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(wrong()),
        };
        total += Duration::from_secs(n.checked_mul(unit).ok_or_else(wrong)?);
    }
    if total > MAX_DURATION {
        return Err(format!(
            "`{}` is longer than a hundred years",
            super::escape_for_terminal(text)
        ));
    }
    if !number.is_empty() || total.is_zero() {
        return Err(wrong());
    }
    Ok(total)
}

/// A wait that may be none: `0`, or a duration as `parse_duration` reads
/// it (a grouping window of `0` sends each batch's alerts at once).
pub fn parse_wait(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_may_be_none() {
        assert_eq!(parse_wait("0"), Ok(Duration::ZERO));
        assert_eq!(parse_wait("30s"), Ok(Duration::from_secs(30)));
        assert!(parse_wait("0s").is_err() && parse_wait("").is_err());
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for wrong in ["", "2", "h", "2 hours", "0m", "-1h"] {
            assert!(parse_duration(wrong).is_err(), "{wrong}");
        }
        // Past a hundred years a date would wrap; past a year is no span.
        for huge in ["99999999999d", "999999999999d", "36600d1s"] {
            assert!(
                parse_duration(huge)
                    .unwrap_err()
                    .contains("longer than a hundred years"),
                "{huge}"
            );
        }
        assert_eq!(parse_span("366d"), Ok(Duration::from_secs(366 * 86_400)));
        assert!(parse_span("367d").unwrap_err().contains("longer than a year"));
    }

    #[test]
    fn a_snooze_covers_its_store_or_item_until_it_ends() {
        let store = Snooze {
            store: "Berlin".into(),
            item: None,
            until: Timestamp(100),
            by: "ana".into(),
            note: None,
        };
        assert!(store.covers("Berlin", "Dot", Timestamp(99)));
        assert!(!store.covers("Berlin", "Dot", Timestamp(100)), "it ends by itself");
        assert!(!store.covers("Pusan", "Dot", Timestamp(1)));
        let item = Snooze {
            item: Some("Dot".into()),
            ..store
        };
        assert!(item.covers("Berlin", "Dot", Timestamp(1)));
        assert!(!item.covers("Berlin", "Tap", Timestamp(1)));
        assert_eq!(item.target(), "Berlin / Dot");
    }
}
