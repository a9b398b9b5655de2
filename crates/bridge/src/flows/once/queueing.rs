//! The driver's side of the outbox: queueing a message Alma cannot take (answering Relais at once), and
//! delivering it later under the same exactly-once rules.
//!
//! Delivery claims a key of its own, derived from the message's key: the message's key is already done (it
//! holds the answer Relais got), and a delivery that dies mid-way must be taken over and reconciled like any
//! other attempt. The queued message's state is moved with the state it is expected to be in, so a delivery
//! never overwrites a staff decision taken meanwhile.

use std::time::Duration;

use super::{
    Action, Attempt, Claimed, Effect, ExactlyOnce, act, claim, claim_token, commit, history_entry, patron_beside_claim,
    problem_answer, record_history,
};
use crate::alma::CallContext;
use crate::flows::Bridge;
use crate::ncip::{self, Message, Problem};
use crate::store::{
    ClaimToken, Enqueue, EnqueueOutcome, IdempotencyKey, Outcome, QueueLimit, QueueState, QueuedMessage,
};

/// The longest pause between two delivery attempts of one message: short enough that a message is in Alma
/// within half a minute of Alma coming back, long enough that a day-long outage costs a few thousand calls.
const LONGEST_RETRY: Duration = Duration::from_secs(20);

/// How long after its `attempts`-th failed attempt a message is tried again: doubling from 2 s up to
/// [`LONGEST_RETRY`].
pub fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(1, 5)).min(LONGEST_RETRY)
}

/// Queues the message under the claim `owner` holds and answers Relais with `answer`. `why` is what kept it
/// from Alma: the reason, whether Alma may have acted (the answer was lost after sending), and Alma's
/// tracking id.
pub(super) async fn enqueue(
    bridge: &Bridge,
    action: &Action<'_>,
    service: &dyn ExactlyOnce,
    owner: &ClaimToken,
    answer: Message,
    (why, outcome_unknown, tracking_id): (&str, bool, Option<String>),
    ctx: &CallContext,
) -> Vec<u8> {
    let now = bridge.clock.now();
    let mut message = QueuedMessage::new(
        action.request.clone(),
        action.service.element_name(),
        action.key.clone(),
        action.inbound.received.to_vec(),
        now,
    );
    message.barcode = service.item_barcode().cloned();
    // Kept so that staff can pick a partner's messages for a bulk action without the body being read.
    message.partner = Some(crate::flows::ids::partner(bridge, action.header));
    message.reconcile = outcome_unknown;
    message.last_answer = Some(why.to_owned());
    let body = super::answer_as_sent(bridge, action, &answer, ctx);
    let history = history_entry(bridge, action, Outcome::Queued, None, ctx, tracking_id);
    let enqueued = bridge
        .store
        .enqueue(Enqueue {
            key: &action.key,
            owner,
            response: &body,
            message: &message,
            history: &history,
            now,
            limits: bridge.settings.outbox.limits,
        })
        .await;
    match enqueued {
        Ok(EnqueueOutcome::Queued) => {
            tracing::warn!(queued_message = %message.id, reason = why, "Alma cannot take the message now: queued");
            crate::flows::history::log_outcome(&action.service, Outcome::Queued);
            crate::metrics::outbox_event("queued");
            crate::flows::outbox::ring(bridge, &message, 0).await;
            body
        }
        Ok(EnqueueOutcome::Full(limit)) => {
            // Nothing was written: the claim is released so that Relais's resend, once there is room, acts.
            let _ = bridge.store.release(&action.key, owner).await;
            let (metric, detail) = match limit {
                QueueLimit::PerRequest => (
                    "per_request",
                    format!(
                        "{why}; the outbox already holds {} messages for this request, so this one was not queued: \
                         send it again once Alma is back",
                        bridge.settings.outbox.limits.per_request
                    ),
                ),
                QueueLimit::Total => (
                    "total",
                    format!(
                        "{why}; the outbox is full ({} messages wait for Alma), so this one was not queued: send \
                         it again once Alma is back",
                        bridge.settings.outbox.limits.total
                    ),
                ),
            };
            tracing::error!(limit = metric, "the outbox is at its bound: a message was refused");
            crate::metrics::outbox_event("full");
            let problem = Problem::temporary_processing_failure(detail);
            record_history(bridge, action, Outcome::TemporaryFailure, Some(&problem), ctx, None).await;
            ncip::write(&problem_answer(action, problem))
        }
        Ok(EnqueueOutcome::ClaimLost) => {
            // Whoever took the claim over is answering for the message; Relais' resend gets their answer.
            let problem = Problem::temporary_processing_failure("the message is being handled; send it again shortly");
            ncip::write(&problem_answer(action, problem))
        }
        Err(err) => {
            tracing::error!(error = %err, "store failed while queueing a message");
            if !outcome_unknown {
                let _ = bridge.store.release(&action.key, owner).await;
            }
            let problem = Problem::temporary_processing_failure(format!("{why}; send the message again later"));
            record_history(bridge, action, Outcome::TemporaryFailure, Some(&problem), ctx, None).await;
            ncip::write(&problem_answer(action, problem))
        }
    }
}

