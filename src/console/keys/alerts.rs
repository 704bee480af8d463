//! The alerts pane's keys: moving, acknowledging the selected alert, and
//! acknowledging every open one shown (after a confirmation).

use crate::console::app::{App, Mode};
use crate::console::keymap::Action;
use crate::console::messages::Effect;
use crate::console::pane::Movement;
use crate::domain::{AlertId, AlertState};

pub fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    match action {
        Action::Acknowledge => {
            if let Some(alert) = app.alerts.selected().and_then(|id| app.live_alerts.get(id)) {
                if alert.state == AlertState::Open {
                    return vec![Effect::Acknowledge(vec![alert.id])];
                }
                app.message = Some(format!("#{} is already acknowledged", alert.id));
            }
        }
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
        _ => {
            if let Some(movement) = Movement::of(action) {
                app.alerts.list.step(movement);
            }
        }
    }
    Vec::new()
}
