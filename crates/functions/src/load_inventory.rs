//! load-inventory: for an S3 ObjectCreated event, loads every record's
//! object with the loader the CLI uses (the same import, the same
//! conditional writes, the report kept under `reports/`).
//!
//! What Lambda should retry and what it should not: a rejected file is
//! settled (its report says why) and the invocation succeeds, so it is never
//! retried; a load that failed on the way (the network, throttling beyond
//! the loader's own retries) fails the invocation so Lambda retries the
//! event and, after its retries, hands it to the failure destination.
//! Loading again is harmless: an as-of never goes backwards.

use super::failures::FailureQueue;
use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use serde::Serialize;
use stockwatch_aws::REPORTS_PREFIX;
use stockwatch_core::pipeline::Loader;
use stockwatch_core::ports::{ObjectKey, ObjectStatus, PortError};
use stockwatch_domain::escape_for_terminal;

/// What happened to one record of the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileResult {
    /// The decoded object key (or the raw one, when it could not be decoded).
    pub key: String,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Loaded,
    Rejected,
    /// Not for this function (another event, another bucket, a report, an
    /// object deleted since): logged, not retried.
    Skipped,
    /// A file this function cannot address: its key is not valid UTF-8 once
    /// decoded, or has an empty, `.` or `..` part (`a//b.csv`). Logged as an
    /// error, not retried: the file must be uploaded under another name.
    Unusable,
    /// Worth retrying: the invocation fails.
    Failed,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadResponse {
    pub files: Vec<FileResult>,
}

impl LoadResponse {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.files.iter().filter(|f| f.outcome == outcome).count()
    }
}

/// Some records failed in a way a retry may fix.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} files could not be loaded; Lambda retries the event: {first}")]
pub struct LoadFailed {
    pub failed: usize,
    pub total: usize,
    pub first: String,
    pub response: LoadResponse,
}

impl LoadFailed {
    /// The `errorType` Lambda reports.
    pub fn kind(&self) -> &'static str {
        "LoadFailed"
    }
}

/// S3 event keys are form-encoded: `+` is a space, `%2B` a plus.
pub fn decode_key(raw: &str) -> Result<String, String> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("the key `{}` is not UTF-8 once decoded", escape_for_terminal(raw)))
}

/// The function: its loader and bucket, and for its scheduled sweep its
/// failure queue (S3 events Lambda gave up on after its retries).
pub struct LoadInventory {
    pub loader: Loader,
    pub bucket: String,
    pub failures: Option<FailureQueue>,
}

/// The function's one entry: an S3 event, or the scheduled sweep, which
/// loads the uploads a stopped load left `received` and the events Lambda
/// gave up on (EventBridge `Scheduled Event`).
pub async fn handle_any(function: &LoadInventory, payload: serde_json::Value) -> Result<serde_json::Value, LoadFailed> {
    if payload.get("detail-type").and_then(|v| v.as_str()) == Some("Scheduled Event") {
        return Ok(sweep(function).await);
    }
    // Something else sent here (an SQS or EventBridge event, `{}`) can never
    // load: said once and answered, never retried into the failure queue.
    let event: S3Event = match serde_json::from_value(payload.clone()) {
        Ok(event) => event,
        Err(e) => return Ok(super::dropped(&payload, &e.to_string())),
    };
    let response = handle(&function.loader, &function.bucket, event).await?;
    Ok(serde_json::to_value(response).unwrap_or_default())
}

/// Loads what was left: uploads whose load stopped (a timeout, a crash),
/// and the S3 events in the failure queue. Each is logged; what fails again
/// stays for the next sweep.
async fn sweep(function: &LoadInventory) -> serde_json::Value {
    let resumed = match function.loader.resume_stalled().await {
        Ok(resumed) => {
            for outcome in &resumed {
                tracing::warn!(key = %outcome.key, status = outcome.report.status.as_str(), "loaded an upload whose load had stopped");
            }
            resumed.len()
        }
        Err(e) => {
            tracing::warn!(error = %super::explain(&e), "could not look for stopped loads; the next sweep will");
            0
        }
    };
    let mut recovered = 0;
    if let Some(failures) = &function.failures {
        let waiting = failures.waiting().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the failure queue; the next sweep will");
            Vec::new()
        });
        for given_up in waiting {
            let Some(event) = given_up
                .body
                .get("requestPayload")
                .and_then(|p| serde_json::from_value::<S3Event>(p.clone()).ok())
            else {
                // No sweep could ever load it: said once, and taken away.
                tracing::error!(record = %given_up.body, "a failure record without an S3 event; dropped");
                if let Err(e) = failures.done(&given_up).await {
                    tracing::warn!(error = %e, "could not delete a failure record no sweep can finish");
                }
                continue;
            };
            match handle(&function.loader, &function.bucket, event).await {
                Ok(response) => {
                    tracing::warn!(
                        files = response.files.len(),
                        "loaded an S3 event Lambda had given up on"
                    );
                    recovered += 1;
                    if let Err(e) = failures.done(&given_up).await {
                        tracing::warn!(error = %e, "could not delete a recovered failure record");
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "an S3 event given up on failed again; the next sweep tries again")
                }
            }
        }
    }
    serde_json::json!({ "resumed": resumed, "recovered_events": recovered })
}

