//! History on the local backend: the change log already holds every change
//! of a count with its as-of time and file, written in the load's own
//! transaction. An index by as-of day, then item (migration 8) serves the
//! queries: a day's load only adds to the day's end of it (an index by item
//! alone had every reload rewrite most of its pages, 7.8–10.1 s for a
//! million rows over two weeks of history), and an item's points are a
//! seek per day.

use super::db::{Db, SqlResultExt};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use stockwatch_core::ports::{Change, History, HistoryPoint, ObjectKey, PortResult};
use stockwatch_domain::{InventoryRow, Timestamp};

/// The counter naming the first change record kept: a reader whose
/// position is before it missed records (`LocalTable::read` says gap).
pub const PRUNED_BELOW: &str = "changes_pruned_below";

/// How often a process drops changes older than the kept period.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub struct LocalHistory {
    db: Db,
    keep: Duration,
    pruned: Mutex<Option<Instant>>,
}

impl LocalHistory {
    pub fn new(db: Db, keep: Duration) -> Self {
        LocalHistory {
            db,
            keep,
            pruned: Mutex::new(None),
        }
    }

    /// Drops the change records written more than the kept period ago (at
    /// most once an hour per process), but none a checker has not read yet
    /// (its checkpoint bounds it); a follower that far behind is told of a
    /// gap (`PRUNED_BELOW`) and reads the table again. The records are in
    /// write order, so the first one to keep is found by bisecting ids.
    async fn prune_if_due(&self) -> PortResult<u64> {
        {
            let mut pruned = self.pruned.lock().unwrap_or_else(|p| p.into_inner());
            if pruned.is_some_and(|at| at.elapsed() < PRUNE_EVERY) || self.db.is_read_only() {
                return Ok(0);
            }
            *pruned = Some(Instant::now());
        }
        let keep = i64::try_from(self.keep.as_millis()).unwrap_or(i64::MAX);
        let cutoff = Timestamp::now().0.saturating_sub(keep);
        self.db
            .write(move |tx| {
                let older = tx
                    .execute("DELETE FROM older_snapshots WHERE at < ?1", params![cutoff])
                    .db(tx)? as u64;
                let at_or_after = |id: i64| -> PortResult<Option<(i64, i64)>> {
                    tx.prepare_cached("SELECT id, at FROM changes WHERE id >= ?1 ORDER BY id LIMIT 1")
                        .db(tx)?
                        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                        .db(tx)
                };
                let Some((first, first_at)) = at_or_after(0)? else {
                    return Ok(older);
                };
                if first_at >= cutoff {
                    return Ok(older);
                }
                let last: i64 = tx.query_row("SELECT max(id) FROM changes", [], |r| r.get(0)).db(tx)?;
                // The first id written at or after the cutoff: in (first, last + 1].
                let (mut low, mut high) = (first, last + 1);
                while high - low > 1 {
                    let mid = low + (high - low) / 2;
                    match at_or_after(mid)? {
                        Some((_, at)) if at >= cutoff => high = mid,
                        _ => low = mid,
                    }
                }
                // Not past what a checker has yet to read.
                let unread: Option<i64> = tx
                    .query_row(
                        "SELECT min(position) + 1 FROM checkpoints WHERE typeof(position) = 'integer'",
                        [],
                        |r| r.get(0),
                    )
                    .db(tx)?;
                let below = unread.map_or(high, |unread| high.min(unread));
                if below <= first {
                    return Ok(older);
                }
                let dropped = tx.execute("DELETE FROM changes WHERE id < ?1", params![below]).db(tx)?;
                tx.execute(
                    "INSERT INTO counters (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                    params![PRUNED_BELOW, below],
                )
                .db(tx)?;
                Ok(older + dropped as u64)
            })
            .await
    }
}

const DAY_MS: i64 = 86_400_000;

