//! Staff actions on the outbox take their own credential: the status token (handed to dashboards and
//! scripts that only read) is refused on re-drive and discard, the staff token is accepted and may read too,
//! each action's history names the acting token by a fingerprint and never by the token, and a message still
//! waiting for Alma is given up only on purpose (`"force": true`). Over real HTTP, on both stores.

use crate::support::{Harness, STAFF_TOKEN, STATUS_TOKEN, StoreKind, messages as m};
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use bridge::flows::outbox::deliver_due;
use serde_json::{Value, json};

/// `printf %s local-staff-action-token-0123456789 | sha256sum | cut -c1-8`: the staff token's fingerprint,
/// worked out apart from the code under test.
const STAFF_FINGERPRINT: &str = "sha256:ffec91fd";
/// A staff token being rotated out, and `printf %s local-old-staff-token-0123456789 | sha256sum | cut -c1-8`.
const OLD_STAFF_TOKEN: &str = "local-old-staff-token-0123456789";
const OLD_STAFF_FINGERPRINT: &str = "sha256:440ef23a";

const PATRON: &str = "21000000001";

/// A receipt queued during maintenance, then refused by Alma on delivery (its patron was blocked meanwhile):
/// parked. Returns its queue id.
async fn parked_receipt(h: &Harness, request: &str, item: &str) -> String {
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    let answer = h.ncip(&m::accept_item(request, item, PATRON)).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert!(h.sim.state().set_user_blocked(PATRON, true));
    h.sim.faults().clear();
    deliver_due(&h.bridge.bridge).await;
    let message = open_message(h, request).await;
    assert_eq!(message["state"], "parked", "{message}");
    message["id"].as_str().unwrap().to_owned()
}

/// A receipt queued during maintenance, still waiting (Alma has not refused it). Returns its queue id.
async fn waiting_receipt(h: &Harness, request: &str, item: &str) -> String {
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    let answer = h.ncip(&m::accept_item(request, item, PATRON)).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    let message = open_message(h, request).await;
    assert_eq!(message["state"], "waiting", "{message}");
    message["id"].as_str().unwrap().to_owned()
}

/// The request's open message, as `GET /queue` lists it (read with the status token).
async fn open_message(h: &Harness, request: &str) -> Value {
    let listed: Value =
        h.http.get(h.bridge.url("/queue")).bearer_auth(STATUS_TOKEN).send().await.unwrap().json().await.unwrap();
    let messages = listed["messages"].as_array().expect("messages").clone();
    messages.into_iter().find(|m| m["relais_request_id"] == request).unwrap_or_else(|| panic!("{request}: {listed}"))
}

/// `POST /queue/{id}/{action}` with `token` as the bearer (none when `None`); the status and the body.
async fn act(h: &Harness, id: &str, action: &str, token: Option<&str>, body: Value) -> (u16, String) {
    let mut request = h.http.post(h.bridge.url(&format!("/queue/{id}/{action}"))).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The request's history entries with `outcome`.
async fn history_with(h: &Harness, request: &str, outcome: &str) -> Vec<Value> {
    let status = h.status_json(request).await;
    status["history"].as_array().expect("history").iter().filter(|e| e["outcome"] == outcome).cloned().collect()
}

async fn the_status_token_is_refused_on_redrive_and_discard_and_the_staff_token_is_accepted(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    let id = parked_receipt(&h, "RL-SA-1", "ILL-SA-1").await;
    let note = json!({"note": "block lifted at the desk"});

    for action in ["redrive", "discard"] {
        let (status, text) = act(&h, &id, action, Some(STATUS_TOKEN), note.clone()).await;
        assert_eq!(status, 403, "{action} with the status token: {text}");
        assert!(text.contains("staff token") && text.contains("STAFF_ACTION_TOKEN"), "says what is needed: {text}");
        let (status, text) = act(&h, &id, action, None, note.clone()).await;
        assert_eq!(status, 401, "{action} without a token: {text}");
        let (status, _) = act(&h, &id, action, Some("not-a-token-0123456789"), note.clone()).await;
        assert_eq!(status, 401, "{action} with a wrong token");
    }
    assert_eq!(open_message(&h, "RL-SA-1").await["state"], "parked", "nothing was changed by the refusals");
    assert!(history_with(&h, "RL-SA-1", "redriven").await.is_empty());
    assert!(history_with(&h, "RL-SA-1", "discarded").await.is_empty());

    // The staff token reads what the status token reads.
    let queue = h.http.get(h.bridge.url("/queue")).bearer_auth(STAFF_TOKEN).send().await.unwrap();
    assert_eq!(queue.status(), 200, "the staff token reads the queue");
    let page = h.http.get(h.bridge.url("/requests/RL-SA-1")).bearer_auth(STAFF_TOKEN).send().await.unwrap();
    assert_eq!(page.status(), 200, "the staff token reads a request's page");

    assert!(h.sim.state().set_user_blocked(PATRON, false));
    let (status, text) = act(&h, &id, "redrive", Some(STAFF_TOKEN), note).await;
    assert_eq!(status, 200, "the staff token re-drives: {text}");
    deliver_due(&h.bridge.bridge).await;
    assert_eq!(h.sim.state().items_with_barcode("ILL-SA-1"), 1, "delivered after the re-drive");
    let redriven = history_with(&h, "RL-SA-1", "redriven").await;
    assert_eq!(redriven.len(), 1);
    assert_eq!(redriven[0]["acted_by"], STAFF_FINGERPRINT, "the re-drive names its token: {redriven:?}");

    // A second parked message: the staff token discards it.
    let id = parked_receipt(&h, "RL-SA-2", "ILL-SA-2").await;
    let (status, text) = act(&h, &id, "discard", Some(STAFF_TOKEN), json!({"note": "received by hand"})).await;
    assert_eq!(status, 200, "the staff token discards: {text}");
    assert_eq!(history_with(&h, "RL-SA-2", "discarded").await.len(), 1);
}

async fn a_discards_history_names_the_token_by_its_fingerprint_never_by_the_token(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    let id = parked_receipt(&h, "RL-SA-3", "ILL-SA-3").await;
    let (status, text) = act(&h, &id, "discard", Some(STAFF_TOKEN), json!({"note": "received by hand in Alma"})).await;
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(STAFF_TOKEN), "the answer does not echo the token: {text}");

    let discarded = history_with(&h, "RL-SA-3", "discarded").await;
    assert_eq!(discarded.len(), 1, "{discarded:?}");
    assert_eq!(discarded[0]["acted_by"], STAFF_FINGERPRINT, "which credential acted: {discarded:?}");
    assert_eq!(discarded[0]["note"], "received by hand in Alma");
    // Nothing a reader of the request can see holds the token, in JSON or on the page.
    let status = h.status_json("RL-SA-3").await.to_string();
    assert!(!status.contains(STAFF_TOKEN), "the status JSON holds no token: {status}");
    assert!(!h.status_html("RL-SA-3").await.contains(STAFF_TOKEN));
    // Nor does the store itself.
    if kind == StoreKind::Embedded {
        for (file, bytes) in h.store_files() {
            let token = STAFF_TOKEN.as_bytes();
            assert!(!bytes.windows(token.len()).any(|w| w == token), "{file} holds the staff token");
        }
    }
}

