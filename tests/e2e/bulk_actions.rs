//! Staff re-drive or discard many outbox messages at once by filter: they see the count first, confirm with
//! that count (the staff token only), and the deliverer carries the action out; each matching message is
//! acted on once, the others are left alone, and `GET /queue` shows the action's progress. Over real HTTP, on
//! both stores.

use crate::support::{Harness, STAFF_TOKEN, STATUS_TOKEN, StoreKind, messages as m};
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use bridge::flows::outbox::deliver_due;
use serde_json::{Value, json};

const PATRON: &str = "21000000001";
/// The staff token's fingerprint (see tests/e2e/staff_actions.rs for how it was worked out).
const STAFF_FINGERPRINT: &str = "sha256:ffec91fd";

/// Receipts queued during maintenance and refused by Alma on delivery (their patron was blocked meanwhile):
/// parked, each once.
async fn park_receipts(h: &Harness, receipts: &[(&str, &str)]) {
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    for (request, item) in receipts {
        let answer = h.ncip(&m::accept_item(request, item, PATRON)).await;
        assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    }
    assert!(h.sim.state().set_user_blocked(PATRON, true));
    h.sim.faults().clear();
    deliver_due(&h.bridge.bridge).await;
    for (request, _) in receipts {
        assert_eq!(state_of(h, request).await, "parked", "{request}");
    }
}

async fn queue_page(h: &Harness) -> Value {
    h.http.get(h.bridge.url("/queue")).bearer_auth(STATUS_TOKEN).send().await.unwrap().json().await.unwrap()
}

/// The state of the request's message on `GET /queue`, or "closed" when it is no longer listed.
async fn state_of(h: &Harness, request: &str) -> String {
    let page = queue_page(h).await;
    let messages = page["messages"].as_array().expect("messages");
    messages
        .iter()
        .find(|m| m["relais_request_id"] == request)
        .map_or_else(|| "closed".to_owned(), |m| m["state"].as_str().unwrap().to_owned())
}

