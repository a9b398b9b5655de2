//! History entries: what the bridge answered and which Alma calls it made, without personal data.

use crate::alma::CallContext;
use crate::flows::Bridge;
use crate::ncip::InitiationHeader;
use crate::ncip::{Problem, ServiceKind};
use crate::store::{AlmaCall, AnsweredProblem, HistoryEntry, Outcome, ProblemSummary, RelaisRequestId};

pub(crate) fn entry(
    bridge: &Bridge,
    service: &ServiceKind,
    outcome: Outcome,
    problem: Option<&Problem>,
    ctx: &CallContext,
    tracking_id: Option<String>,
) -> HistoryEntry {
    let calls = ctx.calls();
    let tracking_id = tracking_id.or_else(|| calls.iter().rev().find_map(|c| c.tracking_id.clone()));
    let mut entry = HistoryEntry::new(service.element_name(), bridge.clock.now(), outcome);
    entry.problem =
        problem.map(|p| ProblemSummary { problem_type: p.type_name().to_owned(), detail: p.detail.clone() });
    entry.alma_calls = calls
        .into_iter()
        .map(|call| AlmaCall {
            method: call.method.to_owned(),
            path_template: call.route.to_owned(),
            status: call.status.unwrap_or(0),
            elapsed_ms: call.millis,
        })
        .collect();
    entry.alma_tracking_id = tracking_id;
    entry.replaced_agency_ids = ctx.replaced_agency_ids();
    entry
}

/// Logs (and counts) the answer a message finally got: called once per message, where the answer is settled,
/// and not per history entry built (a commit retried after a version conflict builds several).
pub(crate) fn log_outcome(service: &ServiceKind, outcome: Outcome) {
    super::log_answer(service, outcome);
}

/// Adds a Problem (or Temporary Processing Failure) Relais was just answered to the week's list staff read at
/// `/problems`; any other outcome adds nothing. Called only where Relais waits for the answer: the outbox's
/// later deliveries answer nobody. A failed write is logged and the answer goes out as it is.
pub(crate) async fn list_problem(
    bridge: &Bridge,
    request: &RelaisRequestId,
    header: Option<&InitiationHeader>,
    entry: &HistoryEntry,
) {
    let temporary = match entry.outcome {
        Outcome::Problem => false,
        Outcome::TemporaryFailure => true,
        _ => return,
    };
    let problem = AnsweredProblem {
        at: entry.at,
        request: request.clone(),
        message_type: entry.message_type.clone(),
        partner: super::policy::partner_code(bridge, header),
        temporary,
        problem_type: entry.problem.as_ref().map_or_else(|| "(none named)".to_owned(), |p| p.problem_type.clone()),
    };
    if let Err(err) = bridge.store.record_problem(&problem).await {
        tracing::warn!(error = %err, "could not list the answered Problem");
    }
}
