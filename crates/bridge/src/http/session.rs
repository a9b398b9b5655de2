//! Staff sign-in for the console in a browser. A plain form cannot send an `Authorization: Bearer` header, so
//! staff type a token once on `GET /signin`; `POST /signin` checks it (in constant time, like the bearer
//! header) and answers with a session cookie, and `POST /signout` ends it. The bearer-token API is unchanged:
//! scripts keep sending the header, and a header wins over a cookie.
//!
//! The cookie holds no token: `v1.<kind>.<expiry>.<nonce>.<mac>`, where the MAC is an HMAC-SHA256 keyed by the
//! token that signed in. So a cookie is as good as its token and no better: rotating the token (or deleting
//! its previous value) ends every session signed with it, and the bridge keeps no session state. It is
//! `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it), `Secure` on AWS and
//! behind a TLS proxy, and lasts [`SESSION_HOURS`].
//!
//! Every form a signed-in page shows carries a CSRF token, an HMAC of the session's nonce under the same key;
//! a POST that relies on the cookie must carry it. SameSite alone would do in current browsers; the token
//! keeps older ones and a same-site sibling application out.

use super::auth::StaffCredential;
use super::body::read_capped;
use super::{pages, respond};
use crate::config::{Host, Secret, Settings};
use crate::flows::Bridge;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use hmac::{KeyInit, Mac};
use http::HeaderMap;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "bridge_staff";
/// How long a sign-in lasts: a working day.
pub(crate) const SESSION_HOURS: i64 = 10;
/// The form field every cookie-authenticated POST carries.
pub(crate) const CSRF_FIELD: &str = "csrf";
/// A sign-in form is a token and a path; anything longer is not one.
const FORM_CAP: usize = 4 * 1024;

/// A signed-in browser: which token signed it in, and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Session<'a> {
    /// The read-only status token or the staff token.
    pub credential: StaffCredential<'a>,
    /// What every form of this session carries in [`CSRF_FIELD`].
    pub csrf: String,
}

impl Session<'_> {
    /// Whether the session may re-drive and discard.
    pub fn may_act(&self) -> bool {
        matches!(self.credential, StaffCredential::Staff(_))
    }
}

fn mac(secret: &Secret, parts: &[&str]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(b"alma-relais-bridge staff session v1");
    for part in parts {
        mac.update(b"|");
        mac.update(part.as_bytes());
    }
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn csrf_token(secret: &Secret, nonce: &str) -> String {
    hex(&mac(secret, &["csrf", nonce]))
}

/// The candidate tokens of a cookie's kind: `s` the staff token (and its previous value), `r` the status token.
fn candidates<'a>(settings: &'a Settings, kind: &str) -> [(&'a Secret, StaffCredential<'a>); 2] {
    if kind == "s" {
        [&settings.staff_token, &settings.staff_previous_token].map(|s| (s, StaffCredential::Staff(s)))
    } else {
        [&settings.status_token, &settings.status_previous_token].map(|s| (s, StaffCredential::Status))
    }
}

/// The session the request's cookie proves, if it is one the bridge signed, with a token it still accepts,
/// and not expired.
pub fn session<'a>(headers: &HeaderMap, settings: &'a Settings, now: jiff::Timestamp) -> Option<Session<'a>> {
    let value = cookie(headers, COOKIE)?;
    let mut parts = value.split('.');
    let (Some("v1"), Some(kind @ ("s" | "r")), Some(expiry), Some(nonce), Some(presented), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if expiry.parse::<i64>().ok()? <= now.as_second() {
        return None;
    }
    // Both candidates are computed and compared whatever the first gives.
    let matched = candidates(settings, kind).map(|(secret, credential)| {
        let expected = hex(&mac(secret, &[kind, expiry, nonce]));
        let equal = bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) && !secret.expose().is_empty();
        (equal, secret, credential)
    });
    let (_, secret, credential) = matched.into_iter().find(|(equal, _, _)| *equal)?;
    Some(Session { credential, csrf: csrf_token(secret, nonce) })
}

