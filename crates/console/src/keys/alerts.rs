//! The alerts pane's keys: moving, opening an alert's item, acknowledging
//! the selected alert (with or without a note) or every open one shown
//! (after a confirmation), taking an acknowledgement back, and choosing
//! which alerts are listed.

use crate::app::{App, Mode};
use crate::keymap::Action;
use crate::messages::Effect;
use crate::pane::Movement;
use crate::stock_pane::{StockView, StoreItem};
use stockwatch_domain::{AlertId, AlertState};

pub fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    let selected = app.alerts.selected().and_then(|id| app.live_alerts.get(id));
    match action {
        Action::Acknowledge | Action::AcknowledgeWithNote => {
            let Some(alert) = selected else {
                app.message = Some("no alert selected".into());
                return Vec::new();
            };
            if alert.state != AlertState::Open {
                app.message = Some(format!("#{} is {}", alert.id, alert.state.as_str()));
            } else if action == Action::Acknowledge {
                return vec![Effect::Acknowledge {
                    ids: vec![alert.id],
                    note: None,
                }];
            } else {
                app.mode = Mode::Note {
                    ids: vec![alert.id],
                    prompt: Default::default(),
                };
            }
        }
        Action::Reopen => match selected {
            Some(alert) if alert.state == AlertState::Acknowledged => return vec![Effect::Unacknowledge(alert.id)],
            Some(alert) => {
                app.message = Some(format!(
                    "#{} is {}: there is no acknowledgement to take back",
                    alert.id,
                    alert.state.as_str()
                ))
            }
            None => app.message = Some("no alert selected".into()),
        },
        Action::AcknowledgeAll => {
            let ids: Vec<AlertId> = app
                .alerts
                .rows()
                .iter()
                .filter_map(|id| app.live_alerts.get(*id))
                .filter(|a| a.state == AlertState::Open)
                .map(|a| a.id)
                .collect();
            if ids.is_empty() {
                app.message = Some("no open alerts to acknowledge".into());
            } else {
                app.mode = Mode::ConfirmAckAll { ids, yes: false };
            }
        }
        Action::Open => {
            if let Some(alert) = selected {
                let (store, item, id) = (alert.store.clone(), alert.item.clone(), alert.id);
                open_item(app, store, item, Some(id));
            }
        }
        Action::SnoozeItem => match selected {
            Some(alert) => {
                app.mode = Mode::Snooze {
                    store: alert.store.clone(),
                    item: Some(alert.item.clone()),
                    prompt: crate::prompt::Prompt::new("2h"),
                }
            }
            None => app.message = Some("no alert selected".into()),
        },
        Action::AlertView => {
            app.alerts.show = app.alerts.show.next();
            app.message = Some(format!("showing {} alerts", app.alerts.show.name()));
            if app.alerts.show.needs_resolved() && !app.alerts.history_loaded {
                app.alerts.history_loaded = true;
                return vec![Effect::LoadAlerts];
            }
        }
        _ => {
            if let Some(movement) = Movement::of(action) {
                app.alerts.list.step(movement);
            }
        }
    }
    Vec::new()
}

/// Shows the store's stock with the item selected, and the item's detail.
pub fn open_item(app: &mut App, store: String, item: String, alert: Option<AlertId>) {
    app.show_stock(StockView::Store(store.clone()));
    app.stock.list.select(StoreItem {
        store: store.clone(),
        item: item.clone(),
    });
    app.mode = Mode::Detail { store, item, alert };
}
