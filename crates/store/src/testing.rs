//! Fault injection for the bridge's own tests and benchmarks: a [`Store`] that fails the calls a test
//! chooses, to show what the bridge answers Relais when DynamoDB throttles or the embedded file fails at one
//! exact step of a message (after the claim, before the commit, ...).
//!
//! Behind the `testing` feature, which only dev-dependencies enable: no deployed function carries it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::{
    Attempt, AttemptCount, AttemptKey, AttemptRule, Begin, Begun, BulkAction, ClaimOutcome, ClaimToken, Commit,
    CommitOutcome, Correlation, Enqueue, EnqueueOutcome, FinishFollowUp, FinishOutcome, FollowUp, HistoryEntry,
    IdempotencyKey, ItemBarcode, PatronKey, QueueState, QueuedMessage, RelaisRequestId, Store, StoreError,
};

/// What an operation does to the store, so that a test or benchmark can count reads and writes by the
/// cost they have on DynamoDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationKind {
    /// Changes nothing.
    Read,
    /// Takes (or takes over) a message's idempotency key.
    Claim,
    /// Finishes a message in one transaction: [`Store::commit`] and [`Store::enqueue`].
    Commit,
    /// Any other write: history outside a commit, releases, citations, attempt counts, queue updates.
    OtherWrite,
}

/// Declares [`Operation`] from one list, so that its variants, [`Operation::ALL`], the names and the kinds
/// cannot disagree with each other.
macro_rules! operations {
    ($($variant:ident => $name:literal, $kind:ident;)*) => {
        /// Names one method of the [`Store`] trait (one variant per trait method, in the trait's order).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(
                #[doc = concat!("[`Store::", $name, "`]")]
                $variant,
            )*
        }

        impl Operation {
            /// Every operation, in the order the trait declares its methods.
            pub const ALL: [Operation; [$(Operation::$variant),*].len()] = [$(Operation::$variant),*];

            /// The trait method's name, e.g. "get_request": what a failed test or a count reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$variant => $name,)*
                }
            }

            /// What the operation does to the store.
            pub fn kind(self) -> OperationKind {
                match self {
                    $(Operation::$variant => OperationKind::$kind,)*
                }
            }
        }
    };
}

operations! {
    GetRequest => "get_request", Read;
    FindByBarcode => "find_by_barcode", Read;
    History => "history", Read;
    AppendHistory => "append_history", OtherWrite;
    Claim => "claim", Claim;
    Begin => "begin", Claim;
    RecordReplay => "record_replay", OtherWrite;
    Commit => "commit", Commit;
    Release => "release", OtherWrite;
    PutDiscovery => "put_discovery", OtherWrite;
    GetDiscovery => "get_discovery", Read;
    CountAttempt => "count_attempt", OtherWrite;
    Attempts => "attempts", Read;
    ClearAttempts => "clear_attempts", OtherWrite;
    RememberPatron => "remember_patron", OtherWrite;
    KnowsPatron => "knows_patron", Read;
    Enqueue => "enqueue", Commit;
    QueuedFor => "queued_for", Read;
    OpenQueue => "open_queue", Read;
    OpenQueueAfter => "open_queue_after", Read;
    OpenCount => "open_count", Read;
    OpenMessage => "open_message", Read;
    UpdateQueued => "update_queued", OtherWrite;
    OpenForBarcode => "open_for_barcode", Read;
    RecordBulk => "record_bulk", OtherWrite;
    BulkActions => "bulk_actions", Read;
    UpdateBulk => "update_bulk", OtherWrite;
    HasMarker => "has_marker", Read;
    RecordMarker => "record_marker", OtherWrite;
    FollowUp => "follow_up", Read;
    DueFollowUps => "due_follow_ups", Read;
    RescheduleFollowUp => "reschedule_follow_up", OtherWrite;
    FinishFollowUp => "finish_follow_up", OtherWrite;
    RecordProblem => "record_problem", OtherWrite;
    ProblemsSince => "problems_since", Read;
    RecordsAfter => "records_after", Read;
    ReconcileDoc => "reconcile_doc", Read;
    PutReconcileDoc => "put_reconcile_doc", OtherWrite;
    RecordAlmaIds => "record_alma_ids", OtherWrite;
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

type Hook = dyn Fn(Operation) -> Option<StoreError> + Send + Sync;

/// Wraps any store: before each call it asks the hook, and `Some(error)` fails the call with that error
/// without reaching the inner store (so nothing is written), while `None` passes the call through.
///
/// The hook sees every call, so it can also count them (by [`Operation::kind`]) or fail only the n-th one.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    hook: Box<Hook>,
}

