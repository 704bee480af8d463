//! The stores pane's state: every store, most urgent first (most out of
//! stock, then most low, then by name), filtered.

use super::live_stock::LiveStock;
use super::pane::{PaneState, TextFilter};

#[derive(Debug, Default)]
pub struct StoresPane {
    /// The cursor's row is keyed by store name.
    pub list: PaneState<String>,
    rows: Vec<String>,
    /// The live stock version and filter `rows` were computed for.
    rows_of: Option<(u64, String)>,
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
    pub fn refresh(&mut self, stock: &mut LiveStock, moved: bool) {
        let current = self
            .rows_of
            .as_ref()
            .is_some_and(|(version, filter)| *version == stock.version() && *filter == self.list.filter);
        if !current {
            let filter = TextFilter::new(&self.list.filter);
            self.rows = stock
                .stores_by_urgency()
                .iter()
                .filter(|s| filter.matches(s))
                .cloned()
                .collect();
            self.rows_of = Some((stock.version(), self.list.filter.clone()));
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
