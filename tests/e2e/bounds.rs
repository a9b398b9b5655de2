//! The outbox is bounded and never loses sight of a message: at most so many open messages per request and in
//! all (past either, Relais hears Temporary Processing Failure), every open message reachable however many
//! wait (the queue is read a page at a time, to the end), and a check-in never overtakes its receive.

use crate::support::{Harness, STATUS_TOKEN, StoreKind, messages as m};
use alma_sim::{FaultKind, FaultScope, FaultSpec, Seed};
use bridge::flows::outbox::deliver_due;
use bridge::store::{
    ClaimOutcome, ClaimToken, Enqueue, EnqueueOutcome, HistoryEntry, IdempotencyKey, Outcome, QueueLimits, QueueState,
    QueuedMessage, RelaisRequestId, Store,
};
use std::time::Duration;

fn problem_detail(answer: &str) -> &str {
    answer.split("ProblemDetail>").nth(1).map_or("", |d| d.trim_end_matches("</ns1:"))
}

#[tokio::test]
async fn the_eleventh_open_message_of_one_request_is_a_temporary_failure() {
    let h = Harness::start_with(StoreKind::Embedded, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    for n in 1..=10 {
        let answer = h.ncip(&m::accept_item("RL-CAP", &format!("ILL-CAP-{n}"), "21000000001")).await;
        assert!(!answer.contains("Problem"), "message {n} queued: {answer}");
    }
    let eleventh = h.ncip(&m::accept_item("RL-CAP", "ILL-CAP-11", "21000000001")).await;
    assert!(eleventh.contains("Temporary Processing Failure"), "{eleventh}");
    assert!(problem_detail(&eleventh).contains("10 messages for this request"), "{eleventh}");
    let open = h.store.queued_for(&RelaisRequestId::new("RL-CAP").unwrap()).await.unwrap();
    assert_eq!(open.len(), 10, "the eleventh was not written");
    // Another request still has room.
    let other = h.ncip(&m::accept_item("RL-CAP-2", "ILL-CAP-12", "21000000001")).await;
    assert!(!other.contains("Problem"), "{other}");
}

/// Puts an AcceptItem of `barcode` for `request` straight into the outbox, as a receive queued while Alma was
/// down would be.
async fn seed_queued(store: &dyn Store, request: &str, barcode: &str, at: jiff::Timestamp) {
    let request_id = RelaisRequestId::new(request).unwrap();
    let body = m::accept_item(request, barcode, "21000000001").into_bytes();
    let key = IdempotencyKey::derive("AcceptItem", Some(&request_id), None, &body);
    let owner = ClaimToken::new(format!("seed{barcode}")).unwrap();
    assert_eq!(store.claim(&key, &owner, at, Duration::from_secs(30)).await.unwrap(), ClaimOutcome::Claimed);
    let mut message = QueuedMessage::new(request_id, "AcceptItem", key.clone(), body, at);
    message.barcode = Some(bridge::store::ItemBarcode::new(barcode).unwrap());
    let history = HistoryEntry::new("AcceptItem", at, Outcome::Queued);
    let enqueue = Enqueue {
        key: &key,
        owner: &owner,
        response: b"<answered/>",
        message: &message,
        history: &history,
        now: at,
        limits: QueueLimits::default(),
    };
    assert_eq!(store.enqueue(enqueue).await.unwrap(), EnqueueOutcome::Queued);
}

#[tokio::test]
async fn six_hundred_open_messages_are_all_delivered_and_a_check_in_waits_behind_the_last_receive() {
    let seed = Seed::demo().with_per_second_threshold(100_000);
    let env = [("LOCAL_OUTBOX_POLL_MS", "0"), ("ALMA_MAX_CALLS_PER_SECOND", "1000")];
    let h = Harness::start_seeded(seed, &env).await;
    let start = jiff::Timestamp::now();
    for n in 0..600 {
        let at = start + jiff::SignedDuration::from_millis(n);
        seed_queued(&*h.store, &format!("RL-BIG-{n}"), &format!("ILL-BIG-{n}"), at).await;
    }
    assert_eq!(h.store.open_count().await.unwrap(), 600);

    // Staff page through all of them: the total on every page, the next page's cursor until the last.
    let mut listed = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let url = match &after {
            Some(id) => h.bridge.url(&format!("/queue?after={id}")),
            None => h.bridge.url("/queue"),
        };
        let page: serde_json::Value =
            h.http.get(url).bearer_auth(STATUS_TOKEN).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["total"], 600, "{page}");
        for message in page["messages"].as_array().unwrap() {
            assert!(listed.insert(message["id"].as_str().unwrap().to_owned()), "listed twice: {message}");
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(listed.len(), 600, "every open message is listed");

    // The last receive is far past the first page: a check-in of its item must still find it and wait.
    let check_in = h.ncip(&m::check_in_item("ILL-BIG-599")).await;
    assert!(!check_in.contains("Problem"), "the return waits behind its receive: {check_in}");
    assert_eq!(h.alma_ncip_calls("CheckInItem"), 0, "the return did not overtake its receive");

    for _ in 0..5 {
        if deliver_due(&h.bridge.bridge).await.open == 0 {
            break;
        }
    }
    assert_eq!(h.store.open_count().await.unwrap(), 0, "every open message was reached and delivered");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 600, "each receive reached Alma once");
    assert_eq!(h.alma_ncip_calls("CheckInItem"), 1);
    let last = h.store.queued_for(&RelaisRequestId::new("RL-BIG-599").unwrap()).await.unwrap();
    let order: Vec<(&str, QueueState)> = last.iter().map(|m| (m.message_type.as_str(), m.state)).collect();
    assert_eq!(order, [("AcceptItem", QueueState::Delivered), ("CheckInItem", QueueState::Delivered)]);
    assert!(last.iter().all(|m| m.body.is_empty()), "a delivered message keeps its digest, not its body");
}

