//! `LiveStock`: the console's live copy of the inventory table (SQLite's
//! `inventory`, DynamoDB's `Inventory`): every row by store, with the counts
//! the panes show, kept up to date change by change (no rescans).
//!
//! Rows and changes are applied idempotently by key by the table's own rule
//! (`domain::supersedes`: the newest as-of wins, the lower count on a tie),
//! and a removal is kept as a tombstone with its as-of, so a snapshot, the
//! changes buffered while it was taken, and changes delivered twice or out
//! of order (SNS to SQS promises neither once nor order) give the same rows.

use crate::ports::{Change, StockRow};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use stockwatch_domain::{Level, Thresholds, Timestamp, level, supersedes};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    pub count: u32,
    pub as_of: Timestamp,
    pub updated_at: Timestamp,
    pub level: Level,
    /// The file the count came from (shared: one file writes many rows).
    pub source: Arc<str>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSummary {
    pub items: u32,
    pub out: u32,
    pub low: u32,
}

#[derive(Debug, Default)]
struct StoreData {
    items: BTreeMap<String, ItemRow>,
    summary: StoreSummary,
}

/// The console's live copy of the inventory table.
#[derive(Debug, Default)]
pub struct LiveStock {
    stores: HashMap<String, StoreData>,
    thresholds: Thresholds,
    /// Every out-of-stock (store, item), for the out view.
    out: BTreeSet<(String, String)>,
    totals: StoreSummary,
    /// Stores most urgent first; rebuilt lazily after counts change.
    urgency: Vec<String>,
    urgency_stale: bool,
    /// Bumped by every change, so views know when to recompute.
    version: u64,
    /// Each source file's name once.
    sources: HashSet<Arc<str>>,
    /// Removed rows' as-of: an older change arriving late does not bring
    /// them back.
    removed: HashMap<(String, String), Timestamp>,
}

impl StoreSummary {
    fn add(&mut self, level: Level, sign: i64) {
        let bump = |n: &mut u32| *n = (*n as i64 + sign).max(0) as u32;
        bump(&mut self.items);
        match level {
            Level::Out => bump(&mut self.out),
            Level::Low => bump(&mut self.low),
            Level::Ok => {}
        }
    }
}

impl LiveStock {
    pub fn new(thresholds: Thresholds) -> Self {
        LiveStock {
            thresholds,
            ..LiveStock::default()
        }
    }

