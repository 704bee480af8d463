//! check-stock: for a batch of the table's stream records, the checker the
//! CLI runs decides each transition, claims it in the ledger and publishes
//! once; the records that failed go back as `batchItemFailures`.
//!
//! Once per transition, however often a batch comes: claims are keyed by
//! the record's eventID, the same id the console's tail uses, so a retried
//! batch (or a console checking too) claims nothing twice.
//!
//! Two kinds of failure. A record that cannot be read (no Store or Item key,
//! a new image without a numeric Count) is reported alone: no retry can
//! change it, so it must not hold anything else back, and after Lambda's
//! retries its position goes to the failure queue. When the ledger cannot be
//! reached after the checker's own retries, every readable record of the
//! batch is reported, and Lambda retries them in order. A notification SNS
//! refused is not a record failure: its claim stays unpublished and the
//! sweep (each invocation, and the scheduled one) sends it after the lease.
//!
//! One file reaches the function as many batches, so with a grouping
//! window (`STOCKWATCH_GROUP_WAIT`, default 30 s) a batch's alerts are
//! claimed and held; a sweep sends them all together once no new alert
//! came for the window: one message per store for the whole file.

use super::failures::FailureQueue;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use std::sync::Arc;
use stockwatch_aws::attrs::Item;
use stockwatch_aws::feed::{StreamFeed, strict_change};
use stockwatch_aws::ledger::alert_of_item;
use stockwatch_core::pipeline::{CheckReport, Checker};
use stockwatch_core::ports::{Change, ChangeKind, Event as FanoutEvent, Fanout, PortError, PortResult};
use stockwatch_domain::{Timestamp, escape_for_terminal};
#[derive(Debug, thiserror::Error)]
pub enum CheckFailed {
    /// A failed record cannot be named: Lambda must retry the whole batch.
    #[error("record {0} failed and has no sequence number to report; the whole batch is retried")]
    Unnamed(String),
    /// A stream batch that does not read as one (another format).
    #[error("a stream batch could not be read ({0}); Lambda retries it")]
    UnreadableBatch(String),
}

impl CheckFailed {
    /// The `errorType` Lambda reports.
    pub fn kind(&self) -> &'static str {
        match self {
            CheckFailed::Unnamed(_) => "UnnamedRecordFailed",
            CheckFailed::UnreadableBatch(_) => "UnreadableBatch",
        }
    }
}

/// The function: its checker, and for its scheduled sweep the stream (to
/// read again what the trigger gave up on) and its failure queue; and when
/// the stack has a fan-out topic, that topic and the ledger table's name:
/// it publishes every change it checks, and the ledger's stream (its
/// second trigger) as alert states, for every console's queue.
pub struct CheckStock {
    pub checker: Checker,
    pub feed: Option<StreamFeed>,
    pub failures: Option<FailureQueue>,
    pub fanout: Option<(Arc<dyn Fanout>, String)>,
}

impl CheckStock {
    /// Just the checker: stream batches, and sweeps of stopped claims.
    pub fn new(checker: Checker) -> CheckStock {
        CheckStock {
            checker,
            feed: None,
            failures: None,
            fanout: None,
        }
    }

    /// It also publishes the fan-out feed: changes, and the alert states
    /// the ledger's stream (from the table `ledger_table`) brings.
    pub fn publishing(mut self, fanout: Arc<dyn Fanout>, ledger_table: String) -> CheckStock {
        self.fanout = Some((fanout, ledger_table));
        self
    }

    /// Its sweep also finishes what the trigger gave up on, from `failures`.
    pub fn with_failures(mut self, feed: StreamFeed, failures: FailureQueue) -> CheckStock {
        self.feed = Some(feed);
        self.failures = Some(failures);
        self
    }
}

