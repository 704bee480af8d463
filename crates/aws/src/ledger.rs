//! The alert ledger on DynamoDB, one table keyed by `pk`:
//! - `claim#<transition>`: an alert. Created by a conditional put, so one
//!   transition is claimed once however many checkers race for it, by
//!   whichever path they found it (`domain::transition_key`).
//! - `counter#alert`: the next short alert id (atomic ADD).
//! - `restock#<store, item>`: the newest restock, so late claims are born
//!   resolved; expires by TTL after a week.
//! - `checkpoint#<name>`, `config#topic`: checker positions, the topic ARN.
//!
//! Nothing periodic scans it. Sparse attributes put an alert in the global
//! secondary indexes its readers query (`INDEXES`): `ById` (an id's key),
//! `Live` (unresolved alerts, newest first), `ByItem` (an item's alerts,
//! for restocks), `Pending` (claims not yet published, by claim time,
//! for take-overs and grouping windows) and `Remind` (open, notified OUT
//! alerts by their last message, for reminders). Followers read the table's stream (NEW_IMAGE): the
//! ledger's own order, whatever the writers' clocks say. Resolved alerts
//! and restock markers expire through the table's TTL (`ExpiresAt`); only
//! `alerts --all` (a one-off listing of resolved ones too) scans.

use super::attrs::{Item, get_n, get_s, n, opt_n, opt_s, opt_time, s};
use super::errors::sdk_error;
use super::feed::StreamFeed;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use std::collections::HashMap;
use std::sync::Mutex;
use stockwatch_core::ports::{
    AlertClaim, AlertClaims, AlertFilter, Alerts, ClaimOutcome, FeedCursor, Holder, LedgerCursor, LedgerPage, Page,
    PageToken, PendingClaims, PortError, PortResult, Restock, Snoozes, no_such_alert,
};
use stockwatch_domain::{Acknowledgement, Alert, AlertId, AlertKind, AlertState, Snooze, Timestamp};

mod claims;

/// Resolved alerts stay visible (`alerts --all`) this long.
const KEEP_RESOLVED_MS: i64 = 30 * 24 * 3600 * 1000;

/// When a resolved alert expires (the TTL attribute, in seconds).
fn resolved_expiry(now: Timestamp) -> AttributeValue {
    n((now.0 + KEEP_RESOLVED_MS) / 1000)
}
/// A restock marker only matters to claims of changes older than it, which
/// checkers reach within the stream's 24 hours: a week is plenty.
const KEEP_RESTOCK_MS: i64 = 7 * 24 * 3600 * 1000;

/// A global secondary index: its name, hash key, range key (name, is it a
/// number), and whether it holds whole alerts or only their keys.
pub struct Index {
    pub name: &'static str,
    pub hash: (&'static str, bool),
    pub range: Option<(&'static str, bool)>,
    pub whole_items: bool,
}

/// The ledger's indexes (provision and the template create them).
pub const INDEXES: [Index; 5] = [
    Index {
        name: "ById",
        hash: ("AlertId", true),
        range: None,
        whole_items: false,
    },
    Index {
        name: "Live",
        hash: ("Live", false),
        range: Some(("AlertId", true)),
        whole_items: true,
    },
    Index {
        name: "ByItem",
        hash: ("ItemKey", false),
        range: Some(("AlertId", true)),
        whole_items: true,
    },
    Index {
        name: "Pending",
        hash: ("Pending", false),
        range: Some(("ClaimedAt", true)),
        whole_items: false,
    },
    Index {
        name: "Remind",
        hash: ("Remind", false),
        range: Some(("PublishedAt", true)),
        whole_items: true,
    },
];

/// The value of the sparse `Live` and `Pending` attributes.
const YES: &str = "1";
/// `Pending` of a claim held for a grouping window (its own partition of
/// the index, so the window's sender takes only those).
const HELD: &str = "held";

/// Where an unpublished claim of a stored holder sits in the `Pending` index.
fn pending_value(stored: &str) -> &'static str {
    if Holder::from_stored(stored).is_window() {
        HELD
    } else {
        YES
    }
}

/// The partition keys of each sparse index value. One constant key is one
/// index partition, about 1,000 writes a second: every claim, renewal and
/// mark of a storm wrote it, and a throttled index throttles the table.
/// An item's key is its value and a part chosen by its `pk`; readers query
/// every part (at once), and the bare value of items written before.
const SPREAD: u64 = 8;

/// `value`'s partition key for the item `pk`.
fn spread(value: &str, pk: &str) -> String {
    // FNV-1a: the same part in every process and version.
    let hash = pk.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("{value}#{}", hash % SPREAD)
}

/// Every partition key `value` may have.
fn partitions(value: &str) -> Vec<String> {
    std::iter::once(value.to_string())
        .chain((0..SPREAD).map(|part| format!("{value}#{part}")))
        .collect()
}

pub struct DynamoLedger {
    client: Client,
    table: String,
    /// alert id → pk, learned from every alert read.
    keys: Mutex<HashMap<AlertId, String>>,
    /// The ledger table's stream, for followers (none for provisioning).
    stream: Option<StreamFeed>,
}

/// An alert's item: `claim#` and its transition's identity.
pub fn claim_key(transition: &str) -> String {
    format!("claim#{transition}")
}

fn restock_key(store: &str, item: &str) -> String {
    format!("restock#{}", item_key(store, item))
}

/// One item of one store, as the `ByItem` index's key.
fn item_key(store: &str, item: &str) -> String {
    serde_json::json!([store, item]).to_string()
}

pub fn checkpoint_key(name: &str) -> String {
    format!("checkpoint#{name}")
}

pub const TOPIC_KEY: &str = "config#topic";
/// The fan-out feed's topic provisioning made.
pub const FANOUT_TOPIC_KEY: &str = "config#fanout";

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
        version: opt_n(item, "Version").unwrap_or(0),
        reminders: opt_n(item, "Reminders").unwrap_or(0),
    })
}

