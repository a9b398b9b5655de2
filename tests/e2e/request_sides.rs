//! Which side a RequestItem is on, read from what Alma knows (the table in docs/configure-relais.md), and
//! what a cancel on the borrowing side does: every scenario against the strict simulator, asserting what
//! Alma then holds, the correlation record and the status page.

use crate::support::{Harness, StoreKind};
use alma_sim::Seed;
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use bridge::flows::REFUSAL_PROBLEM_TYPE;
use bridge::store::testing::{FaultyStore, Operation};
use std::sync::{Arc, Mutex};

const HEADER: &str = "<InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId><ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader>";

/// "Resource Sharing in Practice", the seeded title our item 39000000003 belongs to, has this OCLC number.
const OUR_OCLC_NUMBER: &str = "1000000035";

fn envelope(service_xml: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\" \
         version=\"http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd\">\n{service_xml}\n</NCIPMessage>"
    )
}

/// A RequestItem as Relais sends it: the patron, the title by OCLC number, Relais's request id, and (when
/// given) an ItemId, which may be Relais's own request number rather than a barcode.
fn request_item(request_id: &str, patron: &str, oclc: &str, item_id: Option<&str>) -> String {
    let item =
        item_id.map(|i| format!("<ItemId><ItemIdentifierValue>{i}</ItemIdentifierValue></ItemId>")).unwrap_or_default();
    envelope(&format!(
        "<RequestItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>{item}\
<BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>{oclc}</BibliographicRecordIdentifier>\
<BibliographicRecordIdentifierCode>OCLC</BibliographicRecordIdentifierCode></BibliographicRecordId></BibliographicId>\
<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType><RequestScopeType>Bibliographic Item</RequestScopeType>\
<ItemOptionalFields><BibliographicDescription><Title>A Title</Title></BibliographicDescription></ItemOptionalFields>\
</RequestItem>"
    ))
}

fn accept_item(request_id: &str, barcode: &str, patron: &str) -> String {
    envelope(&format!(
        "<AcceptItem>{HEADER}<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<RequestedActionType>Hold For Pickup</RequestedActionType>\
<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId>\
<ItemOptionalFields><BibliographicDescription><Title>A Title</Title></BibliographicDescription></ItemOptionalFields>\
<PickupLocation>MAIN</PickupLocation></AcceptItem>"
    ))
}

fn check_out_item(request_id: &str, barcode: &str) -> String {
    envelope(&format!(
        "<CheckOutItem>{HEADER}<UserId><UserIdentifierValue>GENERIC-ILL-PATRON</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId>\
<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<DesiredDateDue>2027-02-28T23:59:59Z</DesiredDateDue></CheckOutItem>"
    ))
}

fn cancel_request_item(request_id: &str, patron: &str) -> String {
    envelope(&format!(
        "<CancelRequestItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType></CancelRequestItem>"
    ))
}

fn assert_no_problem(answer: &str, expected_response: &str) {
    assert!(answer.contains(expected_response), "expected {expected_response}: {answer}");
    assert!(!answer.contains("Problem"), "unexpected Problem: {answer}");
}

/// Alma's resource-sharing requests of one side (`borrowing_requests`, `lending_requests`) whose external id
/// is Relais's request id.
fn alma_requests(h: &Harness, side: &str, relais_id: &str) -> Vec<serde_json::Value> {
    let state = h.sim.state().snapshot();
    state[side].as_array().into_iter().flatten().filter(|r| r["external_id"] == relais_id).cloned().collect()
}

/// The demo seed with the Relais partner's `request_item_support_borrowing` set to `allowed`.
fn seed_with_borrowing_request_items(allowed: bool) -> Seed {
    let seed = Seed::demo();
    let mut partners = seed.partners().to_vec();
    for partner in &mut partners {
        if partner["partner_details"]["code"] == "RELAIS" {
            partner["partner_details"]["profile_details"]["ncip_details"]["request_item_support_borrowing"] =
                serde_json::Value::Bool(allowed);
        }
    }
    seed.with_partners(partners)
}

