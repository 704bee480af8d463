//! The functions' failure queues. What Lambda gave up on after its retries
//! (a stream batch's position, an S3 event) lands in the function's own
//! SQS queue, and the function's scheduled sweep finishes it: nothing the
//! functions gave up on is lost, and each one it recovers is logged.
//! A message is deleted only once its work is done; one that fails again
//! comes back after the queue's visibility timeout, for the next sweep.

use serde_json::Value;
use stockwatch_aws::sdk_error;
use stockwatch_core::ports::PortResult;

/// A sweep takes at most this many messages (the function has minutes).
const PER_SWEEP: usize = 50;

pub struct FailureQueue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

/// One thing Lambda gave up on: its record, and the handle to delete it.
pub struct GivenUp {
    pub body: Value,
    receipt: String,
}

impl FailureQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: String) -> FailureQueue {
        FailureQueue { sqs, url }
    }

    fn what(&self) -> String {
        format!("the failure queue {}", self.url)
    }

    /// What is waiting, up to a sweep's worth.
    pub async fn waiting(&self) -> PortResult<Vec<GivenUp>> {
        let mut found = Vec::new();
        while found.len() < PER_SWEEP {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .send()
                .await
                .map_err(|e| sdk_error(&self.what(), e))?;
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let body = message
                    .body()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .unwrap_or(Value::Null);
                if let Some(receipt) = message.receipt_handle {
                    found.push(GivenUp { body, receipt });
                }
            }
        }
        Ok(found)
    }

    /// Done with it: it is not given to the next sweep.
    pub async fn done(&self, given_up: &GivenUp) -> PortResult<()> {
        self.sqs
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&given_up.receipt)
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        Ok(())
    }
}
