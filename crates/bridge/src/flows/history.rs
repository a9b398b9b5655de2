//! History entries: what the bridge answered and which Alma calls it made, without personal data.

use crate::alma::CallContext;
use crate::flows::Bridge;
use crate::ncip::{Problem, ServiceKind};
use crate::store::{AlmaCall, HistoryEntry, Outcome, ProblemSummary};

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
