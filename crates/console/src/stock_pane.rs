//! The stock pane's state: the items of one store (the one opened, or the
//! one under the stores pane's cursor), or the out view (every out-of-stock
//! item across stores); sorted by a column, filtered.

use super::pane::{PaneState, TextFilter, keep_order};
use std::collections::HashMap;
use stockwatch_core::live::LiveAlerts;
use stockwatch_core::live::{ItemHistory, sparkline};
use stockwatch_core::live::{ItemRow, LiveStock};
use stockwatch_domain::forecast::{DAY_MS, Point};
use stockwatch_domain::{AlertKind, AlertState, Level, Timestamp};

/// What the stock pane's rows are made of.
#[derive(Clone, Copy)]
pub struct Live<'a> {
    pub stock: &'a LiveStock,
    pub history: &'a ItemHistory,
    pub alerts: &'a LiveAlerts,
    /// For the trends, which end today.
    pub now: Timestamp,
}

/// What the stock pane is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockView {
    /// A store opened with Enter or `:store NAME`.
    Store(String),
    /// The out view (`o`, `:out`): every out-of-stock item across stores.
    Out,
    /// The soon view (`r`, `:soon`): every item with an open SOON alert
    /// (predicted to run out within its horizon) across stores.
    Soon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Item,
    Count,
    State,
    DaysLeft,
    AsOf,
}

impl Column {
    pub const ORDER: [Column; 5] = [
        Column::Item,
        Column::Count,
        Column::State,
        Column::DaysLeft,
        Column::AsOf,
    ];

    /// What the unreversed order is, in words (the header's arrow says
    /// ascending ↑ or descending ↓, for every column alike).
    pub fn order_words(self, reversed: bool) -> &'static str {
        match (self, reversed) {
            (Column::Item, false) => "A→Z",
            (Column::Item, true) => "Z→A",
            (Column::Count, false) => "lowest first",
            (Column::Count, true) => "highest first",
            (Column::State, false) => "most urgent first",
            (Column::State, true) => "least urgent first",
            (Column::DaysLeft, false) => "soonest out first",
            (Column::DaysLeft, true) => "latest out first",
            (Column::AsOf, false) => "newest first",
            (Column::AsOf, true) => "oldest first",
        }
    }

    /// Whether the column's values go up down the list.
    pub fn ascending(self, reversed: bool) -> bool {
        // Only the as-of starts with the newest (the highest) on top.
        (self != Column::AsOf) != reversed
    }

    pub fn title(self) -> &'static str {
        match self {
            Column::Item => "ITEM",
            Column::Count => "COUNT",
            Column::State => "STATE",
            Column::DaysLeft => "DAYS LEFT",
            Column::AsOf => "AS OF",
        }
    }

    /// The column after this one, wrapping around.
    pub fn next(self) -> Column {
        let i = Column::ORDER.iter().position(|c| *c == self).unwrap_or(0);
        Column::ORDER[(i + 1) % Column::ORDER.len()]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub reversed: bool,
}

/// A row of the stock pane.
#[derive(Debug, Clone, PartialEq)]
pub struct StockLine {
    pub store: String,
    pub item: String,
    pub count: u32,
    pub level: Level,
    pub as_of: Timestamp,
    /// The forecast's days of stock left, once the history is read.
    pub days_left: Option<f64>,
    /// The last 14 days' counts as blocks (blank until the history is read).
    pub trend: String,
}

impl StockLine {
    fn new(store: &str, item: &str, row: &ItemRow, history: &ItemHistory, now: Timestamp) -> StockLine {
        let latest = Point {
            as_of: row.as_of,
            count: row.count,
        };
        StockLine {
            store: store.to_string(),
            item: item.to_string(),
            count: row.count,
            level: row.level,
            as_of: row.as_of,
            days_left: history.forecast(store, item, latest).map(|f| f.days_left),
            trend: history
                .trend(store, item, latest, now)
                .map(|days| sparkline(&days))
                .unwrap_or_default(),
        }
    }

    fn is(&self, key: &StoreItem) -> bool {
        self.store == key.store && self.item == key.item
    }
}

/// Which item a stock row is, whatever its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreItem {
    pub store: String,
    pub item: String,
}

#[derive(Debug)]
pub struct StockPane {
    pub list: PaneState<StoreItem>,
    /// `None`: follows the stores pane's cursor.
    pub view: Option<StockView>,
    pub sort: Sort,
    /// The store whose items are shown (none in the out view).
    store: Option<String>,
    rows: Vec<StockLine>,
    rows_of: Option<StockInputs>,
    /// Counts the times the rows were computed.
    computed: u64,
}

/// What the stock pane's rows depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StockInputs {
    version: u64,
    history: u64,
    alerts: u64,
    /// Trends end today: a new day moves them.
    day: i64,
    view: Option<StockView>,
    store: Option<String>,
    sort: Sort,
    filter: String,
    /// The order was held (kept as shown before).
    held: bool,
}

impl Default for StockPane {
    fn default() -> StockPane {
        StockPane {
            list: PaneState::default(),
            view: None,
            // Out of stock first, then low.
            sort: Sort {
                column: Column::State,
                reversed: false,
            },
            store: None,
            rows: Vec::new(),
            rows_of: None,
            computed: 0,
        }
    }
}

impl StockPane {
    /// The rows shown, sorted.
    pub fn rows(&self) -> &[StockLine] {
        &self.rows
    }

    /// Changes whenever the rows were computed again.
    pub fn computed(&self) -> u64 {
        self.computed
    }

