//! The NCIP responder in broker mode: each service changes the state as Alma does, and the header rules
//! (institution, partner) hold.

use crate::common::{
    self, accept_item, admin_state, check_in_item, check_out_item, client, get_json, ncip_message, post_ncip,
};
use serde_json::Value;

fn find<'a>(list: &'a Value, key: &str, value: &str) -> Vec<&'a Value> {
    list.as_array().unwrap().iter().filter(|v| v[key] == value).collect()
}

#[tokio::test]
async fn accept_item_makes_bib_item_borrowing_request_and_hold_shelf_request() {
    let sim = common::start().await;
    let (status, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-100", "21000000001", "RB-100")).await;
    assert_eq!(status, 200);
    assert!(xml.contains("AcceptItemResponse"), "{xml}");
    assert!(xml.contains("RLS-100") && xml.contains("RB-100"), "{xml}");
    assert!(!xml.contains("Problem"), "{xml}");

    let state = admin_state(&sim).await;
    let borrowing = find(&state["borrowing_requests"], "external_id", "RLS-100");
    assert_eq!(borrowing.len(), 1);
    let rs = borrowing[0];
    assert_eq!(rs["status"]["value"], "RECEIVED_PHYSICALLY");
    assert_eq!(rs["partner"]["value"], "RELAIS");
    assert_eq!(rs["barcode"], "RB-100");
    assert_eq!(rs["requester"]["value"], "patron1");
    assert_eq!(rs["due_date"], "2031-02-01T00:00:00Z");

    // The temporary item is reachable by barcode, in the accept location, on the hold shelf.
    let (status, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=RB-100", sim.base_url())).await;
    assert_eq!(status, 200);
    assert_eq!(item["bib_data"]["title"], "Borrowed via Relais RLS-100");
    assert_eq!(item["item_data"]["location"]["value"], "RS_BOR");
    assert_eq!(item["item_data"]["process_type"]["value"], "HOLDSHELF");
    // The due date is Alma's only on request (expand=due_date), on the item's own path.
    assert!(item["item_data"].get("due_date").is_none(), "{item}");
    let expanded = format!("{}?expand=due_date", item["link"].as_str().unwrap());
    let (_, item) = get_json(&client(&sim), &expanded).await;
    assert_eq!(item["item_data"]["due_date"], "2031-02-01T00:00:00Z");

    // The patron's requests list shows the hold-shelf request for that item at the pickup library.
    let (_, requests) = get_json(&client(&sim), &format!("{}/users/patron1/requests", sim.base_url())).await;
    assert_eq!(requests["total_record_count"], 1);
    let hold = &requests["user_request"][0];
    assert_eq!(hold["request_type"], "HOLD");
    assert_eq!(hold["request_status"], "ON_HOLD_SHELF");
    assert_eq!(hold["barcode"], "RB-100");
    assert_eq!(hold["pickup_location_library"], "MAIN");
    assert_eq!(hold["item_id"], item["item_data"]["pid"]);
}

#[tokio::test]
async fn a_repeated_accept_item_makes_a_duplicate_temporary_item_as_alma_does() {
    let sim = common::start().await;
    let message = accept_item("RELAIS", "RLS-200", "21000000001", "RB-200");
    let before = sim.state().counts();
    post_ncip(&sim, &message).await;
    post_ncip(&sim, &message).await;
    assert_eq!(sim.state().items_with_barcode("RB-200"), 2);
    let after = sim.state().counts();
    assert_eq!(after.items, before.items + 2);
    assert_eq!(after.borrowing_requests, before.borrowing_requests + 2);
    assert_eq!(after.active_holds, before.active_holds + 2);
}

#[tokio::test]
async fn wrong_partner_codes_get_unknown_partner_and_change_nothing() {
    let sim = common::start().await;
    let before = sim.state().counts();
    // Case matters; an inactive partner and a non-NCIP partner are no better.
    for partner in ["relais", "RELAIS_OLD", "ISO_PEER", "NOPE", " RELAIS"] {
        let (status, xml) = post_ncip(&sim, &accept_item(partner, "RLS-300", "21000000001", "RB-300")).await;
        assert_eq!(status, 200);
        assert!(xml.contains("AcceptItemResponse"), "{xml}");
        assert!(xml.contains("Unknown partner"), "{partner}: {xml}");
    }
    assert_eq!(sim.state().counts(), before);
    let to_other = common::ncip_message_to(
        "CheckInItem",
        "OTHER_INST",
        "RELAIS",
        "<ItemId><ItemIdentifierValue>x</ItemIdentifierValue></ItemId>",
    );
    let (_, xml) = post_ncip(&sim, &to_other).await;
    assert!(xml.contains("Unknown Agency"), "{xml}");
}

#[tokio::test]
async fn inactive_and_unknown_users_are_not_found_by_ncip() {
    let sim = common::start().await;
    for user in ["21000000005", "inactive1", "no-such-user"] {
        let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-400", user, "RB-400")).await;
        assert!(xml.contains("Unknown User"), "{user}: {xml}");
    }
    assert_eq!(sim.state().items_with_barcode("RB-400"), 0);
    // The expired and blocked users are ACTIVE: AcceptItem works for them.
    let (_, xml) = post_ncip(&sim, &accept_item("RELAIS", "RLS-401", "21000000004", "RB-401")).await;
    assert!(!xml.contains("Problem"), "{xml}");
}

#[tokio::test]
async fn check_out_ships_to_the_partner_and_check_in_brings_it_home() {
    let sim = common::start().await;
    let (_, xml) = post_ncip(&sim, &check_out_item("RELAIS", "39000000003", Some("RLS-L-1"))).await;
    assert!(xml.contains("CheckOutItemResponse") && xml.contains("DateDue"), "{xml}");
    assert!(!xml.contains("Problem"), "{xml}");

    let state = admin_state(&sim).await;
    let lending = find(&state["lending_requests"], "external_id", "RLS-L-1");
    assert_eq!(lending.len(), 1);
    assert_eq!(lending[0]["status"]["value"], "SHIPPED_PHYSICALLY");
    assert_eq!(lending[0]["partner"]["value"], "RELAIS");
    let (_, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=39000000003", sim.base_url())).await;
    assert_eq!(item["item_data"]["base_status"]["value"], "0");
    assert_eq!(item["item_data"]["process_type"]["value"], "LOAN");
    assert_eq!(item["holding_data"]["in_temp_location"], true);
    assert_eq!(item["holding_data"]["temp_location"]["value"], "RS_LEND");

    // Not in place any more: a second ship is refused; an unknown barcode is Unknown Item.
    let (_, xml) = post_ncip(&sim, &check_out_item("RELAIS", "39000000003", Some("RLS-L-2"))).await;
    assert!(xml.contains("Item Does Not Circulate"), "{xml}");
    let (_, xml) = post_ncip(&sim, &check_out_item("RELAIS", "NO-SUCH-ITEM", None)).await;
    assert!(xml.contains("Unknown Item"), "{xml}");

    let (_, xml) = post_ncip(&sim, &check_in_item("RELAIS", "39000000003")).await;
    assert!(xml.contains("CheckInItemResponse") && !xml.contains("Problem"), "{xml}");
    let state = admin_state(&sim).await;
    assert_eq!(find(&state["lending_requests"], "external_id", "RLS-L-1")[0]["status"]["value"], "REQUEST_COMPLETED");
    let (_, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=39000000003", sim.base_url())).await;
    assert_eq!(item["item_data"]["process_type"]["value"], "TRANSIT");
    let (_, xml) = post_ncip(&sim, &check_in_item("RELAIS", "39000000003")).await;
    assert!(xml.contains("Item Not Checked Out"), "{xml}");
}

#[tokio::test]
async fn check_out_completes_a_lending_request_created_over_rest() {
    let sim = common::start().await;
    let body = serde_json::json!({"external_id": "RLS-L-9", "owner": "RES_SHARE", "format": {"value": "PHYSICAL"},
                                  "citation_type": {"value": "BOOK"}, "title": "Lent"});
    client(&sim).post(format!("{}/partners/RELAIS/lending-requests", sim.base_url())).json(&body).send().await.unwrap();
    post_ncip(&sim, &check_out_item("RELAIS", "39000000004", Some("RLS-L-9"))).await;
    let state = admin_state(&sim).await;
    let lending = find(&state["lending_requests"], "external_id", "RLS-L-9");
    assert_eq!(lending.len(), 1, "the existing request is shipped, not a second one made");
    assert_eq!(lending[0]["status"]["value"], "SHIPPED_PHYSICALLY");
    assert_eq!(lending[0]["barcode"], "39000000004");
}

#[tokio::test]
async fn check_in_of_a_borrowed_item_returns_it_to_the_partner() {
    let sim = common::start().await;
    post_ncip(&sim, &accept_item("RELAIS", "RLS-500", "21000000002", "RB-500")).await;
    let (_, xml) = post_ncip(&sim, &check_in_item("RELAIS", "RB-500")).await;
    assert!(xml.contains("CheckInItemResponse") && !xml.contains("Problem"), "{xml}");
    let state = admin_state(&sim).await;
    assert_eq!(
        find(&state["borrowing_requests"], "external_id", "RLS-500")[0]["status"]["value"],
        "RETURNED_TO_PARTNER"
    );
    assert_eq!(sim.state().items_with_barcode("RB-500"), 0);
    let (_, requests) = get_json(&client(&sim), &format!("{}/users/faculty1/requests", sim.base_url())).await;
    assert_eq!(requests["total_record_count"], 0);
    let (_, xml) = post_ncip(&sim, &check_in_item("RELAIS", "RB-500")).await;
    assert!(xml.contains("Unknown Item"), "{xml}");
}

#[tokio::test]
async fn renew_item_extends_the_patron_loan() {
    let sim = common::start().await;
    post_ncip(&sim, &accept_item("RELAIS", "RLS-600", "21000000001", "RB-600")).await;
    let r = reqwest::Client::new()
        .post(format!("{}/loan", sim.admin_url()))
        .json(&serde_json::json!({"user_id": "patron1", "item_barcode": "RB-600"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let renew = ncip_message(
        "RenewItem",
        "RELAIS",
        "<UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId><ItemId><ItemIdentifierValue>RB-600</ItemIdentifierValue></ItemId><DesiredDateDue>2031-06-30T00:00:00Z</DesiredDateDue>",
    );
    let (_, xml) = post_ncip(&sim, &renew).await;
    assert!(xml.contains("RenewItemResponse") && xml.contains("2031-06-30"), "{xml}");
    let (_, loans) = get_json(&client(&sim), &format!("{}/users/patron1/loans", sim.base_url())).await;
    assert_eq!(loans["item_loan"][0]["due_date"], "2031-06-30T00:00:00Z");
    let state = admin_state(&sim).await;
    assert_eq!(find(&state["borrowing_requests"], "external_id", "RLS-600")[0]["status"]["value"], "LOANED");
}

#[tokio::test]
async fn borrowing_request_item_creates_a_borrowing_request_that_cancel_request_item_cannot_reach() {
    let sim = common::start().await;
    let request = |user: &str, rid: &str| {
        ncip_message(
            "RequestItem",
            "RELAIS",
            &format!(
                "<UserId><UserIdentifierValue>{user}</UserIdentifierValue></UserId>
    <BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>12345</BibliographicRecordIdentifier><BibliographicRecordIdentifierCode>OCLC</BibliographicRecordIdentifierCode></BibliographicRecordId></BibliographicId>
    <RequestId><RequestIdentifierValue>{rid}</RequestIdentifierValue></RequestId>
    <RequestType>Loan</RequestType><RequestScopeType>Bibliographic Item</RequestScopeType>
    <ItemOptionalFields><BibliographicDescription><Title>Wanted Book</Title></BibliographicDescription></ItemOptionalFields>"
            ),
        )
    };
    let (_, xml) = post_ncip(&sim, &request("21000000002", "RLS-700")).await;
    assert!(xml.contains("RequestItemResponse") && xml.contains("RLS-700") && !xml.contains("Problem"), "{xml}");
    let state = admin_state(&sim).await;
    let rs = find(&state["borrowing_requests"], "external_id", "RLS-700");
    assert_eq!((rs.len(), rs[0]["status"]["value"].as_str()), (1, Some("REQUEST_CREATED_BOR")));
    assert_eq!(rs[0]["title"], "Wanted Book");

    let (_, xml) = post_ncip(&sim, &request("21000000006", "RLS-701")).await;
    assert!(xml.contains("User Blocked"), "{xml}");

    let cancel = ncip_message(
        "CancelRequestItem",
        "RELAIS",
        "<UserId><UserIdentifierValue>21000000002</UserIdentifierValue></UserId><RequestId><RequestIdentifierValue>RLS-700</RequestIdentifierValue></RequestId><RequestType>Loan</RequestType>",
    );
    // Alma's profile lists CancelRequestItem for the lender only: a borrowing request is not found by it.
    let (_, xml) = post_ncip(&sim, &cancel).await;
    assert!(xml.contains("CancelRequestItemResponse") && xml.contains("Unknown Request"), "{xml}");
    let state = admin_state(&sim).await;
    assert_eq!(
        find(&state["borrowing_requests"], "external_id", "RLS-700")[0]["status"]["value"],
        "REQUEST_CREATED_BOR"
    );
}

#[tokio::test]
async fn lookup_user_finds_active_users_only() {
    let sim = common::start().await;
    let lookup = |user: &str| {
        ncip_message(
            "LookupUser",
            "RELAIS",
            &format!("<UserId><UserIdentifierValue>{user}</UserIdentifierValue></UserId>"),
        )
    };
    let (_, xml) = post_ncip(&sim, &lookup("21000000001")).await;
    assert!(xml.contains("LookupUserResponse") && xml.contains("Reader") && xml.contains("patron1"), "{xml}");
    let (_, xml) = post_ncip(&sim, &lookup("21000000005")).await;
    assert!(xml.contains("Unknown User"), "{xml}");
}

#[tokio::test]
async fn malformed_and_unsupported_messages_get_problems_with_status_200() {
    let sim = common::start().await;
    let (status, xml) = post_ncip(&sim, "<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\"><AcceptItem>").await;
    assert_eq!(status, 200);
    assert!(xml.contains("Problem"), "{xml}");
    let lookup_item =
        ncip_message("LookupItem", "RELAIS", "<ItemId><ItemIdentifierValue>39000000001</ItemIdentifierValue></ItemId>");
    let (status, xml) = post_ncip(&sim, &lookup_item).await;
    assert_eq!(status, 200);
    assert!(xml.contains("Unsupported Service"), "{xml}");
    let calls = sim.calls();
    assert_eq!(calls.last().unwrap().ncip_service.as_deref(), Some("LookupItem"));
}
