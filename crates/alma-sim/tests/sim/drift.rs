//! What staff do by hand in Alma, over the admin API, and the reads that show it: the drift a reconciler of
//! Relais and Alma must be able to find.

use crate::common::{self, accept_item, admin_state, check_out_item, client, error_code, get_json, post_ncip};
use serde_json::{Value, json};

async fn admin(sim: &alma_sim::AlmaSim, path: &str, body: Value) -> u16 {
    let url = format!("{}/{path}", sim.admin_url());
    reqwest::Client::new().post(url).json(&body).send().await.unwrap().status().as_u16()
}

fn lending<'a>(state: &'a Value, external_id: &str) -> &'a Value {
    state["lending_requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["external_id"] == external_id)
        .expect("the lending request is listed")
}

#[tokio::test]
async fn a_temporary_item_deleted_by_hand_is_gone_and_its_hold_ended() {
    let sim = common::start().await;
    post_ncip(&sim, &accept_item("RELAIS", "RLS-D1", "21000000001", "RB-D1")).await;
    let (status, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=RB-D1", sim.base_url())).await;
    assert_eq!(status, 200);
    let requests = format!("{}/requests", item["link"].as_str().unwrap());
    assert_eq!(get_json(&client(&sim), &requests).await.1["user_request"].as_array().map(Vec::len), Some(1));

    assert_eq!(admin(&sim, "delete-item", json!({"item_barcode": "RB-D1"})).await, 204);
    let (status, body) = get_json(&client(&sim), &format!("{}/items?item_barcode=RB-D1", sim.base_url())).await;
    assert_eq!(status, 400);
    assert!(!error_code(&body).is_empty());
    assert_eq!(admin(&sim, "delete-item", json!({"item_barcode": "RB-D1"})).await, 400, "gone already");
}

#[tokio::test]
async fn a_lent_item_returned_at_the_desk_completes_its_lending_request() {
    let sim = common::start().await;
    post_ncip(&sim, &check_out_item("RELAIS", "39000000003", Some("RLS-D2"))).await;
    let (_, item) = get_json(&client(&sim), &format!("{}/items?item_barcode=39000000003", sim.base_url())).await;
    let loans = format!("{}/loans", item["link"].as_str().unwrap());
    assert_eq!(get_json(&client(&sim), &loans).await.1["item_loan"].as_array().map(Vec::len), Some(1));

    assert_eq!(admin(&sim, "return", json!({"item_barcode": "39000000003"})).await, 204);
    assert_eq!(get_json(&client(&sim), &loans).await.1["item_loan"].as_array().map(Vec::len), None, "no loan");
    let state = admin_state(&sim).await;
    let request = lending(&state, "RLS-D2");
    assert_eq!(request["status"]["value"], "REQUEST_COMPLETED");
    let by_id =
        format!("{}/partners/RELAIS/lending-requests/{}", sim.base_url(), request["request_id"].as_str().unwrap());
    assert_eq!(get_json(&client(&sim), &by_id).await.1["status"]["value"], "REQUEST_COMPLETED");
}

#[tokio::test]
async fn a_lending_request_cancelled_by_hand_reads_cancelled_and_leaves_the_task_list_status() {
    let sim = common::start().await;
    post_ncip(&sim, &check_out_item("RELAIS", "39000000004", Some("RLS-D3"))).await;
    let state = admin_state(&sim).await;
    let id = lending(&state, "RLS-D3")["request_id"].as_str().unwrap().to_owned();
    let shipped = format!(
        "{}/task-lists/rs/lending-requests?library=RES_SHARE&partner=RELAIS&status=SHIPPED_PHYSICALLY",
        sim.base_url()
    );
    assert_eq!(get_json(&client(&sim), &shipped).await.1["total_record_count"], 1);

    assert_eq!(admin(&sim, "cancel-lending", json!({"request_id": id})).await, 204);
    let by_id = format!("{}/partners/RELAIS/lending-requests/{id}", sim.base_url());
    assert_eq!(get_json(&client(&sim), &by_id).await.1["status"]["value"], "CANCELLED");
    assert_eq!(get_json(&client(&sim), &shipped).await.1["total_record_count"], 0);
    assert_eq!(admin(&sim, "cancel-lending", json!({"request_id": "no-such"})).await, 400);
}

#[tokio::test]
async fn the_task_list_narrows_by_format() {
    let sim = common::start().await;
    post_ncip(&sim, &check_out_item("RELAIS", "39000000003", Some("RLS-D4"))).await;
    let list = |format: &str| {
        format!(
            "{}/task-lists/rs/lending-requests?library=RES_SHARE&partner=RELAIS&requested_format={format}",
            sim.base_url()
        )
    };
    assert_eq!(get_json(&client(&sim), &list("PHYSICAL")).await.1["total_record_count"], 1);
    assert_eq!(get_json(&client(&sim), &list("DIGITAL")).await.1["total_record_count"], 0);
}
