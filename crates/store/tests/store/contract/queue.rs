//! Contract scenarios for the outbox: queueing with the claim, order per request, the open queue across
//! requests, state changes guarded by the state they expect, and what ages out.

use std::time::Duration;

use bridge_store::{
    BulkAction, BulkKind, BulkState, ClaimOutcome, Enqueue, EnqueueOutcome, QueueFilter, QueueLimit, QueueLimits,
    QueueState, QueuedMessage, StoreConfig,
};

use super::*;

const LEASE: Duration = Duration::from_secs(30);

/// Claims `message`'s key and queues it for request `request` at `at`.
pub async fn queue(store: &dyn Store, message: &str, request: &str, at: Timestamp) -> QueuedMessage {
    queue_naming(store, message, request, None, at).await
}

/// [`queue`] for a message that names the item `item` (a receive or ship a check-in waits behind).
pub async fn queue_naming(
    store: &dyn Store,
    message: &str,
    request: &str,
    item: Option<&str>,
    at: Timestamp,
) -> QueuedMessage {
    let key = message_key(message);
    let owner = token(&format!("{message}-attempt"));
    assert_eq!(store.claim(&key, &owner, at, LEASE).await.unwrap(), ClaimOutcome::Claimed, "claiming {message}");
    let mut queued = QueuedMessage::new(rid(request), "AcceptItem", key.clone(), message.as_bytes().to_vec(), at);
    queued.barcode = item.map(barcode);
    let history = entry("AcceptItem", at);
    let outcome = store
        .enqueue(Enqueue {
            key: &key,
            owner: &owner,
            response: format!("<{message}Response/>").as_bytes(),
            message: &queued,
            history: &history,
            now: at,
            limits: QueueLimits::default(),
        })
        .await
        .unwrap();
    assert_eq!(outcome, EnqueueOutcome::Queued, "queueing {message}");
    queued
}

pub async fn a_queued_message_is_done_for_its_sender_and_waits_in_its_request(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let queued = queue(&*h.store, "accept Q1", "Q1", t0()).await;
    // Relais resending the message gets the answer it got, not a second queueing.
    match h.store.claim(&message_key("accept Q1"), &token("resend"), after(1), LEASE).await.unwrap() {
        ClaimOutcome::Done(stored) => assert_eq!(stored.body, b"<accept Q1Response/>"),
        other => panic!("expected the stored answer, got {other:?}"),
    }
    assert_eq!(h.store.queued_for(&rid("Q1")).await.unwrap(), std::slice::from_ref(&queued));
    assert_eq!(h.store.open_message(&queued.id).await.unwrap(), Some(queued.clone()));
    assert_eq!(h.store.history(&rid("Q1")).await.unwrap().len(), 1);
    // Another request's queue is its own.
    assert!(h.store.queued_for(&rid("Q2")).await.unwrap().is_empty());
}

pub async fn queueing_after_the_claim_was_taken_over_is_claim_lost_and_writes_nothing(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let key = message_key("accept Q3");
    h.store.claim(&key, &token("slow"), t0(), LEASE).await.unwrap();
    h.store.claim(&key, &token("fast"), after(31), LEASE).await.unwrap();
    let queued = QueuedMessage::new(rid("Q3"), "AcceptItem", key.clone(), b"x".to_vec(), after(40));
    let history = entry("AcceptItem", after(40));
    let outcome = h
        .store
        .enqueue(Enqueue {
            key: &key,
            owner: &token("slow"),
            response: b"late",
            message: &queued,
            history: &history,
            now: after(40),
            limits: QueueLimits::default(),
        })
        .await
        .unwrap();
    assert_eq!(outcome, EnqueueOutcome::ClaimLost);
    assert!(h.store.queued_for(&rid("Q3")).await.unwrap().is_empty());
    assert!(h.store.open_queue(10).await.unwrap().is_empty());
    assert!(h.store.history(&rid("Q3")).await.unwrap().is_empty());
}

pub async fn messages_of_a_request_read_back_in_queueing_order_and_the_queue_oldest_first(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let accept = queue(&*h.store, "accept Q4", "Q4", after(1)).await;
    let other = queue(&*h.store, "accept Q5", "Q5", after(2)).await;
    let check_in = queue(&*h.store, "check in Q4", "Q4", after(3)).await;
    let ids = |messages: Vec<QueuedMessage>| messages.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(ids(h.store.queued_for(&rid("Q4")).await.unwrap()), [accept.id.clone(), check_in.id.clone()]);
    assert_eq!(ids(h.store.open_queue(10).await.unwrap()), [accept.id.clone(), other.id.clone(), check_in.id]);
    assert_eq!(ids(h.store.open_queue(2).await.unwrap()), [accept.id, other.id]);
}

