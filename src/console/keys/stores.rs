//! The stores pane's keys: moving (which unpins an opened store, so the
//! stock pane follows the cursor again) and opening a store.

use crate::console::app::App;
use crate::console::keymap::Action;
use crate::console::messages::Effect;
use crate::console::pane::Movement;
use crate::console::stock_pane::StockView;

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