impl FaultyStore {
    /// `inner` keeps its state across injected failures: a test reads it back to see what was written.
    pub fn new(
        inner: Arc<dyn Store>,
        hook: impl Fn(Operation) -> Option<StoreError> + Send + Sync + 'static,
    ) -> FaultyStore {
        FaultyStore { inner, hook: Box::new(hook) }
    }

    fn check(&self, operation: Operation) -> Result<(), StoreError> {
        match (self.hook)(operation) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyStore").finish_non_exhaustive()
    }
}

// Every method of the trait must be written out here (the trait has no default methods), so a new method
// cannot pass the hook by: it fails to compile until it has an operation of its own.
#[async_trait]
impl Store for FaultyStore {
    async fn get_request(&self, id: &RelaisRequestId) -> Result<Option<Correlation>, StoreError> {
        self.check(Operation::GetRequest)?;
        self.inner.get_request(id).await
    }

    async fn find_by_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<Correlation>, StoreError> {
        self.check(Operation::FindByBarcode)?;
        self.inner.find_by_barcode(barcode).await
    }

    async fn history(&self, id: &RelaisRequestId) -> Result<Vec<HistoryEntry>, StoreError> {
        self.check(Operation::History)?;
        self.inner.history(id).await
    }

    async fn append_history(&self, id: &RelaisRequestId, entry: &HistoryEntry) -> Result<(), StoreError> {
        self.check(Operation::AppendHistory)?;
        self.inner.append_history(id, entry).await
    }

