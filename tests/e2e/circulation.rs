//! The Relais actions of a borrowing request and of a lending request, in order, each asserting what Alma
//! then holds (through Alma's REST API), the correlation record and the history. Run on both stores.

use crate::support::{Harness, StoreKind, messages as m};
use bridge::alma::AlmaRest;

fn assert_no_problem(answer: &str, expected_response: &str) {
    assert!(answer.contains(expected_response), "expected {expected_response}: {answer}");
    assert!(!answer.contains("Problem"), "unexpected Problem: {answer}");
}

fn history_types(status: &serde_json::Value) -> Vec<(String, String)> {
    status["history"]
        .as_array()
        .expect("history array")
        .iter()
        .map(|e| (e["message_type"].as_str().unwrap().to_owned(), e["outcome"].as_str().unwrap().to_owned()))
        .collect()
}

async fn borrowing_request_requested_received_and_returned(kind: StoreKind) {
    let h = Harness::start(kind).await;
    let ctx = Harness::ctx();

    let answer = h.ncip(&m::request_item("RL-2001", "21000000001", "A Book From Afar")).await;
    assert_no_problem(&answer, "RequestItemResponse");
    assert!(answer.contains("RL-2001"), "Relais' request id is echoed: {answer}");

    let answer = h.ncip(&m::accept_item("RL-2001", "ILL-2001", "21000000001")).await;
    assert_no_problem(&answer, "AcceptItemResponse");
    assert!(answer.contains(">RL-2001<") && answer.contains(">ILL-2001<"), "{answer}");

    // Alma holds a temporary item with Relais' barcode, on the hold shelf for the patron (what Primo shows).
    let item = h.alma.item_by_barcode("ILL-2001", &ctx).await.expect("temporary item exists in Alma");
    let requests = h.user_requests("patron1").await;
    let hold = requests
        .iter()
        .find(|r| r.item_barcode.as_deref() == Some("ILL-2001"))
        .unwrap_or_else(|| panic!("a request for the item in the patron's list: {requests:?}"));
    assert_eq!(hold.request_status, "ON_HOLD_SHELF");

    // Alma's ids are read back after the answer.
    h.read_backs().await;
    let status = h.status_json("RL-2001").await;
    let record = &status["record"];
    assert_eq!(record["side"], "borrowing");
    assert_eq!(record["status"], "on_hold_shelf");
    assert_eq!(record["alma"]["item_pid"], item.item_data.pid.as_str());
    assert_eq!(record["alma"]["mms_id"], item.bib_data.mms_id.as_str());
    // Alma's own ids, for staff going from Relais to Alma: the hold on the shelf and the borrowing request.
    assert_eq!(record["alma"]["hold_or_loan_id"], hold.request_id.as_str());
    let borrowing = hold.resource_sharing.as_ref().and_then(|rs| rs.id.as_deref()).expect("the hold's request");
    assert_eq!(record["alma"]["request_id"], borrowing);
    assert_ne!(borrowing, "RL-2001", "Alma's id, not Relais's");
    // Staff see the same ids on the status page.
    let page = h.status_html("RL-2001").await;
    for id in [borrowing, hold.request_id.as_str(), item.item_data.pid.as_str()] {
        assert!(page.contains(id), "{id} on the status page: {page}");
    }
    assert_eq!(record["item_barcodes"][0], "ILL-2001");
    let patron = record["patron"].as_str().expect("the record names the patron");
    assert!(patron.starts_with("hmac:") && !patron.contains("21000000001"), "stored as a keyed hash: {patron}");

    let answer = h.ncip(&m::check_in_item("ILL-2001")).await;
    assert_no_problem(&answer, "CheckInItemResponse");
    let requests = h.user_requests("patron1").await;
    assert!(
        !requests.iter().any(|r| r.item_barcode.as_deref() == Some("ILL-2001") && r.request_status == "ON_HOLD_SHELF"),
        "the hold is gone after the return: {requests:?}"
    );

    let status = h.status_json("RL-2001").await;
    assert_eq!(status["record"]["status"], "returned");
    assert_eq!(
        history_types(&status),
        [("RequestItem", "success"), ("AcceptItem", "success"), ("CheckInItem", "success")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    // Each history entry lists the Alma calls it made, by route template only (no patron ids).
    let accept = &status["history"][1];
    let routes: Vec<&str> =
        accept["alma_calls"].as_array().unwrap().iter().map(|c| c["path_template"].as_str().unwrap()).collect();
    // The patron was translated into the partner's type by the RequestItem minutes before (Relais names them
    // by any identifier, Alma matches only one type), so the receipt goes straight to Alma's responder and is
    // answered on its answer; Alma's own ids are read back after that (`read_backs.rs` follows those reads).
    let request = &status["history"][0];
    let first: Vec<&str> =
        request["alma_calls"].as_array().unwrap().iter().map(|c| c["path_template"].as_str().unwrap()).collect();
    assert!(first.contains(&"/users/{id}"), "the RequestItem read the patron: {first:?}");
    assert_eq!(routes, ["/view/NCIPServlet",]);
}

async fn lending_request_looked_up_shipped_renewed_and_returned(kind: StoreKind) {
    let h = Harness::start(kind).await;
    let ctx = Harness::ctx();

    let answer = h.ncip(&m::lookup_item("39000000002")).await;
    assert_no_problem(&answer, "LookupItemResponse");
    assert!(answer.contains("Circulation Systems Explained") && answer.contains("Available On Shelf"), "{answer}");

    // The borrowing library's generic patron need not exist in Alma: Alma lends to the partner.
    let answer =
        h.ncip(&m::check_out_item("RL-3001", "39000000002", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z")).await;
    assert_no_problem(&answer, "CheckOutItemResponse");
    assert!(answer.contains("DateDue"), "{answer}");
    let item = h.alma.item_by_barcode("39000000002", &ctx).await.unwrap();
    assert_eq!(item.item_data.base_status.value, "0", "the item left the shelf");

    // Alma's ids are read back after the answer.
    h.read_backs().await;
    let status = h.status_json("RL-3001").await;
    assert_eq!(status["record"]["side"], "lending");
    assert_eq!(status["record"]["status"], "shipped");
    assert_eq!(status["record"]["alma"]["item_pid"], item.item_data.pid.as_str());
    // Alma's own id of the lending request the ship marked shipped (read from its lending task list, as Alma's
    // NCIP answer does not carry it), for staff going from Relais to Alma.
    let alma = h.sim.state().snapshot();
    let lending = alma["lending_requests"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["external_id"] == "RL-3001"))
        .unwrap_or_else(|| panic!("Alma's lending request for RL-3001: {alma}"));
    assert_eq!(lending["status"]["value"], "SHIPPED_PHYSICALLY");
    assert_eq!(status["record"]["alma"]["request_id"], lending["request_id"]);
    assert_ne!(lending["request_id"], "RL-3001", "Alma's id, not Relais's");

    let answer = h.ncip(&m::renew_item("39000000002", "GENERIC-ILL-PATRON", "2027-03-31T23:59:59Z")).await;
    assert_no_problem(&answer, "RenewItemResponse");
    let status = h.status_json("RL-3001").await;
    assert_eq!(status["record"]["status"], "renewed");

    let answer = h.ncip(&m::check_in_item("39000000002")).await;
    assert_no_problem(&answer, "CheckInItemResponse");
    let item = h.alma.item_by_barcode("39000000002", &ctx).await.unwrap();
    assert_ne!(item.item_data.process_type.value, "LOAN", "the loan to the partner ended");

    let status = h.status_json("RL-3001").await;
    assert_eq!(status["record"]["status"], "checked_in");
    let types: Vec<String> = history_types(&status).into_iter().map(|(t, _)| t).collect();
    assert_eq!(types, ["CheckOutItem", "RenewItem", "CheckInItem"]);
}

async fn a_partners_request_is_lending_and_its_cancel_stays_lending(kind: StoreKind) {
    let h = Harness::start(kind).await;
    // A partner asks for our item: Alma makes a lending request, and the record says lending.
    let answer = h.ncip(&m::request_item_for_our_item("RL-3101", "39000000001", "PARTNER-PATRON-7")).await;
    assert_no_problem(&answer, "RequestItemResponse");
    let status = h.status_json("RL-3101").await;
    assert_eq!(status["record"]["side"], "lending");
    assert_eq!(status["record"]["status"], "requested");
    assert!(status["record"]["patron"].is_null(), "the partner's patron is not ours to keep: {status}");

    let answer = h.ncip(&m::cancel_request_item("RL-3101", "PARTNER-PATRON-7")).await;
    assert_no_problem(&answer, "CancelRequestItemResponse");
    let status = h.status_json("RL-3101").await;
    assert_eq!(status["record"]["side"], "lending");
    assert_eq!(status["record"]["status"], "cancelled");
}

async fn alma_problems_reach_relais_with_their_text_and_change_nothing(kind: StoreKind) {
    let h = Harness::start(kind).await;
    // inactive1 is not ACTIVE: Alma's responder does not find inactive users.
    let answer = h.ncip(&m::accept_item("RL-4001", "ILL-4001", "21000000005")).await;
    assert!(answer.contains("AcceptItemResponse") && answer.contains("Unknown User"), "{answer}");
    assert_eq!(h.sim.state().items_with_barcode("ILL-4001"), 0);
    let status = h.status_json("RL-4001").await;
    assert!(status["record"].is_null(), "no record for a refused message");
    assert_eq!(history_types(&status), [("AcceptItem".to_owned(), "problem".to_owned())]);
    // A refusal leaves nothing behind: the corrected message is received normally.
    let answer = h.ncip(&m::accept_item("RL-4001", "ILL-4001", "21000000001")).await;
    assert_no_problem(&answer, "AcceptItemResponse");
}

on_both_stores!(
    borrowing_request_requested_received_and_returned,
    lending_request_looked_up_shipped_renewed_and_returned,
    a_partners_request_is_lending_and_its_cancel_stays_lending,
    alma_problems_reach_relais_with_their_text_and_change_nothing,
);
