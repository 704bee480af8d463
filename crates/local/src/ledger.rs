//! The alert ledger in SQLite. Claims are `INSERT … ON CONFLICT DO NOTHING`
//! on the unique transition key; every other transition is an UPDATE whose
//! WHERE clause is the condition, as a DynamoDB conditional write would be.

use super::db::{Db, SqlResultExt, next_ledger_rev};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use stockwatch_core::ports::{
    AlertClaim, AlertClaims, AlertFilter, Alerts, ClaimOutcome, Holder, LedgerCursor, LedgerPage, Page, PageToken,
    PendingClaims, PortError, PortResult, Restock, Snoozes, no_such_alert,
};
use stockwatch_domain::{Acknowledgement, Alert, AlertId, AlertKind, AlertState, Snooze, Timestamp};

pub struct LocalLedger {
    db: Db,
}

impl LocalLedger {
    pub fn new(db: Db) -> Self {
        LocalLedger { db }
    }
}

const COLUMNS: &str = "id, change_id, kind, store, item, count, threshold, as_of, source, raised_at, state,
    acked_by, acked_at, ack_note, resolved_at, published_at, transition, rev, reminders";

fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    let id: i64 = r.get(0)?;
    let id = AlertId(u64::try_from(id).unwrap_or_default());
    let kind: String = r.get(2)?;
    let state: String = r.get(10)?;
    let acked_by: Option<String> = r.get(11)?;
    let acked_at: Option<i64> = r.get(12)?;
    Ok(Alert {
        id,
        transition: r.get::<_, Option<String>>(16)?.unwrap_or_default(),
        change_id: r.get(1)?,
        kind: AlertKind::parse(&kind).unwrap_or(AlertKind::Out),
        store: r.get(3)?,
        item: r.get(4)?,
        count: r.get(5)?,
        threshold: r.get(6)?,
        as_of: Timestamp(r.get(7)?),
        source: r.get(8)?,
        raised_at: Timestamp(r.get(9)?),
        state: AlertState::parse(&state).unwrap_or(AlertState::Open),
        acknowledged: match (acked_by, acked_at) {
            (Some(by), Some(at)) => Some(Acknowledgement {
                by,
                at: Timestamp(at),
                note: r.get(13)?,
            }),
            _ => None,
        },
        resolved_at: r.get::<_, Option<i64>>(14)?.map(Timestamp),
        published_at: r.get::<_, Option<i64>>(15)?.map(Timestamp),
        version: u64::try_from(r.get::<_, i64>(17)?).unwrap_or_default(),
        reminders: r.get(18)?,
    })
}

/// SQLite's integer id of an alert id (ids beyond i64 are never issued).
fn row_id(id: AlertId) -> PortResult<i64> {
    i64::try_from(id.0).map_err(|_| no_such_alert(id))
}

fn get_alert(tx: &rusqlite::Transaction<'_>, id: i64) -> PortResult<Option<Alert>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
        [id],
        alert_from_row,
    )
    .optional()
    .db(tx)
}

/// "rev:id", zero-padded so cursors compare as text in revision order (a
/// checkpoint keeps the furthest of two).
fn ledger_cursor(rev: i64, id: i64) -> LedgerCursor {
    LedgerCursor(format!("{rev:020}:{id:020}"))
}