/// The function's one entry: a stream batch, or the scheduled sweep that
/// sends claims whose publisher stopped and raises what the trigger gave up
/// on (EventBridge `Scheduled Event`).
pub async fn handle_any(function: &CheckStock, payload: serde_json::Value) -> Result<serde_json::Value, CheckFailed> {
    let checker = &function.checker;
    let source = payload
        .pointer("/Records/0/eventSource")
        .and_then(|s| s.as_str())
        .unwrap_or("aws:dynamodb");
    if source != "aws:dynamodb" {
        // Records of another service (SQS, S3): no retry makes them a batch.
        return Ok(super::dropped(&payload, &format!("records from {source}")));
    }
    if payload.get("Records").is_some() {
        // A stream batch this build cannot read fails (retried, then kept in
        // the failure queue for the sweep), never dropped.
        let event: Event = serde_json::from_value(payload).map_err(|e| CheckFailed::UnreadableBatch(e.to_string()))?;
        // The ledger's stream is the function's second trigger: its
        // records are alert states to relay, not changes to check.
        let from_ledger = function.fanout.as_ref().is_some_and(|(_, ledger)| {
            let marker = format!(":table/{ledger}/stream/");
            event
                .records
                .first()
                .and_then(|r| r.event_source_arn.as_deref())
                .is_some_and(|arn| arn.contains(&marker))
        });
        let fanout = function.fanout.as_ref().map(|(f, _)| f.as_ref());
        let response = match fanout {
            Some(fanout) if from_ledger => relay_alerts(fanout, &event).await?,
            _ => handle_publishing(checker, fanout, event).await?,
        };
        return Ok(serde_json::to_value(response).unwrap_or_default());
    }
    if payload.get("detail-type").and_then(|v| v.as_str()) == Some("Scheduled Event") {
        // Followers go through the fan-out feed while its publisher beats.
        if let Some((fanout, _)) = &function.fanout
            && let Err(e) = fanout.beat().await
        {
            tracing::warn!(error = %e, "could not say the fan-out feed is alive");
        }
        let mut published = sweep(checker, true).await;
        let recovered = recover(function).await;
        published += recovered.published;
        return Ok(serde_json::json!({
            "published": published,
            "recovered_batches": recovered.batches,
            "raised": recovered.raised,
        }));
    }
    // Sent here by mistake: no retry can make it a batch or a sweep.
    Ok(super::dropped(&payload, "not a stream batch"))
}

/// What a sweep did with the batches the trigger gave up on.
#[derive(Debug, Default)]
struct Recovered {
    batches: u64,
    raised: u64,
    published: u64,
}