    async fn claim(
        &self,
        key: &IdempotencyKey,
        owner: &ClaimToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<ClaimOutcome, StoreError> {
        self.check(Operation::Claim)?;
        self.inner.claim(key, owner, now, lease).await
    }

    async fn begin(&self, begin: Begin<'_>) -> Result<Begun, StoreError> {
        self.check(Operation::Begin)?;
        self.inner.begin(begin).await
    }

    async fn record_replay(
        &self,
        key: &IdempotencyKey,
        request: &RelaisRequestId,
        entry: &HistoryEntry,
    ) -> Result<bool, StoreError> {
        self.check(Operation::RecordReplay)?;
        self.inner.record_replay(key, request, entry).await
    }

    async fn commit(&self, commit: Commit<'_>) -> Result<CommitOutcome, StoreError> {
        self.check(Operation::Commit)?;
        self.inner.commit(commit).await
    }

    async fn release(&self, key: &IdempotencyKey, owner: &ClaimToken) -> Result<(), StoreError> {
        self.check(Operation::Release)?;
        self.inner.release(key, owner).await
    }

    async fn put_discovery(&self, id: &str, citation: &serde_json::Value, now: Timestamp) -> Result<(), StoreError> {
        self.check(Operation::PutDiscovery)?;
        self.inner.put_discovery(id, citation, now).await
    }

    async fn get_discovery(&self, id: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
        self.check(Operation::GetDiscovery)?;
        self.inner.get_discovery(id, now).await
    }

    async fn count_attempt(&self, key: &AttemptKey, rule: AttemptRule, now: Timestamp) -> Result<Attempt, StoreError> {
        self.check(Operation::CountAttempt)?;
        self.inner.count_attempt(key, rule, now).await
    }

    async fn attempts(&self, key: &AttemptKey, now: Timestamp) -> Result<Option<AttemptCount>, StoreError> {
        self.check(Operation::Attempts)?;
        self.inner.attempts(key, now).await
    }

    async fn clear_attempts(&self, key: &AttemptKey) -> Result<(), StoreError> {
        self.check(Operation::ClearAttempts)?;
        self.inner.clear_attempts(key).await
    }

    async fn remember_patron(&self, key: &PatronKey, expires_at: Timestamp) -> Result<(), StoreError> {
        self.check(Operation::RememberPatron)?;
        self.inner.remember_patron(key, expires_at).await
    }

    async fn knows_patron(&self, key: &PatronKey, now: Timestamp) -> Result<bool, StoreError> {
        self.check(Operation::KnowsPatron)?;
        self.inner.knows_patron(key, now).await
    }

    async fn enqueue(&self, enqueue: Enqueue<'_>) -> Result<EnqueueOutcome, StoreError> {
        self.check(Operation::Enqueue)?;
        self.inner.enqueue(enqueue).await
    }

    async fn queued_for(&self, id: &RelaisRequestId) -> Result<Vec<QueuedMessage>, StoreError> {
        self.check(Operation::QueuedFor)?;
        self.inner.queued_for(id).await
    }

    async fn open_queue(&self, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        self.check(Operation::OpenQueue)?;
        self.inner.open_queue(limit).await
    }

    async fn open_queue_after(&self, after: &str, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        self.check(Operation::OpenQueueAfter)?;
        self.inner.open_queue_after(after, limit).await
    }

    async fn open_count(&self) -> Result<u64, StoreError> {
        self.check(Operation::OpenCount)?;
        self.inner.open_count().await
    }

    async fn open_message(&self, id: &str) -> Result<Option<QueuedMessage>, StoreError> {
        self.check(Operation::OpenMessage)?;
        self.inner.open_message(id).await
    }

    async fn update_queued(
        &self,
        message: &QueuedMessage,
        expected: QueueState,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.check(Operation::UpdateQueued)?;
        self.inner.update_queued(message, expected, now).await
    }

    async fn open_for_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<QueuedMessage>, StoreError> {
        self.check(Operation::OpenForBarcode)?;
        self.inner.open_for_barcode(barcode).await
    }

    async fn record_bulk(&self, action: &BulkAction) -> Result<(), StoreError> {
        self.check(Operation::RecordBulk)?;
        self.inner.record_bulk(action).await
    }

    async fn bulk_actions(&self, limit: usize) -> Result<Vec<BulkAction>, StoreError> {
        self.check(Operation::BulkActions)?;
        self.inner.bulk_actions(limit).await
    }

    async fn update_bulk(&self, action: &BulkAction, expected: Timestamp) -> Result<bool, StoreError> {
        self.check(Operation::UpdateBulk)?;
        self.inner.update_bulk(action, expected).await
    }

    async fn has_marker(&self, marker: &str) -> Result<bool, StoreError> {
        self.check(Operation::HasMarker)?;
        self.inner.has_marker(marker).await
    }

    async fn record_marker(&self, marker: &str, now: Timestamp) -> Result<(), StoreError> {
        self.check(Operation::RecordMarker)?;
        self.inner.record_marker(marker, now).await
    }

    async fn follow_up(&self, id: &str) -> Result<Option<FollowUp>, StoreError> {
        self.check(Operation::FollowUp)?;
        self.inner.follow_up(id).await
    }

    async fn due_follow_ups(&self, now: Timestamp, limit: usize) -> Result<Vec<FollowUp>, StoreError> {
        self.check(Operation::DueFollowUps)?;
        self.inner.due_follow_ups(now, limit).await
    }

    async fn reschedule_follow_up(&self, follow_up: &FollowUp) -> Result<bool, StoreError> {
        self.check(Operation::RescheduleFollowUp)?;
        self.inner.reschedule_follow_up(follow_up).await
    }

    async fn finish_follow_up(&self, finish: FinishFollowUp<'_>) -> Result<FinishOutcome, StoreError> {
        self.check(Operation::FinishFollowUp)?;
        self.inner.finish_follow_up(finish).await
    }

    async fn record_problem(&self, problem: &crate::AnsweredProblem) -> Result<(), StoreError> {
        self.check(Operation::RecordProblem)?;
        self.inner.record_problem(problem).await
    }

    async fn problems_since(&self, since: Timestamp, limit: usize) -> Result<Vec<crate::AnsweredProblem>, StoreError> {
        self.check(Operation::ProblemsSince)?;
        self.inner.problems_since(since, limit).await
    }

    async fn records_after(
        &self,
        after: Option<&RelaisRequestId>,
        limit: usize,
    ) -> Result<Vec<Correlation>, StoreError> {
        self.check(Operation::RecordsAfter)?;
        self.inner.records_after(after, limit).await
    }

    async fn reconcile_doc(&self, name: &str) -> Result<Option<crate::ReconcileDoc>, StoreError> {
        self.check(Operation::ReconcileDoc)?;
        self.inner.reconcile_doc(name).await
    }

    async fn put_reconcile_doc(
        &self,
        name: &str,
        body: &serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        self.check(Operation::PutReconcileDoc)?;
        self.inner.put_reconcile_doc(name, body, expected, expires_at).await
    }

    async fn record_alma_ids(
        &self,
        id: &RelaisRequestId,
        alma: &crate::AlmaIds,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        self.check(Operation::RecordAlmaIds)?;
        self.inner.record_alma_ids(id, alma, expected_version).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;
    use crate::{AttemptScope, EmbeddedStore, Outcome, PartnerCode, RequestStatus, Side, StoreConfig};

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_900_000_000 + second).unwrap()
    }

