//! How many writes a load keeps in flight, adapting to throttling as TCP
//! adapts to loss: halved when DynamoDB throttles (one partition, one
//! store's rows, takes about 1,000 write units a second, and a transaction
//! costs two per row), grown by one after as many writes as are allowed
//! went through, never above what was configured. Retrying at full rate
//! only throttles again.

use std::sync::Mutex;
use tokio::sync::{Semaphore, SemaphorePermit};

pub struct Pace {
    permits: Semaphore,
    state: Mutex<State>,
    most: usize,
}

struct State {
    /// Writes allowed in flight now.
    limit: usize,
    /// Permits to retire as they come back (the limit fell below them).
    debt: usize,
    /// Writes through since the limit last grew.
    through: usize,
}

/// A write's place in flight; given back when dropped.
pub struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    pace: &'a Pace,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.pace.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.debt > 0
            && let Some(permit) = self.permit.take()
        {
            state.debt -= 1;
            permit.forget();
        }
    }
}

impl Pace {
    pub fn new(most: usize) -> Pace {
        let most = most.max(1);
        Pace {
            permits: Semaphore::new(most),
            state: Mutex::new(State {
                limit: most,
                debt: 0,
                through: 0,
            }),
            most,
        }
    }

    /// Waits for a place in flight.
    pub async fn slot(&self) -> Slot<'_> {
        let permit = self.permits.acquire().await.ok();
        Slot { permit, pace: self }
    }

    /// DynamoDB throttled a write: half as many in flight from now on.
    pub fn throttled(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let halved = (state.limit / 2).max(1);
        state.debt += state.limit - halved;
        state.limit = halved;
        state.through = 0;
        tracing::debug!(limit = halved, "throttled: fewer writes in flight");
    }

    /// A write went through: after as many as are allowed, one more.
    pub fn went_through(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.through += 1;
        if state.through < state.limit || state.limit >= self.most {
            return;
        }
        state.through = 0;
        state.limit += 1;
        if state.debt > 0 {
            state.debt -= 1;
        } else {
            self.permits.add_permits(1);
        }
    }

    /// Writes allowed in flight now.
    #[cfg(test)]
    pub fn limit(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttling_halves_the_writes_in_flight_and_success_grows_them_back() {
        let pace = Pace::new(8);
        let slots: Vec<Slot<'_>> = futures_util::future::join_all((0..8).map(|_| pace.slot())).await;
        pace.throttled();
        assert_eq!(pace.limit(), 4);
        pace.throttled();
        assert_eq!(pace.limit(), 2);
        drop(slots);
        // Only two places now, whatever was in flight before.
        let two = (pace.slot().await, pace.slot().await);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), pace.slot())
                .await
                .is_err(),
            "a third write waits"
        );
        drop(two);
        for _ in 0..2 {
            pace.went_through();
        }
        assert_eq!(pace.limit(), 3, "one more after as many as allowed went through");
        let three = (pace.slot().await, pace.slot().await, pace.slot().await);
        drop(three);
        for _ in 0..100 {
            pace.went_through();
        }
        assert_eq!(pace.limit(), 8, "never above the configured most");
    }
}
