//! Contract scenarios for follow-up work: written with the commit that completes a claim, found when due,
//! rescheduled, and finished together with the record it completes.

use bridge_store::{FinishFollowUp, FinishOutcome, FollowUp};
use serde_json::json;

use super::*;

fn follow_up(id: &str, request: &str, due: Timestamp) -> FollowUp {
    FollowUp {
        id: id.to_owned(),
        request: rid(request),
        work: json!({"read": "receipt", "barcode": "ILL-1"}),
        attempts: 0,
        due_at: due,
        created_at: due,
        last_error: None,
    }
}

pub async fn a_follow_up_is_written_with_its_commit_and_finished_with_its_record(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let store = &*h.store;
    let key = message_key("AcceptItem");
    let owner = token("accept-attempt");
    store.claim(&key, &owner, t0(), std::time::Duration::from_secs(30)).await.unwrap();
    let mut accepted = record("R-FU", Side::Borrowing, RequestStatus::OnHoldShelf, &["ILL-1"], t0());
    accepted.alma.pending = true;
    let work = follow_up("fu-1", "R-FU", t0());
    let history = entry("AcceptItem", t0());
    let commit = Commit {
        key: &key,
        owner: &owner,
        response: b"<AcceptItemResponse/>",
        record: &accepted,
        expected_version: None,
        history: &history,
        now: t0(),
        follow_up: Some(&work),
    };
    assert!(matches!(store.commit(commit).await.unwrap(), CommitOutcome::Committed { new_version: 1 }));
    assert_eq!(store.follow_up("fu-1").await.unwrap(), Some(work.clone()));
    assert_eq!(store.due_follow_ups(after(1), 10).await.unwrap(), std::slice::from_ref(&work));
    assert!(store.due_follow_ups(after(-1), 10).await.unwrap().is_empty(), "not due before its time");

    // Tried and put off: due later, with its count.
    let later = FollowUp { attempts: 1, due_at: after(60), last_error: Some("no hold yet".into()), ..work.clone() };
    assert!(store.reschedule_follow_up(&later).await.unwrap());
    assert!(store.due_follow_ups(after(30), 10).await.unwrap().is_empty());
    assert_eq!(store.due_follow_ups(after(60), 10).await.unwrap(), std::slice::from_ref(&later));

    // Finishing against a stale version writes nothing; against the current one, record and removal hold.
    let mut read = store.get_request(&rid("R-FU")).await.unwrap().unwrap();
    read.alma.pending = false;
    read.alma.item_pid = Some("23001".into());
    let stale = FinishFollowUp { id: "fu-1", record: Some((&read, 7)), now: after(61) };
    assert_eq!(store.finish_follow_up(stale).await.unwrap(), FinishOutcome::VersionConflict);
    assert!(store.follow_up("fu-1").await.unwrap().is_some(), "a conflict removes nothing");
    let current = FinishFollowUp { id: "fu-1", record: Some((&read, read.version)), now: after(61) };
    assert_eq!(store.finish_follow_up(current).await.unwrap(), FinishOutcome::Finished);
    let stored = store.get_request(&rid("R-FU")).await.unwrap().unwrap();
    assert_eq!((stored.alma.item_pid.as_deref(), stored.alma.pending, stored.version), (Some("23001"), false, 2));
    assert_eq!(store.follow_up("fu-1").await.unwrap(), None);
    assert!(store.due_follow_ups(after(3600), 10).await.unwrap().is_empty());

    // A second worker finds it gone, and writes nothing.
    let again = FinishFollowUp { id: "fu-1", record: Some((&stored, stored.version)), now: after(62) };
    assert_eq!(store.finish_follow_up(again).await.unwrap(), FinishOutcome::Gone);
    assert!(!store.reschedule_follow_up(&later).await.unwrap());
    assert_eq!(store.get_request(&rid("R-FU")).await.unwrap().unwrap().version, 2);
    // Never the outbox's.
    assert_eq!(store.open_count().await.unwrap(), 0);
}

pub async fn due_follow_ups_come_longest_due_first_up_to_the_limit(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let store = &*h.store;
    for (n, due) in [(1, 30), (2, 10), (3, 20)] {
        let message = format!("AcceptItem-{n}");
        let key = message_key(&message);
        let owner = token(&format!("{message}-attempt"));
        store.claim(&key, &owner, t0(), std::time::Duration::from_secs(30)).await.unwrap();
        let accepted = record(&format!("R-{n}"), Side::Borrowing, RequestStatus::OnHoldShelf, &[], t0());
        let work = follow_up(&format!("fu-{n}"), &format!("R-{n}"), after(due));
        let history = entry("AcceptItem", t0());
        let commit = Commit {
            key: &key,
            owner: &owner,
            response: b"<AcceptItemResponse/>",
            record: &accepted,
            expected_version: None,
            history: &history,
            now: t0(),
            follow_up: Some(&work),
        };
        assert!(matches!(store.commit(commit).await.unwrap(), CommitOutcome::Committed { .. }));
    }
    let due: Vec<String> = store.due_follow_ups(after(60), 2).await.unwrap().into_iter().map(|f| f.id).collect();
    assert_eq!(due, ["fu-2", "fu-3"]);
}
