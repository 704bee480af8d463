//! The pages, drawn from the live picture under its read lock (no backend
//! call on the way, but an item's history read once): the stores most
//! urgent first with the open alerts, a store's stock, one item, every
//! alert, and finding stores and items. Every text from files goes through
//! askama's HTML escaping; OUT and LOW carry a glyph and a word besides
//! their colour.

use crate::picture::Live;
use crate::session::Visitor;
use crate::state::AppState;
use crate::view::{AlertLine, Frame, Shown, When, alert_line, item_url, page, shown, store_url, url_part};
use crate::visitor::refuse_anonymous;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use stockwatch_core::live::finding::{Needle, find};
use stockwatch_core::live::{ItemRow, TREND_DAYS, sparkline};
use stockwatch_domain::forecast::{DEFAULT_WINDOW_MS, Point, days_text, forecast};
use stockwatch_domain::{Alert, AlertState, Level, Timestamp};

/// Stores on the first page; the rest behind "every store".
const STORES_SHOWN: usize = 100;
/// Alerts on the first page and per page of /alerts.
const ALERTS_SHOWN: usize = 50;
const ALERTS_PAGE: usize = 200;
/// Rows of a store per page.
const ROWS_PAGE: usize = 200;
/// Matches a search lists of each kind.
const FOUND_AT_MOST: usize = 50;

pub struct StoreLine {
    pub name: String,
    pub url: String,
    pub items: u32,
    pub out: u32,
    pub low: u32,
    pub snoozed: Option<When>,
}

pub struct StockLine {
    pub store: String,
    pub item: String,
    pub url: String,
    pub count: u32,
    pub level: Shown,
    pub days_left: String,
    pub trend: String,
    pub as_of: When,
}

/// Open and acknowledged alerts, newest first.
fn unresolved(live: &Live) -> impl Iterator<Item = &Alert> {
    live.alerts.iter().rev().filter(|a| a.state != AlertState::Resolved)
}

fn store_line(live: &Live, name: &str, now: Timestamp) -> StoreLine {
    let summary = live.stock.summary(name).cloned().unwrap_or_default();
    StoreLine {
        url: store_url(name),
        name: name.to_string(),
        items: summary.items,
        out: summary.out,
        low: summary.low,
        snoozed: live
            .snoozes
            .iter()
            .find(|s| s.store == name && s.item.is_none() && now < s.until)
            .map(|s| When::of(s.until)),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    frame: Frame,
    stores: Vec<StoreLine>,
    more_stores: usize,
    alerts: Vec<AlertLine>,
    more_alerts: usize,
}

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    #[serde(default)]
    all: bool,
}

pub async fn dashboard(State(shared): State<AppState>, visitor: Visitor, Query(q): Query<DashboardQuery>) -> Response {
    if let Some(refused) = refuse_anonymous(&shared, &visitor, "/") {
        return refused;
    }
    let now = shared.now();
    let shown = if q.all { usize::MAX } else { STORES_SHOWN };
    let names: Vec<String> = shared
        .picture
        .by_urgency(|order| order.iter().take(shown).cloned().collect());
    let live = shared.picture.read();
    let stores = names.iter().map(|n| store_line(&live, n, now)).collect();
    let open = unresolved(&live).count();
    let alerts = unresolved(&live).take(ALERTS_SHOWN).map(alert_line).collect();
    page(Dashboard {
        frame: Frame::with(&shared, &visitor, "Stock", &live),
        more_stores: live.stock.store_count().saturating_sub(names.len()),
        stores,
        more_alerts: open.saturating_sub(ALERTS_SHOWN),
        alerts,
    })
}

#[derive(Template)]
#[template(path = "store.html")]
struct StorePage {
    frame: Frame,
    store: String,
    store_url: String,
    known: bool,
    show: String,
    rows: Vec<StockLine>,
    next: Option<String>,
    shown_from: usize,
    total: usize,
    snoozed: Option<When>,
    alerts: Vec<AlertLine>,
}

#[derive(Deserialize)]
pub struct StoreQuery {
    name: String,
    /// `out`, `low` (out and low) or everything.
    #[serde(default)]
    show: String,
    /// The page starts after this item.
    #[serde(default)]
    after: Option<String>,
}

fn wanted(show: &str, level: Level) -> bool {
    match show {
        "out" => level == Level::Out,
        "low" => level != Level::Ok,
        _ => true,
    }
}

