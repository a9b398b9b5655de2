//! The golden messages in `tests/fixtures/ncip/alma/`: our own files with the shapes clients are documented to
//! send to real Alma successfully (VCU's ILLiad add-on, ILLiad renewal add-ons, the CSUSM INN-Reach relay;
//! alma.md §1.3). Each is accepted with the state change Alma makes; each near-miss is refused with Alma's
//! Problem and changes nothing.

use std::path::PathBuf;

use crate::common::{self, admin_state, client, get_json};
use alma_sim::{AlmaSim, Counts};
use serde_json::Value;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ncip/alma").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Posts bytes as they are (the ISO-8859-1 file stays Latin-1) and returns the answer's text.
async fn post(sim: &AlmaSim, body: Vec<u8>) -> String {
    let r = reqwest::Client::new().post(sim.ncip_url()).body(body).send().await.expect("NCIP answer");
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

/// The answer's first Problem as (ProblemType, ProblemElement), or None for a success.
fn problem(xml: &str) -> Option<(String, Option<String>)> {
    let answer = ncip_codec::read(xml.as_bytes(), &ncip_codec::ReadOptions::default()).expect("an NCIP answer");
    answer.problems().first().map(|p| (p.type_name().to_owned(), p.element.clone()))
}

async fn accepted(sim: &AlmaSim, file: &str, response: &str) -> String {
    let xml = post(sim, fixture(file)).await;
    assert!(xml.contains(response) && problem(&xml).is_none(), "{file}: {xml}");
    xml
}

fn the<'a>(state: &'a Value, kind: &str, external_id: &str) -> &'a Value {
    let all: Vec<&Value> =
        state[kind].as_array().into_iter().flatten().filter(|r| r["external_id"] == external_id).collect();
    assert_eq!(all.len(), 1, "one {kind} with external id {external_id}: {state}");
    all[0]
}

#[tokio::test]
async fn vcu_borrowing_accept_renew_check_in_as_alma_does() {
    let sim = common::start().await;
    let xml = accepted(&sim, "vcu-illiad-accept-item.xml", "AcceptItemResponse").await;
    assert!(xml.contains("TN70001"), "the ids are echoed: {xml}");
    let state = admin_state(&sim).await;
    let request = the(&state, "borrowing_requests", "TN70001");
    assert_eq!(request["status"]["value"], "RECEIVED_PHYSICALLY");
    assert_eq!(request["requester"]["value"], "patron1");
    // The zone-less DateForReturn becomes the due date ("set in ILLiad and honored in Alma").
    assert_eq!(request["due_date"], "2031-06-30T23:59:00Z");
    // The ISO-8859-1 title arrived as text, not as mangled bytes.
    assert_eq!(request["title"], "Café culture and the Enlightenment");
    let (_, held) = get_json(&client(&sim), &format!("{}/users/patron1/requests", sim.base_url())).await;
    assert_eq!(held["user_request"][0]["request_status"], "ON_HOLD_SHELF");

    // The lender renewed: the ILLiad add-on pushes the new due date into Alma.
    accepted(&sim, "illiad-renew-item.xml", "RenewItemResponse").await;
    let state = admin_state(&sim).await;
    assert_eq!(the(&state, "borrowing_requests", "TN70001")["due_date"], "2031-07-31T23:59:00Z");
    // The same renewal again would not move the due date: Alma refuses it with the text the add-ons match.
    let xml = post(&sim, fixture("illiad-renew-item.xml")).await;
    assert_eq!(problem(&xml).map(|p| p.0).as_deref(), Some("Item Not Renewable"), "{xml}");
    assert!(xml.contains("Loan cannot be renewed (no change in due date)"), "{xml}");

    accepted(&sim, "vcu-illiad-check-in-item-borrowing.xml", "CheckInItemResponse").await;
    let state = admin_state(&sim).await;
    assert_eq!(the(&state, "borrowing_requests", "TN70001")["status"]["value"], "RETURNED_TO_PARTNER");
    assert_eq!(sim.state().items_with_barcode("TN70001"), 0, "the temporary item is gone");
    // "deleting the record when the borrowing item is returned": a second return finds no item.
    let xml = post(&sim, fixture("vcu-illiad-check-in-item-borrowing.xml")).await;
    assert_eq!(problem(&xml).map(|p| p.0).as_deref(), Some("Unknown Item"), "{xml}");
}

