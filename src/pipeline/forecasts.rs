//! Forecasts for rows of the inventory table, from the history port: what
//! `stock`, `history` and the console show.

use crate::domain::Timestamp;
use crate::domain::forecast::{DEFAULT_WINDOW_MS, Forecast, Point, forecast};
use crate::ports::{History, HistoryPoint, PortResult, StockRow};

/// How far back to read for a forecast: the window, and as long again for
/// the point before it opened (whose interval the window cuts).
pub const READ_BACK_MS: i64 = 2 * DEFAULT_WINDOW_MS;

/// The item's forecast from its points and its row (the newest snapshot).
pub fn of_row(row: &StockRow, points: &[HistoryPoint]) -> Option<Forecast> {
    let points: Vec<Point> = points.iter().map(HistoryPoint::point).collect();
    let latest = Point {
        as_of: row.as_of,
        count: row.count,
    };
    forecast(&points, latest, DEFAULT_WINDOW_MS)
}

/// Each row's forecast, in the rows' order; `None` where none can be said.
/// `rows` are one page of the table, in its order.
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