/// An item's points of one as-of day.
const POINTS_OF_DAY: &str = "SELECT c.new_as_of, c.new_count, s.key
    FROM changes c INDEXED BY changes_day LEFT JOIN sources s ON s.id = c.new_source
    WHERE c.new_as_of / 86400000 = ?1 AND c.store = ?2 AND c.item = ?3
      AND c.new_count IS NOT NULL AND c.new_as_of >= ?4
    ORDER BY c.new_as_of";

/// The as-of days from `since` that hold points, first and last; `None`
/// when none do. (Two lookups: each is one end of the index.)
fn days(tx: &rusqlite::Transaction<'_>, since: Timestamp) -> PortResult<Option<std::ops::RangeInclusive<i64>>> {
    let end = |sql: &str| -> PortResult<Option<i64>> { tx.query_row(sql, [], |r| r.get(0)).db(tx) };
    let first = end("SELECT min(new_as_of / 86400000) FROM changes WHERE new_count IS NOT NULL")?;
    let last = end("SELECT max(new_as_of / 86400000) FROM changes WHERE new_count IS NOT NULL")?;
    Ok(match (first, last) {
        (Some(first), Some(last)) => Some(first.max(since.0.div_euclid(DAY_MS))..=last),
        _ => None,
    })
}

/// `older`: whether any older snapshot is kept (`any_older`, asked once per read).
fn points_in(
    tx: &rusqlite::Transaction<'_>,
    store: &str,
    item: &str,
    since: Timestamp,
    older: bool,
) -> PortResult<Vec<HistoryPoint>> {
    let mut points = Vec::new();
    let mut stmt = tx.prepare_cached(POINTS_OF_DAY).db(tx)?;
    for day in days(tx, since)?.into_iter().flatten() {
        let rows = stmt.query_map(params![day, store, item, since.0], point_of).db(tx)?;
        for point in rows {
            points.push(point.db(tx)?);
        }
    }
    if older {
        let mut stmt = tx
            .prepare_cached(
                "SELECT o.as_of, o.count, s.key FROM older_snapshots o LEFT JOIN sources s ON s.id = o.source
                 WHERE o.store = ?1 AND o.item = ?2 AND o.as_of >= ?3 ORDER BY o.as_of",
            )
            .db(tx)?;
        let rows = stmt.query_map(params![store, item, since.0], point_of).db(tx)?;
        for point in rows {
            points.push(point.db(tx)?);
        }
        in_history_order(&mut points);
    }
    Ok(points)
}

/// A point from a row of (as-of, count, file key).
fn point_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryPoint> {
    Ok(HistoryPoint {
        as_of: Timestamp(r.get(0)?),
        count: r.get(1)?,
        source: r.get::<_, Option<String>>(2)?.unwrap_or_default().into(),
    })
}

/// Whether any snapshot older than the table's row was kept (most data
/// dirs have none: their reads skip the second table).
fn any_older(tx: &rusqlite::Transaction<'_>) -> PortResult<bool> {
    tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM older_snapshots)")
        .db(tx)?
        .query_row([], |r| r.get(0))
        .db(tx)
}

/// Points from the change log and from older snapshots as one history:
/// by as-of time, one point per snapshot time (the lower count on a tie,
/// as the table decides), so back files loaded in any order read the same.
fn in_history_order(points: &mut Vec<HistoryPoint>) {
    points.sort_by_key(|p| (p.as_of, p.count));
    points.dedup_by_key(|p| p.as_of);
}

/// A file's key by its number, each read once per query.
fn source_key(
    tx: &rusqlite::Transaction<'_>,
    known: &mut std::collections::HashMap<i64, std::sync::Arc<str>>,
    id: Option<i64>,
) -> PortResult<std::sync::Arc<str>> {
    let Some(id) = id else { return Ok("".into()) };
    if let Some(key) = known.get(&id) {
        return Ok(key.clone());
    }
    let key: std::sync::Arc<str> = tx
        .prepare_cached("SELECT key FROM sources WHERE id = ?1")
        .db(tx)?
        .query_row(params![id], |r| r.get::<_, String>(0))
        .optional()
        .db(tx)?
        .unwrap_or_default()
        .into();
    known.insert(id, key.clone());
    Ok(key)
}

