//! Faults that make Alma's REST API answer with one of its own errors: the general error, aimed at the
//! item or user reads.

use crate::common::{self, accept_item, arm, client, error_code, error_message, post_ncip};
use serde_json::json;

#[tokio::test]
async fn general_error_answers_401652_on_the_aimed_reads_only() {
    let sim = common::start_with(alma_sim::Seed::demo().with_daily_api_limit(1000)).await;
    assert_eq!(arm(&sim, json!({"kind": "general_error", "path_prefix": "/almaws/v1/items"})).await, 201);
    let c = client(&sim);
    let r = c.get(format!("{}/items?item_barcode=39000000001", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // An application error: it counted against the daily threshold and carries a trackingId.
    assert_eq!(r.headers()["x-exl-api-remaining"], "999");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "401652");
    assert_eq!(error_message(&body), "General Error - An error has occurred while processing the request.");
    assert!(body["errorList"]["error"][0]["trackingId"].as_str().unwrap().starts_with("E01-"));
    let user = c.get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(user.status().as_u16(), 200);
    assert_eq!(sim.calls()[0].fault.as_deref(), Some("general_error"));
}

#[tokio::test]
async fn general_error_changes_nothing_and_passes_over_ncip() {
    let sim = common::start().await;
    // Scope `all` (the default): NCIP messages are not REST calls, so they pass.
    assert_eq!(arm(&sim, json!({"kind": "general_error", "for_next": 1})).await, 201);
    let (status, body) = post_ncip(&sim, &accept_item("RELAIS", "R-G1", "21000000001", "B-G1")).await;
    assert_eq!(status, 200);
    assert!(!body.contains("Problem"), "{body}");
    let c = client(&sim);
    let url = format!("{}/users/patron1/resource-sharing-requests", sim.base_url());
    let create = json!({"external_id": "RLS-G", "partner": {"value": "RELAIS"}, "format": {"value": "PHYSICAL"},
                        "citation_type": {"value": "BOOK"}, "title": "x", "pickup_location": {"value": "MAIN"}});
    let r = c.post(&url).json(&create).send().await.unwrap();
    assert_eq!(error_code(&r.json().await.unwrap()), "401652");
    assert_eq!(sim.state().counts().borrowing_requests, 1, "only the NCIP AcceptItem's request");
    // The fault was used up by the REST call; the next one is served.
    let r = c.post(&url).json(&create).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    assert_eq!(arm(&sim, json!({"kind": "general_error", "scope": "ncip"})).await, 400);
}

#[tokio::test]
async fn daily_threshold_fault_answers_exactly_what_the_used_up_cap_answers() {
    // One simulator whose cap is used up after one call, one with the fault armed.
    let capped = common::start_with(alma_sim::Seed::demo().with_daily_api_limit(1)).await;
    let c = client(&capped);
    let url = format!("{}/users/patron1", capped.base_url());
    assert_eq!(c.get(&url).send().await.unwrap().status().as_u16(), 200);
    let over = c.get(&url).send().await.unwrap();
    let from_cap = (over.status().as_u16(), over.headers()["x-exl-api-remaining"].clone());
    let cap_body: serde_json::Value = over.json().await.unwrap();

    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "daily_threshold", "for_next": 1})).await, 201);
    let r = client(&sim).get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["x-exl-api-remaining"].clone()), from_cap);
    assert_eq!(from_cap.0, 429);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "DAILY_THRESHOLD");
    assert_eq!(body, cap_body, "the same envelope, code and text, no trackingId");
    assert!(body["errorList"]["error"][0].get("trackingId").is_none());
    assert_eq!(sim.calls()[0].fault.as_deref(), Some("daily_threshold"));
}

#[tokio::test]
async fn daily_threshold_fault_still_refuses_an_unknown_key_first_and_spares_ncip() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "daily_threshold"})).await, 201);
    let stranger = common::client_with_key("stranger");
    let r = stranger.get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(error_code(&r.json().await.unwrap()), "UNAUTHORIZED");
    let (status, body) = post_ncip(&sim, &accept_item("RELAIS", "R-D1", "21000000001", "B-D1")).await;
    assert_eq!(status, 200);
    assert!(!body.contains("Problem"), "{body}");
    assert_eq!(arm(&sim, json!({"kind": "daily_threshold", "scope": "ncip"})).await, 400);
}