    fn unavailable(operation: Operation) -> StoreError {
        StoreError::Unavailable { operation: operation.name(), cause: "injected" }
    }

    fn in_memory() -> Arc<dyn Store> {
        Arc::new(EmbeddedStore::in_memory(StoreConfig::default().with_clock(|| at(0))).unwrap())
    }

    /// Calls every method of the trait once, in the trait's order, with arguments an empty store accepts;
    /// returns which of them failed and with what operation name in the error.
    async fn call_every_method(store: &dyn Store) -> Vec<(&'static str, bool)> {
        let request = RelaisRequestId::new("R-faulty").unwrap();
        let barcode = ItemBarcode::new("B-faulty").unwrap();
        let key = IdempotencyKey::derive("AcceptItem", Some(&request), None, b"<accept/>");
        let owner = ClaimToken::new("attempt-1").unwrap();
        let history = HistoryEntry::new("AcceptItem", at(1), Outcome::Success);
        let mut record = Correlation::new(
            request.clone(),
            Side::Borrowing,
            PartnerCode::new("RELAIS").unwrap(),
            RequestStatus::OnHoldShelf,
            at(1),
        );
        record.item_barcodes = vec![barcode.clone()];
        let attempt = AttemptKey::new(AttemptScope::Patron, &"0f".repeat(32)).unwrap();
        let patron = crate::PatronKey::new(&"0e".repeat(32)).unwrap();
        let queued_key = IdempotencyKey::derive("CheckInItem", Some(&request), None, b"<check-in/>");
        let message = QueuedMessage::new(request.clone(), "CheckInItem", queued_key.clone(), b"<x/>".to_vec(), at(2));
        let bulk = BulkAction::new(crate::BulkKind::Redrive, Default::default(), 0, at(3), "faulty");
        let problem = crate::AnsweredProblem {
            at: at(2),
            request: request.clone(),
            message_type: "AcceptItem".to_owned(),
            partner: None,
            temporary: false,
            problem_type: "Unknown Item".to_owned(),
        };
        let lease = Duration::from_secs(30);
        let keep = Duration::from_secs(900);
        let citation = serde_json::json!({"genre": "book"});
        let follow_up = FollowUp {
            id: "read-back-1".to_owned(),
            request: request.clone(),
            work: serde_json::json!({"read": "item"}),
            attempts: 0,
            due_at: at(1),
            created_at: at(1),
            last_error: None,
        };
        let finish = FinishFollowUp { id: "read-back-1", record: None, now: at(3) };
        let commit = Commit {
            key: &key,
            owner: &owner,
            response: b"<ok/>",
            record: &record,
            expected_version: None,
            history: &history,
            now: at(1),
            follow_up: None,
        };
        let begun_key = IdempotencyKey::derive("RenewItem", Some(&request), None, b"<renew/>");
        let begin = Begin {
            key: &begun_key,
            owner: &owner,
            request: &request,
            now: at(1),
            lease,
            open_queue: true,
            patron: None,
        };
        let enqueue = Enqueue {
            key: &queued_key,
            owner: &owner,
            response: b"<ok/>",
            message: &message,
            history: &history,
            now: at(2),
            limits: Default::default(),
        };
        let failed = |result: Result<(), StoreError>| match result {
            Ok(()) => false,
            Err(StoreError::Unavailable { cause: "injected", .. }) => true,
            Err(other) => panic!("the inner store failed: {other}"),
        };
        vec![
            ("get_request", failed(store.get_request(&request).await.map(drop))),
            ("find_by_barcode", failed(store.find_by_barcode(&barcode).await.map(drop))),
            ("history", failed(store.history(&request).await.map(drop))),
            ("append_history", failed(store.append_history(&request, &history).await)),
            ("claim", failed(store.claim(&key, &owner, at(1), lease).await.map(drop))),
            ("begin", failed(store.begin(begin).await.map(drop))),
            ("record_replay", failed(store.record_replay(&key, &request, &history).await.map(drop))),
            ("commit", failed(store.commit(commit).await.map(drop))),
            ("release", failed(store.release(&key, &owner).await)),
            ("put_discovery", failed(store.put_discovery("citation-1", &citation, at(1)).await)),
            ("get_discovery", failed(store.get_discovery("citation-1", at(1)).await.map(drop))),
            (
                "count_attempt",
                failed(
                    store.count_attempt(&attempt, AttemptRule { limit: 5, lock: keep, keep }, at(1)).await.map(drop),
                ),
            ),
            ("attempts", failed(store.attempts(&attempt, at(1)).await.map(drop))),
            ("clear_attempts", failed(store.clear_attempts(&attempt).await)),
            ("remember_patron", failed(store.remember_patron(&patron, at(9)).await)),
            ("knows_patron", failed(store.knows_patron(&patron, at(1)).await.map(drop))),
            ("enqueue", failed(store.enqueue(enqueue).await.map(drop))),
            ("queued_for", failed(store.queued_for(&request).await.map(drop))),
            ("open_queue", failed(store.open_queue(10).await.map(drop))),
            ("open_queue_after", failed(store.open_queue_after(&message.id, 10).await.map(drop))),
            ("open_count", failed(store.open_count().await.map(drop))),
            ("open_message", failed(store.open_message(&message.id).await.map(drop))),
            ("update_queued", failed(store.update_queued(&message, QueueState::Waiting, at(3)).await.map(drop))),
            ("open_for_barcode", failed(store.open_for_barcode(&barcode).await.map(drop))),
            ("record_bulk", failed(store.record_bulk(&bulk).await)),
            ("bulk_actions", failed(store.bulk_actions(10).await.map(drop))),
            ("update_bulk", failed(store.update_bulk(&bulk, at(3)).await.map(drop))),
            ("has_marker", failed(store.has_marker("alma-reached").await.map(drop))),
            ("record_marker", failed(store.record_marker("alma-reached", at(3)).await)),
            ("follow_up", failed(store.follow_up("read-back-1").await.map(drop))),
            ("due_follow_ups", failed(store.due_follow_ups(at(3), 10).await.map(drop))),
            ("reschedule_follow_up", failed(store.reschedule_follow_up(&follow_up).await.map(drop))),
            ("finish_follow_up", failed(store.finish_follow_up(finish).await.map(drop))),
            ("record_problem", failed(store.record_problem(&problem).await)),
            ("problems_since", failed(store.problems_since(at(1), 10).await.map(drop))),
            ("records_after", failed(store.records_after(Some(&request), 10).await.map(drop))),
            ("reconcile_doc", failed(store.reconcile_doc("progress").await.map(drop))),
            (
                "put_reconcile_doc",
                failed(store.put_reconcile_doc("progress", &citation, None, Some(at(9))).await.map(drop)),
            ),
            ("record_alma_ids", failed(store.record_alma_ids(&request, &Default::default(), 1).await.map(drop))),
        ]
    }

