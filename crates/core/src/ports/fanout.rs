//! The fan-out feed: one process reads the change feed and the ledger and
//! publishes what happens; every follower (a console, `watch`) has a
//! subscription of its own and receives it all, without reading the
//! stream or the ledger itself.
//!
//! A follower subscribes first, then reads its snapshot (the table, the
//! unresolved alerts), then applies what it receives. Events may come
//! twice or out of order (SQS standard queues): a follower applies them by
//! the ledger's and the table's own order, never by arrival or by a clock.
//! A stock change wins when its as-of is newer (as in the table); an alert
//! when its `version` is higher.

use super::{Change, PortResult};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use stockwatch_domain::Alert;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A row of the inventory table changed.
    Change(Change),
    /// An alert was raised, acknowledged, published or resolved: its state now.
    Alert(Alert),
    /// The publisher lost events (a trimmed stream): followers read their
    /// snapshot again.
    Gap,
    /// The publisher is alive (sent every `BEAT`): a follower that hears
    /// none for a while says so.
    Beat,
}

/// How often the publisher says it is alive.
pub const BEAT: Duration = Duration::from_secs(30);

/// One follower's subscription: its id, and its backend's state of it
/// (a queue's URL and ARN; local cursors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub state: String,
}

#[async_trait]
pub trait Fanout: Send + Sync {
    /// Starts a subscription for `follower` (a name for people: who runs
    /// it, where): from now on every event published is kept for it.
    async fn subscribe(&self, follower: &str) -> PortResult<Subscription>;

    /// What was published since the last call, waiting up to `wait` while
    /// there is nothing. What is returned is gone from the subscription.
    async fn receive(&self, subscription: &mut Subscription, wait: Duration) -> PortResult<Vec<Event>>;

    /// Says the follower is still there; a subscription not kept alive for
    /// `reap`'s age is removed.
    async fn keep_alive(&self, subscription: &Subscription) -> PortResult<()>;

    /// Ends the subscription and removes what it holds.
    async fn unsubscribe(&self, subscription: &Subscription) -> PortResult<()>;

    /// Sends events to every subscription (the publisher's side).
    async fn publish(&self, events: &[Event]) -> PortResult<()>;

    /// Removes subscriptions whose follower died (not kept alive for
    /// `older_than`); returns how many.
    async fn reap(&self, older_than: Duration) -> PortResult<usize>;

    /// The publisher says it is alive: to its followers (an `Event::Beat`)
    /// and to those about to start (who follow through it only while it is).
    async fn beat(&self) -> PortResult<()>;
}

/// Following without a publisher: each subscription reads the change feed
/// and the ledger itself, from where they were when it subscribed. The
/// local backend always follows this way (reading SQLite is cheap), and so
/// does AWS when no relay or stack publishes: one reader of each per
/// follower. Publishing is nothing to do (followers read the source), and
/// there is nothing held elsewhere to keep alive or remove.
pub struct DirectFanout {
    feed: std::sync::Arc<dyn super::ChangeFeed>,
    ledger: std::sync::Arc<dyn super::AlertLedger>,
    /// Between reads while nothing is new.
    poll: Duration,
    /// Changes or alerts read at once.
    page: usize,
}

/// Where a direct subscription is; `None`: from the first change kept.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DirectState {
    feed: Option<super::FeedCursor>,
    ledger: Option<super::LedgerCursor>,
}

impl DirectFanout {
    pub fn new(feed: std::sync::Arc<dyn super::ChangeFeed>, ledger: std::sync::Arc<dyn super::AlertLedger>) -> Self {
        DirectFanout {
            feed,
            ledger,
            poll: Duration::from_millis(250),
            page: 1000,
        }
    }

    /// Reads this many changes or alerts at once.
    pub fn reading(mut self, page: usize) -> Self {
        self.page = page.max(1);
        self
    }

    /// A subscription from the first change and alert kept (`watch
    /// --from-start`): only a direct reader can go back in time.
    pub fn from_start(follower: &str) -> Subscription {
        Subscription {
            id: follower.to_string(),
            state: serde_json::to_string(&DirectState::default()).unwrap_or_default(),
        }
    }

    /// Polls less often (a networked backend's reads cost money).
    pub fn polling_every(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }
}

fn damaged() -> super::PortError {
    super::PortError::Invalid("the subscription's state is damaged".into())
}

#[async_trait]
impl Fanout for DirectFanout {
    async fn subscribe(&self, follower: &str) -> PortResult<Subscription> {
        let state = DirectState {
            feed: Some(self.feed.tip().await?),
            ledger: Some(self.ledger.tip().await?),
        };
        Ok(Subscription {
            id: follower.to_string(),
            state: serde_json::to_string(&state).map_err(|_| damaged())?,
        })
    }

