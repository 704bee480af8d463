//! The live copy against the table, for any delivery SNS to SQS may make:
//! every change at least once, in any order, with a snapshot read at any
//! point of the table's history landing anywhere among them.

use proptest::prelude::*;
use std::collections::BTreeMap;
use stockwatch_core::live::LiveStock;
use stockwatch_core::ports::{Change, ChangeKind, Image, StockRow};
use stockwatch_domain::{Thresholds, Timestamp, supersedes};

type Key = (String, String);

/// What happens to the table: a file's row, or a row deleted by hand.
#[derive(Debug, Clone)]
enum Op {
    Put { key: usize, count: u32, as_of: i64 },
    Remove { key: usize },
}

fn key(k: usize) -> Key {
    (
        ["Berlin", "Pusan"][k / 2].to_string(),
        ["Dot", "Plus"][k % 2].to_string(),
    )
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..4usize, 0..4u32, 0..6i64).prop_map(|(key, count, as_of)| Op::Put { key, count, as_of }),
        1 => (0..4usize).prop_map(|key| Op::Remove { key }),
    ];
    prop::collection::vec(op, 1..24)
}

/// The table's rows after each op, and the changes its feed gives.
struct Table {
    rows: BTreeMap<Key, (Timestamp, u32)>,
    /// The newest as-of of a row deleted, per key.
    deleted: BTreeMap<Key, Timestamp>,
    changes: Vec<Change>,
    /// The table's rows after each op (the snapshot a follower may read).
    history: Vec<BTreeMap<Key, (Timestamp, u32)>>,
}

fn image((as_of, count): (Timestamp, u32)) -> Image {
    Image {
        count,
        as_of,
        source: "k".into(),
    }
}

impl Table {
    fn run(ops: &[Op]) -> Table {
        let mut table = Table {
            rows: BTreeMap::new(),
            deleted: BTreeMap::new(),
            changes: Vec::new(),
            history: vec![BTreeMap::new()],
        };
        for (at, op) in ops.iter().enumerate() {
            table.apply(op, Timestamp(at as i64 + 100));
            table.history.push(table.rows.clone());
        }
        table
    }

    fn apply(&mut self, op: &Op, at: Timestamp) {
        let (key, old, new) = match *op {
            Op::Put { key: k, count, as_of } => {
                let (key, new) = (key(k), (Timestamp(as_of), count));
                let old = self.rows.get(&key).copied();
                // The one order the live copy cannot know: a file older than
                // a row deleted by hand, loaded after the delete (see README,
                // "Following a stack"). Files come newer than deletes here.
                let older_than_deleted = old.is_none() && self.deleted.get(&key).is_some_and(|&d| new.0 <= d);
                if older_than_deleted || old.is_some_and(|old| !supersedes(new, old)) {
                    return;
                }
                self.rows.insert(key.clone(), new);
                (key, old, Some(new))
            }
            Op::Remove { key: k } => {
                let key = key(k);
                let Some(old) = self.rows.remove(&key) else { return };
                let deleted = self.deleted.entry(key.clone()).or_insert(old.0);
                *deleted = (*deleted).max(old.0);
                (key, Some(old), None)
            }
        };
        let kind = match (&old, &new) {
            (None, _) => ChangeKind::Insert,
            (_, None) => ChangeKind::Remove,
            _ => ChangeKind::Modify,
        };
        self.changes.push(Change {
            id: format!("change-{}", self.changes.len()),
            kind,
            store: key.0,
            item: key.1,
            old: old.map(image),
            new: new.map(image),
            at,
        });
    }
}

/// What the live copy holds: (store, item) → (as-of, count).
fn held(stock: &LiveStock) -> BTreeMap<Key, (Timestamp, u32)> {
    let mut held = BTreeMap::new();
    for k in 0..4 {
        let (store, item) = key(k);
        if let Some(row) = stock.item(&store, &item) {
            held.insert((store, item), (row.as_of, row.count));
        }
    }
    held
}

/// A delivery: each change once to three times, the snapshot's rows among
/// them; `order` shuffles, `snapshot_at` picks the point of history read.
fn deliver(table: &Table, copies: &[u8], order: &[u32], snapshot_at: usize) -> LiveStock {
    enum Delivered<'a> {
        Change(&'a Change),
        Row(StockRow),
    }
    let mut items: Vec<Delivered> = Vec::new();
    for (i, change) in table.changes.iter().enumerate() {
        for _ in 0..=copies[i % copies.len()] % 3 {
            items.push(Delivered::Change(change));
        }
    }
    let snapshot = &table.history[snapshot_at % table.history.len()];
    for ((store, item), &(as_of, count)) in snapshot {
        items.push(Delivered::Row(StockRow {
            store: store.clone(),
            item: item.clone(),
            count,
            as_of,
            updated_at: as_of,
            source: "k".into(),
        }));
    }
    let mut keyed: Vec<(u32, usize, Delivered)> = items
        .into_iter()
        .enumerate()
        .map(|(i, d)| (order[i % order.len()], i, d))
        .collect();
    keyed.sort_by_key(|(rank, i, _)| (*rank, *i));
    let mut stock = LiveStock::new(Thresholds::new(1));
    for (_, _, delivered) in keyed {
        match delivered {
            Delivered::Change(change) => stock.apply_change(change),
            Delivered::Row(row) => stock.apply_row(row),
        };
    }
    stock
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_delivery_of_the_changes_ends_equal_to_the_table(
        ops in ops(),
        copies in prop::collection::vec(any::<u8>(), 1..40),
        order in prop::collection::vec(any::<u32>(), 1..80),
        snapshot_at in any::<usize>(),
    ) {
        let table = Table::run(&ops);
        let stock = deliver(&table, &copies, &order, snapshot_at);
        prop_assert_eq!(held(&stock), table.rows.clone());
        let out = table.rows.values().filter(|(_, count)| *count == 0).count();
        prop_assert_eq!(stock.out_count(), out);
        prop_assert_eq!(stock.totals().items as usize, table.rows.len());
    }
}
