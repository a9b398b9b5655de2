//! The contract every `Store` implementation keeps, as scenarios run against each of them.
//!
//! The test binary declares `#[macro_use] mod contract;`; each store's module writes
//! `async fn open(config: StoreConfig) -> Harness` for its store (fresh and empty each time) and calls
//! `contract_suite!(open);`. Times are always given explicitly: writes take `now`, and reads follow the
//! harness clock passed in through the config.

mod attempts;
mod claims;
mod follow_ups;
mod patrons;
mod problems;
mod queue;
mod reconcile;
mod records;

use std::any::Any;
use std::sync::{Arc, Mutex};

use bridge_store::{
    ClaimOutcome, ClaimToken, Commit, CommitOutcome, Correlation, HistoryEntry, IdempotencyKey, ItemBarcode, Outcome,
    PartnerCode, RelaisRequestId, RequestStatus, Side, Store, StoreConfig,
};
use jiff::{SignedDuration, Timestamp};

pub use attempts::*;
pub use claims::*;
pub use follow_ups::*;
pub use patrons::*;
pub use problems::*;
pub use queue::*;
pub use reconcile::*;
pub use records::*;

/// A store under test and whatever must live as long as it (a temporary folder, for the embedded one).
pub struct Harness {
    pub store: Arc<dyn Store>,
    pub _keep_alive: Box<dyn Any + Send + Sync>,
}

/// The clock the store's reads follow; tests move it to cross expiry boundaries.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<Timestamp>>);

impl TestClock {
    pub fn at(now: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap() = now;
    }

    pub fn config(&self, base: StoreConfig) -> StoreConfig {
        let clock = self.clone();
        base.with_clock(move || *clock.0.lock().unwrap())
    }
}

/// An arbitrary start, with nanoseconds so that a lossy timestamp round trip shows.
pub fn t0() -> Timestamp {
    "2031-03-04T05:06:07.123456789Z".parse().unwrap()
}

pub fn after(seconds: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(seconds)
}

pub const DAY: i64 = 86_400;

/// A fresh store whose reads see `t0()`, with the default settings.
pub async fn fresh(open: impl AsyncFn(StoreConfig) -> Harness) -> (Harness, TestClock) {
    let clock = TestClock::at(t0());
    let harness = open(clock.config(StoreConfig::default())).await;
    (harness, clock)
}

pub fn rid(id: &str) -> RelaisRequestId {
    RelaisRequestId::new(id).unwrap()
}

pub fn barcode(code: &str) -> ItemBarcode {
    ItemBarcode::new(code).unwrap()
}

pub fn token(name: &str) -> ClaimToken {
    ClaimToken::new(name).unwrap()
}

pub fn message_key(message: &str) -> IdempotencyKey {
    IdempotencyKey::derive("AcceptItem", None, None, message.as_bytes())
}

pub fn record(id: &str, side: Side, status: RequestStatus, barcodes: &[&str], created: Timestamp) -> Correlation {
    let mut record = Correlation::new(rid(id), side, PartnerCode::new("RELAIS").unwrap(), status, created);
    record.item_barcodes = barcodes.iter().map(|b| barcode(b)).collect();
    record
}

pub fn entry(message_type: &str, at: Timestamp) -> HistoryEntry {
    HistoryEntry::new(message_type, at, Outcome::Success)
}

/// One message handled start to finish: claim its key, then commit the record and history entry with it.
pub async fn deliver(
    store: &dyn Store,
    message: &str,
    record: &Correlation,
    expected_version: Option<u64>,
    now: Timestamp,
) -> CommitOutcome {
    let key = message_key(message);
    let owner = token(&format!("{message}-attempt"));
    let claimed = store.claim(&key, &owner, now, std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(claimed, ClaimOutcome::Claimed, "claiming {message}");
    let history = entry(message, now);
    store
        .commit(Commit {
            key: &key,
            owner: &owner,
            response: format!("<{message}Response/>").as_bytes(),
            record,
            expected_version,
            history: &history,
            now,
            follow_up: None,
        })
        .await
        .unwrap()
}

/// Runs every contract scenario against the store `$open` makes.
macro_rules! contract_suite {
    ($open:path) => {
        contract_suite!(@tests $open;
            unknown_request_reads_as_absent,
            accept_item_creates_the_record_and_later_deliveries_replay_the_response,
            update_with_the_current_version_bumps_it,
            stale_version_is_a_conflict_and_writes_nothing,
            creating_an_existing_record_is_a_conflict,
            expired_record_may_be_created_afresh,
            history_reads_oldest_first_with_ties_in_append_order,
            history_of_one_request_never_shows_another,
            repeated_replays_fold_into_one_entry_with_a_count,
            barcode_lookup_lists_every_request_newest_first,
            barcode_dropped_from_a_record_no_longer_finds_it,
            closed_request_expires_exactly_after_retention_and_open_one_never_does,
            history_entries_expire_retention_after_their_own_time,
            discovery_citation_is_readable_until_its_ttl,
            discovery_id_is_checked,
            claim_is_in_flight_until_the_lease_ends_then_taken_over_with_attempts_counted,
            commit_after_the_claim_was_taken_over_is_claim_lost_and_writes_nothing,
            begin_claims_and_reads_the_record_and_the_open_queue_beside_the_claim,
            a_done_key_begins_as_its_answer_and_only_its_first_replay_is_recorded,
            claim_lost_wins_over_version_conflict,
            release_frees_the_key_for_its_owner_only,
            done_key_is_handled_afresh_after_idempotency_retention,
            fifty_concurrent_claims_have_exactly_one_winner,
            fifty_concurrent_commits_on_one_version_have_exactly_one_winner,
            attempts_are_counted_up_to_the_limit_then_refused,
            locks_grow_with_each_attempt_after_one_and_are_forgotten_after_keep,
            clearing_attempts_starts_the_count_again,
            fifty_concurrent_attempts_count_no_more_than_the_limit,
            a_queued_message_is_done_for_its_sender_and_waits_in_its_request,
            a_resend_of_a_queued_message_begins_as_its_answer_with_the_queued_copy_beside_it,
            queueing_after_the_claim_was_taken_over_is_claim_lost_and_writes_nothing,
            messages_of_a_request_read_back_in_queueing_order_and_the_queue_oldest_first,
            the_outbox_refuses_a_message_past_its_bounds_and_counts_a_settled_one_out,
            the_open_queue_pages_on_from_any_message_in_queueing_order,
            a_marker_is_recorded_once_and_stays,
            a_state_change_holds_only_from_the_state_it_expects,
            open_messages_never_expire_and_finished_ones_age_out_like_history,
            an_open_message_is_found_by_its_item_until_it_is_settled,
            a_bulk_action_is_recorded_once_and_its_progress_written_over_the_last_write_only,
            a_follow_up_is_written_with_its_commit_and_finished_with_its_record,
            a_reconcile_document_is_written_over_the_revision_read_only,
            a_remembered_patron_is_known_until_its_expiry_and_remembering_again_moves_it,
            an_alma_id_found_later_is_written_into_the_record_at_its_version,
            answered_problems_are_listed_newest_first_for_seven_days,
            due_follow_ups_come_longest_due_first_up_to_the_limit,
            the_reconciler_walks_every_live_record_once_a_page_at_a_time,
            a_remembered_patron_is_read_beside_a_claim_and_skipped_for_a_replay,
        );
    };
    (@tests $open:path; $($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            $crate::contract::$name($open).await;
        }
    )*};
}