/// Whether `items` are in table order and at least half the table's rows
/// from the first to the last: then one walk reads them faster than a query
/// each (a page of a whole daily file), and walks little it does not need.
fn dense(tx: &rusqlite::Transaction<'_>, items: &[(String, String)]) -> PortResult<bool> {
    const AT_LEAST: usize = 64;
    if items.len() < AT_LEAST || !items.windows(2).all(|w| w[0] < w[1]) {
        return Ok(false);
    }
    let (first, last) = (&items[0], &items[items.len() - 1]);
    let rows: i64 = tx
        .prepare_cached("SELECT count(*) FROM inventory WHERE (store, item) >= (?1, ?2) AND (store, item) <= (?3, ?4)")
        .db(tx)?
        .query_row(params![first.0, first.1, last.0, last.1], |r| r.get(0))
        .db(tx)?;
    Ok(items.len() as i64 * 2 >= rows)
}

/// Items of one page of the table, in its order: one walk through the
/// index from the first to the last (a million items' points in seconds,
/// where a query per item took 18 s), keeping the items asked for.
fn points_in_range(
    tx: &rusqlite::Transaction<'_>,
    items: &[(String, String)],
    since: Timestamp,
) -> PortResult<Vec<Vec<HistoryPoint>>> {
    let (first, last) = (&items[0], &items[items.len() - 1]);
    let mut found: Vec<Vec<HistoryPoint>> = Vec::new();
    found.resize_with(items.len(), || Vec::with_capacity(16));
    // No join and no strings per row: names are compared where SQLite has
    // them, and each file's key is read once (a million items' fourteen
    // points each were 42 million allocations).
    let mut stmt = tx
        .prepare_cached(
            "SELECT c.store, c.item, c.new_as_of, c.new_count, c.new_source
             FROM changes c INDEXED BY changes_day
             WHERE c.new_as_of / 86400000 = ?1
               AND (c.store, c.item) >= (?2, ?3) AND (c.store, c.item) <= (?4, ?5)
               AND c.new_count IS NOT NULL AND c.new_as_of >= ?6
             ORDER BY c.store, c.item, c.new_as_of",
        )
        .db(tx)?;
    let mut sources: std::collections::HashMap<i64, std::sync::Arc<str>> = Default::default();
    // Day by day, oldest first: each item's points come in as-of order.
    for day in days(tx, since)?.into_iter().flatten() {
        let mut rows = stmt
            .query(params![day, first.0, first.1, last.0, last.1, since.0])
            .db(tx)?;
        place_rows(tx, &mut rows, items, &mut sources, &mut found, None)?;
    }
    if any_older(tx)? {
        older_in_range(tx, items, since, &mut sources, &mut found)?;
    }
    Ok(found)
}

/// Adds rows of (store, item, as-of, count, file number), in item order, to
/// the points of the items asked for (also in order), noting where in `placed`.
fn place_rows(
    tx: &rusqlite::Transaction<'_>,
    rows: &mut rusqlite::Rows<'_>,
    items: &[(String, String)],
    sources: &mut std::collections::HashMap<i64, std::sync::Arc<str>>,
    found: &mut [Vec<HistoryPoint>],
    mut placed: Option<&mut Vec<usize>>,
) -> PortResult<()> {
    let mut at = 0;
    while let Some(row) = rows.next().db(tx)? {
        let text = |i: usize| -> PortResult<&str> { row.get_ref(i).and_then(|v| Ok(v.as_str()?)).db(tx) };
        let (store, item) = (text(0)?, text(1)?);
        // Both in order: move to this row's item, if it was asked for.
        while at < items.len() && (items[at].0.as_str(), items[at].1.as_str()) < (store, item) {
            at += 1;
        }
        if at < items.len() && items[at].0 == store && items[at].1 == item {
            let source = source_key(tx, sources, row.get(4).db(tx)?)?;
            found[at].push(HistoryPoint {
                as_of: Timestamp(row.get(2).db(tx)?),
                count: row.get(3).db(tx)?,
                source,
            });
            if let Some(placed) = placed.as_deref_mut() {
                placed.push(at);
            }
        }
    }
    Ok(())
}

