//! Contract scenarios for remembered patron ids: what LookupUser answered, kept as a keyed hash until it
//! expires, so that AcceptItem can forward the id without reading the user again.

use bridge_store::{Begin, PatronKey};

use super::*;

fn key(fill: &str) -> PatronKey {
    PatronKey::new(&fill.repeat(32)).unwrap()
}

pub async fn a_remembered_patron_is_known_until_its_expiry_and_remembering_again_moves_it(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let h = open(StoreConfig::default()).await;
    let (seen, unseen) = (key("0a"), key("0b"));
    assert!(!h.store.knows_patron(&seen, t0()).await.unwrap(), "nothing is known at first");
    h.store.remember_patron(&seen, after(100)).await.unwrap();
    assert!(h.store.knows_patron(&seen, after(99)).await.unwrap());
    assert!(!h.store.knows_patron(&unseen, after(99)).await.unwrap(), "another id is not known");
    assert!(!h.store.knows_patron(&seen, after(100)).await.unwrap(), "gone from its expiry second on");
    h.store.remember_patron(&seen, after(200)).await.unwrap();
    assert!(h.store.knows_patron(&seen, after(150)).await.unwrap(), "a later answer keeps it longer");
}

pub async fn a_remembered_patron_is_read_beside_a_claim_and_skipped_for_a_replay(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let h = open(StoreConfig::default()).await;
    let (seen, unseen) = (key("0c"), key("0d"));
    h.store.remember_patron(&seen, after(100)).await.unwrap();
    let request = rid("R-patron");
    const LEASE: std::time::Duration = std::time::Duration::from_secs(30);
    let owner = token("a");
    let begin = |key, patron| Begin {
        key,
        owner: &owner,
        request: &request,
        now: after(1),
        lease: LEASE,
        open_queue: false,
        patron,
    };
    let (first, second, third) = (message_key("accept R-patron"), message_key("renew R-patron"), message_key("x"));
    let begun = h.store.begin(begin(&first, Some(&seen))).await.unwrap();
    assert_eq!((begun.claim, begun.patron_known), (ClaimOutcome::Claimed, Some(true)));
    let begun = h.store.begin(begin(&second, Some(&unseen))).await.unwrap();
    assert_eq!(begun.patron_known, Some(false), "an id LookupUser never answered");
    let begun = h.store.begin(begin(&third, None)).await.unwrap();
    assert_eq!(begun.patron_known, None, "not asked for");
    // A done key forwards nothing, so its patron is not read.
    let rec = record("R-done", Side::Borrowing, RequestStatus::OnHoldShelf, &["B-done"], t0());
    deliver(&*h.store, "accept R-done", &rec, None, t0()).await;
    let done = message_key("accept R-done");
    let replay = h.store.begin(Begin { request: &rid("R-done"), ..begin(&done, Some(&seen)) }).await;
    let replay = replay.unwrap();
    assert!(matches!(replay.claim, ClaimOutcome::Done(_)), "{replay:?}");
    assert_eq!(replay.patron_known, None);
}
