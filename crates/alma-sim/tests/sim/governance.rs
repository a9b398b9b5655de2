//! Alma's API governance over HTTP: the per-second threshold (429 PER_SECOND_THRESHOLD), the daily cap
//! and the X-Exl-Api-Remaining countdown.

use crate::common::{self, client, error_code, error_message};
use alma_sim::Seed;

fn remaining(r: &reqwest::Response) -> u64 {
    r.headers()["x-exl-api-remaining"].to_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn remaining_counts_down_by_one_per_call() {
    let sim = common::start_with(Seed::demo().with_daily_api_limit(1000)).await;
    let c = client(&sim);
    let url = format!("{}/users/patron1", sim.base_url());
    let first = c.get(&url).send().await.unwrap();
    let second = c.get(&url).send().await.unwrap();
    assert_eq!(remaining(&first), 999);
    assert_eq!(remaining(&second), 998);
    // Error answers carry the header too, and count as calls.
    let err = c.get(format!("{}/users/nobody", sim.base_url())).send().await.unwrap();
    assert_eq!(err.status().as_u16(), 400);
    assert_eq!(remaining(&err), 997);
}

#[tokio::test]
async fn calls_above_the_per_second_threshold_get_429_per_second_threshold() {
    // Threshold 2 and 30 simultaneous calls: far more than 2 land inside any one second.
    let sim = common::start_with(Seed::demo().with_per_second_threshold(2)).await;
    let c = client(&sim);
    let url = format!("{}/users/patron1", sim.base_url());
    let answers = futures_join(&c, &url, 30).await;
    let refused: Vec<&(u16, serde_json::Value)> = answers.iter().filter(|(s, _)| *s == 429).collect();
    assert!(!refused.is_empty(), "no 429 among {:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert!(answers.iter().filter(|(s, _)| *s == 200).count() >= 2);
    let body = &refused[0].1;
    assert_eq!(error_code(body), "PER_SECOND_THRESHOLD");
    assert!(error_message(body).starts_with("HTTP requests are more than allowed per second"));
    assert!(body["errorList"]["error"][0].get("trackingId").is_none());
}

#[tokio::test]
async fn the_daily_cap_refuses_once_used_up_and_ncip_does_not_count() {
    let sim = common::start_with(Seed::demo().with_daily_api_limit(2)).await;
    let c = client(&sim);
    let url = format!("{}/users/patron1", sim.base_url());
    assert_eq!(c.get(&url).send().await.unwrap().status().as_u16(), 200);
    // An NCIP call in between uses none of the REST cap.
    let _ = reqwest::Client::new().post(sim.ncip_url()).body("<not-ncip/>").send().await.unwrap();
    let last = c.get(&url).send().await.unwrap();
    assert_eq!((last.status().as_u16(), remaining(&last)), (200, 0));
    let over = c.get(&url).send().await.unwrap();
    assert_eq!(over.status().as_u16(), 429);
    assert_eq!(error_code(&over.json().await.unwrap()), "DAILY_THRESHOLD");
}

#[tokio::test]
async fn admin_paths_are_not_rate_limited_or_counted() {
    let sim = common::start_with(Seed::demo().with_per_second_threshold(1).with_daily_api_limit(5)).await;
    let admin = reqwest::Client::new();
    for _ in 0..20 {
        let r = admin.get(format!("{}/state", sim.admin_url())).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = client(&sim).get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(remaining(&r), 4);
    let calls: serde_json::Value =
        admin.get(format!("{}/calls", sim.admin_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(calls["calls"].as_array().unwrap().len(), 1);
}

async fn futures_join(c: &reqwest::Client, url: &str, n: usize) -> Vec<(u16, serde_json::Value)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (c, url) = (c.clone(), url.to_owned());
            tokio::spawn(async move {
                let r = c.get(&url).send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.json().await.unwrap())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}