pub async fn store(State(shared): State<AppState>, visitor: Visitor, Query(q): Query<StoreQuery>) -> Response {
    if let Some(refused) = refuse_anonymous(&shared, &visitor, &store_url(&q.name)) {
        return refused;
    }
    let now = shared.now();
    // The page's items, to read the histories of those not held yet.
    let keys: Vec<(String, String)> = {
        let live = shared.picture.read();
        page_items(&live, &q)
            .map(|(item, _)| (q.name.clone(), item.clone()))
            .collect()
    };
    crate::chart::read_histories(&shared, keys, now).await;
    let live = shared.picture.read();
    let total = live
        .stock
        .items(&q.name)
        .filter(|(_, r)| wanted(&q.show, r.level))
        .count();
    let shown_from = match &q.after {
        Some(after) => live
            .stock
            .items(&q.name)
            .filter(|(i, r)| wanted(&q.show, r.level) && *i <= after)
            .count(),
        None => 0,
    };
    let rows: Vec<StockLine> = page_items(&live, &q)
        .map(|(item, row)| stock_line(&live, &q.name, item, row, now))
        .collect();
    let next = (shown_from + rows.len() < total)
        .then(|| rows.last())
        .flatten()
        .map(|last| {
            format!(
                "{}&show={}&after={}",
                store_url(&q.name),
                url_part(&q.show),
                url_part(&last.item)
            )
        });
    let alerts = unresolved(&live)
        .filter(|a| a.store == q.name)
        .take(ALERTS_SHOWN)
        .map(alert_line)
        .collect();
    let line = store_line(&live, &q.name, now);
    page(StorePage {
        frame: Frame::with(&shared, &visitor, &q.name, &live),
        known: live.stock.summary(&q.name).is_some(),
        store_url: store_url(&q.name),
        store: q.name,
        show: q.show,
        rows,
        next,
        shown_from,
        total,
        snoozed: line.snoozed,
        alerts,
    })
}

fn page_items<'a>(live: &'a Live, q: &'a StoreQuery) -> impl Iterator<Item = (&'a String, &'a ItemRow)> + 'a {
    live.stock
        .items(&q.name)
        .filter(move |(item, row)| wanted(&q.show, row.level) && q.after.as_ref().is_none_or(|after| *item > after))
        .take(ROWS_PAGE)
}

fn stock_line(live: &Live, store: &str, item: &str, row: &ItemRow, now: Timestamp) -> StockLine {
    let latest = Point {
        as_of: row.as_of,
        count: row.count,
    };
    let days_left = live.histories.forecast(store, item, latest).map(|f| f.days_left);
    let trend = live
        .histories
        .trend(store, item, latest, now)
        .map_or_else(|| " ".repeat(TREND_DAYS), |days| sparkline(&days));
    StockLine {
        url: item_url(store, item),
        store: store.to_string(),
        item: item.to_string(),
        count: row.count,
        level: shown(row.level),
        days_left: days_text(days_left),
        trend,
        as_of: When::of(row.as_of),
    }
}

#[derive(Template)]
#[template(path = "item.html")]
struct ItemPage {
    frame: Frame,
    line: Option<StockLine>,
    store: String,
    item: String,
    store_url: String,
    chart: String,
    forecast_words: String,
    alerts: Vec<AlertLine>,
    snoozed: Option<When>,
}

#[derive(Deserialize)]
pub struct ItemQuery {
    store: String,
    item: String,
}