#[async_trait]
impl AlertClaims for LocalLedger {
    async fn claim(&self, claims: &[AlertClaim], holder: &Holder, now: Timestamp) -> PortResult<Vec<ClaimOutcome>> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let claims = claims.to_vec();
        let token = holder.stored();
        self.db
            .write(move |tx| {
                let rev = next_ledger_rev(tx)?;
                let mut restocked = tx
                    .prepare_cached("SELECT as_of FROM restocks WHERE store = ?1 AND item = ?2")
                    .db(tx)?;
                // No RETURNING: SQLite runs it as a trigger, which gives every
                // insert a statement journal (spilled to a temp file: a
                // million pwrite calls in a check of 1M changes).
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO alerts (change_id, kind, store, item, count, threshold, as_of, source, raised_at,
                             state, resolved_at, notify, claim_token, claimed_at, rev, transition)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?9, ?14, ?15)",
                    )
                    .db(tx)?;
                let mut inserted = tx
                    .prepare_cached(&format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"))
                    .db(tx)?;
                let mut existing = tx
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS}, claim_token FROM alerts WHERE transition = ?1"
                    ))
                    .db(tx)?;
                let mut outcomes = Vec::with_capacity(claims.len());
                for c in &claims {
                    // A restock newer than this snapshot already happened: the
                    // alert is still recorded, but born resolved, and not told.
                    let restock: Option<i64> = restocked
                        .query_row(params![c.store, c.item], |r| r.get(0))
                        .optional()
                        .db(tx)?;
                    let resolved = restock.is_some_and(|at| at > c.as_of.0);
                    let (state, resolved_at) = if resolved {
                        ("resolved", Some(now.0))
                    } else {
                        ("open", None)
                    };
                    // Looked for first: an insert that finds its key taken
                    // still uses up an AUTOINCREMENT number, and alert
                    // numbers are read aloud (no holes).
                    let found = existing
                        .query_row(params![c.transition()], |r| {
                            Ok((alert_from_row(r)?, r.get::<_, Option<String>>(19)?))
                        })
                        .optional()
                        .db(tx)?;
                    if let Some((alert, holder)) = found {
                        // Our own claim, from an attempt whose answer was lost: still ours.
                        outcomes.push(if holder.as_deref() == Some(token.as_str()) {
                            ClaimOutcome::Won(alert)
                        } else {
                            ClaimOutcome::Lost(alert)
                        });
                        continue;
                    }
                    insert
                        .execute(params![
                            c.change_id,
                            c.kind.as_str(),
                            c.store,
                            c.item,
                            c.count,
                            c.threshold,
                            c.as_of.0,
                            c.source,
                            now.0,
                            state,
                            resolved_at,
                            c.notify && !resolved,
                            token,
                            rev,
                            c.transition()
                        ])
                        .db(tx)?;
                    outcomes.push(ClaimOutcome::Won(
                        inserted
                            .query_row(params![tx.last_insert_rowid()], alert_from_row)
                            .db(tx)?,
                    ));
                }
                Ok(outcomes)
            })
            .await
    }

    async fn take_stale(&self, claimed_before: Timestamp, token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        // Held claims are a window's until it may stay open no longer.
        let held_before = claimed_before
            .0
            .min(now.0 - stockwatch_core::ports::WINDOW_LONGEST.as_millis() as i64);
        // Checkers ask every poll and the answer is almost always no: ask
        // on the read connection first, so idle checkers never write.
        let any: bool = self
            .db
            .read(move |tx| {
                tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM alerts
                     WHERE notify = 1 AND published_at IS NULL
                       AND claimed_at < CASE WHEN claim_token LIKE 'held:%' THEN ?2 ELSE ?1 END)",
                    [claimed_before.0, held_before],
                    |r| r.get(0),
                )
                .db(tx)
            })
            .await?;
        if !any {
            return Ok(Vec::new());
        }
        let token = token.to_string();
        self.db
            .write(move |tx| {
                let rev = next_ledger_rev(tx)?;
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "UPDATE alerts SET claim_token = ?1, claimed_at = ?2, rev = ?3
                         WHERE notify = 1 AND published_at IS NULL
                           AND claimed_at < CASE WHEN claim_token LIKE 'held:%' THEN ?5 ELSE ?4 END
                         RETURNING {COLUMNS}"
                    ))
                    .db(tx)?;
                let rows = stmt
                    .query_map(
                        params![token, now.0, rev, claimed_before.0, held_before],
                        alert_from_row,
                    )
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await
    }

    async fn resolve(&self, restocks: &[Restock], now: Timestamp) -> PortResult<u64> {
        if restocks.is_empty() {
            return Ok(0);
        }
        let restocks = restocks.to_vec();
        self.db
            .write(move |tx| {
                let rev = next_ledger_rev(tx)?;
                let mut mark = tx
                    .prepare_cached(
                        "INSERT INTO restocks (store, item, as_of, change_id) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (store, item) DO UPDATE SET as_of = excluded.as_of, change_id = excluded.change_id
                         WHERE excluded.as_of > restocks.as_of",
                    )
                    .db(tx)?;
                let mut resolve = tx
                    .prepare_cached(
                        "UPDATE alerts SET state = 'resolved', resolved_at = ?4, rev = ?5,
                             published_at = CASE WHEN reminders > 0 THEN coalesce(published_at, ?4)
                                            ELSE published_at END,
                             notify = CASE WHEN published_at IS NULL AND reminders = 0 THEN 0
                                      ELSE notify END
                         WHERE store = ?1 AND item = ?2 AND state != 'resolved' AND as_of < ?3
                           AND (?6 IS NULL OR kind = ?6)",
                    )
                    .db(tx)?;
                let mut resolved = 0u64;
                for r in &restocks {
                    // Only a restock is remembered (claims of older snapshots born resolved).
                    if r.only.is_none() {
                        mark.execute(params![r.store, r.item, r.as_of.0, r.change_id]).db(tx)?;
                    }
                    let kind = r.only.map(AlertKind::as_str);
                    resolved += resolve
                        .execute(params![r.store, r.item, r.as_of.0, now.0, rev, kind])
                        .db(tx)? as u64;
                }
                Ok(resolved)
            })
            .await
    }

    async fn held(&self) -> PortResult<PendingClaims> {
        self.db
            .read(|tx| {
                tx.query_row(
                    "SELECT count(*), min(claimed_at), max(claimed_at) FROM alerts
                     WHERE notify = 1 AND published_at IS NULL AND claim_token LIKE 'held:%'",
                    [],
                    |r| {
                        Ok(PendingClaims {
                            count: r.get::<_, i64>(0)? as u64,
                            oldest: r.get::<_, Option<i64>>(1)?.map(Timestamp),
                            newest: r.get::<_, Option<i64>>(2)?.map(Timestamp),
                        })
                    },
                )
                .db(tx)
            })
            .await
    }

    async fn take_held(&self, token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        let token = token.to_string();
        self.db
            .write(move |tx| {
                let rev = next_ledger_rev(tx)?;
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "UPDATE alerts SET claim_token = ?1, claimed_at = ?2, rev = ?3
                         WHERE notify = 1 AND published_at IS NULL AND claim_token LIKE 'held:%'
                         RETURNING {COLUMNS}"
                    ))
                    .db(tx)?;
                let rows = stmt.query_map(params![token, now.0, rev], alert_from_row).db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await
    }

    async fn due_reminders(&self, notified_before: Timestamp) -> PortResult<Vec<Alert>> {
        self.db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM alerts
                         WHERE state = 'open' AND kind = 'OUT' AND notify = 1 AND published_at <= ?1
                         ORDER BY id"
                    ))
                    .db(tx)?;
                let rows = stmt.query_map([notified_before.0], alert_from_row).db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await
    }

    async fn claim_reminders(&self, due: &[Alert], token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        let seen: Vec<(i64, Option<i64>)> = due
            .iter()
            .map(|a| Ok((row_id(a.id)?, a.published_at.map(|t| t.0))))
            .collect::<PortResult<_>>()?;
        if seen.is_empty() {
            return Ok(Vec::new());
        }
        let token = token.to_string();
        self.db
            .write(move |tx| {
                let rev = next_ledger_rev(tx)?;
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "UPDATE alerts SET reminders = reminders + 1, published_at = NULL, claim_token = ?3,
                             claimed_at = ?4, rev = ?5
                         WHERE id = ?1 AND published_at = ?2 AND state = 'open'
                         RETURNING {COLUMNS}"
                    ))
                    .db(tx)?;
                let mut won = Vec::new();
                for (id, published_at) in &seen {
                    if let Some(alert) = stmt
                        .query_row(params![id, published_at, token, now.0, rev], alert_from_row)
                        .optional()
                        .db(tx)?
                    {
                        won.push(alert);
                    }
                }
                Ok(won)
            })
            .await
    }
}

