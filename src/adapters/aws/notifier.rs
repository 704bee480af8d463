//! Notifications through an SNS topic. The topic ARN comes from settings or
//! from provisioning (kept in the ledger table), never from listing topics.

use super::errors::sdk_error;
use crate::domain::{Alert, Notification};
use crate::ports::{Notifier, PortResult};
use async_trait::async_trait;
use aws_sdk_sns::Client;

pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: String) -> Self {
        SnsNotifier { client, topic_arn }
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn publish(&self, alert: &Alert, notification: &Notification) -> PortResult<()> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&notification.subject)
            .message(&notification.message)
            .message_attributes(
                "alert_id",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(alert.id.to_string())
                    .build()
                    .map_err(|e| crate::ports::PortError::Permanent(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| sdk_error(&format!("the topic {}", self.topic_arn), e))?;
        Ok(())
    }
}