/// What became of a Relais resend whose key is done while its message is still open in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resend {
    /// The same message (the header aside): answered from the store, as any repeat.
    Same,
    /// It said something else and took the queued message's place: that is what Alma will receive.
    Replaced,
    /// It said something else, but the queued message may already have reached Alma or is being delivered
    /// now: answered from the store, the history noting the difference.
    Differed,
}

/// A resend of a message that waits (or is parked) in the outbox under the same key. Relais staff correct a
/// refused receive by sending it again with the fixed patron barcode; the corrected copy replaces the queued
/// body, and is delivered in its place, unless an attempt of the queued one may have reached Alma (its outcome
/// unknown) or a delivery holds it now. Messages that differ only in the header are the same message.
/// `open` is the request's open messages, read beside the claim.
pub(super) async fn resend_of_queued(
    bridge: &Bridge,
    action: &Action<'_>,
    open: Vec<QueuedMessage>,
    ctx: &CallContext,
) -> Resend {
    let Some(queued) = open.into_iter().find(|m| m.key == action.key) else {
        return Resend::Same;
    };
    if same_message(bridge, &queued.body, action.inbound.received) {
        return Resend::Same;
    }
    let note = |said: &str| {
        let mut entry = history_entry(bridge, action, Outcome::Replayed, None, ctx, None);
        entry.note = Some(said.to_owned());
        entry
    };
    // Holding the delivery key proves no delivery is under way, and keeps one from starting meanwhile.
    let owner = claim_token();
    let delivery = delivery_key(&queued);
    let free = !queued.reconcile
        && matches!(
            bridge.store.claim(&delivery, &owner, bridge.clock.now(), super::CLAIM_LEASE).await,
            Ok(crate::store::ClaimOutcome::Claimed)
        );
    if !free {
        let entry = note("a resend differed from the queued message, which may already have reached Alma: kept");
        let _ = bridge.store.append_history(&action.request, &entry).await;
        return Resend::Differed;
    }
    let now = bridge.clock.now();
    let replaced = QueuedMessage {
        body: action.inbound.received.to_vec(),
        state: QueueState::Waiting,
        next_attempt_at: now,
        note: Some("replaced by a corrected resend from Relais".to_owned()),
        updated_at: now,
        ..queued.clone()
    };
    let saved = bridge.store.update_queued(&replaced, queued.state, now).await;
    let _ = bridge.store.release(&delivery, &owner).await;
    if !matches!(saved, Ok(true)) {
        return Resend::Differed;
    }
    let mut entry = history_entry(bridge, action, Outcome::Replaced, None, ctx, None);
    entry.note = Some(format!("replaced the queued message ({}, was {})", queued.id, queued.state.label()));
    let _ = bridge.store.append_history(&action.request, &entry).await;
    crate::flows::history::log_outcome(&action.service, Outcome::Replaced);
    crate::flows::outbox::ring(bridge, &replaced, replaced.attempts.max(1)).await;
    Resend::Replaced
}

