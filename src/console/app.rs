//! The console's state and its one reducer: `update(app, msg)` changes the
//! state and returns effects for the runtime to perform (acknowledge, quit).
//! No I/O here: terminal input and background tasks arrive as messages.

use super::files::listing::Listing;
use super::files::pane::{FilesPane, TransferResult};
use super::keymap::{Action, KeyContext, Keymap};
use super::latest::Ticket;
use super::live_stock::LiveStock;
use crate::domain::preview::Preview;
use crate::domain::{Alert, AlertId, AlertState, Level, Timestamp};
use crate::ports::{Change, StockRow};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Stores,
    Stock,
    Alerts,
    Files,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Stores, Pane::Stock, Pane::Alerts, Pane::Files];
    const MAIN: [Pane; 3] = [Pane::Stores, Pane::Stock, Pane::Alerts];
    /// With the file pane open, it takes the place of stores and stock.
    const WITH_FILES: [Pane; 2] = [Pane::Files, Pane::Alerts];

    fn step(self, by: isize, files_open: bool) -> Pane {
        let order: &[Pane] = if files_open { &Pane::WITH_FILES } else { &Pane::MAIN };
        let i = order.iter().position(|p| *p == self).unwrap_or(0) as isize;
        order[(i + by).rem_euclid(order.len() as isize) as usize]
    }

    /// Contexts a key is looked up in, most specific first.
    pub fn contexts(self) -> &'static [KeyContext] {
        match self {
            Pane::Stores => &[KeyContext::List, KeyContext::Global],
            Pane::Stock => &[KeyContext::Stock, KeyContext::List, KeyContext::Global],
            Pane::Alerts => &[KeyContext::Alerts, KeyContext::List, KeyContext::Global],
            Pane::Files => &[KeyContext::Files, KeyContext::List, KeyContext::Global],
        }
    }
}

/// What the stock pane shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockView {
    Store(String),
    /// The out view (`o`, `:out`): every out-of-stock item across stores.
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Item,
    Count,
    State,
    AsOf,
}

impl Column {
    const ORDER: [Column; 4] = [Column::Item, Column::Count, Column::State, Column::AsOf];

    pub fn title(self) -> &'static str {
        match self {
            Column::Item => "ITEM",
            Column::Count => "COUNT",
            Column::State => "STATE",
            Column::AsOf => "AS OF",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Command(String),
    /// Typing a filter for the focused list.
    Filter(String),
    /// "Acknowledge N alerts?" — defaults to Cancel.
    ConfirmAckAll {
        ids: Vec<AlertId>,
        yes: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// Reading the table before following changes.
    Loading,
    Live,
    Error(String),
}

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
    /// Rows of the initial snapshot (pages of it).
    Rows(Vec<StockRow>),
    SnapshotDone,
    /// Changes from the feed, and when the runtime received them.
    Changes {
        changes: Vec<Change>,
        gap: bool,
        seen_at: Timestamp,
    },
    FeedError(String),
    /// The feed answers again after errors.
    FeedOk,
    /// The feed lost changes: the rows that follow replace everything.
    Resync,
    LedgerError(String),
    /// Alerts raised or changed since the last message.
    Alerts(Vec<Alert>),
    Acknowledged(Result<Box<Alert>, String>),
    Listed {
        listing: Listing,
        ticket: Ticket,
    },
    Previewed {
        path: PathBuf,
        preview: Box<Preview>,
        ticket: Ticket,
    },
    TransferProgress {
        id: u64,
        sent: u64,
        total: u64,
    },
    TransferDone {
        id: u64,
        result: TransferResult,
    },
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Acknowledge(Vec<AlertId>),
    Quit,
    /// Clear and redraw everything (after a terminal mess).
    Repaint,
    /// Read a directory (off the UI thread), unless a newer listing was
    /// asked for meanwhile.
    List {
        dir: PathBuf,
        ticket: Ticket,
    },
    /// Preview a file in the background, until another file is selected.
    Preview {
        path: PathBuf,
        ticket: Ticket,
    },
    Upload(Vec<(u64, PathBuf)>),
    Cancel(u64),
}

pub struct App {
    pub live_stock: LiveStock,
    /// By id (ordered numerically).
    pub alerts: BTreeMap<AlertId, Alert>,
    pub keymap: Keymap,
    pub read_only: bool,
    pub location: String,
    pub log_path: String,
    pub focus: Pane,
    pub mode: Mode,
    pub stock_view: Option<StockView>,
    pub sort: (Column, bool),
    pub filters: [String; 4],
    pub cursors: [usize; 4],
    pub files: FilesPane,
    pub paused: bool,
    /// Changes that arrived while paused, applied on resume.
    pub held: Vec<Change>,
    pub feed: Feed,
    pub last_change: Option<Timestamp>,
    /// How far behind the feed was when its last changes arrived.
    pub lag_ms: Option<i64>,
    /// The alert ledger's last error, until it answers again.
    pub ledger_error: Option<String>,
    pub message: Option<String>,
    /// The row each pane is on, by key, so it stays put as lists change.
    selection: [Option<RowKey>; 4],
    /// The screen needs drawing.
    pub dirty: bool,
    stores_cache: Option<StoresCache>,
    stock_cache: Option<(StockKey, Arc<Vec<StockLine>>)>,
}

/// The stores pane's list, for a live stock version and filter.
type StoresCache = ((u64, String), Arc<Vec<String>>);

/// A row of the stock pane: store, item, count, level, as-of.
pub type StockLine = (String, String, u32, Level, Timestamp);

/// What the stock pane's rows depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StockKey {
    version: u64,
    view: Option<StockView>,
    store: Option<String>,
    sort: (Column, bool),
    filter: String,
}

