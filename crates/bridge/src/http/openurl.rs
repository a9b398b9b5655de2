//! `GET /openurl`: a patron's ILL link becomes a 302 to the Relais request form ([`crate::flows::openurl`]);
//! with `PATRON_IDENTITY=oidc`, also the sign-in's callback and sign-out ([`crate::flows::sign_in`]).

use super::{auth, pages, respond};
use crate::flows::Bridge;
use crate::flows::openurl::{self as flow, Handoff};
use crate::flows::sign_in::{SESSION_COOKIE, SIGN_IN_COOKIE, SIGN_IN_WINDOW, SetCookie};
use crate::openurl;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Uri};
use std::sync::Arc;

/// The response header naming the correlation id of a redirect (the key of the parked citation), so a
/// support desk can find it from a browser trace.
pub const CORRELATION_HEADER: &str = "x-bridge-correlation-id";

pub(super) async fn hand_off(
    State(bridge): State<Arc<Bridge>>,
    uri: Uri,
    headers: HeaderMap,
    extensions: http::Extensions,
) -> Response {
    let client = super::client::ClientAddress::of(&extensions).map(|c| c.0);
    // The raw query, not a parsed map: API Gateway joins repeated keys with commas, and the codec reads
    // repeated keys itself.
    let raw_query = uri.query().unwrap_or("");
    let session = cookie(&headers, SESSION_COOKIE);
    let answer = flow::hand_off(&bridge, raw_query, auth::bearer(&headers), client, session).await;
    respond_with(&bridge, answer)
}

/// `GET /openurl/callback`: the identity provider sends the patron back here with a code.
pub(super) async fn callback(
    State(bridge): State<Arc<Bridge>>,
    uri: Uri,
    headers: HeaderMap,
    extensions: http::Extensions,
) -> Response {
    if bridge.identity.as_ref().and_then(|i| i.sign_in()).is_none() {
        return not_signing_in();
    }
    let client = super::client::ClientAddress::of(&extensions).map(|c| c.0);
    let answer = flow::signed_in(&bridge, uri.query().unwrap_or(""), cookie(&headers, SIGN_IN_COOKIE), client).await;
    respond_with(&bridge, answer)
}

/// `GET /openurl/sign-out`: ends the session (the next link signs in again).
pub(super) async fn sign_out(State(bridge): State<Arc<Bridge>>) -> Response {
    let mut response = respond::html(200, openurl::signed_out_page());
    set_cookies(&bridge, &mut response, &[SetCookie::ClearSession, SetCookie::ClearSignIn]);
    response
}

/// The callback of a bridge that signs no one in (`PATRON_IDENTITY` is not `oidc`).
fn not_signing_in() -> Response {
    let page = pages::page("Not configured")
        .with(pages::el("h1").text("Sign-in is not set up"))
        .with(pages::el("p").text("This library's request links do not sign patrons in here (PATRON_IDENTITY)."));
    respond::html(501, page.render())
}

fn respond_with(bridge: &Bridge, answer: Handoff) -> Response {
    match answer {
        Handoff::Redirect { location, correlation_id, cookies } => {
            let mut response = respond::redirect(&location);
            if let Ok(value) = HeaderValue::from_str(&correlation_id) {
                response.headers_mut().insert(CORRELATION_HEADER, value);
            }
            set_cookies(bridge, &mut response, &cookies);
            response
        }
        Handoff::SignInStarted { location, cookies } => {
            let mut response = respond::redirect(&location);
            set_cookies(bridge, &mut response, &cookies);
            response
        }
        Handoff::SignInFailed { cookies } => {
            let mut response = respond::html(400, openurl::sign_in_failed_page());
            set_cookies(bridge, &mut response, &cookies);
            response
        }
        Handoff::SignInUnavailable => {
            let mut response = respond::html(503, openurl::patron_unconfirmed_page());
            response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static("60"));
            response
        }
        Handoff::PatronRefused { reason, cookies } => {
            let mut response = respond::html(403, openurl::patron_refused_page(reason));
            set_cookies(bridge, &mut response, &cookies);
            response
        }
        Handoff::NotConfigured => {
            let page = pages::page("Not configured")
                .with(pages::el("h1").text("ILL requests are not set up yet"))
                .with(pages::el("p").text(
                    "The library has not configured its Relais request form (RELAIS_FORM_URL and \
                     RELAIS_LIBRARY_SYMBOL).",
                ));
            respond::html(501, page.render())
        }
        Handoff::BadLink(bad) => respond::html(400, openurl::error_page(&bad)),
        Handoff::Unauthorised(err) => respond::html(401, openurl::unauthorized_page(&err)),
        Handoff::PatronIdFailed => respond::text(500, "The patron id could not be prepared for Relais"),
        Handoff::PatronUnconfirmed => {
            let mut response = respond::html(503, openurl::patron_unconfirmed_page());
            // Alma's outages are mostly its monthly maintenance or a short blip: a browser or proxy that honours
            // the header retries after a minute.
            response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static("60"));
            response
        }
        Handoff::PatronUnknown => respond::html(403, openurl::patron_unknown_page()),
    }
}

/// The value of the cookie `name` from the request's `Cookie` headers (RFC 6265 §5.4: `name=value` pairs
/// separated by `; `).
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The sign-in's cookies as `Set-Cookie` headers: HTTP-only, `SameSite=Lax` (sent on the provider's
/// top-level redirect back, never on another site's sub-requests), `Secure` over https, each scoped to the
/// paths that read it. The session cookie has no `Max-Age`, so it ends when the browser closes; its sealed
/// value carries its own end.
fn set_cookies(bridge: &Bridge, response: &mut Response, cookies: &[SetCookie]) {
    let Some(sign_in) = bridge.identity.as_ref().and_then(|i| i.sign_in()) else { return };
    let scope = sign_in.cookie_scope();
    let secure = if scope.secure { "; Secure" } else { "" };
    for change in cookies {
        let (name, value, path, age) = match change {
            SetCookie::SignIn(value) => {
                (SIGN_IN_COOKIE, value.as_str(), &scope.callback_path, Some(SIGN_IN_WINDOW.as_secs()))
            }
            SetCookie::ClearSignIn => (SIGN_IN_COOKIE, "", &scope.callback_path, Some(0)),
            SetCookie::Session(value) => (SESSION_COOKIE, value.as_str(), &scope.session_path, None),
            SetCookie::ClearSession => (SESSION_COOKIE, "", &scope.session_path, Some(0)),
        };
        let age = age.map(|seconds| format!("; Max-Age={seconds}")).unwrap_or_default();
        let line = format!("{name}={value}; Path={path}{age}; HttpOnly; SameSite=Lax{secure}");
        if let Ok(header) = HeaderValue::from_str(&line) {
            response.headers_mut().append(http::header::SET_COOKIE, header);
        }
    }
}