    async fn receive(&self, subscription: &mut Subscription, wait: Duration) -> PortResult<Vec<Event>> {
        let mut state: DirectState = serde_json::from_str(&subscription.state).map_err(|_| damaged())?;
        let started = std::time::Instant::now();
        loop {
            let page = self.feed.read(state.feed.as_ref(), self.page).await?;
            let alerts = self.ledger.changes_since(state.ledger.as_ref(), self.page).await?;
            let mut events: Vec<Event> = Vec::new();
            if page.gap || alerts.gap {
                events.push(Event::Gap);
            }
            events.extend(page.changes.into_iter().map(Event::Change));
            events.extend(alerts.alerts.into_iter().map(Event::Alert));
            state.feed = Some(page.cursor);
            state.ledger = Some(alerts.cursor);
            subscription.state = serde_json::to_string(&state).map_err(|_| damaged())?;
            let waited = started.elapsed();
            if !events.is_empty() || waited >= wait {
                return Ok(events);
            }
            tokio::time::sleep(self.poll.min(wait - waited)).await;
        }
    }

    async fn keep_alive(&self, _: &Subscription) -> PortResult<()> {
        Ok(())
    }

    async fn unsubscribe(&self, _: &Subscription) -> PortResult<()> {
        Ok(())
    }

    async fn publish(&self, _: &[Event]) -> PortResult<()> {
        Ok(())
    }

    async fn reap(&self, _: Duration) -> PortResult<usize> {
        Ok(0)
    }

    async fn beat(&self) -> PortResult<()> {
        Ok(())
    }
}

/// Publishing within one process: a console that raises alerts itself (no
/// relay, no stack) runs relay passes that publish to its own view through
/// this, so the process reads the stream once, for both.
#[derive(Default)]
pub struct InProcessFanout {
    queues: std::sync::Mutex<std::collections::HashMap<String, std::collections::VecDeque<Event>>>,
    published: tokio::sync::Notify,
    next: std::sync::atomic::AtomicU64,
}

impl InProcessFanout {
    fn take(&self, id: &str) -> Vec<Event> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        queues.get_mut(id).map(|q| q.drain(..).collect()).unwrap_or_default()
    }
}

#[async_trait]
impl Fanout for InProcessFanout {
    async fn subscribe(&self, follower: &str) -> PortResult<Subscription> {
        let id = format!(
            "{follower} #{}",
            self.next.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        self.queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), Default::default());
        Ok(Subscription {
            id,
            state: String::new(),
        })
    }

    async fn receive(&self, subscription: &mut Subscription, wait: Duration) -> PortResult<Vec<Event>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a publish in between wakes it.
            let published = self.published.notified();
            tokio::pin!(published);
            published.as_mut().enable();
            let events = self.take(&subscription.id);
            if !events.is_empty() {
                return Ok(events);
            }
            if tokio::time::timeout_at(deadline, published).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn keep_alive(&self, _: &Subscription) -> PortResult<()> {
        Ok(())
    }

    async fn unsubscribe(&self, subscription: &Subscription) -> PortResult<()> {
        self.queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&subscription.id);
        Ok(())
    }

    async fn publish(&self, events: &[Event]) -> PortResult<()> {
        let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        for queue in queues.values_mut() {
            queue.extend(events.iter().cloned());
        }
        drop(queues);
        self.published.notify_waiters();
        Ok(())
    }

    async fn reap(&self, _: Duration) -> PortResult<usize> {
        Ok(0)
    }

    async fn beat(&self) -> PortResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_subscribers_each_get_what_is_published_after_they_subscribe() {
        let fanout = InProcessFanout::default();
        fanout.publish(&[Event::Beat]).await.unwrap();
        let mut a = fanout.subscribe("a").await.unwrap();
        let mut b = fanout.subscribe("b").await.unwrap();
        let waiting = async { fanout.receive(&mut a, Duration::from_secs(5)).await.unwrap() };
        let publishing = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            fanout.publish(&[Event::Gap]).await.unwrap();
        };
        let (got, ()) = tokio::join!(waiting, publishing);
        assert_eq!(got, vec![Event::Gap], "woken by the publish, nothing from before");
        assert_eq!(fanout.receive(&mut b, Duration::ZERO).await.unwrap(), vec![Event::Gap]);
        fanout.unsubscribe(&b).await.unwrap();
        fanout.publish(&[Event::Beat]).await.unwrap();
        assert!(
            fanout
                .receive(&mut b, Duration::from_millis(10))
                .await
                .unwrap()
                .is_empty()
        );
    }
}
