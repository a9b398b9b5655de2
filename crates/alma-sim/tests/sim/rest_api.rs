//! Alma's REST shapes over real loopback HTTP: users, op=auth, items, borrowing and lending requests,
//! loans, partners and error bodies.

use crate::common::{self, client, client_no_redirect, error_code, error_message, get_json};
use alma_sim::{AlmaSim, Seed};
use serde_json::json;

#[tokio::test]
async fn user_json_has_almas_field_names_and_nesting() {
    let sim = common::start().await;
    let c = client(&sim);
    let url = format!("{}/users/patron1?user_id_type=all_unique&view=full", sim.base_url());
    let (status, u) = get_json(&c, &url).await;
    assert_eq!(status, 200);
    assert_eq!(u["primary_id"], "patron1");
    assert_eq!(u["user_group"]["value"], "UNDERGRAD");
    assert_eq!(u["status"]["value"], "ACTIVE");
    assert_eq!(u["expiry_date"], "2030-01-16Z");
    assert_eq!(u["contact_info"]["email"][0]["email_address"], "patron1@demo.example.edu");
    assert_eq!(u["contact_info"]["address"][0]["country"]["value"], "USA");
    assert_eq!(u["contact_info"]["phone"][0]["phone_type"][0]["value"], "mobile");
    assert_eq!(u["user_identifier"][0]["id_type"]["value"], "BARCODE");
    assert_eq!(u["user_identifier"][0]["value"], "21000000001");
    assert_eq!(u["password"], "", "the seed password must never be served");
    assert!(u["link"].as_str().unwrap().ends_with("/almaws/v1/users/patron1"));

    let (_, blocked) = get_json(&c, &format!("{}/users/blocked1", sim.base_url())).await;
    assert_eq!(blocked["user_block"][0]["block_type"]["value"], "GENERAL");
    assert_eq!(blocked["user_block"][0]["block_status"], "ACTIVE");
}

#[tokio::test]
async fn user_is_found_by_any_identifier_or_a_named_identifier_type() {
    let sim = common::start().await;
    let c = client(&sim);
    let base = sim.base_url();
    // user_id_type omitted means all_unique in Alma: the barcode finds the user.
    let (status, u) = get_json(&c, &format!("{base}/users/21000000002")).await;
    assert_eq!((status, u["primary_id"].as_str()), (200, Some("faculty1")));
    let (status, u) = get_json(&c, &format!("{base}/users/U1002?user_id_type=UNIV_ID")).await;
    assert_eq!((status, u["user_group"]["value"].as_str()), (200, Some("FACULTY")));
    let (status, body) = get_json(&c, &format!("{base}/users/21000000002?user_id_type=UNIV_ID")).await;
    assert_eq!((status, error_code(&body).as_str()), (400, "401890"));
    // Inactive users are still served by REST (only NCIP hides them).
    let (status, u) = get_json(&c, &format!("{base}/users/inactive1")).await;
    assert_eq!((status, u["status"]["value"].as_str()), (200, Some("INACTIVE")));
}

#[tokio::test]
async fn user_search_finds_by_contained_text_in_brief_records_a_page_at_a_time() {
    let sim = common::start().await;
    let c = client(&sim);
    let base = sim.base_url();
    // `~` is "contains", without case: the whole address finds its patron, and so does a part of it.
    let (status, found) = get_json(&c, &format!("{base}/users?q=email~PATRON1@demo.example.edu")).await;
    assert_eq!((status, found["total_record_count"].as_u64()), (200, Some(1)));
    assert_eq!(found["user"][0]["primary_id"], "patron1");
    assert!(found["user"][0]["link"].as_str().unwrap().ends_with("/almaws/v1/users/patron1"));
    assert!(found["user"][0].get("contact_info").is_none(), "brief records carry no contact details");
    let (_, part) = get_json(&c, &format!("{base}/users?q=email~atron1@demo")).await;
    assert_eq!(part["user"][0]["primary_id"], "patron1", "a substring matches too");
    // Every seeded address is at demo.example.edu: paging walks them.
    let (_, first) = get_json(&c, &format!("{base}/users?q=email~demo.example.edu&limit=2")).await;
    let total = first["total_record_count"].as_u64().unwrap();
    assert!(total > 2, "{first}");
    assert_eq!(first["user"].as_array().unwrap().len(), 2);
    let (_, rest) = get_json(&c, &format!("{base}/users?q=email~demo.example.edu&limit=100&offset=2")).await;
    assert_eq!(rest["user"].as_array().unwrap().len() as u64, total - 2);
    assert_eq!(rest["total_record_count"].as_u64(), Some(total));
    // Nothing found: a count of zero and no list at all.
    let (status, none) = get_json(&c, &format!("{base}/users?q=email~nobody@nowhere.example")).await;
    assert_eq!((status, none["total_record_count"].as_u64(), none.get("user")), (200, Some(0), None));
    // A field Alma does not search, a query without `~`, or a limit over 100 is Alma's parameter error.
    for bad in ["q=password~x", "q=email", "q=email~x&limit=101"] {
        let (status, body) = get_json(&c, &format!("{base}/users?{bad}")).await;
        assert_eq!((status, error_code(&body).as_str()), (400, "401666"), "{bad}");
    }
}

