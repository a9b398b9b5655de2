//! Contract scenarios for correlation records, barcode lookups, history, expiry and discovery citations.

use bridge_store::{
    AlmaCall, AlmaIds, ClaimOutcome, CommitOutcome, Outcome, PatronId, ProblemSummary, RequestStatus, Side,
    StoreConfig, StoreError, StoredResponse,
};
use serde_json::json;

use super::*;

pub async fn unknown_request_reads_as_absent(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    assert_eq!(h.store.get_request(&rid("R404")).await.unwrap(), None);
    assert!(h.store.history(&rid("R404")).await.unwrap().is_empty());
    assert!(h.store.find_by_barcode(&barcode("B404")).await.unwrap().is_empty());
    assert_eq!(h.store.get_discovery("nope", t0()).await.unwrap(), None);
}

pub async fn accept_item_creates_the_record_and_later_deliveries_replay_the_response(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let mut accepted = record("R1", Side::Borrowing, RequestStatus::OnHoldShelf, &["39001", "R1"], t0());
    accepted.patron = Some(PatronId::new("P-0042").unwrap());
    accepted.due_date = Some(after(21 * DAY));
    accepted.alma = AlmaIds {
        request_id: Some("1234567890001".into()),
        item_pid: Some("23123456780001".into()),
        mms_id: Some("99123456780001".into()),
        holding_id: Some("22123456780001".into()),
        hold_or_loan_id: Some("7777".into()),
        pending: false,
    };
    accepted.version = 99; // ignored: the store sets it

    let key = message_key("accept R1");
    let owner = token("delivery-1");
    let claimed = h.store.claim(&key, &owner, t0(), std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(claimed, ClaimOutcome::Claimed);
    let mut history = entry("AcceptItem", t0());
    history.alma_calls = vec![AlmaCall {
        method: "POST".into(),
        path_template: "/view/NCIPServlet".into(),
        status: 200,
        elapsed_ms: 312,
    }];
    history.alma_tracking_id = Some("E01-0101010101-ABCDE".into());
    let outcome = h
        .store
        .commit(Commit {
            key: &key,
            owner: &owner,
            response: b"<AcceptItemResponse/>",
            record: &accepted,
            expected_version: None,
            history: &history,
            now: t0(),
            follow_up: None,
        })
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::Committed { new_version: 1 });

    let stored = h.store.get_request(&rid("R1")).await.unwrap().unwrap();
    assert_eq!(stored, Correlation { version: 1, ..accepted });
    assert_eq!(h.store.history(&rid("R1")).await.unwrap(), vec![history]);
    let again = h.store.claim(&key, &token("delivery-2"), after(5), std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(again, ClaimOutcome::Done(StoredResponse::new(b"<AcceptItemResponse/>".to_vec())));
}

pub async fn update_with_the_current_version_bumps_it(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let requested = record("L1", Side::Lending, RequestStatus::Requested, &[], t0());
    assert_eq!(
        deliver(&*h.store, "request L1", &requested, None, t0()).await,
        CommitOutcome::Committed { new_version: 1 }
    );
    let mut shipped = h.store.get_request(&rid("L1")).await.unwrap().unwrap();
    shipped.status = RequestStatus::Shipped;
    shipped.item_barcodes.push(barcode("39002"));
    shipped.alma.hold_or_loan_id = Some("loan-1".into());
    shipped.updated_at = after(60);
    assert_eq!(
        deliver(&*h.store, "ship L1", &shipped, Some(1), after(60)).await,
        CommitOutcome::Committed { new_version: 2 }
    );
    let stored = h.store.get_request(&rid("L1")).await.unwrap().unwrap();
    assert_eq!(stored, Correlation { version: 2, ..shipped });
    let messages: Vec<_> = h.store.history(&rid("L1")).await.unwrap().into_iter().map(|e| e.message_type).collect();
    assert_eq!(messages, ["request L1", "ship L1"]);
}

pub async fn stale_version_is_a_conflict_and_writes_nothing(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let v1 = record("L2", Side::Lending, RequestStatus::Requested, &["B2"], t0());
    deliver(&*h.store, "request L2", &v1, None, t0()).await;
    let mut v2 = v1.clone();
    v2.status = RequestStatus::Shipped;
    deliver(&*h.store, "ship L2", &v2, Some(1), after(1)).await;

    let mut late = v1.clone();
    late.status = RequestStatus::Cancelled;
    late.item_barcodes = vec![barcode("B-late")];
    assert_eq!(deliver(&*h.store, "cancel L2", &late, Some(1), after(2)).await, CommitOutcome::VersionConflict);
    let stored = h.store.get_request(&rid("L2")).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.status), (2, RequestStatus::Shipped));
    assert_eq!(h.store.history(&rid("L2")).await.unwrap().len(), 2);
    assert!(h.store.find_by_barcode(&barcode("B-late")).await.unwrap().is_empty());
    // The conflicting delivery still holds its claim: nothing marked it done.
    let other = h
        .store
        .claim(&message_key("cancel L2"), &token("x"), after(3), std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert!(matches!(other, ClaimOutcome::InFlight { .. }), "{other:?}");
}