pub async fn a_state_change_holds_only_from_the_state_it_expects(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let queued = queue(&*h.store, "accept Q6", "Q6", t0()).await;
    let parked = QueuedMessage {
        state: QueueState::Parked,
        attempts: 1,
        last_answer: Some("User Blocked".into()),
        updated_at: after(5),
        ..queued.clone()
    };
    assert!(h.store.update_queued(&parked, QueueState::Waiting, after(5)).await.unwrap());
    // A second deliverer (or a staff action) that read it waiting is refused now.
    let delivered = QueuedMessage { state: QueueState::Delivered, ..queued.clone() };
    assert!(!h.store.update_queued(&delivered, QueueState::Waiting, after(6)).await.unwrap());
    assert_eq!(h.store.open_message(&queued.id).await.unwrap(), Some(parked.clone()));
    assert_eq!(h.store.open_queue(10).await.unwrap(), std::slice::from_ref(&parked));
    // Staff re-drive it; it is delivered and leaves the open queue, but its request still shows it.
    let waiting = QueuedMessage { state: QueueState::Waiting, note: Some("unblocked".into()), ..parked.clone() };
    assert!(h.store.update_queued(&waiting, QueueState::Parked, after(7)).await.unwrap());
    let delivered = QueuedMessage { state: QueueState::Delivered, ..waiting };
    assert!(h.store.update_queued(&delivered, QueueState::Waiting, after(8)).await.unwrap());
    assert!(h.store.open_queue(10).await.unwrap().is_empty());
    assert_eq!(h.store.open_message(&queued.id).await.unwrap(), None);
    assert_eq!(h.store.queued_for(&rid("Q6")).await.unwrap(), [delivered]);
}

pub async fn open_messages_never_expire_and_finished_ones_age_out_like_history(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, clock) = fresh(open).await;
    let waiting = queue(&*h.store, "accept Q7", "Q7", t0()).await;
    let done = queue(&*h.store, "accept Q8", "Q8", t0()).await;
    let discarded = QueuedMessage { state: QueueState::Discarded, note: Some("sent by hand".into()), ..done.clone() };
    assert!(h.store.update_queued(&discarded, QueueState::Waiting, after(10)).await.unwrap());
    clock.set(after(10 + 400 * DAY - 1));
    assert_eq!(h.store.queued_for(&rid("Q8")).await.unwrap(), [discarded]);
    clock.set(after(10 + 400 * DAY));
    assert!(h.store.queued_for(&rid("Q8")).await.unwrap().is_empty());
    assert_eq!(h.store.queued_for(&rid("Q7")).await.unwrap(), std::slice::from_ref(&waiting));
    assert_eq!(h.store.open_queue(10).await.unwrap(), [waiting]);
}

/// Claims `message`'s key and tries to queue it under `limits`: the outcome.
async fn try_queue(store: &dyn Store, message: &str, request: &str, limits: QueueLimits) -> EnqueueOutcome {
    let key = message_key(message);
    let owner = token(&format!("{message}-attempt"));
    store.claim(&key, &owner, t0(), LEASE).await.unwrap();
    let queued = QueuedMessage::new(rid(request), "AcceptItem", key.clone(), message.as_bytes().to_vec(), t0());
    let history = entry("AcceptItem", t0());
    let enqueue = Enqueue {
        key: &key,
        owner: &owner,
        response: b"<ok/>",
        message: &queued,
        history: &history,
        now: t0(),
        limits,
    };
    store.enqueue(enqueue).await.unwrap()
}

pub async fn the_outbox_refuses_a_message_past_its_bounds_and_counts_a_settled_one_out(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let limits = QueueLimits { per_request: 2, total: 3 };
    assert_eq!(try_queue(&*h.store, "b1", "QB1", limits).await, EnqueueOutcome::Queued);
    assert_eq!(try_queue(&*h.store, "b2", "QB1", limits).await, EnqueueOutcome::Queued);
    assert_eq!(try_queue(&*h.store, "b3", "QB1", limits).await, EnqueueOutcome::Full(QueueLimit::PerRequest));
    assert_eq!(h.store.queued_for(&rid("QB1")).await.unwrap().len(), 2, "nothing written for the third");
    assert_eq!(try_queue(&*h.store, "b4", "QB2", limits).await, EnqueueOutcome::Queued);
    assert_eq!(try_queue(&*h.store, "b5", "QB3", limits).await, EnqueueOutcome::Full(QueueLimit::Total));
    assert_eq!(h.store.open_count().await.unwrap(), 3);
    // A delivered message leaves both counts.
    let first = h.store.queued_for(&rid("QB1")).await.unwrap().remove(0);
    let delivered = QueuedMessage { state: QueueState::Delivered, ..first };
    assert!(h.store.update_queued(&delivered, QueueState::Waiting, after(1)).await.unwrap());
    assert_eq!(h.store.open_count().await.unwrap(), 2);
    assert_eq!(try_queue(&*h.store, "b6", "QB1", limits).await, EnqueueOutcome::Queued);
}

pub async fn the_open_queue_pages_on_from_any_message_in_queueing_order(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let ids = |messages: Vec<QueuedMessage>| messages.into_iter().map(|m| m.id).collect::<Vec<_>>();
    let mut queued = Vec::new();
    for n in 0..5 {
        queued.push(queue(&*h.store, &format!("page {n}"), &format!("QP{n}"), after(n)).await.id);
    }
    let first = h.store.open_queue(2).await.unwrap();
    assert_eq!(ids(first.clone()), queued[..2]);
    let second = h.store.open_queue_after(&first[1].id, 2).await.unwrap();
    assert_eq!(ids(second.clone()), queued[2..4]);
    let last = h.store.open_queue_after(&second[1].id, 2).await.unwrap();
    assert_eq!(ids(last.clone()), queued[4..]);
    assert!(h.store.open_queue_after(&last[0].id, 2).await.unwrap().is_empty());
}

