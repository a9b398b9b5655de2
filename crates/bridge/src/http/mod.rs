//! The HTTP glue: one [`axum::Router`] declares every route, built from [`Function::public_routes`]. The
//! local server serves it with `axum::serve`; each Lambda function serves its own part of it (its entry's
//! routes) with `lambda_http::run`, so both hosts answer through the same handlers.
//!
//! Handlers read what HTTP carries (path parameters, headers, the raw query, the body), check tokens, call a
//! flow with plain values and shape its answer; nothing below this module sees an HTTP type.

pub mod auth;
pub mod body;
pub mod client;
mod ncip;
mod openurl;
pub mod pages;
mod problems;
mod queue;
mod reconcile;
pub mod respond;
pub mod session;
mod status;

use crate::flows::{Bridge, ServiceFlow};
use crate::function::{Function, Route, SERVICE_INVOKE_PATH};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};
use std::sync::Arc;

pub use openurl::CORRELATION_HEADER;

/// The routes of `functions`, over `bridge`: the public ones each declares, and for a per-service function the
/// path the front door's invoke carries. The local server passes the three public functions (the front door
/// answers the services in process); tests pass any. A Lambda function does not come here: its entry names
/// its own routes ([`crate::lambda::entry`]), so that its binary holds no other function's handlers.
pub fn router(bridge: Arc<Bridge>, functions: &[Function]) -> Router {
    let mut routes = Router::new();
    for &function in functions {
        routes = routes.merge(match function {
            Function::OpenUrlRedirect => openurl_routes(),
            Function::NcipFrontDoor => front_door_routes(),
            Function::RequestStatus => status_routes(),
            Function::Deliver | Function::Reconcile => Router::new(),
            service => ServiceFlow::of(service).map_or_else(Router::new, service_routes),
        });
    }
    serve(bridge, routes)
}

/// Routes not yet given their bridge: what one function answers.
pub type Routes = Router<Arc<Bridge>>;

/// Completes a function's routes: the 404 page, no body read by axum, and the bridge they run against.
pub fn serve(bridge: Arc<Bridge>, routes: Routes) -> Router {
    // No route takes a body through axum's extractors: the NCIP handlers read theirs after the token check
    // under the codec's limit ([`body`]), and the other routes read none. The zero limit keeps it so.
    routes.fallback(not_found).layer(DefaultBodyLimit::max(0)).with_state(bridge)
}

/// `GET /openurl`, and the sign-in's callback and sign-out.
pub fn openurl_routes() -> Routes {
    declared(Function::OpenUrlRedirect, |path| match path {
        "/openurl/callback" => get(openurl::callback),
        "/openurl/sign-out" => get(openurl::sign_out),
        _ => get(openurl::hand_off),
    })
}

/// `POST /ncip/{token}` and `POST /ncip`: the front door Relais calls.
pub fn front_door_routes() -> Routes {
    declared(Function::NcipFrontDoor, |_| post(ncip::front_door))
}

/// The staff console (status pages, the outbox's queue, the answered Problems, sign-in) and the health check.
pub fn status_routes() -> Routes {
    declared(Function::RequestStatus, |path| match path {
        "/health" => get(health),
        "/requests" => get(status::search),
        "/queue" => get(queue::list),
        "/queue/{id}/redrive" => post(queue::redrive),
        "/queue/{id}/discard" => post(queue::discard),
        "/queue/bulk" => get(queue::bulk_preview).post(queue::bulk_confirm),
        "/problems" => get(problems::list),
        "/signin" => get(session::sign_in_form).post(session::sign_in),
        "/signout" => post(session::sign_out),
        "/reconcile" => get(reconcile::show).post(reconcile::run_now),
        _ => get(status::request),
    })
}

/// `POST /ncip` on a per-service function: what the front door's invoke carries, answered by `flow`.
pub fn service_routes(flow: ServiceFlow) -> Routes {
    Router::new()
        .route(SERVICE_INVOKE_PATH, post(move |state, headers, body| ncip::service(state, flow, headers, body)))
}

/// The routes `function` declares ([`Function::public_routes`], the list the template test compares), each
/// with its handler; the method is the declared one (a test checks). A path declared for two methods has one
/// handler serving both, added once.
fn declared(function: Function, handler: fn(&str) -> MethodRouter<Arc<Bridge>>) -> Routes {
    let mut paths: Vec<&str> = function.public_routes().iter().map(|route| route.path).collect();
    paths.sort_unstable();
    paths.dedup();
    paths.into_iter().fold(Router::new(), |routes, path| routes.route(path, handler(path)))
}

/// Every route `functions` declare, as API Gateway sees them (the template test compares them).
pub fn routes(functions: &[Function]) -> Vec<Route> {
    let mut routes: Vec<Route> = functions.iter().flat_map(|f| f.public_routes().iter().copied()).collect();
    routes.sort();
    routes
}

async fn health() -> axum::response::Response {
    respond::json(200, &serde_json::json!({"status": "ok"}))
}

async fn not_found() -> axum::response::Response {
    respond::text(
        404,
        "Not found. Routes: /openurl, /ncip/{token}, /requests/{id}, /requests?barcode=, /queue, /problems, /signin, \
         /health",
    )
}
