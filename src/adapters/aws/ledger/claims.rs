//! Claims in batches: a hundred transitions cost a handful of requests, not
//! six each. One BatchGetItem finds the claims that exist already and the
//! items' restock markers; one atomic ADD reserves the new alerts' ids; one
//! TransactWriteItems puts them, each conditional on its key being free, so
//! a racer's claim makes the transaction say which put lost (those are
//! read: another's, or ours from an attempt whose answer was lost) and the
//! rest go again. A restock recorded meanwhile is looked for once more
//! after, as the single claim did.

use super::super::attrs::{Item, n, opt_n, opt_s, s};
use super::super::errors::{from_code, sdk_error, server_failed};
use super::{DynamoLedger, YES, alert_from, claim_key, item_key, pending_value, restock_key};
use crate::domain::{AlertKind, Timestamp};
use crate::ports::{AlertClaim, ClaimOutcome, PortError, PortResult};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, ReturnValue, TransactWriteItem};
use std::collections::HashMap;

/// TransactWriteItems' and BatchGetItem's limit.
pub const CLAIMS_PER_REQUEST: usize = 100;

/// Resolved alerts stay visible this long (as `super::KEEP_RESOLVED_MS`).
fn expires(now: Timestamp) -> AttributeValue {
    n((now.0 + super::KEEP_RESOLVED_MS) / 1000)
}

