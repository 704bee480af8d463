//! The detail view's history chart: the item's counts over the last two
//! weeks, and the forecast line from now to the predicted run-out. Two
//! markers (dots for the history, a line of `·` for the forecast) keep the
//! two apart without colour.

use super::app::App;
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType};
use stockwatch_domain::Forecast;
use stockwatch_domain::forecast::{DAY_MS, Point};

/// Rows the chart takes when there is room for it.
pub const CHART_HEIGHT: u16 = 12;

/// Days of history drawn, and at most as many ahead.
const SPAN_DAYS: f64 = 14.0;

/// The item's newest snapshot, as the forecast's last point.
fn latest(app: &App, store: &str, item: &str) -> Option<Point> {
    app.live_stock.item(store, item).map(|row| Point {
        as_of: row.as_of,
        count: row.count,
    })
}

/// The detail item's forecast, as `update` left it (none is worked out while drawing).
fn forecast_of(app: &App) -> Option<Forecast> {
    app.detail_forecast
}

/// `sells 3.0 a day: 4.0 days left, out around 4 Dec 09:03`, or why there is no forecast.
pub fn forecast_words(app: &App, store: &str, item: &str) -> String {
    if app.item_history.points(store, item).is_none() {
        return "reading the history…".to_string();
    }
    match (forecast_of(app), latest(app, store, item)) {
        (Some(f), Some(p)) if p.count == 0 => format!("out; it sold {:.1} a day", f.rate_per_day),
        (Some(f), _) => format!(
            "sells {:.1} a day: {:.1} days left, out around {}",
            f.rate_per_day,
            f.days_left,
            app.clock.full(f.runs_out_at)
        ),
        (None, _) => "none: no sales in two weeks, or less than a day of history".to_string(),
    }
}

/// Days from now (negative: past).
fn x(app: &App, at: stockwatch_domain::Timestamp) -> f64 {
    (at.0 - app.now.0) as f64 / DAY_MS as f64
}

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, area: Rect, store: &str, item: &str) {
    let (Some(points), Some(last)) = (app.item_history.points(store, item), latest(app, store, item)) else {
        return;
    };
    let mut history: Vec<(f64, f64)> = points
        .iter()
        .chain(std::iter::once(&last))
        .map(|p| (x(app, p.as_of), f64::from(p.count)))
        .filter(|(d, _)| *d >= -SPAN_DAYS)
        .collect();
    history.sort_by(|a, b| a.0.total_cmp(&b.0));
    let forecast = forecast_of(app).filter(|_| last.count > 0);
    let line: Vec<(f64, f64)> = match forecast {
        // From now down to zero at the run-out (cut at the chart's edge).
        Some(f) => {
            let start = x(app, last.as_of);
            let end = x(app, f.runs_out_at).min(SPAN_DAYS);
            let steps = 40;
            (0..=steps)
                .map(|i| {
                    let d = start + (end - start) * f64::from(i) / f64::from(steps);
                    (d, (f64::from(last.count) - f.rate_per_day * (d - start)).max(0.0))
                })
                .collect()
        }
        None => Vec::new(),
    };
    let top = history.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let datasets = vec![
        Dataset::default()
            .name("count")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::default())
            .data(&history),
        Dataset::default()
            .name("forecast")
            .marker(Marker::Dot)
            .graph_type(GraphType::Scatter)
            .style(theme.dim())
            .data(&line),
    ];
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(" last 14 days · forecast "),
        )
        .x_axis(
            Axis::default()
                // Now in the middle: two weeks back, two weeks ahead.
                .bounds([-SPAN_DAYS, SPAN_DAYS])
                .labels(vec![Span::raw("-14 d"), Span::raw("now"), Span::raw("+14 d")])
                .style(Style::default()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(vec![Span::raw("0"), Span::raw(format!("{:.0}", top / 1.1))]),
        );
    frame.render_widget(chart, area);
}
