//! The alerts pane's state: the alerts of the chosen states (unresolved by
//! default), newest first, filtered by store or item. The list follows the
//! newest alert until the operator moves off it; then it keeps their alert
//! in place and counts the new ones arriving above it.

use super::pane::{PaneState, TextFilter};
use stockwatch_core::live::LiveAlerts;
use stockwatch_domain::{Alert, AlertId, AlertState};

/// Which alerts the pane lists (the history view is `All` or `Resolved`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertShow {
    /// Open and acknowledged: what still needs attention.
    #[default]
    Unresolved,
    Open,
    Acknowledged,
    Resolved,
    All,
}

impl AlertShow {
    const ORDER: [AlertShow; 5] = [
        AlertShow::Unresolved,
        AlertShow::Open,
        AlertShow::Acknowledged,
        AlertShow::Resolved,
        AlertShow::All,
    ];

    pub fn next(self) -> AlertShow {
        let i = AlertShow::ORDER.iter().position(|s| *s == self).unwrap_or(0);
        AlertShow::ORDER[(i + 1) % AlertShow::ORDER.len()]
    }

    pub fn name(self) -> &'static str {
        match self {
            AlertShow::Unresolved => "unresolved",
            AlertShow::Open => "open",
            AlertShow::Acknowledged => "acknowledged",
            AlertShow::Resolved => "resolved",
            AlertShow::All => "all",
        }
    }

    /// Whether the ledger's resolved alerts are needed to fill the view.
    pub fn needs_resolved(self) -> bool {
        matches!(self, AlertShow::Resolved | AlertShow::All)
    }

    /// Whether new alerts (which are open) show in this view.
    pub fn includes_open(self) -> bool {
        self.includes(AlertState::Open)
    }

    fn includes(self, state: AlertState) -> bool {
        match self {
            AlertShow::Unresolved => state != AlertState::Resolved,
            AlertShow::Open => state == AlertState::Open,
            AlertShow::Acknowledged => state == AlertState::Acknowledged,
            AlertShow::Resolved => state == AlertState::Resolved,
            AlertShow::All => true,
        }
    }
}

#[derive(Debug)]
pub struct AlertsPane {
    pub list: PaneState<AlertId>,
    pub show: AlertShow,
    rows: Vec<AlertId>,
    /// How many of `rows` are open, acknowledged.
    open: usize,
    acknowledged: usize,
    /// The live alerts version, filter and view `rows` were computed for.
    rows_of: Option<(u64, String, AlertShow)>,
    /// On the newest alert, and staying there as new ones arrive.
    following: bool,
    /// The newest alert that was at the top of the list while followed.
    newest_seen: Option<AlertId>,
    /// Resolved alerts were read for the history view.
    pub history_loaded: bool,
    /// Alerts above the operator's place that arrived since they left the
    /// top (computed by `refresh`, read by drawing).
    new_above: usize,
}

impl Default for AlertsPane {
    fn default() -> AlertsPane {
        AlertsPane {
            list: PaneState::default(),
            show: AlertShow::default(),
            rows: Vec::new(),
            open: 0,
            acknowledged: 0,
            rows_of: None,
            following: true,
            newest_seen: None,
            history_loaded: false,
            new_above: 0,
        }
    }
}

impl AlertsPane {
    /// The alerts shown, in order.
    pub fn rows(&self) -> &[AlertId] {
        &self.rows
    }

    pub fn open_count(&self) -> usize {
        self.open
    }

    pub fn acknowledged_count(&self) -> usize {
        self.acknowledged
    }

    /// The alert under the cursor.
    pub fn selected(&self) -> Option<AlertId> {
        self.rows.get(self.list.cursor).copied()
    }

    pub fn is_following(&self) -> bool {
        self.following
    }

    /// Alerts that arrived above the operator's place since they left the
    /// top: the title's "3 new ↑".
    pub fn new_above(&self) -> usize {
        self.new_above
    }