    #[tokio::test]
    async fn every_method_consults_the_hook_once_under_its_own_operation_in_trait_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let store = FaultyStore::new(in_memory(), move |operation| {
            record.lock().unwrap().push(operation);
            None
        });
        let called: Vec<_> = call_every_method(&store).await.into_iter().map(|(name, _)| name).collect();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, Operation::ALL, "a method consults the wrong operation, or none");
        assert_eq!(seen.iter().map(|o| o.name()).collect::<Vec<_>>(), called);
        assert_eq!(Operation::ALL.iter().collect::<HashSet<_>>().len(), Operation::ALL.len());
    }

    #[tokio::test]
    async fn a_hooked_operation_alone_fails_and_the_others_reach_the_inner_store() {
        for hooked in Operation::ALL {
            let store =
                FaultyStore::new(in_memory(), move |operation| (operation == hooked).then(|| unavailable(operation)));
            let failed: Vec<_> = call_every_method(&store)
                .await
                .into_iter()
                .filter(|(_, failed)| *failed)
                .map(|(name, _)| name)
                .collect();
            assert_eq!(failed, [hooked.name()]);
        }
    }

    #[tokio::test]
    async fn a_failed_call_writes_nothing_and_the_calls_around_it_do() {
        let inner = in_memory();
        let request = RelaisRequestId::new("R-faulty").unwrap();
        // The queued message's key, claimed beforehand so that the enqueue (not consulted here) is accepted.
        let queued_key = IdempotencyKey::derive("CheckInItem", Some(&request), None, b"<check-in/>");
        let owner = ClaimToken::new("attempt-1").unwrap();
        inner.claim(&queued_key, &owner, at(0), Duration::from_secs(30)).await.unwrap();
        let store = FaultyStore::new(Arc::clone(&inner), |operation| {
            (operation == Operation::Commit).then(|| unavailable(operation))
        });
        call_every_method(&store).await;
        assert_eq!(inner.get_request(&request).await.unwrap(), None, "the failed commit reached the store");
        // Outside the commit, the history entry went through, and so did the queued message.
        assert_eq!(inner.history(&request).await.unwrap().len(), 2);
        assert_eq!(inner.queued_for(&request).await.unwrap().len(), 1);
        // The claim went through, and the release freed it: the key is claimable again.
        let key = IdempotencyKey::derive("AcceptItem", Some(&request), None, b"<accept/>");
        let again = inner.claim(&key, &ClaimToken::new("attempt-2").unwrap(), at(1), Duration::from_secs(30)).await;
        assert_eq!(again.unwrap(), ClaimOutcome::Claimed);
    }

    #[test]
    fn operations_are_named_after_their_trait_methods_and_counted_by_kind() {
        assert_eq!(Operation::ALL.len(), 39);
        assert_eq!(Operation::ALL[0].name(), "get_request");
        assert_eq!(Operation::UpdateQueued.to_string(), "update_queued");
        let commits: Vec<_> = Operation::ALL.into_iter().filter(|o| o.kind() == OperationKind::Commit).collect();
        assert_eq!(commits, [Operation::Commit, Operation::Enqueue]);
        let claims: Vec<_> = Operation::ALL.into_iter().filter(|o| o.kind() == OperationKind::Claim).collect();
        assert_eq!(claims, [Operation::Claim, Operation::Begin]);
    }
}
