//! The correlation store: what the bridge remembers between NCIP messages.
//!
//! For every Relais request it keeps a [`Correlation`] record (the Alma request, item and patron ids learnt so
//! far, the status and due date), the [`HistoryEntry`] of every message handled, and for every message an
//! idempotency record so that a message delivered twice acts on Alma once. It also parks OpenURL citations
//! during the patron's authentication round trip, and counts PIN checks so that guessing can be slowed
//! ([`AttemptKey`]), and holds the outbox: messages answered to Relais that Alma could not take yet
//! ([`QueuedMessage`]).
//!
//! Two implementations of one [`Store`] trait: [`DynamoStore`] (one DynamoDB table, for AWS) and
//! [`EmbeddedStore`] (a redb file, the local default). The same contract tests run against both.
//!
//! Not here: deciding what a message means (the flows in the core library) and the clock (the core's `Clock`;
//! every write takes `now` from the caller, and reads that take no `now` use [`StoreConfig::with_clock`]).

#![warn(missing_docs, unreachable_pub)]

mod attempts;
mod bulk;
mod claim;
mod config;
mod dynamo;
mod embedded;
mod error;
mod follow_up;
mod ids;
mod keys;
mod model;
mod patrons;
mod problems;
mod queue;
mod reconcile;
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

pub use attempts::{Attempt, AttemptCount, AttemptKey, AttemptRule, AttemptScope, MAX_LOCK};
pub use bulk::{BulkAction, BulkKind, BulkState, QueueFilter, is_bulk_id};
pub use claim::{Begin, Begun, ClaimOutcome, Commit, CommitOutcome, StoredResponse};
pub use config::StoreConfig;
pub use dynamo::DynamoStore;
pub use embedded::{EMBEDDED_DATABASE_FILE, EmbeddedStore};
pub use error::StoreError;
pub use follow_up::{FinishFollowUp, FinishOutcome, FollowUp};
pub use ids::{
    ClaimToken, IdempotencyKey, InvalidId, ItemBarcode, MAX_ID_BYTES, PartnerCode, PatronId, RelaisRequestId,
};
pub use model::{
    AlmaCall, AlmaIds, Correlation, HistoryEntry, Outcome, ProblemSummary, ReplacedAgencyId, RequestStatus, Side,
};
pub use patrons::PatronKey;
pub use problems::{AnsweredProblem, PROBLEM_RETENTION};
pub use queue::{Enqueue, EnqueueOutcome, QueueLimit, QueueLimits, QueueState, QueuedMessage, is_queue_id};
pub use reconcile::ReconcileDoc;
pub use schema::create_table;

/// Storage for correlation records, history, idempotency claims and discovery citations.
///
/// Expired items (see [`StoreConfig`]) are invisible to every read, whether or not the backend has deleted them.
#[async_trait]
pub trait Store: Send + Sync {
    /// The record for a Relais request, if one exists and has not expired.
    async fn get_request(&self, id: &RelaisRequestId) -> Result<Option<Correlation>, StoreError>;

    /// Every unexpired record that lists `barcode`, newest (by creation time) first. CheckInItem carries only
    /// the barcode, and a barcode can belong to a borrowing and a lending request at once.
    async fn find_by_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<Correlation>, StoreError>;

    /// The unexpired history of a request, oldest first (by entry time, then by order of appending).
    async fn history(&self, id: &RelaisRequestId) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Adds a history entry outside a commit, e.g. for a message answered with a Problem before any record
    /// changed. The request need not have a record.
    async fn append_history(&self, id: &RelaisRequestId, entry: &HistoryEntry) -> Result<(), StoreError>;

