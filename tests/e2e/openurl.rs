//! `GET /openurl` over real HTTP: what a patron's browser gets for Primo's ILL links, what the store keeps,
//! and, in headless Chromium, that the browser really lands on the Relais form.

use crate::support::{Harness, StoreKind};
use bridge::clock::Clock;
use bridge::http::CORRELATION_HEADER;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FORM: &str = "https://relais.example.org/user/login.html?group=patron&LS=DEMO&dest=discovery";

/// A client that shows redirects instead of following them, as a test of the redirect itself must.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get(h: &Harness, query: &str) -> reqwest::Response {
    no_redirects().get(h.bridge.url(&format!("/openurl?{query}"))).send().await.expect("bridge answers")
}

#[tokio::test]
async fn a_primo_book_link_redirects_to_the_prefilled_form_and_parks_the_citation() {
    let h = Harness::start(StoreKind::Embedded).await;
    // Primo's shape: empty keys, ISBD punctuation and a relator term, a copyright-sign date.
    let query = "ctx_ver=Z39.88-2004&ctx_enc=info:ofi/enc:UTF-8&rfr_id=info:sid/primo.exlibrisgroup.com\
&rft_val_fmt=info:ofi/fmt:kev:mtx:book&rft.genre=book&rft.btitle=A+thin+bright+line+%2F&rft.title=\
&rft.au=Bledsoe,+Lucy+Jane,+author.&rft.isbn=9780299307707&rft.date=%C2%A92016&rft.pub=&rft.volume=";
    let response = get(&h, query).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(
        response.headers()["location"],
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=A%20thin%20bright%20line&rft.btitle=A%20thin%20bright%20line\
&rft.au=Bledsoe%2C%20Lucy%20Jane&rft.aulast=Bledsoe&rft.aufirst=Lucy%20Jane&rft.isbn=9780299307707&rft.date=2016"
        )
        .as_str()
    );

    // Staff can match the Relais request to the discovery session through the parked citation.
    let correlation = response.headers()[CORRELATION_HEADER].to_str().unwrap().to_owned();
    let parked = h.store.get_discovery(&correlation, h.clock.now()).await.unwrap().expect("citation parked");
    assert_eq!(parked["book_title"], "A thin bright line");
    assert_eq!(parked["year"], 2016);
}

// Every anonymous link used to park a citation of about 7 KB, one store write per request
// without bound. Anonymous citations are now parked within a per-minute budget; the redirect is unchanged.
#[tokio::test]
async fn anonymous_links_park_citations_only_within_the_budget() {
    let h = Harness::start(StoreKind::Embedded).await;
    let budget = bridge::flows::openurl::ANONYMOUS_PARKS_PER_MINUTE as usize;
    // The budget is per clock minute and the test clock follows the wall clock: start at a minute's beginning, so
    // that the few seconds the links take never straddle two minutes (two budgets).
    let into_minute = h.clock.now().as_second().rem_euclid(60) as u64;
    h.clock.advance(Duration::from_secs(60 - into_minute));
    let mut parked = 0;
    for i in 0..budget + 10 {
        let response = get(&h, &format!("genre=book&title=Book+{i}&isbn=9780838913390")).await;
        assert_eq!(response.status(), 302, "every patron is still redirected");
        let correlation = response.headers()[CORRELATION_HEADER].to_str().unwrap().to_owned();
        parked += usize::from(h.store.get_discovery(&correlation, h.clock.now()).await.unwrap().is_some());
    }
    assert_eq!(parked, budget, "no more than the budget in one minute");
}

#[tokio::test]
async fn control_tags_in_the_link_never_reach_relais() {
    let h = Harness::start(StoreKind::Embedded).await;
    let query = "genre=article&atitle=Safe+title&title=Journal+of+Tests&issn=0028-0836\
&PI=21000000002&group=staff&LS=OTHER&dest=admin&base64PI=true&aid=1&UL=x&reqno=9";
    let response = get(&h, query).await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(FORM), "scheme, host and path come from configuration: {location}");
    for forbidden in ["PI=", "group=staff", "LS=OTHER", "dest=admin", "base64PI", "aid=", "UL=", "reqno="] {
        assert!(!location.contains(forbidden), "{forbidden} leaked into {location}");
    }
    assert!(location.contains("rft.atitle=Safe%20title") && location.contains("rft.issn=0028-0836"), "{location}");
}

#[tokio::test]
async fn a_link_that_cannot_be_used_gets_a_readable_400_page_with_values_escaped() {
    let h = Harness::start(StoreKind::Embedded).await;
    for (query, says) in [
        ("sid=primo&rft.genre=book", "names no title and no identifier"),
        ("title=%ZZbroken", "percent"),
        ("title=A%0D%0ALocation:%20https://evil.example", "line break"),
        ("title=%3Cscript%3Ealert(1)%3C/script%3E%0A", "&quot;title&quot;"),
    ] {
        let response = get(&h, query).await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
        let page = response.text().await.unwrap();
        assert!(page.contains(says), "{query}: {page}");
        assert!(!page.contains("<script"), "{page}");
    }
    let response = get(&h, &format!("title={}", "x".repeat(9 * 1024))).await;
    assert_eq!(response.status(), 400, "a query string over 8 KiB is refused");
}

/// A stand-in for the Relais web server on loopback: answers every request with a page naming the request
/// target it received, and records the targets.
fn start_relais_stand_in() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Drain the headers so the browser sees a well-behaved server.
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let target = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
            record.lock().unwrap().push(target.clone());
            let escaped = target.replace('&', "&amp;").replace('<', "&lt;");
            let body = format!("<!DOCTYPE html><html><body><p id=\"arrived\">{escaped}</p></body></html>");
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

fn chromium() -> String {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
        .expect("Debian's chromium is needed for this test; ./scripts/test installs it (apt-get install chromium)")
}

#[tokio::test]
async fn a_browser_following_a_primo_link_arrives_at_the_relais_form() {
    let (relais_port, seen) = start_relais_stand_in();
    let form_url = format!("http://127.0.0.1:{relais_port}/user/login.html");
    let h = Harness::start_with(
        StoreKind::Embedded,
        &[("RELAIS_FORM_URL", &form_url), ("RELAIS_LIBRARY_SYMBOL", "TESTU")],
        |store| store,
    )
    .await;
    let link = h.bridge.url(
        "/openurl?ctx_ver=Z39.88-2004&rft.genre=article&rft.atitle=Fish+%26+chips+%3D+%23lunch&rft.jtitle=Food\
&rft.issn=0028-0836&rft.date=1979-10-01&rft.spage=5&rft.epage=9&PI=someone",
    );
    let profile = tempfile::tempdir().unwrap();
    let browser = chromium();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--virtual-time-budget=5000",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--dump-dom")
            .arg(link)
            .output()
            .expect("chromium runs")
    });
    let output = tokio::time::timeout(Duration::from_secs(60), output).await.expect("chromium finishes").unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    let expected = "/user/login.html?group=patron&LS=TESTU&dest=discovery&genre=article&rft.genre=article\
&rft.title=Food&rft.atitle=Fish%20%26%20chips%20%3D%20%23lunch&rft.jtitle=Food&rft.issn=0028-0836\
&rft.spage=5&rft.epage=9&rft.pages=5-9&rft.date=1979";
    assert!(
        dom.contains(&expected.replace('&', "&amp;")),
        "the browser shows the Relais form's page for {expected}: {dom}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.iter().filter(|t| t.starts_with("/user/login.html")).count(), 1, "{seen:?}");
}