/// Raises what the stream batches the trigger gave up on (after its
/// retries) would have raised: their records are read again from the
/// stream, or, when the stream no longer keeps them, the table is read for
/// what is out or low without an alert. Claims keyed by transition make
/// either path raise nothing twice. A batch that fails again stays queued.
async fn recover(function: &CheckStock) -> Recovered {
    let mut done = Recovered::default();
    let (Some(feed), Some(failures)) = (&function.feed, &function.failures) else {
        return done;
    };
    let waiting = match failures.waiting().await {
        Ok(waiting) => waiting,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the failure queue; the next sweep will");
            return done;
        }
    };
    // Batches whose records are no longer kept: the table is read once for
    // all of them, after the others (a Scan per batch was up to 50 a minute).
    let mut unkept = Vec::new();
    for given_up in waiting {
        let Some(batch) = given_up.body.get("DDBStreamBatchInfo") else {
            // No sweep could ever finish it: said once, and taken away.
            tracing::error!(record = %given_up.body, "a failure record that is not a stream batch; dropped");
            if let Err(e) = failures.done(&given_up).await {
                tracing::warn!(error = %e, "could not delete a failure record no sweep can finish");
            }
            continue;
        };
        let field = |name: &str| batch.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let (arn, shard, first, last) = (
            field("streamArn"),
            field("shardId"),
            field("startSequenceNumber"),
            field("endSequenceNumber"),
        );
        let raised = async {
            let mut report = CheckReport::default();
            match feed.read_range(&arn, &shard, &first, &last).await? {
                Some(changes) => function.checker.process(&changes, &mut report).await?,
                None => return Ok(None),
            }
            Ok::<_, PortError>(Some(report))
        };
        match raised.await {
            Ok(Some(report)) => {
                tracing::warn!(
                    shard,
                    first,
                    last,
                    raised = report.raised_total(),
                    published = report.published,
                    "raised what a stream batch the trigger gave up on would have raised"
                );
                done.add(&report);
                if let Err(e) = failures.done(&given_up).await {
                    tracing::warn!(error = %e, "could not delete a recovered failure record; the next sweep finds it done");
                }
            }
            Ok(None) => {
                tracing::warn!(
                    shard,
                    first,
                    last,
                    "the records given up on are no longer kept; the table is read"
                );
                unkept.push(given_up);
            }
            Err(e) => {
                tracing::error!(shard, first, last, error = %super::explain(&e), "recovering a batch failed; the next sweep tries again")
            }
        }
    }
    if unkept.is_empty() {
        return done;
    }
    match function.checker.reconcile_now().await {
        Ok(report) => {
            tracing::warn!(
                batches = unkept.len(),
                raised = report.raised_total(),
                "read the table for what batches no longer kept would have raised"
            );
            done.add(&report);
            done.batches += unkept.len() as u64 - 1;
            for given_up in &unkept {
                if let Err(e) = failures.done(given_up).await {
                    tracing::warn!(error = %e, "could not delete a recovered failure record; the next sweep finds it done");
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %super::explain(&e), "reading the table failed; the next sweep tries again")
        }
    }
    done
}

impl Recovered {
    /// One more batch done, and what it raised and sent.
    fn add(&mut self, report: &CheckReport) {
        self.batches += 1;
        self.raised += report.raised_total();
        self.published += report.published;
    }
}

/// Sends the grouping window once it closed (and so any claim whose
/// publisher stopped) and due reminders; a failure here never fails a
/// batch. The schedule always looks; a batch at most every third of the
/// window (quarter lease without one).
async fn sweep(checker: &Checker, scheduled: bool) -> u64 {
    let swept = if scheduled {
        checker.sweep_now().await
    } else {
        checker.sweep().await
    };
    match swept {
        Ok(report) => {
            if report.published > 0 {
                tracing::info!(
                    published = report.published,
                    reminded = report.reminded,
                    "sent what the grouping window held, claims whose publisher had stopped, and reminders"
                );
            }
            report.published
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not look for unpublished claims; the next sweep will");
            0
        }
    }
}

/// Checks one batch; reports the sequence numbers of the records that failed.
pub async fn handle(checker: &Checker, event: Event) -> Result<DynamoDbEventResponse, CheckFailed> {
    handle_publishing(checker, None, event).await
}

/// Publishes the alert states of a batch of the ledger's stream to the
/// fan-out feed; if publishing fails, the whole batch is retried (a copy
/// twice changes nothing for a follower).
async fn relay_alerts(fanout: &dyn Fanout, event: &Event) -> Result<DynamoDbEventResponse, CheckFailed> {
    let mut events = Vec::new();
    for record in &event.records {
        if record.change.new_image.is_empty() {
            continue; // expired by TTL: nothing for a follower
        }
        match alert_of_item(&to_item(&record.change.new_image)) {
            Ok(Some(alert)) => events.push(FanoutEvent::Alert(alert)),
            Ok(None) => {}
            Err(e) => tracing::warn!(event_id = %record.event_id, error = %e, "an unreadable alert; not relayed"),
        }
    }
    if events.is_empty() {
        return Ok(DynamoDbEventResponse::default());
    }
    match fanout.publish(&events).await {
        Ok(()) => {
            tracing::info!(alerts = events.len(), "alert states relayed");
            Ok(DynamoDbEventResponse::default())
        }
        Err(e) => {
            tracing::error!(error = %e, "could not publish to the fan-out topic; Lambda retries the batch");
            failures_of(&event.records, &vec![true; event.records.len()])
        }
    }
}