/// Whether `presented` is the CSRF token of `session`, compared in constant time.
pub fn csrf_matches(session: &Session<'_>, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| bool::from(session.csrf.as_bytes().ct_eq(p.as_bytes())))
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The `Secure` attribute: on AWS (API Gateway is HTTPS only) and behind a proxy that says it took HTTPS.
fn secure(settings: &Settings, headers: &HeaderMap) -> &'static str {
    let https = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p == "https");
    if settings.host == Host::Lambda || https { "; Secure" } else { "" }
}

/// Where to go after signing in: a path on this site, never another site (`//host`) or a scheme.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path,
        _ => "/queue",
    }
}

/// The sign-in page, with `note` above the form when the last try failed.
pub(super) fn sign_in_page(next: &str, note: Option<&'static str>) -> String {
    use pages::el;
    let mut page = pages::page("Staff sign-in").with(el("h1").text("Staff sign-in"));
    if let Some(note) = note {
        page.push(el("p").attr("role", "alert").child(el("strong").text(note)));
    }
    page.push(el("p").text(
        "Sign in with the status token (read only) or the staff token (re-drive and discard). The browser keeps \
         a signed session cookie, never the token.",
    ));
    let form = el("form")
        .attr("method", "post")
        .attr("action", "/signin")
        .child(el("input").attr("type", "hidden").attr("name", "next").attr("value", next))
        .child(el("label").attr("for", "token").text("Token "))
        .child(
            el("input")
                .attr("type", "password")
                .attr("id", "token")
                .attr("name", "token")
                .attr("autocomplete", "current-password")
                .attr("required", "required")
                .attr("autofocus", "autofocus"),
        )
        .text(" ")
        .child(el("button").attr("type", "submit").text("Sign in"));
    page.push(form);
    page.render()
}

/// `GET /signin[?next=/path]`.
pub(super) async fn sign_in_form(uri: http::Uri) -> Response {
    let next = super::status::query_value(&uri, "next");
    pages::staff_html(200, sign_in_page(safe_next(next.as_deref()), None))
}

/// `POST /signin` (a form: `token`, `next`): the session cookie and a redirect to `next`, or the form again.
pub(super) async fn sign_in(State(bridge): State<Arc<Bridge>>, headers: HeaderMap, body: Body) -> Response {
    let Ok(body) = read_capped(&headers, body, FORM_CAP, Duration::from_secs(5)).await else {
        return respond::text(413, "A sign-in form is a token and a path");
    };
    let form = form_fields(&body);
    let next = safe_next(field(&form, "next")).to_owned();
    let token = field(&form, "token").unwrap_or_default();
    // Every token is compared, each in constant time, whichever matches.
    let settings = &bridge.settings;
    let tried = [
        ("s", &settings.staff_token),
        ("s", &settings.staff_previous_token),
        ("r", &settings.status_token),
        ("r", &settings.status_previous_token),
    ]
    .map(|(kind, secret)| (kind, secret, secret.matches(token)));
    let Some((kind, secret, _)) = tried.into_iter().find(|(_, _, matched)| *matched) else {
        tracing::info!("staff sign-in refused: not a staff or status token");
        return pages::staff_html(401, sign_in_page(&next, Some("That token was not accepted.")));
    };
    let expiry = (bridge.clock.now().as_second() + SESSION_HOURS * 3600).to_string();
    let nonce = hex(&rand::random::<[u8; 16]>());
    let value = format!("v1.{kind}.{expiry}.{nonce}.{}", hex(&mac(secret, &[kind, &expiry, &nonce])));
    let cookie = format!(
        "{COOKIE}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
        SESSION_HOURS * 3600,
        secure(&bridge.settings, &headers)
    );
    see_other(&next, Some(&cookie))
}

