//! Items' stock over time: what the history view, trends and forecasts read.

use super::{AppError, Operations};
use crate::ports::HistoryPoint;
use stockwatch_domain::Timestamp;

impl Operations {
    /// One item's points since `since`, oldest first.
    pub async fn history(&self, store: &str, item: &str, since: Timestamp) -> Result<Vec<HistoryPoint>, AppError> {
        let history = &self.ports.history;
        Ok(self
            .retries
            .run("read history", || history.points(store, item, since))
            .await?)
    }

    /// Several items' points since `since`, in the order asked.
    pub async fn histories(
        &self,
        items: &[(String, String)],
        since: Timestamp,
    ) -> Result<Vec<Vec<HistoryPoint>>, AppError> {
        let history = &self.ports.history;
        Ok(self
            .retries
            .run("read history", || history.points_of(items, since))
            .await?)
    }
}
