//! Follow-up work: what the bridge still has to ask Alma about a request after Relais was answered.
//!
//! Alma's NCIP answer echoes Relais's ids only, so Alma's own ids (the temporary item, the hold, the borrowing or
//! lending request) are read through REST. Relais does not wait for those reads: the message's commit records a
//! [`FollowUp`] in the same write that completes the claim ([`crate::Commit::follow_up`]), and a worker does it
//! right after the answer, retrying until Alma shows the ids or the work is given up.
//!
//! A follow-up is its own kind of item (`FOLLOWUP` / `<id>` on DynamoDB, its own table locally), never a queued
//! message: it does not count toward the outbox's bounds, is never parked, and `GET /queue` does not list it.
//! What the work is (which reads) is the flows' business: the store keeps it as JSON it does not read.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::RelaisRequestId;
use crate::model::Correlation;

/// One piece of follow-up work for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Its deduplication id: derived from the message that made it, so a commit retried after a conflict, or the
    /// doorbell rung twice, names the same work.
    pub id: String,
    /// The request whose record the work completes.
    pub request: RelaisRequestId,
    /// What to do, as the flow that made it describes it.
    pub work: serde_json::Value,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due.
    pub due_at: Timestamp,
    /// When the message that made it was committed.
    pub created_at: Timestamp,
    /// Why the last attempt did not finish it, for the logs and the note when it is given up.
    pub last_error: Option<String>,
}

/// Finishing a follow-up: the record it completes, written only if it is still at `expected_version`, and the
/// follow-up removed, in one write.
#[derive(Debug, Clone, Copy)]
pub struct FinishFollowUp<'a> {
    /// The follow-up's id.
    pub id: &'a str,
    /// The request's record with what the work learnt, and the version it was read at; `None` when the record
    /// is gone (expired), so only the follow-up is removed.
    pub record: Option<(&'a Correlation, u64)>,
    /// When the write happens: the record's retention counts from it.
    pub now: Timestamp,
}

/// How finishing a follow-up ended. Nothing was written unless it is `Finished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishOutcome {
    /// The record was written and the follow-up removed.
    Finished,
    /// The record changed since it was read (a later message committed): read it again.
    VersionConflict,
    /// The follow-up is no longer there: another worker finished it.
    Gone,
}

/// Follow-up ids are made by the bridge, but are checked like every other id the store keys by.
pub(crate) fn check_follow_up_id(id: &str) -> Result<(), crate::StoreError> {
    crate::ids::check_id("follow-up id", id).map_err(crate::StoreError::InvalidFollowUpId)
}
