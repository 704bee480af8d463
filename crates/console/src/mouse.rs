//! Clicks and the wheel (with the mouse on): a click focuses the pane under
//! it and selects the row; the wheel moves the selection of the pane under
//! the pointer. The rows are where `view` draws them (same layout, same
//! window of rows).

use super::app::{App, Mode};
use super::layout::layout;
use super::messages::Effect;
use super::pane::{Movement, Pane};
use super::theme::window;
use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

/// Rows one turn of the wheel moves.
const WHEEL: usize = 3;

pub fn on_mouse(app: &mut App, event: MouseEvent) -> Vec<Effect> {
    // Overlays and prompts take the keyboard; the mouse leaves them be.
    if app.mode != Mode::Normal {
        return Vec::new();
    }
    let (width, height) = app.size;
    let areas = layout(app, Rect::new(0, 0, width, height));
    let Some(pane) = areas.pane_at(app, event.column, event.row) else {
        return Vec::new();
    };
    app.focus = pane;
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) if pane != Pane::Preview => {
            // As moving in the stores pane does, a click there lets the
            // stock pane follow it again.
            if pane == Pane::Stores && matches!(app.stock.view, Some(super::stock_pane::StockView::Store(_))) {
                app.stock.view = None;
            }
            let rows = areas.rows_of(pane);
            if event.row >= rows.y && event.row < rows.y + rows.height {
                let first = window(app.cursor(pane), list_len(app, pane), rows.height as usize);
                *app.cursor_mut(pane) = first + (event.row - rows.y) as usize;
            }
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let movement = if event.kind == MouseEventKind::ScrollDown {
                Movement::Down
            } else {
                Movement::Up
            };
            let cursor = app.cursor_mut(pane);
            for _ in 0..WHEEL {
                *cursor = movement.apply(*cursor);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn list_len(app: &App, pane: Pane) -> usize {
    match pane {
        Pane::Stores => app.stores.rows().len(),
        Pane::Stock => app.stock.rows().len(),
        Pane::Alerts => app.alerts.rows().len(),
        Pane::Files => app.files.shown_count(),
        Pane::Preview => 0,
    }
}