fn pane_index(pane: Pane) -> usize {
    Pane::ORDER.iter().position(|p| *p == pane).unwrap_or(0)
}

/// The selected CSV file in the file pane is previewed as soon as it is selected.
fn preview_selected(app: &mut App) -> Option<Effect> {
    if !app.files.open || app.focus != Pane::Files {
        return None;
    }
    let entries = app.files.entries(&app.filters[3]);
    let Some(entry) = entries.get(app.cursors[3]).filter(|e| e.is_csv()) else {
        // A directory or another file: no stale preview of the last CSV
        // beside it, and no preview job working on for nothing.
        if app.files.preview.take().is_some() {
            app.files.previews.cancel();
        }
        return None;
    };
    let path = entry.path_in(&app.files.dir);
    if app.files.preview.as_ref().is_some_and(|(p, _)| *p == path) {
        return None;
    }
    app.files.preview = Some((path.clone(), Preview::default()));
    Some(Effect::Preview {
        path,
        ticket: app.files.previews.issue(),
    })
}

/// Asks for `dir`'s listing; any listing asked for before is superseded.
fn list(app: &mut App, dir: PathBuf) -> Effect {
    Effect::List {
        dir,
        ticket: app.files.listings.issue(),
    }
}

/// Files messages: listings, previews and transfers.
fn on_files_msg(app: &mut App, msg: Msg) {
    match msg {
        // Only the directory asked for last: an older listing finishing late is dropped.
        Msg::Listed { ticket, .. } if !ticket.is_current() => {}
        Msg::Listed { listing, .. } => {
            if let Some(error) = &listing.error {
                app.message = Some(error.clone());
            } else if listing.more > 0 {
                app.message = Some(format!(
                    "showing the first {} entries; {} more not listed",
                    listing.entries.len(),
                    listing.more
                ));
            }
            if listing.error.is_none() || app.files.listing.is_none() {
                // A new directory starts unfiltered.
                if listing.dir != app.files.dir {
                    app.filters[3].clear();
                }
                app.files.dir = listing.dir.clone();
                app.files.listing = Some(listing);
                app.cursors[3] = 0;
                app.selection[3] = None;
            }
        }
        // Only the file still selected: an older preview finishing late is dropped.
        Msg::Previewed { path, preview, ticket } if ticket.is_current() => {
            app.files.preview = Some((path, *preview));
        }
        Msg::TransferProgress { id, sent, total } => {
            if let Some(t) = app.files.transfer_mut(id) {
                t.sent = sent;
                t.total = total;
            }
        }
        Msg::TransferDone { id, result } => {
            // The first outcome stands: a late "cancelled" must not hide a finished load.
            if let Some(t) = app.files.transfer_mut(id)
                && t.result.is_none()
            {
                t.result = Some(result);
            }
        }
        _ => {}
    }
}