/// Handles every record of the event, not just the first.
pub async fn handle(loader: &Loader, bucket: &str, event: S3Event) -> Result<LoadResponse, LoadFailed> {
    let mut response = LoadResponse::default();
    for record in &event.records {
        let result = load_record(loader, bucket, record).await;
        match result.outcome {
            Outcome::Failed => tracing::error!(key = %result.key, detail = %result.detail, "load failed"),
            Outcome::Unusable => tracing::error!(key = %result.key, detail = %result.detail, "cannot load"),
            Outcome::Skipped => tracing::warn!(key = %result.key, detail = %result.detail, "skipped"),
            _ => tracing::info!(key = %result.key, outcome = ?result.outcome, detail = %result.detail, "done"),
        }
        response.files.push(result);
    }
    let failed: Vec<&FileResult> = response.files.iter().filter(|f| f.outcome == Outcome::Failed).collect();
    match failed.first() {
        None => Ok(response),
        Some(first) => Err(LoadFailed {
            failed: failed.len(),
            total: response.files.len(),
            first: format!("{}: {}", escape_for_terminal(&first.key), first.detail),
            response: response.clone(),
        }),
    }
}

async fn load_record(loader: &Loader, bucket: &str, record: &S3EventRecord) -> FileResult {
    let raw = record.s3.object.key.clone().unwrap_or_default();
    let skipped = |key: &str, detail: String| FileResult {
        key: key.to_string(),
        outcome: Outcome::Skipped,
        detail,
    };
    let event = record.event_name.as_deref().unwrap_or("");
    if !event.starts_with("ObjectCreated:") {
        return skipped(
            &raw,
            format!("not an upload: the event is `{}`", escape_for_terminal(event)),
        );
    }
    let from = record.s3.bucket.name.as_deref().unwrap_or("");
    if from != bucket {
        return skipped(
            &raw,
            format!(
                "the event is for bucket `{}`, but this function loads `{}`",
                escape_for_terminal(from),
                escape_for_terminal(bucket)
            ),
        );
    }
    let unusable = |key: &str, detail: String| FileResult {
        key: key.to_string(),
        outcome: Outcome::Unusable,
        detail,
    };
    let decoded = match decode_key(&raw) {
        Ok(key) => key,
        Err(reason) => return unusable(&raw, reason),
    };
    if decoded.starts_with(REPORTS_PREFIX) {
        return skipped(&decoded, "a report, not an inventory file".into());
    }
    let key = match ObjectKey::parse(&decoded) {
        Ok(key) => key,
        Err(reason) => return unusable(&decoded, reason),
    };
    let result = |outcome, detail| FileResult {
        key: decoded.clone(),
        outcome,
        detail,
    };
    match loader.load_object(&key, None).await {
        Ok(loaded) => {
            let report = &loaded.report;
            match report.status {
                ObjectStatus::Loaded => result(
                    Outcome::Loaded,
                    format!(
                        "{} rows: {} changed, {} unchanged, {} older",
                        report.rows, report.write.changed, report.write.unchanged, report.write.older
                    ),
                ),
                ObjectStatus::Rejected => result(
                    Outcome::Rejected,
                    format!(
                        "{} problems; the report is kept beside the file",
                        report.problems_in_all()
                    ),
                ),
                ObjectStatus::Failed | ObjectStatus::Received => result(
                    Outcome::Failed,
                    report
                        .failure
                        .clone()
                        .unwrap_or_else(|| "the load did not finish".into()),
                ),
            }
        }
        // Deleted between the event and now: nothing to load, nothing to retry.
        Err(PortError::NotFound(reason)) => result(Outcome::Skipped, reason.into()),
        Err(e) => result(Outcome::Failed, super::explain(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(
            decode_key("uploads/inventory+berlin.csv").unwrap(),
            "uploads/inventory berlin.csv"
        );
        assert_eq!(decode_key("a%2Bb.csv").unwrap(), "a+b.csv");
        assert_eq!(decode_key("M%C3%BCnchen/inventar.csv").unwrap(), "München/inventar.csv");
        assert_eq!(decode_key("a%2Fb.csv").unwrap(), "a/b.csv");
        assert!(decode_key("bad%FF.csv").is_err());
    }
}
