//! What only tests turn: leases short enough that a test which kills a
//! process sees its work taken over in a second, and followers' queues
//! abandoned in seconds. Not production settings (a lease shorter than a
//! send or a load makes a slow process look stopped): they have no flag,
//! no config key and no place in the help, and nothing below the settings
//! reads the environment for them. Tests set `STOCKWATCH_TEST_LEASE_MS`
//! and `STOCKWATCH_TEST_ABANDONED_MS` for the binaries they run.

use std::time::Duration;

/// The variables tests set.
pub const LEASE_VAR: &str = "STOCKWATCH_TEST_LEASE_MS";
pub const ABANDONED_VAR: &str = "STOCKWATCH_TEST_ABANDONED_MS";

/// A follower's subscription not kept alive for this long is removed.
pub const ABANDONED: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TestKnobs {
    /// Claims' and loads' lease, instead of the defaults.
    pub lease: Option<Duration>,
    /// When a follower's queue counts as abandoned, instead of `ABANDONED`.
    pub abandoned: Option<Duration>,
}

impl TestKnobs {
    /// The knobs `var` has (none in production).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> TestKnobs {
        let millis = |name| {
            var(name)
                .and_then(|v: String| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        TestKnobs {
            lease: millis(LEASE_VAR),
            abandoned: millis(ABANDONED_VAR),
        }
    }

    /// How long a follower may go unheard before its queue is removed.
    pub fn abandoned(&self) -> Duration {
        self.abandoned.unwrap_or(ABANDONED)
    }

    /// How often followers keep their subscription alive: well within `abandoned`.
    pub fn keep_alive_every(&self) -> Duration {
        (self.abandoned() / 4).min(Duration::from_secs(60))
    }
}
