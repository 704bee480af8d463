//! The stores pane's keys: moving (which unpins an opened store, so the
//! stock pane follows the cursor again) and opening a store.

use crate::app::App;
use crate::keymap::Action;
use crate::messages::Effect;
use crate::pane::Movement;
use crate::stock_pane::StockView;

pub fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    if let Some(movement) = Movement::of(action) {
        if matches!(app.stock.view, Some(StockView::Store(_))) {
            app.stock.view = None;
        }
        app.stores.list.step(movement);
    } else if action == Action::Open
        && let Some(store) = app.stores.selected().cloned()
    {
        app.show_stock(StockView::Store(store));
    }
    Vec::new()
}
