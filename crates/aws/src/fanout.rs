//! The fan-out feed on SNS and SQS: the relay (or the stack's consumer)
//! publishes events to a topic of their own (not the alert topic people
//! subscribe to); each follower has a queue subscribed to it with raw
//! delivery, created when it starts and deleted when it stops.
//!
//! A follower that dies without deleting its queue is reaped. Liveness is
//! judged by times AWS keeps, never by a machine's clock: a follower keeps
//! its queue alive every minute (`TestKnobs::keep_alive_every`) by changing
//! one of its attributes, which moves the queue's `LastModifiedTimestamp`,
//! and a queue whose time is five minutes (`TestKnobs::abandoned`) behind
//! AWS's own (`server_clock`: the `Date` of its responses) is a stopped
//! follower's. The publisher's beat is written in AWS's time too, so a
//! follower an hour off still finds a live relay. Dead queues go with their subscriptions, and so
//! do subscriptions whose queue is gone, looked up again first (a follower
//! may have made its queue after the listing). Until then a queue holds at
//! most `RETENTION` of events. So an orphan lingers at most six minutes,
//! holding at most an hour of events.

use super::attrs::{n, opt_n, s};
use super::errors::sdk_error;
use super::fanout_sequence::{HOLE_WAIT, Taken, Tracker};
use super::ledger::DynamoLedger;
use super::server_clock::ServerClock;
use async_trait::async_trait;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use stockwatch_core::ports::{Event, Fanout, PortError, PortResult, Subscription};

/// Events a queue keeps for a follower that does not read them.
const RETENTION: Duration = Duration::from_secs(3600);
/// SNS takes at most 256 KB per publish (and per batch): messages stay
/// under this, ten to a batch only while the batch stays under too.
const MESSAGE_BYTES: usize = 24 * 1024;
const BATCH_BYTES: usize = 240 * 1024;
const FOLLOWER_TAG: &str = "stockwatch-follower";

pub struct SnsFanout {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    topic_arn: String,
    /// Queue names start with it: one setup's followers, for the reaper.
    prefix: String,
    /// What followers of versions before a stack named the prefix made
    /// their queues with (the topic's name cut to 40): the reaper removes
    /// theirs too.
    legacy_prefix: Option<String>,
    /// Where the publisher's heartbeat is kept (the ledger).
    ledger: Arc<DynamoLedger>,
    /// Queues not kept alive for this long are a stopped follower's.
    abandoned: Duration,
    /// Keep-alives sent, alternating the attribute they change.
    beats: std::sync::atomic::AtomicU64,
    /// AWS's time, as its responses said it.
    clock: ServerClock,
    /// Each queue's last-modified time as a reaper that has not heard AWS's
    /// time yet saw it last, and when it first saw that value.
    observed: std::sync::Mutex<HashMap<String, (i64, std::time::Instant)>>,
    /// Each subscription's view of the feed's numbering.
    numbering: std::sync::Mutex<HashMap<String, Tracker>>,
}

/// The ledger item holding the feed's epoch and last number.
const SEQUENCE_KEY: &str = "fanout#seq";

/// A numbered message of the feed (before numbering, messages were bare
/// arrays of events: still read).
#[derive(Serialize, Deserialize)]
struct Numbered {
    epoch: String,
    seq: u64,
    events: Vec<Event>,
}

/// The ledger item of a publisher's newest heartbeat (a relay), in AWS's time.
const BEAT_KEY: &str = "relay#beat";
/// Followers follow through the topic while a publisher beat this recently
/// by AWS's time (a relay beats every 30 s, a stack's sweep every minute):
/// one that stopped is then said to be silent by the follower's monotonic
/// clock, and its view read afresh.
pub const PUBLISHER_ALIVE: Duration = Duration::from_secs(3 * 60);

/// Whether a publisher (a relay) beat within `PUBLISHER_ALIVE` of AWS's
/// time (read from the ledger's answer, so never this machine's clock).
pub async fn publisher_alive(ledger: &DynamoLedger, clock: &ServerClock) -> PortResult<bool> {
    let beat: Option<i64> = ledger.get_item(BEAT_KEY).await?.and_then(|item| opt_n(&item, "At"));
    let now = clock.now_or_local().0;
    Ok(beat.is_some_and(|at| (now - at).abs() < PUBLISHER_ALIVE.as_millis() as i64))
}

/// SQS queue names are at most 80 characters: the prefix and 16 random ones.
pub const QUEUE_NAME_CHARS: usize = 80;
const RANDOM_CHARS: usize = 16;