impl DynamoLedger {
    /// Claims up to `CLAIMS_PER_REQUEST` transitions.
    pub(super) async fn claim_batch(
        &self,
        chunk: &[AlertClaim],
        token: &str,
        now: Timestamp,
    ) -> PortResult<Vec<ClaimOutcome>> {
        let keys: Vec<String> = chunk.iter().map(|c| claim_key(&c.transition())).collect();
        let mut wanted: Vec<String> = keys.clone();
        wanted.extend(chunk.iter().map(|c| restock_key(&c.store, &c.item)));
        let found = self.get_many(&wanted).await?;
        let restocked = |c: &AlertClaim, found: &HashMap<String, Item>| {
            found
                .get(&restock_key(&c.store, &c.item))
                .and_then(|r| opt_n::<i64>(r, "AsOf"))
                .is_some_and(|at| at > c.as_of.0)
        };
        let mut outcomes: Vec<Option<ClaimOutcome>> = vec![None; chunk.len()];
        // The first of each new transition is put; a repeat in the chunk
        // shares its outcome.
        let mut first_of: HashMap<&str, usize> = HashMap::new();
        let mut repeats = Vec::new();
        let mut new = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if let Some(existing) = found.get(key) {
                outcomes[i] = Some(self.outcome_of(existing, token)?);
            } else if let Some(&first) = first_of.get(key.as_str()) {
                repeats.push((i, first));
            } else {
                first_of.insert(key, i);
                new.push(i);
            }
        }
        if !new.is_empty() {
            let last = self.reserve_ids(new.len() as u64).await?;
            let first_id = last + 1 - new.len() as u64;
            let mut items: Vec<(usize, Item)> = new
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let c = &chunk[i];
                    (i, claim_item(c, first_id + k as u64, token, now, restocked(c, &found)))
                })
                .collect();
            while !items.is_empty() {
                items = self.put_claims(items, token, &mut outcomes).await?;
            }
            // A restock recorded while we claimed: its resolver may have
            // looked before our alerts existed, so look again now they do.
            let open: Vec<usize> = new
                .iter()
                .copied()
                .filter(|&i| matches!(&outcomes[i], Some(ClaimOutcome::Won(a)) if a.resolved_at.is_none()))
                .collect();
            if !open.is_empty() {
                let markers: Vec<String> = open
                    .iter()
                    .map(|&i| restock_key(&chunk[i].store, &chunk[i].item))
                    .collect();
                let now_found = self.get_many(&markers).await?;
                for i in open {
                    if restocked(&chunk[i], &now_found) {
                        let pk = &keys[i];
                        self.mark_resolved(pk, now).await?;
                        outcomes[i] = Some(ClaimOutcome::Won(self.alert_at(pk).await?));
                    }
                }
            }
        }
        for (i, first) in repeats {
            outcomes[i] = outcomes[first].clone();
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every claim has an outcome"))
            .collect())
    }

    /// Won when the claim is `token`'s (ours, from an attempt whose answer
    /// was lost), else lost to whoever holds it.
    fn outcome_of(&self, existing: &Item, token: &str) -> PortResult<ClaimOutcome> {
        let alert = alert_from(existing)?;
        self.remember(&alert);
        Ok(if opt_s(existing, "ClaimToken").as_deref() == Some(token) {
            ClaimOutcome::Won(alert)
        } else {
            ClaimOutcome::Lost(alert)
        })
    }

    /// Puts the claims in one transaction. Returns those to put again: none
    /// when it went through; after a cancellation, the ones that were only
    /// rolled back with a put that lost its race (read and settled here).
    async fn put_claims(
        &self,
        items: Vec<(usize, Item)>,
        token: &str,
        outcomes: &mut [Option<ClaimOutcome>],
    ) -> PortResult<Vec<(usize, Item)>> {
        let puts = items
            .iter()
            .map(|(_, item)| {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item.clone()))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(|e| PortError::Permanent(e.to_string()))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect::<PortResult<Vec<_>>>()?;
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(puts))
            .send()
            .await;
        let error = match sent {
            Ok(_) => {
                for (i, item) in items {
                    let alert = alert_from(&item)?;
                    self.remember(&alert);
                    outcomes[i] = Some(ClaimOutcome::Won(alert));
                }
                return Ok(Vec::new());
            }
            Err(e) => e,
        };
        // A timeout or a dropped connection: the caller's retry reads what landed.
        if !matches!(error, aws_sdk_dynamodb::error::SdkError::ServiceError(_)) {
            return Err(sdk_error(&self.what(), error));
        }
        let server = server_failed(&error);
        match error.into_service_error() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                let reasons = cancelled.cancellation_reasons();
                let mut again = Vec::new();
                let mut lost_any = false;
                for (k, (i, item)) in items.into_iter().enumerate() {
                    if reasons.get(k).and_then(|r| r.code()) != Some("ConditionalCheckFailed") {
                        again.push((i, item));
                        continue;
                    }
                    lost_any = true;
                    let pk = opt_s(&item, "pk").unwrap_or_default();
                    let existing = self.get_item(&pk).await?.ok_or_else(|| {
                        PortError::NotFound(format!("the alert {pk} disappeared from {}", self.what()))
                    })?;
                    outcomes[i] = Some(self.outcome_of(&existing, token)?);
                }
                if lost_any {
                    return Ok(again);
                }
                let said: Vec<&str> = reasons.iter().filter_map(|r| r.code()).collect();
                Err(PortError::Transient(format!(
                    "{} cancelled the claims ({})",
                    self.what(),
                    said.join(", ")
                )))
            }
            other if server && other.code().is_none() => Err(PortError::Transient(format!(
                "{} failed on its side (HTTP 5xx); trying again may work",
                self.what()
            ))),
            other => Err(from_code(&self.what(), other.code(), &other.to_string())),
        }
    }

    /// The next `count` alert ids, reserved at once; returns the last.
    async fn reserve_ids(&self, count: u64) -> PortResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s("counter#alert"))
            .update_expression("ADD #n :count")
            .expression_attribute_names("#n", "Next")
            .expression_attribute_values(":count", n(count))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error(&self.what(), e))?;
        out.attributes()
            .and_then(|a| opt_n(a, "Next"))
            .ok_or_else(|| PortError::Permanent("the alert counter has no value".into()))
    }

    /// The items under `keys` that exist (consistent reads, a hundred keys
    /// a request, unprocessed keys asked for again).
    pub(super) async fn get_many(&self, keys: &[String]) -> PortResult<HashMap<String, Item>> {
        let mut unique: Vec<&String> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut found = HashMap::new();
        for chunk in unique.chunks(CLAIMS_PER_REQUEST) {
            let mut request = KeysAndAttributes::builder().consistent_read(true);
            for key in chunk {
                request = request.keys(HashMap::from([("pk".to_string(), s(key.as_str()))]));
            }
            let mut pending = Some(request.build().map_err(|e| PortError::Permanent(e.to_string()))?);
            let mut rounds = 0;
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&self.what(), e))?;
                for item in out.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                    if let Some(pk) = opt_s(item, "pk") {
                        found.insert(pk, item.clone());
                    }
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
                rounds += 1;
                if pending.is_some() {
                    if rounds >= 8 {
                        return Err(PortError::Transient(format!("{} kept deferring reads", self.what())));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50 << rounds.min(5))).await;
                }
            }
        }
        Ok(found)
    }
}

