//! Faults armed over `/admin/faults` (and in process), the call log, and reset.

use crate::common::{self, accept_item, arm, client, error_code, post_ncip};
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use serde_json::json;

#[tokio::test]
async fn http_500_fires_for_next_n_calls_then_stops() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "http_500", "for_next": 2, "scope": "rest"})).await, 201);
    let c = client(&sim);
    let url = format!("{}/users/patron1", sim.base_url());
    for _ in 0..2 {
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 500);
        assert_eq!(error_code(&r.json().await.unwrap()), "INTERNAL_SERVER_ERROR");
    }
    assert_eq!(c.get(&url).send().await.unwrap().status().as_u16(), 200);
    let faults = sim.calls().iter().filter(|c| c.fault.as_deref() == Some("http_500")).count();
    assert_eq!(faults, 2);
}

#[tokio::test]
async fn maintenance_503_until_cleared_and_scope_is_respected() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "maintenance_503", "scope": "ncip"})).await, 201);
    for _ in 0..3 {
        let (status, body) = post_ncip(&sim, &accept_item("RELAIS", "R-1", "21000000001", "B-1")).await;
        assert_eq!(status, 503);
        assert!(body.contains("maintenance"), "{body}");
    }
    // REST is out of the fault's scope.
    let r = client(&sim).get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(sim.state().items_with_barcode("B-1"), 0, "a 503 changes nothing");
    let cleared = reqwest::Client::new().delete(format!("{}/faults", sim.admin_url())).send().await.unwrap();
    assert_eq!(cleared.status().as_u16(), 204);
    let (status, _) = post_ncip(&sim, &accept_item("RELAIS", "R-1", "21000000001", "B-1")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn slow_answers_normally_and_is_logged() {
    let sim = common::start().await;
    sim.faults().arm(FaultSpec::next(FaultKind::Slow { millis: 50 }, 1, FaultScope::Rest)).unwrap();
    let r = client(&sim).get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(sim.calls()[0].fault.as_deref(), Some("slow"));
}

#[tokio::test]
async fn drop_connection_closes_without_answer_and_changes_nothing() {
    let sim = common::start().await;
    assert_eq!(
        arm(&sim, json!({"kind": "drop_connection", "for_next": 1, "path_prefix": "/view/NCIPServlet"})).await,
        201
    );
    let result = reqwest::Client::new()
        .post(sim.ncip_url())
        .body(accept_item("RELAIS", "R-2", "21000000001", "B-2"))
        .send()
        .await;
    assert!(result.is_err(), "expected a dropped connection, got {result:?}");
    assert_eq!(sim.state().items_with_barcode("B-2"), 0);
    assert_eq!(sim.calls()[0].status, None);
    // The next call is served again.
    let (status, _) = post_ncip(&sim, &accept_item("RELAIS", "R-2", "21000000001", "B-2")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn fail_after_commit_applies_the_change_then_drops_or_answers_500() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "fail_after_commit", "for_next": 1, "scope": "ncip"})).await, 201);
    let result = reqwest::Client::new()
        .post(sim.ncip_url())
        .body(accept_item("RELAIS", "R-3", "21000000001", "B-3"))
        .send()
        .await;
    assert!(result.is_err(), "the bridge never hears: {result:?}");
    assert_eq!(sim.state().items_with_barcode("B-3"), 1, "but Alma did it");
    assert_eq!(sim.calls()[0].ncip_service.as_deref(), Some("AcceptItem"));

    assert_eq!(arm(&sim, json!({"kind": "fail_after_commit", "then": "http_500", "for_next": 1})).await, 201);
    let (status, _) = post_ncip(&sim, &accept_item("RELAIS", "R-4", "21000000001", "B-4")).await;
    assert_eq!(status, 500);
    assert_eq!(sim.state().items_with_barcode("B-4"), 1);
}

#[tokio::test]
async fn bad_fault_specs_are_refused() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "explode"})).await, 400);
    assert_eq!(arm(&sim, json!({"kind": "http_500", "share": 1.5})).await, 400);
    assert_eq!(arm(&sim, json!({"kind": "http_500", "share": 0.5, "for_next": 2})).await, 400);
    let listed: serde_json::Value =
        reqwest::Client::new().get(format!("{}/faults", sim.admin_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["faults"], json!([]));
}

