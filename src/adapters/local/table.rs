//! The inventory table, its change feed and the checkers' checkpoints.

use super::db::{Db, SqlResultExt};
use crate::domain::Timestamp;
use crate::ports::{
    Change, ChangeFeed, ChangeKind, Checkpoints, FeedBatch, FeedCursor, Image, InventoryTable,
    Page, PageToken, PortError, PortResult, StockFilter, StockRow, WriteBatch, WriteSummary,
};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

pub struct LocalTable {
    db: Db,
}

impl LocalTable {
    pub fn new(db: Db) -> Self {
        LocalTable { db }
    }
}

/// Upsert that never lets an older snapshot overwrite a newer one. On a tie
/// of as-of times the lower count wins, so the result does not depend on the
/// order files are loaded in, and an outage is never hidden.
const UPSERT: &str = "
INSERT INTO inventory (store, item, count, as_of, updated_at, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (store, item) DO UPDATE SET
    count = excluded.count, as_of = excluded.as_of, updated_at = excluded.updated_at, source = excluded.source
WHERE excluded.as_of > inventory.as_of
   OR (excluded.as_of = inventory.as_of AND excluded.count < inventory.count)";

fn change_seq(tx: &rusqlite::Transaction<'_>) -> PortResult<i64> {
    tx.query_row(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)",
        [],
        |r| r.get(0),
    )
    .db(tx)
}

#[async_trait]
impl InventoryTable for LocalTable {
    async fn write(&self, batch: WriteBatch) -> PortResult<WriteSummary> {
        let now = Timestamp::now().0;
        self.db
            .write(move |tx| {
                let before = change_seq(tx)?;
                let mut summary = WriteSummary::default();
                let mut written = 0u64;
                let mut skipped = Vec::new();
                {
                    let mut upsert = tx.prepare_cached(UPSERT).db(tx)?;
                    let source = batch.source.as_str();
                    for (index, row) in batch.rows.iter().enumerate() {
                        let n = upsert
                            .execute(params![
                                &*row.store,
                                &*row.item,
                                row.count,
                                batch.as_of.0,
                                now,
                                source
                            ])
                            .db(tx)?;
                        if n == 1 {
                            written += 1;
                        } else {
                            skipped.push(index);
                        }
                    }
                }
                // Each change record is one new or changed count (the triggers
                // skip same-count writes), so the rest only moved their as-of.
                summary.changed = (change_seq(tx)? - before) as u64;
                summary.unchanged = written - summary.changed;
                if !skipped.is_empty() {
                    let mut stored = tx
                        .prepare_cached(
                            "SELECT count FROM inventory WHERE store = ?1 AND item = ?2",
                        )
                        .db(tx)?;
                    for index in skipped {
                        let row = &batch.rows[index];
                        let count: u32 = stored
                            .query_row(params![&*row.store, &*row.item], |r| r.get(0))
                            .db(tx)?;
                        if count == row.count {
                            summary.unchanged += 1;
                        } else {
                            summary.older += 1;
                        }
                    }
                }
                Ok(summary)
            })
            .await
    }

    async fn scan(
        &self,
        filter: &StockFilter,
        page: Option<&PageToken>,
        limit: usize,
    ) -> PortResult<Page<StockRow>> {
        let after: Option<(String, String)> = match page {
            Some(token) => Some(serde_json::from_str(&token.0).map_err(|_| {
                PortError::Invalid("the page token is not one of this backend's".into())
            })?),
            None => None,
        };
        let filter = filter.clone();
        let rows = self
            .db
            .read(move |tx| {
                let (after_store, after_item) = after.unwrap_or_default();
                let started = page_started(&after_store, &after_item);
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT store, item, count, as_of, updated_at, source FROM inventory
                         WHERE (?1 IS NULL OR store = ?1)
                           AND (?2 IS NULL OR count <= ?2)
                           AND (NOT ?3 OR store > ?4 OR (store = ?4 AND item > ?5))
                         ORDER BY store, item LIMIT ?6",
                    )
                    .db(tx)?;
                let rows = stmt
                    .query_map(
                        params![
                            filter.store,
                            filter.count_at_most,
                            started,
                            after_store,
                            after_item,
                            limit as i64
                        ],
                        |r| {
                            Ok(StockRow {
                                store: r.get(0)?,
                                item: r.get(1)?,
                                count: r.get(2)?,
                                as_of: Timestamp(r.get(3)?),
                                updated_at: Timestamp(r.get(4)?),
                                source: r.get(5)?,
                            })
                        },
                    )
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

fn page_started(store: &str, item: &str) -> bool {
    !(store.is_empty() && item.is_empty())
}

fn parse_cursor(cursor: Option<&FeedCursor>) -> PortResult<i64> {
    match cursor {
        None => Ok(0),
        Some(c) => c.0.parse().map_err(|_| {
            PortError::Invalid(format!("`{}` is not a local change feed position", c.0))
        }),
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
    async fn read(&self, cursor: Option<&FeedCursor>, limit: usize) -> PortResult<FeedBatch> {
        let after = parse_cursor(cursor)?;
        let changes = self
            .db
            .read(move |tx| {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id, kind, store, item, old_count, old_as_of, old_source,
                                new_count, new_as_of, new_source, at
                         FROM changes WHERE id > ?1 ORDER BY id LIMIT ?2",
                    )
                    .db(tx)?;
                let rows = stmt
                    .query_map(params![after, limit as i64], |r| {
                        let id: i64 = r.get(0)?;
                        let kind: String = r.get(1)?;
                        Ok(Change {
                            id: id.to_string(),
                            kind: match kind.as_str() {
                                "INSERT" => ChangeKind::Insert,
                                "REMOVE" => ChangeKind::Remove,
                                _ => ChangeKind::Modify,
                            },
                            store: r.get(2)?,
                            item: r.get(3)?,
                            old: image(r.get(4)?, r.get(5)?, r.get(6)?),
                            new: image(r.get(7)?, r.get(8)?, r.get(9)?),
                            at: Timestamp(r.get(10)?),
                        })
                    })
                    .db(tx)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db(tx)
            })
            .await?;
        let last = changes
            .last()
            .map_or(after, |c| c.id.parse().unwrap_or(after));
        Ok(FeedBatch {
            changes,
            cursor: FeedCursor(last.to_string()),
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
        let position: Option<i64> = self
            .db
            .read(move |tx| {
                tx.query_row(
                    "SELECT position FROM checkpoints WHERE name = ?1",
                    [&name],
                    |r| r.get(0),
                )
                .optional()
                .db(tx)
            })
            .await?;
        Ok(position.map(|p| FeedCursor(p.to_string())))
    }

    async fn save(&self, name: &str, cursor: &FeedCursor) -> PortResult<()> {
        let position = parse_cursor(Some(cursor))?;
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