/// The sequence numbers of the failed records, as Lambda wants them.
fn failures_of(records: &[EventRecord], failed: &[bool]) -> Result<DynamoDbEventResponse, CheckFailed> {
    let mut response = DynamoDbEventResponse::default();
    for (record, _) in records.iter().zip(failed).filter(|(_, failed)| **failed) {
        let sequence = record.change.sequence_number.clone().filter(|s| !s.is_empty());
        let Some(sequence) = sequence else {
            return Err(CheckFailed::Unnamed(escape_for_terminal(&record.event_id).into_owned()));
        };
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(sequence);
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

/// Checks one batch, and publishes its changes to the fan-out feed first
/// when there is one; reports the records that failed.
async fn handle_publishing(
    checker: &Checker,
    fanout: Option<&dyn Fanout>,
    event: Event,
) -> Result<DynamoDbEventResponse, CheckFailed> {
    sweep(checker, false).await;
    let records = &event.records;
    let mut failed = vec![false; records.len()];
    let mut changes = Vec::new();
    let mut readable = Vec::new();
    for (i, record) in records.iter().enumerate() {
        match to_change(record) {
            Ok(change) => {
                changes.push(change);
                readable.push(i);
            }
            Err(e) => {
                tracing::error!(event_id = %record.event_id, error = %e, "unreadable stream record");
                failed[i] = true;
            }
        }
    }
    if let Some(fanout) = fanout
        && !changes.is_empty()
    {
        let events: Vec<FanoutEvent> = changes.iter().cloned().map(FanoutEvent::Change).collect();
        if let Err(e) = fanout.publish(&events).await {
            tracing::error!(error = %e, "could not publish to the fan-out topic; Lambda retries the batch");
            for &i in &readable {
                failed[i] = true;
            }
        }
    }
    // One call for the batch, as the console's checker does: one ledger
    // resolve and one round of claims, in stream order.
    let mut report = CheckReport::default();
    if let Err(e) = checker.process(&changes, &mut report).await {
        let error = super::explain(&e);
        tracing::error!(
            error,
            records = readable.len(),
            "the ledger failed; Lambda retries the batch"
        );
        for i in readable {
            failed[i] = true;
        }
    }
    let response = failures_of(records, &failed)?;
    tracing::info!(
        records = records.len(),
        raised = report.raised_total(),
        published = report.published,
        resolved = report.resolved,
        failed = response.batch_item_failures.len(),
        "batch checked"
    );
    Ok(response)
}

/// A stream record as the checker's `Change`, read strictly.
pub fn to_change(record: &EventRecord) -> PortResult<Change> {
    let data = &record.change;
    let kind = match record.event_name.as_str() {
        "INSERT" => ChangeKind::Insert,
        "MODIFY" => ChangeKind::Modify,
        "REMOVE" => ChangeKind::Remove,
        other => {
            return Err(PortError::permanent(format!(
                "unknown stream event `{}`",
                escape_for_terminal(other)
            )));
        }
    };
    let id = Some(record.event_id.clone())
        .filter(|id| !id.is_empty())
        .or_else(|| data.sequence_number.clone())
        .ok_or_else(|| PortError::Permanent("a stream record has neither an event id nor a sequence number".into()))?;
    let old = (!data.old_image.is_empty()).then(|| to_item(&data.old_image));
    let new = (!data.new_image.is_empty()).then(|| to_item(&data.new_image));
    let at = Timestamp(data.approximate_creation_date_time.timestamp_millis());
    strict_change(id, kind, &to_item(&data.keys), old.as_ref(), new.as_ref(), at)
}

/// The event's attribute values as the SDK's.
fn to_item(image: &serde_dynamo::Item) -> Item {
    image.clone().into()
}
