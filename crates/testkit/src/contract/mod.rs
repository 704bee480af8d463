//! The contract every backend keeps. `contract_tests!(factory)` expands to one
//! test per function here; each backend's test file calls it with a factory
//! that makes a fresh, empty backend.

pub mod app;
pub mod fanout;
pub mod history;
pub mod ledger;
pub mod notify;
pub mod pipeline;
pub mod storage;

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use stockwatch_core::ports::{Delivery, ObjectKey, PortResult, Ports, Publisher, Snapshot};
use stockwatch_domain::{InventoryRow, Message, Timestamp};

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

/// Counts what the real publisher sent, to prove "sent once".
pub struct CountingPublisher {
    pub inner: Arc<dyn Publisher>,
    pub sent: AtomicU64,
}

#[async_trait::async_trait]
impl Publisher for CountingPublisher {
    async fn deliver(&self, messages: &[Message], token: &str, lease: Duration) -> PortResult<Vec<Delivery>> {
        let deliveries = self.inner.deliver(messages, token, lease).await?;
        for (message, delivery) in messages.iter().zip(&deliveries) {
            if *delivery == Delivery::Sent {
                self.sent.fetch_add(message.alert_ids.len() as u64, Ordering::SeqCst);
            }
        }
        Ok(deliveries)
    }
}

/// Keeps every message the real publisher sent, to read what people got.
pub struct RecordingPublisher {
    pub inner: Arc<dyn Publisher>,
    pub sent: std::sync::Mutex<Vec<Message>>,
}

#[async_trait::async_trait]
impl Publisher for RecordingPublisher {
    async fn deliver(&self, messages: &[Message], token: &str, lease: Duration) -> PortResult<Vec<Delivery>> {
        let deliveries = self.inner.deliver(messages, token, lease).await?;
        for (message, delivery) in messages.iter().zip(&deliveries) {
            if *delivery == Delivery::Sent {
                self.sent.lock().unwrap().push(message.clone());
            }
        }
        Ok(deliveries)
    }
}

/// The backend with a recording publisher in front of its own.
pub fn recording(backend: &Ports) -> (Ports, Arc<RecordingPublisher>) {
    let recorder = Arc::new(RecordingPublisher {
        inner: backend.publisher.clone(),
        sent: std::sync::Mutex::new(Vec::new()),
    });
    let mut b = backend.clone();
    b.publisher = recorder.clone();
    (b, recorder)
}

/// Takes its time over every message, like a slow network: each one is
/// handed to the real publisher on its own, after a delay.
pub struct SlowPublisher {
    pub inner: Arc<dyn Publisher>,
    pub delay: Duration,
}

#[async_trait::async_trait]
impl Publisher for SlowPublisher {
    async fn deliver(&self, messages: &[Message], token: &str, lease: Duration) -> PortResult<Vec<Delivery>> {
        let mut deliveries = Vec::new();
        for message in messages {
            tokio::time::sleep(self.delay).await;
            deliveries.extend(self.inner.deliver(std::slice::from_ref(message), token, lease).await?);
        }
        Ok(deliveries)
    }
}

/// The backend with a counting publisher in front of its own.
pub fn counting(backend: &Ports) -> (Ports, Arc<CountingPublisher>) {
    let counter = Arc::new(CountingPublisher {
        inner: backend.publisher.clone(),
        sent: AtomicU64::new(0),
    });
    let mut b = backend.clone();
    b.publisher = counter.clone();
    (b, counter)
}

#[macro_export]
/// The contract, expanded per backend. `without_races` leaves out the
/// tests of checkers racing for one item (two at once, exactly one wins):
/// those are judged where a condition and its write are one step (SQLite,
/// DynamoDB Local); moto checks a condition and writes without a lock, so
/// two racers sometimes both win there (docs/testing.md).
macro_rules! contract_tests {
    ($factory:expr) => {
        $crate::contract_tests!($factory, without_races);
        $crate::contract_tests!(@each $factory;
            pipeline::racing_checkers_raise_each_alert_once,
            notify::reminders_come_once_per_interval_until_acknowledged,
        );
    };
    ($factory:expr, without_races) => {
        $crate::contract_tests!(@each $factory;
            storage::objects_round_trip,
            storage::objects_keep_reports_and_list_newest_first,
            storage::missing_objects_are_not_found,
            storage::scans_are_ordered_filtered_and_paged,
            storage::newer_snapshots_win_whatever_the_order,
            storage::equal_as_of_keeps_the_lower_count,
            storage::the_feed_carries_old_and_new_images,
            storage::a_newer_snapshot_of_the_same_count_is_one_change,
            storage::checkpoints_never_move_back,
            app::acknowledging_checks_the_text_and_recovers_a_lost_answer,
            app::acknowledging_many_says_what_came_of_each,
            app::an_acknowledgement_taken_back_opens_the_alert_again_for_everyone,
            app::an_acknowledgement_taken_back_before_sending_leaves_reminders_due,
            app::acknowledging_many_with_a_bad_note_acknowledges_none,
            ledger::a_transition_is_claimed_once,
            ledger::a_retried_claim_is_still_the_claimers,
            ledger::alert_numbers_are_contiguous_whatever_is_claimed_again,
            ledger::acknowledging_follows_the_lifecycle,
            ledger::restocks_resolve_older_alerts_even_claimed_late,
            ledger::stale_claims_are_taken_over,
            ledger::a_message_is_sent_only_with_every_claim_it_carries,
            ledger::listing_filters_and_pages,
            ledger::followers_see_raises_and_acknowledgements,
            ledger::an_acknowledgement_from_a_slow_clock_reaches_followers,
            history::history_keeps_each_count_of_an_item_in_as_of_order,
            history::recording_a_change_again_changes_nothing,
            history::back_files_loaded_in_any_order_give_the_same_history,
            history::soon_is_raised_once_as_the_run_out_nears_and_resolved_by_a_restock,
            history::a_low_alert_takes_over_from_soon,
            pipeline::samples_raise_out_and_low_alerts,
            pipeline::a_rejected_file_writes_nothing_and_is_kept,
            pipeline::the_bytes_loaded_are_the_bytes_kept,
            pipeline::loading_twice_changes_nothing,
            pipeline::load_order_does_not_matter,
            pipeline::a_dead_publisher_is_replaced_after_the_lease,
            pipeline::a_slow_publisher_never_sends_what_was_taken_over,
            pipeline::restock_resolves_and_a_new_outage_alerts_again,
            pipeline::an_outage_that_ended_within_a_pass_is_not_notified,
            pipeline::two_uploads_in_one_second_keep_the_later_whole,
            pipeline::an_upload_whose_loader_stopped_is_resumed,
            pipeline::an_upload_can_wait_for_a_loader_elsewhere,
            pipeline::alerts_raised_together_are_one_message_per_store,
            pipeline::snoozed_alerts_are_raised_not_notified,
            notify::a_grouping_window_sends_many_batches_as_one_message_per_store,
            notify::a_window_takes_only_held_claims,
            fanout::what_the_relay_publishes_reaches_every_subscriber,
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
