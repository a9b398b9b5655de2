//! RequestItem on either side as the simulator reads it (faithfulness table: the lender's request by title
//! through the partner's `request_item_bib_type`, `request_item_support_borrowing`), the receipt of a request a
//! borrowing RequestItem made, and the item's own requests and loans.

use crate::common::{self, accept_item, admin_state, check_out_item, client, get_json, ncip_message, post_ncip};
use alma_sim::Seed;
use serde_json::Value;

/// A RequestItem naming the title by one bibliographic number (`code` is its BibliographicRecordIdentifierCode).
fn request_by_title(user: &str, code: &str, number: &str, request_id: &str) -> String {
    ncip_message(
        "RequestItem",
        "RELAIS",
        &format!(
            "<UserId><UserIdentifierValue>{user}</UserIdentifierValue></UserId>
    <BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>{number}</BibliographicRecordIdentifier><BibliographicRecordIdentifierCode>{code}</BibliographicRecordIdentifierCode></BibliographicRecordId></BibliographicId>
    <RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>
    <RequestType>Loan</RequestType><RequestScopeType>Bibliographic Item</RequestScopeType>
    <ItemOptionalFields><BibliographicDescription><Title>Wanted Book</Title></BibliographicDescription></ItemOptionalFields>"
        ),
    )
}

fn problem_type(xml: &str) -> Option<String> {
    let start = xml.find("ProblemType")?;
    let rest = &xml[start..];
    let open = rest.find('>')? + 1;
    let close = rest[open..].find('<')?;
    Some(rest[open..open + close].trim().to_owned())
}

fn requests<'a>(state: &'a Value, side: &str, external_id: &str) -> Vec<&'a Value> {
    state[side].as_array().into_iter().flatten().filter(|r| r["external_id"] == external_id).collect()
}

/// The demo seed with the RELAIS partner's NCIP parameter `field` set to `value`.
fn seed_with_relais(field: &str, value: Value) -> Seed {
    let seed = Seed::demo();
    let mut partners = seed.partners().to_vec();
    for partner in &mut partners {
        if partner["partner_details"]["code"] == "RELAIS" {
            partner["partner_details"]["profile_details"]["ncip_details"][field] = value.clone();
        }
    }
    seed.with_partners(partners)
}

