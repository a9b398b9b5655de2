//! The week's Problems at a glance: the NCIP Problems and Temporary Processing Failures the service functions
//! answered to Relais in the last seven days ([`crate::store::AnsweredProblem`]), grouped by the Problem's type,
//! the partner and the message type, with counts and the latest requests as examples.
//!
//! Not here: LookupUser's refusals and the front door's own (a wrong token, an agency not admitted). They
//! answer no request and write no history; the logs and metrics count them (docs/operations.md).

use crate::flows::Bridge;
use crate::store::{AnsweredProblem, PROBLEM_RETENTION, RelaisRequestId};
use jiff::Timestamp;
use std::collections::BTreeMap;

/// At most this many answered Problems are read for the page; a week with more says so.
pub const READ_CAP: usize = 5_000;
/// The latest requests shown for each group.
pub const EXAMPLES: usize = 5;

/// One group: Problems of one type, from one partner, on one message type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProblemGroup {
    /// The Problem's type as NCIP names it.
    pub problem_type: String,
    /// True for Temporary Processing Failures (Relais resends them).
    pub temporary: bool,
    /// The Alma partner code, when known.
    pub partner: Option<String>,
    /// The NCIP message type.
    pub message_type: String,
    /// How many were answered in the week.
    pub count: usize,
    /// When the latest was answered.
    pub latest_at: Timestamp,
    /// The latest requests, newest first, each once.
    pub examples: Vec<RelaisRequestId>,
}

/// The week's Problems, grouped, the largest group first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProblemsWeek {
    /// The start of the week shown.
    pub since: Timestamp,
    /// Every answered Problem read.
    pub total: usize,
    /// True when more than [`READ_CAP`] were answered: the oldest are not counted.
    pub truncated: bool,
    /// The groups.
    pub groups: Vec<ProblemGroup>,
}

/// Reads the week's Problems and groups them; `None` when the store cannot be read.
pub async fn week(bridge: &Bridge) -> Option<ProblemsWeek> {
    let now = bridge.clock.now();
    let since = now.saturating_sub(PROBLEM_RETENTION).unwrap_or(now);
    match bridge.store.problems_since(since, READ_CAP + 1).await {
        Ok(mut problems) => {
            let truncated = problems.len() > READ_CAP;
            problems.truncate(READ_CAP);
            Some(ProblemsWeek { since, total: problems.len(), truncated, groups: group(&problems) })
        }
        Err(err) => {
            tracing::error!(error = %err, "store unavailable while reading the answered Problems");
            None
        }
    }
}

/// Groups `problems` (newest first) by type, partner and message type; the largest group first, then the one
/// answered last.
pub fn group(problems: &[AnsweredProblem]) -> Vec<ProblemGroup> {
    let mut groups: BTreeMap<(String, Option<String>, String), ProblemGroup> = BTreeMap::new();
    for problem in problems {
        let key = (problem.problem_type.clone(), problem.partner.clone(), problem.message_type.clone());
        let group = groups.entry(key).or_insert_with(|| ProblemGroup {
            problem_type: problem.problem_type.clone(),
            temporary: problem.temporary,
            partner: problem.partner.clone(),
            message_type: problem.message_type.clone(),
            count: 0,
            latest_at: problem.at,
            examples: Vec::new(),
        });
        group.count += 1;
        group.latest_at = group.latest_at.max(problem.at);
        if group.examples.len() < EXAMPLES && !group.examples.contains(&problem.request) {
            group.examples.push(problem.request.clone());
        }
    }
    let mut groups: Vec<ProblemGroup> = groups.into_values().collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(b.latest_at.cmp(&a.latest_at)));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(id: &str, second: i64, problem_type: &str, partner: &str) -> AnsweredProblem {
        AnsweredProblem {
            at: Timestamp::from_second(second).unwrap(),
            request: RelaisRequestId::new(id).unwrap(),
            message_type: "AcceptItem".to_owned(),
            partner: Some(partner.to_owned()),
            temporary: problem_type == "Temporary Processing Failure",
            problem_type: problem_type.to_owned(),
        }
    }

    #[test]
    fn problems_group_by_type_partner_and_message_with_the_latest_requests_first() {
        let newest_first = [
            answered("RL-5", 50, "Unknown Item", "LEND"),
            answered("RL-4", 40, "User Blocked", "RELAIS"),
            answered("RL-3", 30, "Unknown Item", "LEND"),
            answered("RL-3", 20, "Unknown Item", "LEND"),
            answered("RL-2", 10, "Unknown Item", "RELAIS"),
        ];
        let groups = group(&newest_first);
        assert_eq!(groups.len(), 3);
        assert_eq!((groups[0].problem_type.as_str(), groups[0].partner.as_deref()), ("Unknown Item", Some("LEND")));
        assert_eq!(groups[0].count, 3);
        assert_eq!(groups[0].latest_at, Timestamp::from_second(50).unwrap());
        let examples: Vec<_> = groups[0].examples.iter().map(RelaisRequestId::as_str).collect();
        assert_eq!(examples, ["RL-5", "RL-3"], "each request once, newest first");
        // Equal counts: the group answered last comes first.
        assert_eq!(groups[1].problem_type, "User Blocked");
        assert_eq!(groups[2].partner.as_deref(), Some("RELAIS"));
    }
}
