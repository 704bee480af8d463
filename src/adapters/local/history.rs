//! History on the local backend: the change log already holds every change
//! of a count with its as-of time and file, written in the load's own
//! transaction; an index by item (migration 7) serves the queries.

use super::db::{Db, SqlResultExt};
use crate::domain::Timestamp;
use crate::ports::{Change, History, HistoryPoint, PortResult};
use async_trait::async_trait;
use rusqlite::params;

pub struct LocalHistory {
    db: Db,
}

impl LocalHistory {
    pub fn new(db: Db) -> Self {
        LocalHistory { db }
    }
}

const POINTS: &str = "SELECT c.new_as_of, c.new_count, s.key
    FROM changes c LEFT JOIN sources s ON s.id = c.new_source
    WHERE c.store = ?1 AND c.item = ?2 AND c.new_count IS NOT NULL AND c.new_as_of >= ?3
    ORDER BY c.new_as_of, c.id";

fn points_in(
    tx: &rusqlite::Transaction<'_>,
    store: &str,
    item: &str,
    since: Timestamp,
) -> PortResult<Vec<HistoryPoint>> {
    let mut stmt = tx.prepare_cached(POINTS).db(tx)?;
    let rows = stmt
        .query_map(params![store, item, since.0], |r| {
            Ok(HistoryPoint {
                as_of: Timestamp(r.get(0)?),
                count: r.get(1)?,
                source: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            })
        })
        .db(tx)?;
    rows.collect::<Result<Vec<_>, _>>().db(tx)
}

#[async_trait]
impl History for LocalHistory {
    /// The load wrote the change log in its own transaction: nothing to add.
    async fn record(&self, _changes: &[Change]) -> PortResult<()> {
        Ok(())
    }

    async fn points(&self, store: &str, item: &str, since: Timestamp) -> PortResult<Vec<HistoryPoint>> {
        let (store, item) = (store.to_string(), item.to_string());
        self.db.read(move |tx| points_in(tx, &store, &item, since)).await
    }

    async fn points_of(&self, items: &[(String, String)], since: Timestamp) -> PortResult<Vec<Vec<HistoryPoint>>> {
        let items = items.to_vec();
        self.db
            .read(move |tx| {
                items
                    .iter()
                    .map(|(store, item)| points_in(tx, store, item, since))
                    .collect()
            })
            .await
    }
}
