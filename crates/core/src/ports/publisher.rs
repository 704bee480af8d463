//! Sending messages about claimed alerts, and marking them sent.

use super::*;
use async_trait::async_trait;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Sent, and the alerts it carries marked published.
    Sent,
    /// Not sent by this caller: a claim it carries was taken over by another
    /// checker, or is published already.
    NotOurs,
    /// Sending failed after retries: the claims stay unpublished, and a
    /// checker takes them over after the lease and sends them.
    Failed(String),
}

/// Sends messages about claimed alerts and marks them published, as one
/// step where the backend allows it.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Sends each message, and marks the alerts it carries published, only
    /// while `token` holds every one of their claims. Locally the send and
    /// the mark are one transaction: each message goes out exactly once. On
    /// SNS the claims are renewed, the message published within a third of
    /// the `lease`, then marked: a crash between SNS accepting a message and
    /// the mark sends it again after the lease.
    async fn deliver(&self, messages: &[Message], token: &str, lease: Duration) -> PortResult<Vec<Delivery>>;

    /// Finishes what a stopped process left half done (the local outbox
    /// file behind its table); nothing to do on SNS.
    async fn flush(&self) -> PortResult<()> {
        Ok(())
    }
}
