//! A small W3C WebDriver client for the browser tests: Debian's `chromedriver` started on a loopback port,
//! driving Debian's headless Chromium, spoken to as plain WebDriver JSON over HTTP (reqwest). Enough to sign
//! in, follow links, fill and submit forms, read what the page shows, take screenshots and read the browser's
//! console; nothing a test does not need.
//!
//! A missing `chromedriver` or `chromium` fails the test with the command that installs it (`./scripts/test`
//! does): a browser test that skips itself would pass without having looked at a page.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The key W3C WebDriver names a found element by.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Debian's Chromium, the browser the tests drive.
pub fn chromium() -> PathBuf {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(PathBuf::from).find(|path| path.exists()).expect(
        "Debian's chromium is needed for the browser tests; ./scripts/test installs it (apt-get install chromium)",
    )
}

/// Debian's chromedriver, the WebDriver server for that Chromium.
pub fn chromedriver() -> PathBuf {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect(
            "Debian's chromedriver is needed for the browser tests; ./scripts/test installs it \
         (apt-get install chromium-driver)",
        )
}

/// A chromedriver process on a loopback port, killed when dropped.
pub struct Driver {
    child: std::process::Child,
    url: String,
    http: reqwest::Client,
}

impl Driver {
    /// Starts chromedriver and waits (up to 20 s) until it says it is ready.
    pub async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let status = http.get(format!("{url}/status")).send().await;
            if let Ok(answer) = status
                && let Ok(body) = answer.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "chromedriver did not become ready within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, url, http }
    }

    /// Opens a headless Chromium session (a fresh profile: no cookies), with the browser's console kept for
    /// [`Session::console_errors`].
    pub async fn session(&self) -> Session {
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium(),
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--window-size=1280,1024", "--no-first-run", "--disable-extensions"],
                },
                "goog:loggingPrefs": { "browser": "ALL" },
            }}
        });
        let answer = command(&self.http, reqwest::Method::POST, &format!("{}/session", self.url), Some(capabilities))
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"));
        let id = answer["sessionId"].as_str().expect("a session id").to_owned();
        Session { http: self.http.clone(), base: format!("{}/session/{id}", self.url) }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window. Close it with [`Session::close`] (a dropped session's Chromium ends with its driver).
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// An element found on the page.
#[derive(Debug, Clone)]
pub struct ElementRef(String);

/// What one WebDriver command answered: its `value`, or the error WebDriver named.
async fn command(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.map_err(|e| format!("chromedriver unreachable: {e}"))?;
    let status = answer.status();
    let body: Value = answer.json().await.map_err(|e| format!("chromedriver answered no JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!("{}: {}", body["value"]["error"], body["value"]["message"]));
    }
    Ok(body["value"].clone())
}

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        command(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await.unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Loads `url` and waits for the page.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The address the window shows now.
    pub async fn current_url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or_default().to_owned()
    }

    /// The page's title.
    pub async fn title(&self) -> String {
        self.get("/title").await.as_str().unwrap_or_default().to_owned()
    }

    /// The page's markup as the browser holds it now.
    pub async fn source(&self) -> String {
        self.get("/source").await.as_str().unwrap_or_default().to_owned()
    }

    /// The first element matching the CSS `selector`, if any.
    pub async fn find(&self, selector: &str) -> Option<ElementRef> {
        let found = match self.call(reqwest::Method::POST, "/element", Some(css(selector))).await {
            Ok(found) => found,
            Err(e) if e.contains("no such element") => return None,
            Err(e) => panic!("finding `{selector}`: {e}"),
        };
        found[ELEMENT_KEY].as_str().map(|id| ElementRef(id.to_owned()))
    }

    /// The first element matching `selector`; panics (naming it and the page) when there is none.
    pub async fn expect(&self, selector: &str) -> ElementRef {
        match self.find(selector).await {
            Some(element) => element,
            None => panic!("no `{selector}` on {}:\n{}", self.current_url().await, self.source().await),
        }
    }

    /// Every element matching `selector`.
    pub async fn find_all(&self, selector: &str) -> Vec<ElementRef> {
        let found = self.post("/elements", css(selector)).await;
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| ElementRef(id.to_owned())))
            .collect()
    }

    /// Clicks `element` (a link or a button: the page it leads to is loaded when this returns).
    pub async fn click(&self, element: &ElementRef) {
        self.post(&format!("/element/{}/click", element.0), json!({})).await;
    }

    /// Clicks `element` (a link or a submit button) and waits (up to 20 s) until the page it leads to has
    /// replaced the current one: WebDriver's click does not always wait for a form's navigation.
    pub async fn click_and_load(&self, element: &ElementRef) {
        let before = self.expect("html").await;
        self.click(element).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(now) = self.find("html").await
                && now.0 != before.0
            {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "no new page within 20 s of the click");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into `element`, as a keyboard would.
    pub async fn type_into(&self, element: &ElementRef, text: &str) {
        self.post(&format!("/element/{}/value", element.0), json!({ "text": text })).await;
    }

    /// The text `element` shows.
    pub async fn text(&self, element: &ElementRef) -> String {
        self.get(&format!("/element/{}/text", element.0)).await.as_str().unwrap_or_default().to_owned()
    }

    /// The text `element` shows, or `None` when it is gone: a navigation under way replaced its page between
    /// finding it and reading it (WebDriver's "stale element reference").
    pub async fn text_unless_gone(&self, element: &ElementRef) -> Option<String> {
        let path = format!("/element/{}/text", element.0);
        match self.call(reqwest::Method::GET, &path, None).await {
            Ok(text) => Some(text.as_str().unwrap_or_default().to_owned()),
            Err(e) if e.contains("stale element reference") => None,
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// An attribute (or property) of `element`.
    pub async fn attribute(&self, element: &ElementRef, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", element.0)).await.as_str().map(str::to_owned)
    }

    /// Whether `element` (a check box, a radio button, an option) is selected.
    pub async fn is_selected(&self, element: &ElementRef) -> bool {
        self.get(&format!("/element/{}/selected", element.0)).await == json!(true)
    }

    /// The text of the whole page's body.
    pub async fn body_text(&self) -> String {
        let body = self.expect("body").await;
        self.text(&body).await
    }

    /// A PNG of the window, written to `path` (its folder created).
    pub async fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let encoded = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD.decode(encoded.as_str().unwrap_or_default()).unwrap();
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// The browser console's entries at level SEVERE since the last call (script errors, refused loads,
    /// Content-Security-Policy violations), as chromedriver's log endpoint gives them.
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self.post("/se/log", json!({ "type": "browser" })).await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == json!("SEVERE"))
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Ends the session and its Chromium.
    pub async fn close(self) {
        let _ = self.call(reqwest::Method::DELETE, "", None).await;
    }
}

fn css(selector: &str) -> Value {
    json!({ "using": "css selector", "value": selector })
}

/// Where a browser test's screenshots go: `target/browser-screenshots/<test>/` under the workspace's target
/// folder (`CARGO_TARGET_DIR` when set).
pub fn screenshot_dir(test: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("browser-screenshots").join(test)
}