/// Adds the older snapshots of a range of items to their points.
fn older_in_range(
    tx: &rusqlite::Transaction<'_>,
    items: &[(String, String)],
    since: Timestamp,
    sources: &mut std::collections::HashMap<i64, std::sync::Arc<str>>,
    found: &mut [Vec<HistoryPoint>],
) -> PortResult<()> {
    let (first, last) = (&items[0], &items[items.len() - 1]);
    let mut stmt = tx
        .prepare_cached(
            "SELECT store, item, as_of, count, source FROM older_snapshots
             WHERE (store, item) >= (?1, ?2) AND (store, item) <= (?3, ?4) AND as_of >= ?5
             ORDER BY store, item, as_of",
        )
        .db(tx)?;
    let mut rows = stmt.query(params![first.0, first.1, last.0, last.1, since.0]).db(tx)?;
    let mut touched = Vec::new();
    place_rows(tx, &mut rows, items, sources, found, Some(&mut touched))?;
    touched.dedup();
    for at in touched {
        in_history_order(&mut found[at]);
    }
    Ok(())
}

#[async_trait]
impl History for LocalHistory {
    /// The load wrote the change log in its own transaction: nothing to
    /// add; what is older than the kept period goes (now and then).
    async fn record(&self, _changes: &[Change]) -> PortResult<()> {
        let dropped = self.prune_if_due().await?;
        if dropped > 0 {
            tracing::info!(dropped, keep = ?self.keep, "dropped change records older than the history is kept");
        }
        Ok(())
    }

    async fn record_older(&self, rows: &[InventoryRow], as_of: Timestamp, source: &ObjectKey) -> PortResult<()> {
        let rows: Vec<(String, String, u32)> = rows
            .iter()
            .map(|r| (r.store.to_string(), r.item.to_string(), r.count))
            .collect();
        let source = source.as_str().to_string();
        let now = Timestamp::now().0;
        self.db
            .write(move |tx| {
                let id: i64 = tx.query_row(super::db::SOURCE_ID, [&source], |r| r.get(0)).db(tx)?;
                let mut keep = tx.prepare_cached(super::db::KEEP_OLDER).db(tx)?;
                for (store, item, count) in &rows {
                    keep.execute(params![store, item, as_of.0, count, id, now]).db(tx)?;
                }
                Ok(())
            })
            .await
    }

    async fn points(&self, store: &str, item: &str, since: Timestamp) -> PortResult<Vec<HistoryPoint>> {
        let (store, item) = (store.to_string(), item.to_string());
        self.db
            .read(move |tx| points_in(tx, &store, &item, since, any_older(tx)?))
            .await
    }

    async fn points_of(&self, items: &[(String, String)], since: Timestamp) -> PortResult<Vec<Vec<HistoryPoint>>> {
        let items = items.to_vec();
        self.db
            .read(move |tx| {
                // Items in table order and most of the rows between the first
                // and the last (a checker's page of a whole file): one walk.
                if dense(tx, &items)? {
                    return points_in_range(tx, &items, since);
                }
                let older = any_older(tx)?;
                items
                    .iter()
                    .map(|(store, item)| points_in(tx, store, item, since, older))
                    .collect()
            })
            .await
    }

    /// A page of the table is a range of the index: one walk through it
    /// (items far apart would walk everything between: `points_of`).
    async fn points_of_page(&self, items: &[(String, String)], since: Timestamp) -> PortResult<Vec<Vec<HistoryPoint>>> {
        if items.len() < 2 || !items.windows(2).all(|w| w[0] < w[1]) {
            return self.points_of(items, since).await;
        }
        let items = items.to_vec();
        self.db.read(move |tx| points_in_range(tx, &items, since)).await
    }
}
