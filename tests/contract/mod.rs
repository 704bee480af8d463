//! The contract every backend keeps. `contract_tests!(factory)` expands to one
//! test per function here; each backend's test file calls it with a factory
//! that makes a fresh, empty backend.

pub mod ledger;
pub mod pipeline;
pub mod storage;

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use stockwatch::domain::{Alert, InventoryRow, Notification, Timestamp};
use stockwatch::ports::{Notifier, ObjectKey, PortResult, Ports, Snapshot};

/// A fresh backend, and whatever must live as long as it (a temp dir, a server).
pub struct Fixture {
    pub ports: Ports,
    pub _guard: Box<dyn Any + Send>,
}

pub fn rows(spec: &[(&str, &str, u32)]) -> Arc<Vec<InventoryRow>> {
    Arc::new(
        spec.iter()
            .enumerate()
            .map(|(i, (store, item, count))| InventoryRow {
                store: (*store).into(),
                item: (*item).into(),
                count: *count,
                line: i as u64 + 2,
            })
            .collect(),
    )
}

pub fn snapshot(spec: &[(&str, &str, u32)], as_of: i64, source: &str) -> Snapshot {
    Snapshot {
        rows: rows(spec),
        as_of: Timestamp(as_of),
        source: ObjectKey::parse(source).unwrap(),
    }
}

/// Counts what reaches the real notifier, to prove "published once".
pub struct CountingNotifier {
    pub inner: Arc<dyn Notifier>,
    pub sent: AtomicU64,
}

#[async_trait::async_trait]
impl Notifier for CountingNotifier {
    async fn publish(&self, alert: &Alert, notification: &Notification) -> PortResult<()> {
        self.inner.publish(alert, notification).await?;
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Takes its time over every notification, like a slow network.
pub struct SlowNotifier {
    pub inner: Arc<dyn Notifier>,
    pub delay: std::time::Duration,
}

#[async_trait::async_trait]
impl Notifier for SlowNotifier {
    async fn publish(&self, alert: &Alert, notification: &Notification) -> PortResult<()> {
        tokio::time::sleep(self.delay).await;
        self.inner.publish(alert, notification).await
    }
}

/// The backend with a counting notifier in front of its own.
pub fn counting(backend: &Ports) -> (Ports, Arc<CountingNotifier>) {
    let counter = Arc::new(CountingNotifier {
        inner: backend.notifier.clone(),
        sent: AtomicU64::new(0),
    });
    let mut b = backend.clone();
    b.notifier = counter.clone();
    (b, counter)
}

#[macro_export]
macro_rules! contract_tests {
    ($factory:expr) => {
        $crate::contract_tests!(@each $factory;
            storage::objects_round_trip,
            storage::objects_keep_reports_and_list_newest_first,
            storage::missing_objects_are_not_found,
            storage::scans_are_ordered_filtered_and_paged,
            storage::newer_snapshots_win_whatever_the_order,
            storage::equal_as_of_keeps_the_lower_count,
            storage::the_feed_carries_old_and_new_images,
            storage::unchanged_counts_write_no_change,
            storage::checkpoints_never_move_back,
            ledger::a_transition_is_claimed_once,
            ledger::a_retried_claim_is_still_the_claimers,
            ledger::acknowledging_follows_the_lifecycle,
            ledger::restocks_resolve_older_alerts_even_claimed_late,
            ledger::stale_claims_are_taken_over,
            ledger::listing_filters_and_pages,
            ledger::followers_see_raises_and_acknowledgements,
            pipeline::samples_raise_out_and_low_alerts,
            pipeline::a_rejected_file_writes_nothing_and_is_kept,
            pipeline::loading_twice_changes_nothing,
            pipeline::load_order_does_not_matter,
            pipeline::racing_checkers_raise_each_alert_once,
            pipeline::a_dead_publisher_is_replaced_after_the_lease,
            pipeline::a_slow_publisher_never_sends_what_was_taken_over,
            pipeline::restock_resolves_and_a_new_outage_alerts_again,
            pipeline::an_upload_can_wait_for_a_loader_elsewhere,
        );
    };
    (@each $factory:expr; $($module:ident :: $test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let fixture = $factory().await;
                $crate::contract::$module::$test(&fixture.ports).await;
            }
        )+
    };
}
