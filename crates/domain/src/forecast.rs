//! Stock-out forecasts from an item's history: how fast it sells (units a
//! day), how many days of stock are left, and when it runs out.
//!
//! The rate is the units that fell over the time they fell in, within a
//! recent window: counts stay as they are between snapshots, so every
//! interval between two points is observed selling time whatever the
//! upload times. An interval whose count rose held a restock, which hides
//! what sold in it: both its rise and its time are left out. One snapshot
//! far off both its neighbours (a miscount, a file from the wrong store)
//! is left out too, or its fall and rise would count as sales.

use super::Timestamp;

pub const DAY_MS: i64 = 86_400_000;

/// How far back the rate looks: two whole weeks, so a weekly season
/// (busy weekends) averages out instead of swinging the forecast.
pub const DEFAULT_WINDOW_MS: i64 = 14 * DAY_MS;

/// Less selling time observed than this says too little to forecast.
pub const MIN_OBSERVED_MS: i64 = DAY_MS;

/// An item's count as of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub as_of: Timestamp,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// Units sold a day over the window.
    pub rate_per_day: f64,
    /// The count now divided by the rate.
    pub days_left: f64,
    /// When the count reaches zero at that rate.
    pub runs_out_at: Timestamp,
}

/// Days left as people read them: `6.2`, or `-` where unknown.
pub fn days_text(days_left: Option<f64>) -> String {
    days_left.map_or_else(|| "-".to_string(), |d| format!("{d:.1}"))
}

/// The forecast for an item whose newest snapshot is `latest`, from its
/// history `points` (any order; those after `latest` are ignored). `None`
/// where it cannot be said: too little history, or nothing sold (no sales
/// is no forecast, not an infinite one).
pub fn forecast(points: &[Point], latest: Point, window_ms: i64) -> Option<Forecast> {
    let series = recent(points, latest, window_ms);
    let series = without_spikes(&series);
    let (mut fell, mut observed) = (0u64, 0i64);
    for pair in series.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.count > a.count {
            continue; // a restock: what sold meanwhile is unknown
        }
        fell += u64::from(a.count - b.count);
        observed += b.as_of.0 - a.as_of.0;
    }
    if fell == 0 || observed < MIN_OBSERVED_MS {
        return None;
    }
    let rate_per_day = fell as f64 * DAY_MS as f64 / observed as f64;
    let days_left = f64::from(latest.count) / rate_per_day;
    Some(Forecast {
        rate_per_day,
        days_left,
        runs_out_at: Timestamp(latest.as_of.0.saturating_add((days_left * DAY_MS as f64) as i64)),
    })
}

/// The points within the window before `latest`, oldest first, one per
/// as-of time, starting with the last one before the window opened (its
/// interval is whole: what fell in it fell over all of it).
fn recent(points: &[Point], latest: Point, window_ms: i64) -> Vec<Point> {
    let start = Timestamp(latest.as_of.0.saturating_sub(window_ms));
    let mut sorted: Vec<Point> = points.iter().copied().filter(|p| p.as_of < latest.as_of).collect();
    // Same snapshot time twice: the lower count stands, as the table's
    // rule (`supersedes`) has it, whatever order the points came in.
    sorted.push(latest);
    sorted.sort_by_key(|p| (p.as_of, p.count));
    sorted.dedup_by_key(|p| p.as_of);
    let first = sorted.iter().rposition(|p| p.as_of <= start).unwrap_or(0);
    sorted.split_off(first)
}