/// What a follower makes of a ledger stream record: the alert as written
/// (other items, and TTL deletions, are nothing to it).
fn alert_of_record(record: &aws_sdk_dynamodbstreams::types::Record) -> PortResult<Option<Alert>> {
    let Some(image) = record.dynamodb().and_then(|d| d.new_image()) else {
        return Ok(None);
    };
    alert_of_item(&super::attrs::from_stream(image))
}

/// A ledger item as an alert; `None` for the ledger's other items
/// (counters, checkpoints, restock markers).
pub fn alert_of_item(item: &Item) -> PortResult<Option<Alert>> {
    if !opt_s(item, "pk").is_some_and(|pk| pk.starts_with("claim#")) {
        return Ok(None);
    }
    alert_from(item).map(Some)
}

impl DynamoLedger {
    pub fn new(client: Client, table: String) -> Self {
        DynamoLedger {
            client,
            table,
            keys: Mutex::new(HashMap::new()),
            stream: None,
        }
    }

    /// A ledger its followers read through the table's stream.
    pub fn followed(client: Client, streams: aws_sdk_dynamodbstreams::Client, table: String) -> Self {
        let stream = StreamFeed::new(streams, client.clone(), table.clone());
        DynamoLedger {
            stream: Some(stream),
            ..DynamoLedger::new(client, table)
        }
    }

    fn stream(&self) -> PortResult<&StreamFeed> {
        self.stream
            .as_ref()
            .ok_or_else(|| PortError::Permanent("this ledger was opened without its stream".into()))
    }

    /// Pages of a query on one index, each item given to `each` until it
    /// says stop (`false`).
    async fn query_index(
        &self,
        index: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        newest_first: bool,
        each: impl FnMut(&Item) -> PortResult<bool>,
    ) -> PortResult<()> {
        self.query_index_by(index, condition, values, newest_first, None, each)
            .await
    }

    /// `query_index` asking `page` items at a time (a listing that wants a
    /// page from each part of an index, not 1 MB of each).
    async fn query_index_by(
        &self,
        index: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
        newest_first: bool,
        page: Option<usize>,
        mut each: impl FnMut(&Item) -> PortResult<bool>,
    ) -> PortResult<()> {
        let mut start: Option<Item> = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(condition)
                .scan_index_forward(!newest_first)
                .set_limit(page.map(|p| p.min(i32::MAX as usize) as i32))
                .set_exclusive_start_key(start.take());
            for (name, value) in &values {
                request = request.expression_attribute_values(*name, value.clone());
            }
            let page = request.send().await.map_err(|e| sdk_error(&self.what(), e))?;
            for item in page.items() {
                if !each(item)? {
                    return Ok(());
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(()),
            }
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

    /// The ARN a `config#…` item records (a topic provisioning made).
    pub async fn recorded_arn(&self, key: &str) -> PortResult<Option<String>> {
        Ok(self.get_item(key).await?.and_then(|item| opt_s(&item, "Arn")))
    }

    /// Records an ARN under a `config#…` key.
    pub async fn record_arn(&self, key: &str, arn: &str) -> PortResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key))
            .item("Arn", s(arn))
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        Ok(())
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

