//! Claims in batches: a hundred transitions cost a hundred and four
//! requests, not six hundred. One BatchGetItem finds the claims that exist
//! already and the items' restock markers; one atomic ADD reserves the new
//! alerts' ids; each new claim is one PutItem conditional on its key being
//! free (a refused one is read: another's, or ours from an attempt whose
//! answer was lost); one read looks again for restocks recorded meanwhile.

use super::super::attrs::{Item, n, opt_n, opt_s, s};
use super::super::errors::sdk_error;
use super::{DynamoLedger, YES, alert_from, claim_key, item_key, pending_value, restock_key, spread};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use futures_util::{StreamExt, stream};
use std::collections::HashMap;
use stockwatch_core::ports::{AlertClaim, ClaimOutcome, PortError, PortResult};
use stockwatch_domain::{AlertKind, Timestamp};

/// Conditional writes in flight at once (claims, renewals, marks): each
/// waits a network round trip.
pub(super) const IN_FLIGHT: usize = 16;

/// BatchGetItem's limit, and a claim call's batch.
pub const CLAIMS_PER_REQUEST: usize = 100;

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
            let items: Vec<(usize, Item)> = new
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let c = &chunk[i];
                    (i, claim_item(c, first_id + k as u64, token, now, restocked(c, &found)))
                })
                .collect();
            self.put_claims(items, token, &mut outcomes).await?;
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

    /// Puts each claim, conditional on its key being free. One request a
    /// claim: a transaction would take them all in one, but moto (which
    /// the tests run on) neither serializes concurrent transactions nor
    /// makes them cheap, and a claim must be won once whoever races. A lost
    /// race is read and settled here.
    async fn put_claims(
        &self,
        items: Vec<(usize, Item)>,
        token: &str,
        outcomes: &mut [Option<ClaimOutcome>],
    ) -> PortResult<()> {
        // Each put waits a round trip: several in flight at once.
        let settled: Vec<PortResult<(usize, ClaimOutcome)>> = stream::iter(items)
            .map(|(i, item)| async move { Ok((i, self.put_claim(item, token).await?)) })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        for result in settled {
            let (i, outcome) = result?;
            outcomes[i] = Some(outcome);
        }
        Ok(())
    }

    async fn put_claim(&self, item: Item, token: &str) -> PortResult<ClaimOutcome> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => {
                let alert = alert_from(&item)?;
                self.remember(&alert);
                Ok(ClaimOutcome::Won(alert))
            }
            Err(e) if e.as_service_error().is_some_and(super::is_conditional) => {
                // Someone claimed it first, unless that someone is us: an
                // earlier attempt whose answer was lost landed meanwhile.
                let pk = opt_s(&item, "pk").unwrap_or_default();
                let existing = self
                    .get_item(&pk)
                    .await?
                    .ok_or_else(|| PortError::not_found(format!("the alert {pk} disappeared from {}", self.what())))?;
                self.outcome_of(&existing, token)
            }
            Err(e) => Err(sdk_error(&self.what(), e)),
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
            let mut pending = Some(request.build().map_err(|e| PortError::permanent(e.to_string()))?);
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
                        return Err(PortError::transient(format!("{} kept deferring reads", self.what())));
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
    let pk = claim_key(&c.transition());
    let mut item: Item = HashMap::from([
        ("pk".to_string(), s(&pk)),
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
        // Born resolved (restocked by a later snapshot already): not told.
        ("Notify".into(), AttributeValue::Bool(c.notify && !resolved)),
        ("ClaimToken".into(), s(token)),
        ("ClaimedAt".into(), n(now.0)),
        ("UpdatedAt".into(), n(Timestamp::now().0)),
        ("Version".into(), n(1)),
        ("ItemKey".into(), s(item_key(&c.store, &c.item))),
    ]);
    if c.notify && !resolved {
        item.insert("Pending".into(), s(spread(pending_value(token), &pk)));
    }
    if resolved {
        item.insert("ResolvedAt".into(), n(now.0));
        item.insert("ExpiresAt".into(), super::resolved_expiry(now));
    } else {
        item.insert("Live".into(), s(spread(YES, &pk)));
        if c.notify && c.kind == AlertKind::Out {
            item.insert("Remind".into(), s(spread(YES, &pk)));
        }
    }
    item
}

impl DynamoLedger {
    /// Restarts the lease of every claim in `ids` that `token` holds:
    /// `false` when any is no longer the caller's (the others are renewed
    /// all the same, harmlessly). One conditional update each, sixteen in
    /// flight (see `put_claims` on why not a transaction).
    pub async fn renew_many(
        &self,
        ids: &[stockwatch_domain::AlertId],
        token: &str,
        now: Timestamp,
    ) -> PortResult<bool> {
        let renewed: Vec<PortResult<bool>> = stream::iter(ids.to_vec())
            .map(|id| self.renew(id, token, now))
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let mut all = true;
        for result in renewed {
            all &= result?;
        }
        Ok(all)
    }

    /// Marks every claim in `ids` published; one taken over meanwhile is
    /// said and left to its new holder.
    pub async fn mark_many(&self, ids: &[stockwatch_domain::AlertId], token: &str, at: Timestamp) -> PortResult<()> {
        let marked: Vec<(stockwatch_domain::AlertId, PortResult<()>)> = stream::iter(ids.to_vec())
            .map(|id| async move { (id, self.mark_published(id, token, at).await) })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        for (id, result) in marked {
            match result {
                Ok(()) => {}
                Err(PortError::Conflict(reason)) => {
                    tracing::warn!(alert = %id, reason = %reason, "claim taken over while publishing")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
