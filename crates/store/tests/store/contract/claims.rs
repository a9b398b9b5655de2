//! Contract scenarios for idempotency claims: leases, takeovers, lost claims, release, expiry and races.

use std::time::Duration;

use bridge_store::{Begin, ClaimOutcome, CommitOutcome, RequestStatus, Side, StoreConfig, StoredResponse};
use tokio::sync::Barrier;

use super::*;

const LEASE: Duration = Duration::from_secs(30);

pub async fn claim_is_in_flight_until_the_lease_ends_then_taken_over_with_attempts_counted(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let key = message_key("checkout L10");
    assert_eq!(h.store.claim(&key, &token("a"), t0(), LEASE).await.unwrap(), ClaimOutcome::Claimed);
    // Leases are kept to the millisecond.
    let lease_until = jiff::Timestamp::from_millisecond(after(30).as_millisecond()).unwrap();
    let busy = ClaimOutcome::InFlight { lease_until };
    assert_eq!(h.store.claim(&key, &token("b"), after(10), LEASE).await.unwrap(), busy);
    // Not re-entrant, even for the holder.
    assert_eq!(h.store.claim(&key, &token("a"), after(29), LEASE).await.unwrap(), busy);
    assert_eq!(
        h.store.claim(&key, &token("b"), after(30), LEASE).await.unwrap(),
        ClaimOutcome::TookOverStale { previous_attempts: 1 }
    );
    assert!(matches!(h.store.claim(&key, &token("c"), after(59), LEASE).await.unwrap(), ClaimOutcome::InFlight { .. }));
    assert_eq!(
        h.store.claim(&key, &token("c"), after(61), LEASE).await.unwrap(),
        ClaimOutcome::TookOverStale { previous_attempts: 2 }
    );
}

pub async fn commit_after_the_claim_was_taken_over_is_claim_lost_and_writes_nothing(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let key = message_key("accept R11");
    let (slow, fast) = (token("slow"), token("fast"));
    h.store.claim(&key, &slow, t0(), LEASE).await.unwrap();
    assert_eq!(
        h.store.claim(&key, &fast, after(31), LEASE).await.unwrap(),
        ClaimOutcome::TookOverStale { previous_attempts: 1 }
    );
    let rec = record("R11", Side::Borrowing, RequestStatus::OnHoldShelf, &["B11"], t0());
    let history = entry("AcceptItem", after(40));
    let commit = |owner, response: &'static [u8]| Commit {
        key: &key,
        owner,
        response,
        record: &rec,
        expected_version: None,
        history: &history,
        now: after(40),
        follow_up: None,
    };
    assert_eq!(h.store.commit(commit(&slow, b"slow")).await.unwrap(), CommitOutcome::ClaimLost);
    assert_eq!(h.store.get_request(&rid("R11")).await.unwrap(), None);
    assert!(h.store.history(&rid("R11")).await.unwrap().is_empty());
    assert!(h.store.find_by_barcode(&barcode("B11")).await.unwrap().is_empty());

    assert_eq!(h.store.commit(commit(&fast, b"fast")).await.unwrap(), CommitOutcome::Committed { new_version: 1 });
    assert_eq!(
        h.store.claim(&key, &token("later"), after(50), LEASE).await.unwrap(),
        ClaimOutcome::Done(StoredResponse::new(b"fast".to_vec()))
    );
    // A done key cannot be committed again, not even by its holder.
    assert_eq!(h.store.commit(commit(&fast, b"again")).await.unwrap(), CommitOutcome::ClaimLost);
}

pub async fn claim_lost_wins_over_version_conflict(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let rec = record("R12", Side::Borrowing, RequestStatus::OnHoldShelf, &[], t0());
    deliver(&*h.store, "accept R12", &rec, None, t0()).await;
    let key = message_key("never claimed");
    let history = entry("RenewItem", after(1));
    let outcome = h
        .store
        .commit(Commit {
            key: &key,
            owner: &token("nobody"),
            response: b"",
            record: &rec,
            expected_version: Some(7),
            history: &history,
            now: after(1),
            follow_up: None,
        })
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::ClaimLost);
}

