//! Notifications through an SNS topic, and the ledger marks that go with
//! them. The topic ARN comes from settings or from provisioning (kept in
//! the ledger table), never from listing topics.
//!
//! SNS standard topics (the only kind that reaches email and SMS) cannot
//! deduplicate, so this is as close to once as SNS allows: before every
//! attempt the claims are renewed (so no one may take them over), each
//! attempt ends within a third of the lease, and the alerts are marked
//! published right after SNS accepts. What remains: a crash (or a lost
//! answer) between SNS accepting a message and the mark sends it again
//! after the lease.

use super::errors::sdk_error;
use super::ledger::DynamoLedger;
use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use std::sync::Arc;
use std::time::Duration;
use stockwatch_core::ports::{Delivery, PortError, PortResult, Publisher, RetryPolicy};
use stockwatch_domain::{AlertId, Message, Timestamp};

pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
    /// Reminders go here instead, when set.
    escalation_topic_arn: Option<String>,
    ledger: Arc<DynamoLedger>,
    retry: RetryPolicy,
}

impl SnsPublisher {
    pub fn new(client: Client, topic_arn: String, ledger: Arc<DynamoLedger>) -> Self {
        SnsPublisher {
            client,
            topic_arn,
            escalation_topic_arn: None,
            ledger,
            retry: RetryPolicy::default(),
        }
    }

    /// Reminders go to `topic_arn` (a second audience), when set.
    pub fn escalating_to(mut self, topic_arn: Option<String>) -> Self {
        self.escalation_topic_arn = topic_arn;
        self
    }

    /// The topic a message goes to.
    fn topic_of(&self, message: &Message) -> &str {
        match &self.escalation_topic_arn {
            Some(arn) if message.reminder => arn,
            _ => &self.topic_arn,
        }
    }

    /// The message as a PublishBatch entry: a long message's short form
    /// goes to phones (SNS picks the body per protocol), and the ids it
    /// carries go along as an attribute.
    fn entry(&self, id: usize, message: &Message) -> PortResult<PublishBatchRequestEntry> {
        let ids: Vec<String> = message.alert_ids.iter().map(ToString::to_string).collect();
        let (body, structure) = match &message.sms {
            Some(sms) => (
                stockwatch_domain::Notification::structured(&message.text, sms),
                Some("json"),
            ),
            None => (message.text.clone(), None),
        };
        PublishBatchRequestEntry::builder()
            .id(id.to_string())
            .subject(&message.subject)
            .message(body)
            .set_message_structure(structure.map(String::from))
            .message_attributes(
                "alert_ids",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(ids_attribute(&ids))
                    .build()
                    .map_err(|e| PortError::permanent(e.to_string()))?,
            )
            .build()
            .map_err(|e| PortError::permanent(e.to_string()))
    }

    /// Publishes the messages (`pending`, by index) ten per request to
    /// their topics; returns each one's result.
    async fn publish_all(&self, messages: &[Message], pending: &[usize]) -> Vec<(usize, PortResult<()>)> {
        let mut results = Vec::with_capacity(pending.len());
        let mut by_topic: Vec<(&str, Vec<usize>)> = Vec::new();
        for &i in pending {
            let topic = self.topic_of(&messages[i]);
            match by_topic.iter_mut().find(|(t, _)| *t == topic) {
                Some((_, list)) => list.push(i),
                None => by_topic.push((topic, vec![i])),
            }
        }
        for (topic, indexes) in by_topic {
            let mut built = Vec::with_capacity(indexes.len());
            for &i in &indexes {
                match self.entry(i, &messages[i]) {
                    Ok(entry) => built.push((i, entry)),
                    Err(e) => results.push((i, Err(e))),
                }
            }
            let sizes: Vec<usize> = built.iter().map(|(_, e)| entry_bytes(e)).collect();
            let mut built = built.into_iter();
            for count in batches(&sizes) {
                let (chunk, entries): (Vec<usize>, Vec<_>) = built.by_ref().take(count).unzip();
                let sent = self
                    .client
                    .publish_batch()
                    .topic_arn(topic)
                    .set_publish_batch_request_entries(Some(entries))
                    .send()
                    .await;
                match sent {
                    Ok(out) => {
                        for ok in out.successful() {
                            if let Some(i) = ok.id().and_then(|id| id.parse().ok()) {
                                results.push((i, Ok(())));
                            }
                        }
                        for failed in out.failed() {
                            let Ok(i) = failed.id().parse() else { continue };
                            let said = format!(
                                "the topic {topic} refused it ({}: {})",
                                failed.code(),
                                failed.message().unwrap_or_default()
                            );
                            results.push((
                                i,
                                Err(if failed.sender_fault() {
                                    PortError::Permanent(said.into())
                                } else {
                                    PortError::Transient(said.into())
                                }),
                            ));
                        }
                    }
                    Err(e) => {
                        let e = sdk_error(&format!("the topic {topic}"), e);
                        results.extend(chunk.iter().map(|&i| (i, Err(e.clone()))));
                    }
                }
            }
        }
        results
    }

