//! A browser's part in the sign-in, over plain HTTP: it follows one redirect at a time (so each hop can be
//! looked at) and keeps cookies as a browser does (RFC 6265: by name, sent only under their `Path`, removed
//! by `Max-Age=0`), so the test sees exactly what a patron's browser would carry.

use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Cookie {
    pub value: String,
    pub path: String,
    /// The whole `Set-Cookie` line last received for it, for checks on its attributes.
    pub line: String,
}

pub struct Browser {
    client: reqwest::Client,
    /// By host and name.
    pub cookies: BTreeMap<(String, String), Cookie>,
}

impl Default for Browser {
    fn default() -> Self {
        Browser {
            client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: BTreeMap::new(),
        }
    }
}

impl Browser {
    /// One GET, with the cookies due to `url`; the answer's cookies are kept.
    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let parsed = url::Url::parse(url).expect("an absolute URL");
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let due: Vec<String> = self
            .cookies
            .iter()
            .filter(|((h, _), c)| *h == host && path_matches(parsed.path(), &c.path))
            .map(|((_, name), c)| format!("{name}={}", c.value))
            .collect();
        let mut request = self.client.get(url);
        if !due.is_empty() {
            request = request.header("cookie", due.join("; "));
        }
        let response = request.send().await.expect("the server answers");
        self.keep(&host, &response);
        response
    }

    /// A form POST (the provider's login page), with the cookies due.
    pub async fn post_form(&mut self, url: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let parsed = url::Url::parse(url).expect("an absolute URL");
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let due: Vec<String> = self
            .cookies
            .iter()
            .filter(|((h, _), c)| *h == host && path_matches(parsed.path(), &c.path))
            .map(|((_, name), c)| format!("{name}={}", c.value))
            .collect();
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut request = self.client.post(url).header("content-type", "application/x-www-form-urlencoded").body(body);
        if !due.is_empty() {
            request = request.header("cookie", due.join("; "));
        }
        let response = request.send().await.expect("the server answers");
        self.keep(&host, &response);
        response
    }

    fn keep(&mut self, host: &str, response: &reqwest::Response) {
        let default_path = {
            let path = response.url().path();
            path.rsplit_once('/').map_or("/", |(dir, _)| if dir.is_empty() { "/" } else { dir }).to_owned()
        };
        for line in response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let mut parts = line.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
            let mut path = default_path.clone();
            let mut removed = false;
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                match key.to_ascii_lowercase().as_str() {
                    "path" => path = val.to_owned(),
                    "max-age" => removed = val.trim() == "0",
                    "expires" => removed |= val.contains("1970"),
                    _ => {}
                }
            }
            let key = (host.to_owned(), name.to_owned());
            if removed || value.is_empty() {
                self.cookies.remove(&key);
            } else {
                self.cookies.insert(key, Cookie { value: value.to_owned(), path, line: line.to_owned() });
            }
        }
    }

    /// The cookie `name` for `host`, if the browser holds it.
    pub fn cookie(&self, host: &str, name: &str) -> Option<&Cookie> {
        self.cookies.get(&(host.to_owned(), name.to_owned()))
    }
}

/// RFC 6265 §5.1.4.
fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie) && (cookie.ends_with('/') || request[cookie.len()..].starts_with('/')))
}

/// The `Location` of a redirect, made absolute against the request's URL.
pub fn location(response: &reqwest::Response) -> String {
    assert!(response.status().is_redirection(), "a redirect, not {} from {}", response.status(), response.url());
    let target = response.headers()["location"].to_str().expect("an ASCII Location");
    response.url().join(target).expect("a Location relative to the request").to_string()
}
