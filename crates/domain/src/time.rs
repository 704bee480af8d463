//! Milliseconds since the Unix epoch: the one time type of the system.
//! As-of times, write times and alert times are all compared as integers.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// JSON carries RFC 3339 text (what scripts expect); milliseconds are read too.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Millis(i64),
        }
        match Either::deserialize(deserializer)? {
            Either::Millis(ms) => Ok(Timestamp(ms)),
            Either::Text(text) => Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// How far ahead of this machine's clock an as-of time may be. Newest
/// snapshot wins, so an as-of in the future would hide every real snapshot
/// of its items until that time comes (one typo in a year, and outages go
/// unseen); a few minutes allow for clocks that disagree a little.
pub const MAX_AS_OF_AHEAD_MS: i64 = 5 * 60 * 1000;

/// The earliest as-of time taken: 2000-01-01T00:00:00Z.
pub const EARLIEST_AS_OF_MS: i64 = 946_684_800_000;

/// Refuses an as-of time too far ahead of `now`, saying why.
pub fn check_as_of(as_of: Timestamp, now: Timestamp) -> Result<(), String> {
    let ahead = as_of.0.saturating_sub(now.0);
    if ahead <= MAX_AS_OF_AHEAD_MS {
        return Ok(());
    }
    Err(format!(
        "the as-of time {} is {} ahead of this machine's clock ({}); newest snapshot wins, so it would hide every \
         later snapshot of these items until then. Give a time at most {} minutes ahead (or fix the clock)",
        as_of.to_rfc3339(),
        describe_span(ahead),
        now.to_rfc3339(),
        MAX_AS_OF_AHEAD_MS / 60_000
    ))
}

/// An as-of time people give (`--as-of`, `--spread`) is from 2000 on:
/// before it, times show as 1970 and alert identities lose their as-of.
pub fn check_as_of_given(as_of: Timestamp, now: Timestamp) -> Result<(), String> {
    if as_of.0 < EARLIEST_AS_OF_MS {
        return Err(format!(
            "the as-of time {} is before 2000-01-01; give the time the counts were taken",
            as_of.to_rfc3339()
        ));
    }
    check_as_of(as_of, now)
}

/// `3 days`, `2 hours`, `7 minutes`: a span for people.
pub fn describe_span(ms: i64) -> String {
    let (n, unit) = match ms {
        ms if ms >= 2 * 86_400_000 => (ms / 86_400_000, "days"),
        ms if ms >= 2 * 3_600_000 => (ms / 3_600_000, "hours"),
        ms if ms >= 2 * 60_000 => (ms / 60_000, "minutes"),
        ms => (ms / 1000, "seconds"),
    };
    format!("{n} {unit}")
}

/// `45 s`, `12 min`, `1 h`, `2 h 5 min`, `3 d 4 h`: a span for people in
/// the fewest characters (messages, SMS), to the minute below a day.
pub fn short_span(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Timestamp((nanos / 1_000_000) as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 time such as `2026-11-26T09:30:00Z` or `2026-11-26T10:30:00+01:00`.
    pub fn parse_rfc3339(text: &str) -> Result<Self, String> {
        let parsed = OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
            format!(
                "`{}` is not an RFC 3339 time; write it like 2026-11-26T09:30:00Z",
                crate::escape_for_terminal(text)
            )
        })?;
        Ok(Timestamp((parsed.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 in UTC with milliseconds, for JSON and logs.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .format(&Rfc3339)
            .unwrap_or_else(|_| self.0.to_string())
    }

    /// `2026-11-26 22:24:33Z`: short enough for a table column, still unambiguous.
    pub fn to_display(self) -> String {
        let t = self.to_datetime();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl Timestamp {
    /// `20261126-222433.123`: sortable and safe in file names and object keys.
    pub fn to_compact(self) -> String {
        let t = self.to_datetime();
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}.{:03}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_and_offsets_to_the_same_instant() {
        let a = Timestamp::parse_rfc3339("2026-11-26T09:30:00Z").unwrap();
        let b = Timestamp::parse_rfc3339("2026-11-26T10:30:00+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_rfc3339(), "2026-11-26T09:30:00Z");
        assert_eq!(a.to_display(), "2026-11-26 09:30:00Z");
        assert_eq!(a.to_compact(), "20261126-093000.000");
    }

    #[test]
    fn rejects_words_with_an_example() {
        let err = Timestamp::parse_rfc3339("yesterday").unwrap_err();
        assert!(err.contains("2026-11-26T09:30:00Z"), "{err}");
    }

    #[test]
    fn json_is_rfc3339_and_reads_back() {
        let t = Timestamp::parse_rfc3339("2026-11-26T09:30:00.5Z").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-26T09:30:00.5Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert_eq!(serde_json::from_str::<Timestamp>("1000").unwrap(), Timestamp(1000));
    }

    #[test]
    fn keeps_milliseconds() {
        let t = Timestamp::parse_rfc3339("2026-01-02T03:04:05.678Z").unwrap();
        assert_eq!(t.millis() % 1000, 678);
        assert_eq!(t.to_rfc3339(), "2026-01-02T03:04:05.678Z");
    }

    #[test]
    fn an_as_of_far_ahead_of_the_clock_is_refused_with_why() {
        let now = Timestamp::parse_rfc3339("2026-11-30T12:00:00Z").unwrap();
        assert!(check_as_of(now, now).is_ok());
        assert!(
            check_as_of(Timestamp(now.0 + MAX_AS_OF_AHEAD_MS), now).is_ok(),
            "clocks may disagree a little"
        );
        assert!(check_as_of(Timestamp(0), now).is_ok(), "the past is fine");
        // What people give starts in 2000.
        assert!(check_as_of_given(Timestamp(EARLIEST_AS_OF_MS), now).is_ok());
        let err = check_as_of_given(Timestamp(0), now).unwrap_err();
        assert!(err.contains("before 2000-01-01"), "{err}");
        assert!(check_as_of_given(Timestamp(-86_400_000), now).is_err(), "1969 too");
        let far = Timestamp::parse_rfc3339("9999-12-31T23:59:59Z").unwrap();
        let err = check_as_of(far, now).unwrap_err();
        assert!(
            err.contains("9999-12-31T23:59:59Z") && err.contains("days ahead"),
            "{err}"
        );
        assert!(
            err.contains("hide every later snapshot") && err.contains("5 minutes"),
            "{err}"
        );
        let err = check_as_of(Timestamp(now.0 + 10 * 60_000), now).unwrap_err();
        assert!(err.contains("10 minutes ahead"), "{err}");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        let s = std::time::Duration::from_secs;
        assert_eq!(short_span(s(2)), "2 s");
        assert_eq!(short_span(s(120)), "2 min");
        assert_eq!(short_span(s(3600)), "1 h");
        assert_eq!(short_span(s(3600 + 300)), "1 h 5 min");
        assert_eq!(short_span(s(86_400)), "1 d");
        assert_eq!(short_span(s(2 * 86_400 + 3 * 3600)), "2 d 3 h");
    }
}
