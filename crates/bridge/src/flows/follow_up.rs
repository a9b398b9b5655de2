//! Follow-up work: reading Alma's own ids back after Relais was answered.
//!
//! Alma's NCIP answer to an AcceptItem or CheckOutItem echoes Relais's ids only. Alma's (the temporary item's
//! pid, holding and MMS id, the hold on it, the borrowing or lending request) take one to three REST reads, and
//! a direct Relais-to-Alma link would not wait for them, so neither does the bridge: the message's commit
//! records a [`ReadBack`] as a store follow-up ([`crate::store::FollowUp`]) in the same write that completes
//! its claim, the record says the ids are pending, and the work runs right after the answer:
//! - locally, the server's worker is woken at once ([`Bridge::follow_ups_woken`]);
//! - on AWS, the function sends the outbox queue a doorbell naming the follow-up before it returns (nothing
//!   runs after a Lambda function returns), and `deliver` does the work; its schedule retries.
//!
//! A read that fails, or that does not find what Alma should hold yet, is retried with a growing pause, and
//! given up after [`GIVE_UP_AFTER`] attempts with a note in the request's history. Follow-ups are never the
//! outbox's: they do not count toward its bounds, are never parked and are not listed on `GET /queue`.
//!
//! The reads go through the item (`/bibs/{mms}/holdings/{h}/items/{pid}/requests`) and the partner's lending
//! task list, never through a patron id: the record names the patron only by a keyed hash.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::Bridge;
use crate::alma::CallContext;
use crate::store::{
    AlmaIds, FinishFollowUp, FinishOutcome, FollowUp, HistoryEntry, IdempotencyKey, ItemBarcode, Outcome, PartnerCode,
    RelaisRequestId, StoreError,
};

/// What Alma's ids are read from, once the message is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "read", rename_all = "snake_case")]
pub enum ReadBack {
    /// A receipt (AcceptItem): the temporary item by its barcode, then the hold on it and the borrowing
    /// request behind the hold.
    Receipt {
        /// The barcode Relais gave the temporary item.
        barcode: ItemBarcode,
    },
    /// A ship (CheckOutItem): the item by its barcode, and the lending request in the partner's task list.
    Shipment {
        /// The barcode of the item shipped.
        barcode: ItemBarcode,
        /// The Alma partner the item went to, whose resource-sharing library lists the lending request.
        partner: PartnerCode,
        /// The Relais request id the ship carried, which the lending request was created with.
        relais_id: Option<RelaisRequestId>,
    },
}

/// What one attempt at a read-back learnt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Reading {
    /// Alma's ids of the item (and of the hold on it), as far as read.
    pub item: Option<AlmaIds>,
    /// Alma's request behind the Relais one, when found.
    pub request_id: Option<String>,
    /// What is still missing, and why: `None` when the read-back is complete.
    pub missing: Option<String>,
}

/// Attempts after which a read-back is given up, with a note: with the pauses of [`retry_pause`], about half an
/// hour after the answer, long past any lag of Alma's own.
pub const GIVE_UP_AFTER: u32 = 10;

/// The pause before the next attempt, after `attempts` that did not finish the work: 2 s, doubling, at most
/// ten minutes.
pub fn retry_pause(attempts: u32) -> Duration {
    Duration::from_secs(2u64.saturating_mul(1u64 << attempts.min(16)).min(600))
}

/// The most follow-ups one round takes on: the rest wait for the next round.
const ROUND_LIMIT: usize = 100;

/// How long one read-back may take: its reads run under a deadline of their own, like a message's.
fn budget(bridge: &Bridge) -> Duration {
    bridge.settings.deadline
}

/// The follow-up a message's commit records: its id is derived from the message's idempotency key, so that
/// the same message always names the same work (a commit retried after a version conflict, a doorbell sent
/// twice).
pub(crate) fn for_message(
    key: &IdempotencyKey,
    request: &RelaisRequestId,
    read_back: &ReadBack,
    now: jiff::Timestamp,
) -> FollowUp {
    let id = IdempotencyKey::derive("read-back", None, None, key.as_str().as_bytes()).as_str().to_owned();
    FollowUp {
        id,
        request: request.clone(),
        work: serde_json::to_value(read_back).expect("a read-back always serialises"),
        attempts: 0,
        due_at: now,
        created_at: now,
        last_error: None,
    }
}

/// Starts the follow-up at once: wakes the local worker, and rings the deliverer's doorbell on AWS. A lost
/// ring costs only time: the schedule (or the local worker's next look) finds the work anyway.
pub(crate) async fn start(bridge: &Bridge, follow_up: &FollowUp) {
    bridge.follow_up_wake.notify_one();
    if let Some(doorbell) = &bridge.doorbell
        && let Err(err) = doorbell.ring_follow_up(follow_up).await
    {
        tracing::warn!(error = %err, follow_up = %follow_up.id, "could not wake the deliverer for a read-back");
    }
}

/// What one round of follow-ups did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpRound {
    /// Read-backs that found everything and completed their record.
    pub finished: usize,
    /// Read-backs that will be tried again.
    pub retrying: usize,
    /// Read-backs given up, with a note in the history.
    pub given_up: usize,
}

/// Runs every follow-up that is due, the longest-due first: what the local worker, the deliverer's schedule
/// and tests that deliver without a worker call.
pub async fn run_due(bridge: &Bridge) -> Result<FollowUpRound, StoreError> {
    let due = bridge.store.due_follow_ups(bridge.clock.now(), ROUND_LIMIT).await?;
    let mut round = FollowUpRound::default();
    for follow_up in due {
        match run(bridge, follow_up).await? {
            Ran::Finished => round.finished += 1,
            Ran::Retrying => round.retrying += 1,
            Ran::GivenUp => round.given_up += 1,
            Ran::Gone => {}
        }
    }
    Ok(round)
}

