//! Acknowledging alerts (and taking an acknowledgement back), and reading them.

use super::text::{Field, checked, optional_note};
use super::{AppError, Operations};
use crate::ports::{AlertFilter, PortError};
use std::sync::atomic::{AtomicBool, Ordering};
use stockwatch_domain::{Acknowledgement, Alert, AlertId, AlertState, Timestamp};

/// Alerts read per page of a listing.
const PAGE: usize = 1000;

/// What came of acknowledging several alerts: each one done or failed.
#[derive(Debug, Default)]
pub struct Acknowledged {
    pub done: Vec<Alert>,
    pub failed: Vec<(AlertId, AppError)>,
}

impl Operations {
    /// Acknowledges an alert as `by`, with a note if one is written. Both
    /// are checked first. A transient failure is retried; when a retry
    /// finds the alert already acknowledged by this very acknowledgement,
    /// the first try went through and only its answer was lost: done.
    pub async fn acknowledge(
        &self,
        id: AlertId,
        by: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<Alert, AppError> {
        let ack = Acknowledgement {
            by: checked(Field::Name, by)?,
            at,
            note: optional_note(note)?,
        };
        self.acknowledge_as(id, &ack).await
    }

    /// Acknowledges each alert with one note, every one tried.
    pub async fn acknowledge_all(&self, ids: &[AlertId], by: &str, note: Option<&str>, at: Timestamp) -> Acknowledged {
        let ack = match (checked(Field::Name, by), optional_note(note)) {
            (Ok(by), Ok(note)) => Acknowledgement { by, at, note },
            (Err(e), _) | (_, Err(e)) => {
                // The same mistake for each: none is acknowledged.
                return Acknowledged {
                    done: Vec::new(),
                    failed: ids.iter().map(|id| (*id, e.clone())).collect(),
                };
            }
        };
        let mut outcome = Acknowledged::default();
        for &id in ids {
            match self.acknowledge_as(id, &ack).await {
                Ok(alert) => outcome.done.push(alert),
                Err(e) => outcome.failed.push((id, e)),
            }
        }
        outcome
    }

    async fn acknowledge_as(&self, id: AlertId, ack: &Acknowledgement) -> Result<Alert, AppError> {
        let ledger = &self.ports.ledger;
        let alert = self
            .retries
            .run("acknowledge", || async {
                match ledger.acknowledge(id, ack).await {
                    Err(PortError::Conflict(reason)) => match ledger.get(id).await {
                        Ok(alert) if alert.acknowledged.as_ref() == Some(ack) => Ok(alert),
                        _ => Err(PortError::Conflict(reason)),
                    },
                    other => other,
                }
            })
            .await?;
        Ok(alert)
    }

    /// Takes an acknowledgement back (one made by mistake): the alert is
    /// open again. When a retry finds it open after a try whose answer was
    /// lost, that try went through: done.
    pub async fn unacknowledge(&self, id: AlertId, at: Timestamp) -> Result<Alert, AppError> {
        let ledger = &self.ports.ledger;
        let tried = AtomicBool::new(false);
        let alert = self
            .retries
            .run("take back the acknowledgement", || async {
                let answer = match ledger.unacknowledge(id, at).await {
                    Err(PortError::Conflict(reason)) if tried.load(Ordering::SeqCst) => match ledger.get(id).await {
                        Ok(alert) if alert.state == AlertState::Open => Ok(alert),
                        _ => Err(PortError::Conflict(reason)),
                    },
                    other => other,
                };
                tried.store(true, Ordering::SeqCst);
                answer
            })
            .await?;
        Ok(alert)
    }

    /// One alert.
    pub async fn alert(&self, id: AlertId) -> Result<Alert, AppError> {
        Ok(self.retries.run("find the alert", || self.ports.ledger.get(id)).await?)
    }

    /// Every alert the filter lets through, newest first, all pages.
    pub async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>, AppError> {
        let mut pages = self.alert_pages(filter.clone());
        let mut read = Vec::new();
        while let Some(page) = pages.next_page().await? {
            read.extend(page);
        }
        Ok(read)
    }

    /// The alerts the filter lets through, newest first, a page at a time:
    /// a listing of 800,000 alerts never holds them all.
    pub fn alert_pages(&self, filter: AlertFilter) -> AlertPages {
        AlertPages {
            ops: self.clone(),
            filter,
            next: None,
            done: false,
        }
    }
}

/// Pages of alerts (`Operations::alert_pages`).
pub struct AlertPages {
    ops: Operations,
    filter: AlertFilter,
    next: Option<crate::ports::PageToken>,
    done: bool,
}

impl AlertPages {
    /// The next page; `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Alert>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let (ledger, filter, next) = (&self.ops.ports.ledger, &self.filter, self.next.as_ref());
        let page = self
            .ops
            .retries
            .run("list alerts", || ledger.list(filter, next, PAGE))
            .await?;
        self.next = page.next;
        self.done = self.next.is_none();
        Ok(Some(page.items))
    }
}
