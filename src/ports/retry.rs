//! Retries of transient port errors: exponential backoff with full jitter,
//! each retry announced through a hook so front ends can show it.

use crate::ports::{PortError, PortResult};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
    /// Told of each retry before it waits (front ends show it).
    pub hook: Option<RetryHook>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            hook: None,
        }
    }
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("attempts", &self.attempts)
            .field("base", &self.base)
            .field("max_delay", &self.max_delay)
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

    /// The delay before retry `n` (1-based): uniform in [0, min(max, base·2ⁿ⁻¹)].
    pub fn delay(&self, n: u32) -> Duration {
        let ceiling = self.base.saturating_mul(1u32 << (n - 1).min(20)).min(self.max_delay);
        let fraction = (next_random() % 10_000) as f64 / 10_000.0;
        ceiling.mul_f64(fraction)
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
    use super::*;
    use std::sync::Mutex;

    fn quick() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            hook: None,
        }
    }

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let p = RetryPolicy {
            attempts: 10,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            hook: None,
        };
        for n in 1..10 {
            let ceiling = Duration::from_millis(100 * (1 << (n - 1))).min(Duration::from_secs(2));
            for _ in 0..50 {
                assert!(p.delay(n) <= ceiling);
            }
        }
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