    /// Forgets every row (before a fresh read); the version moves on, so
    /// nothing computed from the old rows is mistaken for current.
    pub fn reset(&mut self) {
        let version = self.version + 1;
        let thresholds = std::mem::take(&mut self.thresholds);
        *self = LiveStock {
            thresholds,
            version,
            ..LiveStock::default()
        };
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn totals(&self) -> &StoreSummary {
        &self.totals
    }

    pub fn store_count(&self) -> usize {
        self.stores.len()
    }

    /// Every store's name, in no order.
    pub fn store_names(&self) -> impl Iterator<Item = &str> {
        self.stores.keys().map(String::as_str)
    }

    pub fn summary(&self, store: &str) -> Option<&StoreSummary> {
        self.stores.get(store).map(|s| &s.summary)
    }

    /// Items of a store in name order.
    pub fn items(&self, store: &str) -> impl Iterator<Item = (&String, &ItemRow)> {
        self.stores.get(store).into_iter().flat_map(|s| s.items.iter())
    }

    pub fn item(&self, store: &str, item: &str) -> Option<&ItemRow> {
        self.stores.get(store)?.items.get(item)
    }

    /// Every out-of-stock item, by store then item.
    pub fn out_of_stock(&self) -> impl Iterator<Item = &(String, String)> {
        self.out.iter()
    }

    pub fn out_count(&self) -> usize {
        self.out.len()
    }

    /// Stores, most urgent first: most out of stock, then most low, then by name.
    pub fn stores_by_urgency(&mut self) -> &[String] {
        if self.urgency_stale {
            let mut names: Vec<(&String, &StoreSummary)> = self.stores.iter().map(|(n, s)| (n, &s.summary)).collect();
            names.sort_by(|a, b| b.1.out.cmp(&a.1.out).then(b.1.low.cmp(&a.1.low)).then(a.0.cmp(b.0)));
            self.urgency = names.into_iter().map(|(n, _)| n.clone()).collect();
            self.urgency_stale = false;
        }
        &self.urgency
    }

    /// A row as read from the table; ignored if an applied change is newer.
    pub fn apply_row(&mut self, row: StockRow) -> bool {
        let source = self.source(&row.source);
        self.put(row.store, row.item, row.count, row.as_of, row.updated_at, source)
    }

    /// A change from the feed; returns whether anything shown changed.
    pub fn apply_change(&mut self, change: &Change) -> bool {
        match &change.new {
            Some(new) => {
                let source = self.source(&new.source);
                self.put(
                    change.store.clone(),
                    change.item.clone(),
                    new.count,
                    new.as_of,
                    change.at,
                    source,
                )
            }
            None => {
                let as_of = change.old.as_ref().map_or(change.at, |old| old.as_of);
                self.remove(&change.store, &change.item, as_of)
            }
        }
    }

    fn source(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.sources.get(name) {
            return known.clone();
        }
        let name: Arc<str> = Arc::from(name);
        self.sources.insert(name.clone());
        name
    }

    fn put(
        &mut self,
        store: String,
        item: String,
        count: u32,
        as_of: Timestamp,
        updated_at: Timestamp,
        source: Arc<str>,
    ) -> bool {
        let key = (store, item);
        if let Some(&removed) = self.removed.get(&key) {
            if as_of <= removed {
                return false; // removed after this snapshot
            }
            self.removed.remove(&key);
        }
        let (store, item) = key;
        let low = self.thresholds.low_for(&store, &item);
        let new_level = level(count, low);
        let data = self.stores.entry(store.clone()).or_default();
        if let Some(old) = data.items.get_mut(&item) {
            if !supersedes((as_of, count), (old.as_of, old.count)) {
                return false; // what we hold wins, or is the same
            }
            if old.count == count {
                // A newer snapshot of the same count: only the as-of moves.
                old.as_of = as_of;
                old.updated_at = updated_at;
                old.source = source;
                self.version += 1;
                return true;
            }
            let old_level = old.level;
            data.summary.add(old_level, -1);
            self.totals.add(old_level, -1);
        } else if data.items.is_empty() {
            self.urgency_stale = true;
        }
        data.summary.add(new_level, 1);
        self.totals.add(new_level, 1);
        let key = (store, item.clone());
        if new_level == Level::Out {
            self.out.insert(key);
        } else {
            self.out.remove(&key);
        }
        data.items.insert(
            item,
            ItemRow {
                count,
                as_of,
                updated_at,
                level: new_level,
                source,
            },
        );
        self.urgency_stale = true;
        self.version += 1;
        true
    }

    fn remove(&mut self, store: &str, item: &str, as_of: Timestamp) -> bool {
        let tombstone = self
            .removed
            .entry((store.to_string(), item.to_string()))
            .or_insert(as_of);
        *tombstone = (*tombstone).max(as_of);
        let Some(data) = self.stores.get_mut(store) else {
            return false;
        };
        // A row newer than what was removed came back already: it stays.
        if data.items.get(item).is_none_or(|held| held.as_of > as_of) {
            return false;
        }
        let Some(old) = data.items.remove(item) else {
            return false;
        };
        data.summary.add(old.level, -1);
        self.totals.add(old.level, -1);
        self.out.remove(&(store.to_string(), item.to_string()));
        if data.items.is_empty() {
            self.stores.remove(store);
        }
        self.urgency_stale = true;
        self.version += 1;
        true
    }
}
