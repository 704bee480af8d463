//! The local notifier: where the AWS backend publishes to SNS, the local
//! backend writes each message to the `outbox` table, in the same
//! transaction that marks its alerts published, and then exports the table
//! to `outbox.jsonl`, one JSON line per message, by position.
//!
//! Exactly once, whoever crashes where. The transaction either sends and
//! marks or does neither. The file is derived: an export appends the rows
//! after the last position the file itself holds, under an exclusive lock,
//! and cuts a line left half-written by a crash before it appends; so a
//! line is never written twice, and a message committed by a process that
//! died before exporting is exported by the next one.

use super::db::{Db, SqlResultExt, next_ledger_rev};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use stockwatch_core::ports::{Delivery, PortError, PortResult, Publisher};
use stockwatch_domain::{AlertId, Message, Timestamp, terminal_safe_json};

pub const OUTBOX_FILE: &str = "outbox.jsonl";

/// One line of `outbox.jsonl`: a message, and the alerts it carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its position in the outbox, 1, 2, 3…: every line once, in order.
    pub seq: i64,
    pub subject: String,
    pub message: String,
    pub alert_ids: Vec<AlertId>,
    pub store: String,
    pub sent_at: Timestamp,
    /// A reminder of alerts still open (`alerts.renotify_after`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminder: bool,
}

pub struct LocalPublisher {
    db: Db,
    path: PathBuf,
}

impl LocalPublisher {
    pub fn new(db: Db, path: PathBuf) -> Self {
        LocalPublisher { db, path }
    }

    /// Appends to `outbox.jsonl` every message it does not hold yet.
    pub async fn export(&self) -> PortResult<()> {
        let (db, path) = (self.db.clone(), self.path.clone());
        tokio::task::spawn_blocking(move || export(&db, &path))
            .await
            .map_err(|e| PortError::permanent(format!("the outbox task stopped unexpectedly: {e}")))?
    }
}

#[async_trait]
impl Publisher for LocalPublisher {
    async fn deliver(&self, messages: &[Message], token: &str, _lease: Duration) -> PortResult<Vec<Delivery>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let (messages, token) = (messages.to_vec(), token.to_string());
        let deliveries = self
            .db
            .write(move |tx| {
                let rev = next_ledger_rev(tx)?;
                let now = Timestamp::now();
                let mut deliveries = Vec::with_capacity(messages.len());
                for message in &messages {
                    deliveries.push(send(tx, message, &token, now, rev)?);
                }
                Ok(deliveries)
            })
            .await?;
        // Committed: the messages are sent. A failed export is finished by
        // the next one (this process's or another's), never lost.
        if let Err(e) = self.export().await {
            tracing::warn!(error = %e, "the outbox file is behind the outbox; the next export catches up");
        }
        Ok(deliveries)
    }

    async fn flush(&self) -> PortResult<()> {
        self.export().await
    }
}

/// Marks the message's alerts published and records the message, or, if
/// the caller no longer holds every claim, does neither.
fn send(
    tx: &rusqlite::Transaction<'_>,
    message: &Message,
    token: &str,
    now: Timestamp,
    rev: i64,
) -> PortResult<Delivery> {
    tx.execute_batch("SAVEPOINT message").db(tx)?;
    let mut marked = 0;
    for id in &message.alert_ids {
        let Ok(id) = i64::try_from(id.0) else { break };
        // No RETURNING (SQLite runs it as a trigger, with a statement
        // journal per row); the store is read once below.
        let held = tx
            .prepare_cached(
                "UPDATE alerts SET published_at = ?3, rev = ?4
                 WHERE id = ?1 AND claim_token = ?2 AND published_at IS NULL",
            )
            .db(tx)?
            .execute(params![id, token, now.0, rev])
            .db(tx)?;
        if held == 0 {
            break;
        }
        marked += 1;
    }
    if marked < message.alert_ids.len() {
        tx.execute_batch("ROLLBACK TO message; RELEASE message").db(tx)?;
        return Ok(Delivery::NotOurs);
    }
    let store: String = match message.alert_ids.last().and_then(|id| i64::try_from(id.0).ok()) {
        Some(id) => tx
            .prepare_cached("SELECT store FROM alerts WHERE id = ?1")
            .db(tx)?
            .query_row(params![id], |r| r.get(0))
            .db(tx)?,
        None => String::new(),
    };
    let entry = OutboxEntry {
        seq: 0,
        subject: message.subject.clone(),
        message: message.text.clone(),
        alert_ids: message.alert_ids.clone(),
        store,
        sent_at: now,
        reminder: message.reminder,
    };
    let json = serde_json::to_string(&entry)
        .map_err(|e| PortError::permanent(format!("cannot encode the notification: {e}")))?;
    tx.prepare_cached("INSERT INTO outbox (entry, sent_at) VALUES (?1, ?2)")
        .db(tx)?
        .execute(params![json, now.0])
        .db(tx)?;
    tx.execute_batch("RELEASE message").db(tx)?;
    Ok(Delivery::Sent)
}