impl App {
    pub fn new(live_stock: LiveStock, keymap: Keymap, read_only: bool, location: String, log_path: String) -> App {
        App {
            live_stock,
            alerts: BTreeMap::new(),
            keymap,
            read_only,
            location,
            log_path,
            focus: Pane::Stores,
            mode: Mode::Normal,
            stock_view: None,
            sort: (Column::State, false),
            filters: Default::default(),
            cursors: [0; 4],
            files: FilesPane::new(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
            paused: false,
            held: Vec::new(),
            feed: Feed::Loading,
            last_change: None,
            lag_ms: None,
            ledger_error: None,
            message: None,
            selection: Default::default(),
            dirty: true,
            stores_cache: None,
            stock_cache: None,
        }
    }

    pub fn filter(&self, pane: Pane) -> &str {
        &self.filters[pane_index(pane)]
    }

    pub fn cursor(&self, pane: Pane) -> usize {
        self.cursors[pane_index(pane)]
    }

    /// Stores shown in the stores pane: urgency order, filtered. Cached
    /// until the live stock or the filter changes: a frame asks several times.
    pub fn visible_stores(&mut self) -> Arc<Vec<String>> {
        let key = (self.live_stock.version(), self.filters[0].clone());
        if let Some((cached_key, stores)) = &self.stores_cache
            && *cached_key == key
        {
            return stores.clone();
        }
        let filter = Filter::new(&self.filters[0]);
        let stores: Arc<Vec<String>> = Arc::new(
            self.live_stock
                .stores_by_urgency()
                .iter()
                .filter(|s| filter.matches(s))
                .cloned()
                .collect(),
        );
        self.stores_cache = Some((key, stores.clone()));
        stores
    }

    /// The store the stock pane follows: chosen, or the one under the cursor.
    pub fn selected_store(&mut self) -> Option<String> {
        match &self.stock_view {
            Some(StockView::Store(store)) => Some(store.clone()),
            Some(StockView::Out) => None,
            None => self.visible_stores().get(self.cursors[0]).cloned(),
        }
    }

    /// Rows of the stock pane: (store, item, count, level, as of), sorted;
    /// cached like the stores.
    pub fn visible_stock(&mut self) -> Arc<Vec<StockLine>> {
        let store = self.selected_store();
        let key = StockKey {
            version: self.live_stock.version(),
            view: self.stock_view.clone(),
            store: store.clone(),
            sort: self.sort,
            filter: self.filters[1].clone(),
        };
        if let Some((cached_key, rows)) = &self.stock_cache
            && *cached_key == key
        {
            return rows.clone();
        }
        let filter = Filter::new(&self.filters[1]);
        let mut rows: Vec<StockLine> = match (&self.stock_view, store) {
            (Some(StockView::Out), _) => self
                .live_stock
                .out_of_stock()
                .filter_map(|(s, i)| {
                    self.live_stock
                        .item(s, i)
                        .map(|r| (s.clone(), i.clone(), r.count, r.level, r.as_of))
                })
                .collect(),
            (_, Some(store)) => self
                .live_stock
                .items(&store)
                .map(|(i, r)| (store.clone(), i.clone(), r.count, r.level, r.as_of))
                .collect(),
            (_, None) => Vec::new(),
        };
        rows.retain(|r| filter.matches_any(&[&r.1, &r.0]));
        let (column, reverse) = self.sort;
        rows.sort_by(|a, b| {
            let order = match column {
                Column::Item => (&a.0, &a.1).cmp(&(&b.0, &b.1)),
                Column::Count => a.2.cmp(&b.2).then((&a.0, &a.1).cmp(&(&b.0, &b.1))),
                Column::State => a.3.cmp(&b.3).then(a.2.cmp(&b.2)).then((&a.0, &a.1).cmp(&(&b.0, &b.1))),
                Column::AsOf => b.4.cmp(&a.4).then((&a.0, &a.1).cmp(&(&b.0, &b.1))),
            };
            if reverse { order.reverse() } else { order }
        });
        let rows = Arc::new(rows);
        self.stock_cache = Some((key, rows.clone()));
        rows
    }

    /// Alerts shown: unresolved, newest first, filtered.
    pub fn visible_alerts(&self) -> Vec<&Alert> {
        let filter = Filter::new(&self.filters[2]);
        self.alerts
            .values()
            .rev()
            .filter(|a| a.state != AlertState::Resolved)
            .filter(|a| filter.matches_any(&[&a.store, &a.item]))
            .collect()
    }

    /// The key of a pane's row: a store name, store + item, an alert id.
    fn row_key(&mut self, pane: Pane, row: usize) -> Option<RowKey> {
        match pane {
            Pane::Stores => self.visible_stores().get(row).map(|s| RowKey::Store(s.clone())),
            Pane::Stock => self
                .visible_stock()
                .get(row)
                .map(|r| RowKey::Item(r.0.clone(), r.1.clone())),
            Pane::Alerts => self.visible_alerts().get(row).map(|a| RowKey::Alert(a.id)),
            Pane::Files => self
                .files
                .entries(&self.filters[3])
                .get(row)
                .map(|e| RowKey::File(e.name.clone())),
        }
    }

    /// Where a key's row is now, without copying the list.
    fn find(&mut self, pane: Pane, key: &RowKey) -> Option<usize> {
        match (pane, key) {
            (Pane::Stores, RowKey::Store(store)) => self.visible_stores().iter().position(|s| s == store),
            (Pane::Stock, RowKey::Item(store, item)) => {
                self.visible_stock().iter().position(|r| &r.0 == store && &r.1 == item)
            }
            (Pane::Alerts, RowKey::Alert(id)) => self.visible_alerts().iter().position(|a| a.id == *id),
            (Pane::Files, RowKey::File(name)) => self
                .files
                .entries(&self.filters[3])
                .iter()
                .position(|e| &e.name == name),
            _ => None,
        }
    }

    fn len(&mut self, pane: Pane) -> usize {
        match pane {
            Pane::Stores => self.visible_stores().len(),
            Pane::Stock => self.visible_stock().len(),
            Pane::Alerts => self.visible_alerts().len(),
            Pane::Files => self.files.entries(&self.filters[3]).len(),
        }
    }

    /// Keeps each pane on the same row when the list under it changes (new
    /// alerts on top, stores re-sorted by urgency); the pane the operator
    /// just moved in follows the cursor instead.
    fn follow_selection(&mut self, moved: Option<Pane>) {
        for pane in Pane::ORDER {
            let i = pane_index(pane);
            if moved != Some(pane)
                && let Some(key) = self.selection[i].clone()
            {
                // Still under the cursor (the usual case), or moved: follow it.
                if self.row_key(pane, self.cursors[i]).as_ref() == Some(&key) {
                    continue;
                }
                if let Some(row) = self.find(pane, &key) {
                    self.cursors[i] = row;
                    continue;
                }
            }
            let len = self.len(pane);
            self.cursors[i] = self.cursors[i].min(len.saturating_sub(1));
            self.selection[i] = self.row_key(pane, self.cursors[i]);
        }
    }
}

/// What a selected row is, whatever its position.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowKey {
    Store(String),
    Item(String, String),
    Alert(AlertId),
    File(String),
}