pub async fn release_frees_the_key_for_its_owner_only(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let key = message_key("lookup user");
    let holder = token("holder");
    h.store.claim(&key, &holder, t0(), LEASE).await.unwrap();
    h.store.release(&key, &token("impostor")).await.unwrap();
    assert!(matches!(
        h.store.claim(&key, &token("next"), after(1), LEASE).await.unwrap(),
        ClaimOutcome::InFlight { .. }
    ));
    h.store.release(&key, &holder).await.unwrap();
    let retry = token("retry");
    assert_eq!(h.store.claim(&key, &retry, after(2), LEASE).await.unwrap(), ClaimOutcome::Claimed);

    // The released holder can no longer commit; the new one can, and then nobody can release it.
    let rec = record("R13", Side::Borrowing, RequestStatus::OnHoldShelf, &[], t0());
    let history = entry("AcceptItem", after(3));
    let commit = |owner| Commit {
        key: &key,
        owner,
        response: b"ok",
        record: &rec,
        expected_version: None,
        history: &history,
        now: after(3),
        follow_up: None,
    };
    assert_eq!(h.store.commit(commit(&holder)).await.unwrap(), CommitOutcome::ClaimLost);
    assert_eq!(h.store.commit(commit(&retry)).await.unwrap(), CommitOutcome::Committed { new_version: 1 });
    h.store.release(&key, &retry).await.unwrap();
    assert!(matches!(h.store.claim(&key, &token("late"), after(4), LEASE).await.unwrap(), ClaimOutcome::Done(_)));
}

pub async fn done_key_is_handled_afresh_after_idempotency_retention(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let rec = record("R14", Side::Borrowing, RequestStatus::OnHoldShelf, &[], t0());
    deliver(&*h.store, "accept R14", &rec, None, t0()).await;
    let retention = StoreConfig::default().idempotency_retention.as_secs() as i64;
    let expiry = t0().as_second() + retention;
    let key = message_key("accept R14");
    let before = jiff::Timestamp::from_second(expiry - 1).unwrap();
    assert!(matches!(h.store.claim(&key, &token("x"), before, LEASE).await.unwrap(), ClaimOutcome::Done(_)));
    let at = jiff::Timestamp::from_second(expiry).unwrap();
    assert_eq!(h.store.claim(&key, &token("x"), at, LEASE).await.unwrap(), ClaimOutcome::Claimed);
    // The old response went with the old record.
    let again = h.store.claim(&key, &token("y"), at, LEASE).await.unwrap();
    assert!(matches!(again, ClaimOutcome::InFlight { .. }), "{again:?}");
}

