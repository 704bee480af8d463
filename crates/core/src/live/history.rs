//! The items' histories the console holds: read for the items it shows
//! (a store's, the soon view's), then kept current from the feed, whose
//! every change is a point. Trends and forecasts come from here; the
//! render path reads only this.

use crate::ports::{Change, HistoryPoint};
use std::collections::{HashMap, HashSet};
use stockwatch_domain::Timestamp;
use stockwatch_domain::forecast::{DAY_MS, DEFAULT_WINDOW_MS, Forecast, Point, forecast};

/// Days the trend column shows.
pub const TREND_DAYS: usize = 14;

/// Items read at most per request (a store is usually far fewer).
pub const READ_AT_MOST: usize = 2_000;

type Key = (String, String);

#[derive(Debug, Default)]
pub struct ItemHistory {
    points: HashMap<Key, Vec<Point>>,
    /// Asked for and not answered yet, or answered.
    asked: HashSet<Key>,
    /// Counts every change of what is held, so panes know to recompute.
    version: u64,
}

impl ItemHistory {
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Of `items`, those not read nor being read (at most `READ_AT_MOST`),
    /// now counted as being read.
    pub fn to_read<'a>(&mut self, items: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<Key> {
        let mut wanted = Vec::new();
        for (store, item) in items {
            if wanted.len() == READ_AT_MOST {
                break;
            }
            let key = (store.to_string(), item.to_string());
            if self.asked.insert(key.clone()) {
                wanted.push(key);
            }
        }
        wanted
    }

    /// A read that failed: `keys` may be asked for again.
    pub fn forget(&mut self, keys: &[Key]) {
        for key in keys {
            self.asked.remove(key);
        }
    }

    /// A read's answer: each item's points, oldest first.
    pub fn loaded(&mut self, read: Vec<(Key, Vec<HistoryPoint>)>) {
        for (key, points) in read {
            let mut points: Vec<Point> = points.iter().map(HistoryPoint::point).collect();
            // Changes the feed brought while the read was on its way stay.
            if let Some(seen) = self.points.remove(&key) {
                points.extend(seen);
                points.sort_by_key(|p| p.as_of);
                points.dedup_by_key(|p| p.as_of);
            }
            self.asked.insert(key.clone());
            self.points.insert(key, points);
        }
        self.version += 1;
    }

    /// A change from the feed: a point of an item whose history is held.
    pub fn apply(&mut self, change: &Change) {
        let Some(new) = &change.new else { return };
        let key = (change.store.clone(), change.item.clone());
        if !self.asked.contains(&key) {
            return;
        }
        let points = self.points.entry(key).or_default();
        let point = Point {
            as_of: new.as_of,
            count: new.count,
        };
        match points.last() {
            Some(last) if last.as_of >= point.as_of => {
                if let Some(at) = points.iter().position(|p| p.as_of == point.as_of) {
                    points[at] = point;
                }
            }
            _ => points.push(point),
        }
        self.version += 1;
    }

    pub fn points(&self, store: &str, item: &str) -> Option<&[Point]> {
        self.points
            .get(&(store.to_string(), item.to_string()))
            .map(Vec::as_slice)
    }

    /// The item's forecast from its newest snapshot `latest`; `None` until
    /// its history is read, or where none can be said.
    pub fn forecast(&self, store: &str, item: &str, latest: Point) -> Option<Forecast> {
        forecast(self.points(store, item)?, latest, DEFAULT_WINDOW_MS)
    }

    /// The count at the end of each of the last `TREND_DAYS` days up to
    /// `now` (the last is now), `None` before the first point.
    pub fn trend(&self, store: &str, item: &str, latest: Point, now: Timestamp) -> Option<Vec<Option<u32>>> {
        let points = self.points(store, item)?;
        let days = (0..TREND_DAYS)
            .map(|d| {
                let at = now.0 - (TREND_DAYS - 1 - d) as i64 * DAY_MS;
                points
                    .iter()
                    .chain(std::iter::once(&latest))
                    .filter(|p| p.as_of.0 <= at)
                    .max_by_key(|p| p.as_of)
                    .map(|p| p.count)
            })
            .collect();
        Some(days)
    }
}

/// Counts as block characters, lowest to highest of the series (`▁`…`█`),
/// a space for a day before the history: readable without colour.
pub fn sparkline(days: &[Option<u32>]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let known = days.iter().flatten();
    let (Some(low), Some(high)) = (known.clone().min(), known.max()) else {
        return " ".repeat(days.len());
    };
    days.iter()
        .map(|d| match d {
            None => ' ',
            Some(_) if high == low => BLOCKS[3],
            Some(c) => BLOCKS[((c - low) as usize * (BLOCKS.len() - 1)) / (high - low) as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{ChangeKind, Image};

    fn point(day: i64, count: u32) -> HistoryPoint {
        HistoryPoint {
            as_of: Timestamp(day * DAY_MS),
            count,
            source: "f".into(),
        }
    }

    fn key() -> Key {
        ("Berlin".into(), "Dot".into())
    }

    fn change(day: i64, count: u32) -> Change {
        Change {
            id: day.to_string(),
            kind: ChangeKind::Modify,
            store: "Berlin".into(),
            item: "Dot".into(),
            old: None,
            new: Some(Image {
                count,
                as_of: Timestamp(day * DAY_MS),
                source: "f".into(),
            }),
            at: Timestamp(day * DAY_MS),
        }
    }

    #[test]
    fn items_are_read_once_and_the_feed_keeps_them_current() {
        let mut h = ItemHistory::default();
        assert_eq!(h.to_read([("Berlin", "Dot")].into_iter()), vec![key()]);
        assert!(h.to_read([("Berlin", "Dot")].into_iter()).is_empty(), "asked already");
        // A change while the read is on its way is kept with what it brings.
        h.apply(&change(3, 70));
        h.loaded(vec![(key(), vec![point(0, 100), point(1, 90), point(2, 80)])]);
        h.apply(&change(4, 60));
        let counts: Vec<u32> = h.points("Berlin", "Dot").unwrap().iter().map(|p| p.count).collect();
        assert_eq!(counts, [100, 90, 80, 70, 60]);
        let latest = Point {
            as_of: Timestamp(4 * DAY_MS),
            count: 60,
        };
        let f = h.forecast("Berlin", "Dot", latest).unwrap();
        assert!((f.days_left - 6.0).abs() < 1e-9);
        // Unread items' changes are not kept (their history is not known).
        let mut other = change(4, 1);
        other.item = "Plus".into();
        h.apply(&other);
        assert!(h.points("Berlin", "Plus").is_none());
    }

    #[test]
    fn the_trend_is_the_count_at_each_days_end_as_blocks() {
        let mut h = ItemHistory::default();
        h.to_read([("Berlin", "Dot")].into_iter());
        h.loaded(vec![(key(), vec![point(10, 14), point(12, 7), point(14, 30)])]);
        let now = Timestamp(20 * DAY_MS);
        let latest = Point {
            as_of: Timestamp(20 * DAY_MS),
            count: 0,
        };
        let days = h.trend("Berlin", "Dot", latest, now).unwrap();
        // Days 7..=20: nothing before day 10.
        assert_eq!(&days[..3], &[None, None, None]);
        assert_eq!(&days[3..], &[14, 14, 7, 7, 30, 30, 30, 30, 30, 30, 0].map(Some));
        assert_eq!(sparkline(&days), "   ▄▄▂▂██████▁");
        assert_eq!(sparkline(&[Some(5), Some(5)]), "▄▄", "flat is mid-height");
        assert_eq!(sparkline(&[None, None]), "  ");
    }
}
