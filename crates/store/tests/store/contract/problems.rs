//! The Problems answered to Relais: listed newest first for seven days, then gone.

use super::*;
use bridge_store::AnsweredProblem;

fn problem(id: &str, at: Timestamp, problem_type: &str) -> AnsweredProblem {
    AnsweredProblem {
        at,
        request: rid(id),
        message_type: "AcceptItem".to_owned(),
        partner: Some("RELAIS".to_owned()),
        temporary: problem_type == "Temporary Processing Failure",
        problem_type: problem_type.to_owned(),
    }
}

pub async fn answered_problems_are_listed_newest_first_for_seven_days(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, clock) = fresh(open).await;
    let first = problem("P-1", t0(), "Unknown Item");
    let second = problem("P-2", after(60), "Temporary Processing Failure");
    // Two answers at the same instant for different requests both stay.
    let third = problem("P-3", after(60), "User Blocked");
    for p in [&first, &second, &third] {
        h.store.record_problem(p).await.unwrap();
    }
    clock.set(after(120));
    let listed = h.store.problems_since(t0(), 100).await.unwrap();
    assert_eq!(listed, vec![third.clone(), second.clone(), first.clone()]);
    assert_eq!(h.store.problems_since(after(1), 100).await.unwrap(), vec![third.clone(), second.clone()]);
    assert_eq!(h.store.problems_since(t0(), 1).await.unwrap(), vec![third.clone()]);
    // Seven days after its answer, a Problem is gone even before the backend deletes it.
    clock.set(after(7 * DAY));
    assert_eq!(h.store.problems_since(t0(), 100).await.unwrap(), vec![third, second]);
    clock.set(after(7 * DAY + 60));
    assert!(h.store.problems_since(t0(), 100).await.unwrap().is_empty());
}
