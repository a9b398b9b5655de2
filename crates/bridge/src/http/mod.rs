//! The HTTP glue: one [`axum::Router`] declares every route, built from [`Function::public_routes`]. The
//! local server serves it with `axum::serve`; each Lambda function serves its own part of it with
//! `lambda_http::run`, so both hosts answer through the same handlers.
//!
//! Handlers read what HTTP carries (path parameters, headers, the raw query, the body), check tokens, call a
//! flow with plain values and shape its answer; nothing below this module sees an HTTP type.

pub mod auth;
pub mod body;
mod ncip;
mod openurl;
pub mod pages;
mod queue;
pub mod respond;
mod status;

use crate::flows::Bridge;
use crate::function::{Function, Route, SERVICE_INVOKE_PATH};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};
use std::sync::Arc;

pub use openurl::CORRELATION_HEADER;

/// The routes of `functions`: the public ones each declares, and for a per-service function the path the
/// front door's invoke carries. The local server passes the three public functions (the front door answers
/// the services in process); a Lambda function passes itself.
pub fn router(bridge: Arc<Bridge>, functions: &[Function]) -> Router {
    let mut router = Router::new();
    for &function in functions {
        if function.service().is_some() {
            router = router.route(SERVICE_INVOKE_PATH, handler(function, SERVICE_INVOKE_PATH));
        }
        for route in function.public_routes() {
            router = router.route(route.path, handler(function, route.path));
        }
    }
    // No route takes a body through axum's extractors: the NCIP handlers read theirs after the token check
    // under the codec's limit ([`body`]), and the other routes read none. The zero limit keeps it so.
    router.fallback(not_found).layer(DefaultBodyLimit::max(0)).with_state(bridge)
}

/// Every route `functions` declare, as API Gateway sees them (the template test compares them).
pub fn routes(functions: &[Function]) -> Vec<Route> {
    let mut routes: Vec<Route> = functions.iter().flat_map(|f| f.public_routes().iter().copied()).collect();
    routes.sort();
    routes
}

/// The handler of one route; its method is the one [`Function::public_routes`] declares (a test checks).
fn handler(function: Function, path: &str) -> MethodRouter<Arc<Bridge>> {
    match (function, path) {
        (Function::OpenUrlRedirect, _) => get(openurl::hand_off),
        (Function::NcipFrontDoor, _) => post(ncip::front_door),
        (Function::RequestStatus, "/health") => get(health),
        (Function::RequestStatus, "/requests") => get(status::search),
        (Function::RequestStatus, "/queue") => get(queue::list),
        (Function::RequestStatus, "/queue/{id}/redrive") => post(queue::redrive),
        (Function::RequestStatus, "/queue/{id}/discard") => post(queue::discard),
        (Function::RequestStatus, _) => get(status::request),
        (service, _) => post(move |state, headers, body| ncip::service(state, service, headers, body)),
    }
}

async fn health() -> axum::response::Response {
    respond::json(200, &serde_json::json!({"status": "ok"}))
}

async fn not_found() -> axum::response::Response {
    respond::text(
        404,
        "Not found. Routes: /openurl, /ncip/{token}, /requests/{id}, /requests?barcode=, /queue, /health",
    )
}
