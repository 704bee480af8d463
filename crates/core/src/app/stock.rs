//! The stock as the table has it, a page at a time, each row with its
//! level and, when asked, its forecast; one item's history with its
//! forecast; the uploads kept in the bucket.

use super::text::{Field, name};
use super::{AppError, Operations};
use crate::pipeline::forecasts;
use crate::ports::{HistoryPoint, ObjectInfo, ObjectKey, PageToken, PortError, StockFilter, StockRow};
use stockwatch_domain::{Forecast, Level, Thresholds, Timestamp, level};

/// Rows read per page.
const PAGE: usize = 5000;

/// Which rows, and whether to forecast them.
#[derive(Debug, Clone, Default)]
pub struct StockQuery {
    pub store: Option<String>,
    /// Only out-of-stock rows (with `low`: out and low).
    pub out: bool,
    /// Only low rows (with `out`: out and low).
    pub low: bool,
    /// Only rows predicted to run out within this many days, most urgent
    /// first (gathered over every page, then given as one).
    pub soon_days: Option<f64>,
    /// Read the history for days left (on AWS a query per item).
    pub forecast: bool,
}

/// A row as people are shown it.
#[derive(Debug, Clone, PartialEq)]
pub struct StockLine {
    pub row: StockRow,
    pub level: Level,
    pub low_threshold: u32,
    pub forecast: Option<Forecast>,
}

/// One page of lines; `note` says once that the days left are unknown
/// (the history could not be read) while the stock is still listed.
#[derive(Debug, Default)]
pub struct StockPage {
    pub lines: Vec<StockLine>,
    pub note: Option<String>,
}

/// Reads the stock a page at a time (`next_page` until `None`).
pub struct StockReader {
    ops: Operations,
    query: StockQuery,
    thresholds: Thresholds,
    filter: StockFilter,
    next: Option<PageToken>,
    done: bool,
    forecasting: bool,
}

impl Operations {
    /// A reader of the stock `query` asks for; refused when its store is
    /// no name a file could hold.
    pub fn stock(&self, mut query: StockQuery, thresholds: Thresholds) -> Result<StockReader, AppError> {
        query.store = query.store.as_deref().map(|s| name(Field::Store, s)).transpose()?;
        let count_at_most = match (query.out, query.low) {
            (true, false) => Some(0),
            (_, true) => Some(thresholds.highest()),
            (false, false) => None,
        };
        let filter = StockFilter {
            store: query.store.clone(),
            count_at_most,
        };
        Ok(StockReader {
            ops: self.clone(),
            forecasting: query.forecast || query.soon_days.is_some(),
            query,
            thresholds,
            filter,
            next: None,
            done: false,
        })
    }

    /// An item's row (its newest snapshot), paging through its store.
    pub async fn stock_row(&self, store: &str, item: &str) -> Result<Option<StockRow>, AppError> {
        let filter = StockFilter {
            store: Some(store.to_string()),
            count_at_most: None,
        };
        let table = &self.ports.table;
        let mut next = None;
        loop {
            let page = self
                .retries
                .run("read stock", || table.scan(&filter, next.as_ref(), PAGE))
                .await?;
            if let Some(row) = page.items.into_iter().find(|r| r.item == item) {
                return Ok(Some(row));
            }
            match page.next {
                Some(token) => next = Some(token),
                None => return Ok(None),
            }
        }
    }

    /// An item's history since `since`, its row and its forecast: one read
    /// of the history covers the span and what the forecast looks back on.
    pub async fn item_history(&self, store: &str, item: &str, since: Timestamp) -> Result<ItemHistory, AppError> {
        let (store, item) = (&name(Field::Store, store)?, &name(Field::Item, item)?);
        let row = self.stock_row(store, item).await?;
        let read_from = row.as_ref().map_or(since, |r| {
            since.min(Timestamp(r.as_of.0.saturating_sub(forecasts::READ_BACK_MS)))
        });
        let read = self.history(store, item, read_from).await?;
        let forecast = row.as_ref().and_then(|row| forecasts::of_row(row, &read));
        let points = read.into_iter().filter(|p| p.as_of >= since).collect();
        Ok(ItemHistory { points, row, forecast })
    }

