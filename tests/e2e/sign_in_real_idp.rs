//! The whole sign-in against a real OpenID Provider: node-oidc-provider (npm's `oidc-provider`, an OpenID
//! Certified implementation, installed in `tests/oidc-provider/` by `npm ci` in `scripts/test`), started here
//! on loopback with test patrons whose addresses are the simulator's. Everything goes over real HTTP: the
//! link, the provider's login and consent pages (submitted as a browser submits their forms), the callback,
//! and the redirect to the Relais form, whose `base64PI` is decrypted by a second implementation; and once
//! more in headless Chromium (the WebDriver client of `support::webdriver`), pages and all.

use crate::sign_in::{
    COOKIE_SECRET, LINK, RELAIS_PUBLIC, assert_within_relais_window, citation_of, free_port, relais_patron,
};
use crate::support::browser::{Browser, location};
use crate::support::{Harness, StoreKind};
use bridge::flows::sign_in::SESSION_COOKIE;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

const CLIENT_ID: &str = "alma-relais-bridge";
const CLIENT_SECRET: &str = "node-oidc-provider-test-secret-0123";
const FORM: &str = "https://relais.example.org/user/login.html?group=patron&LS=DEMO";

/// A running node-oidc-provider; stopped when dropped.
pub struct RealIdp {
    pub issuer: String,
    process: std::process::Child,
}

impl Drop for RealIdp {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl RealIdp {
    /// Starts the provider for a client whose callback is `redirect_uri`, with the simulator's patrons
    /// `patron1`, `faculty1` and `blocked1` as its accounts (login = the Alma primary id).
    pub async fn start(redirect_uri: &str) -> RealIdp {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "node-oidc-provider is not installed: run `npm ci` in tests/oidc-provider (scripts/test does)"
        );
        let port = free_port();
        let accounts = serde_json::json!({
            "patron1": { "email": "patron1@demo.example.edu", "email_verified": true },
            "faculty1": { "email": "faculty1@demo.example.edu", "email_verified": true },
            "blocked1": { "email": "blocked1@demo.example.edu", "email_verified": true },
        });
        let mut process = std::process::Command::new("node")
            .arg("provider.js")
            .current_dir(&dir)
            .env("IDP_PORT", port.to_string())
            .env("IDP_REDIRECT_URI", redirect_uri)
            .env("IDP_CLIENT_ID", CLIENT_ID)
            .env("IDP_CLIENT_SECRET", CLIENT_SECRET)
            .env("IDP_ACCOUNTS", accounts.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (Debian's nodejs; scripts/test installs it)");
        let stdout = process.stdout.take().unwrap();
        // Its output is read to the end: a provider writing to a closed pipe would stop.
        let (first_line, ready) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first_line.send(lines.next().and_then(Result::ok).unwrap_or_default());
            lines.for_each(drop);
        });
        let ready = tokio::time::timeout(std::time::Duration::from_secs(30), ready)
            .await
            .expect("the provider starts within 30 s")
            .expect("its output");
        let issuer =
            ready.trim().strip_prefix("ready ").unwrap_or_else(|| panic!("ready <issuer>: {ready}")).to_owned();
        RealIdp { issuer, process }
    }
}

/// The bridge signing patrons in at `idp`, its callback on `port`, with `extra` settings (later ones win).
pub async fn bridge_for(idp: &RealIdp, port: u16, extra: &[(&str, &str)]) -> Harness {
    let callback = format!("http://127.0.0.1:{port}/openurl/callback");
    let listen = format!("127.0.0.1:{port}");
    let mut env = vec![
        ("BRIDGE_LISTEN", listen.as_str()),
        ("PATRON_IDENTITY", "oidc"),
        ("OIDC_ISSUER", idp.issuer.as_str()),
        ("OIDC_CLIENT_ID", CLIENT_ID),
        ("OIDC_CLIENT_SECRET", CLIENT_SECRET),
        ("OIDC_REDIRECT_URL", callback.as_str()),
        ("RELAIS_PUBLIC_KEY", RELAIS_PUBLIC),
        ("SIGN_IN_COOKIE_SECRET", COOKIE_SECRET),
    ];
    env.extend_from_slice(extra);
    Harness::start_with(StoreKind::Embedded, &env, |store| store).await
}