/// How much of the topic's name followers before the stack's prefix used.
const LEGACY_TOPIC_CHARS: usize = 40;

/// A prefix made from the topic's name, where no stack names one:
/// `<topic>-f-`, the topic's name cut to `chars` (so that every queue name fits).
pub fn queue_prefix_of(topic_arn: &str, chars: usize) -> String {
    let topic: String = topic_arn
        .rsplit(':')
        .next()
        .unwrap_or("stockwatch")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(chars)
        .collect();
    format!("{topic}-f-")
}

/// What a follower's subscription holds on AWS.
#[derive(Debug, Serialize, Deserialize)]
struct QueueState {
    queue_url: String,
    queue_arn: String,
    subscription_arn: String,
}

impl SnsFanout {
    /// Followers' queues are named `prefix` and a random part; a stack
    /// names the prefix its operator policy allows, otherwise it is made
    /// from the topic's name.
    pub fn new(
        sns: aws_sdk_sns::Client,
        sqs: aws_sdk_sqs::Client,
        topic_arn: String,
        prefix: Option<String>,
        ledger: Arc<DynamoLedger>,
        abandoned: Duration,
        clock: ServerClock,
    ) -> Self {
        let prefix = prefix.unwrap_or_else(|| queue_prefix_of(&topic_arn, QUEUE_NAME_CHARS - RANDOM_CHARS - 3));
        let legacy = queue_prefix_of(&topic_arn, LEGACY_TOPIC_CHARS);
        SnsFanout {
            sns,
            sqs,
            legacy_prefix: (legacy != prefix).then_some(legacy),
            prefix,
            topic_arn,
            ledger,
            abandoned,
            beats: Default::default(),
            clock,
            observed: Default::default(),
            numbering: Default::default(),
        }
    }

    /// Reserves `count` numbers of the feed: its epoch and the first.
    async fn reserve(&self, count: usize) -> PortResult<(String, u64)> {
        let out = self
            .ledger
            .client()
            .update_item()
            .table_name(self.ledger.table())
            .key("pk", s(SEQUENCE_KEY))
            .update_expression("ADD Seq :n SET Epoch = if_not_exists(Epoch, :e)")
            .expression_attribute_values(":n", n(count as u64))
            .expression_attribute_values(":e", s(uuid::Uuid::new_v4().simple().to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the ledger table {}", self.ledger.table()), e))?;
        let attributes = out.attributes.unwrap_or_default();
        let last: u64 =
            opt_n(&attributes, "Seq").ok_or_else(|| PortError::permanent("the feed's numbering came back empty"))?;
        let epoch = attributes
            .get("Epoch")
            .and_then(|e| e.as_s().ok())
            .cloned()
            .ok_or_else(|| PortError::permanent("the feed's epoch came back empty"))?;
        Ok((epoch, last + 1 - count as u64))
    }

    fn what(&self) -> String {
        format!("the fan-out topic {}", self.topic_arn)
    }

    /// Only the topic may send to the queue.
    fn queue_policy(&self, queue_arn: &str) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "FromTheFanoutTopic",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}}
            }]
        })
        .to_string()
    }

    /// Moves the queue's `LastModifiedTimestamp` (server time): its
    /// retention alternates by a second, so every beat is a change.
    async fn heartbeat(&self, queue_url: &str) -> PortResult<()> {
        let beat = self.beats.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.sqs
            .set_queue_attributes()
            .queue_url(queue_url)
            .attributes(
                QueueAttributeName::MessageRetentionPeriod,
                (RETENTION.as_secs() + beat % 2).to_string(),
            )
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the queue {queue_url}"), e))?;
        Ok(())
    }

    /// Whether a queue last changed at `changed` (server seconds) is a
    /// stopped follower's: judged against AWS's time where this process
    /// heard it, else by how long its time has stood still.
    fn stopped(&self, url: &str, changed: i64, older_than: Duration) -> bool {
        if let Some(now) = self.clock.now() {
            return now.0 / 1000 - changed > older_than.as_secs() as i64;
        }
        let mut observed = self.observed.lock().unwrap_or_else(|p| p.into_inner());
        let seen = observed
            .entry(url.to_string())
            .or_insert((changed, std::time::Instant::now()));
        if seen.0 != changed {
            *seen = (changed, std::time::Instant::now());
        }
        seen.1.elapsed() > older_than
    }

    /// Every subscription of the topic: (subscription ARN, endpoint).
    async fn subscriptions(&self) -> PortResult<Vec<(String, String)>> {
        let all: Vec<_> = self
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(&self.topic_arn)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        Ok(all
            .into_iter()
            .filter_map(|s| Some((s.subscription_arn?, s.endpoint?)))
            .collect())
    }

    /// This setup's follower queues: URL → ARN (the first half of a reap).
    pub async fn follower_queues(&self) -> PortResult<QueueListing> {
        let mut urls: Vec<String> = Vec::new();
        for prefix in std::iter::once(&self.prefix).chain(&self.legacy_prefix) {
            let listed: Vec<String> = self
                .sqs
                .list_queues()
                .queue_name_prefix(prefix)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<_, _>>()
                .await
                .map_err(|e| sdk_error("the follower queues", e))?;
            urls.extend(listed);
        }
        let mut queues = HashMap::new();
        for url in urls {
            if let Ok(arn) = self.queue_arn(&url).await {
                queues.insert(url, arn);
            }
        }
        Ok(queues)
    }

    /// When a queue last changed (server seconds), if it answers.
    async fn queue_changed(&self, url: &str) -> Option<i64> {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::CreatedTimestamp)
            .attribute_names(QueueAttributeName::LastModifiedTimestamp)
            .send()
            .await
            .ok()?;
        let attributes = attributes.attributes()?;
        // Whole seconds on SQS; moto adds a fraction.
        let time = |name: &QueueAttributeName| {
            attributes
                .get(name)
                .and_then(|t| t.parse::<f64>().ok())
                .map(|t| t as i64)
        };
        let created = time(&QueueAttributeName::CreatedTimestamp)?;
        Some(time(&QueueAttributeName::LastModifiedTimestamp).map_or(created, |changed| changed.max(created)))
    }

    async fn queue_arn(&self, url: &str) -> PortResult<String> {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the queue {url}"), e))?;
        attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .ok_or_else(|| PortError::permanent(format!("the queue {url} has no ARN")))
    }

    /// Events as SNS messages: JSON arrays under `MESSAGE_BYTES` each.
    fn messages(events: &[Event]) -> PortResult<Vec<String>> {
        let mut messages = Vec::new();
        let mut current: Vec<String> = Vec::new();
        let mut size = 2;
        for event in events {
            let json = serde_json::to_string(event).map_err(|e| PortError::permanent(e.to_string()))?;
            if !current.is_empty() && size + json.len() + 1 > MESSAGE_BYTES {
                messages.push(format!("[{}]", current.join(",")));
                current.clear();
                size = 2;
            }
            size += json.len() + 1;
            current.push(json);
        }
        if !current.is_empty() {
            messages.push(format!("[{}]", current.join(",")));
        }
        Ok(messages)
    }
}