/// Drops the one point that jumps away from both neighbours and back far
/// more than the item's counts usually move (a miscount): its neighbours
/// agree with each other far better than with it. One point at most, never
/// a count of 0 (a real sell-out, restocked soon after), and never a jump
/// of the item's ordinary size (a shelf restocked to the same level every
/// week dips and rises the same way each time).
fn without_spikes(series: &[Point]) -> Vec<Point> {
    let moves: Vec<u32> = series.windows(2).map(|w| w[0].count.abs_diff(w[1].count)).collect();
    let usual = {
        let mut sorted = moves.clone();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied().unwrap_or(0).max(1)
    };
    let spike = (1..series.len().saturating_sub(1))
        .filter_map(|i| {
            let (before, point, after) = (series[i - 1], series[i], series[i + 1]);
            let away = i64::from(point.count) - i64::from(before.count);
            let back = i64::from(after.count) - i64::from(point.count);
            let between = (i64::from(after.count) - i64::from(before.count)).abs();
            let jump = away.abs().min(back.abs());
            let far = away.signum() == -back.signum()
                && away != 0
                && point.count != 0
                && jump >= 3
                && jump > 4 * i64::from(usual)
                && between * 2 < jump;
            far.then_some((jump, i))
        })
        .max();
    let mut kept = series.to_vec();
    if let Some((_, i)) = spike {
        kept.remove(i);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: f64) -> Timestamp {
        Timestamp((d * DAY_MS as f64) as i64)
    }

    fn daily(counts: &[u32]) -> Vec<Point> {
        counts
            .iter()
            .enumerate()
            .map(|(d, &count)| Point {
                as_of: day(d as f64),
                count,
            })
            .collect()
    }

    fn of(points: &[Point]) -> Option<Forecast> {
        forecast(points, *points.last().unwrap(), DEFAULT_WINDOW_MS)
    }

    #[test]
    fn steady_sales_give_their_rate_and_the_day_the_stock_runs_out() {
        let f = of(&daily(&[100, 90, 80, 70, 60])).unwrap();
        assert!((f.rate_per_day - 10.0).abs() < 1e-9);
        assert!((f.days_left - 6.0).abs() < 1e-9);
        assert_eq!(f.runs_out_at, day(10.0));
    }

    #[test]
    fn an_item_that_does_not_sell_has_no_forecast() {
        assert_eq!(of(&daily(&[40, 40, 40, 40])), None);
        assert_eq!(of(&daily(&[40])), None, "one snapshot says nothing");
    }

    #[test]
    fn too_little_history_has_no_forecast() {
        let hours = [
            Point {
                as_of: Timestamp(0),
                count: 50,
            },
            Point {
                as_of: Timestamp(3_600_000),
                count: 45,
            },
        ];
        assert_eq!(of(&hours), None, "an hour of selling");
    }

    #[test]
    fn restocks_are_not_sales_and_their_intervals_are_left_out() {
        // Sold 10 a day, restocked to 100 between days 3 and 4 (sold 10 meanwhile too).
        let f = of(&daily(&[50, 40, 30, 20, 100, 90, 80])).unwrap();
        assert!((f.rate_per_day - 10.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn one_outlier_snapshot_does_not_move_the_rate() {
        let clean = of(&daily(&[100, 90, 80, 70, 60, 50, 40])).unwrap();
        let low = of(&daily(&[100, 90, 80, 2, 60, 50, 40])).unwrap();
        let high = of(&daily(&[100, 90, 80, 900, 60, 50, 40])).unwrap();
        assert!((low.rate_per_day - clean.rate_per_day).abs() < 1e-9, "{low:?}");
        assert!((high.rate_per_day - clean.rate_per_day).abs() < 1e-9, "{high:?}");
    }

    #[test]
    fn a_sell_out_restocked_the_next_day_is_sales_not_a_miscount() {
        // 10 a day, then the last 40 sold in a rush, restocked to 48.
        let f = of(&daily(&[80, 70, 60, 50, 0, 48, 38])).unwrap();
        assert!(f.rate_per_day > 15.0, "the sell-out counts: {f:?}");
    }

    #[test]
    fn a_shelf_restocked_to_the_same_level_each_week_still_has_a_rate() {
        // Weekly counts: sold down to about 30 each week, filled to 50 again.
        let f = of(&daily(&[50, 30, 50, 28, 50, 31, 50, 29])).unwrap();
        assert!((f.rate_per_day - 20.5).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn two_snapshots_of_one_time_keep_the_lower_count_in_any_order() {
        // Day 1 was uploaded twice (a corrected file): 90 and 95.
        let again = Point {
            as_of: day(1.0),
            count: 95,
        };
        let latest = Point {
            as_of: day(2.0),
            count: 80,
        };
        let mut points = daily(&[100, 90, 80]);
        let before = forecast(&[points.clone(), vec![again]].concat(), latest, DEFAULT_WINDOW_MS).unwrap();
        points.insert(1, again);
        let after = forecast(&points, latest, DEFAULT_WINDOW_MS).unwrap();
        assert_eq!(before, after, "the order they came in does not matter");
        // 100 → 90 → 80 (90 stands, as the table has it), not 100 → 95 → 80.
        assert!((before.rate_per_day - 10.0).abs() < 1e-9, "{before:?}");
    }

    #[test]
    fn irregular_uploads_and_missed_days_measure_the_same_rate() {
        let points: Vec<Point> = [(0.0, 100), (0.4, 96), (3.0, 70), (3.1, 69), (7.5, 25)]
            .iter()
            .map(|&(d, count)| Point { as_of: day(d), count })
            .collect();
        let f = of(&points).unwrap();
        assert!((f.rate_per_day - 10.0).abs() < 1e-6, "{f:?}");
        assert!((f.days_left - 2.5).abs() < 1e-6);
    }

    #[test]
    fn time_without_sales_since_the_last_change_slows_the_rate() {
        // 10 a day for 4 days, then nothing for 4 days: the newest snapshot
        // (same count, later) is what says so.
        let mut points = daily(&[100, 90, 80, 70, 60]);
        let latest = Point {
            as_of: day(8.0),
            count: 60,
        };
        points.push(latest);
        let f = forecast(&points, latest, DEFAULT_WINDOW_MS).unwrap();
        assert!((f.rate_per_day - 5.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn only_the_window_counts() {
        // Fast sales long ago, slow ones in the last two weeks.
        let mut counts = vec![1000, 900, 800, 700];
        counts.extend((0..=14).map(|d| 600 - d * 2));
        let f = of(&daily(&counts)).unwrap();
        assert!((f.rate_per_day - 2.0).abs() < 1e-9, "{f:?}");
    }

    #[test]
    fn an_out_of_stock_item_has_no_days_left() {
        let f = of(&daily(&[30, 20, 10, 0])).unwrap();
        assert_eq!(f.days_left, 0.0);
        assert_eq!(f.runs_out_at, day(3.0));
    }

    #[test]
    fn points_in_any_order_and_repeated_give_one_answer() {
        let mut points = daily(&[100, 90, 80, 70, 60]);
        points.reverse();
        points.push(points[2]);
        let f = forecast(&points, points[0], DEFAULT_WINDOW_MS).unwrap();
        assert!((f.rate_per_day - 10.0).abs() < 1e-9);
    }
}