/// Runs the follow-up named by a doorbell, if it is still there (another worker may have finished it).
pub async fn run_by_id(bridge: &Bridge, id: &str) -> Result<(), StoreError> {
    if let Some(follow_up) = bridge.store.follow_up(id).await? {
        run(bridge, follow_up).await?;
    }
    Ok(())
}

enum Ran {
    Finished,
    Retrying,
    GivenUp,
    Gone,
}

async fn run(bridge: &Bridge, follow_up: FollowUp) -> Result<Ran, StoreError> {
    let span = tracing::info_span!("read_back", follow_up = %follow_up.id, relais_request_id = %follow_up.request);
    attempt(bridge, follow_up).instrument(span).await
}

async fn attempt(bridge: &Bridge, mut follow_up: FollowUp) -> Result<Ran, StoreError> {
    let (reading, readable) = match serde_json::from_value::<ReadBack>(follow_up.work.clone()) {
        Ok(read_back) => (read(bridge, &read_back, &CallContext::new(budget(bridge))).await, true),
        // Written by a later version of the bridge, or damaged: nothing this version can do will finish it.
        Err(err) => {
            (Reading { missing: Some(format!("the work could not be read ({err})")), ..Reading::default() }, false)
        }
    };
    follow_up.attempts = follow_up.attempts.saturating_add(1);
    if let Some(missing) = &reading.missing
        && readable
        && follow_up.attempts < GIVE_UP_AFTER
    {
        tracing::info!(attempts = follow_up.attempts, missing = %missing, "read-back incomplete; trying again later");
        let now = bridge.clock.now();
        follow_up.due_at = now.saturating_add(retry_pause(follow_up.attempts)).unwrap_or(now);
        follow_up.last_error = Some(missing.clone());
        return Ok(if bridge.store.reschedule_follow_up(&follow_up).await? { Ran::Retrying } else { Ran::Gone });
    }
    if !finish(bridge, &follow_up, &reading).await? {
        return Ok(Ran::Gone);
    }
    let Some(missing) = reading.missing else { return Ok(Ran::Finished) };
    tracing::warn!(attempts = follow_up.attempts, missing = %missing, "read-back given up");
    let mut entry = HistoryEntry::new(READ_BACK_ENTRY, bridge.clock.now(), Outcome::Problem);
    entry.note = Some(format!(
        "Alma's ids were not all read back after {} attempts ({missing}); look the request up in Alma",
        follow_up.attempts
    ));
    if let Err(err) = bridge.store.append_history(&follow_up.request, &entry).await {
        tracing::warn!(error = %err, "could not note the read-back given up");
    }
    Ok(Ran::GivenUp)
}

/// The history's name for a read-back's note.
pub const READ_BACK_ENTRY: &str = "Alma read-back";

/// Writes what was read onto the record (no longer pending) and removes the follow-up, in one write; re-reads
/// the record when a later message committed in between. False when another worker finished it first.
async fn finish(bridge: &Bridge, follow_up: &FollowUp, reading: &Reading) -> Result<bool, StoreError> {
    for _ in 0..5 {
        let now = bridge.clock.now();
        let current = bridge.store.get_request(&follow_up.request).await?;
        let record = current.map(|mut record| {
            if let Some(item) = &reading.item {
                let alma = &mut record.alma;
                alma.item_pid = item.item_pid.clone().or(alma.item_pid.take());
                alma.mms_id = item.mms_id.clone().or(alma.mms_id.take());
                alma.holding_id = item.holding_id.clone().or(alma.holding_id.take());
                alma.hold_or_loan_id = item.hold_or_loan_id.clone().or(alma.hold_or_loan_id.take());
            }
            record.alma.request_id = reading.request_id.clone().or(record.alma.request_id.take());
            record.alma.pending = false;
            record
        });
        let finish = FinishFollowUp { id: &follow_up.id, record: record.as_ref().map(|r| (r, r.version)), now };
        match bridge.store.finish_follow_up(finish).await? {
            FinishOutcome::Finished => return Ok(true),
            FinishOutcome::Gone => return Ok(false),
            FinishOutcome::VersionConflict => {}
        }
    }
    Err(StoreError::Contention { operation: "finish follow-up" })
}

async fn read(bridge: &Bridge, read_back: &ReadBack, ctx: &CallContext) -> Reading {
    match read_back {
        ReadBack::Receipt { barcode } => super::accept_item::read_back(bridge, barcode, ctx).await,
        ReadBack::Shipment { barcode, partner, relais_id } => {
            super::check_out_item::read_back(bridge, barcode, partner, relais_id.as_ref(), ctx).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_from_two_seconds_to_ten_minutes() {
        assert_eq!(retry_pause(0), Duration::from_secs(2));
        assert_eq!(retry_pause(1), Duration::from_secs(4));
        assert_eq!(retry_pause(5), Duration::from_secs(64));
        assert_eq!(retry_pause(9), Duration::from_secs(600));
        assert_eq!(retry_pause(u32::MAX), Duration::from_secs(600));
    }

    #[test]
    fn a_read_back_keeps_its_shape_in_the_store() {
        let read_back = ReadBack::Shipment {
            barcode: ItemBarcode::new("39000000002").unwrap(),
            partner: PartnerCode::new("RELAIS").unwrap(),
            relais_id: None,
        };
        let json = serde_json::to_value(&read_back).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"read": "shipment", "barcode": "39000000002", "partner": "RELAIS", "relais_id": null})
        );
        assert_eq!(serde_json::from_value::<ReadBack>(json).unwrap(), read_back);
    }
}
