//! The local notifier: one JSON line per notification in `outbox.jsonl`,
//! where the AWS backend would publish to SNS.

use crate::domain::{Alert, AlertId, Notification, Timestamp};
use crate::ports::{Notifier, PortError, PortResult};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

pub const OUTBOX_FILE: &str = "outbox.jsonl";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxEntry {
    pub subject: String,
    pub message: String,
    pub alert_id: AlertId,
    pub kind: String,
    pub store: String,
    pub item: String,
    pub count: u32,
    pub sent_at: Timestamp,
}

pub struct Outbox {
    path: PathBuf,
}

impl Outbox {
    pub fn new(path: PathBuf) -> Self {
        Outbox { path }
    }
}

#[async_trait]
impl Notifier for Outbox {
    async fn publish(&self, alert: &Alert, notification: &Notification) -> PortResult<()> {
        let entry = OutboxEntry {
            subject: notification.subject.clone(),
            message: notification.message.clone(),
            alert_id: alert.id,
            kind: alert.kind.as_str().to_string(),
            store: alert.store.clone(),
            item: alert.item.clone(),
            count: alert.count,
            sent_at: Timestamp::now(),
        };
        let mut line = serde_json::to_vec(&entry)
            .map_err(|e| PortError::Permanent(format!("cannot encode the notification: {e}")))?;
        line.push(b'\n');
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            // One write of a whole line to an O_APPEND file: lines from
            // several processes never interleave.
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| PortError::Transient(format!("cannot open the outbox {}: {e}", path.display())))?;
            file.write_all(&line)
                .map_err(|e| PortError::Transient(format!("cannot write to the outbox {}: {e}", path.display())))
        })
        .await
        .map_err(|e| PortError::Permanent(format!("the outbox task stopped unexpectedly: {e}")))?
    }
}