async fn a_lenders_request_by_oclc_number_creates_a_lending_request(kind: StoreKind) {
    let h = Harness::start(kind).await;
    // The borrowing library's patron is not ours, and the title is named only by its OCLC number.
    let answer = h.ncip(&request_item("RL-6001", "PARTNER-PATRON-9", OUR_OCLC_NUMBER, None)).await;
    assert_no_problem(&answer, "RequestItemResponse");
    assert_eq!(h.alma_ncip_calls("RequestItem"), 1, "forwarded as sent, for Alma to resolve the title");
    let lending = alma_requests(&h, "lending_requests", "RL-6001");
    assert_eq!(lending.len(), 1, "one lending request in Alma: {lending:?}");
    assert_eq!(lending[0]["status"]["value"], "REQUEST_CREATED_LEND");
    assert_eq!(lending[0]["mms_id"], "991000000030105", "the seeded bib with that OCLC number");
    assert!(alma_requests(&h, "borrowing_requests", "RL-6001").is_empty());

    let status = h.status_json("RL-6001").await;
    assert_eq!(status["record"]["side"], "lending");
    assert_eq!(status["record"]["status"], "requested");
    assert!(status["record"]["patron"].is_null(), "the partner's patron is not ours to keep: {status}");

    // The ship that follows finds the request lending, and settles it.
    let answer = h.ncip(&check_out_item("RL-6001", "39000000003")).await;
    assert_no_problem(&answer, "CheckOutItemResponse");
    let status = h.status_json("RL-6001").await;
    assert_eq!((&status["record"]["side"], &status["record"]["status"]), (&"lending".into(), &"shipped".into()));
    assert!(status["record"]["side_provisional"].is_null(), "settled by the ship: {status}");
    let lending = alma_requests(&h, "lending_requests", "RL-6001");
    assert_eq!(lending.len(), 1, "the ship marked the same request: {lending:?}");
    assert_eq!(lending[0]["status"]["value"], "SHIPPED_PHYSICALLY");
}

async fn a_borrowing_request_naming_relais_s_request_number_as_item_is_borrowing(kind: StoreKind) {
    let h = Harness::start(kind).await;
    // Relais puts its own request number in the ItemId; the UserId is our patron's barcode.
    let answer = h.ncip(&request_item("RL-6002", "21000000001", "99999999", Some("RL-6002"))).await;
    assert_no_problem(&answer, "RequestItemResponse");
    let borrowing = alma_requests(&h, "borrowing_requests", "RL-6002");
    assert_eq!(borrowing.len(), 1, "a borrowing request in Alma: {borrowing:?}");
    assert_eq!(borrowing[0]["status"]["value"], "REQUEST_CREATED_BOR");
    assert!(alma_requests(&h, "lending_requests", "RL-6002").is_empty());

    let status = h.status_json("RL-6002").await;
    assert_eq!(status["record"]["side"], "borrowing");
    assert_eq!(status["record"]["side_provisional"], true, "until the receipt says so: {status}");
    assert!(status["record"]["patron"].as_str().is_some_and(|p| p.starts_with("hmac:")), "{status}");
    assert_eq!(status["record"]["item_barcodes"], serde_json::json!([]), "Relais's number is no barcode");
    // The item's read (not ours), then the patron's (ours and active): the facts the side was read from.
    let routes: Vec<&str> = status["history"][0]["alma_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path_template"].as_str().unwrap())
        .collect();
    assert_eq!(routes.first(), Some(&"/items?item_barcode"), "{routes:?}");
    assert!(routes.contains(&"/users/{id}"), "{routes:?}");

    // The receipt receives the request the RequestItem made rather than a second one beside it.
    let answer = h.ncip(&accept_item("RL-6002", "ILL-6002", "21000000001")).await;
    assert_no_problem(&answer, "AcceptItemResponse");
    let borrowing = alma_requests(&h, "borrowing_requests", "RL-6002");
    assert_eq!(borrowing.len(), 1, "still one borrowing request: {borrowing:?}");
    assert_eq!(borrowing[0]["status"]["value"], "RECEIVED_PHYSICALLY");
    // Alma's ids are read back after the answer.
    h.read_backs().await;
    let status = h.status_json("RL-6002").await;
    assert_eq!(status["record"]["side"], "borrowing");
    assert!(status["record"]["side_provisional"].is_null(), "settled by the receipt: {status}");
    assert_eq!(status["record"]["alma"]["request_id"], borrowing[0]["request_id"], "read through the item");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_without_borrowing_request_items_takes_every_request_item_as_lending() {
    let h = Harness::start_seeded(seed_with_borrowing_request_items(false), &[]).await;
    // The UserId happens to be one of our patrons' barcodes, but the partner never borrows through RequestItem.
    let answer = h.ncip(&request_item("RL-6003", "21000000001", OUR_OCLC_NUMBER, None)).await;
    assert_no_problem(&answer, "RequestItemResponse");
    let status = h.status_json("RL-6003").await;
    assert_eq!(status["record"]["side"], "lending");
    assert!(status["record"]["patron"].is_null(), "{status}");
    assert_eq!(alma_requests(&h, "lending_requests", "RL-6003").len(), 1);
    let routes: Vec<&str> = status["history"][0]["alma_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path_template"].as_str().unwrap())
        .collect();
    assert!(!routes.contains(&"/users/{id}"), "the partner record decided; no patron was read: {routes:?}");

    // The receipt of the same request says it was borrowing after all: the side is corrected, once.
    let answer = h.ncip(&accept_item("RL-6003", "ILL-6003", "21000000001")).await;
    assert_no_problem(&answer, "AcceptItemResponse");
    let status = h.status_json("RL-6003").await;
    assert_eq!(
        (&status["record"]["side"], &status["record"]["status"]),
        (&"borrowing".into(), &"on_hold_shelf".into())
    );
    assert!(status["record"]["side_provisional"].is_null(), "{status}");
}

