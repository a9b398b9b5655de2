//! What every call passes before its handler: faults, then (REST) the API key, the thresholds and the
//! JSON check, and finally the call log.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Notify;

use super::{App, REST_ROOT};
use crate::calls::CallRecord;
use crate::errors::AlmaError;
use crate::faults::{AfterCommit, FaultKind, FaultScope};
use crate::limiter::Admission;

/// Lets a handler close its own connection without answering (inserted by `server.rs` per connection).
#[derive(Clone)]
pub(crate) struct ConnKill(pub Arc<Notify>);

/// Set by the gate on an NCIP request for the `patron_busy` fault: the responder refuses the message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PatronBusy;

/// Set by the NCIP responder on its answer so the call log can name the service.
#[derive(Clone, Debug)]
pub(crate) struct NcipService(pub String);

pub(crate) async fn rest_gate(State(app): State<App>, req: Request, next: Next) -> Response {
    guarded(app, FaultScope::Rest, req, next).await
}

pub(crate) async fn ncip_gate(State(app): State<App>, req: Request, next: Next) -> Response {
    guarded(app, FaultScope::Ncip, req, next).await
}

/// The largest NCIP message the gate reads; the responder's own limit (axum's 2 MB) is lower.
const NCIP_BODY_LIMIT: usize = 16 * 1024 * 1024;

enum Outcome {
    Answer(Response),
    Drop,
}

async fn guarded(app: App, scope: FaultScope, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    // The REST router is nested under the root, which axum strips from the URI its layers see; faults and
    // the call log speak of the path the client sent.
    let path = match scope {
        FaultScope::Rest => format!("{REST_ROOT}{}", req.uri().path()),
        _ => req.uri().path().to_owned(),
    };
    let query = req.uri().query().map(str::to_owned);
    let kill = req.extensions().get::<ConnKill>().cloned();
    // What a fault's `matching` looks in: the message for NCIP (read here, handed on unchanged), the path
    // and query as sent for REST.
    let (req, subject) = match scope {
        FaultScope::Ncip => {
            let (parts, body) = req.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, NCIP_BODY_LIMIT).await else {
                return StatusCode::PAYLOAD_TOO_LARGE.into_response();
            };
            (Request::from_parts(parts, axum::body::Body::from(bytes.clone())), bytes)
        }
        _ => {
            let subject = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            (req, axum::body::Bytes::from(subject))
        }
    };
    let fault = app.faults.take(scope, &path, &subject);
    let mut service = None;
    let outcome = match fault {
        None => Outcome::Answer(inner(&app, scope, req, next, Instead::Nothing).await),
        Some(FaultKind::Slow { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Outcome::Answer(inner(&app, scope, req, next, Instead::Nothing).await)
        }
        Some(FaultKind::PatronBusy) => {
            let mut req = req;
            req.extensions_mut().insert(PatronBusy);
            Outcome::Answer(inner(&app, scope, req, next, Instead::Nothing).await)
        }
        Some(FaultKind::GeneralError) => {
            Outcome::Answer(inner(&app, scope, req, next, Instead::AppError(AlmaError::general_error())).await)
        }
        Some(FaultKind::DailyThreshold) => {
            Outcome::Answer(inner(&app, scope, req, next, Instead::DailyThreshold).await)
        }
        Some(FaultKind::Http500) => Outcome::Answer(server_error(scope)),
        Some(FaultKind::Maintenance503) => Outcome::Answer(maintenance()),
        Some(FaultKind::LoginPage) => Outcome::Answer(login_page()),
        Some(FaultKind::Html404) => Outcome::Answer(html_not_found()),
        Some(FaultKind::DropConnection) => Outcome::Drop,
        Some(FaultKind::FailAfterCommit { then }) => {
            let done = inner(&app, scope, req, next, Instead::Nothing).await;
            service = done.extensions().get::<NcipService>().map(|s| s.0.clone());
            match then {
                AfterCommit::Drop => Outcome::Drop,
                AfterCommit::Http500 => Outcome::Answer(server_error(scope)),
            }
        }
    };
    let status = match &outcome {
        Outcome::Answer(r) => {
            service = service.or_else(|| r.extensions().get::<NcipService>().map(|s| s.0.clone()));
            Some(r.status().as_u16())
        }
        Outcome::Drop => None,
    };
    app.calls.push(CallRecord {
        seq: 0,
        scope: if scope == FaultScope::Ncip { "ncip" } else { "rest" },
        method,
        path,
        query,
        status,
        ncip_service: service,
        fault: fault.map(|f| f.name().to_owned()),
    });
    match (outcome, kill) {
        (Outcome::Answer(r), _) => r,
        (Outcome::Drop, Some(kill)) => {
            kill.0.notify_one();
            // The connection task drops the socket on the notification; this answer is never sent.
            std::future::pending::<Response>().await
        }
        (Outcome::Drop, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// What a fault puts in place of the handler's answer.
enum Instead {
    /// Nothing: the handler answers.
    Nothing,
    /// The daily cap's refusal, right after the key check, as if the cap were used up.
    DailyThreshold,
    /// An application error once the call passed every check (it counts against the thresholds).
    AppError(AlmaError),
}

/// The checks Alma makes before a call, then the handler's answer or what `instead` puts in its place.
async fn inner(app: &App, scope: FaultScope, req: Request, next: Next, instead: Instead) -> Response {
    if scope == FaultScope::Ncip {
        return next.run(req).await;
    }
    let query = req.uri().query().unwrap_or_default().to_owned();
    // An unknown key and a key without this call's area (or without write for a write) get the same
    // answer; neither counts against the thresholds.
    let Some(key) = api_key(&req, &query).filter(|k| app.keys.allows(k, req.method(), req.uri().path(), &query)) else {
        return with_remaining(AlmaError::unauthorized().into_response(), app.limiter.remaining());
    };
    if let Instead::DailyThreshold = instead {
        return with_remaining(AlmaError::daily_threshold().into_response(), 0);
    }
    let remaining = match app.limiter.admit(&key) {
        Admission::Admitted { remaining } => remaining,
        Admission::PerSecond { remaining } => {
            return with_remaining(AlmaError::per_second_threshold().into_response(), remaining);
        }
        Admission::Daily => return with_remaining(AlmaError::daily_threshold().into_response(), 0),
    };
    if !wants_json(&req, &query) {
        return with_remaining(AlmaError::json_only().into_response(), remaining);
    }
    match instead {
        Instead::AppError(error) => with_remaining(error.into_response(), remaining),
        Instead::Nothing | Instead::DailyThreshold => with_remaining(next.run(req).await, remaining),
    }
}

/// `Authorization: apikey <key>`, or Alma's alternative `?apikey=<key>`.
fn api_key(req: &Request, query: &str) -> Option<String> {
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(key) = header.and_then(|h| h.strip_prefix("apikey ")) {
        return Some(key.trim().to_owned());
    }
    query_param(query, "apikey")
}

fn wants_json(req: &Request, query: &str) -> bool {
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept.contains("application/json") || query_param(query, "format").as_deref() == Some("json")
}

pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| v.to_owned())
    })
}

