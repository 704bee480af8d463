//! AWS's time, read from the `Date` header of every response: what the
//! fan-out judges liveness by (a relay's beat, a follower's queue), so a
//! machine whose clock is an hour off neither takes a live relay for a
//! stopped one nor reaps followers that are alive. Between responses it
//! moves on by this process's monotonic clock, never by its wall clock.

use aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use stockwatch_domain::Timestamp;

/// The server's time as last read, shared by every client of a process.
#[derive(Debug, Clone, Default)]
pub struct ServerClock(Arc<Mutex<Option<(i64, Instant)>>>);

impl ServerClock {
    /// The server's time now; none before any response came.
    pub fn now(&self) -> Option<Timestamp> {
        let reading = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        reading.map(|(server_ms, at)| Timestamp(server_ms + at.elapsed().as_millis() as i64))
    }

    /// The server's time, or this machine's before any response came.
    pub fn now_or_local(&self) -> Timestamp {
        self.now().unwrap_or_else(Timestamp::now)
    }

    /// A `Date` header read now. It has whole seconds: the middle of its
    /// second is the best guess, and a reading never moves time back by
    /// less than that second (responses overtake each other).
    pub fn record(&self, date: &str) {
        let Ok(date) = DateTime::from_str(date, DateTimeFormat::HttpDate) else {
            return;
        };
        let Ok(server_ms) = date.to_millis() else { return };
        let server_ms = server_ms + 500;
        let mut reading = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = reading.map(|(ms, at)| ms + at.elapsed().as_millis() as i64);
        if now.is_none_or(|now| (server_ms - now).abs() > 1000) {
            *reading = Some((server_ms, Instant::now()));
        }
    }

    /// What records the `Date` of every response of a client built with it.
    pub fn interceptor(&self) -> DateHeader {
        DateHeader(self.clone())
    }
}

/// Reads the `Date` header of responses into a `ServerClock`.
#[derive(Debug)]
pub struct DateHeader(ServerClock);

impl Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "stockwatch::DateHeader"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            self.0.record(date);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_header_sets_the_time_and_bad_ones_are_ignored() {
        let clock = ServerClock::default();
        assert_eq!(clock.now(), None);
        clock.record("not a date");
        assert_eq!(clock.now(), None);
        clock.record("Mon, 07 Dec 2026 20:36:19 GMT");
        let now = clock.now().unwrap().0;
        assert!((1_796_675_779_500..1_796_675_781_000).contains(&now), "{now}");
        // A response a second older (overtaken) does not set it back.
        clock.record("Mon, 07 Dec 2026 20:36:18 GMT");
        assert!(clock.now().unwrap().0 >= now);
        // A jump (the server's clock, or a new reading after a sleep) does.
        clock.record("Mon, 07 Dec 2026 21:36:19 GMT");
        assert!(clock.now().unwrap().0 >= now + 3_600_000);
    }
}