async fn a_patron_alma_does_not_know_is_forwarded_for_alma_to_answer(kind: StoreKind) {
    let h = Harness::start(kind).await;
    // Neither the patron nor the title is ours: Alma, not the bridge, says what is wrong.
    let answer = h.ncip(&request_item("RL-6004", "NOBODY-HERE", "99999999", None)).await;
    assert!(answer.contains("RequestItemResponse") && answer.contains("Unknown User"), "{answer}");
    assert_eq!(h.alma_ncip_calls("RequestItem"), 1, "Alma answered for itself");
    let status = h.status_json("RL-6004").await;
    assert!(status["record"].is_null(), "no record for a refused message: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_the_side_in_an_outage_asks_for_a_retry_and_a_refusal_is_a_problem() {
    let h = Harness::start(StoreKind::Embedded).await;
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Rest)).unwrap();
    let answer = h.ncip(&request_item("RL-6006", "21000000001", "99999999", None)).await;
    assert!(answer.contains("Temporary Processing Failure"), "{answer}");
    assert_eq!(h.alma_ncip_calls("RequestItem"), 0, "nothing sent while the side is unknown");
    h.sim.faults().clear();

    h.sim.faults().arm(FaultSpec::next(FaultKind::GeneralError, 1, FaultScope::Rest)).unwrap();
    let answer = h.ncip(&request_item("RL-6006", "21000000001", "99999999", None)).await;
    assert!(answer.contains(REFUSAL_PROBLEM_TYPE), "a refused read is the bridge's Problem: {answer}");
    assert_eq!(h.alma_ncip_calls("RequestItem"), 0);

    // Alma back: the same message is placed, on the borrowing side.
    let answer = h.ncip(&request_item("RL-6006", "21000000001", "99999999", None)).await;
    assert_no_problem(&answer, "RequestItemResponse");
    assert_eq!(h.status_json("RL-6006").await["record"]["side"], "borrowing");
}