    /// Every alert item, remembering their keys: only for a listing that
    /// includes resolved alerts (`alerts --all`), never on a periodic path.
    async fn scan_alerts(&self) -> PortResult<Vec<Alert>> {
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
                alerts.push(alert);
            }
        }
        Ok(alerts)
    }

    async fn key_of(&self, id: AlertId) -> PortResult<String> {
        if let Some(pk) = self.keys.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            return Ok(pk.clone());
        }
        let mut found = None;
        self.query_index("ById", "AlertId = :id", vec![(":id", n(id.0))], false, |item| {
            found = opt_s(item, "pk");
            Ok(found.is_none())
        })
        .await?;
        let pk = found.ok_or_else(|| no_such_alert(id))?;
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, pk.clone());
        Ok(pk)
    }

    async fn alert_at(&self, pk: &str) -> PortResult<Alert> {
        let item = self
            .get_item(pk)
            .await?
            .ok_or_else(|| PortError::not_found(format!("the alert {pk} disappeared from {}", self.what())))?;
        let alert = alert_from(&item)?;
        self.remember(&alert);
        Ok(alert)
    }

    /// Resolves one alert unless it already is; returns whether it changed.
    /// One write, which also cancels a reminder claimed but not sent yet
    /// (two let a crash between them send it after the resolving): the
    /// usual one first (no reminder pending), then the one that cancels.
    async fn mark_resolved(&self, pk: &str, now: Timestamp) -> PortResult<bool> {
        // Three shapes, each with its own condition: told already; never
        // told (an outage that ended before it was sent: not told now
        // either); a reminder not yet sent (counted as sent).
        const SHAPES: [(&str, &str, &str); 3] = [
            (
                "",
                "",
                "attribute_exists(pk) AND #st <> :r AND attribute_exists(PublishedAt)",
            ),
            (
                ", Notify = :no",
                ", Pending",
                "attribute_exists(pk) AND #st <> :r AND attribute_not_exists(PublishedAt) \
                 AND (attribute_not_exists(Reminders) OR Reminders = :zero)",
            ),
            (
                ", PublishedAt = :now",
                ", Pending",
                "attribute_exists(pk) AND #st <> :r AND Reminders > :zero AND attribute_not_exists(PublishedAt)",
            ),
        ];
        for _ in 0..3 {
            for (set, remove, condition) in SHAPES {
                let mut update = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", s(pk))
                    .update_expression(format!(
                        "SET #st = :r, ResolvedAt = :now, UpdatedAt = :now, ExpiresAt = :exp{set} \
                         REMOVE Live, Remind{remove} ADD Version :one"
                    ))
                    .condition_expression(condition)
                    .expression_attribute_names("#st", "State")
                    .expression_attribute_values(":r", s("resolved"))
                    .expression_attribute_values(":now", n(now.0))
                    .expression_attribute_values(":exp", resolved_expiry(now))
                    .expression_attribute_values(":one", n(1));
                // DynamoDB refuses a value no expression uses.
                if condition.contains(":zero") {
                    update = update.expression_attribute_values(":zero", n(0));
                }
                if set.contains(":no") {
                    update = update.expression_attribute_values(":no", AttributeValue::Bool(false));
                }
                let result = update.send().await;
                match result {
                    Ok(_) => return Ok(true),
                    Err(e) if e.as_service_error().is_some_and(is_conditional) => continue,
                    Err(e) => return Err(sdk_error(&self.what(), e)),
                }
            }
            // None held: resolved already (or gone), or a reminder
            // claimed or sent between the tries.
            match self.get_item(pk).await? {
                None => return Ok(false),
                Some(item) if alert_from(&item)?.state == AlertState::Resolved => return Ok(false),
                Some(_) => {}
            }
        }
        Err(PortError::transient(format!(
            "the alert {pk} kept changing while being resolved in {}",
            self.what()
        )))
    }

    /// Puts the open, notified OUT alerts raised before reminders existed
    /// in the `Remind` index, once per ledger (a one-off scan, for
    /// `provision`); returns how many.
    pub async fn backfill_reminders(&self) -> PortResult<u64> {
        const DONE: &str = "config#remind-backfilled";
        if self.get_item(DONE).await?.is_some() {
            return Ok(0);
        }
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression(
                "begins_with(pk, :c) AND #st = :open AND Kind = :out AND Notify = :yes \
                 AND attribute_exists(PublishedAt) AND attribute_not_exists(Remind)",
            )
            .expression_attribute_names("#st", "State")
            .expression_attribute_values(":c", s("claim#"))
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":out", s(AlertKind::Out.as_str()))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .projection_expression("pk")
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(&self.what(), e))?;
            keys.extend(page.items().iter().filter_map(|i| opt_s(i, "pk")));
        }
        let mut added = 0;
        for pk in keys {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .update_expression("SET Remind = :yes")
                .condition_expression("#st = :open")
                .expression_attribute_names("#st", "State")
                .expression_attribute_values(":yes", s(spread(YES, &pk)))
                .expression_attribute_values(":open", s("open"))
                .send()
                .await;
            match result {
                Ok(_) => added += 1,
                Err(e) if e.as_service_error().is_some_and(is_conditional) => {}
                Err(e) => return Err(sdk_error(&self.what(), e)),
            }
        }
        self.record_arn(DONE, "-").await?;
        Ok(added)
    }

    /// Restarts the lease of a claim `token` still holds; `false` when it
    /// was taken over or published.
    pub async fn renew(&self, id: AlertId, token: &str, now: Timestamp) -> PortResult<bool> {
        self.update_held_claim(id, token, "SET ClaimedAt = :now", vec![(":now", n(now.0))])
            .await
    }

    /// Marks a claim `token` still holds published.
    pub async fn mark_published(&self, id: AlertId, token: &str, at: Timestamp) -> PortResult<()> {
        let update = "SET PublishedAt = :now, UpdatedAt = :now REMOVE Pending ADD Version :one";
        if self
            .update_held_claim(id, token, update, vec![(":now", n(at.0)), (":one", n(1))])
            .await?
        {
            Ok(())
        } else {
            Err(PortError::conflict(format!(
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

    /// The unpublished claims in one partition of the `Pending` index (a
    /// sender's, or held for a window) claimed before `before`, oldest
    /// first, as (`pk`, `ClaimedAt`).
    async fn pending_in(&self, partition: &str, before: i64) -> PortResult<Vec<(String, i64)>> {
        let parts = partitions(partition);
        let found = futures_util::future::try_join_all(parts.iter().map(|part| async move {
            let mut found = Vec::new();
            self.query_index(
                "Pending",
                "Pending = :p AND ClaimedAt < :before",
                vec![(":p", s(part)), (":before", n(before))],
                false,
                |item| {
                    found.push((get_s(item, "pk")?, get_n(item, "ClaimedAt")?));
                    Ok(true)
                },
            )
            .await?;
            Ok::<_, PortError>(found)
        }))
        .await?;
        let mut found: Vec<(String, i64)> = found.into_iter().flatten().collect();
        found.sort_by_key(|(_, at)| *at);
        Ok(found)
    }

    /// Takes unpublished claims as seen (`pk`, `ClaimedAt`) for `token`:
    /// one taker wins each, the claim must be as it was seen.
    /// Several at once (each waits a round trip): a storm's 10,000 claims
    /// one after another took longer than the lease they were taken for.
    async fn take(&self, seen: Vec<(String, i64)>, token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        use futures_util::StreamExt;
        let results: Vec<PortResult<Option<Alert>>> = futures_util::stream::iter(seen)
            .map(|(pk, claimed_at)| self.take_one(pk, claimed_at, token, now))
            .buffered(claims::IN_FLIGHT)
            .collect()
            .await;
        // What was taken is sent even when some takes failed: those
        // claims now carry our token, and no one else would send them
        // before the lease passed. An error only when nothing was taken.
        let mut taken = Vec::new();
        let mut failed = None;
        for result in results {
            match result {
                Ok(alert) => taken.extend(alert),
                Err(e) => {
                    tracing::warn!(error = %e, "a claim could not be taken; the next sweep looks again");
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            Some(e) if taken.is_empty() => Err(e),
            _ => Ok(taken),
        }
    }

    async fn take_one(&self, pk: String, claimed_at: i64, token: &str, now: Timestamp) -> PortResult<Option<Alert>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .update_expression("SET ClaimToken = :t, ClaimedAt = :now, Pending = :p")
            .condition_expression("ClaimedAt = :seen AND attribute_not_exists(PublishedAt)")
            .expression_attribute_values(":t", s(token))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":p", s(spread(pending_value(token), &pk)))
            .expression_attribute_values(":seen", n(claimed_at))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => match out.attributes() {
                Some(item) => {
                    let alert = alert_from(item)?;
                    self.remember(&alert);
                    Ok(Some(alert))
                }
                None => Ok(None),
            },
            Err(e) if e.as_service_error().is_some_and(is_conditional) => Ok(None),
            Err(e) => Err(sdk_error(&self.what(), e)),
        }
    }
}

#[async_trait]
impl AlertClaims for DynamoLedger {
    async fn claim(&self, claims: &[AlertClaim], holder: &Holder, now: Timestamp) -> PortResult<Vec<ClaimOutcome>> {
        let token = &holder.stored();
        let mut outcomes = Vec::with_capacity(claims.len());
        for chunk in claims.chunks(claims::CLAIMS_PER_REQUEST) {
            outcomes.extend(self.claim_batch(chunk, token, now).await?);
        }
        Ok(outcomes)
    }

    async fn take_stale(&self, claimed_before: Timestamp, token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        // Claims still to be published, claimed before the lease began:
        // a sender's, or held for a window no sender took (a window's
        // until it may stay open no longer).
        let held_before = claimed_before
            .0
            .min(now.0 - stockwatch_core::ports::WINDOW_LONGEST.as_millis() as i64);
        let mut stale = self.pending_in(YES, claimed_before.0).await?;
        stale.extend(self.pending_in(HELD, held_before).await?);
        self.take(stale, token, now).await
    }

    async fn held(&self) -> PortResult<PendingClaims> {
        // In claim order: the index's range key.
        let held = self.pending_in(HELD, i64::MAX).await?;
        Ok(PendingClaims {
            count: held.len() as u64,
            oldest: held.first().map(|(_, at)| Timestamp(*at)),
            newest: held.last().map(|(_, at)| Timestamp(*at)),
        })
    }

    async fn take_held(&self, token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        let held = self.pending_in(HELD, i64::MAX).await?;
        self.take(held, token, now).await
    }

    async fn resolve(&self, restocks: &[Restock], now: Timestamp) -> PortResult<u64> {
        let mut newest: HashMap<(&str, &str, Option<AlertKind>), Timestamp> = HashMap::new();
        for r in restocks {
            let at = newest.entry((&r.store, &r.item, r.only)).or_insert(r.as_of);
            *at = (*at).max(r.as_of);
            // Only a restock is remembered (claims of older snapshots born resolved).
            if r.only.is_some() {
                continue;
            }
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(restock_key(&r.store, &r.item)))
                .update_expression("SET AsOf = :a, ChangeId = :c, ExpiresAt = :exp")
                .condition_expression("attribute_not_exists(AsOf) OR AsOf < :a")
                .expression_attribute_values(":a", n(r.as_of.0))
                .expression_attribute_values(":c", s(&r.change_id))
                .expression_attribute_values(":exp", n((now.0 + KEEP_RESTOCK_MS) / 1000))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some_and(is_conditional) => {}
                Err(e) => return Err(sdk_error(&self.what(), e)),
            }
        }
        let mut resolved = 0;
        for ((store, item, only), restocked) in newest {
            // The item's unresolved alerts raised by older snapshots.
            let mut older = Vec::new();
            self.query_index(
                "ByItem",
                "ItemKey = :k",
                vec![(":k", s(item_key(store, item)))],
                true,
                |found| {
                    let alert = alert_from(found)?;
                    if alert.state != AlertState::Resolved
                        && alert.as_of < restocked
                        && only.is_none_or(|kind| alert.kind == kind)
                    {
                        older.push(claim_key(&alert.transition));
                    }
                    Ok(true)
                },
            )
            .await?;
            for pk in older {
                if self.mark_resolved(&pk, now).await? {
                    resolved += 1;
                }
            }
        }
        Ok(resolved)
    }

    async fn due_reminders(&self, notified_before: Timestamp) -> PortResult<Vec<Alert>> {
        let parts = partitions(YES);
        let found = futures_util::future::try_join_all(parts.iter().map(|part| async move {
            let mut due = Vec::new();
            self.query_index(
                "Remind",
                "Remind = :yes AND PublishedAt <= :before",
                vec![(":yes", s(part)), (":before", n(notified_before.0))],
                false,
                |item| {
                    let alert = alert_from(item)?;
                    self.remember(&alert);
                    due.push(alert);
                    Ok(true)
                },
            )
            .await?;
            Ok::<_, PortError>(due)
        }))
        .await?;
        let mut due: Vec<Alert> = found.into_iter().flatten().collect();
        due.sort_by_key(|a| (a.published_at, a.id));
        Ok(due)
    }

    async fn claim_reminders(&self, due: &[Alert], token: &str, now: Timestamp) -> PortResult<Vec<Alert>> {
        // Store by store, in raise order, each store given up at its first
        // reminder another checker won: checkers racing through the same
        // list then split no store's reminder in two messages.
        let mut due: Vec<&Alert> = due.iter().collect();
        due.sort_by(|a, b| (&a.store, a.id).cmp(&(&b.store, b.id)));
        let mut won = Vec::new();
        let mut given_up: Option<&str> = None;
        for alert in due {
            let Some(seen) = alert.published_at else { continue };
            if given_up == Some(alert.store.as_str()) {
                continue;
            }
            let pk = claim_key(&alert.transition);
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .update_expression(
                    "SET ClaimToken = :t, ClaimedAt = :now, Pending = :yes, UpdatedAt = :now \
                     REMOVE PublishedAt ADD Reminders :one, Version :one",
                )
                .condition_expression("PublishedAt = :seen AND #st = :open")
                .expression_attribute_names("#st", "State")
                .expression_attribute_values(":t", s(token))
                .expression_attribute_values(":now", n(now.0))
                .expression_attribute_values(":yes", s(spread(YES, &pk)))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":seen", n(seen.0))
                .expression_attribute_values(":open", s("open"))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match result {
                Ok(out) => {
                    if let Some(item) = out.attributes() {
                        won.push(alert_from(item)?);
                    }
                }
                Err(e) if e.as_service_error().is_some_and(is_conditional) => {
                    // Claimed by another (rather than acknowledged meanwhile).
                    let now_is = self.alert_at(&pk).await?;
                    if now_is.state == AlertState::Open && now_is.reminders > alert.reminders {
                        given_up = Some(alert.store.as_str());
                    }
                }
                Err(e) => return Err(sdk_error(&self.what(), e)),
            }
        }
        Ok(won)
    }
}