#[tokio::test]
async fn call_log_counts_calls_per_action_and_reset_restores_the_seed() {
    let sim = common::start().await;
    let c = client(&sim);
    c.get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    post_ncip(&sim, &accept_item("RELAIS", "R-5", "21000000001", "B-5")).await;
    c.get(format!("{}/items?item_barcode=B-5", sim.base_url())).send().await.unwrap();
    let admin = reqwest::Client::new();
    let log: serde_json::Value =
        admin.get(format!("{}/calls", sim.admin_url())).send().await.unwrap().json().await.unwrap();
    let calls = log["calls"].as_array().unwrap();
    // users, NCIP, items (302) and the followed item path.
    assert_eq!(calls.len(), 4, "{log}");
    assert_eq!(calls[1]["scope"], "ncip");
    assert_eq!(calls[1]["ncip_service"], "AcceptItem");
    assert_eq!(calls[2]["status"], 302);
    assert_eq!(calls[2]["query"], "item_barcode=B-5");

    let r = admin.post(format!("{}/reset", sim.admin_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert!(sim.calls().is_empty());
    assert_eq!(sim.state().items_with_barcode("B-5"), 0);
    assert_eq!(sim.state().counts().borrowing_requests, 0);
}

#[tokio::test]
async fn a_rest_path_prefix_names_the_path_the_client_sent() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "http_500", "path_prefix": "/almaws/v1/users"})).await, 201);
    let c = client(&sim);
    let user = c.get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(user.status().as_u16(), 500);
    let partners = c.get(format!("{}/partners", sim.base_url())).send().await.unwrap();
    assert_eq!(partners.status().as_u16(), 200);
    let paths: Vec<String> = sim.calls().into_iter().map(|c| c.path).collect();
    assert_eq!(paths, ["/almaws/v1/users/patron1", "/almaws/v1/partners"]);
}

#[tokio::test]
async fn matching_fails_one_ncip_message_by_its_item_and_lets_the_others_through() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "patron_busy", "matching": "ILL-7"})).await, 201);
    let listed: serde_json::Value =
        reqwest::Client::new().get(format!("{}/faults", sim.admin_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["faults"][0]["matching"], "ILL-7");
    for _ in 0..2 {
        let (_, body) = post_ncip(&sim, &accept_item("RELAIS", "R-M7", "21000000001", "ILL-7")).await;
        assert!(body.contains("Patron Record is Busy"), "{body}");
    }
    let (_, body) = post_ncip(&sim, &accept_item("RELAIS", "R-M8", "21000000001", "ILL-8")).await;
    assert!(!body.contains("Problem"), "{body}");
    assert_eq!((sim.state().items_with_barcode("ILL-7"), sim.state().items_with_barcode("ILL-8")), (0, 1));
}

#[tokio::test]
async fn matching_picks_rest_calls_by_path_and_query() {
    let sim = common::start().await;
    let by_user = FaultSpec::always(FaultKind::GeneralError, FaultScope::Rest).matching("/users/patron1");
    sim.faults().arm(by_user).unwrap();
    let by_barcode = FaultSpec::next(FaultKind::Http500, 1, FaultScope::Rest)
        .with_path_prefix("/almaws/v1/items")
        .matching("item_barcode=39000000002");
    sim.faults().arm(by_barcode).unwrap();
    let c = client(&sim);
    let base = sim.base_url();
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(c.get(format!("{base}/users/patron1")).send().await.unwrap()), 400);
    assert_eq!(status(c.get(format!("{base}/users/faculty1")).send().await.unwrap()), 200);
    assert_eq!(status(c.get(format!("{base}/items?item_barcode=39000000001")).send().await.unwrap()), 200);
    assert_eq!(status(c.get(format!("{base}/items?item_barcode=39000000002")).send().await.unwrap()), 500);
    assert_eq!(status(c.get(format!("{base}/items?item_barcode=39000000002")).send().await.unwrap()), 200);
}