#[tokio::test]
async fn vcu_lending_check_out_then_check_in_as_alma_does() {
    let sim = common::start().await;
    let xml = accepted(&sim, "vcu-illiad-check-out-item-lending.xml", "CheckOutItemResponse").await;
    assert!(xml.contains("2031-04-15T23:59:00"), "Alma honours the broker's due date: {xml}");
    let state = admin_state(&sim).await;
    let lending = the(&state, "lending_requests", "VCU-TN80002");
    assert_eq!(lending["status"]["value"], "SHIPPED_PHYSICALLY");
    assert_eq!(lending["barcode"], "39000000001");
    let (_, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=39000000001", sim.base_url())).await;
    assert_eq!(item["holding_data"]["temp_location"]["value"], "RS_LEND");

    accepted(&sim, "vcu-illiad-check-in-item-lending.xml", "CheckInItemResponse").await;
    let (_, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=39000000001", sim.base_url())).await;
    // "marked as 'In transit' to its home location. It will need to be scanned in Alma."
    assert_eq!(item["item_data"]["process_type"]["value"], "TRANSIT");
    let state = admin_state(&sim).await;
    assert_eq!(the(&state, "lending_requests", "VCU-TN80002")["status"]["value"], "REQUEST_COMPLETED");
}

#[tokio::test]
async fn csusm_relay_request_item_creates_a_lending_request() {
    let sim = common::start().await;
    accepted(&sim, "csusm-relay-request-item-lending.xml", "RequestItemResponse").await;
    let state = admin_state(&sim).await;
    let lending = the(&state, "lending_requests", "IR-55501");
    assert_eq!(lending["status"]["value"], "REQUEST_CREATED_LEND");
    assert_eq!(lending["partner"]["value"], "RELAIS");
    assert_eq!(state["borrowing_requests"].as_array().map_or(0, Vec::len), 0);
}

#[tokio::test]
async fn each_near_miss_of_the_accept_item_is_refused_with_almas_problem_and_changes_nothing() {
    let sim = common::start().await;
    let before: Counts = sim.state().counts();
    let cases = [
        ("near-miss-accept-item-primary-id.xml", "Unknown User", Some("UserId/UserIdentifierValue")),
        ("near-miss-accept-item-inactive-user.xml", "Unknown User", Some("UserId/UserIdentifierValue")),
        (
            "near-miss-accept-item-unknown-partner.xml",
            "Unknown partner",
            Some("InitiationHeader/ApplicationProfileType"),
        ),
        (
            "near-miss-accept-item-partner-wrong-case.xml",
            "Unknown partner",
            Some("InitiationHeader/ApplicationProfileType"),
        ),
        ("near-miss-accept-item-no-to-agency.xml", "Needed Data Missing", Some("InitiationHeader/ToAgencyId")),
    ];
    for (file, problem_type, element) in cases {
        let xml = post(&sim, fixture(file)).await;
        let (found, found_element) = problem(&xml).unwrap_or_else(|| panic!("{file} was accepted: {xml}"));
        assert_eq!(found, problem_type, "{file}: {xml}");
        assert_eq!(found_element.as_deref(), element, "{file}: {xml}");
        assert!(xml.contains("AcceptItemResponse"), "{file}: answered as the service's response: {xml}");
    }
    assert_eq!(sim.state().counts(), before);
}

/// The header near-misses apply to every golden message: a wrong-case partner code, an unknown one, and a
/// ToAgencyId that is not the institution are refused before anything happens.
#[tokio::test]
async fn every_golden_message_with_a_broken_header_is_refused() {
    let sim = common::start().await;
    let before = sim.state().counts();
    let goldens = [
        "vcu-illiad-accept-item.xml",
        "vcu-illiad-check-in-item-borrowing.xml",
        "vcu-illiad-check-out-item-lending.xml",
        "vcu-illiad-check-in-item-lending.xml",
        "illiad-renew-item.xml",
        "csusm-relay-request-item-lending.xml",
    ];
    let breakages: [(&str, &str, &str); 3] = [
        ("<ApplicationProfileType>RELAIS<", "<ApplicationProfileType>Relais<", "Unknown partner"),
        ("<ApplicationProfileType>RELAIS<", "<ApplicationProfileType>NO_SUCH<", "Unknown partner"),
        ("<ToAgencyId><AgencyId>01DEMO_INST<", "<ToAgencyId><AgencyId>01OTHER_INST<", "Unknown Agency"),
    ];
    for file in goldens {
        // Every golden file is ASCII apart from the Latin-1 one, whose header is ASCII too: edit as Latin-1.
        let text: String = fixture(file).iter().map(|&b| b as char).collect();
        for (from, to, expected) in breakages {
            assert!(text.contains(from), "{file} has {from}");
            let broken: Vec<u8> = text.replacen(from, to, 1).chars().map(|c| c as u8).collect();
            let xml = post(&sim, broken).await;
            assert_eq!(problem(&xml).map(|p| p.0).as_deref(), Some(expected), "{file} with {to}: {xml}");
        }
    }
    assert_eq!(sim.state().counts(), before);
}