/// Whether two copies of a message say the same thing, the initiation header aside (Relais may change
/// timestamps or agency details between sends).
fn same_message(bridge: &Bridge, queued: &[u8], resent: &[u8]) -> bool {
    let read = |bytes: &[u8]| {
        let mut message = ncip::read(bytes, &bridge.read_options).ok()?;
        if let Some(header) = message.initiation_header_mut() {
            *header = crate::ncip::InitiationHeader::default();
        }
        Some(message)
    };
    match (read(queued), read(resent)) {
        (Some(a), Some(b)) => a == b,
        // A copy that does not read cannot be a correction the bridge could deliver.
        _ => true,
    }
}

/// The key a delivery of `queued` claims: one per queued message.
fn delivery_key(queued: &QueuedMessage) -> IdempotencyKey {
    IdempotencyKey::derive("outbox-delivery", Some(&queued.request), None, queued.key.as_str().as_bytes())
}

/// One delivery attempt of a queued message; the outcome is written onto the message (delivered, waiting
/// with the next attempt's time, or parked) and into the request's history. Answers Alma's reply, which
/// nobody reads but the tests.
pub(super) async fn deliver(
    bridge: &Bridge,
    mut action: Action<'_>,
    service: &dyn ExactlyOnce,
    queued: &QueuedMessage,
    ctx: &CallContext,
) -> Vec<u8> {
    action.key = delivery_key(queued);
    let owner = claim_token();
    let patron = patron_beside_claim(bridge, service);
    let (attempt, earlier, before) = match claim(bridge, &action, &owner, patron.as_ref(), ctx).await {
        // The first attempt's answer was lost after sending: Alma may hold the action already. Each earlier
        // attempt of a message marked so left Alma's state unknown.
        Claimed::Act(Attempt::Fresh, _, before) if queued.reconcile => (Attempt::Reconcile, queued.attempts, before),
        Claimed::Act(attempt, earlier, before) => (attempt, earlier, before),
        // An earlier delivery stored Alma's answer but stopped before marking the message.
        Claimed::Replay(stored, _) => {
            settle(bridge, queued, QueueState::Delivered, None).await;
            return stored.body;
        }
        // Another deliverer holds it (or the store is down): its outcome, or the next attempt, decides.
        Claimed::Busy(problem) => return ncip::write(&problem_answer(&action, problem)),
    };
    service.read_beside(before.record.as_ref());
    match act(bridge, service, (attempt, earlier, &before), &action, ctx).await {
        Effect::Done(done) => {
            let committed = commit(bridge, &action, &owner, ctx, (*done, before.record), Outcome::Delivered).await;
            if committed.stored {
                settle(bridge, queued, QueueState::Delivered, None).await;
            } else {
                // Alma holds it but the record could not be written: the claim stays, and the next attempt
                // reconciles (reads Alma's state) instead of acting again.
                retry_later(bridge, queued, "the bridge could not record Alma's answer".into(), true).await;
            }
            committed.body
        }
        Effect::Refused(answer) => {
            if let Err(err) = bridge.store.release(&action.key, &owner).await {
                tracing::warn!(error = %err, "could not release a delivery claim");
            }
            let problem = answer.message.problems().first().cloned();
            record_history(bridge, &action, Outcome::Parked, problem.as_ref(), ctx, answer.tracking_id.clone()).await;
            let said = problem.map_or_else(|| "Alma refused the message".to_owned(), |p| describe(&p));
            settle(bridge, queued, QueueState::Parked, Some(said)).await;
            ncip::write(&answer.message)
        }
        Effect::Temporary { detail, outcome_unknown, tracking_id } => {
            if !outcome_unknown {
                let _ = bridge.store.release(&action.key, &owner).await;
            }
            let problem = Problem::temporary_processing_failure(detail.clone());
            record_history(bridge, &action, Outcome::TemporaryFailure, Some(&problem), ctx, tracking_id).await;
            retry_later(bridge, queued, detail, outcome_unknown).await;
            ncip::write(&problem_answer(&action, problem))
        }
        // Not an outage: the message fails for its own reasons (or the bridge's settings). It keeps its turn
        // only so many times, then waits for staff, so that it costs neither Alma's quota nor other messages'
        // turns; one whose earlier attempt may have acted goes to staff once Alma's state stays unreadable.
        Effect::Rejected(failure) => {
            failure.count_if_configuration_fault();
            if !failure.outcome_unknown {
                let _ = bridge.store.release(&action.key, &owner).await;
            }
            let problem = failure.refusal_problem();
            let tracking = failure.tracking_id.clone();
            let attempts = queued.attempts + 1;
            if failure.for_staff || attempts >= bridge.settings.outbox.park_after_attempts {
                record_history(bridge, &action, Outcome::Parked, Some(&problem), ctx, tracking).await;
                settle(bridge, queued, QueueState::Parked, Some(failure.detail)).await;
            } else {
                record_history(bridge, &action, Outcome::TemporaryFailure, Some(&problem), ctx, tracking).await;
                retry_later(bridge, queued, failure.detail, failure.outcome_unknown).await;
            }
            ncip::write(&problem_answer(&action, problem))
        }
    }
}