#[async_trait]
impl Alerts for LocalLedger {
    async fn acknowledge(&self, alert_id: AlertId, ack: &Acknowledgement) -> PortResult<Alert> {
        let id = row_id(alert_id)?;
        let ack = ack.clone();
        self.db
            .write(move |tx| {
                let alert = get_alert(tx, id)?.ok_or_else(|| no_such_alert(alert_id))?;
                alert
                    .can_acknowledge()
                    .map_err(|e| PortError::conflict(e.to_string()))?;
                let rev = next_ledger_rev(tx)?;
                tx.execute(
                    "UPDATE alerts SET state = 'acknowledged', acked_by = ?2, acked_at = ?3, ack_note = ?4, rev = ?5,
                         -- a reminder not sent yet is cancelled
                         published_at = CASE WHEN reminders > 0 THEN coalesce(published_at, ?3)
                                        ELSE published_at END
                     WHERE id = ?1 AND state = 'open'",
                    params![id, ack.by, ack.at.0, ack.note, rev],
                )
                .db(tx)?;
                get_alert(tx, id)?.ok_or_else(|| no_such_alert(alert_id))
            })
            .await
    }

    async fn unacknowledge(&self, alert_id: AlertId, _at: Timestamp) -> PortResult<Alert> {
        let id = row_id(alert_id)?;
        self.db
            .write(move |tx| {
                let alert = get_alert(tx, id)?.ok_or_else(|| no_such_alert(alert_id))?;
                alert
                    .can_unacknowledge()
                    .map_err(|e| PortError::conflict(e.to_string()))?;
                let rev = next_ledger_rev(tx)?;
                // Its reminders come due again from its last message, as before.
                tx.execute(
                    "UPDATE alerts SET state = 'open', acked_by = NULL, acked_at = NULL, ack_note = NULL, rev = ?2
                     WHERE id = ?1 AND state = 'acknowledged'",
                    params![id, rev],
                )
                .db(tx)?;
                get_alert(tx, id)?.ok_or_else(|| no_such_alert(alert_id))
            })
            .await
    }