fn with_remaining(mut r: Response, remaining: u64) -> Response {
    r.headers_mut().insert("X-Exl-Api-Remaining", HeaderValue::from(remaining));
    r
}

fn server_error(scope: FaultScope) -> Response {
    match scope {
        FaultScope::Ncip => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
            "<html><body><h1>HTTP Status 500 - Internal Server Error</h1></body></html>",
        )
            .into_response(),
        _ => AlmaError::internal().into_response(),
    }
}

/// Unverified: during the monthly maintenance window Alma's hosts answer 503 with an HTML notice.
fn maintenance() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        "<html><head><title>Alma maintenance</title></head><body><h1>Alma is temporarily unavailable \
         due to scheduled maintenance.</h1><p>Please try again later.</p></body></html>",
    )
        .into_response()
}

/// Not Alma's own page (none was captured): the shape a bridge meets when its NCIP URL names Alma's staff
/// UI or an institution's SSO, an HTML sign-in form answered with HTTP 200.
fn login_page() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>\
         <h1>Sign in to Alma</h1><form method=\"post\" action=\"/view/login\">\
         <label>Username <input name=\"username\"></label>\
         <label>Password <input name=\"password\" type=\"password\"></label>\
         <button type=\"submit\">Sign in</button></form></body></html>",
    )
        .into_response()
}

/// Unverified page: the Alma host answers a path it does not serve with 404 and an HTML error page, as its
/// servlet container does.
pub(crate) fn html_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        "<html><head><title>404 Not Found</title></head><body><h1>HTTP Status 404 - Not Found</h1>\
         <p>The requested resource is not available.</p></body></html>",
    )
        .into_response()
}
