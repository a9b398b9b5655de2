//! The Problems the bridge answered to Relais: one small item per NCIP Problem or Temporary Processing Failure a
//! service function answered, kept [`PROBLEM_RETENTION`], so that staff can see at a glance what Relais was
//! refused this week (the `/problems` page) without a Logs Insights query. The request's history says the same
//! at length; these items are the week's index across requests.
//!
//! An item names the request, the message type, the Alma partner and the Problem's type; never a patron, and
//! never the Problem's detail (it may quote an identifier the patron gave).

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::RelaisRequestId;
use crate::keys::instant_key;

/// How long an answered Problem stays listed: the page shows the last seven days.
pub const PROBLEM_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// One Problem (or Temporary Processing Failure) answered to Relais.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnsweredProblem {
    /// When Relais was answered.
    pub at: Timestamp,
    /// The Relais request the message was about.
    pub request: RelaisRequestId,
    /// The NCIP message type (`AcceptItem`, ...).
    pub message_type: String,
    /// The Alma partner code of the sending agency, when the bridge knows it.
    pub partner: Option<String>,
    /// True for a Temporary Processing Failure (Relais resends), false for a Problem staff must act on.
    pub temporary: bool,
    /// The Problem's type as NCIP names it (`Unknown Item`, `Temporary Processing Failure`, ...).
    pub problem_type: String,
}

impl AnsweredProblem {
    /// The item's place in the week's list: by time, then request and message type, so that two answers in
    /// the same nanosecond for different requests both stay.
    pub(crate) fn sort_key(&self) -> String {
        format!("{}#{}#{}", instant_key(self.at), self.request, self.message_type)
    }
}

/// The first sort key of a Problem answered at or after `since`.
pub(crate) fn sort_key_from(since: Timestamp) -> String {
    instant_key(since)
}