pub async fn a_marker_is_recorded_once_and_stays(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, clock) = fresh(open).await;
    assert!(!h.store.has_marker("alma-ncip-answered#1").await.unwrap());
    h.store.record_marker("alma-ncip-answered#1", t0()).await.unwrap();
    h.store.record_marker("alma-ncip-answered#1", after(1)).await.unwrap();
    assert!(h.store.has_marker("alma-ncip-answered#1").await.unwrap());
    assert!(!h.store.has_marker("alma-ncip-answered#2").await.unwrap());
    clock.set(after(1000 * DAY));
    assert!(h.store.has_marker("alma-ncip-answered#1").await.unwrap(), "a marker never expires");
}

pub async fn an_open_message_is_found_by_its_item_until_it_is_settled(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let first = queue_naming(&*h.store, "accept Q20", "Q20", Some("B-20"), t0()).await;
    let second = queue_naming(&*h.store, "accept Q21", "Q21", Some("B-20"), after(1)).await;
    queue_naming(&*h.store, "accept Q22", "Q22", Some("B-22"), after(2)).await;
    queue(&*h.store, "accept Q23", "Q23", after(3)).await;
    let found = h.store.open_for_barcode(&barcode("B-20")).await.unwrap();
    assert_eq!(found, [first.clone(), second.clone()], "oldest first, only the item's own");
    // Parked is still open: a check-in still waits behind it.
    let parked = QueuedMessage { state: QueueState::Parked, updated_at: after(5), ..first.clone() };
    assert!(h.store.update_queued(&parked, QueueState::Waiting, after(5)).await.unwrap());
    assert_eq!(h.store.open_for_barcode(&barcode("B-20")).await.unwrap(), [parked.clone(), second.clone()]);
    // Delivered or discarded, it is no longer in the way.
    let delivered = QueuedMessage { state: QueueState::Delivered, ..parked };
    assert!(h.store.update_queued(&delivered, QueueState::Parked, after(6)).await.unwrap());
    assert_eq!(h.store.open_for_barcode(&barcode("B-20")).await.unwrap(), [second]);
    assert!(h.store.open_for_barcode(&barcode("B-unknown")).await.unwrap().is_empty());
}

pub async fn a_bulk_action_is_recorded_once_and_its_progress_written_over_the_last_write_only(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, clock) = fresh(open).await;
    let filter = QueueFilter { message_type: Some("AcceptItem".into()), ..QueueFilter::default() };
    let older = BulkAction::new(BulkKind::Discard, QueueFilter::default(), 2, t0(), "first");
    let action = BulkAction::new(BulkKind::Redrive, filter, 3, after(1), "second");
    h.store.record_bulk(&older).await.unwrap();
    h.store.record_bulk(&action).await.unwrap();
    assert!(h.store.record_bulk(&action).await.is_err(), "an id is recorded once");
    assert_eq!(h.store.bulk_actions(10).await.unwrap(), [action.clone(), older.clone()], "newest first");
    assert_eq!(h.store.bulk_actions(1).await.unwrap(), std::slice::from_ref(&action));

    let progress = BulkAction { done: 2, cursor: Some("m-2".into()), updated_at: after(2), ..action.clone() };
    assert!(h.store.update_bulk(&progress, action.updated_at).await.unwrap());
    // A second deliverer that read the action before that write is refused.
    let stale = BulkAction { done: 1, updated_at: after(3), ..action.clone() };
    assert!(!h.store.update_bulk(&stale, action.updated_at).await.unwrap());
    let finished = BulkAction { state: BulkState::Done, done: 3, updated_at: after(4), ..progress.clone() };
    assert!(h.store.update_bulk(&finished, progress.updated_at).await.unwrap());
    assert_eq!(h.store.bulk_actions(10).await.unwrap(), [finished, older.clone()]);
    // A finished action ages out like history; a pending one stays until it is carried out.
    clock.set(after(4 + 400 * DAY));
    assert_eq!(h.store.bulk_actions(10).await.unwrap(), [older]);
}

pub async fn a_resend_of_a_queued_message_begins_as_its_answer_with_the_queued_copy_beside_it(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let queued = queue(&*h.store, "accept Q30", "Q30", t0()).await;
    let (key, request) = (message_key("accept Q30"), rid("Q30"));
    let begin = bridge_store::Begin {
        key: &key,
        owner: &token("resend"),
        request: &request,
        now: after(1),
        lease: LEASE,
        open_queue: true,
        patron: None,
    };
    let begun = h.store.begin(begin).await.unwrap();
    assert!(matches!(begun.claim, ClaimOutcome::Done(_)), "{begun:?}");
    assert_eq!(begun.open_queue, Some(vec![queued]));
}