pub async fn fifty_concurrent_claims_have_exactly_one_winner(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let key = message_key("burst");
    let start = Arc::new(Barrier::new(50));
    let mut racers = Vec::new();
    for n in 0..50 {
        let (store, key, start) = (Arc::clone(&h.store), key.clone(), Arc::clone(&start));
        racers.push(tokio::spawn(async move {
            start.wait().await;
            store.claim(&key, &token(&format!("racer-{n}")), t0(), LEASE).await.unwrap()
        }));
    }
    let mut claimed = 0;
    for racer in racers {
        match racer.await.unwrap() {
            ClaimOutcome::Claimed => claimed += 1,
            ClaimOutcome::InFlight { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(claimed, 1);
}

pub async fn fifty_concurrent_commits_on_one_version_have_exactly_one_winner(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let rec = record("R15", Side::Lending, RequestStatus::Shipped, &["B15"], t0());
    deliver(&*h.store, "ship R15", &rec, None, t0()).await;
    let start = Arc::new(Barrier::new(50));
    let mut racers = Vec::new();
    for n in 0..50 {
        let (store, start, mut rec) = (Arc::clone(&h.store), Arc::clone(&start), rec.clone());
        racers.push(tokio::spawn(async move {
            let (key, owner) = (message_key(&format!("renew {n}")), token(&format!("renewer-{n}")));
            assert_eq!(store.claim(&key, &owner, after(1), LEASE).await.unwrap(), ClaimOutcome::Claimed);
            rec.status = RequestStatus::Renewed;
            rec.due_date = Some(after(n * DAY));
            let history = entry(&format!("renew {n}"), after(1));
            start.wait().await;
            let commit = Commit {
                key: &key,
                owner: &owner,
                response: b"",
                record: &rec,
                expected_version: Some(1),
                history: &history,
                now: after(1),
                follow_up: None,
            };
            (n, store.commit(commit).await.unwrap())
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            (n, CommitOutcome::Committed { new_version: 2 }) => winners.push(n),
            (_, CommitOutcome::VersionConflict) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = h.store.get_request(&rid("R15")).await.unwrap().unwrap();
    assert_eq!(stored.due_date, Some(after(winners[0] * DAY)));
    assert_eq!(h.store.history(&rid("R15")).await.unwrap().len(), 2);
}

pub async fn begin_claims_and_reads_the_record_and_the_open_queue_beside_the_claim(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let rec = record("R21", Side::Borrowing, RequestStatus::OnHoldShelf, &["B21"], t0());
    assert_eq!(deliver(&*h.store, "accept R21", &rec, None, t0()).await, CommitOutcome::Committed { new_version: 1 });
    let (key, request) = (message_key("check in R21"), rid("R21"));
    let begin = |owner, now, open_queue| Begin {
        key: &key,
        owner,
        request: &request,
        now,
        lease: LEASE,
        open_queue,
        patron: None,
    };
    let (a, b) = (token("a"), token("b"));
    let begun = h.store.begin(begin(&a, after(1), true)).await.unwrap();
    assert_eq!(begun.claim, ClaimOutcome::Claimed);
    assert_eq!(begun.record.map(|r| (r.version, r.item_barcodes)), Some((1, vec![barcode("B21")])));
    assert_eq!(begun.open_queue, Some(Vec::new()));
    // A second copy meanwhile finds the claim held; the queue is read only when asked for.
    let busy = h.store.begin(begin(&b, after(2), false)).await.unwrap();
    assert!(matches!(busy.claim, ClaimOutcome::InFlight { .. }), "{busy:?}");
    assert_eq!(busy.open_queue, None);
    // A request without a record reads as none.
    let (other, none) = (message_key("accept R22"), rid("R22"));
    let fresh_one = Begin {
        key: &other,
        owner: &token("c"),
        request: &none,
        now: after(3),
        lease: LEASE,
        open_queue: true,
        patron: None,
    };
    let begun = h.store.begin(fresh_one).await.unwrap();
    assert_eq!((begun.claim, begun.record), (ClaimOutcome::Claimed, None));
}

pub async fn a_done_key_begins_as_its_answer_and_only_its_first_replay_is_recorded(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let rec = record("R23", Side::Borrowing, RequestStatus::OnHoldShelf, &["B23"], t0());
    deliver(&*h.store, "accept R23", &rec, None, t0()).await;
    let (key, request) = (message_key("accept R23"), rid("R23"));
    let again = token("again");
    let begin =
        |now| Begin { key: &key, owner: &again, request: &request, now, lease: LEASE, open_queue: true, patron: None };
    let replay = |at| HistoryEntry::new("AcceptItem", at, bridge_store::Outcome::Replayed);

    let first = h.store.begin(begin(after(1))).await.unwrap();
    assert_eq!(first.claim, ClaimOutcome::Done(StoredResponse::new(b"<accept R23Response/>".to_vec())));
    assert_eq!(first.open_queue, Some(Vec::new()));
    assert!(h.store.record_replay(&key, &request, &replay(after(1))).await.unwrap());

    let later = h.store.begin(begin(after(2))).await.unwrap();
    let ClaimOutcome::Done(stored) = later.claim else { panic!("{later:?}") };
    assert!(stored.replay_recorded, "the first replay is marked on the stored answer");
    assert_eq!(stored.body, b"<accept R23Response/>");
    assert!(!h.store.record_replay(&key, &request, &replay(after(2))).await.unwrap());
    let outcomes: Vec<_> = h.store.history(&request).await.unwrap().into_iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, [bridge_store::Outcome::Success, bridge_store::Outcome::Replayed]);
    // The plain claim reports the same answer, and a key that is not done has no replay to record.
    assert_eq!(h.store.claim(&key, &token("x"), after(3), LEASE).await.unwrap(), ClaimOutcome::Done(stored));
    let open_key = message_key("never done");
    h.store.claim(&open_key, &token("y"), after(3), LEASE).await.unwrap();
    assert!(!h.store.record_replay(&open_key, &request, &replay(after(3))).await.unwrap());
}
