//! The stock pane's keys: moving, sorting, and opening an item's detail.

use crate::app::App;
use crate::keymap::Action;
use crate::messages::Effect;
use crate::pane::Movement;

pub fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    let sort = &mut app.stock.sort;
    match action {
        Action::SortNext => {
            sort.column = sort.column.next();
            sort.reversed = false;
        }
        Action::SortReverse => sort.reversed = !sort.reversed,
        Action::Open => {
            if let Some(line) = app.stock.selected() {
                let (store, item) = (line.store.clone(), line.item.clone());
                app.mode = crate::app::Mode::Detail {
                    store,
                    item,
                    alert: None,
                };
            }
        }
        _ => {
            if let Some(movement) = Movement::of(action) {
                app.stock.list.step(movement);
            }
        }
    }
    Vec::new()
}
