//! Waiting after failures, in one place: `Backoff` (exponential, full
//! jitter) says how long; `RetryPolicy` retries one call a few times and
//! announces each retry; `Failures` paces a loop that never gives up (a
//! console's follower, `watch`).
//!
//! This is the only retry layer. The AWS SDK clients make one attempt per
//! call (see `adapters::aws::Clients`), so a throttled call costs at most
//! `attempts` requests, and every retry is one people can be shown.

use crate::ports::{PortError, PortResult};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Exponential backoff with full jitter (AWS's advice): the wait before
/// retry `n` is uniform in [0, min(max, base·2ⁿ⁻¹)], so many clients that
/// failed together do not all come back together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn new(base: Duration, max: Duration) -> Backoff {
        Backoff { base, max }
    }

    /// The longest wait before retry `n` (1-based).
    pub fn ceiling(&self, n: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << n.saturating_sub(1).min(20))
            .min(self.max)
    }

    /// The wait before retry `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        let fraction = (next_random() % 10_000) as f64 / 10_000.0;
        self.ceiling(n).mul_f64(fraction)
    }
}

/// A loop's run of failures: each one lengthens the next wait, a success
/// starts over. For loops that keep going whatever happens.
#[derive(Debug, Clone)]
pub struct Failures {
    backoff: Backoff,
    count: u32,
}

impl Failures {
    pub fn new(backoff: Backoff) -> Failures {
        Failures { backoff, count: 0 }
    }

    /// Counts a failure; returns how long to wait before trying again.
    pub fn failed(&mut self) -> Duration {
        self.count = self.count.saturating_add(1);
        self.backoff.delay(self.count)
    }

    /// Counts a success; returns whether it ends a run of failures.
    pub fn succeeded(&mut self) -> bool {
        std::mem::take(&mut self.count) > 0
    }

    /// Failures in a row so far.
    pub fn count(&self) -> u32 {
        self.count
    }
}

/// A poller's waits while nothing is new: growing from the backoff's base
/// to its max, each between half and all of its ceiling ("equal jitter"),
/// so pollers that went quiet together drift apart. News starts over.
#[derive(Debug, Clone)]
pub struct Idle {
    backoff: Backoff,
    count: u32,
}

impl Idle {
    pub fn new(backoff: Backoff) -> Idle {
        Idle { backoff, count: 0 }
    }

    /// Another read found nothing: how long to wait before the next.
    pub fn quiet(&mut self) -> Duration {
        self.count = self.count.saturating_add(1);
        let ceiling = self.backoff.ceiling(self.count);
        let fraction = (next_random() % 10_000) as f64 / 20_000.0;
        ceiling / 2 + ceiling.mul_f64(fraction)
    }

    /// A read found something: the next wait is short again.
    pub fn busy(&mut self) {
        self.count = 0;
    }

    /// The wait after a read that `found` something (none: read again at
    /// once) or nothing (`quiet`).
    pub fn after(&mut self, found: bool) -> Duration {
        if found {
            self.busy();
            Duration::ZERO
        } else {
            self.quiet()
        }
    }
}

#[derive(Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub backoff: Backoff,
    /// Told of each retry before it waits (front ends show it).
    pub hook: Option<RetryHook>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
            hook: None,
        }
    }
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("announced", &self.hook.is_some())
            .finish()
    }
}

/// A retry about to happen.
#[derive(Debug, Clone)]
pub struct RetryNotice {
    pub what: String,
    /// The attempt that failed (1-based) and the attempts allowed.
    pub attempt: u32,
    pub attempts: u32,
    pub delay: Duration,
    pub error: PortError,
}

pub type RetryHook = Arc<dyn Fn(&RetryNotice) + Send + Sync>;