/// `/text` keeps matches, `/!text` drops them; case-insensitive.
struct Filter {
    needle: String,
    invert: bool,
}

impl Filter {
    fn new(text: &str) -> Filter {
        match text.strip_prefix('!') {
            Some(rest) => Filter {
                needle: rest.to_lowercase(),
                invert: true,
            },
            None => Filter {
                needle: text.to_lowercase(),
                invert: false,
            },
        }
    }

    fn matches(&self, text: &str) -> bool {
        self.matches_any(&[text])
    }

    /// A row matches when any of its texts contains the needle; inverted,
    /// when none of them does.
    fn matches_any(&self, texts: &[&str]) -> bool {
        self.needle.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(&self.needle)) != self.invert
    }
}

/// Rows a page key moves.
pub const PAGE: usize = 10;

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    app.dirty = true;
    let moved = matches!(msg, Msg::Key(_)).then_some(app.focus);
    let effects = match msg {
        Msg::Key(key) => on_key(app, key),
        Msg::Resize => Vec::new(),
        Msg::Rows(rows) => {
            for row in rows {
                app.live_stock.apply_row(row);
            }
            Vec::new()
        }
        Msg::SnapshotDone => {
            app.feed = Feed::Live;
            Vec::new()
        }
        Msg::Changes { changes, gap, seen_at } => {
            if let Some(newest) = changes.iter().map(|c| c.at).max() {
                app.lag_ms = Some((seen_at.0 - newest.0).max(0));
            }
            if gap {
                app.message = Some("changes were lost from the feed; the counts are read again".into());
            }
            if app.paused {
                app.held.extend(changes);
                app.dirty = gap;
            } else {
                apply_changes(app, changes);
            }
            if app.feed != Feed::Loading {
                app.feed = Feed::Live;
            }
            Vec::new()
        }
        Msg::FeedError(error) => {
            app.feed = Feed::Error(error);
            Vec::new()
        }
        Msg::FeedOk => {
            app.feed = Feed::Live;
            Vec::new()
        }
        Msg::Resync => {
            app.live_stock.reset();
            app.held.clear();
            app.feed = Feed::Loading;
            Vec::new()
        }
        Msg::LedgerError(error) => {
            app.ledger_error = Some(error);
            Vec::new()
        }
        Msg::Alerts(alerts) => {
            app.ledger_error = None;
            for alert in alerts {
                app.alerts.insert(alert.id, alert);
            }
            Vec::new()
        }
        msg
        @ (Msg::Listed { .. } | Msg::Previewed { .. } | Msg::TransferProgress { .. } | Msg::TransferDone { .. }) => {
            on_files_msg(app, msg);
            Vec::new()
        }
        Msg::Acknowledged(result) => {
            match result {
                Ok(alert) => {
                    app.message = Some(format!("acknowledged #{}", alert.id));
                    app.alerts.insert(alert.id, *alert);
                }
                Err(error) => app.message = Some(error),
            }
            Vec::new()
        }
    };
    app.follow_selection(moved);
    let mut effects = effects;
    effects.extend(preview_selected(app));
    effects
}

