//! The conditional writer (`--write-mode conditional`): one conditional
//! PutItem per row, many in flight. The condition is the domain's
//! `supersedes` rule, so an older snapshot never overwrites a newer one
//! whatever the order of loads and whatever the writers' clocks say.

use super::attrs::{n, opt_n, s};
use super::errors::from_code;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use futures_util::stream::{self, StreamExt};
use stockwatch_core::ports::{PortError, RetryPolicy, RowFailure, WriteSummary};
use stockwatch_domain::InventoryRow;

/// `supersedes` as a condition; rows without `AsOf` (written by the original
/// system) count as older than any snapshot.
pub const NEWER_ONLY: &str = "attribute_not_exists(#s) OR attribute_not_exists(#a) OR #a < :a OR (#a = :a AND #c > :c)";

#[derive(Clone)]
pub struct ConditionalWriter {
    pub client: Client,
    pub table: String,
    pub retry: RetryPolicy,
    /// Puts in flight at once per store.
    pub concurrency: usize,
}

enum RowOutcome {
    Changed,
    Unchanged,
    Older,
    Failed(PortError),
}

impl ConditionalWriter {
    /// Writes one chunk of a store's rows, `concurrency` puts at a time.
    pub async fn write_chunk(&self, chunk: &[&InventoryRow], as_of: i64, now: i64, source: &str) -> WriteSummary {
        // Futures made up front: a closure inside the stream would have to
        // be general over the rows' lifetime, which the Send bound rejects.
        let puts: Vec<_> = chunk
            .iter()
            .map(|row| async move { (*row, self.put_row(row, as_of, now, source).await) })
            .collect();
        let outcomes: Vec<(&InventoryRow, RowOutcome)> =
            stream::iter(puts).buffer_unordered(self.concurrency).collect().await;
        let mut summary = WriteSummary::default();
        for (row, outcome) in outcomes {
            match outcome {
                RowOutcome::Changed => summary.changed += 1,
                RowOutcome::Unchanged => summary.unchanged += 1,
                RowOutcome::Older => {
                    summary.older += 1;
                    summary.older_rows.push(row.clone());
                }
                RowOutcome::Failed(error) => summary.failed.push(RowFailure {
                    line: row.line,
                    reason: error.to_string(),
                    transient: error.is_transient(),
                }),
            }
        }
        summary
    }

    async fn put_row(&self, row: &InventoryRow, as_of: i64, now: i64, source: &str) -> RowOutcome {
        let attempt = || async {
            let sent = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("Store", s(&*row.store))
                .item("Item", s(&*row.item))
                .item("Count", n(row.count))
                .item("AsOf", n(as_of))
                .item("UpdatedAt", n(now))
                .item("Source", s(source))
                .condition_expression(NEWER_ONLY)
                .expression_attribute_names("#s", "Store")
                .expression_attribute_names("#a", "AsOf")
                .expression_attribute_names("#c", "Count")
                .expression_attribute_values(":a", n(as_of))
                .expression_attribute_values(":c", n(row.count))
                .return_values(ReturnValue::AllOld)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match sent {
                Ok(out) => {
                    let old: Option<u32> = out.attributes().and_then(|old| opt_n(old, "Count"));
                    Ok(if old == Some(row.count) {
                        RowOutcome::Unchanged
                    } else {
                        RowOutcome::Changed
                    })
                }
                Err(e) => match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(failed) => {
                        // The same snapshot again changed nothing; any
                        // other lost to what the table holds (as locally).
                        let stored = failed
                            .item()
                            .map(|old| (opt_n::<i64>(old, "AsOf"), opt_n::<u32>(old, "Count")));
                        Ok(if stored == Some((Some(as_of), Some(row.count))) {
                            RowOutcome::Unchanged
                        } else {
                            RowOutcome::Older
                        })
                    }
                    other => Err(from_code(
                        &format!("the table {}", self.table),
                        other.code(),
                        &other.to_string(),
                    )),
                },
            }
        };
        match self.retry.run("write a row", attempt).await {
            Ok(outcome) => outcome,
            Err(e) => RowOutcome::Failed(e),
        }
    }
}
