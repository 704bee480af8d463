//! The console's whole state, `App`: the live copies of the inventory table
//! and the alert ledger, one state type per pane, the mode, the feed's
//! health and the message line. `update` (update.rs) is the only thing that
//! changes it, and leaves every pane's rows computed; `view` only reads it.

use super::alerts_pane::AlertsPane;
use super::clock::Clock;
use super::files::pane::FilesPane;
use super::keymap::Keymap;
use super::pane::Pane;
use super::prompt::Prompt;
use super::stock_pane::{StockPane, StockView};
use super::stores_pane::StoresPane;
use std::path::PathBuf;
use stockwatch_core::live::ItemHistory;
use stockwatch_core::live::LiveAlerts;
use stockwatch_core::live::LiveStock;
use stockwatch_core::ports::Change;
use stockwatch_domain::{Alert, AlertId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// The keys, scrolled down by `scroll` lines.
    Help {
        scroll: u16,
    },
    Command(Prompt),
    /// Typing a filter for the focused list.
    Filter(Prompt),
    /// Typing how long to snooze a store's item, or the whole store.
    Snooze {
        store: String,
        item: Option<String>,
        prompt: Prompt,
    },
    /// Typing the note to acknowledge `ids` with.
    Note {
        ids: Vec<AlertId>,
        prompt: Prompt,
    },
    /// "Acknowledge N alerts?" — defaults to Cancel.
    ConfirmAckAll {
        ids: Vec<AlertId>,
        yes: bool,
    },
    /// "Uploads are running: quit anyway?" — defaults to staying.
    ConfirmQuit {
        yes: bool,
    },
    /// One item: its count, as-of, file and alerts (`alert`: the one it
    /// was opened from).
    Detail {
        store: String,
        item: String,
        alert: Option<AlertId>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// Reading the table before following changes.
    Loading,
    Live,
    Error(String),
}

/// What the operator chose for this console (flags and settings).
#[derive(Debug, Clone)]
pub struct Settings {
    pub read_only: bool,
    /// Ring the terminal bell on a new OUT alert.
    pub bell: bool,
    /// Clicks and the wheel (off: the terminal keeps its own selection).
    pub mouse: bool,
    pub location: String,
    pub log_path: String,
    /// Where `:cd ~` goes.
    pub home: Option<PathBuf>,
}

impl Settings {
    pub fn new(location: &str, log_path: &str) -> Settings {
        Settings {
            read_only: false,
            bell: true,
            mouse: false,
            location: location.to_string(),
            log_path: log_path.to_string(),
            home: None,
        }
    }
}

/// The line typed last in each prompt, oldest first.
#[derive(Debug, Default)]
pub struct Histories {
    pub commands: Vec<String>,
    pub filters: Vec<String>,
}

/// Stock rows (when computed), the stretch around the cursor, the item in detail.
type LookedAt = (u64, usize, Option<(String, String)>);

pub struct App {
    pub live_stock: LiveStock,
    pub live_alerts: LiveAlerts,
    /// The histories of items shown, for trends and forecasts.
    pub item_history: ItemHistory,
    /// The forecast of the item in the detail view (worked out in
    /// `refresh`, so drawing only reads it).
    pub detail_forecast: Option<stockwatch_domain::Forecast>,
    /// What `history_to_read` last looked at: the stock rows (by when they
    /// were computed), the stretch of them around the cursor, and the item
    /// in detail. Ticks change none of them.
    history_looked_at: Option<LookedAt>,
    pub keymap: Keymap,
    pub settings: Settings,
    pub clock: Clock,
    pub focus: Pane,
    pub mode: Mode,
    pub stores: StoresPane,
    pub stock: StockPane,
    pub alerts: AlertsPane,
    pub files: FilesPane,
    pub paused: bool,
    /// Changes and alerts that arrived while paused, applied on resume.
    pub held: Vec<Change>,
    pub held_alerts: Vec<Alert>,
    /// The ledger's alerts have been read once: later ones are new.
    pub alerts_loaded: bool,
    /// The newest alert the operator has had in view; newer ones are the
    /// status bar's "N new".
    pub seen_up_to: Option<AlertId>,
    pub histories: Histories,
    pub feed: Feed,
    pub last_change: Option<Timestamp>,
    /// How far behind the feed was when its last changes arrived.
    pub lag_ms: Option<i64>,
    /// The alert ledger's last error, until it answers again.
    pub ledger_error: Option<String>,
    /// The relay that publishes to this console has gone quiet.
    pub relay_silent: bool,
    /// The view is being read again for a silent relay (merged, not replaced).
    pub refreshing: bool,
    /// Stores and items whose new alerts are not notified.
    pub snoozes: Vec<stockwatch_domain::Snooze>,
    /// The time of the last tick: what "now" is for drawing (which reads
    /// no clock).
    pub now: Timestamp,
    /// A line for the operator; it expires (see `update`).
    pub message: Option<String>,
    /// Counts the messages, so a timer expires only the one it was set for.
    pub message_serial: u64,
    /// The terminal's size, for the layout that mouse clicks hit.
    pub size: (u16, u16),
    /// The screen needs drawing.
    pub dirty: bool,
}

impl App {
    pub fn new(live_stock: LiveStock, keymap: Keymap, settings: Settings, clock: Clock) -> App {
        App {
            live_stock,
            live_alerts: LiveAlerts::default(),
            item_history: ItemHistory::default(),
            detail_forecast: None,
            history_looked_at: None,
            keymap,
            settings,
            clock,
            focus: Pane::Stores,
            mode: Mode::Normal,
            stores: StoresPane::default(),
            stock: StockPane::default(),
            alerts: AlertsPane::default(),
            files: FilesPane::new(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
            paused: false,
            held: Vec::new(),
            held_alerts: Vec::new(),
            alerts_loaded: false,
            seen_up_to: None,
            histories: Histories::default(),
            feed: Feed::Loading,
            last_change: None,
            lag_ms: None,
            ledger_error: None,
            relay_silent: false,
            refreshing: false,
            snoozes: Vec::new(),
            now: Timestamp(0),
            message: None,
            message_serial: 0,
            size: (80, 24),
            dirty: true,
        }
    }

    /// "Now" as of the last tick.
    pub fn clock_now(&self) -> Timestamp {
        self.now
    }

    pub fn read_only(&self) -> bool {
        self.settings.read_only
    }

    pub fn filter(&self, pane: Pane) -> &str {
        match pane {
            Pane::Stores => &self.stores.list.filter,
            Pane::Stock => &self.stock.list.filter,
            Pane::Alerts => &self.alerts.list.filter,
            Pane::Files | Pane::Preview => &self.files.list.filter,
        }
    }

    pub fn filter_mut(&mut self, pane: Pane) -> &mut String {
        match pane {
            Pane::Stores => &mut self.stores.list.filter,
            Pane::Stock => &mut self.stock.list.filter,
            Pane::Alerts => &mut self.alerts.list.filter,
            Pane::Files | Pane::Preview => &mut self.files.list.filter,
        }
    }

    pub fn cursor(&self, pane: Pane) -> usize {
        match pane {
            Pane::Stores => self.stores.list.cursor,
            Pane::Stock => self.stock.list.cursor,
            Pane::Alerts => self.alerts.list.cursor,
            Pane::Files => self.files.list.cursor,
            Pane::Preview => self.files.preview_scroll,
        }
    }

    pub fn cursor_mut(&mut self, pane: Pane) -> &mut usize {
        match pane {
            Pane::Stores => &mut self.stores.list.cursor,
            Pane::Stock => &mut self.stock.list.cursor,
            Pane::Alerts => &mut self.alerts.list.cursor,
            Pane::Files => &mut self.files.list.cursor,
            Pane::Preview => &mut self.files.preview_scroll,
        }
    }

    /// Alerts newer than any the operator has had in view.
    pub fn new_alerts(&self) -> usize {
        self.live_alerts.newer_than(self.seen_up_to)
    }

    /// Changes and alerts held by a pause.
    pub fn waiting(&self) -> usize {
        self.held.len() + self.held_alerts.len()
    }

    /// Alerts from the ledger, held while paused. Returns whether to ring
    /// the bell: a new open OUT alert (after the first read), bell on.
    pub fn take_alerts(&mut self, alerts: Vec<Alert>) -> bool {
        let ring = self.alerts_loaded
            && alerts.iter().any(|a| {
                a.kind == stockwatch_domain::AlertKind::Out
                    && a.state == stockwatch_domain::AlertState::Open
                    && self.live_alerts.get(a.id).is_none()
            });
        if self.paused {
            self.held_alerts.extend(alerts);
        } else {
            for alert in alerts {
                self.live_alerts.put(alert);
            }
        }
        ring && self.settings.bell
    }

    /// Shows what a pause held back.
    pub fn resume(&mut self) {
        self.paused = false;
        let held = std::mem::take(&mut self.held);
        self.apply_changes(held);
        let alerts = std::mem::take(&mut self.held_alerts);
        for alert in alerts {
            self.live_alerts.put(alert);
        }
    }

    /// Pins the stock pane to a store or to the out view, and focuses it.
    pub fn show_stock(&mut self, view: StockView) {
        // The stores pane highlights the store shown (whichever pane the
        // command was typed in).
        if let StockView::Store(store) = &view {
            if let Some(row) = self.stores.rows().iter().position(|s| s == store) {
                self.stores.list.cursor = row;
            }
            self.stores.list.select(store.clone());
        }
        self.stock.show(view);
        self.focus = Pane::Stock;
    }

    pub fn apply_changes(&mut self, changes: Vec<Change>) {
        for change in &changes {
            if self.live_stock.apply_change(change) {
                self.last_change = Some(change.at);
            }
            self.item_history.apply(change);
        }
    }

    /// Items shown whose history is not read (nor being read): the stock
    /// pane's rows around its cursor (a view of thousands reads what is
    /// looked at, a screenful or two at a time), and the item in the detail
    /// view. Looks only when the rows, the place in them or the detail
    /// changed: not on every tick.
    pub fn history_to_read(&mut self) -> Vec<(String, String)> {
        const AROUND: usize = 200;
        let detail = match &self.mode {
            Mode::Detail { store, item, .. } => Some((store.clone(), item.clone())),
            _ => None,
        };
        let near = self.stock.list.cursor / AROUND;
        let looking_at = Some((self.stock.computed(), near, detail));
        if self.history_looked_at == looking_at {
            return Vec::new();
        }
        self.history_looked_at = looking_at;
        let detail = self.history_looked_at.as_ref().and_then(|(_, _, d)| d.as_ref());
        let detail = detail.map(|(s, i)| (s.as_str(), i.as_str()));
        let rows = self.stock.rows();
        let from = (near * AROUND).saturating_sub(AROUND).min(rows.len());
        let to = (near * AROUND + 2 * AROUND).min(rows.len());
        let rows = rows[from..to].iter().map(|r| (r.store.as_str(), r.item.as_str()));
        self.item_history.to_read(detail.into_iter().chain(rows))
    }

    /// Brings every pane's rows up to date with what they depend on
    /// (recomputing only those whose inputs changed) and keeps each cursor
    /// on its row. `moved`: the pane a key was just pressed in, whose
    /// selection follows its cursor instead. The stores go first: the stock
    /// pane follows the store under their cursor.
    pub fn refresh(&mut self, moved: Option<Pane>) {
        let held_before = (self.stores.list.is_held(), self.stock.list.is_held());
        self.stores
            .refresh(&mut self.live_stock, moved == Some(Pane::Stores), self.now);
        let live = super::stock_pane::Live {
            stock: &self.live_stock,
            history: &self.item_history,
            alerts: &self.live_alerts,
            now: self.now,
        };
        // An item open in front: the list behind it does not move.
        let detail_open = matches!(self.mode, Mode::Detail { .. });
        self.stock
            .refresh(live, self.stores.selected(), moved == Some(Pane::Stock), detail_open);
        self.alerts.refresh(&self.live_alerts, moved == Some(Pane::Alerts));
        self.files.refresh(moved == Some(Pane::Files));
        // A hold that ended by itself (a tick) re-sorted a list: draw it.
        if (self.stores.list.is_held(), self.stock.list.is_held()) != held_before {
            self.dirty = true;
        }
        self.detail_forecast = match &self.mode {
            Mode::Detail { store, item, .. } => self.live_stock.item(store, item).and_then(|row| {
                let latest = stockwatch_domain::Point {
                    as_of: row.as_of,
                    count: row.count,
                };
                self.item_history.forecast(store, item, latest)
            }),
            _ => None,
        };
        // With the newest alerts in view and the operator at the keys,
        // they have been seen.
        if moved.is_some() && self.alerts.is_following() && self.alerts.show.includes_open() {
            self.seen_up_to = self.seen_up_to.max(self.live_alerts.newest());
        }
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