fn apply_changes(app: &mut App, changes: Vec<Change>) {
    for change in &changes {
        if app.live_stock.apply_change(change) {
            app.last_change = Some(change.at);
        }
    }
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    app.message = None;
    match app.mode.clone() {
        Mode::Help => {
            // Any key closes help; the help key toggles it.
            app.mode = Mode::Normal;
            return Vec::new();
        }
        Mode::Command(text) => return on_line(app, key, text, true),
        Mode::Filter(text) => return on_line(app, key, text, false),
        Mode::ConfirmAckAll { ids, yes } => {
            return match key.code {
                KeyCode::Left | KeyCode::Right | KeyCode::Tab | KeyCode::Char('h') | KeyCode::Char('l') => {
                    app.mode = Mode::ConfirmAckAll { ids, yes: !yes };
                    Vec::new()
                }
                KeyCode::Char('y') => {
                    app.mode = Mode::Normal;
                    vec![Effect::Acknowledge(ids)]
                }
                KeyCode::Enter if yes => {
                    app.mode = Mode::Normal;
                    vec![Effect::Acknowledge(ids)]
                }
                _ => {
                    app.mode = Mode::Normal;
                    app.message = Some("nothing acknowledged".into());
                    Vec::new()
                }
            };
        }
        Mode::Normal => {}
    }
    let Some(action) = app.keymap.action(app.focus.contexts(), &key) else {
        return Vec::new();
    };
    if app.read_only && action.writes() {
        app.message = Some(format!("read-only: `{}` is off", action.name()));
        return Vec::new();
    }
    let pane = app.focus;
    let i = pane_index(pane);
    // Moving in the stores pane unpins an opened store: the stock pane
    // follows the stores cursor again.
    if pane == Pane::Stores
        && matches!(
            action,
            Action::Up | Action::Down | Action::Top | Action::Bottom | Action::PageUp | Action::PageDown
        )
        && matches!(app.stock_view, Some(StockView::Store(_)))
    {
        app.stock_view = None;
    }
    match action {
        Action::Quit => return vec![Effect::Quit],
        Action::Help => app.mode = Mode::Help,
        Action::Command => app.mode = Mode::Command(String::new()),
        Action::Filter => app.mode = Mode::Filter(app.filters[i].clone()),
        Action::NextPane => app.focus = pane.step(1, app.files.open),
        Action::PreviousPane => app.focus = pane.step(-1, app.files.open),
        Action::Back => {
            if !app.filters[i].is_empty() {
                app.filters[i].clear();
            } else if app.stock_view.is_some() {
                app.stock_view = None;
                app.focus = Pane::Stores;
            }
        }
        Action::Pause => {
            app.paused = !app.paused;
            if !app.paused {
                let held = std::mem::take(&mut app.held);
                apply_changes(app, held);
            }
        }
        Action::Out => {
            app.stock_view = Some(StockView::Out);
            app.focus = Pane::Stock;
            app.cursors[1] = 0;
        }
        Action::Redraw => return vec![Effect::Repaint],
        Action::Up => app.cursors[i] = app.cursors[i].saturating_sub(1),
        Action::Down => app.cursors[i] += 1,
        Action::Top => app.cursors[i] = 0,
        Action::Bottom => app.cursors[i] = usize::MAX,
        Action::PageUp => app.cursors[i] = app.cursors[i].saturating_sub(PAGE),
        Action::PageDown => app.cursors[i] = app.cursors[i].saturating_add(PAGE),
        Action::Open if pane == Pane::Files => {
            if let Some((path, true)) = app.files.entry_path(&app.filters[3], app.cursors[3]) {
                return vec![list(app, path)];
            }
        }
        Action::Open => {
            if pane == Pane::Stores
                && let Some(store) = app.visible_stores().get(app.cursors[0]).cloned()
            {
                app.stock_view = Some(StockView::Store(store));
                app.focus = Pane::Stock;
                app.cursors[1] = 0;
            }
        }
        Action::SortNext => {
            let next = Column::ORDER[(Column::ORDER.iter().position(|c| *c == app.sort.0).unwrap_or(0) + 1) % 4];
            app.sort = (next, false);
        }
        Action::SortReverse => app.sort.1 = !app.sort.1,
        Action::Acknowledge => {
            if let Some(alert) = app.visible_alerts().get(app.cursors[2]) {
                if alert.state == AlertState::Open {
                    return vec![Effect::Acknowledge(vec![alert.id])];
                }
                app.message = Some(format!("#{} is already acknowledged", alert.id));
            }
        }
        Action::Files => {
            app.files.open = !app.files.open;
            app.focus = if app.files.open { Pane::Files } else { Pane::Stores };
            if app.files.open && app.files.listing.is_none() {
                return vec![list(app, app.files.dir.clone())];
            }
        }
        Action::Parent => {
            if let Some(parent) = app.files.parent() {
                return vec![list(app, parent)];
            }
        }
        Action::ToggleHidden => app.files.show_hidden = !app.files.show_hidden,
        Action::Mark => {
            if let Some((path, false)) = app.files.entry_path(&app.filters[3], app.cursors[3]) {
                if !app.files.marks.remove(&path) {
                    app.files.marks.insert(path);
                }
                app.cursors[3] += 1;
            }
        }
        Action::Upload => {
            let paths: Vec<PathBuf> = if app.files.marks.is_empty() {
                app.files
                    .entry_path(&app.filters[3], app.cursors[3])
                    .filter(|(_, dir)| !dir)
                    .map(|(p, _)| p)
                    .into_iter()
                    .collect()
            } else {
                std::mem::take(&mut app.files.marks).into_iter().collect()
            };
            if paths.is_empty() {
                app.message = Some("nothing to upload: select or mark (space) a file".into());
            } else {
                let started = app.files.start(paths);
                app.message = Some(format!(
                    "uploading {} file{}",
                    started.len(),
                    if started.len() == 1 { "" } else { "s" }
                ));
                return vec![Effect::Upload(started)];
            }
        }
        Action::CancelTransfer => match app.files.newest_cancellable() {
            Some(id) => return vec![Effect::Cancel(id)],
            None if app.files.any_running() => {
                app.message = Some("the upload is done and its load is writing; a load is all or nothing".into())
            }
            None => app.message = Some("no upload is running".into()),
        },
        Action::AcknowledgeAll => {
            let ids: Vec<AlertId> = app
                .visible_alerts()
                .iter()
                .filter(|a| a.state == AlertState::Open)
                .map(|a| a.id)
                .collect();
            if ids.is_empty() {
                app.message = Some("no open alerts to acknowledge".into());
            } else {
                app.mode = Mode::ConfirmAckAll { ids, yes: false };
            }
        }
    }
    Vec::new()
}