async fn a_waiting_message_is_discarded_only_with_force(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    let id = waiting_receipt(&h, "RL-SA-4", "ILL-SA-4").await;

    let (status, text) = act(&h, &id, "discard", Some(STAFF_TOKEN), json!({"note": "received by hand"})).await;
    assert_eq!(status, 409, "a waiting message may still reach Alma: {text}");
    assert!(text.contains("waiting") && text.contains("\"force\": true"), "says why and what to send: {text}");
    let (status, _) =
        act(&h, &id, "discard", Some(STAFF_TOKEN), json!({"note": "received by hand", "force": false})).await;
    assert_eq!(status, 409, "force must be true");
    assert_eq!(open_message(&h, "RL-SA-4").await["state"], "waiting", "still waiting after the refusals");
    assert!(history_with(&h, "RL-SA-4", "discarded").await.is_empty());

    let forced = json!({"note": "received by hand", "force": true});
    let (status, text) = act(&h, &id, "discard", Some(STAFF_TOKEN), forced).await;
    assert_eq!(status, 200, "{text}");
    let discarded = history_with(&h, "RL-SA-4", "discarded").await;
    assert_eq!(discarded.len(), 1);
    assert_eq!(discarded[0]["acted_by"], STAFF_FINGERPRINT);
    // Alma comes back: the discarded message never reaches it.
    h.sim.faults().clear();
    assert_eq!(deliver_due(&h.bridge.bridge).await.tried, 0);
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 0);
    assert_eq!(h.sim.state().items_with_barcode("ILL-SA-4"), 0);
}

on_both_stores!(
    the_status_token_is_refused_on_redrive_and_discard_and_the_staff_token_is_accepted,
    a_discards_history_names_the_token_by_its_fingerprint_never_by_the_token,
    a_waiting_message_is_discarded_only_with_force,
);

/// During a rotation both staff tokens act, and the history tells them apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_rotation_the_previous_staff_token_acts_and_the_history_tells_it_apart() {
    let env = [("LOCAL_OUTBOX_POLL_MS", "0"), ("STAFF_ACTION_TOKEN_PREVIOUS", OLD_STAFF_TOKEN)];
    let h = Harness::start_with(StoreKind::Embedded, &env, |store| store).await;
    let id = parked_receipt(&h, "RL-SA-5", "ILL-SA-5").await;
    let (status, text) = act(&h, &id, "redrive", Some(OLD_STAFF_TOKEN), json!({"note": "old script"})).await;
    assert_eq!(status, 200, "{text}");
    // Still blocked: Alma refuses it again and it parks; the new token re-drives it once the block is lifted.
    deliver_due(&h.bridge.bridge).await;
    assert_eq!(open_message(&h, "RL-SA-5").await["state"], "parked");
    assert!(h.sim.state().set_user_blocked(PATRON, false));
    let (status, text) = act(&h, &id, "redrive", Some(STAFF_TOKEN), json!({"note": "block lifted"})).await;
    assert_eq!(status, 200, "{text}");
    let by: Vec<Value> =
        history_with(&h, "RL-SA-5", "redriven").await.into_iter().map(|e| e["acted_by"].clone()).collect();
    assert_eq!(by, [OLD_STAFF_FINGERPRINT, STAFF_FINGERPRINT], "each re-drive names its own token");
}
