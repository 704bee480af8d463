//! Where each pane goes, for drawing and for mouse clicks alike. Heights
//! go by need: the stock and stores panes take the rows they can fill, the
//! alerts pane the rest (at least a third of the body's rows, besides its
//! frame, while both have more rows than fit); narrow terminals give the
//! stores pane less width.

use super::app::App;
use super::pane::Pane;
use ratatui::layout::{Constraint, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub stores: Rect,
    pub stock: Rect,
    pub alerts: Rect,
    pub status: Rect,
    /// The file pane (when open, in place of stores and stock).
    pub listing: Rect,
    pub preview: Rect,
    pub transfers: Option<Rect>,
}

/// Borders (2) and a header row.
const CHROME: u16 = 3;

pub fn layout(app: &App, area: Rect) -> Areas {
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let rows = |n: usize| n.min(u16::MAX as usize) as u16;
    let top_need = if app.files.open {
        u16::MAX
    } else {
        rows(app.stores.rows().len().max(app.stock.rows().len()).max(1)).saturating_add(CHROME)
    };
    let alerts_need = rows(app.alerts.rows().len().max(1)).saturating_add(CHROME);
    let top_least = main.height.min(5);
    // Alerts keep a third of the body for their rows, besides the frame;
    // without any, the pane's hint a third with its frame.
    let alerts_least = if app.alerts.rows().is_empty() {
        alerts_need.min((main.height / 3).max(CHROME))
    } else {
        alerts_need.min(main.height / 3 + CHROME)
    };
    let top_height = top_need.clamp(top_least, main.height.saturating_sub(alerts_least).max(top_least));
    let [top, alerts] = Layout::vertical([Constraint::Length(top_height), Constraint::Min(0)]).areas(main);
    let stores_width = if top.width >= 84 {
        (top.width / 3).clamp(28, 40)
    } else {
        (top.width * 9 / 20).max(12).min(top.width)
    };
    let [stores, stock] = Layout::horizontal([Constraint::Length(stores_width), Constraint::Min(1)]).areas(top);
    let [listing, right] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(top);
    let (preview, transfers) = if app.files.transfers.is_empty() {
        (right, None)
    } else {
        let shown = (app.files.transfers.len() as u16 + 2).min(right.height / 2);
        let [preview, transfers] = Layout::vertical([Constraint::Min(3), Constraint::Length(shown)]).areas(right);
        (preview, Some(transfers))
    };
    Areas {
        stores,
        stock,
        alerts,
        status,
        listing,
        preview,
        transfers,
    }
}

impl Areas {
    /// The pane drawn at a cell, if any.
    pub fn pane_at(&self, app: &App, x: u16, y: u16) -> Option<Pane> {
        let hit = |r: Rect| r.contains(ratatui::layout::Position { x, y });
        let panes: &[(Pane, Rect)] = if app.files.open {
            &[
                (Pane::Files, self.listing),
                (Pane::Preview, self.preview),
                (Pane::Alerts, self.alerts),
            ]
        } else {
            &[
                (Pane::Stores, self.stores),
                (Pane::Stock, self.stock),
                (Pane::Alerts, self.alerts),
            ]
        };
        panes.iter().find(|(_, r)| hit(*r)).map(|(p, _)| *p)
    }

    /// Where a pane's list rows are drawn (inside the border, below the
    /// header row where it has one).
    pub fn rows_of(&self, pane: Pane) -> Rect {
        let (area, header) = match pane {
            Pane::Stores => (self.stores, 1),
            Pane::Stock => (self.stock, 1),
            Pane::Alerts => (self.alerts, 1),
            Pane::Files => (self.listing, 0),
            Pane::Preview => (self.preview, 0),
        };
        let inner = area.inner(ratatui::layout::Margin::new(1, 1));
        Rect {
            y: inner.y + header.min(inner.height),
            height: inner.height.saturating_sub(header),
            ..inner
        }
    }
}