pub async fn creating_an_existing_record_is_a_conflict(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let first = record("R3", Side::Borrowing, RequestStatus::OnHoldShelf, &[], t0());
    deliver(&*h.store, "accept R3", &first, None, t0()).await;
    let mut duplicate = first.clone();
    duplicate.status = RequestStatus::Requested;
    assert_eq!(deliver(&*h.store, "accept R3 again", &duplicate, None, after(1)).await, CommitOutcome::VersionConflict);
    let stored = h.store.get_request(&rid("R3")).await.unwrap().unwrap();
    assert_eq!(stored.status, RequestStatus::OnHoldShelf);
}

pub async fn expired_record_may_be_created_afresh(open: impl AsyncFn(StoreConfig) -> Harness) {
    let clock = TestClock::at(t0());
    let config = ten_day_retention();
    let h = open(clock.config(config)).await;
    let closed = record("R4", Side::Borrowing, RequestStatus::Returned, &["B4"], t0());
    deliver(&*h.store, "return R4", &closed, None, t0()).await;
    let later = after(11 * DAY);
    clock.set(later);
    // Its old version is gone with it.
    let reopened = record("R4", Side::Borrowing, RequestStatus::OnHoldShelf, &["B4"], later);
    assert_eq!(
        deliver(&*h.store, "accept R4 (stale version)", &reopened, Some(1), later).await,
        CommitOutcome::VersionConflict
    );
    assert_eq!(
        deliver(&*h.store, "accept R4", &reopened, None, later).await,
        CommitOutcome::Committed { new_version: 1 }
    );
    assert_eq!(h.store.get_request(&rid("R4")).await.unwrap().unwrap().created_at, later);
    assert_eq!(h.store.find_by_barcode(&barcode("B4")).await.unwrap().len(), 1);
}

pub async fn history_reads_oldest_first_with_ties_in_append_order(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let id = rid("R5");
    let mut problem = entry("CheckInItem", after(30));
    problem.outcome = Outcome::Problem;
    problem.problem =
        Some(ProblemSummary { problem_type: "Unknown Item".into(), detail: Some("no such barcode".into()) });
    let appended = [
        entry("second", after(20)),
        entry("first", after(10)),
        problem.clone(),
        entry("tie-a", after(40)),
        entry("tie-b", after(40)),
    ];
    for e in &appended {
        h.store.append_history(&id, e).await.unwrap();
    }
    // A commit's entry at the same instant as appended ones goes after them.
    let rec = record("R5", Side::Borrowing, RequestStatus::OnHoldShelf, &[], t0());
    let key = message_key("tie-c");
    let owner = token("o");
    h.store.claim(&key, &owner, after(40), std::time::Duration::from_secs(30)).await.unwrap();
    let tie_c = entry("tie-c", after(40));
    let outcome = h
        .store
        .commit(Commit {
            key: &key,
            owner: &owner,
            response: b"",
            record: &rec,
            expected_version: None,
            history: &tie_c,
            now: after(40),
            follow_up: None,
        })
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::Committed { new_version: 1 });
    h.store.append_history(&id, &entry("tie-d", after(40))).await.unwrap();

    let read = h.store.history(&id).await.unwrap();
    let order: Vec<_> = read.iter().map(|e| e.message_type.as_str()).collect();
    assert_eq!(order, ["first", "second", "CheckInItem", "tie-a", "tie-b", "tie-c", "tie-d"]);
    assert_eq!(read[2], problem);
}