#[async_trait]
impl Alerts for DynamoLedger {
    async fn acknowledge(&self, id: AlertId, ack: &Acknowledgement) -> PortResult<Alert> {
        let pk = self.key_of(id).await?;
        // One write: acknowledged, and a reminder claimed but not sent yet
        // cancelled with it (two writes let a crash between them send the
        // reminder after the acknowledgement). Which write depends on what
        // the alert holds; each is conditional on exactly that, so a
        // reminder claimed or sent meanwhile sends us round again.
        for _ in 0..5 {
            let alert = self.alert_at(&pk).await?;
            if let Err(e) = alert.can_acknowledge() {
                return Err(PortError::conflict(e.to_string()));
            }
            let pending = alert.reminders > 0 && alert.published_at.is_none();
            let mut set = "SET #st = :ack, AckBy = :by, AckAt = :at, UpdatedAt = :at".to_string();
            let mut remove = "REMOVE Remind".to_string();
            if ack.note.is_some() {
                set.push_str(", AckNote = :note");
            }
            let condition = if pending {
                set.push_str(", PublishedAt = :at");
                remove.push_str(", Pending");
                "#st = :open AND Reminders = :r AND attribute_not_exists(PublishedAt)"
            } else {
                "#st = :open AND (attribute_exists(PublishedAt) OR attribute_not_exists(Reminders) OR Reminders = :zero)"
            };
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .update_expression(format!("{set} {remove} ADD Version :one"))
                .condition_expression(condition)
                .expression_attribute_names("#st", "State")
                .expression_attribute_values(":ack", s("acknowledged"))
                .expression_attribute_values(":open", s("open"))
                .expression_attribute_values(":by", s(&ack.by))
                .expression_attribute_values(":at", n(ack.at.0))
                .expression_attribute_values(":one", n(1))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
            update = if pending {
                update.expression_attribute_values(":r", n(alert.reminders))
            } else {
                update.expression_attribute_values(":zero", n(0))
            };
            if let Some(note) = &ack.note {
                update = update.expression_attribute_values(":note", s(note));
            }
            match update.send().await {
                Ok(out) => {
                    let alert = match out.attributes() {
                        Some(item) => alert_from(item)?,
                        None => self.alert_at(&pk).await?,
                    };
                    self.remember(&alert);
                    return Ok(alert);
                }
                // Acknowledged elsewhere, or a reminder claimed or sent since the read.
                Err(e) if e.as_service_error().is_some_and(is_conditional) => continue,
                Err(e) => return Err(sdk_error(&self.what(), e)),
            }
        }
        Err(PortError::conflict(format!("alert {id} changed meanwhile; try again")))
    }

