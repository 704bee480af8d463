//! How the console writes times: short, in the operator's time zone (or UTC
//! with `--utc` / `time = "utc"`). A time of today is `00:04`, of another
//! day this year `Nov 29`, of another year `2025-11-29`; the detail view
//! gives the whole time with its zone. The zone is read once at startup;
//! converting is pure, so drawing does no I/O. "Today" is the clock's, set
//! by `update` (the run loop sends a tick at midnight).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use stockwatch_domain::Timestamp;

#[derive(Debug, Clone)]
pub struct Clock {
    zone: TimeZone,
    utc: bool,
    today: Date,
}

impl Clock {
    /// The system's time zone (TZ, else /etc/localtime), UTC if unknown.
    pub fn local(now: Timestamp) -> Clock {
        Clock::in_zone(TimeZone::try_system().unwrap_or(TimeZone::UTC), false, now)
    }

    /// UTC whatever TZ says, "today" included.
    pub fn utc(now: Timestamp) -> Clock {
        Clock::in_zone(TimeZone::UTC, true, now)
    }

    /// A fixed offset from UTC, in hours (tests).
    pub fn fixed(hours: i8, now: Timestamp) -> Clock {
        let offset = jiff::tz::Offset::from_hours(hours).unwrap_or(jiff::tz::Offset::UTC);
        Clock::in_zone(TimeZone::fixed(offset), false, now)
    }

    fn in_zone(zone: TimeZone, utc: bool, now: Timestamp) -> Clock {
        let mut clock = Clock {
            zone,
            utc,
            today: Date::default(),
        };
        clock.set_now(now);
        clock
    }

    fn zoned(&self, t: Timestamp) -> jiff::Zoned {
        jiff::Timestamp::from_millisecond(t.0)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(self.zone.clone())
    }

    /// Moves "today" to the day of `now`; returns whether it changed.
    pub fn set_now(&mut self, now: Timestamp) -> bool {
        let today = self.zoned(now).date();
        std::mem::replace(&mut self.today, today) != today
    }

    /// How long from `now` until the next day starts here.
    pub fn until_tomorrow(&self, now: Timestamp) -> std::time::Duration {
        let zoned = self.zoned(now);
        let next = zoned
            .date()
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(self.zone.clone()).ok())
            .map_or(now.0 + 86_400_000, |z| z.timestamp().as_millisecond());
        std::time::Duration::from_millis((next - now.0).max(1000) as u64)
    }

    /// `00:04` today, `Nov 29` this year, `2025-11-29` before.
    pub fn short(&self, t: Timestamp) -> String {
        let zoned = self.zoned(t);
        let date = zoned.date();
        if date == self.today {
            zoned.strftime("%H:%M").to_string()
        } else if date.year() == self.today.year() {
            zoned.strftime("%b %d").to_string()
        } else {
            zoned.strftime("%Y-%m-%d").to_string()
        }
    }

    /// A time to come or gone with its hour whatever the day: `14:30`
    /// today, `Dec 08 14:30` another day (a snooze's end).
    pub fn day_and_hour(&self, t: Timestamp) -> String {
        let zoned = self.zoned(t);
        if zoned.date() == self.today {
            zoned.strftime("%H:%M").to_string()
        } else if zoned.date().year() == self.today.year() {
            zoned.strftime("%b %d %H:%M").to_string()
        } else {
            zoned.strftime("%Y-%m-%d %H:%M").to_string()
        }
    }

    /// To the second: `00:04:14` today, else as `short`.
    pub fn precise(&self, t: Timestamp) -> String {
        let zoned = self.zoned(t);
        if zoned.date() == self.today {
            zoned.strftime("%H:%M:%S").to_string()
        } else {
            self.short(t)
        }
    }

    /// The whole time with its zone: `2026-11-30 00:04:14Z` in UTC,
    /// `2026-11-30 01:04:14 +01:00` elsewhere.
    pub fn full(&self, t: Timestamp) -> String {
        let zoned = self.zoned(t);
        if self.utc || zoned.offset() == jiff::tz::Offset::UTC {
            zoned.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
        } else {
            zoned.strftime("%Y-%m-%d %H:%M:%S %:z").to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn times_of_today_are_short_and_other_days_show_their_date() {
        let clock = Clock::fixed(1, at("2026-11-30T00:30:00Z"));
        assert_eq!(clock.short(at("2026-11-29T23:04:14Z")), "00:04", "00:04 local is today");
        assert_eq!(clock.short(at("2026-11-29T22:59:00Z")), "Nov 29");
        assert_eq!(clock.short(at("2025-11-29T12:00:00Z")), "2025-11-29");
        assert_eq!(clock.full(at("2026-11-29T23:04:14Z")), "2026-11-30 00:04:14 +01:00");
    }

    #[test]
    fn utc_keeps_utc_and_its_own_today() {
        let clock = Clock::utc(at("2026-11-30T00:30:00Z"));
        assert_eq!(clock.short(at("2026-11-29T23:04:14Z")), "Nov 29");
        assert_eq!(clock.short(at("2026-11-30T00:04:14Z")), "00:04");
        assert_eq!(clock.full(at("2026-11-30T00:04:14Z")), "2026-11-30 00:04:14Z");
    }

    #[test]
    fn the_day_moves_on_at_local_midnight() {
        let mut clock = Clock::fixed(1, at("2026-11-30T20:00:00Z"));
        assert_eq!(clock.until_tomorrow(at("2026-11-30T20:00:00Z")).as_secs(), 3 * 3600);
        assert!(!clock.set_now(at("2026-11-30T22:59:00Z")));
        assert!(clock.set_now(at("2026-11-30T23:00:00Z")), "midnight at +01:00");
    }
}