    /// Claim an idempotency key for `lease`. Conditional: succeeds if absent, or if in-flight and the lease
    /// expired (takeover, reported as such). An expired idempotency record counts as absent.
    async fn claim(
        &self,
        key: &IdempotencyKey,
        owner: &ClaimToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<ClaimOutcome, StoreError>;

    /// Before acting on a message, in one round trip: claims its key as [`Store::claim`] does, and reads beside
    /// the claim the request's record (which the delivery decides on and later commits against, so that it is
    /// read once per message) and, when asked, the request's open outbox messages and whether a patron key is
    /// remembered. A key found done is answered from a read alone: a replay writes nothing.
    async fn begin(&self, begin: Begin<'_>) -> Result<Begun, StoreError>;

    /// The first replay of a done message: appends `entry` to the request's history and marks the stored
    /// answer replayed ([`StoredResponse::replay_recorded`]), together. Writes nothing and answers false when a
    /// replay was recorded before (or the key is not done): the history keeps the first replay only, so that a
    /// sender retrying in a loop neither grows it nor costs a write per retry.
    async fn record_replay(
        &self,
        key: &IdempotencyKey,
        request: &RelaisRequestId,
        entry: &HistoryEntry,
    ) -> Result<bool, StoreError>;

    /// Atomically: mark the key done with the response (only if `owner` still holds it), put the correlation
    /// record (create if `expected_version` is `None` and no live record exists; else only if the version
    /// matches; the stored version becomes the next one), and append the history entry. The claim is checked
    /// first, so a lost claim is reported as `ClaimLost` even when the version also moved.
    async fn commit(&self, commit: Commit<'_>) -> Result<CommitOutcome, StoreError>;

    /// Drop a claim whose action definitively had no effect (so a retry may act again). Does nothing unless
    /// `owner` holds the key in flight: a superseded attempt must not free its successor's claim.
    async fn release(&self, key: &IdempotencyKey, owner: &ClaimToken) -> Result<(), StoreError>;

    /// Park an OpenURL citation under a generated correlation id until `now` + the discovery TTL.
    async fn put_discovery(&self, id: &str, citation: &serde_json::Value, now: Timestamp) -> Result<(), StoreError>;

    /// The citation parked under `id`, unless it expired by `now`.
    async fn get_discovery(&self, id: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError>;

    /// Counts one attempt under `key` unless the key is locked at `now`. The attempt that brings the count to
    /// `rule.limit`, and each one counted after, locks the key ([`AttemptRule::lock_for`]). A count that
    /// expired starts again from one. Conditional, like a claim: of concurrent attempts at most `limit` in all
    /// are counted before the lock.
    async fn count_attempt(&self, key: &AttemptKey, rule: AttemptRule, now: Timestamp) -> Result<Attempt, StoreError>;

    /// The count under `key` live at `now` (`None` when none).
    async fn attempts(&self, key: &AttemptKey, now: Timestamp) -> Result<Option<AttemptCount>, StoreError>;

    /// Forgets the count under `key` (a successful check).
    async fn clear_attempts(&self, key: &AttemptKey) -> Result<(), StoreError>;

    /// Remembers, until `expires_at`, that the patron id hashed as `key` was answered by LookupUser and so is
    /// already of the type Alma's partner matches. Remembering it again moves the expiry.
    async fn remember_patron(&self, key: &PatronKey, expires_at: Timestamp) -> Result<(), StoreError>;

    /// Whether the patron id hashed as `key` is remembered at `now` ([`Store::remember_patron`]).
    async fn knows_patron(&self, key: &PatronKey, now: Timestamp) -> Result<bool, StoreError>;

    /// Atomically: mark the message's key done with the answer Relais got (only if `owner` still holds it),
    /// add the message to the outbox, and append the history entry.
    async fn enqueue(&self, enqueue: Enqueue<'_>) -> Result<EnqueueOutcome, StoreError>;

    /// Every unexpired queued message of a request, in any state, oldest first (the order of delivery).
    async fn queued_for(&self, id: &RelaisRequestId) -> Result<Vec<QueuedMessage>, StoreError>;

    /// The open (waiting or parked) messages of all requests, oldest first, at most `limit`.
    async fn open_queue(&self, limit: usize) -> Result<Vec<QueuedMessage>, StoreError>;

    /// The open messages after the one with id `after` (ids sort in queueing order), oldest first, at most
    /// `limit`: the next page after [`Store::open_queue`], so that no open message is ever out of reach.
    async fn open_queue_after(&self, after: &str, limit: usize) -> Result<Vec<QueuedMessage>, StoreError>;

    /// How many messages are open (waiting or parked) across all requests.
    async fn open_count(&self) -> Result<u64, StoreError>;

    /// The open message with this id, if there is one.
    async fn open_message(&self, id: &str) -> Result<Option<QueuedMessage>, StoreError>;

    /// Replaces the stored message by `message` if the stored one is still in state `expected` (false, and
    /// nothing written, otherwise). A message leaving the open states starts to age out like history.
    async fn update_queued(
        &self,
        message: &QueuedMessage,
        expected: QueueState,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// The open messages that name the item `barcode`, oldest first: what a check-in of the item must wait
    /// behind. Read through a barcode-keyed entry written and removed in the same writes as the message's
    /// state, so a message queued a moment ago is found.
    async fn open_for_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<QueuedMessage>, StoreError>;

    /// Records a bulk action staff confirmed (written once: an id already recorded is an error).
    async fn record_bulk(&self, action: &BulkAction) -> Result<(), StoreError>;

    /// The bulk actions still kept (pending ones, and finished ones until they age out like history),
    /// newest first, at most `limit`.
    async fn bulk_actions(&self, limit: usize) -> Result<Vec<BulkAction>, StoreError>;

    /// Replaces the stored action by `action` if the stored one was last written at `expected` (false, and
    /// nothing written, otherwise): two deliverers never both carry it out from the same point.
    async fn update_bulk(&self, action: &BulkAction, expected: Timestamp) -> Result<bool, StoreError>;

    /// Whether the durable fact `marker` was ever recorded ([`Store::record_marker`]).
    async fn has_marker(&self, marker: &str) -> Result<bool, StoreError>;

    /// Records the durable fact `marker` (e.g. that Alma's NCIP responder at one URL has answered): written
    /// once, with a conditional put, and never expiring; recording it again changes nothing.
    async fn record_marker(&self, marker: &str, now: Timestamp) -> Result<(), StoreError>;

    /// The follow-up with this id, if it is still there.
    async fn follow_up(&self, id: &str) -> Result<Option<FollowUp>, StoreError>;

    /// The follow-ups due by `now`, the longest-due first, at most `limit`.
    async fn due_follow_ups(&self, now: Timestamp, limit: usize) -> Result<Vec<FollowUp>, StoreError>;

    /// Replaces the stored follow-up by `follow_up` (its next attempt's time and count), if it is still there
    /// (false, and nothing written, when another worker finished it).
    async fn reschedule_follow_up(&self, follow_up: &FollowUp) -> Result<bool, StoreError>;

    /// Atomically: write the record the follow-up completes (only at the version it was read at) and remove the
    /// follow-up (only if it is still there).
    async fn finish_follow_up(&self, finish: FinishFollowUp<'_>) -> Result<FinishOutcome, StoreError>;

    /// Records a Problem answered to Relais, kept [`PROBLEM_RETENTION`] from its answer.
    async fn record_problem(&self, problem: &AnsweredProblem) -> Result<(), StoreError>;

    /// The Problems answered at or after `since`, newest first, at most `limit`.
    async fn problems_since(&self, since: Timestamp, limit: usize) -> Result<Vec<AnsweredProblem>, StoreError>;

    /// Up to `limit` unexpired records after the one of `after` (from the start without one), in the store's
    /// own stable order: the reconciler's way through every record, a page at a time, resuming where it
    /// stopped.
    async fn records_after(
        &self,
        after: Option<&RelaisRequestId>,
        limit: usize,
    ) -> Result<Vec<Correlation>, StoreError>;

    /// The reconciler's document `name` ([`ReconcileDoc`]), unless absent or expired.
    async fn reconcile_doc(&self, name: &str) -> Result<Option<ReconcileDoc>, StoreError>;

    /// Writes the reconciler's document `name` if the stored revision is still `expected` (`None`: no live
    /// document); false, and nothing written, otherwise. The stored revision becomes the next one.
    async fn put_reconcile_doc(
        &self,
        name: &str,
        body: &serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<Timestamp>,
    ) -> Result<bool, StoreError>;

    /// Writes `alma` (ids the reconciler found in Alma, such as a lending request id the ship could not
    /// read back) into the record if its version is still `expected_version`; false otherwise. Nothing else
    /// of the record changes, and no history entry is written: no message was handled.
    async fn record_alma_ids(
        &self,
        id: &RelaisRequestId,
        alma: &AlmaIds,
        expected_version: u64,
    ) -> Result<bool, StoreError>;
}

/// Markers are named by the bridge, so they are checked like other ids.
pub(crate) fn check_marker(marker: &str) -> Result<(), StoreError> {
    ids::check_id("marker", marker).map_err(StoreError::InvalidMarker)
}

/// Discovery ids are generated by the caller but arrive back in a URL, so they are checked like other ids.
pub(crate) fn check_discovery_id(id: &str) -> Result<(), StoreError> {
    ids::check_id("discovery id", id).map_err(StoreError::InvalidDiscoveryId)
}
