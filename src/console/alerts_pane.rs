//! The alerts pane's state: the unresolved alerts, newest first, filtered
//! by store or item.

use super::live_alerts::LiveAlerts;
use super::pane::{PaneState, TextFilter};
use crate::domain::{AlertId, AlertState};

#[derive(Debug, Default)]
pub struct AlertsPane {
    pub list: PaneState<AlertId>,
    rows: Vec<AlertId>,
    /// How many of `rows` are open (the others are acknowledged).
    open: usize,
    /// The live alerts version and filter `rows` were computed for.
    rows_of: Option<(u64, String)>,
}

impl AlertsPane {
    /// The alerts shown, in order.
    pub fn rows(&self) -> &[AlertId] {
        &self.rows
    }

    pub fn open_count(&self) -> usize {
        self.open
    }

    /// The alert under the cursor.
    pub fn selected(&self) -> Option<AlertId> {
        self.rows.get(self.list.cursor).copied()
    }

    /// Recomputes the rows if the alerts or the filter changed, then keeps
    /// the cursor on its alert (see `PaneState::follow`).
    pub fn refresh(&mut self, alerts: &LiveAlerts, moved: bool) {
        let current = self
            .rows_of
            .as_ref()
            .is_some_and(|(version, filter)| *version == alerts.version() && *filter == self.list.filter);
        if !current {
            let filter = TextFilter::new(&self.list.filter);
            let shown: Vec<_> = alerts
                .iter()
                .rev()
                .filter(|a| a.state != AlertState::Resolved)
                .filter(|a| filter.matches_any(&[&a.store, &a.item]))
                .collect();
            self.open = shown.iter().filter(|a| a.state == AlertState::Open).count();
            self.rows = shown.iter().map(|a| a.id).collect();
            self.rows_of = Some((alerts.version(), self.list.filter.clone()));
        }
        let rows = &self.rows;
        self.list.follow(
            moved,
            rows.len(),
            |row| rows.get(row).copied(),
            |id| rows.iter().position(|r| r == id),
        );
    }
}