/// The ledger item of a new claim: the alert, its claim, and its places
/// in the indexes (`Pending` to be sent, `Live` unresolved, `Remind` for
/// reminders).
fn claim_item(c: &AlertClaim, id: u64, token: &str, now: Timestamp, resolved: bool) -> Item {
    let mut item: Item = HashMap::from([
        ("pk".to_string(), s(claim_key(&c.transition()))),
        ("AlertId".into(), n(id)),
        ("ChangeId".into(), s(&c.change_id)),
        ("Kind".into(), s(c.kind.as_str())),
        ("Store".into(), s(&c.store)),
        ("Item".into(), s(&c.item)),
        ("Count".into(), n(c.count)),
        ("Threshold".into(), n(c.threshold)),
        ("AsOf".into(), n(c.as_of.0)),
        ("Source".into(), s(&c.source)),
        ("RaisedAt".into(), n(now.0)),
        ("State".into(), s(if resolved { "resolved" } else { "open" })),
        ("Notify".into(), AttributeValue::Bool(c.notify)),
        ("ClaimToken".into(), s(token)),
        ("ClaimedAt".into(), n(now.0)),
        ("UpdatedAt".into(), n(Timestamp::now().0)),
        ("Version".into(), n(1)),
        ("ItemKey".into(), s(item_key(&c.store, &c.item))),
    ]);
    if c.notify {
        item.insert("Pending".into(), s(pending_value(token)));
    }
    if resolved {
        item.insert("ResolvedAt".into(), n(now.0));
        item.insert("ExpiresAt".into(), expires(now));
    } else {
        item.insert("Live".into(), s(YES));
        if c.notify && c.kind == AlertKind::Out {
            item.insert("Remind".into(), s(YES));
        }
    }
    item
}

impl DynamoLedger {
    /// Restarts the lease of every claim in `ids` that `token` holds, a
    /// hundred per transaction: `false` (and for that hundred, nothing
    /// renewed) when any is no longer the caller's.
    pub async fn renew_many(&self, ids: &[crate::domain::AlertId], token: &str, now: Timestamp) -> PortResult<bool> {
        for chunk in ids.chunks(CLAIMS_PER_REQUEST) {
            let updates = self
                .held_updates(chunk, token, "SET ClaimedAt = :now", n(now.0))
                .await?;
            match self.transact(updates).await? {
                Transacted::Done => {}
                Transacted::NotHeld => return Ok(false),
            }
        }
        Ok(true)
    }

    /// Marks every claim in `ids` published, a hundred per transaction; if
    /// one was taken over meanwhile, the others are marked one by one.
    pub async fn mark_many(&self, ids: &[crate::domain::AlertId], token: &str, at: Timestamp) -> PortResult<()> {
        let update = "SET PublishedAt = :now, UpdatedAt = :now REMOVE Pending ADD Version :one";
        for chunk in ids.chunks(CLAIMS_PER_REQUEST) {
            let updates = self.held_updates(chunk, token, update, n(at.0)).await?;
            if let Transacted::NotHeld = self.transact(updates).await? {
                for id in chunk {
                    match self.mark_published(*id, token, at).await {
                        Ok(()) => {}
                        Err(PortError::Conflict(reason)) => {
                            tracing::warn!(alert = %id, reason, "claim taken over while publishing")
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// Updates of claims `token` holds (its token, not yet published).
    async fn held_updates(
        &self,
        ids: &[crate::domain::AlertId],
        token: &str,
        update: &str,
        now: AttributeValue,
    ) -> PortResult<Vec<TransactWriteItem>> {
        let mut updates = Vec::with_capacity(ids.len());
        for id in ids {
            let pk = self.key_of(*id).await?;
            let mut values = HashMap::from([(":t".to_string(), s(token)), (":now".to_string(), now.clone())]);
            if update.contains(":one") {
                values.insert(":one".into(), n(1));
            }
            let item = aws_sdk_dynamodb::types::Update::builder()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .update_expression(update)
                .condition_expression("ClaimToken = :t AND attribute_not_exists(PublishedAt)")
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(|e| PortError::Permanent(e.to_string()))?;
            updates.push(TransactWriteItem::builder().update(item).build());
        }
        Ok(updates)
    }

    /// Runs one transaction of conditional writes: done, or refused because
    /// a condition failed; anything else is an error (transient if so).
    async fn transact(&self, items: Vec<TransactWriteItem>) -> PortResult<Transacted> {
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let error = match sent {
            Ok(_) => return Ok(Transacted::Done),
            Err(e) => e,
        };
        if !matches!(error, aws_sdk_dynamodb::error::SdkError::ServiceError(_)) {
            return Err(sdk_error(&self.what(), error));
        }
        let server = server_failed(&error);
        match error.into_service_error() {
            TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                let reasons: Vec<&str> = cancelled
                    .cancellation_reasons()
                    .iter()
                    .filter_map(|r| r.code())
                    .collect();
                if reasons.contains(&"ConditionalCheckFailed") {
                    Ok(Transacted::NotHeld)
                } else {
                    Err(PortError::Transient(format!(
                        "{} cancelled the update ({})",
                        self.what(),
                        reasons.join(", ")
                    )))
                }
            }
            other if server && other.code().is_none() => Err(PortError::Transient(format!(
                "{} failed on its side (HTTP 5xx); trying again may work",
                self.what()
            ))),
            other => Err(from_code(&self.what(), other.code(), &other.to_string())),
        }
    }
}

/// What became of a transaction of conditional writes.
enum Transacted {
    Done,
    /// A condition failed: some claim is no longer the caller's.
    NotHeld,
}
