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
use crate::domain::{Message, Timestamp};
use crate::ports::{Delivery, PortError, PortResult, Publisher, RetryPolicy};
use async_trait::async_trait;
use aws_sdk_sns::Client;
use std::sync::Arc;
use std::time::Duration;

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

    async fn publish(&self, message: &Message) -> PortResult<()> {
        let ids: Vec<String> = message.alert_ids.iter().map(ToString::to_string).collect();
        // A long message goes to phones in its short form (SNS picks the
        // body per protocol), to email and everything else whole.
        let (body, structure) = match &message.sms {
            Some(sms) => (
                crate::domain::Notification::structured(&message.text, sms),
                Some("json"),
            ),
            None => (message.text.clone(), None),
        };
        let topic = self.topic_of(message);
        self.client
            .publish()
            .topic_arn(topic)
            .subject(&message.subject)
            .message(body)
            .set_message_structure(structure.map(String::from))
            .message_attributes(
                "alert_ids",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(ids.join(","))
                    .build()
                    .map_err(|e| PortError::Permanent(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the topic {topic}"), e))?;
        Ok(())
    }

    /// Renews every claim the message carries; `false` if any is no longer ours.
    async fn renew(&self, message: &Message, token: &str) -> PortResult<bool> {
        for id in &message.alert_ids {
            if !self.ledger.renew(*id, token, Timestamp::now()).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn deliver_one(&self, message: &Message, token: &str, lease: Duration) -> PortResult<Delivery> {
        let mut attempt = 1;
        loop {
            if !self.renew(message, token).await? {
                return Ok(Delivery::NotOurs);
            }
            let sent = match tokio::time::timeout(lease / 3, self.publish(message)).await {
                Ok(sent) => sent,
                Err(_) => Err(PortError::Transient(format!(
                    "the topic {} did not answer within {} ms",
                    self.topic_of(message),
                    (lease / 3).as_millis()
                ))),
            };
            match sent {
                Ok(()) => break,
                Err(e) if e.is_transient() && attempt < self.retry.attempts => {
                    tracing::warn!(attempt, error = %e, "publishing failed; retrying");
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Ok(Delivery::Failed(e.to_string())),
            }
        }
        for id in &message.alert_ids {
            match self.ledger.mark_published(*id, token, Timestamp::now()).await {
                Ok(()) => {}
                // Only if the mark came later than the lease: the new holder sends it again.
                Err(PortError::Conflict(reason)) => {
                    tracing::warn!(alert = %id, reason, "claim taken over while publishing")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Delivery::Sent)
    }
}

#[async_trait]
impl Publisher for SnsPublisher {
    async fn deliver(&self, messages: &[Message], token: &str, lease: Duration) -> PortResult<Vec<Delivery>> {
        let mut deliveries = Vec::with_capacity(messages.len());
        for message in messages {
            deliveries.push(self.deliver_one(message, token, lease).await?);
        }
        Ok(deliveries)
    }
}