async fn a_borrowing_cancel_never_reaches_alma_and_shows_for_staff(kind: StoreKind) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let h = Harness::start_with(kind, &[], move |store| {
        Arc::new(FaultyStore::new(store, move |operation| {
            seen.lock().unwrap().push(operation);
            None
        }))
    })
    .await;
    let answer = h.ncip(&request_item("RL-6005", "21000000001", "99999999", None)).await;
    assert_no_problem(&answer, "RequestItemResponse");
    assert_eq!(h.status_json("RL-6005").await["record"]["side"], "borrowing");

    let cancel = cancel_request_item("RL-6005", "21000000001");
    calls.lock().unwrap().clear();
    let answer = h.ncip(&cancel).await;
    assert_no_problem(&answer, "CancelRequestItemResponse");
    // The side comes from the record read beside the claim: the record is read once.
    assert_eq!(*calls.lock().unwrap(), [Operation::Begin, Operation::Commit]);
    // Relais resends it: answered the same, still without Alma.
    let again = h.ncip(&cancel).await;
    assert_no_problem(&again, "CancelRequestItemResponse");
    assert_eq!(h.alma_ncip_calls("CancelRequestItem"), 0, "Alma's profile takes the cancel from the lender only");

    let status = h.status_json("RL-6005").await;
    assert_eq!((&status["record"]["side"], &status["record"]["status"]), (&"borrowing".into(), &"cancelled".into()));
    let cancel_entry = status["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message_type"] == "CancelRequestItem")
        .unwrap_or_else(|| panic!("the cancel in the history: {status}"));
    assert_eq!(cancel_entry["outcome"], "success");
    assert!(cancel_entry["note"].as_str().is_some_and(|n| n.contains("did not send")), "{cancel_entry}");
    assert!(cancel_entry["alma_calls"].as_array().is_none_or(|c| c.is_empty()), "{cancel_entry}");
    assert!(status["attention"].as_str().is_some_and(|a| a.contains("cancel it there")), "{status}");
    assert!(status["queue"].as_array().is_some_and(|q| q.is_empty()), "never queued: {status}");
    let page = h.status_html("RL-6005").await;
    assert!(page.contains("For staff:") && page.contains("did not send"), "{page}");
    // Alma's borrowing request is untouched: staff cancel it there.
    let borrowing = alma_requests(&h, "borrowing_requests", "RL-6005");
    assert_eq!(borrowing[0]["status"]["value"], "REQUEST_CREATED_BOR");
}

/// The text of the first `RequestIdentifierValue` in an answer.
fn request_id_in(answer: &str) -> String {
    let start =
        answer.find("RequestIdentifierValue>").expect("a RequestId in the answer") + "RequestIdentifierValue>".len();
    answer[start..answer[start..].find('<').map(|end| start + end).unwrap()].to_owned()
}

async fn a_request_item_without_a_request_id_is_forwarded_once_under_two_resends(kind: StoreKind) {
    let h = Harness::start(kind).await;
    // NCIP allows it (VuFind and OCLC WMS send them): only Alma's answer names the request.
    let message = envelope(&format!(
        "<RequestItem>{HEADER}<UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
<BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>99999999</BibliographicRecordIdentifier>\
<BibliographicRecordIdentifierCode>OCLC</BibliographicRecordIdentifierCode></BibliographicRecordId></BibliographicId>\
<RequestType>Loan</RequestType><RequestScopeType>Bibliographic Item</RequestScopeType></RequestItem>"
    ));
    let first = h.ncip(&message).await;
    assert_no_problem(&first, "RequestItemResponse");
    let alma_id = request_id_in(&first);
    for _ in 0..2 {
        assert_eq!(h.ncip(&message).await, first, "a resend is answered as the first was");
    }
    assert_eq!(h.alma_ncip_calls("RequestItem"), 1, "forwarded once");
    let state = h.sim.state().snapshot();
    assert_eq!(state["borrowing_requests"].as_array().map_or(0, Vec::len), 1, "{state}");
    assert_eq!(state["borrowing_requests"][0]["request_id"], alma_id.as_str());
    // The record is filed under the id Alma gave the request, which later messages carry.
    let status = h.status_json(&alma_id).await;
    assert_eq!(status["record"]["side"], "borrowing");
    assert_eq!(status["record"]["alma"]["request_id"], alma_id.as_str());
}

on_both_stores!(
    a_request_item_without_a_request_id_is_forwarded_once_under_two_resends,
    a_lenders_request_by_oclc_number_creates_a_lending_request,
    a_borrowing_request_naming_relais_s_request_number_as_item_is_borrowing,
    a_patron_alma_does_not_know_is_forwarded_for_alma_to_answer,
    a_borrowing_cancel_never_reaches_alma_and_shows_for_staff,
);
