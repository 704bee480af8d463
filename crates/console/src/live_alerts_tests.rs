//! The live copy of the ledger (`stockwatch_core::live::LiveAlerts`), with the console's test alerts.

use crate::test_support::alert;
use stockwatch_core::live::LiveAlerts;
use stockwatch_domain::AlertId;
use stockwatch_domain::AlertState;

#[test]
fn an_older_copy_arriving_late_changes_nothing() {
    let mut alerts = LiveAlerts::default();
    let mut acked = alert("4", "Berlin", "Dot", AlertState::Acknowledged);
    acked.version = 3;
    let mut raised = alert("4", "Berlin", "Dot", AlertState::Open);
    raised.version = 1;
    alerts.put(acked.clone());
    alerts.put(raised);
    assert_eq!(alerts.get(AlertId(4)).unwrap().state, AlertState::Acknowledged);
    alerts.put(acked);
    assert_eq!(alerts.iter().count(), 1);
}
