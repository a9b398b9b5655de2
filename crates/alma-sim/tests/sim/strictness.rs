//! The simulator refuses what Alma refuses: patrons are matched only by the partner's User Identifier Type,
//! identifiers of another agency are not ours, REST fields gated by `expand` appear only when asked for, and
//! the lender's RequestItem / CancelRequestItem act on lending requests. Each rule's source is in
//! `crates/alma-sim/README.md` (faithfulness table).

use crate::common::{
    self, accept_item, admin_state, check_out_item, client, get_json, ncip_message, ncip_message_to, post_ncip,
};
use alma_sim::Seed;
use serde_json::Value;

/// The demo seed with the RELAIS partner's User Identifier Type set to `id_type` (None: unset).
fn seed_with_user_id_type(id_type: Option<&str>) -> Seed {
    let seed = Seed::demo();
    let mut partners = seed.partners().to_vec();
    let relais = partners.iter_mut().find(|p| p["partner_details"]["code"] == "RELAIS").unwrap();
    let details = &mut relais["partner_details"]["profile_details"]["ncip_details"];
    match id_type {
        Some(t) => details["general_user_id_type"] = serde_json::json!({ "value": t, "desc": t }),
        None => {
            details.as_object_mut().unwrap().remove("general_user_id_type");
        }
    }
    seed.with_partners(partners)
}

fn problem_type(xml: &str) -> Option<String> {
    let start = xml.find("ProblemType")?;
    let rest = &xml[start..];
    let open = rest.find('>')? + 1;
    let close = rest[open..].find('<')?;
    Some(rest[open..open + close].to_owned())
}

fn borrowing_count(state: &Value) -> usize {
    state["borrowing_requests"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_primary_id_sent_to_a_barcode_partner_is_unknown_user() {
    let sim = common::start().await; // the demo's RELAIS partner matches by BARCODE
    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-S1", "patron1", "RB-S1")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{xml}");
    // Another of the patron's identifiers (the university id) is not the barcode either.
    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-S1", "U1001", "RB-S1")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{xml}");
    assert_eq!(borrowing_count(&admin_state(&sim).await), 0);
    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-S1", "21000000001", "RB-S1")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
}

#[tokio::test]
async fn a_primary_identifier_partner_matches_the_primary_id_only() {
    let sim = common::start_with(seed_with_user_id_type(Some("PRIMARY_ID"))).await;
    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-S2", "21000000001", "RB-S2")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{xml}");
    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-S2", "patron1", "RB-S2")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
    assert_eq!(admin_state(&sim).await["borrowing_requests"][0]["requester"]["value"], "patron1");
}

#[tokio::test]
async fn a_university_id_partner_matches_that_identifier_type_only() {
    let sim = common::start_with(seed_with_user_id_type(Some("UNIV_ID"))).await;
    let lookup = |user: &str| {
        ncip_message(
            "LookupUser",
            "RELAIS",
            &format!("<UserId><UserIdentifierValue>{user}</UserIdentifierValue></UserId>"),
        )
    };
    let (_, xml) = post_ncip(&sim, &lookup("U1002")).await;
    assert!(xml.contains("LookupUserResponse") && xml.contains("faculty1") && problem_type(&xml).is_none(), "{xml}");
    for other in ["21000000002", "faculty1"] {
        let (_, xml) = post_ncip(&sim, &lookup(other)).await;
        assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{other}: {xml}");
    }
}

#[tokio::test]
async fn a_partner_without_a_user_identifier_type_refuses_every_user_and_names_the_setting() {
    let sim = common::start_with(seed_with_user_id_type(None)).await;
    for user in ["21000000001", "patron1", "U1001"] {
        let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-S3", user, "RB-S3")).await;
        assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{xml}");
        assert!(xml.contains("general_user_id_type"), "the answer names the missing setting: {xml}");
    }
    assert_eq!(borrowing_count(&admin_state(&sim).await), 0);
}

#[tokio::test]
async fn an_inactive_user_is_unknown_even_by_the_right_identifier_type() {
    let sim = common::start().await;
    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-S4", "21000000005", "RB-S4")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown User"), "{xml}");
}