/// Typing in the command or filter line.
fn on_line(app: &mut App, key: KeyEvent, mut text: String, command: bool) -> Vec<Effect> {
    let i = pane_index(app.focus);
    if key.modifiers.contains(ratatui::crossterm::event::KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return vec![Effect::Quit];
    }
    match key.code {
        KeyCode::Esc => {
            app.mode = Mode::Normal;
            if !command {
                app.filters[i].clear();
            }
        }
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            if command {
                return run_command(app, text.trim());
            }
            app.filters[i] = text;
        }
        KeyCode::Backspace => {
            text.pop();
            if !command {
                app.filters[i] = text.clone();
            }
            app.mode = if command {
                Mode::Command(text)
            } else {
                Mode::Filter(text)
            };
        }
        KeyCode::Char(c) if !c.is_control() => {
            text.push(c);
            // Filters apply as they are typed.
            if !command {
                app.filters[i] = text.clone();
                app.cursors[i] = 0;
            }
            app.mode = if command {
                Mode::Command(text)
            } else {
                Mode::Filter(text)
            };
        }
        _ => {}
    }
    Vec::new()
}

fn run_command(app: &mut App, command: &str) -> Vec<Effect> {
    let (verb, rest) = command.split_once(' ').map_or((command, ""), |(v, r)| (v, r.trim()));
    match verb {
        "q" | "quit" => return vec![Effect::Quit],
        "alerts" => app.focus = Pane::Alerts,
        "stores" => {
            app.stock_view = None;
            app.focus = Pane::Stores;
        }
        // `:all` is the out view's old name.
        "out" | "all" => {
            app.stock_view = Some(StockView::Out);
            app.focus = Pane::Stock;
        }
        "store" if !rest.is_empty() => {
            let wanted = rest.to_lowercase();
            // Every store, whatever the stores pane's filter shows.
            let stores = app.live_stock.stores_by_urgency().to_vec();
            let found = stores
                .iter()
                .find(|s| s.to_lowercase() == wanted)
                .or_else(|| stores.iter().find(|s| s.to_lowercase().starts_with(&wanted)))
                .cloned();
            match found {
                Some(store) => {
                    app.stock_view = Some(StockView::Store(store));
                    app.focus = Pane::Stock;
                    app.cursors[1] = 0;
                }
                None => {
                    app.message = Some(format!(
                        "no store matches `{}`",
                        crate::domain::escape_for_terminal(rest)
                    ))
                }
            }
        }
        "" => {}
        _ => {
            app.message = Some(format!(
                "unknown command `{}`; try :store NAME, :alerts, :out, :stores, :q",
                crate::domain::escape_for_terminal(command)
            ))
        }
    }
    Vec::new()
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