impl RetryPolicy {
    pub fn announcing(mut self, hook: RetryHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The wait before retry `n` (1-based).
    pub fn delay(&self, n: u32) -> Duration {
        self.backoff.delay(n)
    }

    pub async fn run<T, F, Fut>(&self, what: &str, mut op: F) -> PortResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = PortResult<T>>,
    {
        let mut attempt = 1;
        loop {
            match op().await {
                Err(error) if error.is_transient() && attempt < self.attempts => {
                    let delay = self.delay(attempt);
                    let notice = RetryNotice {
                        what: what.to_string(),
                        attempt,
                        attempts: self.attempts,
                        delay,
                        error,
                    };
                    tracing::warn!(what, attempt, ?delay, error = %notice.error, "retrying");
                    if let Some(hook) = &self.hook {
                        hook(&notice);
                    }
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// xorshift seeded from the clock and pid: jitter needs spread, not secrecy.
fn next_random() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        x = nanos ^ (u64::from(std::process::id()) << 32) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    x
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_idle_poller_waits_longer_each_time_with_jitter_and_news_starts_over() {
        let mut idle = super::Idle::new(Backoff::new(Duration::from_millis(250), Duration::from_secs(2)));
        let waits: Vec<Duration> = (0..6).map(|_| idle.after(false)).collect();
        for (n, wait) in waits.iter().enumerate() {
            let ceiling = Backoff::new(Duration::from_millis(250), Duration::from_secs(2)).ceiling(n as u32 + 1);
            assert!(
                *wait >= ceiling / 2 && *wait <= ceiling,
                "wait {n}: {wait:?} of {ceiling:?}"
            );
        }
        assert!(waits[5] >= Duration::from_secs(1), "up to the max: {waits:?}");
        assert_eq!(idle.after(true), Duration::ZERO, "news: read again at once");
        assert!(
            idle.after(false) <= Duration::from_millis(250),
            "and the next quiet wait is short"
        );
    }

    use super::*;
    use std::sync::Mutex;

    fn quick() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            backoff: Backoff::new(Duration::from_millis(1), Duration::from_millis(4)),
            hook: None,
        }
    }

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let mean = |n: u32| (0..400).map(|_| backoff.delay(n)).sum::<Duration>() / 400;
        let mut previous = Duration::ZERO;
        for n in 1..=5 {
            let ceiling = Duration::from_millis(100 << (n - 1));
            assert_eq!(backoff.ceiling(n), ceiling);
            let samples: Vec<Duration> = (0..400).map(|_| backoff.delay(n)).collect();
            assert!(
                samples.iter().all(|d| *d <= ceiling),
                "retry {n} waited over {ceiling:?}"
            );
            // Jittered, not fixed: the waits spread over the range.
            let (low, high) = (samples.iter().min().unwrap(), samples.iter().max().unwrap());
            assert!(
                *low < ceiling / 4 && *high > ceiling * 3 / 4,
                "retry {n}: {low:?}..{high:?}"
            );
            // Growing: each retry waits about twice as long as the one before.
            let average = mean(n);
            assert!(
                average > previous * 3 / 2,
                "retry {n} waits {average:?}, retry {} {previous:?}",
                n - 1
            );
            previous = average;
        }
        for n in [6, 12, 40] {
            assert_eq!(backoff.ceiling(n), Duration::from_secs(2), "capped at retry {n}");
            assert!((0..200).all(|_| backoff.delay(n) <= Duration::from_secs(2)));
        }
    }

    #[test]
    fn a_run_of_failures_waits_longer_until_a_success() {
        let mut failures = Failures::new(Backoff::new(Duration::from_millis(100), Duration::from_secs(10)));
        assert!(!failures.succeeded(), "no run of failures to end yet");
        for n in 1..=4 {
            assert!(failures.failed() <= Duration::from_millis(100 << (n - 1)));
            assert_eq!(failures.count(), n);
        }
        assert!(failures.succeeded(), "the success ends the run");
        assert_eq!(failures.count(), 0);
    }

    #[tokio::test]
    async fn transient_errors_are_retried_and_announced() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let hook: RetryHook = Arc::new(move |n: &RetryNotice| sink.lock().unwrap().push(n.attempt));
        let mut calls = 0;
        let result = quick()
            .announcing(hook)
            .run("write", || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(PortError::Transient("busy".into()))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(result, Ok(3));
        assert_eq!(*seen.lock().unwrap(), vec![1, 2]);
    }

    #[tokio::test]
    async fn permanent_errors_and_exhausted_retries_come_back() {
        let mut calls = 0;
        let result: PortResult<()> = quick()
            .run("write", || {
                calls += 1;
                async { Err(PortError::Permanent("no table".into())) }
            })
            .await;
        assert_eq!(calls, 1);
        assert!(result.is_err());
        let mut calls = 0;
        let result: PortResult<()> = quick()
            .run("write", || {
                calls += 1;
                async { Err(PortError::Transient("busy".into())) }
            })
            .await;
        assert_eq!(calls, 4);
        assert_eq!(result, Err(PortError::Transient("busy".into())));
    }
}
