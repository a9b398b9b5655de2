//! Idempotency claims: the values the claim / commit / release protocol exchanges, and the one rule both
//! store implementations apply to decide what a claim attempt finds.
//!
//! The protocol: a delivery `claim`s the message's key before acting on Alma; it then either `commit`s (the
//! response is stored with the record change and history entry, and later deliveries replay it) or `release`s
//! (the action definitely had no effect, so a later delivery may try again). A delivery that dies in between
//! leaves an in-flight claim whose lease runs out; the next delivery takes it over and is told so, because
//! the dead attempt may or may not have reached Alma.

use std::time::Duration;

use jiff::Timestamp;

use crate::follow_up::FollowUp;
use crate::ids::{ClaimToken, IdempotencyKey, RelaisRequestId};
use crate::model::{Correlation, HistoryEntry};
use crate::patrons::PatronKey;
use crate::queue::QueuedMessage;

/// The response stored when a message was done, replayed verbatim to repeat deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The NCIP response as sent to Relais the first time, byte for byte.
    pub body: Vec<u8>,
    /// A replay of the message is already in the request's history ([`crate::Store::record_replay`]). The
    /// history keeps the first replay only, so that a later one is answered from one read and writes nothing.
    pub replay_recorded: bool,
}

impl StoredResponse {
    /// An answer no replay has been recorded for yet.
    pub fn new(body: Vec<u8>) -> Self {
        Self { body, replay_recorded: false }
    }
}

/// What a delivery asks the store before it acts on Alma (see [`crate::Store::begin`]).
#[derive(Debug, Clone, Copy)]
pub struct Begin<'a> {
    /// The message's idempotency key, to claim.
    pub key: &'a IdempotencyKey,
    /// The delivery attempt claiming it.
    pub owner: &'a ClaimToken,
    /// The Relais request the message belongs to: its record is read beside the claim.
    pub request: &'a RelaisRequestId,
    /// When the claim is made: the lease starts then.
    pub now: Timestamp,
    /// How long the claim protects the delivery.
    pub lease: Duration,
    /// Read the request's open outbox messages too (when the outbox is on: a message queues behind them, and
    /// a resend of one of them is compared with it).
    pub open_queue: bool,
    /// A remembered patron id to look for beside the claim ([`crate::Store::knows_patron`]): a borrowing
    /// message whose patron LookupUser answered is then forwarded without a further round trip.
    pub patron: Option<&'a PatronKey>,
}

/// What [`crate::Store::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Begun {
    /// The claim attempt's outcome, as [`crate::Store::claim`] reports it.
    pub claim: ClaimOutcome,
    /// The request's live record as it stood when the claim was taken; the store need not read it when the key
    /// is done (a replay answers the stored response and changes no record).
    pub record: Option<Correlation>,
    /// The request's open (waiting or parked) outbox messages, oldest first, when asked for.
    pub open_queue: Option<Vec<QueuedMessage>>,
    /// Whether the patron key asked for is remembered; `None` when none was asked for, when the key is done (a
    /// replay forwards nothing) or when the store could not read it (the patron is then translated as unseen).
    pub patron_known: Option<bool>,
}

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// Nobody had the key: the caller now holds it.
    Claimed,
    /// An earlier attempt held the key but its lease ran out: the caller now holds it. The earlier attempts
    /// may have reached Alma, so the caller should check Alma before acting again.
    TookOverStale {
        /// How many attempts held the key before this one.
        previous_attempts: u32,
    },
    /// Another attempt holds the key and its lease runs until `lease_until`. Re-claiming with the same token
    /// also lands here: a claim is not re-entrant.
    InFlight {
        /// When the holder's lease runs out and the key may be taken over.
        lease_until: Timestamp,
    },
    /// The message was handled; answer with this.
    Done(StoredResponse),
}

