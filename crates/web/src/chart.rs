//! Items' histories for the pages: read once per item (then kept current
//! by the follower's changes, as the console does), and one item's chart
//! as an inline SVG: the last 14 days' counts as steps, the forecast as a
//! dashed line to the predicted run-out. The SVG holds numbers and fixed
//! words only, never a text from a file.

use crate::state::AppState;
use std::fmt::Write;
use stockwatch_core::live::READ_AT_MOST;
use stockwatch_core::pipeline::forecasts::READ_BACK_MS;
use stockwatch_domain::Timestamp;
use stockwatch_domain::forecast::{DAY_MS, Forecast, Point};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const MARGIN: f64 = 36.0;
/// Days the chart shows back from now.
const CHART_DAYS: i64 = 14;

/// Reads the histories of `keys` not held yet (a failure is logged; the
/// page shows `-` for days left until a later read works).
pub async fn read_histories(shared: &AppState, keys: Vec<(String, String)>, now: Timestamp) {
    let wanted = {
        let mut live = shared.picture.write();
        live.histories
            .to_read(keys.iter().map(|(s, i)| (s.as_str(), i.as_str())).take(READ_AT_MOST))
    };
    if wanted.is_empty() {
        return;
    }
    let since = Timestamp(now.0 - READ_BACK_MS);
    match shared.ops.histories(&wanted, since).await {
        Ok(points) => {
            let read = wanted.into_iter().zip(points).collect();
            shared.picture.write().histories.loaded(read);
        }
        Err(e) => {
            tracing::warn!(error = %e, "items' histories could not be read");
            // Asked again by the next page.
            shared.picture.write().histories.forget(&wanted);
        }
    }
}

/// The chart of `points` up to `latest`, with `forecast` from it.
pub fn svg(points: &[Point], latest: Option<Point>, forecast: Option<Forecast>, now: Timestamp) -> String {
    let start = now.0 - CHART_DAYS * DAY_MS;
    let mut series: Vec<Point> = points.iter().copied().filter(|p| p.as_of.0 <= now.0).collect();
    series.extend(latest);
    series.sort_by_key(|p| p.as_of);
    series.dedup_by_key(|p| p.as_of);
    // The count at the chart's left edge, then every point inside it.
    let before = series.iter().rev().find(|p| p.as_of.0 <= start).copied();
    let mut shown: Vec<Point> = before
        .map(|p| Point {
            as_of: Timestamp(start),
            count: p.count,
        })
        .into_iter()
        .chain(series.iter().copied().filter(|p| p.as_of.0 > start))
        .collect();
    if let Some(last) = shown.last().copied() {
        shown.push(Point { as_of: now, ..last });
    }
    let end = forecast
        .filter(|_| latest.is_some_and(|l| l.count > 0))
        .map_or(now.0, |f| f.runs_out_at.0.clamp(now.0, now.0 + CHART_DAYS * DAY_MS));
    let top = shown.iter().map(|p| p.count).max().unwrap_or(0).max(1) as f64;
    let x = |t: i64| MARGIN + (t - start) as f64 / (end - start).max(1) as f64 * (WIDTH - 2.0 * MARGIN);
    let y = |c: f64| HEIGHT - MARGIN - c / top * (HEIGHT - 2.0 * MARGIN);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="count over the last {CHART_DAYS} days and the forecast">"#
    );
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{m}" y1="{b}" x2="{r}" y2="{b}"/><line class="axis" x1="{m}" y1="{t}" x2="{m}" y2="{b}"/>"#,
        m = MARGIN,
        b = HEIGHT - MARGIN,
        r = WIDTH - MARGIN,
        t = MARGIN
    );
    let _ = write!(
        svg,
        r#"<text class="label" x="4" y="{}">{}</text><text class="label" x="4" y="{}">0</text>"#,
        MARGIN + 4.0,
        top as u64,
        HEIGHT - MARGIN + 4.0
    );
    let _ = write!(
        svg,
        r#"<text class="label" x="{MARGIN}" y="{}">{} days ago</text><text class="label" x="{}" y="{}">now</text>"#,
        HEIGHT - 8.0,
        CHART_DAYS,
        x(now.0) - 10.0,
        HEIGHT - 8.0
    );
    if shown.is_empty() {
        let _ = write!(
            svg,
            r#"<text class="label" x="{}" y="{}">no history in the last {CHART_DAYS} days</text>"#,
            WIDTH / 3.0,
            HEIGHT / 2.0
        );
    } else {
        // Steps: a count holds until the next snapshot.
        let mut path = String::new();
        for (i, p) in shown.iter().enumerate() {
            let (px, py) = (x(p.as_of.0), y(p.count as f64));
            if i == 0 {
                let _ = write!(path, "M{px:.1},{py:.1}");
            } else {
                let _ = write!(path, " H{px:.1} V{py:.1}");
            }
        }
        let _ = write!(svg, r#"<path class="history" d="{path}"/>"#);
        for p in shown.iter().filter(|p| p.as_of.0 > start && p.as_of.0 < now.0) {
            let _ = write!(
                svg,
                r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="3"/>"#,
                x(p.as_of.0),
                y(p.count as f64)
            );
        }
    }
    if let (Some(f), Some(l)) = (forecast, latest)
        && l.count > 0
    {
        let days = (end - now.0) as f64 / DAY_MS as f64;
        let left = (l.count as f64 - f.rate_per_day * days).max(0.0);
        let _ = write!(
            svg,
            r#"<line class="forecast" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
            x(now.0),
            y(l.count as f64),
            x(end),
            y(left)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_steps_through_the_points_and_draws_the_forecast_to_the_run_out() {
        let now = Timestamp(100 * DAY_MS);
        let points = [
            Point {
                as_of: Timestamp(90 * DAY_MS),
                count: 20,
            },
            Point {
                as_of: Timestamp(95 * DAY_MS),
                count: 10,
            },
        ];
        let forecast = Forecast {
            rate_per_day: 2.0,
            days_left: 5.0,
            runs_out_at: Timestamp(105 * DAY_MS),
        };
        let svg = svg(&points, Some(points[1]), Some(forecast), now);
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(svg.contains(r#"class="forecast""#), "{svg}");
        assert!(svg.contains(">20</text>"), "the top count is labelled: {svg}");
        let empty = super::svg(&[], None, None, now);
        assert!(empty.contains("no history"), "{empty}");
    }
}
