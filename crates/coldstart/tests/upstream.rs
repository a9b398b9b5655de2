//! The timing pass-through: answers come back unchanged through it, and every call is counted and timed.

use coldstart::upstream::Upstream;

#[tokio::test]
async fn calls_pass_through_unchanged_and_are_counted() {
    let sim = alma_sim::AlmaSim::start("127.0.0.1:0".parse().unwrap(), alma_sim::Seed::demo()).await.unwrap();
    let origin = format!("http://{}", sim.addr());
    let hop = Upstream::start(&origin).await.unwrap();
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let answer = client
            .get(format!("{}/almaws/v1/partners", hop.origin()))
            .header("Authorization", format!("apikey {}", sim.api_key()))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert!(body["partner"].as_array().is_some_and(|p| !p.is_empty()), "{body}");
    }
    let spent = hop.spent();
    assert_eq!(spent.calls, 3);
    assert!(!spent.time.is_zero());
}