/// The `action` of the page's form.
fn form_action(page: &str) -> String {
    let at = page.find("action=\"").expect("a form on the provider's page") + "action=\"".len();
    page[at..].split('"').next().unwrap().replace("&amp;", "&")
}

/// From the link to the Relais form: redirects followed one by one, the provider's login form submitted as
/// `login`, its consent form confirmed. Returns the Relais form's URL and the pages the browser saw.
pub async fn sign_in(browser: &mut Browser, link: &str, login: &str) -> (reqwest::Response, Vec<String>) {
    let mut response = browser.get(link).await;
    let mut pages = Vec::new();
    for _ in 0..12 {
        if response.status().is_redirection() {
            let next = location(&response);
            if next.starts_with("https://relais.example.org") {
                return (response, pages);
            }
            response = browser.get(&next).await;
            continue;
        }
        if response.status() != 200 {
            return (response, pages);
        }
        let at = response.url().clone();
        let page = response.text().await.unwrap();
        let action = at.join(&form_action(&page)).unwrap().to_string();
        pages.push(page.clone());
        response = if page.contains("name=\"login\"") {
            browser.post_form(&action, &[("prompt", "login"), ("login", login), ("password", "any password")]).await
        } else {
            assert!(page.contains("value=\"consent\""), "the login or the consent page: {page}");
            browser.post_form(&action, &[("prompt", "consent")]).await
        };
    }
    panic!("the sign-in did not end within 12 steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patron_signs_in_at_a_real_provider_and_reaches_relais_with_an_encrypted_id() {
    let port = free_port();
    let idp = RealIdp::start(&format!("http://127.0.0.1:{port}/openurl/callback")).await;
    let h = bridge_for(&idp, port, &[]).await;
    let mut browser = Browser::default();
    let (relais, pages) = sign_in(&mut browser, &h.bridge.url(&format!("/openurl?{LINK}")), "patron1").await;
    assert_eq!(relais.status(), 302, "the bridge's last answer");
    let form = location(&relais);
    assert!(form.starts_with(FORM), "{form}");
    assert!(pages.iter().any(|p| p.contains("name=\"login\"")), "the provider's own login page was shown");
    let (patron, time) = relais_patron(&form);
    assert_eq!(patron, "21000000001", "patron1 as LookupUser's Primary Key names them (the RELAIS partner's barcode)");
    assert_within_relais_window(&time);
    // The citation survived the round trip: as an anonymous link's form carries it from a bridge without it.
    let plain = Harness::start(StoreKind::Embedded).await;
    let anonymous = Browser::default().get(&plain.bridge.url(&format!("/openurl?{LINK}"))).await;
    assert_eq!(citation_of(&form), citation_of(&location(&anonymous)));
    assert!(browser.cookie("127.0.0.1", SESSION_COOKIE).is_some(), "a session");

    // The provider's session is the provider's; the bridge's own ends with sign-out.
    let again = browser.get(&h.bridge.url("/openurl?genre=book&title=Another&isbn=9780838913390")).await;
    assert!(location(&again).starts_with(FORM), "the second link goes straight to Relais");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_patron_signed_in_at_a_real_provider_gets_a_page_and_no_form() {
    let port = free_port();
    let idp = RealIdp::start(&format!("http://127.0.0.1:{port}/openurl/callback")).await;
    let h = bridge_for(&idp, port, &[]).await;
    let mut browser = Browser::default();
    let (answer, _) = sign_in(&mut browser, &h.bridge.url(&format!("/openurl?{LINK}")), "blocked1").await;
    assert_eq!(answer.status(), 403);
    assert!(answer.text().await.unwrap().contains("not active, or has a block"));
    assert!(browser.cookie("127.0.0.1", SESSION_COOKIE).is_none());
}

/// A stand-in for the Relais request form on loopback: a plain page, and the URL each request came with.
async fn relais_form() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/user/login.html", listener.local_addr().unwrap());
    let record = std::sync::Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/user/login.html",
        axum::routing::get(move |uri: axum::http::Uri| {
            let record = std::sync::Arc::clone(&record);
            async move {
                record.lock().unwrap().push(uri.to_string());
                axum::response::Html(
                    "<!DOCTYPE html><html><head><title>Relais request form</title>\
                    <link rel=\"icon\" href=\"data:,\"></head><body><h1>Request form</h1></body></html>",
                )
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_follows_the_whole_sign_in_from_a_primo_link_to_the_relais_form() {
    use crate::support::webdriver::{Driver, screenshot_dir};
    let (form_url, seen) = relais_form().await;
    let port = free_port();
    let idp = RealIdp::start(&format!("http://127.0.0.1:{port}/openurl/callback")).await;
    let h = bridge_for(&idp, port, &[("RELAIS_FORM_URL", form_url.as_str()), ("RELAIS_LIBRARY_SYMBOL", "DEMO")]).await;
    let driver = Driver::start().await;
    let browser = driver.session().await;
    let shots = screenshot_dir("sign_in");

    // Primo's link: the bridge sends the browser to the provider's login page.
    browser.goto(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    assert!(browser.current_url().await.starts_with(&idp.issuer), "at the provider: {}", browser.current_url().await);
    browser.screenshot(&shots.join("1-login.png")).await;
    let login = browser.expect("input[name=login]").await;
    browser.type_into(&login, "patron1").await;
    let password = browser.expect("input[name=password]").await;
    browser.type_into(&password, "any password").await;
    browser.click(&browser.expect("button[type=submit]").await).await;
    // The provider asks the patron to let the library's service know who they are.
    wait_for(&browser, "the consent page", |url, text| !url.is_empty() && text.contains("Authorize")).await;
    browser.screenshot(&shots.join("2-consent.png")).await;
    browser.click(&browser.expect("button[type=submit]").await).await;

    // Back through the bridge's callback to the Relais form.
    wait_for(&browser, "the Relais form", |url, _| url.starts_with(&form_url)).await;
    let landed = browser.current_url().await;
    browser.screenshot(&shots.join("3-relais.png")).await;
    assert!(landed.starts_with(&form_url), "on the Relais form: {landed}");
    assert_eq!(browser.title().await, "Relais request form");
    let requested = seen.lock().unwrap().last().cloned().expect("the form was requested");
    let full = format!("{}{}", form_url.trim_end_matches("/user/login.html"), requested);
    let (patron, time) = relais_patron(&full);
    assert_eq!(patron, "21000000001");
    assert_within_relais_window(&time);
    assert!(full.contains("atitle=On%20fish") || full.contains("rft.atitle=On%20fish"), "the citation: {full}");

    // No script error on any page of the way. The provider's development pages have no favicon and import a web
    // font from the internet, which a test machine may not reach: neither failed load is a script error.
    let errors: Vec<String> = browser
        .console_errors()
        .await
        .into_iter()
        .filter(|e| {
            let refused_load = e.contains("Failed to load resource");
            !(refused_load && (e.contains("/favicon.ico ") || e.contains("fonts.googleapis.com")))
        })
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await;
}

/// Waits (up to 15 s) until the window's URL and body text satisfy `done`: a click's navigation may still be
/// under way when WebDriver answers.
async fn wait_for(browser: &crate::support::webdriver::Session, what: &str, done: impl Fn(&str, &str) -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let url = browser.current_url().await;
        // The page may be replaced between finding its body and reading it: then it is read again next time.
        let text = match browser.find("body").await {
            Some(body) => browser.text_unless_gone(&body).await.unwrap_or_default(),
            None => String::new(),
        };
        if done(&url, &text) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} did not come within 15 s: {url}\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
