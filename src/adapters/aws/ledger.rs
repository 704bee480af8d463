//! The alert ledger on DynamoDB, one table keyed by `pk`:
//! - `claim#<transition>`: an alert. Created by a conditional put, so one
//!   transition is claimed once however many checkers race for it, by
//!   whichever path they found it (`domain::transition_key`).
//! - `counter#alert`: the next short alert id (atomic ADD).
//! - `restock#<store, item>`: the newest restock, so late claims are born resolved.
//! - `checkpoint#<name>`, `config#topic`: checker positions, the topic ARN.
//!
//! Resolved alerts expire through the table's TTL (`ExpiresAt`). Lookups by
//! id and listings scan the table: it holds alerts, not stock.

use super::attrs::{Item, get_n, get_s, n, opt_n, opt_s, opt_time, s};
use super::errors::sdk_error;
use crate::domain::{Acknowledgement, Alert, AlertId, AlertKind, AlertState, Timestamp};
use crate::ports::{
    AlertClaim, AlertFilter, AlertLedger, ClaimOutcome, LedgerCursor, Page, PageToken, PortError, PortResult, Restock,
    no_such_alert,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Resolved alerts stay visible (`alerts --all`) this long.
const KEEP_RESOLVED_MS: i64 = 30 * 24 * 3600 * 1000;
/// Followers re-read this far back: writers' clocks differ a little.
const FOLLOW_WINDOW_MS: i64 = 30_000;

pub struct DynamoLedger {
    client: Client,
    table: String,
    /// alert id → pk, learned from every alert read.
    keys: Mutex<HashMap<AlertId, String>>,
}

/// An alert's item: `claim#` and its transition's identity.
pub fn claim_key(transition: &str) -> String {
    format!("claim#{transition}")
}

fn restock_key(store: &str, item: &str) -> String {
    format!("restock#{}", serde_json::json!([store, item]))
}

pub fn checkpoint_key(name: &str) -> String {
    format!("checkpoint#{name}")
}

pub const TOPIC_KEY: &str = "config#topic";

fn is_conditional<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

fn alert_from(item: &Item) -> PortResult<Alert> {
    let state = opt_s(item, "State")
        .and_then(|s| AlertState::parse(&s))
        .unwrap_or(AlertState::Open);
    let acknowledged = match (opt_s(item, "AckBy"), opt_time(item, "AckAt")) {
        (Some(by), Some(at)) => Some(Acknowledgement {
            by,
            at,
            note: opt_s(item, "AckNote"),
        }),
        _ => None,
    };
    Ok(Alert {
        id: AlertId(get_n::<u64>(item, "AlertId")?),
        transition: get_s(item, "pk")?.trim_start_matches("claim#").to_string(),
        change_id: get_s(item, "ChangeId")?,
        kind: AlertKind::parse(&get_s(item, "Kind")?).unwrap_or(AlertKind::Out),
        store: get_s(item, "Store")?,
        item: get_s(item, "Item")?,
        count: get_n(item, "Count")?,
        threshold: get_n(item, "Threshold")?,
        as_of: Timestamp(get_n(item, "AsOf")?),
        source: opt_s(item, "Source").unwrap_or_default(),
        raised_at: Timestamp(get_n(item, "RaisedAt")?),
        state,
        acknowledged,
        resolved_at: opt_time(item, "ResolvedAt"),
        published_at: opt_time(item, "PublishedAt"),
    })
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FollowCursor {
    since: i64,
    /// (alert id, version, updated at) already reported inside the window.
    seen: Vec<(AlertId, u64, i64)>,
}

impl DynamoLedger {
    pub fn new(client: Client, table: String) -> Self {
        DynamoLedger {
            client,
            table,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn what(&self) -> String {
        format!("the ledger table {}", self.table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub async fn get_item(&self, pk: &str) -> PortResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        Ok(out.item)
    }

    fn remember(&self, alert: &Alert) {
        let pk = claim_key(&alert.transition);
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).insert(alert.id, pk);
    }

    /// Every alert item (with its version), remembering their keys.
    async fn scan_alerts(&self) -> PortResult<Vec<(Alert, u64, i64)>> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :p)")
            .expression_attribute_values(":p", s("claim#"))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut alerts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&self.what(), e))?;
            for item in page.items() {
                let alert = alert_from(item)?;
                self.remember(&alert);
                let version = opt_n(item, "Version").unwrap_or(0);
                let updated = opt_n(item, "UpdatedAt").unwrap_or(alert.raised_at.0);
                alerts.push((alert, version, updated));
            }
        }
        Ok(alerts)
    }

    async fn key_of(&self, id: AlertId) -> PortResult<String> {
        if let Some(pk) = self.keys.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(pk.clone());
        }
        self.scan_alerts().await?;
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or_else(|| no_such_alert(id))
    }

    async fn alert_at(&self, pk: &str) -> PortResult<Alert> {
        let item = self
            .get_item(pk)
            .await?
            .ok_or_else(|| PortError::NotFound(format!("the alert {pk} disappeared from {}", self.what())))?;
        let alert = alert_from(&item)?;
        self.remember(&alert);
        Ok(alert)
    }

    async fn restocked_at(&self, store: &str, item: &str) -> PortResult<Option<i64>> {
        Ok(self
            .get_item(&restock_key(store, item))
            .await?
            .and_then(|i| opt_n(&i, "AsOf")))
    }

    async fn next_id(&self) -> PortResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("counter#alert"))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", "Next")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        out.attributes()
            .and_then(|a| opt_n(a, "Next"))
            .ok_or_else(|| PortError::Permanent("the alert counter has no value".into()))
    }

    /// Resolves one alert unless it already is; returns whether it changed.
    async fn mark_resolved(&self, pk: &str, now: Timestamp) -> PortResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression("SET #st = :r, ResolvedAt = :now, UpdatedAt = :now, ExpiresAt = :exp ADD Version :one")
            .condition_expression("attribute_exists(pk) AND #st <> :r")
            .expression_attribute_names("#st", "State")
            .expression_attribute_values(":r", s("resolved"))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":exp", n((now.0 + KEEP_RESOLVED_MS) / 1000))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_conditional) => Ok(false),
            Err(e) => Err(sdk_error(&self.what(), e)),
        }
    }

    /// Restarts the lease of a claim `token` still holds; `false` when it
    /// was taken over or published.
    pub async fn renew(&self, id: AlertId, token: &str, now: Timestamp) -> PortResult<bool> {
        self.update_held_claim(id, token, "SET ClaimedAt = :now", vec![(":now", n(now.0))])
            .await
    }

    /// Marks a claim `token` still holds published.
    pub async fn mark_published(&self, id: AlertId, token: &str, at: Timestamp) -> PortResult<()> {
        let update = "SET PublishedAt = :now, UpdatedAt = :now ADD Version :one";
        if self
            .update_held_claim(id, token, update, vec![(":now", n(at.0)), (":one", n(1))])
            .await?
        {
            Ok(())
        } else {
            Err(PortError::Conflict(format!(
                "alert {id} was taken over or published by another checker"
            )))
        }
    }

    /// Updates a claim the caller still holds (its token, not yet
    /// published); `false` when it is no longer the caller's.
    async fn update_held_claim(
        &self,
        id: AlertId,
        token: &str,
        update: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> PortResult<bool> {
        let pk = self.key_of(id).await?;
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .update_expression(update)
            .condition_expression("ClaimToken = :t AND attribute_not_exists(PublishedAt)")
            .expression_attribute_values(":t", s(token));
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_conditional) => Ok(false),
            Err(e) => Err(sdk_error(&self.what(), e)),
        }
    }

    async fn claim_one(&self, c: &AlertClaim, token: &str, now: Timestamp) -> PortResult<ClaimOutcome> {
        let pk = claim_key(&c.transition());
        if let Some(existing) = self.get_item(&pk).await? {
            let alert = alert_from(&existing)?;
            self.remember(&alert);
            // Our own claim, from an attempt whose answer was lost: still ours.
            let ours = opt_s(&existing, "ClaimToken").as_deref() == Some(token);
            return Ok(if ours {
                ClaimOutcome::Won(alert)
            } else {
                ClaimOutcome::Lost(alert)
            });
        }
        let resolved = self
            .restocked_at(&c.store, &c.item)
            .await?
            .is_some_and(|at| at > c.as_of.0);
        let id = self.next_id().await?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("AlertId", n(id))
            .item("ChangeId", s(&c.change_id))
            .item("Kind", s(c.kind.as_str()))
            .item("Store", s(&c.store))
            .item("Item", s(&c.item))
            .item("Count", n(c.count))
            .item("Threshold", n(c.threshold))
            .item("AsOf", n(c.as_of.0))
            .item("Source", s(&c.source))
            .item("RaisedAt", n(now.0))
            .item("State", s(if resolved { "resolved" } else { "open" }))
            .item("Notify", AttributeValue::Bool(c.notify))
            .item("ClaimToken", s(token))
            .item("ClaimedAt", n(now.0))
            .item("UpdatedAt", n(Timestamp::now().0))
            .item("Version", n(1))
            .condition_expression("attribute_not_exists(pk)");
        if resolved {
            put = put
                .item("ResolvedAt", n(now.0))
                .item("ExpiresAt", n((now.0 + KEEP_RESOLVED_MS) / 1000));
        }
        match put.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(is_conditional) => {
                return Ok(ClaimOutcome::Lost(self.alert_at(&pk).await?));
            }
            Err(e) => return Err(sdk_error(&self.what(), e)),
        }
        // A restock recorded while we claimed: its resolver may have looked
        // before our alert existed, so look again now that it does.
        if !resolved
            && self
                .restocked_at(&c.store, &c.item)
                .await?
                .is_some_and(|at| at > c.as_of.0)
        {
            self.mark_resolved(&pk, now).await?;
        }
        Ok(ClaimOutcome::Won(self.alert_at(&pk).await?))
    }
}