async fn preview(h: &Harness, query: &str, token: &str) -> (u16, Value) {
    let response = h.http.get(h.bridge.url(&format!("/queue/bulk?{query}"))).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn confirm(h: &Harness, token: &str, body: Value) -> (u16, String) {
    let response = h.http.post(h.bridge.url("/queue/bulk")).bearer_auth(token).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn history_with(h: &Harness, request: &str, outcome: &str) -> Vec<Value> {
    let status = h.status_json(request).await;
    status["history"].as_array().expect("history").iter().filter(|e| e["outcome"] == outcome).cloned().collect()
}

async fn a_bulk_redrive_by_filter_delivers_each_matching_message_once(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    let parked = [("RL-BK-1", "ILL-BK-1"), ("RL-BK-2", "ILL-BK-2"), ("RL-BK-3", "ILL-BK-3")];
    park_receipts(&h, &parked).await;
    // A fourth receipt waits through a maintenance: not parked, so the filter leaves it to the deliverer.
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    assert!(h.sim.state().set_user_blocked(PATRON, false));
    let answer = h.ncip(&m::accept_item("RL-BK-4", "ILL-BK-4", PATRON)).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(state_of(&h, "RL-BK-4").await, "waiting");
    h.sim.faults().clear();

    // The count, with the read-only token; a misspelt filter is refused rather than dropped.
    let filter = "message_type=AcceptItem&state=parked&partner=relais";
    let (status, counted) = preview(&h, filter, STATUS_TOKEN).await;
    assert_eq!(status, 200, "{counted}");
    assert_eq!(counted["matching"], 3, "{counted}");
    let (status, all) = preview(&h, "", STATUS_TOKEN).await;
    assert_eq!((status, all["matching"].clone()), (200, json!(4)), "no filter picks every open message");
    let (status, typo) = preview(&h, "mesage_type=AcceptItem", STATUS_TOKEN).await;
    assert_eq!(status, 400, "{typo}");
    assert!(typo.as_str().unwrap().contains("mesage_type"), "names the unknown filter: {typo}");

    let body = |expect: u32| {
        json!({"action": "redrive", "filter": counted["filter"].clone(), "expect": expect,
               "note": "patron unblocked at the desk"})
    };
    let (status, text) = confirm(&h, STATUS_TOKEN, body(3)).await;
    assert_eq!(status, 403, "the status token is read-only: {text}");
    let (status, text) = confirm(&h, STAFF_TOKEN, body(2)).await;
    assert_eq!(status, 409, "a count staff did not see is refused: {text}");
    assert!(text.contains('3'), "says the count now: {text}");
    assert!(queue_page(&h).await["bulk_actions"].as_array().unwrap().is_empty(), "nothing recorded");

    let (status, text) = confirm(&h, STAFF_TOKEN, body(3)).await;
    assert_eq!(status, 202, "{text}");
    let recorded: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((recorded["state"].as_str(), recorded["matched"].as_u64()), (Some("pending"), Some(3)));
    for (request, item) in parked {
        assert_eq!(state_of(&h, request).await, "parked", "carried out by the deliverer, not by the request");
        assert_eq!(h.sim.state().items_with_barcode(item), 0);
    }

    let calls_before = h.alma_ncip_calls("AcceptItem");
    deliver_due(&h.bridge.bridge).await;
    assert_eq!(h.alma_ncip_calls("AcceptItem"), calls_before + 4, "the three re-driven and the waiting one");
    for (request, item) in parked {
        assert_eq!(h.sim.state().items_with_barcode(item), 1, "{item} delivered once");
        assert_eq!(state_of(&h, request).await, "closed", "{request}");
        let redriven = history_with(&h, request, "redriven").await;
        assert_eq!(redriven.len(), 1, "{request}: {redriven:?}");
        assert_eq!(redriven[0]["acted_by"], STAFF_FINGERPRINT, "{redriven:?}");
        let note = redriven[0]["note"].as_str().unwrap();
        assert!(note.contains("patron unblocked") && note.contains(recorded["id"].as_str().unwrap()), "{note}");
    }
    assert!(history_with(&h, "RL-BK-4", "redriven").await.is_empty(), "outside the filter, delivered on its own");
    let page = queue_page(&h).await;
    let progress = &page["bulk_actions"][0];
    assert_eq!(progress["id"], recorded["id"]);
    assert_eq!((progress["state"].as_str(), progress["done"].as_u64()), (Some("done"), Some(3)), "{progress}");
    let html = h.staff_html("/queue").await;
    assert!(html.contains("Bulk actions") && html.contains("3 of 3"), "the page shows the progress: {html}");

    // More rounds carry out nothing again: nothing is sent twice.
    deliver_due(&h.bridge.bridge).await;
    deliver_due(&h.bridge.bridge).await;
    for item in ["ILL-BK-1", "ILL-BK-2", "ILL-BK-3", "ILL-BK-4"] {
        assert_eq!(h.sim.state().items_with_barcode(item), 1, "{item}");
    }
    assert_eq!(h.alma_ncip_calls("AcceptItem"), calls_before + 4);
}

async fn a_bulk_discard_gives_up_parked_messages_only_unless_forced(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    park_receipts(&h, &[("RL-BK-5", "ILL-BK-5"), ("RL-BK-6", "ILL-BK-6")]).await;

    let (status, text) = confirm(&h, STAFF_TOKEN, json!({"action": "discard", "expect": 2, "note": "by hand"})).await;
    assert_eq!(status, 409, "a discard without force must name parked messages: {text}");
    assert!(text.contains("force"), "{text}");
    let parked = json!({"state": "parked"});
    let (status, text) = confirm(&h, STAFF_TOKEN, json!({"action": "discard", "filter": parked, "expect": 2})).await;
    assert_eq!(status, 400, "a discard needs a note: {text}");
    let body = json!({"action": "discard", "filter": parked, "expect": 2, "note": "received by hand in Alma"});
    let (status, text) = confirm(&h, STAFF_TOKEN, body).await;
    assert_eq!(status, 202, "{text}");

    h.sim.faults().clear();
    assert!(h.sim.state().set_user_blocked(PATRON, false));
    deliver_due(&h.bridge.bridge).await;
    for (request, item) in [("RL-BK-5", "ILL-BK-5"), ("RL-BK-6", "ILL-BK-6")] {
        assert_eq!(state_of(&h, request).await, "closed");
        assert_eq!(h.sim.state().items_with_barcode(item), 0, "given up, never sent");
        assert_eq!(history_with(&h, request, "discarded").await.len(), 1);
    }
    let progress = &queue_page(&h).await["bulk_actions"][0];
    assert_eq!((progress["action"].as_str(), progress["done"].as_u64()), (Some("discard"), Some(2)));
}

on_both_stores!(
    a_bulk_redrive_by_filter_delivers_each_matching_message_once,
    a_bulk_discard_gives_up_parked_messages_only_unless_forced,
);
