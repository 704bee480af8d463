//! The console's whole state, `App`: the live copies of the inventory table
//! and the alert ledger, one state type per pane, the mode, the feed's
//! health and the message line. `update` (update.rs) is the only thing that
//! changes it, and leaves every pane's rows computed; `view` only reads it.

use super::alerts_pane::AlertsPane;
use super::files::pane::FilesPane;
use super::keymap::Keymap;
use super::live_alerts::LiveAlerts;
use super::live_stock::LiveStock;
use super::pane::Pane;
use super::stock_pane::{StockPane, StockView};
use super::stores_pane::StoresPane;
use crate::domain::{AlertId, Timestamp};
use crate::ports::Change;
use std::path::PathBuf;

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

pub struct App {
    pub live_stock: LiveStock,
    pub live_alerts: LiveAlerts,
    pub keymap: Keymap,
    pub read_only: bool,
    pub location: String,
    pub log_path: String,
    pub focus: Pane,
    pub mode: Mode,
    pub stores: StoresPane,
    pub stock: StockPane,
    pub alerts: AlertsPane,
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
    /// The screen needs drawing.
    pub dirty: bool,
}

impl App {
    pub fn new(live_stock: LiveStock, keymap: Keymap, read_only: bool, location: String, log_path: String) -> App {
        App {
            live_stock,
            live_alerts: LiveAlerts::default(),
            keymap,
            read_only,
            location,
            log_path,
            focus: Pane::Stores,
            mode: Mode::Normal,
            stores: StoresPane::default(),
            stock: StockPane::default(),
            alerts: AlertsPane::default(),
            files: FilesPane::new(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
            paused: false,
            held: Vec::new(),
            feed: Feed::Loading,
            last_change: None,
            lag_ms: None,
            ledger_error: None,
            message: None,
            dirty: true,
        }
    }

    pub fn filter(&self, pane: Pane) -> &str {
        match pane {
            Pane::Stores => &self.stores.list.filter,
            Pane::Stock => &self.stock.list.filter,
            Pane::Alerts => &self.alerts.list.filter,
            Pane::Files => &self.files.list.filter,
        }
    }

    pub fn filter_mut(&mut self, pane: Pane) -> &mut String {
        match pane {
            Pane::Stores => &mut self.stores.list.filter,
            Pane::Stock => &mut self.stock.list.filter,
            Pane::Alerts => &mut self.alerts.list.filter,
            Pane::Files => &mut self.files.list.filter,
        }
    }

    pub fn cursor(&self, pane: Pane) -> usize {
        match pane {
            Pane::Stores => self.stores.list.cursor,
            Pane::Stock => self.stock.list.cursor,
            Pane::Alerts => self.alerts.list.cursor,
            Pane::Files => self.files.list.cursor,
        }
    }

    pub fn cursor_mut(&mut self, pane: Pane) -> &mut usize {
        match pane {
            Pane::Stores => &mut self.stores.list.cursor,
            Pane::Stock => &mut self.stock.list.cursor,
            Pane::Alerts => &mut self.alerts.list.cursor,
            Pane::Files => &mut self.files.list.cursor,
        }
    }

    /// Pins the stock pane to a store or to the out view, and focuses it.
    pub fn show_stock(&mut self, view: StockView) {
        self.stock.show(view);
        self.focus = Pane::Stock;
    }

    pub fn apply_changes(&mut self, changes: Vec<Change>) {
        for change in &changes {
            if self.live_stock.apply_change(change) {
                self.last_change = Some(change.at);
            }
        }
    }

    /// Brings every pane's rows up to date with what they depend on
    /// (recomputing only those whose inputs changed) and keeps each cursor
    /// on its row. `moved`: the pane a key was just pressed in, whose
    /// selection follows its cursor instead. The stores go first: the stock
    /// pane follows the store under their cursor.
    pub fn refresh(&mut self, moved: Option<Pane>) {
        self.stores.refresh(&mut self.live_stock, moved == Some(Pane::Stores));
        self.stock
            .refresh(&self.live_stock, self.stores.selected(), moved == Some(Pane::Stock));
        self.alerts.refresh(&self.live_alerts, moved == Some(Pane::Alerts));
        self.files.refresh(moved == Some(Pane::Files));
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