#[tokio::test]
async fn unknown_user_is_almas_400_error_body() {
    let sim = common::start().await;
    let (status, body) =
        get_json(&client(&sim), &format!("{}/users/nobody?user_id_type=all_unique", sim.base_url())).await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), "401861");
    assert_eq!(error_message(&body), "User with identifier nobody was not found.");
    assert!(body["errorList"]["error"][0]["trackingId"].as_str().unwrap().starts_with("E01-"));
}

#[tokio::test]
async fn op_auth_answers_204_or_401866() {
    let sim = common::start().await;
    let c = client(&sim);
    let url = format!("{}/users/patron1?op=auth", sim.base_url());
    let ok = c.post(&url).header("Exl-User-Pw", "patron1-pass").send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 204);
    let bad = c.post(&url).header("Exl-User-Pw", "wrong").send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert_eq!(error_code(&bad.json().await.unwrap()), "401866");
    // An inactive user cannot log in even with the right password.
    let inactive = format!("{}/users/inactive1?op=auth", sim.base_url());
    let r = c.post(&inactive).header("Exl-User-Pw", "inactive1-pass").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let unknown = format!("{}/users/ghost?op=auth", sim.base_url());
    let r = c.post(&unknown).header("Exl-User-Pw", "x").send().await.unwrap();
    assert_eq!(error_code(&r.json().await.unwrap()), "401861");
}

#[tokio::test]
async fn item_by_barcode_redirects_to_the_item_path_with_almas_item_json() {
    let sim = common::start().await;
    let raw = client_no_redirect(&sim)
        .get(format!("{}/items?item_barcode=39000000001", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 302);
    let location = raw.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{}/bibs/991000000010105/holdings/", sim.base_url())), "{location}");

    let (status, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=39000000001", sim.base_url())).await;
    assert_eq!(status, 200);
    assert_eq!(item["bib_data"]["mms_id"], "991000000010105");
    assert_eq!(item["bib_data"]["title"], "The Art of Interlibrary Loan");
    assert_eq!(item["holding_data"]["holding_id"], "221000000010105");
    assert_eq!(item["holding_data"]["in_temp_location"], false);
    assert_eq!(item["item_data"]["barcode"], "39000000001");
    assert_eq!(item["item_data"]["pid"], "231000000010105");
    assert_eq!(item["item_data"]["base_status"]["value"], "1");
    assert_eq!(item["item_data"]["library"]["value"], "MAIN");
    assert_eq!(item["item_data"]["location"]["value"], "STACKS");
    assert_eq!(item["link"].as_str().unwrap(), location);

    let (status, body) = get_json(&client(&sim), &format!("{}/items?item_barcode=nope", sim.base_url())).await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), "401689");
    assert_eq!(error_message(&body), "No items found for barcode nope.");
}

#[tokio::test]
async fn behind_a_proxy_links_and_redirects_name_the_public_origin() {
    let public = "https://alma.example.test:8443";
    let sim = AlmaSim::start_behind("127.0.0.1:0".parse().unwrap(), Seed::demo(), Some(public)).await.unwrap();
    assert_eq!(sim.base_url(), format!("{public}/almaws/v1"));
    assert_eq!(sim.ncip_url(), format!("{public}/view/NCIPServlet"));
    // Reached directly here (no proxy in the test); the answer still names the public origin.
    let direct = format!("http://{}/almaws/v1", sim.addr());
    let raw = client_no_redirect(&sim).get(format!("{direct}/items?item_barcode=39000000001")).send().await.unwrap();
    assert_eq!(raw.status().as_u16(), 302);
    let location = raw.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&format!("{public}/almaws/v1/bibs/991000000010105/holdings/")), "{location}");
}

