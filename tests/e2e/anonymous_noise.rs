//! What callers without a token can cost everyone else: log lines and the OpenURL parking budget. Over real
//! HTTP to the local server, from several loopback addresses (127.0.0.2 and 127.0.0.3 reach a server on
//! 127.0.0.1, each as its own client).

use crate::support::lookup::capture_logs;
use crate::support::{Harness, StoreKind};
use bridge::clock::Clock as _;
use bridge::http::CORRELATION_HEADER;
use std::net::IpAddr;
use std::time::Duration;

const WRONG_TOKEN_LINE: &str = "NCIP request with a missing or wrong token";

/// The captured log lines with `message`, as JSON, from byte `from` of the capture on.
fn lines_saying(text: &str, from: usize, message: &str) -> Vec<serde_json::Value> {
    text[from..]
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["fields"]["message"] == message)
        .collect()
}

// Every request with a wrong token wrote its own warning, so an anonymous caller grew the log as fast as it
// could send. Now the first is logged at once and the rest are counted into one line a minute.
#[tokio::test]
async fn forty_wrong_tokens_make_one_log_line_with_a_count_not_forty() {
    let logs = capture_logs();
    let h = Harness::start(StoreKind::Embedded).await;
    let from = logs.text().len();
    for n in 0..40 {
        let url = h.bridge.url(&format!("/ncip/not-the-token-{n:04}-padding"));
        let answer = h.http.post(url).body("<x/>").send().await.expect("bridge answers");
        assert_eq!(answer.status(), 200, "NCIP refusals are NCIP answers");
        assert!(answer.text().await.unwrap().contains("Agency Authentication Failed"));
    }
    let lines = lines_saying(&logs.text(), from, WRONG_TOKEN_LINE);
    // Other tests in this process may log a refusal of their own meanwhile, each at most once a minute.
    assert!(!lines.is_empty() && lines.len() < 10, "{} lines for 40 refusals: {lines:?}", lines.len());
    assert!(lines.iter().all(|l| l["fields"]["refused"].as_u64().is_some_and(|n| n >= 1)), "{lines:?}");
    assert!(!logs.text()[from..].contains("not-the-token"), "the token tried is never logged");
}

fn client_from(address: &str) -> reqwest::Client {
    let address: IpAddr = address.parse().unwrap();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).local_address(address).build().unwrap()
}

/// Whether an anonymous link from `client` had its citation parked.
async fn parked(h: &Harness, client: &reqwest::Client, n: usize) -> bool {
    let url = h.bridge.url(&format!("/openurl?genre=book&title=Book+{n}&isbn=9780838913390"));
    let response = client.get(url).send().await.expect("bridge answers");
    assert_eq!(response.status(), 302, "every patron is still redirected");
    let correlation = response.headers()[CORRELATION_HEADER].to_str().unwrap().to_owned();
    h.store.get_discovery(&correlation, h.clock.now()).await.unwrap().is_some()
}

// One client flooding anonymous links used up the parking budget every patron shared. The budget is now per
// client address: the flooder runs out, another address is parked as before.
#[tokio::test]
async fn one_address_flooding_anonymous_links_does_not_use_up_another_addresss_parking() {
    let h = Harness::start(StoreKind::Embedded).await;
    let budget = bridge::flows::openurl::ANONYMOUS_PARKS_PER_MINUTE as usize;
    // The budget is per clock minute and the test clock follows the wall clock: start at a minute's beginning.
    let into_minute = h.clock.now().as_second().rem_euclid(60) as u64;
    h.clock.advance(Duration::from_secs(60 - into_minute));
    let (flooder, patron) = (client_from("127.0.0.2"), client_from("127.0.0.3"));
    let mut flooded = 0;
    for n in 0..budget + 10 {
        flooded += usize::from(parked(&h, &flooder, n).await);
    }
    assert_eq!(flooded, budget, "the flooding address gets its own budget and no more");
    for n in 0..5 {
        assert!(parked(&h, &patron, n).await, "another address's link is parked");
    }
}