fn accept_with_agencies(user_agency: &str, item_agency: &str) -> String {
    ncip_message(
        "AcceptItem",
        "RELAIS",
        &format!(
            "<RequestId><AgencyId>Relais</AgencyId><RequestIdentifierValue>RLS-S5</RequestIdentifierValue></RequestId>
    <RequestedActionType>Hold For Pickup</RequestedActionType>
    <UserId><AgencyId>{user_agency}</AgencyId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>
    <ItemId><AgencyId>{item_agency}</AgencyId><ItemIdentifierValue>RB-S5</ItemIdentifierValue></ItemId>"
        ),
    )
}

#[tokio::test]
async fn agency_ids_inside_user_and_item_ids_must_be_the_institutions() {
    let sim = common::start().await;
    let (_, xml) = post_ncip(&sim, &accept_with_agencies("LEH", "01DEMO_INST")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown Agency"), "{xml}");
    assert!(xml.contains("UserId/AgencyId"), "{xml}");
    let (_, xml) = post_ncip(&sim, &accept_with_agencies("01DEMO_INST", "LEH")).await;
    assert!(xml.contains("ItemId/AgencyId"), "{xml}");
    assert_eq!(borrowing_count(&admin_state(&sim).await), 0);
    // The RequestId's AgencyId (the broker's own, "Relais") is never checked.
    let (_, xml) = post_ncip(&sim, &accept_with_agencies("01DEMO_INST", "01DEMO_INST")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
}

#[tokio::test]
async fn a_site_setting_lets_foreign_identifier_agencies_through_and_an_isil_is_an_agency_of_ours() {
    let seed: Value = serde_json::from_str(include_str!("../../seed/demo.json")).unwrap();
    let mut seed = seed;
    seed["agency_ids"] = serde_json::json!(["AU-DEMO"]);
    let seed = Seed::from_json(serde_json::to_vec(&seed).unwrap()).unwrap();
    let sim = common::start_with(seed.clone()).await;
    let (_, xml) = post_ncip(&sim, &accept_with_agencies("AU-DEMO", "AU-DEMO")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
    let to_isil = ncip_message_to(
        "CheckInItem",
        "AU-DEMO",
        "RELAIS",
        "<ItemId><ItemIdentifierValue>RB-S5</ItemIdentifierValue></ItemId>",
    );
    let (_, xml) = post_ncip(&sim, &to_isil).await;
    assert!(xml.contains("CheckInItemResponse") && problem_type(&xml).is_none(), "{xml}");
    sim.shutdown().await;

    let sim = common::start_with(seed.with_check_id_agency_ids(false)).await;
    let (_, xml) = post_ncip(&sim, &accept_with_agencies("LEH", "LEH")).await;
    assert!(problem_type(&xml).is_none(), "{xml}");
}

#[tokio::test]
async fn item_due_date_appears_only_with_expand_due_date() {
    let sim = common::start().await;
    post_ncip(&sim, &check_out_item("RELAIS", "39000000001", Some("RLS-S6"))).await;
    let http = client(&sim);
    let (_, item) = get_json(&http, &format!("{}/items?item_barcode=39000000001", sim.base_url())).await;
    assert_eq!(item["item_data"]["process_type"]["value"], "LOAN");
    assert!(item["item_data"].get("due_date").is_none(), "{item}");
    let link = item["link"].as_str().unwrap();
    let (_, plain) = get_json(&http, link).await;
    assert!(plain["item_data"].get("due_date").is_none(), "{plain}");
    let (_, other) = get_json(&http, &format!("{link}?expand=due_date_policy")).await;
    assert!(other["item_data"].get("due_date").is_none(), "{other}");
    let (_, expanded) = get_json(&http, &format!("{link}?expand=due_date")).await;
    assert!(expanded["item_data"]["due_date"].as_str().is_some_and(|d| d.ends_with('Z')), "{expanded}");
}

#[tokio::test]
async fn loan_renewable_appears_only_with_expand_renewable() {
    let sim = common::start().await;
    post_ncip(&sim, &accept_item("RELAIS", "RLS-S7", "21000000001", "RB-S7")).await;
    reqwest::Client::new()
        .post(format!("{}/loan", sim.admin_url()))
        .json(&serde_json::json!({"user_id": "patron1", "item_barcode": "RB-S7"}))
        .send()
        .await
        .unwrap();
    let http = client(&sim);
    let (_, loans) = get_json(&http, &format!("{}/users/patron1/loans", sim.base_url())).await;
    assert!(loans["item_loan"][0].get("renewable").is_none(), "{loans}");
    let (_, loans) = get_json(&http, &format!("{}/users/patron1/loans?expand=renewable", sim.base_url())).await;
    assert_eq!(loans["item_loan"][0]["renewable"], true);
}

fn lender_request_item(barcode: &str, request_id: &str) -> String {
    ncip_message(
        "RequestItem",
        "RELAIS",
        &format!(
            "<UserId><UserIdentifierValue>PARTNER-PATRON</UserIdentifierValue></UserId>
    <ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId>
    <RequestId><AgencyId>Relais</AgencyId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>
    <RequestType>Loan</RequestType><RequestScopeType>Item</RequestScopeType>"
        ),
    )
}

fn cancel(request_id: &str) -> String {
    ncip_message(
        "CancelRequestItem",
        "RELAIS",
        &format!(
            "<UserId><UserIdentifierValue>PARTNER-PATRON</UserIdentifierValue></UserId>
    <RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId><RequestType>Loan</RequestType>"
        ),
    )
}

fn lending<'a>(state: &'a Value, external_id: &str) -> Vec<&'a Value> {
    state["lending_requests"].as_array().into_iter().flatten().filter(|r| r["external_id"] == external_id).collect()
}

#[tokio::test]
async fn request_item_on_the_lending_side_creates_a_lending_request_that_check_out_ships() {
    let sim = common::start().await;
    let (_, xml) = post_ncip(&sim, &lender_request_item("39000000002", "RLS-L-S8")).await;
    assert!(xml.contains("RequestItemResponse") && problem_type(&xml).is_none(), "{xml}");
    let state = admin_state(&sim).await;
    let created = lending(&state, "RLS-L-S8");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["status"]["value"], "REQUEST_CREATED_LEND");
    assert_eq!(created[0]["partner"]["value"], "RELAIS");
    assert_eq!(borrowing_count(&state), 0, "the partner's patron is not one of ours: no borrowing request");
    // The same request again is a duplicate, not a second lending request.
    let (_, xml) = post_ncip(&sim, &lender_request_item("39000000002", "RLS-L-S8")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Duplicate Request"), "{xml}");

    post_ncip(&sim, &check_out_item("RELAIS", "39000000002", Some("RLS-L-S8"))).await;
    let state = admin_state(&sim).await;
    let shipped = lending(&state, "RLS-L-S8");
    assert_eq!(shipped.len(), 1, "CheckOutItem ships the request RequestItem made");
    assert_eq!(shipped[0]["status"]["value"], "SHIPPED_PHYSICALLY");
    // Once shipped, the lender's cancel comes too late.
    let (_, xml) = post_ncip(&sim, &cancel("RLS-L-S8")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Request Already Processed"), "{xml}");
}

#[tokio::test]
async fn cancel_request_item_cancels_an_unshipped_lending_request() {
    let sim = common::start().await;
    post_ncip(&sim, &lender_request_item("39000000002", "RLS-L-S9")).await;
    let (_, xml) = post_ncip(&sim, &cancel("RLS-L-S9")).await;
    assert!(xml.contains("CancelRequestItemResponse") && problem_type(&xml).is_none(), "{xml}");
    assert_eq!(lending(&admin_state(&sim).await, "RLS-L-S9")[0]["status"]["value"], "CANCELLED");
    let (_, xml) = post_ncip(&sim, &cancel("RLS-L-S9")).await;
    assert_eq!(problem_type(&xml).as_deref(), Some("Unknown Request"), "{xml}");
}