pub async fn item(State(shared): State<AppState>, visitor: Visitor, Query(q): Query<ItemQuery>) -> Response {
    if let Some(refused) = refuse_anonymous(&shared, &visitor, &item_url(&q.store, &q.item)) {
        return refused;
    }
    let now = shared.now();
    // Only an item the table has: a made-up name costs no read and holds nothing.
    if shared.picture.read().stock.item(&q.store, &q.item).is_some() {
        crate::chart::read_histories(&shared, vec![(q.store.clone(), q.item.clone())], now).await;
    }
    let live = shared.picture.read();
    let row = live.stock.item(&q.store, &q.item);
    let line = row.map(|row| stock_line(&live, &q.store, &q.item, row, now));
    let points = live.histories.points(&q.store, &q.item).unwrap_or_default();
    let latest = row.map(|r| Point {
        as_of: r.as_of,
        count: r.count,
    });
    let predicted = latest.and_then(|l| forecast(points, l, DEFAULT_WINDOW_MS));
    let forecast_words = match (predicted, latest) {
        (_, None) => "no row: the item is not in the table".to_string(),
        (_, Some(l)) if l.count == 0 => "out of stock now".to_string(),
        (Some(f), _) => format!(
            "sells {:.1} a day: {} days left, out around {}",
            f.rate_per_day,
            days_text(Some(f.days_left)),
            f.runs_out_at.to_display()
        ),
        (None, _) => "no forecast: not enough history, or the count does not fall".to_string(),
    };
    let chart = crate::chart::svg(points, latest, predicted, now);
    let alerts = live
        .alerts
        .of_item(&q.store, &q.item)
        .take(ALERTS_SHOWN)
        .map(alert_line)
        .collect();
    let snoozed = live
        .snoozes
        .iter()
        .filter(|s| s.covers(&q.store, &q.item, now))
        .map(|s| s.until)
        .max()
        .map(When::of);
    page(ItemPage {
        frame: Frame::with(&shared, &visitor, &format!("{} · {}", q.item, q.store), &live),
        line,
        store_url: store_url(&q.store),
        store: q.store,
        item: q.item,
        chart,
        forecast_words,
        alerts,
        snoozed,
    })
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    frame: Frame,
    alerts: Vec<AlertLine>,
    open: usize,
    acknowledged: usize,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct AlertsQuery {
    /// The page starts below this alert number.
    #[serde(default)]
    before: Option<u64>,
}

pub async fn alerts(State(shared): State<AppState>, visitor: Visitor, Query(q): Query<AlertsQuery>) -> Response {
    if let Some(refused) = refuse_anonymous(&shared, &visitor, "/alerts") {
        return refused;
    }
    let live = shared.picture.read();
    let list: Vec<&Alert> = unresolved(&live)
        .filter(|a| q.before.is_none_or(|b| a.id.0 < b))
        .take(ALERTS_PAGE + 1)
        .collect();
    let next = (list.len() > ALERTS_PAGE).then(|| format!("/alerts?before={}", list[ALERTS_PAGE - 1].id));
    let open = unresolved(&live).filter(|a| a.state == AlertState::Open).count();
    page(AlertsPage {
        frame: Frame::with(&shared, &visitor, "Alerts", &live),
        alerts: list.into_iter().take(ALERTS_PAGE).map(alert_line).collect(),
        acknowledged: unresolved(&live).count() - open,
        open,
        next,
    })
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    frame: Frame,
    typed: String,
    stores: Vec<StoreLine>,
    items: Vec<StockLine>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Stores as the console's `:store` finds them (any part of the name,
/// case and accents aside, ranked, fuzzy as a fallback), then items whose
/// name holds what was typed, most urgent first.
pub async fn search(State(shared): State<AppState>, visitor: Visitor, Query(q): Query<SearchQuery>) -> Response {
    if let Some(refused) = refuse_anonymous(&shared, &visitor, "/search") {
        return refused;
    }
    let now = shared.now();
    let typed = q.q.trim().to_string();
    let names: Vec<String> = if typed.is_empty() {
        Vec::new()
    } else {
        shared
            .picture
            .by_urgency(|order| find(order, &typed).into_iter().take(FOUND_AT_MOST).cloned().collect())
    };
    let live = shared.picture.read();
    let mut items: Vec<StockLine> = Vec::new();
    if !typed.is_empty() {
        let needle = Needle::substring(&typed);
        let mut found: Vec<(&str, &String, &ItemRow)> = Vec::new();
        for store in names_in_order(&live) {
            for (item, row) in live.stock.items(store) {
                if needle.is_in(item) {
                    found.push((store, item, row));
                }
            }
            if found.len() >= FOUND_AT_MOST * 20 {
                break;
            }
        }
        found.sort_by_key(|(_, _, row)| row.level);
        items = found
            .into_iter()
            .take(FOUND_AT_MOST)
            .map(|(store, item, row)| stock_line(&live, store, item, row, now))
            .collect();
    }
    page(SearchPage {
        frame: Frame::with(&shared, &visitor, "Search", &live),
        stores: names.iter().map(|n| store_line(&live, n, now)).collect(),
        items,
        typed,
    })
}

/// Every store's name, in name order (a search's items come out stable).
fn names_in_order(live: &Live) -> Vec<&str> {
    let mut names: Vec<&str> = live.stock.store_names().collect();
    names.sort_unstable();
    names
}
