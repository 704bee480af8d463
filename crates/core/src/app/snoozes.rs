//! Snoozing: a store's or an item's new alerts are raised and shown but
//! not notified until the snooze ends by itself or is ended.

use super::text::optional_note;
use super::{AppError, Operations};
use crate::ports::PortError;
use std::time::Duration;
use stockwatch_domain::{AlertId, Snooze, Timestamp, escape_for_terminal};

/// What a snooze is for: an alert's item, a store, or one item of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnoozeTarget {
    Alert(AlertId),
    Store { store: String, item: Option<String> },
}

impl Operations {
    /// The store and item a target names (an alert's are looked up).
    async fn resolve(&self, target: &SnoozeTarget) -> Result<(String, Option<String>), AppError> {
        match target {
            SnoozeTarget::Alert(id) => {
                let alert = self.alert(*id).await?;
                Ok((alert.store, Some(alert.item)))
            }
            SnoozeTarget::Store { store, item } => Ok((
                super::text::name(super::Field::Store, store)?,
                item.as_deref()
                    .map(|i| super::text::name(super::Field::Item, i))
                    .transpose()?,
            )),
        }
    }

    /// Snoozes the target for `duration` from `now`, as `by`.
    pub async fn snooze(
        &self,
        target: &SnoozeTarget,
        duration: Duration,
        by: &str,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Snooze, AppError> {
        // Past a year a snooze is a mute: said, not taken (the CLI and the
        // console parse spans with the same bound).
        if duration > stockwatch_domain::MAX_SPAN {
            return Err(PortError::invalid("a snooze lasts at most a year (366d)").into());
        }
        let note = optional_note(note)?;
        let by = super::text::checked(super::Field::Name, by)?;
        let (store, item) = self.resolve(target).await?;
        let snooze = Snooze {
            store,
            item,
            until: Timestamp(now.0.saturating_add(duration.as_millis().min(i64::MAX as u128) as i64)),
            by,
            note,
        };
        self.retries.run("snooze", || self.ports.ledger.snooze(&snooze)).await?;
        Ok(snooze)
    }

    /// Whether the table holds any row of `store` (a snooze of a store not
    /// seen yet is taken, and said: a typo would otherwise mute nothing).
    pub async fn store_seen(&self, store: &str) -> Result<bool, AppError> {
        let filter = crate::ports::StockFilter {
            store: Some(super::text::name(super::Field::Store, store)?),
            count_at_most: None,
        };
        let table = &self.ports.table;
        let page = self
            .retries
            .run("look for the store", || table.scan(&filter, None, 1))
            .await?;
        Ok(!page.items.is_empty())
    }

    /// Ends the target's snooze; not found when it was not snoozed. Says
    /// what was unsnoozed (`store` or `store / item`).
    pub async fn unsnooze(&self, target: &SnoozeTarget) -> Result<String, AppError> {
        let (store, item) = self.resolve(target).await?;
        let ended = self
            .retries
            .run("unsnooze", || self.ports.ledger.unsnooze(&store, item.as_deref()))
            .await?;
        let named = match &item {
            Some(item) => format!("{store} / {item}"),
            None => store.clone(),
        };
        if !ended {
            return Err(PortError::not_found(format!("{} is not snoozed", escape_for_terminal(&named))).into());
        }
        Ok(named)
    }

    /// The snoozes in force at `now`.
    pub async fn snoozes(&self, now: Timestamp) -> Result<Vec<Snooze>, AppError> {
        Ok(self
            .retries
            .run("read snoozes", || self.ports.ledger.snoozes(now))
            .await?)
    }
}