#[tokio::test]
async fn a_lenders_request_by_oclc_number_resolves_to_the_seeded_bib_with_that_number() {
    let sim = common::start().await;
    // WorldCat's own form of the number, with its prefix and leading zero, names the same bib.
    let (_, xml) = post_ncip(&sim, &request_by_title("PARTNER-PATRON", "OCLC", "ocm01000000035", "RLS-T1")).await;
    assert!(xml.contains("RequestItemResponse") && problem_type(&xml).is_none(), "{xml}");
    let state = admin_state(&sim).await;
    let lending = requests(&state, "lending_requests", "RLS-T1");
    assert_eq!(lending.len(), 1, "{state}");
    assert_eq!(lending[0]["status"]["value"], "REQUEST_CREATED_LEND");
    assert_eq!(lending[0]["mms_id"], "991000000030105");
    assert!(requests(&state, "borrowing_requests", "RLS-T1").is_empty());

    // A number no seeded bib carries is not ours: the message is a borrowing one, and its patron unknown.
    let (_, xml) = post_ncip(&sim, &request_by_title("PARTNER-PATRON", "OCLC", "424242", "RLS-T2")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{xml}");
}

#[tokio::test]
async fn the_partners_bib_type_says_how_the_number_is_read() {
    // The partner reads every RequestItem's number as an ISBN: the OCLC number matches no ISBN of ours.
    let sim = common::start_with(seed_with_relais("request_item_bib_type", Value::from("ISBN"))).await;
    let (_, xml) = post_ncip(&sim, &request_by_title("PARTNER-PATRON", "OCLC", "1000000035", "RLS-T3")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{xml}");
    // The same bib's ISBN, whatever code the message gives it, is found.
    let (_, xml) = post_ncip(&sim, &request_by_title("PARTNER-PATRON", "OCLC", "9780000000035", "RLS-T4")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
    assert_eq!(requests(&admin_state(&sim).await, "lending_requests", "RLS-T4").len(), 1);
}

#[tokio::test]
async fn a_partner_without_borrowing_request_items_never_makes_a_borrowing_request() {
    let sim = common::start_with(seed_with_relais("request_item_support_borrowing", Value::Bool(false))).await;
    // Our active patron's barcode and a title we do not hold: not a lending request, and not a borrowing one.
    let (_, xml) = post_ncip(&sim, &request_by_title("21000000001", "OCLC", "424242", "RLS-T5")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown Item"), "{xml}");
    let (_, xml) = post_ncip(&sim, &request_by_title("21000000001", "OCLC", "1000000035", "RLS-T6")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
    let state = admin_state(&sim).await;
    assert_eq!(requests(&state, "lending_requests", "RLS-T6").len(), 1);
    assert_eq!(state["borrowing_requests"].as_array().map_or(0, Vec::len), 0, "{state}");
}

#[tokio::test]
async fn accept_item_receives_the_request_a_borrowing_request_item_made() {
    let sim = common::start().await;
    // An ACTIVE patron of ours: the borrowing request is made when Relais submits it.
    let (_, xml) = post_ncip(&sim, &request_by_title("21000000001", "OCLC", "424242", "RLS-T7")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
    let requested = requests(&admin_state(&sim).await, "borrowing_requests", "RLS-T7")[0]["request_id"].clone();

    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-T7", "21000000001", "RB-T7")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
    let state = admin_state(&sim).await;
    let borrowing = requests(&state, "borrowing_requests", "RLS-T7");
    assert_eq!(borrowing.len(), 1, "received, not made again: {state}");
    assert_eq!(borrowing[0]["request_id"], requested);
    assert_eq!(borrowing[0]["status"]["value"], "RECEIVED_PHYSICALLY");
    assert_eq!(borrowing[0]["barcode"], "RB-T7");

    // The hold on the temporary item is read through the item, and names that request.
    let http = client(&sim);
    let (_, item) = get_json(&http, &format!("{}/items?item_barcode=RB-T7", sim.base_url())).await;
    let link = item["link"].as_str().unwrap();
    let (status, holds) = get_json(&http, &format!("{link}/requests")).await;
    assert_eq!(status, 200, "{holds}");
    assert_eq!(holds["total_record_count"], 1, "{holds}");
    assert_eq!(holds["user_request"][0]["request_status"], "ON_HOLD_SHELF");
    assert_eq!(holds["user_request"][0]["resource_sharing"]["id"], requested);

    // A second AcceptItem is still a second receipt (the duplicate the bridge must prevent).
    post_ncip(&sim, &accept_item("RELAIS", "RLS-T7", "21000000001", "RB-T7")).await;
    assert_eq!(requests(&admin_state(&sim).await, "borrowing_requests", "RLS-T7").len(), 2);
}

#[tokio::test]
async fn a_lent_items_loan_is_read_through_the_item() {
    let sim = common::start().await;
    post_ncip(&sim, &check_out_item("RELAIS", "39000000001", Some("RLS-T8"))).await;
    let http = client(&sim);
    let (_, item) = get_json(&http, &format!("{}/items?item_barcode=39000000001", sim.base_url())).await;
    let link = item["link"].as_str().unwrap();
    let (status, loans) = get_json(&http, &format!("{link}/loans")).await;
    assert_eq!(status, 200, "{loans}");
    assert_eq!(loans["total_record_count"], 1, "{loans}");
    assert_eq!(loans["item_loan"][0]["item_barcode"], "39000000001");
    // The item with the same barcode reads the same due date on its own path (expand=due_date).
    let (_, expanded) = get_json(&http, &format!("{link}?expand=due_date")).await;
    assert_eq!(expanded["item_data"]["due_date"], loans["item_loan"][0]["due_date"], "{expanded}");
    let (_, requests) = get_json(&http, &format!("{link}/requests")).await;
    assert_eq!(requests["total_record_count"], 0, "{requests}");
    let (status, _) = get_json(&http, &format!("{link}x/loans")).await;
    assert_eq!(status, 400, "an item that is not there is Alma's error");
}