    /// The row under the cursor.
    pub fn selected(&self) -> Option<&StockLine> {
        self.rows.get(self.list.cursor)
    }

    /// The store whose items are shown.
    pub fn store(&self) -> Option<&str> {
        self.store.as_deref()
    }

    pub fn shows_out(&self) -> bool {
        self.view == Some(StockView::Out)
    }

    pub fn shows_soon(&self) -> bool {
        self.view == Some(StockView::Soon)
    }

    /// A view across stores (out, soon): rows say their store.
    pub fn across_stores(&self) -> bool {
        self.shows_out() || self.shows_soon()
    }

    /// Pins the pane to a store or to a view across stores, from its first
    /// row (the soon view sorted by days left, soonest first).
    pub fn show(&mut self, view: StockView) {
        if view == StockView::Soon {
            self.sort = Sort {
                column: Column::DaysLeft,
                reversed: false,
            };
        }
        self.view = Some(view);
        self.list.start_over();
    }

    /// Recomputes the rows if anything they depend on changed (`followed`:
    /// the store under the stores pane's cursor), then keeps the cursor on
    /// its item (see `PaneState::follow`).
    pub fn refresh(&mut self, live: Live<'_>, followed: Option<&String>, moved: bool, hold: bool) {
        let store = match &self.view {
            Some(StockView::Store(store)) => Some(store),
            Some(StockView::Out | StockView::Soon) => None,
            None => followed,
        };
        if self.store.as_ref() != store {
            self.store = store.cloned();
        }
        // Another list (another store, the out view): it opens at its top.
        if self
            .rows_of
            .as_ref()
            .is_some_and(|of| of.view != self.view || of.store != self.store)
        {
            self.list.start_over();
        }
        // Moved in (or an item of it open): rows stay where the operator
        // saw them, unless they asked for another order or other rows.
        let held = self.list.order_held(live.now) || hold;
        let same_list = self.rows_of.as_ref().is_some_and(|of| {
            of.view == self.view && of.store == self.store && of.sort == self.sort && of.filter == self.list.filter
        });
        let current = same_list
            && self.rows_of.as_ref().is_some_and(|of| {
                of.version == live.stock.version()
                    && of.history == live.history.version()
                    && of.alerts == live.alerts.version()
                    && of.day == live.now.0.div_euclid(DAY_MS)
                    && of.held == held
            });
        if !current {
            let mut rows = self.compute_rows(&live);
            if held && same_list {
                let mut before: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
                for (i, row) in self.rows.iter().enumerate() {
                    before
                        .entry(row.store.as_str())
                        .or_default()
                        .insert(row.item.as_str(), i);
                }
                keep_order(&mut rows, |row| {
                    before.get(row.store.as_str())?.get(row.item.as_str()).copied()
                });
            }
            self.rows = rows;
            self.computed += 1;
            self.rows_of = Some(StockInputs {
                version: live.stock.version(),
                history: live.history.version(),
                alerts: live.alerts.version(),
                day: live.now.0.div_euclid(DAY_MS),
                view: self.view.clone(),
                store: self.store.clone(),
                sort: self.sort,
                filter: self.list.filter.clone(),
                held,
            });
        }
        let rows = &self.rows;
        self.list.follow(
            moved,
            rows.len(),
            |row| {
                rows.get(row).map(|r| StoreItem {
                    store: r.store.clone(),
                    item: r.item.clone(),
                })
            },
            |key| rows.iter().position(|r| r.is(key)),
        );
    }

    fn compute_rows(&self, live: &Live<'_>) -> Vec<StockLine> {
        let (stock, history, now) = (live.stock, live.history, live.now);
        let line = |s: &str, i: &str| stock.item(s, i).map(|row| StockLine::new(s, i, row, history, now));
        let filter = TextFilter::new(&self.list.filter);
        let mut rows: Vec<StockLine> = match (&self.view, &self.store) {
            (Some(StockView::Out), _) => stock.out_of_stock().filter_map(|(s, i)| line(s, i)).collect(),
            (Some(StockView::Soon), _) => {
                let mut soon: Vec<(&str, &str)> = live
                    .alerts
                    .iter()
                    .filter(|a| a.kind == AlertKind::Soon && a.state != AlertState::Resolved)
                    .map(|a| (a.store.as_str(), a.item.as_str()))
                    .collect();
                soon.sort_unstable();
                soon.dedup();
                soon.into_iter().filter_map(|(s, i)| line(s, i)).collect()
            }
            (_, Some(store)) => stock
                .items(store)
                .map(|(i, row)| StockLine::new(store, i, row, history, now))
                .collect(),
            (_, None) => Vec::new(),
        };
        rows.retain(|r| filter.matches_any(&[&r.item, &r.store]));
        let by_name = |a: &StockLine, b: &StockLine| (&a.store, &a.item).cmp(&(&b.store, &b.item));
        rows.sort_by(|a, b| {
            let order = match self.sort.column {
                Column::Item => by_name(a, b),
                Column::Count => a.count.cmp(&b.count).then(by_name(a, b)),
                Column::State => a.level.cmp(&b.level).then(a.count.cmp(&b.count)).then(by_name(a, b)),
                // Soonest out first; no forecast after every forecast.
                Column::DaysLeft => match (a.days_left, b.days_left) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
                .then(by_name(a, b)),
                // Newest first.
                Column::AsOf => b.as_of.cmp(&a.as_of).then(by_name(a, b)),
            };
            if self.sort.reversed { order.reverse() } else { order }
        });
        rows
    }
}