#[tokio::test]
async fn poison_messages_cost_only_their_own_turns_and_are_parked_on_their_fifth_attempt() {
    let h = Harness::start_with(StoreKind::Embedded, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    for n in 0..25 {
        let answer =
            h.ncip(&m::accept_item(&format!("RL-POISON-{n}"), &format!("ILL-POISON-{n}"), "21000000001")).await;
        assert!(!answer.contains("Problem"), "queued: {answer}");
    }
    let good = h.ncip(&m::accept_item("RL-GOOD", "ILL-GOOD", "21000000001")).await;
    assert!(!good.contains("Problem"), "queued: {good}");
    // Alma is back, but answers each poison message with a login page instead of NCIP: their own failing.
    h.sim.faults().clear();
    h.sim.faults().arm(FaultSpec::always(FaultKind::LoginPage, FaultScope::Ncip).matching("ILL-POISON")).unwrap();

    let first = deliver_due(&h.bridge.bridge).await;
    assert_eq!(first.tried, 26, "every head was tried once: the poison did not stop the round");
    assert_eq!(h.sim.state().items_with_barcode("ILL-GOOD"), 1, "the good receive went in the first round");

    let mut last = first;
    for _ in 0..6 {
        // Past each poison message's retry time and its kept claim's lease.
        h.clock.advance(Duration::from_secs(31));
        last = deliver_due(&h.bridge.bridge).await;
    }
    // The round's own counts feed the deliverer's gauges: 25 parked, none waiting.
    assert!(last.counted);
    assert_eq!((last.open, last.parked), (25, 25), "{last:?}");
    for n in 0..25 {
        let queued = h.store.queued_for(&RelaisRequestId::new(format!("RL-POISON-{n}")).unwrap()).await.unwrap();
        assert_eq!(queued[0].state, QueueState::Parked, "poison {n}: {queued:?}");
        assert_eq!(queued[0].attempts, 5, "parked on its fifth attempt: {queued:?}");
    }
}
