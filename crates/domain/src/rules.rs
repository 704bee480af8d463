//! Alert rules: what a change of count means. Decided on the transition
//! old → new, never on the current value alone, so an unchanged count (or a
//! replayed change) raises nothing new.

use crate::alert::AlertKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const DEFAULT_LOW_THRESHOLD: u32 = 3;

/// How soon a predicted run-out raises a SOON alert, unless configured.
pub const DEFAULT_SOON_WITHIN_MS: i64 = 3 * 86_400_000;

/// A value with a global default, overridden per item (in every store) and
/// per store and item.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PerItem<T> {
    default: T,
    per_item: HashMap<String, T>,
    /// store → item → value: looked up by `&str` without allocating.
    per_store_item: HashMap<String, HashMap<String, T>>,
}

impl<T: Copy> PerItem<T> {
    fn new(default: T) -> Self {
        PerItem {
            default,
            per_item: HashMap::new(),
            per_store_item: HashMap::new(),
        }
    }

    fn set(&mut self, store: Option<&str>, item: &str, value: T) {
        match store {
            Some(store) => {
                self.per_store_item
                    .entry(store.to_string())
                    .or_default()
                    .insert(item.to_string(), value);
            }
            None => {
                self.per_item.insert(item.to_string(), value);
            }
        }
    }

    fn get(&self, store: &str, item: &str) -> T {
        self.per_store_item
            .get(store)
            .and_then(|items| items.get(item))
            .or_else(|| self.per_item.get(item))
            .copied()
            .unwrap_or(self.default)
    }

    fn values(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::once(self.default)
            .chain(self.per_item.values().copied())
            .chain(self.per_store_item.values().flat_map(|m| m.values().copied()))
    }
}

/// What counts as low, and how soon a predicted run-out is worth an alert:
/// each a global default, overridden per item and per store and item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    low: PerItem<u32>,
    /// Milliseconds ahead.
    soon: PerItem<i64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::new(DEFAULT_LOW_THRESHOLD)
    }
}

impl Thresholds {
    pub fn new(default_low: u32) -> Self {
        Thresholds {
            low: PerItem::new(default_low),
            soon: PerItem::new(DEFAULT_SOON_WITHIN_MS),
        }
    }

    pub fn default_low(&self) -> u32 {
        self.low.default
    }

    /// Sets the threshold of an item, in one store or (with `None`) in all.
    pub fn set(&mut self, store: Option<&str>, item: &str, low: u32) {
        self.low.set(store, item, low);
    }

    pub fn low_for(&self, store: &str, item: &str) -> u32 {
        self.low.get(store, item)
    }

    /// The highest threshold in force: no item above it can be low.
    pub fn highest(&self) -> u32 {
        self.low.values().fold(0, u32::max)
    }

    /// Sets how far ahead a predicted run-out raises SOON: for every item
    /// (`None`, `None`), an item in all stores, or one store's item.
    pub fn set_soon_within(&mut self, store: Option<&str>, item: Option<&str>, within: std::time::Duration) {
        let ms = within.as_millis() as i64;
        match item {
            None => self.soon.default = ms,
            Some(item) => self.soon.set(store, item, ms),
        }
    }

    /// How far ahead, in days, a predicted run-out of this item raises SOON.
    pub fn soon_within_days(&self, store: &str, item: &str) -> f64 {
        self.soon.get(store, item) as f64 / 86_400_000.0
    }
}

/// Whether an incoming snapshot of a row replaces the stored one: only a
/// newer snapshot does, and on a tie of as-of times the lower count wins, so
/// the result does not depend on the order files are loaded in and an
/// outage is never hidden. Both backends write under exactly this rule.
pub fn supersedes(incoming: (Timestamp, u32), stored: (Timestamp, u32)) -> bool {
    let ((new_as_of, new_count), (old_as_of, old_count)) = (incoming, stored);
    new_as_of > old_as_of || (new_as_of == old_as_of && new_count < old_count)
}

/// How an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Count 0. Ordered first: the most urgent.
    Out,
    /// At or below the low threshold.
    Low,
    Ok,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Out => "OUT",
            Level::Low => "LOW",
            Level::Ok => "ok",
        }
    }
}

pub fn level(count: u32, low_threshold: u32) -> Level {
    if count == 0 {
        Level::Out
    } else if count <= low_threshold {
        Level::Low
    } else {
        Level::Ok
    }
}

/// What the checker does with one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Raise(AlertKind),
    /// The count rose above the threshold: open alerts of the item resolve.
    Resolve,
    Nothing,
}

/// The transition rules. `None` is an absent row (a new item, or a removal).
pub fn decide(old: Option<u32>, new: Option<u32>, low_threshold: u32) -> Decision {
    let Some(new) = new else {
        // A removed row is not an outage: nobody is told.
        return Decision::Nothing;
    };
    let before = old.map(|count| level(count, low_threshold));
    match (before, level(new, low_threshold)) {
        (Some(Level::Out), Level::Out) => Decision::Nothing,
        (_, Level::Out) => Decision::Raise(AlertKind::Out),
        (None | Some(Level::Ok), Level::Low) => Decision::Raise(AlertKind::Low),
        (Some(Level::Out | Level::Low), Level::Ok) => Decision::Resolve,
        _ => Decision::Nothing,
    }
}

/// Whether an item is predicted to run out within `within_days`: only an
/// item in stock above its threshold (LOW and OUT have alerts of their own).
pub fn is_soon(level: Level, days_left: Option<f64>, within_days: f64) -> bool {
    level == Level::Ok && days_left.is_some_and(|d| d <= within_days)
}

