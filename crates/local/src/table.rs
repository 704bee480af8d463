//! The inventory table, its change feed and the checkers' checkpoints.

use super::db::{Db, HeldWrite, KEEP_OLDER, SOURCE_ID, SqlResultExt};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use stockwatch_core::ports::{
    Change, ChangeFeed, ChangeKind, Checkpoints, FeedCursor, FeedPage, Image, InventoryTable, ObjectKey, Page,
    PageToken, PortError, PortResult, RowSink, StockFilter, StockRow, WriteSummary,
};
use stockwatch_domain::{InventoryRow, Timestamp, supersedes};

pub struct LocalTable {
    db: Db,
}

impl LocalTable {
    pub fn new(db: Db) -> Self {
        LocalTable { db }
    }
}

const INSERT_NEW: &str = "
INSERT INTO inventory (store, item, count, as_of, updated_at, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (store, item) DO NOTHING";
const LOG_INSERT: &str = "
INSERT INTO changes (store, item, new_count, new_as_of, new_source, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const STORED: &str = "SELECT count, as_of, source FROM inventory WHERE store = ?1 AND item = ?2";
const UPDATE: &str = "
UPDATE inventory SET count = ?3, as_of = ?4, updated_at = ?5, source = ?6 WHERE store = ?1 AND item = ?2";
const LOG_MODIFY: &str = "
INSERT INTO changes (store, item, old_count, old_as_of, old_source, new_count, new_as_of, new_source, at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

fn change_seq(tx: &rusqlite::Transaction<'_>) -> PortResult<i64> {
    tx.query_row(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)",
        [],
        |r| r.get(0),
    )
    .db(tx)
}

/// Writes rows of one file in the caller's transaction, with a change
/// record for each new row and each changed count. A stored row is replaced
/// only when `supersedes` says so (the same rule as every backend).
fn write_rows(
    tx: &rusqlite::Transaction<'_>,
    rows: &[InventoryRow],
    as_of: Timestamp,
    source: i64,
    now: i64,
) -> PortResult<WriteSummary> {
    let mut insert = tx.prepare_cached(INSERT_NEW).db(tx)?;
    let mut log_insert = tx.prepare_cached(LOG_INSERT).db(tx)?;
    let mut stored = tx.prepare_cached(STORED).db(tx)?;
    let mut update = tx.prepare_cached(UPDATE).db(tx)?;
    let mut log_modify = tx.prepare_cached(LOG_MODIFY).db(tx)?;
    let mut keep_older = tx.prepare_cached(KEEP_OLDER).db(tx)?;
    // Bound once: SQLite keeps bindings across executions, and rebinding the
    // same values a million times was a third of a big load's write time.
    let as_of_ms = as_of.0;
    for (index, value) in [(4, &as_of_ms as &dyn rusqlite::ToSql), (5, &now), (6, &source)] {
        insert.raw_bind_parameter(index, value).db(tx)?;
    }
    for (index, value) in [(4, &as_of_ms as &dyn rusqlite::ToSql), (5, &source), (6, &now)] {
        log_insert.raw_bind_parameter(index, value).db(tx)?;
    }
    let mut summary = WriteSummary::default();
    for row in rows {
        let (store, item, count) = (&*row.store, &*row.item, row.count);
        // Most rows of a big load are new: one statement decides.
        insert.raw_bind_parameter(1, store).db(tx)?;
        insert.raw_bind_parameter(2, item).db(tx)?;
        insert.raw_bind_parameter(3, count).db(tx)?;
        if insert.raw_execute().db(tx)? == 1 {
            log_insert.raw_bind_parameter(1, store).db(tx)?;
            log_insert.raw_bind_parameter(2, item).db(tx)?;
            log_insert.raw_bind_parameter(3, count).db(tx)?;
            log_insert.raw_execute().db(tx)?;
            summary.changed += 1;
            continue;
        }
        let (old_count, old_as_of, old_source): (u32, i64, i64) = stored
            .query_row(params![store, item], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .db(tx)?;
        if !supersedes((as_of, count), (Timestamp(old_as_of), old_count)) {
            // The same snapshot again changes nothing; any other loses to
            // what the table holds, whatever its count.
            if old_as_of == as_of_ms && old_count == count {
                summary.unchanged += 1;
            } else {
                summary.older += 1;
                // The history keeps every snapshot (in this transaction: a
                // rejected file keeps none of it).
                keep_older
                    .execute(params![store, item, as_of_ms, count, source, now])
                    .db(tx)?;
            }
            continue;
        }
        update
            .execute(params![store, item, count, as_of_ms, now, source])
            .db(tx)?;
        // A newer snapshot of the same count is still a change record: the
        // as-of moved, and followers (the console's AS OF) must see it.
        // The load's report counts it as unchanged: no count changed.
        log_modify
            .execute(params![
                store, item, old_count, old_as_of, old_source, count, as_of_ms, source, now
            ])
            .db(tx)?;
        if old_count == count {
            summary.unchanged += 1;
        } else {
            summary.changed += 1;
        }
    }
    Ok(summary)
}

/// One file's rows streaming into one transaction: undoable until committed.
struct LocalLoad {
    held: HeldWrite,
    as_of: Timestamp,
    source: i64,
    now: i64,
}

#[async_trait]
impl RowSink for LocalLoad {
    fn undoable(&self) -> bool {
        true
    }

    async fn write(&mut self, rows: Vec<InventoryRow>) -> PortResult<WriteSummary> {
        let (as_of, source, now) = (self.as_of, self.source, self.now);
        self.held.run(move |tx| write_rows(tx, &rows, as_of, source, now)).await
    }

    async fn commit(self: Box<Self>) -> PortResult<()> {
        self.held.commit().await
    }

    async fn abandon(self: Box<Self>) {
        // Dropping the transaction rolls it back.
    }
}

#[async_trait]
impl InventoryTable for LocalTable {
    async fn begin(&self, as_of: Timestamp, source: &ObjectKey) -> PortResult<Box<dyn RowSink>> {
        let held = self.db.begin_held().await?;
        let key = source.as_str().to_string();
        let source = held
            .run(move |tx| tx.query_row(SOURCE_ID, [key.as_str()], |r| r.get(0)).db(tx))
            .await?;
        Ok(Box::new(LocalLoad {
            held,
            as_of,
            source,
            now: Timestamp::now().0,
        }))
    }

    async fn scan(&self, filter: &StockFilter, page: Option<&PageToken>, limit: usize) -> PortResult<Page<StockRow>> {
        let after: Option<(String, String)> = match page {
            Some(token) => Some(
                serde_json::from_str(&token.0)
                    .map_err(|_| PortError::Invalid("the page token is not one of this backend's".into()))?,
            ),
            None => None,
        };
        let filter = filter.clone();
        let rows = self
            .db
            .read(move |tx| {
                // Keyset pages on the primary key: each page is a range seek,
                // so listing a million rows stays linear.
                let (after_store, after_item) = after.unwrap_or_default();
                let sql = if filter.store.is_some() {
                    "SELECT i.store, i.item, i.count, i.as_of, i.updated_at, s.key
                     FROM inventory i JOIN sources s ON s.id = i.source
                     WHERE i.store = ?1 AND i.item > ?2 AND (?3 IS NULL OR i.count <= ?3)
                     ORDER BY i.store, i.item LIMIT ?4"
                } else {
                    "SELECT i.store, i.item, i.count, i.as_of, i.updated_at, s.key
                     FROM inventory i JOIN sources s ON s.id = i.source
                     WHERE (i.store, i.item) > (?1, ?2) AND (?3 IS NULL OR i.count <= ?3)
                     ORDER BY i.store, i.item LIMIT ?4"
                };
                let (store, item) = match filter.store {
                    // A page token from another store's listing cannot skip this one.
                    Some(store) if store == after_store => (store, after_item),
                    Some(store) => (store, String::new()),
                    None => (after_store, after_item),
                };
                let mut stmt = tx.prepare_cached(sql).db(tx)?;
                let rows = stmt
                    .query_map(params![store, item, filter.count_at_most, limit as i64], |r| {
                        Ok(StockRow {
                            store: r.get(0)?,
                            item: r.get(1)?,
                            count: r.get(2)?,
                            as_of: Timestamp(r.get(3)?),
                            updated_at: Timestamp(r.get(4)?),
                            source: r.get(5)?,
                        })
                    })
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        let next = if rows.len() == limit && limit > 0 {
            rows.last()
                .map(|r| PageToken(serde_json::json!([r.store, r.item]).to_string()))
        } else {
            None
        };
        Ok(Page { items: rows, next })
    }
}

fn parse_cursor(cursor: Option<&FeedCursor>) -> PortResult<i64> {
    match cursor {
        None => Ok(0),
        Some(c) => {
            c.0.parse()
                .map_err(|_| PortError::invalid(format!("`{}` is not a local change feed position", c.0)))
        }
    }
}

fn image(count: Option<u32>, as_of: Option<i64>, source: Option<String>) -> Option<Image> {
    Some(Image {
        count: count?,
        as_of: Timestamp(as_of?),
        source: source.unwrap_or_default(),
    })
}

#[async_trait]
impl ChangeFeed for LocalTable {
    async fn read(&self, cursor: Option<&FeedCursor>, limit: usize) -> PortResult<FeedPage> {
        let after = parse_cursor(cursor)?;
        let changes = self
            .db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT c.id, c.store, c.item, c.old_count, c.old_as_of, o.key,
                                c.new_count, c.new_as_of, n.key, c.at
                         FROM changes c
                         LEFT JOIN sources o ON o.id = c.old_source
                         LEFT JOIN sources n ON n.id = c.new_source
                         WHERE c.id > ?1 ORDER BY c.id LIMIT ?2",
                    )
                    .db(tx)?;
                let rows = stmt
                    .query_map(params![after, limit as i64], |r| {
                        let id: i64 = r.get(0)?;
                        let old = image(r.get(3)?, r.get(4)?, r.get(5)?);
                        let new = image(r.get(6)?, r.get(7)?, r.get(8)?);
                        let kind = match (&old, &new) {
                            (None, _) => ChangeKind::Insert,
                            (Some(_), None) => ChangeKind::Remove,
                            (Some(_), Some(_)) => ChangeKind::Modify,
                        };
                        Ok(Change {
                            id: id.to_string(),
                            kind,
                            store: r.get(1)?,
                            item: r.get(2)?,
                            old,
                            new,
                            at: Timestamp(r.get(9)?),
                        })
                    })
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        let last = changes.last().map_or(after, |c| c.id.parse().unwrap_or(after));
        // Records this reader had not read were dropped (history_keep):
        // what it holds may be stale, as after any lost changes.
        let pruned_below: Option<i64> = self
            .db
            .read(|tx| {
                tx.query_row(
                    "SELECT value FROM counters WHERE name = ?1",
                    [super::history::PRUNED_BELOW],
                    |r| r.get(0),
                )
                .optional()
                .db(tx)
            })
            .await?;
        let gap = after > 0 && pruned_below.is_some_and(|below| after + 1 < below);
        // Past the hole, so the gap is said once.
        let last = match pruned_below {
            Some(below) if gap => last.max(below - 1),
            _ => last,
        };
        Ok(FeedPage {
            changes,
            cursor: FeedCursor(last.to_string()),
            gap,
        })
    }

    async fn tip(&self) -> PortResult<FeedCursor> {
        let seq = self.db.read(change_seq).await?;
        Ok(FeedCursor(seq.to_string()))
    }
}

pub struct LocalCheckpoints {
    db: Db,
}

impl LocalCheckpoints {
    pub fn new(db: Db) -> Self {
        LocalCheckpoints { db }
    }
}

#[async_trait]
impl Checkpoints for LocalCheckpoints {
    async fn load(&self, name: &str) -> PortResult<Option<FeedCursor>> {
        let name = name.to_string();
        let position: Option<rusqlite::types::Value> = self
            .db
            .read(move |tx| {
                tx.query_row("SELECT position FROM checkpoints WHERE name = ?1", [&name], |r| {
                    r.get(0)
                })
                .optional()
                .db(tx)
            })
            .await?;
        Ok(position.and_then(|p| match p {
            rusqlite::types::Value::Integer(n) => Some(FeedCursor(n.to_string())),
            rusqlite::types::Value::Text(text) => Some(FeedCursor(text)),
            _ => None,
        }))
    }

    /// The feed's positions are numbers; other cursors (the relay's place
    /// in the ledger) are kept as text, which their makers pad so that the
    /// text order is theirs: either way the furthest is kept.
    async fn save(&self, name: &str, cursor: &FeedCursor) -> PortResult<()> {
        let position = match cursor.0.parse::<i64>() {
            Ok(n) => rusqlite::types::Value::Integer(n),
            Err(_) => rusqlite::types::Value::Text(cursor.0.clone()),
        };
        let name = name.to_string();
        let now = Timestamp::now().0;
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO checkpoints (name, position, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET position = max(position, excluded.position),
                         updated_at = excluded.updated_at",
                    params![name, position, now],
                )
                .db(tx)
                .map(|_| ())
            })
            .await
    }
}