pub async fn history_of_one_request_never_shows_another(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    // "R1" is a prefix of "R10": a prefix scan would mix them.
    h.store.append_history(&rid("R1"), &entry("one", t0())).await.unwrap();
    h.store.append_history(&rid("R10"), &entry("ten", t0())).await.unwrap();
    let one: Vec<_> = h.store.history(&rid("R1")).await.unwrap().into_iter().map(|e| e.message_type).collect();
    assert_eq!(one, ["one"]);
    let ten: Vec<_> = h.store.history(&rid("R10")).await.unwrap().into_iter().map(|e| e.message_type).collect();
    assert_eq!(ten, ["ten"]);
}

pub async fn repeated_replays_fold_into_one_entry_with_a_count(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let id = rid("R-FOLD");
    let replay = |message: &str, seconds: i64| HistoryEntry::new(message, after(seconds), Outcome::Replayed);
    h.store.append_history(&id, &entry("CheckInItem", after(0))).await.unwrap();
    // A sender looping on the same message: one entry however often it comes.
    for n in 1..=5 {
        h.store.append_history(&id, &replay("CheckInItem", n)).await.unwrap();
    }
    // Another message's replay, or anything that is not a replay, starts a new entry.
    h.store.append_history(&id, &replay("RenewItem", 10)).await.unwrap();
    h.store.append_history(&id, &entry("RenewItem", after(11))).await.unwrap();
    h.store.append_history(&id, &replay("RenewItem", 12)).await.unwrap();
    let read = h.store.history(&id).await.unwrap();
    let shape: Vec<(&str, Outcome, u32)> =
        read.iter().map(|e| (e.message_type.as_str(), e.outcome, e.repeats)).collect();
    assert_eq!(
        shape,
        [
            ("CheckInItem", Outcome::Success, 0),
            ("CheckInItem", Outcome::Replayed, 4),
            ("RenewItem", Outcome::Replayed, 0),
            ("RenewItem", Outcome::Success, 0),
            ("RenewItem", Outcome::Replayed, 0),
        ]
    );
    assert_eq!(read[1].at, after(1), "the folded entry keeps its first time");
    assert_eq!(read[1].last_repeat_at, Some(after(5)), "and says when the last repeat came");
}

pub async fn barcode_lookup_lists_every_request_newest_first(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let borrowing = record("R6", Side::Borrowing, RequestStatus::OnHoldShelf, &["B6"], t0());
    let lending = record("L6", Side::Lending, RequestStatus::Shipped, &["B6", "C6"], after(60));
    let older = record("R6-old", Side::Borrowing, RequestStatus::OnHoldShelf, &["B6"], after(-60));
    deliver(&*h.store, "accept R6", &borrowing, None, t0()).await;
    deliver(&*h.store, "ship L6", &lending, None, after(60)).await;
    deliver(&*h.store, "accept R6-old", &older, None, after(61)).await;

    let ids =
        |records: Vec<Correlation>| records.into_iter().map(|r| r.relais_request_id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(h.store.find_by_barcode(&barcode("B6")).await.unwrap()), ["L6", "R6", "R6-old"]);
    let by_c = h.store.find_by_barcode(&barcode("C6")).await.unwrap();
    assert_eq!(by_c, vec![Correlation { version: 1, ..lending }]);
    assert!(h.store.find_by_barcode(&barcode("B")).await.unwrap().is_empty());
}

pub async fn barcode_dropped_from_a_record_no_longer_finds_it(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let mut rec = record("R7", Side::Borrowing, RequestStatus::OnHoldShelf, &["OLD7", "NEW7"], t0());
    deliver(&*h.store, "accept R7", &rec, None, t0()).await;
    rec.item_barcodes = vec![barcode("NEW7")];
    deliver(&*h.store, "fix R7", &rec, Some(1), after(1)).await;
    assert!(h.store.find_by_barcode(&barcode("OLD7")).await.unwrap().is_empty());
    assert_eq!(h.store.find_by_barcode(&barcode("NEW7")).await.unwrap().len(), 1);
}