    /// One upload's state and report.
    pub async fn upload_info(&self, key: &ObjectKey) -> Result<ObjectInfo, AppError> {
        let objects = &self.ports.objects;
        Ok(self.retries.run("read the upload", || objects.head(key)).await?)
    }

    /// The newest uploads, up to `limit`.
    pub async fn uploads(&self, limit: usize) -> Result<Vec<ObjectInfo>, AppError> {
        let objects = &self.ports.objects;
        let page = self.retries.run("list uploads", || objects.list(None, limit)).await?;
        Ok(page.items)
    }
}

/// An item's points in a span, its row and its forecast.
#[derive(Debug)]
pub struct ItemHistory {
    pub points: Vec<HistoryPoint>,
    pub row: Option<StockRow>,
    pub forecast: Option<Forecast>,
}

impl StockReader {
    fn wanted(&self, l: Level) -> bool {
        match (self.query.out, self.query.low) {
            (false, false) => true,
            (out, low) => (out && l == Level::Out) || (low && l == Level::Low),
        }
    }

    fn line(&self, row: StockRow, forecast: Option<Forecast>) -> StockLine {
        let low_threshold = self.thresholds.low_for(&row.store, &row.item);
        StockLine {
            level: level(row.count, low_threshold),
            low_threshold,
            forecast,
            row,
        }
    }

    /// The next page of lines, `None` after the last. With `soon_days`,
    /// every page is read first and one page comes, most urgent first.
    pub async fn next_page(&mut self) -> Result<Option<StockPage>, AppError> {
        if self.done {
            return Ok(None);
        }
        let Some(days) = self.query.soon_days else {
            return self.read_page().await.map(Some);
        };
        let mut soon = Vec::new();
        while !self.done {
            let page = self.read_page().await?;
            soon.extend(
                page.lines
                    .into_iter()
                    .filter(|line| line.forecast.is_some_and(|f| f.days_left <= days)),
            );
        }
        soon.sort_by(|a, b| {
            let days_left = |l: &StockLine| l.forecast.map_or(f64::INFINITY, |f| f.days_left);
            days_left(a).total_cmp(&days_left(b))
        });
        Ok(Some(StockPage {
            lines: soon,
            note: None,
        }))
    }

    async fn read_page(&mut self) -> Result<StockPage, AppError> {
        let table = &self.ops.ports.table;
        let (filter, next) = (&self.filter, &self.next);
        let rows = self
            .ops
            .retries
            .run("read stock", || table.scan(filter, next.as_ref(), PAGE))
            .await?;
        self.next = rows.next;
        self.done = self.next.is_none();
        // Only the rows shown are forecast (on AWS each is a query).
        let soon = self.query.soon_days.is_some();
        let shown: Vec<StockRow> = rows
            .items
            .into_iter()
            .filter(|row| self.wanted(level(row.count, self.thresholds.low_for(&row.store, &row.item))))
            .filter(|row| !soon || row.count > 0)
            .collect();
        let mut note = None;
        let predicted = if self.forecasting {
            let history = &*self.ops.ports.history;
            match self
                .ops
                .retries
                .run("read history", || forecasts::for_page(history, &shown))
                .await
            {
                Ok(predicted) => predicted,
                // Soon is nothing without forecasts: that is a failure.
                Err(e) if soon => return Err(e.into()),
                // Without a history (a stack from before it, a table that
                // refuses) the stock is still listed, days left unknown.
                Err(e) => {
                    self.forecasting = false;
                    note = Some(unknown_days(&e));
                    vec![None; shown.len()]
                }
            }
        } else {
            vec![None; shown.len()]
        };
        let lines = shown
            .into_iter()
            .zip(predicted)
            .map(|(row, forecast)| self.line(row, forecast))
            .collect();
        Ok(StockPage { lines, note })
    }
}

fn unknown_days(e: &PortError) -> String {
    format!("days left unknown: the history could not be read ({e})")
}