impl SnsFanout {
    /// Adds a message's events, unless seen already; a new epoch is a gap.
    fn take_message(&self, follower: &str, body: &str, events: &mut Vec<Event>) {
        if let Ok(numbered) = serde_json::from_str::<Numbered>(body) {
            let mut numbering = self.numbering.lock().unwrap_or_else(|p| p.into_inner());
            match numbering
                .entry(follower.to_string())
                .or_default()
                .take(&numbered.epoch, numbered.seq)
            {
                Taken::Again => {}
                Taken::New => events.extend(numbered.events),
                Taken::NewEpoch => {
                    events.push(Event::Gap);
                    events.extend(numbered.events);
                }
            }
            return;
        }
        match serde_json::from_str::<Vec<Event>>(body) {
            Ok(batch) => events.extend(batch),
            Err(e) => tracing::warn!(error = %e, "an event message that is not stockwatch's; dropped"),
        }
    }
}

fn damaged() -> PortError {
    PortError::Invalid("the subscription's state is damaged".into())
}

#[async_trait]
impl Fanout for SnsFanout {
    async fn subscribe(&self, follower: &str) -> PortResult<Subscription> {
        let name = format!(
            "{}{}",
            self.prefix,
            &uuid::Uuid::new_v4().simple().to_string()[..RANDOM_CHARS]
        );
        let created = self
            .sqs
            .create_queue()
            .queue_name(&name)
            .attributes(
                QueueAttributeName::MessageRetentionPeriod,
                RETENTION.as_secs().to_string(),
            )
            .tags(FOLLOWER_TAG, follower.chars().take(200).collect::<String>())
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the queue {name}"), e))?;
        let queue_url = created
            .queue_url
            .ok_or_else(|| PortError::permanent(format!("the queue {name} was created without a URL")))?;
        // Followers clean up after those that died before them.
        if let Err(e) = self.reap(self.abandoned).await {
            tracing::warn!(error = %e, "could not look for abandoned follower queues");
        }
        let queue_arn = self.queue_arn(&queue_url).await?;
        self.sqs
            .set_queue_attributes()
            .queue_url(&queue_url)
            .attributes(QueueAttributeName::Policy, self.queue_policy(&queue_arn))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the queue {name}"), e))?;
        let subscribed = self
            .sns
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .attributes("RawMessageDelivery", "true")
            .return_subscription_arn(true)
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        let state = QueueState {
            queue_url,
            queue_arn,
            subscription_arn: subscribed.subscription_arn.unwrap_or_default(),
        };
        Ok(Subscription {
            id: name,
            state: serde_json::to_string(&state).map_err(|_| damaged())?,
        })
    }

