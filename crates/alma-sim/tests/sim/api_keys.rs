//! API keys granted per area of Alma's API, read-only or read/write: a call outside the key's areas, or a
//! write with read-only access, is refused exactly as an unknown key is.

use crate::common::{self, accept_item, client, client_with_key, error_code, error_message, post_ncip};
use alma_sim::{ApiAccess, ApiArea, DEFAULT_API_KEY, Seed};
use serde_json::{Value, json};

/// Asserts Alma's refusal of a key: HTTP 400, UNAUTHORIZED, its text, no trackingId.
async fn assert_refused(r: reqwest::Response) {
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHORIZED");
    assert_eq!(error_message(&body), "API-key not defined or not configured to allow this API.");
    assert!(body["errorList"]["error"][0].get("trackingId").is_none(), "{body}");
}

#[tokio::test]
async fn a_key_without_bibs_reads_users_but_no_items() {
    let seed = Seed::demo().with_api_key_for_areas(
        "no-bibs",
        [(ApiArea::Users, ApiAccess::ReadWrite), (ApiArea::ResourceSharingPartners, ApiAccess::ReadWrite)],
    );
    let sim = common::start_with(seed).await;
    let c = client_with_key("no-bibs");
    let user = c.get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(user.status().as_u16(), 200);
    assert_refused(c.get(format!("{}/items?item_barcode=39000000001", sim.base_url())).send().await.unwrap()).await;
    // The all-areas key still reads the item, so the refusal is the key's, not the item's.
    let item = client(&sim).get(format!("{}/items?item_barcode=39000000001", sim.base_url())).send().await.unwrap();
    assert_eq!(item.status().as_u16(), 200);
    let task_list = format!("{}/task-lists/rs/lending-requests?library=RES_SHARE", sim.base_url());
    assert_refused(c.get(task_list).send().await.unwrap()).await;
}

#[tokio::test]
async fn a_read_only_key_reads_and_checks_passwords_but_cannot_write() {
    let seed = Seed::demo().with_api_key_for_areas("users-read", [(ApiArea::Users, ApiAccess::Read)]);
    let sim = common::start_with(seed).await;
    let c = client_with_key("users-read");
    let base = sim.base_url();
    assert_eq!(c.get(format!("{base}/users/patron1/loans")).send().await.unwrap().status().as_u16(), 200);
    // op=auth is open to read-only keys (Users API documentation).
    let auth = c.post(format!("{base}/users/patron1?op=auth")).header("Exl-User-Pw", "patron1-pass");
    assert_eq!(auth.send().await.unwrap().status().as_u16(), 204);
    let create = c
        .post(format!("{base}/users/patron1/resource-sharing-requests"))
        .json(&json!({"external_id": "RLS-9", "partner": {"value": "RELAIS"}, "format": {"value": "PHYSICAL"},
                      "citation_type": {"value": "BOOK"}, "title": "x"}))
        .send()
        .await
        .unwrap();
    assert_refused(create).await;
    assert_eq!(sim.state().counts().borrowing_requests, 0, "a refused write changes nothing");
}

#[tokio::test]
async fn narrowing_the_sims_own_key_limits_what_its_users_see() {
    let seed = Seed::demo()
        .with_daily_api_limit(1000)
        .with_api_key_for_areas(DEFAULT_API_KEY, [(ApiArea::Users, ApiAccess::Read)]);
    let sim = common::start_with(seed).await;
    assert_eq!(sim.api_key(), DEFAULT_API_KEY);
    let c = client(&sim);
    let user = format!("{}/users/patron1", sim.base_url());
    assert_eq!(remaining(&c.get(&user).send().await.unwrap()), 999);
    assert_refused(c.get(format!("{}/partners", sim.base_url())).send().await.unwrap()).await;
    let lending = c
        .post(format!("{}/partners/RELAIS/lending-requests", sim.base_url()))
        .json(&json!({"external_id": "L-1", "title": "x"}))
        .send()
        .await
        .unwrap();
    assert_refused(lending).await;
    // Refused calls, like an unknown key's, do not count against the daily threshold.
    assert_eq!(remaining(&c.get(&user).send().await.unwrap()), 998);
}

