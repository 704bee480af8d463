//! Forecasts for rows of the inventory table, from the history port: what
//! `stock`, `history` and the console show.

use crate::ports::{History, HistoryPoint, PortResult, StockRow};
use stockwatch_domain::Timestamp;
use stockwatch_domain::forecast::{DEFAULT_WINDOW_MS, Forecast, Point, forecast};

/// How far back to read for a forecast: the window, and as long again for
/// the point before it opened (whose interval the window cuts).
pub const READ_BACK_MS: i64 = 2 * DEFAULT_WINDOW_MS;

/// The forecast's points of an item's history.
pub fn points(history: &[HistoryPoint]) -> Vec<Point> {
    history.iter().map(HistoryPoint::point).collect()
}

/// The forecast as of a snapshot (`count` as of `as_of`) from the item's points.
pub fn at(points: &[Point], as_of: Timestamp, count: u32) -> Option<Forecast> {
    forecast(points, Point { as_of, count }, DEFAULT_WINDOW_MS)
}

/// The item's forecast from its points and its row (the newest snapshot).
pub fn of_row(row: &StockRow, history: &[HistoryPoint]) -> Option<Forecast> {
    at(&points(history), row.as_of, row.count)
}

/// Each row's forecast, in the rows' order; `None` where none can be said.
/// `rows` come from one page of the table, in its order (some left out).
pub async fn for_page(history: &dyn History, rows: &[StockRow]) -> PortResult<Vec<Option<Forecast>>> {
    let Some(oldest) = rows.iter().map(|r| r.as_of).min() else {
        return Ok(Vec::new());
    };
    let keys: Vec<(String, String)> = rows.iter().map(|r| (r.store.clone(), r.item.clone())).collect();
    let points = history
        .points_of_page(&keys, Timestamp(oldest.0.saturating_sub(READ_BACK_MS)))
        .await?;
    Ok(rows
        .iter()
        .zip(&points)
        .map(|(row, points)| of_row(row, points))
        .collect())
}