    async fn receive(&self, subscription: &mut Subscription, wait: Duration) -> PortResult<Vec<Event>> {
        let state: QueueState = serde_json::from_str(&subscription.state).map_err(|_| damaged())?;
        let mut events = Vec::new();
        let mut wait_seconds = wait.as_secs().min(20) as i32;
        // Drain what is there (ten messages a call), waiting only while empty.
        for _ in 0..50 {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&state.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(wait_seconds)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("the queue {}", subscription.id), e))?;
            let messages = got.messages.unwrap_or_default();
            let mut done = Vec::new();
            for (i, message) in messages.iter().enumerate() {
                if let Some(body) = message.body() {
                    self.take_message(&subscription.id, body, &mut events);
                }
                if let Some(handle) = message.receipt_handle() {
                    done.push(
                        DeleteMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .receipt_handle(handle)
                            .build()
                            .map_err(|e| PortError::permanent(e.to_string()))?,
                    );
                }
            }
            if !done.is_empty() {
                self.sqs
                    .delete_message_batch()
                    .queue_url(&state.queue_url)
                    .set_entries(Some(done))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("the queue {}", subscription.id), e))?;
            }
            if messages.len() < 10 {
                break;
            }
            wait_seconds = 0;
        }
        // A hole that stayed open: messages lost (a queue's retention).
        let mut numbering = self.numbering.lock().unwrap_or_else(|p| p.into_inner());
        if numbering
            .get_mut(&subscription.id)
            .is_some_and(|t| t.hole_stayed(HOLE_WAIT))
        {
            tracing::warn!(follower = %subscription.id, "messages of the fan-out feed were lost; reading afresh");
            events.push(Event::Gap);
        }
        Ok(events)
    }

    /// Keeps the queue alive, and says (not found) when its queue or its
    /// subscription is gone: reaped while the follower slept, it then
    /// subscribes again.
    async fn keep_alive(&self, subscription: &Subscription) -> PortResult<()> {
        let state: QueueState = serde_json::from_str(&subscription.state).map_err(|_| damaged())?;
        self.heartbeat(&state.queue_url).await?;
        let subscribed = self.subscriptions().await?;
        if !state.subscription_arn.is_empty() && !subscribed.iter().any(|(arn, _)| *arn == state.subscription_arn) {
            return Err(PortError::not_found(format!(
                "the subscription of the queue {} to {} is gone",
                subscription.id,
                self.what()
            )));
        }
        Ok(())
    }

    async fn unsubscribe(&self, subscription: &Subscription) -> PortResult<()> {
        self.numbering
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&subscription.id);
        let state: QueueState = serde_json::from_str(&subscription.state).map_err(|_| damaged())?;
        if !state.subscription_arn.is_empty() {
            self.sns
                .unsubscribe()
                .subscription_arn(&state.subscription_arn)
                .send()
                .await
                .map_err(|e| sdk_error(&self.what(), e))?;
        }
        self.sqs
            .delete_queue()
            .queue_url(&state.queue_url)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the queue {}", subscription.id), e))?;
        Ok(())
    }

    async fn publish(&self, events: &[Event]) -> PortResult<()> {
        let bare = SnsFanout::messages(events)?;
        if bare.is_empty() {
            return Ok(());
        }
        // Numbered in one step of the ledger's counter: followers tell a
        // duplicate, and see a lost message as a hole.
        let (epoch, first) = self.reserve(bare.len()).await?;
        let epoch_json = serde_json::to_string(&epoch).map_err(|e| PortError::permanent(e.to_string()))?;
        let messages: Vec<String> = bare
            .into_iter()
            .enumerate()
            .map(|(i, events)| {
                format!(
                    r#"{{"epoch":{epoch_json},"seq":{},"events":{events}}}"#,
                    first + i as u64
                )
            })
            .collect();
        let mut batch: Vec<aws_sdk_sns::types::PublishBatchRequestEntry> = Vec::new();
        let mut batch_bytes = 0;
        for (i, message) in messages.into_iter().enumerate() {
            if batch.len() == 10 || (!batch.is_empty() && batch_bytes + message.len() > BATCH_BYTES) {
                self.send_batch(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes += message.len();
            batch.push(
                aws_sdk_sns::types::PublishBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message(message)
                    .build()
                    .map_err(|e| PortError::permanent(e.to_string()))?,
            );
        }
        if !batch.is_empty() {
            self.send_batch(batch).await?;
        }
        Ok(())
    }

    async fn beat(&self) -> PortResult<()> {
        self.publish(&[Event::Beat]).await?;
        self.ledger
            .client()
            .put_item()
            .table_name(self.ledger.table())
            .item("pk", s(BEAT_KEY))
            .item("At", n(self.clock.now_or_local().0))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the ledger table {}", self.ledger.table()), e))?;
        Ok(())
    }

    async fn reap(&self, older_than: Duration) -> PortResult<usize> {
        let listed = self.follower_queues().await?;
        self.reap_listed(&listed, older_than).await
    }
}

/// This setup's follower queues as one listing: URL → ARN.
pub type QueueListing = HashMap<String, String>;

impl SnsFanout {
    /// This setup's follower queues (the first half of a reap).
    /// Reaps by a listing taken before (the second half of a reap, apart so
    /// a test can subscribe between the two, as a follower may).
    pub async fn reap_listed(&self, queues: &QueueListing, older_than: Duration) -> PortResult<usize> {
        let mut dead: Vec<String> = Vec::new();
        for url in queues.keys() {
            // Gone meanwhile: nothing to judge.
            let Some(changed) = self.queue_changed(url).await else {
                continue;
            };
            if self.stopped(url, changed, older_than) {
                dead.push(url.clone());
            }
        }
        self.observed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|url, _| queues.contains_key(url) && !dead.contains(url));
        let dead_arns: Vec<&String> = dead.iter().filter_map(|url| queues.get(url)).collect();
        let live_arns: Vec<&String> = queues
            .iter()
            .filter(|(u, _)| !dead.contains(u))
            .map(|(_, a)| a)
            .collect();
        for (subscription, endpoint) in self.subscriptions().await? {
            // A queue of ours that is dead, or gone without unsubscribing.
            let ours = endpoint.contains(&self.prefix)
                || self
                    .legacy_prefix
                    .as_ref()
                    .is_some_and(|p| endpoint.contains(p.as_str()));
            let unlisted = ours && !live_arns.contains(&&endpoint) && !dead_arns.contains(&&endpoint);
            // Not listed: gone, or made after the listing (a follower
            // subscribing meanwhile): looked up again before it goes.
            if unlisted && self.queue_exists(&endpoint).await {
                continue;
            }
            if dead_arns.contains(&&endpoint) || unlisted {
                let _ = self.sns.unsubscribe().subscription_arn(&subscription).send().await;
            }
        }
        for url in &dead {
            let _ = self.sqs.delete_queue().queue_url(url).send().await;
        }
        Ok(dead.len())
    }

    /// Whether the queue of an ARN exists now (unsure counts as yes).
    async fn queue_exists(&self, arn: &str) -> bool {
        let name = arn.rsplit(':').next().unwrap_or(arn);
        match self.sqs.get_queue_url().queue_name(name).send().await {
            Ok(_) => true,
            Err(e) => !e.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()),
        }
    }
    async fn send_batch(&self, batch: Vec<aws_sdk_sns::types::PublishBatchRequestEntry>) -> PortResult<()> {
        let out = self
            .sns
            .publish_batch()
            .topic_arn(&self.topic_arn)
            .set_publish_batch_request_entries(Some(batch))
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        if let Some(failed) = out.failed().first() {
            return Err(PortError::transient(format!(
                "{}: {} of the batch not published ({})",
                self.what(),
                out.failed().len(),
                failed.message().unwrap_or("no reason given")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_packed_into_messages_under_the_size_limit() {
        let events: Vec<Event> = (0..2000).map(|_| Event::Beat).collect();
        let messages = SnsFanout::messages(&events).unwrap();
        assert!(messages.iter().all(|m| m.len() <= MESSAGE_BYTES));
        let back: usize = messages
            .iter()
            .map(|m| serde_json::from_str::<Vec<Event>>(m).unwrap().len())
            .sum();
        assert_eq!(back, 2000);
    }
}
