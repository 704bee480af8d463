//! `LiveAlerts`: the console's live copy of the alert ledger, every alert
//! it has heard of by id, kept up to date from the ledger's changes.

use std::collections::BTreeMap;
use stockwatch_domain::{Alert, AlertId};

#[derive(Debug, Default)]
pub struct LiveAlerts {
    /// By id, so numerically: the newest last.
    by_id: BTreeMap<AlertId, Alert>,
    /// Bumped by every change, so the alerts pane knows when to recompute.
    version: u64,
}

impl LiveAlerts {
    /// Adds an alert or replaces the one with its id, unless the one held
    /// is newer (a higher ledger version): copies that arrive twice or out
    /// of order change nothing.
    pub fn put(&mut self, alert: Alert) {
        if self
            .by_id
            .get(&alert.id)
            .is_some_and(|held| held.version > alert.version)
        {
            return;
        }
        self.by_id.insert(alert.id, alert);
        self.version += 1;
    }

    /// Forgets every unresolved alert held and takes these instead (after
    /// the ledger's changes were lost, some held ones may be stale).
    pub fn replace_unresolved(&mut self, alerts: Vec<Alert>) {
        self.by_id
            .retain(|_, a| a.state == stockwatch_domain::AlertState::Resolved);
        for alert in alerts {
            self.by_id.insert(alert.id, alert);
        }
        self.version += 1;
    }

    pub fn get(&self, id: AlertId) -> Option<&Alert> {
        self.by_id.get(&id)
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Alert> {
        self.by_id.values()
    }

    pub fn newest(&self) -> Option<AlertId> {
        self.by_id.last_key_value().map(|(id, _)| *id)
    }

    /// How many alerts are newer than `id` (all of them for `None`).
    pub fn newer_than(&self, id: Option<AlertId>) -> usize {
        match id {
            Some(id) => self
                .by_id
                .range((std::ops::Bound::Excluded(id), std::ops::Bound::Unbounded))
                .count(),
            None => self.by_id.len(),
        }
    }

    /// Every alert of one item, newest first.
    pub fn of_item<'a>(&'a self, store: &'a str, item: &'a str) -> impl Iterator<Item = &'a Alert> + 'a {
        self.by_id
            .values()
            .rev()
            .filter(move |a| a.store == store && a.item == item)
    }

    pub fn version(&self) -> u64 {
        self.version
    }
}