    async fn unacknowledge(&self, id: AlertId, at: Timestamp) -> PortResult<Alert> {
        let pk = self.key_of(id).await?;
        let item = self
            .get_item(&pk)
            .await?
            .ok_or_else(|| PortError::not_found(format!("the alert {pk} disappeared from {}", self.what())))?;
        let alert = alert_from(&item)?;
        alert
            .can_unacknowledge()
            .map_err(|e| PortError::conflict(e.to_string()))?;
        // Open again, and back in the reminders' index as a claim puts it
        // (an OUT alert to notify): the index holds it once it is sent
        // (`PublishedAt`), now or later.
        let notify = matches!(item.get("Notify"), Some(AttributeValue::Bool(true)));
        let remind = alert.kind == AlertKind::Out && notify;
        let set = if remind {
            "SET #st = :open, UpdatedAt = :at, Remind = :remind"
        } else {
            "SET #st = :open, UpdatedAt = :at"
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .update_expression(format!("{set} REMOVE AckBy, AckAt, AckNote ADD Version :one"))
            .condition_expression("#st = :ack")
            .expression_attribute_names("#st", "State")
            .expression_attribute_values(":open", s("open"))
            .expression_attribute_values(":ack", s("acknowledged"))
            .expression_attribute_values(":at", n(at.0))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if remind {
            update = update.expression_attribute_values(":remind", s(spread(YES, &pk)));
        }
        match update.send().await {
            Ok(out) => {
                let alert = match out.attributes() {
                    Some(item) => alert_from(item)?,
                    None => self.alert_at(&pk).await?,
                };
                self.remember(&alert);
                Ok(alert)
            }
            // Resolved (or taken back by someone else) since the read.
            Err(e) if e.as_service_error().is_some_and(is_conditional) => {
                let now = self.alert_at(&pk).await?;
                now.can_unacknowledge()
                    .map_err(|e| PortError::conflict(e.to_string()))?;
                Err(PortError::conflict(format!(
                    "alert {id} changed while its acknowledgement was taken back"
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
        let wanted = |a: &Alert| {
            a.id < before
                && (filter.include_resolved || a.state != AlertState::Resolved)
                && filter.source.as_ref().is_none_or(|s| &a.source == s)
                && filter.state.is_none_or(|s| a.state == s)
        };
        let mut alerts: Vec<Alert> = if filter.include_resolved || filter.state == Some(AlertState::Resolved) {
            // Resolved alerts are in no index: a one-off scan (`alerts --all`).
            self.scan_alerts().await?.into_iter().filter(|a| wanted(a)).collect()
        } else {
            // Unresolved alerts, newest first, one more than a page from
            // each part of the index (at once), merged newest first.
            let parts = partitions(YES);
            let found = futures_util::future::try_join_all(parts.iter().map(|part| async move {
                let mut found: Vec<Alert> = Vec::new();
                self.query_index_by(
                    "Live",
                    "Live = :yes AND AlertId < :before",
                    vec![(":yes", s(part)), (":before", n(before.0))],
                    true,
                    Some(limit + 1),
                    |item| {
                        let alert = alert_from(item)?;
                        self.remember(&alert);
                        if wanted(&alert) {
                            found.push(alert);
                        }
                        Ok(found.len() <= limit)
                    },
                )
                .await?;
                Ok::<_, PortError>(found)
            }))
            .await?;
            found.into_iter().flatten().collect()
        };
        alerts.sort_by_key(|a| std::cmp::Reverse(a.id));
        alerts.truncate(limit + 1);
        let more = alerts.len() > limit;
        alerts.truncate(limit);
        let next = if more {
            alerts.last().map(PageToken::after_alert)
        } else {
            None
        };
        Ok(Page { items: alerts, next })
    }

    async fn tip(&self) -> PortResult<LedgerCursor> {
        Ok(LedgerCursor(self.stream()?.tip_cursor().await?.0))
    }

    async fn changes_since(&self, cursor: Option<&LedgerCursor>, limit: usize) -> PortResult<LedgerPage> {
        let cursor = cursor.map(|c| FeedCursor(c.0.clone()));
        let (alerts, next, gap) = self
            .stream()?
            .read_with(cursor.as_ref(), limit, alert_of_record)
            .await?;
        for alert in &alerts {
            self.remember(alert);
        }
        Ok(LedgerPage {
            alerts,
            cursor: LedgerCursor(next.0),
            gap,
        })
    }
}

#[async_trait]
impl Snoozes for DynamoLedger {
    async fn snooze(&self, snooze: &Snooze) -> PortResult<()> {
        let snooze = snooze.clone();
        self.update_snoozes(move |all| {
            all.retain(|s| !(s.store == snooze.store && s.item == snooze.item));
            all.push(snooze.clone());
            true
        })
        .await
        .map(|_| ())
    }

    async fn unsnooze(&self, store: &str, item: Option<&str>) -> PortResult<bool> {
        let (store, item) = (store.to_string(), item.map(String::from));
        self.update_snoozes(move |all| {
            let before = all.len();
            all.retain(|s| !(s.store == store && s.item == item));
            all.len() < before
        })
        .await
    }

    async fn snoozes(&self, now: Timestamp) -> PortResult<Vec<Snooze>> {
        let (all, _) = self.stored_snoozes().await?;
        Ok(all.into_iter().filter(|s| s.until > now).collect())
    }
}

/// The ledger item holding every snooze: a handful, read with one GetItem.
const SNOOZES_KEY: &str = "config#snoozes";

impl DynamoLedger {
    async fn stored_snoozes(&self) -> PortResult<(Vec<Snooze>, u64)> {
        let Some(item) = self.get_item(SNOOZES_KEY).await? else {
            return Ok((Vec::new(), 0));
        };
        let all = opt_s(&item, "Snoozes")
            .map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(|_| PortError::Permanent("the ledger's snoozes are damaged".into()))?
            .unwrap_or_default();
        Ok((all, opt_n(&item, "Version").unwrap_or(0)))
    }

    /// Changes the snoozes with `change` (which says whether it changed
    /// anything), dropping ended ones; conditional on the version read, so
    /// two people snoozing at once both count.
    async fn update_snoozes(&self, change: impl Fn(&mut Vec<Snooze>) -> bool) -> PortResult<bool> {
        for _ in 0..5 {
            let (mut all, version) = self.stored_snoozes().await?;
            let now = Timestamp::now();
            all.retain(|s| s.until > now);
            let changed = change(&mut all);
            let json = serde_json::to_string(&all).map_err(|e| PortError::permanent(e.to_string()))?;
            // An update, as acknowledging is: operators may update ledger
            // items, never put whole ones (deploy/template.yaml).
            let mut put = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(SNOOZES_KEY))
                .update_expression("SET Snoozes = :snoozes, Version = :next")
                .expression_attribute_values(":snoozes", s(json))
                .expression_attribute_values(":next", n(version + 1));
            put = if version == 0 {
                put.condition_expression("attribute_not_exists(pk)")
            } else {
                put.condition_expression("Version = :v")
                    .expression_attribute_values(":v", n(version))
            };
            match put.send().await {
                Ok(_) => return Ok(changed),
                Err(e) if e.as_service_error().is_some_and(is_conditional) => continue,
                Err(e) => return Err(sdk_error(&self.what(), e)),
            }
        }
        Err(PortError::Transient(
            "the snoozes keep changing under other writers; try again".into(),
        ))
    }
}
