//! The live copy of the table (`stockwatch_core::live::LiveStock`), with the console's test rows.

use crate::test_support::change;
use stockwatch_core::live::*;
use stockwatch_core::ports::ChangeKind;
use stockwatch_core::ports::StockRow;
use stockwatch_domain::{Thresholds, Timestamp};

fn row(store: &str, item: &str, count: u32, as_of: i64) -> StockRow {
    StockRow {
        store: store.into(),
        item: item.into(),
        count,
        as_of: Timestamp(as_of),
        updated_at: Timestamp(as_of),
        source: "k".into(),
    }
}

#[test]
fn counts_follow_every_change() {
    let mut stock = LiveStock::new(Thresholds::new(3));
    stock.apply_row(row("Berlin", "Dot", 12, 1));
    stock.apply_row(row("Berlin", "Plus", 0, 1));
    stock.apply_row(row("Pusan", "Tap", 3, 1));
    assert_eq!(
        stock.totals(),
        &StoreSummary {
            items: 3,
            out: 1,
            low: 1
        }
    );
    assert_eq!(
        stock.summary("Berlin"),
        Some(&StoreSummary {
            items: 2,
            out: 1,
            low: 0
        })
    );
    stock.apply_change(&change("Berlin", "Plus", Some(0), Some(9), 2));
    stock.apply_change(&change("Berlin", "Dot", Some(12), Some(0), 2));
    assert_eq!(
        stock.summary("Berlin"),
        Some(&StoreSummary {
            items: 2,
            out: 1,
            low: 0
        })
    );
    assert_eq!(
        stock.out_of_stock().cloned().collect::<Vec<_>>(),
        vec![("Berlin".to_string(), "Dot".to_string())]
    );
    stock.apply_change(&change("Pusan", "Tap", Some(3), None, 3));
    assert_eq!(stock.store_count(), 1, "a store without items goes away");
    assert_eq!(
        stock.totals(),
        &StoreSummary {
            items: 2,
            out: 1,
            low: 0
        }
    );
}

#[test]
fn a_snapshot_and_buffered_changes_agree_in_any_order() {
    let snapshot = [row("Berlin", "Dot", 5, 10), row("Berlin", "Plus", 2, 10)];
    let changes = [
        change("Berlin", "Dot", Some(5), Some(0), 20),
        change("Berlin", "Show", None, Some(4), 20),
    ];
    let mut first = LiveStock::new(Thresholds::new(3));
    snapshot.iter().cloned().for_each(|r| {
        first.apply_row(r);
    });
    changes.iter().for_each(|c| {
        first.apply_change(c);
    });
    let mut second = LiveStock::new(Thresholds::new(3));
    changes.iter().for_each(|c| {
        second.apply_change(c);
    });
    snapshot.iter().cloned().for_each(|r| {
        second.apply_row(r);
    });
    assert_eq!(first.item("Berlin", "Dot"), second.item("Berlin", "Dot"));
    assert_eq!(
        second.item("Berlin", "Dot").unwrap().count,
        0,
        "the older snapshot row did not win"
    );
    assert_eq!(first.totals(), second.totals());
    assert!(
        !second.apply_change(&changes[0]),
        "a change applied twice changes nothing"
    );
}

#[test]
fn delivered_in_any_order_or_twice_the_table_s_rule_decides() {
    // Equal as-of (every row the original system wrote is as of 0): the
    // lower count wins, whichever arrives last.
    for counts in [[5, 3], [3, 5]] {
        let mut stock = LiveStock::new(Thresholds::new(3));
        counts.iter().for_each(|&c| {
            stock.apply_row(row("Berlin", "Dot", c, 0));
        });
        assert_eq!(stock.item("Berlin", "Dot").unwrap().count, 3, "{counts:?}");
    }
    // A removal, then an older change delivered again: still removed.
    let mut stock = LiveStock::new(Thresholds::new(3));
    stock.apply_row(row("Berlin", "Plus", 4, 10));
    let mut removal = change("Berlin", "Plus", Some(4), None, 11);
    removal.old.as_mut().unwrap().as_of = Timestamp(10);
    removal.kind = ChangeKind::Remove;
    assert!(stock.apply_change(&removal));
    assert!(!stock.apply_change(&change("Berlin", "Plus", None, Some(4), 10)));
    assert!(!stock.apply_row(row("Berlin", "Plus", 4, 9)));
    assert_eq!(stock.item("Berlin", "Plus"), None, "a redelivery does not revive it");
    // A newer snapshot brings it back, and a late removal of the old
    // row does not take the new one away.
    assert!(stock.apply_change(&change("Berlin", "Plus", None, Some(7), 12)));
    assert!(!stock.apply_change(&removal));
    assert_eq!(stock.item("Berlin", "Plus").unwrap().count, 7);
}

#[test]
fn stores_are_ordered_by_urgency() {
    let mut stock = LiveStock::new(Thresholds::new(3));
    stock.apply_row(row("Alpha", "a", 10, 1));
    stock.apply_row(row("Beta", "a", 2, 1));
    stock.apply_row(row("Gamma", "a", 0, 1));
    stock.apply_row(row("Delta", "a", 0, 1));
    stock.apply_row(row("Delta", "b", 1, 1));
    assert_eq!(stock.stores_by_urgency(), ["Delta", "Gamma", "Beta", "Alpha"]);
    stock.apply_change(&change("Alpha", "a", Some(10), Some(0), 2));
    stock.apply_change(&change("Alpha", "b", None, Some(0), 2));
    assert_eq!(stock.stores_by_urgency()[0], "Alpha");
}