/// The SOON rule, on the transition like the others: raised when the
/// prediction comes within the horizon, resolved when it no longer is: a
/// restock or slower sales moved it out, or the item turned LOW or OUT and
/// that alert takes over (an item LOW or OUT is never soon: `is_soon`).
pub fn decide_soon(was_soon: bool, is_soon: bool) -> Decision {
    match (was_soon, is_soon) {
        (false, true) => Decision::Raise(AlertKind::Soon),
        (true, false) => Decision::Resolve,
        _ => Decision::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertKind::*;
    use Decision::*;

    #[test]
    fn soon_is_raised_when_the_prediction_comes_within_the_horizon_and_only_then() {
        assert!(is_soon(Level::Ok, Some(2.5), 3.0));
        assert!(!is_soon(Level::Ok, Some(3.5), 3.0));
        assert!(!is_soon(Level::Ok, None, 3.0), "no forecast, no SOON");
        assert!(!is_soon(Level::Low, Some(0.5), 3.0), "LOW has its own alert");
        assert_eq!(decide_soon(false, true), Raise(Soon));
        assert_eq!(decide_soon(true, true), Nothing, "still soon: no second alert");
        assert_eq!(
            decide_soon(true, false),
            Resolve,
            "moved out, restocked, or LOW or OUT now (is_soon is false for them)"
        );
        assert_eq!(decide_soon(false, false), Nothing);
    }

    #[test]
    fn the_soon_horizon_is_set_per_item_like_the_low_threshold() {
        let mut t = Thresholds::new(3);
        assert_eq!(t.soon_within_days("Berlin", "Echo Dot"), 3.0);
        t.set_soon_within(None, None, std::time::Duration::from_secs(86_400 * 5));
        t.set_soon_within(None, Some("Echo Dot"), std::time::Duration::from_secs(86_400 * 7));
        t.set_soon_within(Some("Pusan"), Some("Echo Dot"), std::time::Duration::from_secs(86_400));
        assert_eq!(t.soon_within_days("Berlin", "Echo Show"), 5.0);
        assert_eq!(t.soon_within_days("Berlin", "Echo Dot"), 7.0);
        assert_eq!(t.soon_within_days("Pusan", "Echo Dot"), 1.0);
        assert_eq!(t.low_for("Pusan", "Echo Dot"), 3, "the low thresholds are apart");
    }

    #[test]
    fn out_of_stock_is_raised_on_the_transition_to_zero_only() {
        assert_eq!(decide(Some(5), Some(0), 3), Raise(Out));
        assert_eq!(decide(Some(2), Some(0), 3), Raise(Out));
        assert_eq!(decide(None, Some(0), 3), Raise(Out), "a new row at zero");
        assert_eq!(decide(Some(0), Some(0), 3), Nothing, "still out: no second alert");
    }

    #[test]
    fn low_is_raised_when_the_count_drops_to_the_threshold() {
        assert_eq!(decide(Some(10), Some(3), 3), Raise(Low));
        assert_eq!(decide(Some(4), Some(1), 3), Raise(Low));
        assert_eq!(decide(None, Some(2), 3), Raise(Low), "a new row already low");
        assert_eq!(decide(Some(3), Some(2), 3), Nothing, "already low");
        assert_eq!(
            decide(Some(0), Some(2), 3),
            Nothing,
            "restocked a little: the OUT alert stays open"
        );
        assert_eq!(decide(Some(10), Some(4), 3), Nothing);
    }

    #[test]
    fn rising_above_the_threshold_resolves() {
        assert_eq!(decide(Some(0), Some(4), 3), Resolve);
        assert_eq!(decide(Some(3), Some(20), 3), Resolve);
        assert_eq!(decide(Some(4), Some(20), 3), Nothing);
        assert_eq!(decide(None, Some(20), 3), Nothing);
    }

    #[test]
    fn removals_and_unchanged_counts_raise_nothing() {
        assert_eq!(decide(Some(5), None, 3), Nothing);
        assert_eq!(decide(Some(0), None, 3), Nothing);
        assert_eq!(decide(Some(7), Some(7), 3), Nothing);
    }

    #[test]
    fn a_zero_threshold_means_only_out_of_stock_alerts() {
        assert_eq!(decide(Some(5), Some(1), 0), Nothing);
        assert_eq!(decide(Some(5), Some(0), 0), Raise(Out));
        assert_eq!(decide(Some(0), Some(1), 0), Resolve);
    }

    #[test]
    fn thresholds_per_store_and_item_override_per_item_and_default() {
        let mut t = Thresholds::new(3);
        t.set(None, "Echo Dot", 10);
        t.set(Some("Berlin"), "Echo Dot", 1);
        assert_eq!(t.low_for("Pusan", "Echo Dot"), 10);
        assert_eq!(t.low_for("Berlin", "Echo Dot"), 1);
        assert_eq!(t.low_for("Berlin", "Echo Show"), 3);
        assert_eq!(t.highest(), 10);
        assert_eq!(decide(Some(12), Some(9), t.low_for("Pusan", "Echo Dot")), Raise(Low));
    }

    #[test]
    fn only_newer_snapshots_supersede_and_ties_keep_the_lower_count() {
        let t = |ms| Timestamp(ms);
        assert!(supersedes((t(2), 5), (t(1), 5)));
        assert!(!supersedes((t(1), 0), (t(2), 5)));
        assert!(supersedes((t(2), 0), (t(2), 5)));
        assert!(!supersedes((t(2), 9), (t(2), 5)));
        assert!(
            !supersedes((t(2), 5), (t(2), 5)),
            "the same snapshot again changes nothing"
        );
    }

    #[test]
    fn levels_order_most_urgent_first() {
        assert_eq!(level(0, 3), Level::Out);
        assert_eq!(level(3, 3), Level::Low);
        assert_eq!(level(4, 3), Level::Ok);
        assert!(Level::Out < Level::Low && Level::Low < Level::Ok);
    }
}