#[tokio::test]
async fn borrowing_request_create_read_cancel() {
    let sim = common::start().await;
    let c = client(&sim);
    let url = format!("{}/users/patron1/resource-sharing-requests", sim.base_url());
    let body = json!({
        "external_id": "RLS-1001", "partner": {"value": "RELAIS"}, "format": {"value": "PHYSICAL"},
        "citation_type": {"value": "BOOK"}, "title": "Borrowed Book", "author": "Writer, W.",
        "isbn": "9781111111111", "pickup_location": {"value": "MAIN"}, "level_of_service": {"value": "WHEN_CONVENIENT"}
    });
    let created: serde_json::Value = c.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
    let id = created["request_id"].as_str().expect("request_id").to_owned();
    assert_eq!(created["external_id"], "RLS-1001");
    assert_eq!(created["partner"]["value"], "RELAIS");
    assert_eq!(created["format"]["value"], "PHYSICAL");
    assert_eq!(created["citation_type"]["value"], "BOOK");
    assert_eq!(created["pickup_location"]["value"], "MAIN");
    assert_eq!(created["status"]["value"], "READY_TO_SEND");
    assert_eq!(created["level_of_service"]["value"], "WHEN_CONVENIENT");
    assert_eq!(created["title"], "Borrowed Book");
    assert_eq!(created["requester"]["value"], "patron1");

    let (status, read) = get_json(&c, &format!("{url}/{id}")).await;
    assert_eq!((status, read["request_id"].as_str()), (200, Some(id.as_str())));
    let del = c.delete(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(del.status().as_u16(), 204);
    let (_, read) = get_json(&c, &format!("{url}/{id}")).await;
    assert_eq!(read["status"]["value"], "CANCELLED");

    // Another user cannot read it; a missing mandatory field is Alma's 401664.
    let (status, body) =
        get_json(&c, &format!("{}/users/faculty1/resource-sharing-requests/{id}", sim.base_url())).await;
    assert_eq!((status, error_code(&body).as_str()), (400, "402119"));
    let r = c.post(&url).json(&json!({"format": {"value": "PHYSICAL"}, "title": "x"})).send().await.unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "401664");
    assert_eq!(error_message(&body), "Mandatory field is missing: citation_type");
}

#[tokio::test]
async fn lending_request_keeps_external_id_and_partners_list() {
    let sim = common::start().await;
    let c = client(&sim);
    let url = format!("{}/partners/RELAIS/lending-requests", sim.base_url());
    let body = json!({"external_id": "RLS-L-7", "owner": "RES_SHARE", "format": {"value": "PHYSICAL"},
                      "citation_type": {"value": "BOOK"}, "title": "Lent Book"});
    let r = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["external_id"], "RLS-L-7");
    assert_eq!(created["status"]["value"], "REQUEST_CREATED_LEND");
    assert_eq!(created["partner"]["value"], "RELAIS");
    assert_eq!(created["owner"], "RES_SHARE");
    let id = created["request_id"].as_str().unwrap();
    let (status, read) = get_json(&c, &format!("{url}/{id}")).await;
    assert_eq!((status, read["external_id"].as_str()), (200, Some("RLS-L-7")));
    let r = c.post(&url).json(&json!({"owner": "RES_SHARE"})).send().await.unwrap();
    assert_eq!(error_code(&r.json().await.unwrap()), "401664");

    let (_, list) = get_json(&c, &format!("{}/partners", sim.base_url())).await;
    assert_eq!(list["total_record_count"], 4, "RELAIS, RELAIS_OLD, RELAIS_PRIMARY and ISO_PEER");
    let (_, p) = get_json(&c, &format!("{}/partners/RELAIS", sim.base_url())).await;
    assert_eq!(p["partner_details"]["profile_details"]["profile_type"], "NCIP");
    assert_eq!(p["partner_details"]["status"], "ACTIVE");
    let (status, body) = get_json(&c, &format!("{}/partners/NOPE", sim.base_url())).await;
    assert_eq!(status, 400);
    error_code(&body);
}