/// A Problem in words for the staff pages.
fn describe(problem: &Problem) -> String {
    match &problem.detail {
        Some(detail) => format!("{}: {detail}", problem.type_name()),
        None => problem.type_name().to_owned(),
    }
}

/// Moves a waiting message to `state` after an attempt (with Alma's answer, when it has one to show).
pub(crate) async fn settle(bridge: &Bridge, queued: &QueuedMessage, state: QueueState, last_answer: Option<String>) {
    let now = bridge.clock.now();
    let settled = QueuedMessage {
        state,
        attempts: queued.attempts + 1,
        last_answer: last_answer.or_else(|| queued.last_answer.clone()),
        updated_at: now,
        // Once Alma holds it, the body (which names the patron) has done its work: only its digest (the key)
        // and the history stay.
        body: if state == QueueState::Delivered { Vec::new() } else { queued.body.clone() },
        ..queued.clone()
    };
    save(bridge, &settled).await;
    let event = match state {
        QueueState::Delivered => "delivered",
        QueueState::Parked => "parked",
        QueueState::Waiting | QueueState::Discarded => return,
    };
    tracing::warn!(queued_message = %queued.id, event, "outbox");
    crate::metrics::outbox_event(event);
}

/// A failed attempt: the message waits for its next attempt, or is parked once it has waited too long.
pub(crate) async fn retry_later(bridge: &Bridge, queued: &QueuedMessage, detail: String, outcome_unknown: bool) {
    let now = bridge.clock.now();
    let attempts = queued.attempts + 1;
    let waited = now.duration_since(queued.queued_at).unsigned_abs();
    if waited >= bridge.settings.outbox.max_age {
        let hours = bridge.settings.outbox.max_age.as_secs() / 3_600;
        let said = format!("still undelivered after {hours} h; Alma last said: {detail}");
        settle(bridge, queued, QueueState::Parked, Some(said)).await;
        return;
    }
    let next = QueuedMessage {
        attempts,
        next_attempt_at: now.saturating_add(retry_delay(attempts)).unwrap_or(now),
        reconcile: queued.reconcile || outcome_unknown,
        last_answer: Some(detail),
        updated_at: now,
        ..queued.clone()
    };
    save(bridge, &next).await;
}

async fn save(bridge: &Bridge, message: &QueuedMessage) {
    match bridge.store.update_queued(message, QueueState::Waiting, bridge.clock.now()).await {
        Ok(true) => {}
        // Staff discarded it (or another deliverer settled it) meanwhile: their decision stands.
        Ok(false) => tracing::info!(queued_message = %message.id, "queued message changed meanwhile; left as it is"),
        Err(err) => tracing::error!(error = %err, "could not update a queued message; the next attempt repeats it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_two_seconds_up_to_twenty() {
        let delays: Vec<u64> = (1..=7).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 20, 20, 20]);
    }
}
