//! The stock pane's keys: moving and sorting.

use crate::console::app::App;
use crate::console::keymap::Action;
use crate::console::messages::Effect;
use crate::console::pane::Movement;

pub fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    let sort = &mut app.stock.sort;
    match action {
        Action::SortNext => {
            sort.column = sort.column.next();
            sort.reversed = false;
        }
        Action::SortReverse => sort.reversed = !sort.reversed,
        _ => {
            if let Some(movement) = Movement::of(action) {
                app.stock.list.step(movement);
            }
        }
    }
    Vec::new()
}