    /// Renews every claim the messages carry: the held messages, and the
    /// ones a claim of which is no longer ours.
    async fn renew(
        &self,
        messages: &[Message],
        pending: &[usize],
        token: &str,
    ) -> PortResult<(Vec<usize>, Vec<usize>)> {
        let ids: Vec<AlertId> = pending
            .iter()
            .flat_map(|&i| messages[i].alert_ids.iter().copied())
            .collect();
        if self.ledger.renew_many(&ids, token, Timestamp::now()).await? {
            return Ok((pending.to_vec(), Vec::new()));
        }
        // Some claim was taken over: find out whose message, one by one.
        let (mut held, mut lost) = (Vec::new(), Vec::new());
        for &i in pending {
            if self
                .ledger
                .renew_many(&messages[i].alert_ids, token, Timestamp::now())
                .await?
            {
                held.push(i);
            } else {
                lost.push(i);
            }
        }
        Ok((held, lost))
    }
}

/// SNS's limits on PublishBatch: ten entries, 256 KiB in all (messages
/// and their attributes); kept under with a margin for the request's own.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 240 * 1024;

/// What SNS counts of an entry against its limits: the message, subject and
/// attributes (names, types and values).
fn entry_bytes(entry: &PublishBatchRequestEntry) -> usize {
    let attributes: usize = entry
        .message_attributes()
        .map(|all| {
            all.iter()
                .map(|(name, value)| name.len() + value.data_type().len() + value.string_value().map_or(0, str::len))
                .sum()
        })
        .unwrap_or(0);
    entry.message().len() + entry.subject().map_or(0, str::len) + attributes
}

/// Entries (by their sizes, in order) in batches SNS takes: how many go in
/// each. An entry too big for any batch goes alone (SNS says why).
fn batches(sizes: &[usize]) -> Vec<usize> {
    let mut counts = Vec::new();
    let (mut count, mut bytes) = (0, 0);
    for &size in sizes {
        if count > 0 && (count == BATCH_ENTRIES || bytes + size > BATCH_BYTES) {
            counts.push(count);
            (count, bytes) = (0, 0);
        }
        count += 1;
        bytes += size;
    }
    if count > 0 {
        counts.push(count);
    }
    counts
}

/// The ids a message carries, as its `alert_ids` attribute: a storm's
/// summary may carry more than fit in SNS's 256 KB, so a long list is
/// given as its count and range.
fn ids_attribute(ids: &[String]) -> String {
    let all = ids.join(",");
    if all.len() <= 64 * 1024 {
        return all;
    }
    format!(
        "{} alerts, #{} to #{} (stockwatch alerts lists them)",
        ids.len(),
        ids.first().map_or("", String::as_str),
        ids.last().map_or("", String::as_str)
    )
}

#[async_trait]
impl Publisher for SnsPublisher {
    async fn deliver(&self, messages: &[Message], token: &str, lease: Duration) -> PortResult<Vec<Delivery>> {
        let mut deliveries: Vec<Option<Delivery>> = vec![None; messages.len()];
        let mut pending: Vec<usize> = (0..messages.len()).collect();
        let mut attempt = 1;
        while !pending.is_empty() {
            let (held, lost) = self.renew(messages, &pending, token).await?;
            for i in lost {
                deliveries[i] = Some(Delivery::NotOurs);
            }
            if held.is_empty() {
                break;
            }
            // Every attempt ends within a third of the lease just renewed.
            let results = match tokio::time::timeout(lease / 3, self.publish_all(messages, &held)).await {
                Ok(results) => results,
                Err(_) => {
                    let e = PortError::transient(format!(
                        "the topic {} did not answer within {} ms",
                        self.topic_arn,
                        (lease / 3).as_millis()
                    ));
                    held.iter().map(|&i| (i, Err(e.clone()))).collect()
                }
            };
            let mut sent = Vec::new();
            let mut again = Vec::new();
            for (i, result) in results {
                match result {
                    Ok(()) => sent.push(i),
                    Err(e) if e.is_transient() && attempt < self.retry.attempts => {
                        tracing::warn!(attempt, error = %e, "publishing failed; retrying");
                        again.push(i);
                    }
                    Err(e) => deliveries[i] = Some(Delivery::Failed(e.to_string())),
                }
            }
            let ids: Vec<AlertId> = sent
                .iter()
                .flat_map(|&i| messages[i].alert_ids.iter().copied())
                .collect();
            self.ledger.mark_many(&ids, token, Timestamp::now()).await?;
            for i in sent {
                deliveries[i] = Some(Delivery::Sent);
            }
            if again.is_empty() {
                break;
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
            attempt += 1;
            pending = again;
        }
        Ok(deliveries
            .into_iter()
            .map(|d| d.unwrap_or_else(|| Delivery::Failed("not sent".into())))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_stay_under_sns_s_ten_entries_and_256_kib() {
        assert_eq!(batches(&[1; 25]), [10, 10, 5]);
        // Messages of 100 KiB: two a batch (a third would pass 240 KiB).
        assert_eq!(batches(&[100 * 1024; 5]), [2, 2, 1]);
        assert_eq!(batches(&[300 * 1024, 1]), [1, 1], "too big goes alone");
        assert!(batches(&[]).is_empty());
    }
}
