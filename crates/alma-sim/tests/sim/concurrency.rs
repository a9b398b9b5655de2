//! The state stays consistent when NCIP and REST calls arrive at once: no lost updates, no duplicate ids.

use std::collections::HashSet;

use crate::common::{self, accept_item, client, post_ncip};
use alma_sim::Seed;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_accept_items_with_rest_reads_lose_nothing() {
    // A high threshold: this test is about the state, not the 429s.
    let sim = common::start_with(Seed::demo().with_per_second_threshold(10_000)).await;
    let before = sim.state().counts();
    let mut tasks = Vec::new();
    for n in 0..50 {
        let xml = accept_item("RELAIS", &format!("RLS-C-{n}"), "21000000001", &format!("RB-C-{n}"));
        let url = sim.ncip_url();
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new().post(url).body(xml).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let body = r.text().await.unwrap();
            assert!(!body.contains("Problem"), "{body}");
        }));
        let (c, url) = (client(&sim), format!("{}/users/patron1/requests", sim.base_url()));
        tasks.push(tokio::spawn(async move {
            assert_eq!(c.get(url).send().await.unwrap().status().as_u16(), 200);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let after = sim.state().counts();
    assert_eq!(after.items, before.items + 50);
    assert_eq!(after.borrowing_requests, before.borrowing_requests + 50);
    assert_eq!(after.active_holds, before.active_holds + 50);

    let state = sim.state().snapshot();
    let ids: HashSet<&str> =
        state["items"].as_array().unwrap().iter().map(|i| i["item_data"]["pid"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), after.items, "item ids are unique");
    let externals: HashSet<&str> =
        state["borrowing_requests"].as_array().unwrap().iter().map(|r| r["external_id"].as_str().unwrap()).collect();
    assert_eq!(externals.len(), 50);

    // And the REST view agrees with the state.
    let (_, requests) = common::get_json(&client(&sim), &format!("{}/users/patron1/requests", sim.base_url())).await;
    assert_eq!(requests["total_record_count"], 50);
    // A further AcceptItem after the burst still works.
    let (status, _) = post_ncip(&sim, &accept_item("RELAIS", "RLS-C-X", "21000000001", "RB-C-X")).await;
    assert_eq!(status, 200);
}