fn remaining(r: &reqwest::Response) -> u64 {
    assert_eq!(r.status().as_u16(), 200);
    r.headers()["x-exl-api-remaining"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn seed_file_keys_and_the_all_areas_key_live_side_by_side() {
    let seed = Seed::from_json(
        br#"{"institution_code":"01DEMO_INST","api_key":"everything",
             "api_keys":[{"key":"partners-rw","areas":[{"area":"resource_sharing_partners","access":"read_write"}]}]}"#,
    )
    .unwrap();
    let sim = common::start_with(seed).await;
    let base = sim.base_url();
    assert_eq!(client_with_key("everything").get(format!("{base}/partners")).send().await.unwrap().status(), 200);
    assert_eq!(client_with_key("partners-rw").get(format!("{base}/partners")).send().await.unwrap().status(), 200);
    assert_refused(client_with_key("partners-rw").get(format!("{base}/users/x")).send().await.unwrap()).await;
    assert_refused(client_with_key("nobody-knows").get(format!("{base}/partners")).send().await.unwrap()).await;
}

#[tokio::test]
async fn the_ncip_responder_takes_no_api_key() {
    // A key with no area at all: REST refuses it, NCIP never asks for one.
    let seed = Seed::demo().with_api_key_for_areas(DEFAULT_API_KEY, []);
    let sim = common::start_with(seed).await;
    assert_refused(client(&sim).get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap()).await;
    let (status, body) = post_ncip(&sim, &accept_item("RELAIS", "R-K1", "21000000001", "B-K1")).await;
    assert_eq!(status, 200);
    assert!(!body.contains("Problem"), "{body}");
    assert_eq!(sim.state().items_with_barcode("B-K1"), 1);
}

/// The four areas the bridge uses, by the path of their test call.
const TEST_CALLS: [&str; 4] = ["/users/operation/test", "/bibs/test", "/partners/operation/test", "/task-lists/test"];

#[tokio::test]
async fn each_areas_test_call_answers_ok_with_the_institution_for_a_key_that_has_it() {
    let sim = common::start().await;
    let c = client(&sim);
    for path in TEST_CALLS {
        for (method, word) in [(reqwest::Method::GET, "GET"), (reqwest::Method::POST, "POST")] {
            let r = c.request(method, format!("{}{path}", sim.base_url())).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{word} {path}");
            let body = r.text().await.unwrap();
            assert!(body.contains(&format!("<test>{word} - OK - institutionCode: 01DEMO_INST</test>")), "{body}");
        }
    }
    // The test paths are not read as a user or a partner named "test" or "operation".
    let calls = sim.calls();
    assert!(calls.iter().all(|call| call.status == Some(200)), "{calls:?}");
}

#[tokio::test]
async fn a_test_call_is_refused_for_a_key_without_the_area_and_post_needs_write() {
    let seed = Seed::demo().with_api_key_for_areas(
        "no-task-lists",
        [
            (ApiArea::Users, ApiAccess::Read),
            (ApiArea::Bibs, ApiAccess::Read),
            (ApiArea::ResourceSharingPartners, ApiAccess::ReadWrite),
        ],
    );
    let sim = common::start_with(seed).await;
    let c = client_with_key("no-task-lists");
    let base = sim.base_url();
    assert_refused(c.get(format!("{base}/task-lists/test")).send().await.unwrap()).await;
    assert_refused(c.post(format!("{base}/task-lists/test")).send().await.unwrap()).await;
    assert_eq!(c.get(format!("{base}/users/operation/test")).send().await.unwrap().status().as_u16(), 200);
    assert_refused(c.post(format!("{base}/users/operation/test")).send().await.unwrap()).await;
    assert_eq!(c.post(format!("{base}/partners/operation/test")).send().await.unwrap().status().as_u16(), 200);
    assert_refused(client_with_key("stranger").get(format!("{base}/bibs/test")).send().await.unwrap()).await;
}