    async fn get(&self, alert_id: AlertId) -> PortResult<Alert> {
        let id = row_id(alert_id)?;
        self.db
            .read(move |tx| get_alert(tx, id)?.ok_or_else(|| no_such_alert(alert_id)))
            .await
    }

    async fn list(&self, filter: &AlertFilter, page: Option<&PageToken>, limit: usize) -> PortResult<Page<Alert>> {
        let before: i64 = match page {
            Some(token) => row_id(token.alert_place()?)?,
            None => i64::MAX,
        };
        let filter = filter.clone();
        let items = self
            .db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM alerts
                         WHERE id < ?1 AND (?2 OR state != 'resolved') AND (?3 IS NULL OR source = ?3)
                           AND (?4 IS NULL OR state = ?4)
                         ORDER BY id DESC LIMIT ?5"
                    ))
                    .db(tx)?;
                let rows = stmt
                    .query_map(
                        params![
                            before,
                            filter.include_resolved,
                            filter.source,
                            filter.state.map(AlertState::as_str),
                            limit as i64
                        ],
                        alert_from_row,
                    )
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        let next = if items.len() == limit && limit > 0 {
            items.last().map(PageToken::after_alert)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn tip(&self) -> PortResult<LedgerCursor> {
        let (rev, id): (i64, i64) = self
            .db
            .read(|tx| {
                tx.query_row(
                    "SELECT coalesce(max(rev), 0), coalesce(max(id), 0) FROM alerts",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .db(tx)
            })
            .await?;
        Ok(ledger_cursor(rev, id))
    }

    async fn changes_since(&self, cursor: Option<&LedgerCursor>, limit: usize) -> PortResult<LedgerPage> {
        // Cursor "rev:id": one transaction gives many alerts the same rev.
        let (rev, id) = match cursor {
            Some(c) => {
                c.0.split_once(':')
                    .and_then(|(r, i)| Some((r.parse::<i64>().ok()?, i.parse::<i64>().ok()?)))
                    .ok_or_else(|| PortError::Invalid("the ledger cursor is damaged".into()))?
            }
            None => (0, 0),
        };
        let rows = self
            .db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM alerts WHERE (rev, id) > (?1, ?2) ORDER BY rev, id LIMIT ?3"
                    ))
                    .db(tx)?;
                let rows = stmt
                    .query_map(params![rev, id, limit as i64], |r| {
                        Ok((alert_from_row(r)?, r.get::<_, i64>(17)?))
                    })
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        let cursor = rows.last().map_or(ledger_cursor(rev, id), |(alert, rev)| {
            ledger_cursor(*rev, alert.id.0 as i64)
        });
        Ok(LedgerPage {
            alerts: rows.into_iter().map(|(a, _)| a).collect(),
            cursor,
            // Revisions are kept with the alerts: nothing is ever lost.
            gap: false,
        })
    }
}

#[async_trait]
impl Snoozes for LocalLedger {
    async fn snooze(&self, snooze: &Snooze) -> PortResult<()> {
        let snooze = snooze.clone();
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO snoozes (store, item, until, by, note) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (store, item) DO UPDATE SET until = excluded.until, by = excluded.by,
                         note = excluded.note",
                    params![
                        snooze.store,
                        snooze.item.unwrap_or_default(),
                        snooze.until.0,
                        snooze.by,
                        snooze.note
                    ],
                )
                .db(tx)
                .map(|_| ())
            })
            .await
    }

    async fn unsnooze(&self, store: &str, item: Option<&str>) -> PortResult<bool> {
        let (store, item) = (store.to_string(), item.unwrap_or_default().to_string());
        self.db
            .write(move |tx| {
                tx.execute(
                    "DELETE FROM snoozes WHERE store = ?1 AND item = ?2",
                    params![store, item],
                )
                .db(tx)
                .map(|n| n > 0)
            })
            .await
    }

    async fn snoozes(&self, now: Timestamp) -> PortResult<Vec<Snooze>> {
        self.db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT store, item, until, by, note FROM snoozes WHERE until > ?1 ORDER BY store, item",
                    )
                    .db(tx)?;
                let rows = stmt
                    .query_map([now.0], |r| {
                        let item: String = r.get(1)?;
                        Ok(Snooze {
                            store: r.get(0)?,
                            item: (!item.is_empty()).then_some(item),
                            until: Timestamp(r.get(2)?),
                            by: r.get(3)?,
                            note: r.get(4)?,
                        })
                    })
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await
    }
}