    /// Recomputes the rows if the alerts, the filter or the view changed,
    /// then places the cursor: on the newest alert while following, else on
    /// its alert (see `PaneState::follow`). A move (`moved`) to the first
    /// row starts following again; a move away stops it.
    pub fn refresh(&mut self, alerts: &LiveAlerts, moved: bool) {
        let inputs = (alerts.version(), self.list.filter.clone(), self.show);
        if self.rows_of.as_ref() != Some(&inputs) {
            let filter = TextFilter::new(&self.list.filter);
            let shown: Vec<&Alert> = alerts
                .iter()
                .rev()
                .filter(|a| self.show.includes(a.state))
                .filter(|a| filter.matches_any(&[&a.store, &a.item]))
                .collect();
            self.open = shown.iter().filter(|a| a.state == AlertState::Open).count();
            self.acknowledged = shown.iter().filter(|a| a.state == AlertState::Acknowledged).count();
            self.rows = shown.iter().map(|a| a.id).collect();
            self.rows_of = Some(inputs);
        }
        let rows = &self.rows;
        let key_at = |row: usize| rows.get(row).copied();
        let find = |id: &AlertId| rows.iter().position(|r| r == id);
        if moved {
            self.list.follow(true, rows.len(), key_at, find);
            self.following = self.list.cursor == 0;
        } else if self.following {
            self.list.cursor = 0;
            self.list.follow(true, rows.len(), key_at, find);
        } else {
            self.list.follow(false, rows.len(), key_at, find);
        }
        if self.following {
            self.newest_seen = self.newest_seen.max(self.rows.first().copied());
        }
        let seen = self.newest_seen;
        self.new_above = if self.following {
            0
        } else {
            self.rows[..self.list.cursor.min(self.rows.len())]
                .iter()
                .filter(|id| Some(**id) > seen)
                .count()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pane::Movement;
    use crate::test_support::alert;

    fn pane_with(alerts: &mut LiveAlerts, ids: &[&str]) -> AlertsPane {
        for id in ids {
            alerts.put(alert(id, "Berlin", &format!("item {id}"), AlertState::Open));
        }
        let mut pane = AlertsPane::default();
        pane.refresh(alerts, false);
        pane
    }

    #[test]
    fn the_list_follows_the_newest_until_the_operator_moves_away() {
        let mut alerts = LiveAlerts::default();
        let mut pane = pane_with(&mut alerts, &["1", "2", "3"]);
        assert_eq!(pane.selected(), Some(AlertId(3)));
        alerts.put(alert("4", "Berlin", "x", AlertState::Open));
        pane.refresh(&alerts, false);
        assert_eq!(pane.selected(), Some(AlertId(4)), "the newest is selected, in view");
        assert_eq!(pane.new_above(), 0);

        pane.list.step(Movement::Down);
        pane.refresh(&alerts, true);
        assert_eq!(pane.selected(), Some(AlertId(3)));
        for id in ["5", "6", "7"] {
            alerts.put(alert(id, "Berlin", "x", AlertState::Open));
        }
        pane.refresh(&alerts, false);
        assert_eq!(pane.selected(), Some(AlertId(3)), "the operator's alert stays selected");
        assert_eq!(pane.new_above(), 3, "three new above it");

        pane.list.step(Movement::Top);
        pane.refresh(&alerts, true);
        assert_eq!(pane.selected(), Some(AlertId(7)));
        assert_eq!(pane.new_above(), 0);
        alerts.put(alert("8", "Berlin", "x", AlertState::Open));
        pane.refresh(&alerts, false);
        assert_eq!(pane.selected(), Some(AlertId(8)), "following again");
    }

    #[test]
    fn the_view_picks_states_and_the_history_shows_resolved_alerts() {
        let mut alerts = LiveAlerts::default();
        alerts.put(alert("1", "Berlin", "a", AlertState::Resolved));
        alerts.put(alert("2", "Berlin", "b", AlertState::Acknowledged));
        alerts.put(alert("3", "Berlin", "c", AlertState::Open));
        let mut pane = AlertsPane::default();
        let mut shown = Vec::new();
        for _ in 0..5 {
            pane.refresh(&alerts, false);
            shown.push((pane.show.name(), pane.rows().iter().map(|id| id.0).collect::<Vec<_>>()));
            pane.show = pane.show.next();
        }
        assert_eq!(
            shown,
            vec![
                ("unresolved", vec![3, 2]),
                ("open", vec![3]),
                ("acknowledged", vec![2]),
                ("resolved", vec![1]),
                ("all", vec![3, 2, 1]),
            ]
        );
        assert_eq!(pane.show, AlertShow::Unresolved, "the views cycle");
    }
}