#[async_trait]
impl AlertLedger for DynamoLedger {
    async fn claim(&self, claims: &[AlertClaim], token: &str, now: Timestamp) -> PortResult<Vec<ClaimOutcome>> {
        let mut outcomes = Vec::with_capacity(claims.len());
        for c in claims {
            outcomes.push(self.claim_one(c, token, now).await?);
        }
        Ok(outcomes)
    }

    async fn take_stale(&self, claimed_before: Timestamp, token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(
                "begins_with(pk, :p) AND Notify = :yes AND attribute_not_exists(PublishedAt) AND ClaimedAt < :before",
            )
            .expression_attribute_values(":p", s("claim#"))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":before", n(claimed_before.0))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut taken = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&self.what(), e))?;
            for item in page.items() {
                let pk = get_s(item, "pk")?;
                let claimed_at: i64 = get_n(item, "ClaimedAt")?;
                // Only one taker wins: the claim must be as we saw it.
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", s(&pk))
                    .update_expression("SET ClaimToken = :t, ClaimedAt = :now")
                    .condition_expression("ClaimedAt = :seen AND attribute_not_exists(PublishedAt)")
                    .expression_attribute_values(":t", s(token))
                    .expression_attribute_values(":now", n(now.0))
                    .expression_attribute_values(":seen", n(claimed_at))
                    .send()
                    .await;
                match result {
                    Ok(_) => taken.push(self.alert_at(&pk).await?),
                    Err(e) if e.as_service_error().is_some_and(is_conditional) => {}
                    Err(e) => return Err(sdk_error(&self.what(), e)),
                }
            }
        }
        Ok(taken)
    }

    async fn resolve(&self, restocks: &[Restock], now: Timestamp) -> PortResult<u64> {
        if restocks.is_empty() {
            return Ok(0);
        }
        for r in restocks {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(restock_key(&r.store, &r.item)))
                .update_expression("SET AsOf = :a, ChangeId = :c")
                .condition_expression("attribute_not_exists(AsOf) OR AsOf < :a")
                .expression_attribute_values(":a", n(r.as_of.0))
                .expression_attribute_values(":c", s(&r.change_id))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some_and(is_conditional) => {}
                Err(e) => return Err(sdk_error(&self.what(), e)),
            }
        }
        let mut resolved = 0;
        for (alert, _, _) in self.scan_alerts().await? {
            if alert.state == AlertState::Resolved {
                continue;
            }
            let newest = restocks
                .iter()
                .filter(|r| r.store == alert.store && r.item == alert.item)
                .map(|r| r.as_of)
                .max();
            if newest.is_some_and(|at| at > alert.as_of)
                && self.mark_resolved(&claim_key(&alert.transition), now).await?
            {
                resolved += 1;
            }
        }
        Ok(resolved)
    }

    async fn acknowledge(&self, id: AlertId, ack: &Acknowledgement) -> PortResult<Alert> {
        let pk = self.key_of(id).await?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .update_expression(if ack.note.is_some() {
                "SET #st = :ack, AckBy = :by, AckAt = :at, AckNote = :note, UpdatedAt = :at ADD Version :one"
            } else {
                "SET #st = :ack, AckBy = :by, AckAt = :at, UpdatedAt = :at ADD Version :one"
            })
            .condition_expression("#st = :open")
            .expression_attribute_names("#st", "State")
            .expression_attribute_values(":ack", s("acknowledged"))
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":by", s(&ack.by))
            .expression_attribute_values(":at", n(ack.at.0))
            .expression_attribute_values(":one", n(1));
        if let Some(note) = &ack.note {
            update = update.expression_attribute_values(":note", s(note));
        }
        match update.send().await {
            Ok(_) => self.alert_at(&pk).await,
            Err(e) if e.as_service_error().is_some_and(is_conditional) => {
                let alert = self.alert_at(&pk).await?;
                Err(PortError::Conflict(alert.can_acknowledge().err().map_or_else(
                    || format!("alert {id} changed meanwhile; try again"),
                    |e| e.to_string(),
                )))
            }
            Err(e) => Err(sdk_error(&self.what(), e)),
        }
    }

    async fn get(&self, id: AlertId) -> PortResult<Alert> {
        let pk = self.key_of(id).await?;
        self.alert_at(&pk).await
    }

    async fn list(&self, filter: &AlertFilter, page: Option<&PageToken>, limit: usize) -> PortResult<Page<Alert>> {
        let before = match page {
            Some(token) => token.alert_place()?,
            None => AlertId(u64::MAX),
        };
        let mut alerts: Vec<(AlertId, Alert)> = self
            .scan_alerts()
            .await?
            .into_iter()
            .map(|(a, _, _)| (a.id, a))
            .filter(|(id, a)| {
                *id < before
                    && (filter.include_resolved || a.state != AlertState::Resolved)
                    && filter.source.as_ref().is_none_or(|s| &a.source == s)
                    && filter.state.is_none_or(|s| a.state == s)
            })
            .collect();
        alerts.sort_by_key(|a| std::cmp::Reverse(a.0));
        let more = alerts.len() > limit;
        let items: Vec<Alert> = alerts.into_iter().take(limit).map(|(_, a)| a).collect();
        let next = if more {
            items.last().map(PageToken::after_alert)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn tip(&self) -> PortResult<LedgerCursor> {
        let latest = self
            .scan_alerts()
            .await?
            .iter()
            .map(|(_, _, updated)| *updated)
            .max()
            .unwrap_or(0);
        let cursor = FollowCursor {
            since: latest.max(Timestamp::now().0 - FOLLOW_WINDOW_MS),
            seen: Vec::new(),
        };
        let mut seen = Vec::new();
        for (alert, version, updated) in self.scan_alerts().await? {
            if updated > cursor.since - FOLLOW_WINDOW_MS {
                seen.push((alert.id, version, updated));
            }
        }
        Ok(LedgerCursor(
            serde_json::to_string(&FollowCursor { seen, ..cursor }).unwrap_or_default(),
        ))
    }

    async fn changes_since(
        &self,
        cursor: Option<&LedgerCursor>,
        limit: usize,
    ) -> PortResult<(Vec<Alert>, LedgerCursor)> {
        let cursor: FollowCursor = match cursor {
            Some(c) => {
                serde_json::from_str(&c.0).map_err(|_| PortError::Invalid("the ledger cursor is damaged".into()))?
            }
            None => FollowCursor {
                since: i64::MIN / 2,
                seen: Vec::new(),
            },
        };
        let mut fresh: Vec<(Alert, u64, i64)> = self
            .scan_alerts()
            .await?
            .into_iter()
            .filter(|(a, version, updated)| {
                *updated > cursor.since - FOLLOW_WINDOW_MS
                    && !cursor.seen.iter().any(|(id, v, _)| id == &a.id && v == version)
            })
            .collect();
        fresh.sort_by_key(|(alert, _, updated)| (*updated, alert.id));
        fresh.truncate(limit);
        let since = fresh
            .iter()
            .map(|f| f.2)
            .max()
            .unwrap_or(cursor.since)
            .max(cursor.since);
        let mut seen = cursor.seen;
        seen.extend(fresh.iter().map(|(a, v, u)| (a.id, *v, *u)));
        // What fell out of the window can no longer come back: forget it.
        seen.retain(|(_, _, updated)| *updated > since - FOLLOW_WINDOW_MS);
        let next = LedgerCursor(serde_json::to_string(&FollowCursor { since, seen }).unwrap_or_default());
        Ok((fresh.into_iter().map(|(a, _, _)| a).collect(), next))
    }
}
