//! The stores pane's state: every store, most urgent first (most out of
//! stock, then most low, then by name), filtered.

use super::pane::{PaneState, TextFilter, keep_order, places};
use stockwatch_core::live::LiveStock;
use stockwatch_domain::Timestamp;

#[derive(Debug, Default)]
pub struct StoresPane {
    /// The cursor's row is keyed by store name.
    pub list: PaneState<String>,
    rows: Vec<String>,
    /// The live stock version, filter and hold `rows` were computed for.
    rows_of: Option<(u64, String, bool)>,
}

impl StoresPane {
    /// The stores shown, in order.
    pub fn rows(&self) -> &[String] {
        &self.rows
    }

    /// The store under the cursor.
    pub fn selected(&self) -> Option<&String> {
        self.rows.get(self.list.cursor)
    }

    /// Recomputes the rows if the live stock or the filter changed, then
    /// keeps the cursor on its store (see `PaneState::follow`).
    pub fn refresh(&mut self, stock: &mut LiveStock, moved: bool, now: Timestamp) {
        let held = self.list.order_held(now);
        let same_filter = self
            .rows_of
            .as_ref()
            .is_some_and(|(_, filter, _)| *filter == self.list.filter);
        let current = same_filter
            && self
                .rows_of
                .as_ref()
                .is_some_and(|(version, _, was_held)| *version == stock.version() && *was_held == held);
        if !current {
            let filter = TextFilter::new(&self.list.filter);
            let mut rows: Vec<String> = stock
                .stores_by_urgency()
                .iter()
                .filter(|s| filter.matches(s))
                .cloned()
                .collect();
            // Moved in: the stores stay where the operator saw them.
            if held && same_filter {
                let before = places(self.rows.iter().map(String::as_str));
                keep_order(&mut rows, |s| before.get(s.as_str()).copied());
            }
            self.rows = rows;
            self.rows_of = Some((stock.version(), self.list.filter.clone(), held));
        }
        let rows = &self.rows;
        self.list.follow(
            moved,
            rows.len(),
            |row| rows.get(row).cloned(),
            |store| rows.iter().position(|s| s == store),
        );
    }
}