pub async fn closed_request_expires_exactly_after_retention_and_open_one_never_does(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let clock = TestClock::at(t0());
    let config = ten_day_retention();
    let h = open(clock.config(config)).await;
    let open_one = record("L8", Side::Lending, RequestStatus::Shipped, &["B8"], t0());
    deliver(&*h.store, "ship L8", &open_one, None, t0()).await;
    let mut closed = record("R8", Side::Borrowing, RequestStatus::OnHoldShelf, &["B8"], t0());
    deliver(&*h.store, "accept R8", &closed, None, t0()).await;
    closed.status = RequestStatus::Returned;
    let closed_at = after(DAY);
    deliver(&*h.store, "return R8", &closed, Some(1), closed_at).await;

    // expires_at is the closing second plus the retention: visible one second before, gone from then on.
    let expiry = closed_at.as_second() + 10 * DAY;
    clock.set(jiff::Timestamp::from_second(expiry - 1).unwrap());
    assert!(h.store.get_request(&rid("R8")).await.unwrap().is_some());
    assert_eq!(h.store.find_by_barcode(&barcode("B8")).await.unwrap().len(), 2);
    clock.set(jiff::Timestamp::from_second(expiry).unwrap());
    assert_eq!(h.store.get_request(&rid("R8")).await.unwrap(), None);
    let still: Vec<_> =
        h.store.find_by_barcode(&barcode("B8")).await.unwrap().into_iter().map(|r| r.relais_request_id).collect();
    assert_eq!(still, [rid("L8")]);
    clock.set(after(1000 * DAY));
    assert!(h.store.get_request(&rid("L8")).await.unwrap().is_some());
}

pub async fn history_entries_expire_retention_after_their_own_time(open: impl AsyncFn(StoreConfig) -> Harness) {
    let clock = TestClock::at(t0());
    let config = ten_day_retention();
    let h = open(clock.config(config)).await;
    let id = rid("R9");
    h.store.append_history(&id, &entry("early", t0())).await.unwrap();
    h.store.append_history(&id, &entry("late", after(5 * DAY))).await.unwrap();
    clock.set(jiff::Timestamp::from_second(t0().as_second() + 10 * DAY - 1).unwrap());
    assert_eq!(h.store.history(&id).await.unwrap().len(), 2);
    clock.set(jiff::Timestamp::from_second(t0().as_second() + 10 * DAY).unwrap());
    let left: Vec<_> = h.store.history(&id).await.unwrap().into_iter().map(|e| e.message_type).collect();
    assert_eq!(left, ["late"]);
}

pub async fn discovery_citation_is_readable_until_its_ttl(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let citation = json!({"genre": "article", "atitle": "A thin bright line", "issn": ["1234-5678"], "year": 2000});
    h.store.put_discovery("c0ffee", &citation, t0()).await.unwrap();
    let ttl = StoreConfig::default().discovery_ttl.as_secs() as i64;
    let expiry = t0().as_second() + ttl;
    let just_before = jiff::Timestamp::from_second(expiry - 1).unwrap();
    assert_eq!(h.store.get_discovery("c0ffee", just_before).await.unwrap(), Some(citation));
    let at_expiry = jiff::Timestamp::from_second(expiry).unwrap();
    assert_eq!(h.store.get_discovery("c0ffee", at_expiry).await.unwrap(), None);
    assert_eq!(h.store.get_discovery("c0ffe", t0()).await.unwrap(), None);
}

pub async fn discovery_id_is_checked(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let put = h.store.put_discovery("", &json!({}), t0()).await;
    assert!(matches!(put, Err(StoreError::InvalidDiscoveryId(_))), "{put:?}");
    let get = h.store.get_discovery("a\nb", t0()).await;
    assert!(matches!(get, Err(StoreError::InvalidDiscoveryId(_))), "{get:?}");
}

fn ten_day_retention() -> StoreConfig {
    let mut config = StoreConfig::default();
    config.retention = std::time::Duration::from_secs(10 * DAY as u64);
    config
}