/// Everything that changes together when a message was handled (see [`crate::Store::commit`]).
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    /// The message's idempotency key, claimed by `owner`.
    pub key: &'a IdempotencyKey,
    /// The delivery attempt that holds the claim.
    pub owner: &'a ClaimToken,
    /// The answer Relais gets, replayed to its resends.
    pub response: &'a [u8],
    /// The request's record as it stands after the message.
    pub record: &'a Correlation,
    /// `None`: the record must not exist yet. `Some(v)`: the stored record must be at version `v`.
    pub expected_version: Option<u64>,
    /// The entry the message adds to the request's history.
    pub history: &'a HistoryEntry,
    /// When the commit happens: the lease is checked at it, and the record's and key's retention count from it.
    pub now: Timestamp,
    /// Work left for after the answer (Alma's ids to read back), recorded in the same write so that it is
    /// never lost once Relais was answered.
    pub follow_up: Option<&'a FollowUp>,
}

/// How a commit ended. Nothing was written unless it is `Committed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything was written.
    Committed {
        /// The version the record now has; the next commit expects it.
        new_version: u64,
    },
    /// The record changed (or appeared) since the caller read it: re-read and decide again.
    VersionConflict,
    /// The caller no longer holds the claim (its lease ran out and another attempt took over, or it was
    /// released). Checked before the version, because the new holder is now responsible for the message.
    ClaimLost,
}

/// The version a successful commit stores.
pub(crate) fn next_version(expected: Option<u64>) -> u64 {
    expected.map_or(1, |v| v.saturating_add(1))
}

/// A live (unexpired) idempotency record, as both stores read it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExistingClaim {
    InFlight { owner: String, lease_until: Timestamp, attempts: u32 },
    Done(StoredResponse),
}

/// What to do about a claim attempt, given the live record found (expired records count as absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClaimDecision {
    /// Write a fresh in-flight record (attempt 1).
    Fresh,
    /// Replace the stale holder, identified by its token and lease end so that the replacement can be made
    /// conditional on nobody else having replaced it first.
    TakeOver { previous_attempts: u32, holder: String, lease_until: Timestamp },
    /// Leave it: report this.
    Report(ClaimOutcome),
}

pub(crate) fn decide_claim(existing: Option<ExistingClaim>, now: Timestamp) -> ClaimDecision {
    match existing {
        None => ClaimDecision::Fresh,
        Some(ExistingClaim::Done(response)) => ClaimDecision::Report(ClaimOutcome::Done(response)),
        // The lease is over at `lease_until` itself, the same instant-inclusive rule as expiry.
        Some(ExistingClaim::InFlight { owner, lease_until, attempts }) if lease_until <= now => {
            ClaimDecision::TakeOver { previous_attempts: attempts, holder: owner, lease_until }
        }
        Some(ExistingClaim::InFlight { lease_until, .. }) => {
            ClaimDecision::Report(ClaimOutcome::InFlight { lease_until })
        }
    }
}

/// The lease end, truncated to whole milliseconds because that is what DynamoDB stores; both stores use this
/// so that `InFlight { lease_until }` reads the same from either.
pub(crate) fn lease_end(now: Timestamp, lease: std::time::Duration) -> Timestamp {
    let end = now.saturating_add(lease).unwrap_or(Timestamp::MAX);
    Timestamp::from_millisecond(end.as_millisecond()).unwrap_or(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn lease_is_over_at_its_end_instant() {
        let holder = |until| ExistingClaim::InFlight { owner: "a".into(), lease_until: at(until), attempts: 2 };
        assert_eq!(
            decide_claim(Some(holder(100)), at(99)),
            ClaimDecision::Report(ClaimOutcome::InFlight { lease_until: at(100) })
        );
        assert_eq!(
            decide_claim(Some(holder(100)), at(100)),
            ClaimDecision::TakeOver { previous_attempts: 2, holder: "a".into(), lease_until: at(100) }
        );
        assert_eq!(decide_claim(None, at(100)), ClaimDecision::Fresh);
    }

    #[test]
    fn lease_end_drops_sub_millisecond_precision() {
        let now = Timestamp::from_nanosecond(1_000_000_123_456_789).unwrap();
        let end = lease_end(now, std::time::Duration::from_secs(30));
        assert_eq!(end.as_nanosecond(), 1_000_030_123_000_000);
    }
}