#[tokio::test]
async fn the_lending_task_list_needs_its_library_filters_and_lists_at_most_100() {
    // 105 lending requests made as fast as the test can: the per-second threshold is not what is tested here.
    let sim = common::start_with(alma_sim::Seed::demo().with_per_second_threshold(10_000)).await;
    let c = client(&sim);
    let create = format!("{}/partners/RELAIS/lending-requests", sim.base_url());
    for n in 0..105 {
        let body = json!({"external_id": format!("RLS-T-{n}"), "owner": "RES_SHARE", "format": {"value": "PHYSICAL"},
                          "citation_type": {"value": "BOOK"}, "title": "Listed Book"});
        assert_eq!(c.post(&create).json(&body).send().await.unwrap().status().as_u16(), 200);
    }
    let list = format!("{}/task-lists/rs/lending-requests", sim.base_url());
    // The documentation calls `library` mandatory.
    let (status, body) = get_json(&c, &format!("{list}?partner=RELAIS")).await;
    assert_eq!((status, error_code(&body).as_str()), (400, "401664"));
    // No paging: the oldest 100 of the 105 matches, and the count of all of them.
    let (status, page) =
        get_json(&c, &format!("{list}?library=RES_SHARE&partner=RELAIS&status=REQUEST_CREATED_LEND")).await;
    assert_eq!(status, 200);
    let entries = page["user_resource_sharing_request"].as_array().unwrap();
    assert_eq!((entries.len(), page["total_record_count"].as_u64()), (100, Some(105)));
    assert_eq!(entries[0]["external_id"], "RLS-T-0");
    assert!(entries.iter().all(|e| e["external_id"] != "RLS-T-104"), "the newest is past the cap");
    // Filters that match nothing list nothing.
    let (_, none) = get_json(&c, &format!("{list}?library=RES_SHARE&status=SHIPPED_PHYSICALLY")).await;
    assert_eq!(none["total_record_count"], 0);
    let (_, other) = get_json(&c, &format!("{list}?library=MAIN")).await;
    assert_eq!(other["total_record_count"], 0);
}

#[tokio::test]
async fn loans_list_and_renew_move_the_due_date() {
    let sim = common::start().await;
    let c = client(&sim);
    let admin = reqwest::Client::new();
    let r = admin
        .post(format!("{}/loan", sim.admin_url()))
        .json(&json!({"user_id": "patron1", "item_barcode": "39000000002"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (status, loans) = get_json(&c, &format!("{}/users/patron1/loans", sim.base_url())).await;
    assert_eq!(status, 200);
    assert_eq!(loans["total_record_count"], 1);
    let loan = &loans["item_loan"][0];
    assert_eq!(loan["item_barcode"], "39000000002");
    assert_eq!(loan["loan_status"], "ACTIVE");
    assert_eq!(loan["library"]["value"], "MAIN");
    let due_before = loan["due_date"].as_str().unwrap().to_owned();
    let loan_id = loan["loan_id"].as_str().unwrap();
    let renewed: serde_json::Value = c
        .post(format!("{}/users/patron1/loans/{loan_id}?op=renew", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(renewed["due_date"].as_str().unwrap() > due_before.as_str(), "{renewed}");
    let (_, empty) = get_json(&c, &format!("{}/users/faculty1/loans", sim.base_url())).await;
    assert_eq!(empty, json!({"total_record_count": 0}));
}

#[tokio::test]
async fn missing_or_wrong_key_is_unauthorized_and_json_is_required() {
    let sim = common::start().await;
    let url = format!("{}/users/patron1", sim.base_url());
    let plain = reqwest::Client::new();
    let r = plain.get(&url).header("Accept", "application/json").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHORIZED");
    assert_eq!(error_message(&body), "API-key not defined or not configured to allow this API.");
    let r = plain
        .get(&url)
        .header("Authorization", "apikey wrong")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // The key may also come as ?apikey=, and format=json stands in for the Accept header.
    let r = plain.get(format!("{url}?apikey={}&format=json", sim.api_key())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = plain.get(&url).header("Authorization", format!("apikey {}", sim.api_key())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 406);
}