/// The export, under an exclusive lock on the file (one exporter at a time
/// across processes).
fn export(db: &Db, path: &Path) -> PortResult<()> {
    if db.is_read_only() {
        return Err(db.read_only_error());
    }
    // A full disk or a lock may pass; a refusal will not.
    let failed = |what: &str, e: std::io::Error| {
        let message = format!("cannot {what} the outbox {}: {e}", path.display());
        match e.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                PortError::Permanent(message.into())
            }
            _ => PortError::Transient(message.into()),
        }
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| failed("open", e))?;
    file.lock().map_err(|e| failed("lock", e))?;
    let last = last_position(&mut file, path).map_err(|e| failed("read", e))?;
    let after = match last {
        Some(seq) => seq,
        // An empty (or new, or rotated) file: start after what was exported.
        None => db.read_blocking(|tx| {
            tx.query_row("SELECT value FROM counters WHERE name = 'outbox_exported'", [], |r| {
                r.get(0)
            })
            .optional()
            .db(tx)
            .map(|v| v.unwrap_or(0))
        })?,
    };
    let rows: Vec<(i64, String)> = db.read_blocking(move |tx| {
        let mut stmt = tx
            .prepare_cached("SELECT seq, entry FROM outbox WHERE seq > ?1 ORDER BY seq")
            .db(tx)?;
        let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?))).db(tx)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
    })?;
    let Some(&(newest, _)) = rows.last() else {
        return Ok(());
    };
    let mut text = String::new();
    for (seq, entry) in rows {
        let mut entry: OutboxEntry = serde_json::from_str(&entry)
            .map_err(|e| PortError::permanent(format!("an outbox row cannot be read: {e}")))?;
        entry.seq = seq;
        // People `tail -f` the outbox: names from files reach it escaped.
        text.push_str(&terminal_safe_json(&serde_json::to_string(&entry).unwrap_or_default()));
        text.push('\n');
    }
    file.write_all(text.as_bytes()).map_err(|e| failed("write", e))?;
    file.sync_data().map_err(|e| failed("write", e))?;
    db.write_blocking(move |tx| {
        tx.execute(
            "INSERT INTO counters (name, value) VALUES ('outbox_exported', ?1)
             ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
            [newest],
        )
        .db(tx)
        .map(|_| ())
    })
}

/// The position of the file's last whole line. A line cut short (a crash
/// while appending) is removed first, so it is written again whole.
fn last_position(file: &mut std::fs::File, path: &Path) -> std::io::Result<Option<i64>> {
    let length = file.metadata()?.len();
    if length == 0 {
        return Ok(None);
    }
    // Lines are short: the last few KiB hold the last whole one.
    let mut window = 64 * 1024u64;
    loop {
        let start = length.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let whole_end = match tail.iter().rposition(|b| *b == b'\n') {
            Some(i) => i + 1,
            None if start == 0 => 0,
            None => {
                window *= 4;
                continue;
            }
        };
        if whole_end < tail.len() {
            tracing::warn!(path = %path.display(), "cutting a line a crash left half-written in the outbox");
            file.set_len(start + whole_end as u64)?;
        }
        let lines = &tail[..whole_end];
        let Some(last) = lines[..lines.len().saturating_sub(1)]
            .rsplit(|b| *b == b'\n')
            .next()
            .filter(|l| !l.is_empty())
        else {
            return Ok(None);
        };
        // A line from before positions were kept counts as "none yet".
        return Ok(serde_json::from_slice::<serde_json::Value>(last)
            .ok()
            .and_then(|v| v["seq"].as_i64()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(text: &[u8]) -> (tempfile::TempDir, PathBuf, std::fs::File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(OUTBOX_FILE);
        std::fs::write(&path, text).unwrap();
        let file = std::fs::OpenOptions::new().read(true).append(true).open(&path).unwrap();
        (dir, path, file)
    }

    #[test]
    fn the_last_whole_line_gives_the_position_and_a_cut_line_is_removed() {
        let (_dir, path, mut file) = file_with(b"{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3,\"subj");
        assert_eq!(last_position(&mut file, &path).unwrap(), Some(2));
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"seq\":1}\n{\"seq\":2}\n");
        let (_dir, path, mut file) = file_with(b"");
        assert_eq!(last_position(&mut file, &path).unwrap(), None);
        let (_dir, path, mut file) = file_with(b"{\"seq\":");
        assert_eq!(last_position(&mut file, &path).unwrap(), None);
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }
}