/// `POST /signout` (a form carrying the CSRF token): the cookie is cleared and the sign-in page shown.
pub(super) async fn sign_out(State(bridge): State<Arc<Bridge>>, headers: HeaderMap, body: Body) -> Response {
    let Ok(body) = read_capped(&headers, body, FORM_CAP, Duration::from_secs(5)).await else {
        return respond::text(413, "A sign-out form carries one field");
    };
    let form = form_fields(&body);
    if let Some(session) = session(&headers, &bridge.settings, bridge.clock.now())
        && !csrf_matches(&session, field(&form, CSRF_FIELD))
    {
        return respond::text(403, "The form did not come from this console; sign out from its own button");
    }
    let cookie =
        format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}", secure(&bridge.settings, &headers));
    see_other("/signin", Some(&cookie))
}

/// A 303 to `location` (a path on this site), setting `cookie` when given.
pub(super) fn see_other(location: &str, cookie: Option<&str>) -> Response {
    let mut answer = Response::builder()
        .status(303)
        .header("Location", location)
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer");
    if let Some(cookie) = cookie {
        answer = answer.header("Set-Cookie", cookie);
    }
    answer.body(Body::empty()).unwrap_or_else(|_| respond::text(500, "The redirect could not be sent"))
}

/// The fields of an `application/x-www-form-urlencoded` body.
pub(super) fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The first value of `name` in a form.
pub(super) fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Whether the request's body is a browser form rather than the API's JSON.
pub(super) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let env = crate::config::Env::from_pairs([
            ("STATUS_TOKEN", "status-token-0123456789"),
            ("STAFF_ACTION_TOKEN", "staff-token-0123456789"),
            ("STAFF_ACTION_TOKEN_PREVIOUS", "old-staff-token-0123456789"),
        ]);
        Settings::from_env(&env, Host::Local).unwrap()
    }

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::COOKIE, format!("other=1; {COOKIE}={value}").parse().unwrap());
        headers
    }

    fn signed(secret: &Secret, kind: &str, expiry: i64) -> String {
        let expiry = expiry.to_string();
        format!("v1.{kind}.{expiry}.abcd.{}", hex(&mac(secret, &[kind, &expiry, "abcd"])))
    }

    #[test]
    fn a_cookie_is_good_while_its_token_is_accepted_and_it_has_not_expired() {
        let settings = settings();
        let now = jiff::Timestamp::from_second(1_000).unwrap();
        let staff = signed(&settings.staff_token, "s", 2_000);
        let found = session(&with_cookie(&staff), &settings, now).expect("a staff session");
        assert!(found.may_act());
        assert!(csrf_matches(&found, Some(&found.csrf.clone())));
        assert!(!csrf_matches(&found, Some("0000")));
        assert!(!csrf_matches(&found, None));
        // Signed with the previous staff token during a rotation: still good.
        let old = signed(&settings.staff_previous_token, "s", 2_000);
        assert!(session(&with_cookie(&old), &settings, now).is_some());
        // The status token signs read-only sessions.
        let read = signed(&settings.status_token, "r", 2_000);
        assert!(!session(&with_cookie(&read), &settings, now).unwrap().may_act());
        // A status-token cookie relabelled as a staff one fails its MAC.
        assert!(session(&with_cookie(&read.replacen(".r.", ".s.", 1)), &settings, now).is_none());
        // Expired, tampered, or signed with a token the bridge does not hold.
        let later = jiff::Timestamp::from_second(2_000).unwrap();
        assert!(session(&with_cookie(&staff), &settings, later).is_none());
        assert!(session(&with_cookie(&staff.replace(".2000.", ".9000.")), &settings, now).is_none());
        let stranger = signed(&Secret::new("someone-elses-token"), "s", 2_000);
        assert!(session(&with_cookie(&stranger), &settings, now).is_none());
        assert!(session(&HeaderMap::new(), &settings, now).is_none());
    }

    #[test]
    fn after_signing_in_the_browser_goes_only_to_a_path_on_this_site() {
        assert_eq!(safe_next(Some("/requests/RL-1")), "/requests/RL-1");
        assert_eq!(safe_next(Some("//evil.example/")), "/queue");
        assert_eq!(safe_next(Some("https://evil.example/")), "/queue");
        assert_eq!(safe_next(Some("/\\evil.example")), "/queue");
        assert_eq!(safe_next(None), "/queue");
    }
}
