//! Admin paths for tests: faults, state, call log, reset, desk loans, and what staff do by hand in Alma that
//! the bridge never hears of (deleting a temporary item, returning a loan at the desk, cancelling a lending
//! request), so that tests can make Alma drift from what Relais was told. No API key, not rate-limited, not
//! logged.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::App;
use crate::faults::FaultSpec;
use crate::state::circ;
use crate::state::model::RsSide;

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/admin/faults", get(list_faults).post(arm_fault).delete(clear_faults))
        .route("/admin/state", get(state))
        .route("/admin/calls", get(calls).delete(clear_calls))
        .route("/admin/reset", post(reset))
        .route("/admin/loan", post(desk_loan))
        .route("/admin/delete-item", post(delete_item))
        .route("/admin/return", post(desk_return))
        .route("/admin/cancel-lending", post(cancel_lending))
}

fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message.into() }))).into_response()
}

async fn arm_fault(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => return bad_request(format!("not a fault spec: {e}")),
    };
    match app.faults.arm(spec) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(e) => bad_request(e),
    }
}

async fn list_faults(State(app): State<App>) -> Response {
    Json(json!({ "faults": app.faults.list() })).into_response()
}

async fn clear_faults(State(app): State<App>) -> StatusCode {
    app.faults.clear();
    StatusCode::NO_CONTENT
}

async fn state(State(app): State<App>) -> Response {
    Json(app.store.with(|s| crate::render::state_json(s, &app.base_url))).into_response()
}

async fn calls(State(app): State<App>) -> Response {
    Json(json!({ "calls": app.calls.all() })).into_response()
}

async fn clear_calls(State(app): State<App>) -> StatusCode {
    app.calls.clear();
    StatusCode::NO_CONTENT
}

/// Back to the seed: state, call log, faults and thresholds.
async fn reset(State(app): State<App>) -> StatusCode {
    app.store.reset();
    app.calls.clear();
    app.faults.clear();
    app.limiter.reset();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct DeskLoan {
    user_id: String,
    item_barcode: String,
}

/// Staff check an item out to a patron at the desk (e.g. the patron collects a hold-shelf ILL item).
async fn desk_loan(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let req: DeskLoan = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("expected {{\"user_id\",\"item_barcode\"}}: {e}")),
    };
    match app.store.with(|s| circ::desk_loan(s, &req.user_id, &req.item_barcode)) {
        Ok(loan_id) => (StatusCode::CREATED, Json(json!({ "loan_id": loan_id }))).into_response(),
        Err(e) => bad_request(format!("{e:?}")),
    }
}

#[derive(Deserialize)]
struct ByBarcode {
    item_barcode: String,
}

#[derive(Deserialize)]
struct ByRequestId {
    request_id: String,
}

fn by_barcode(body: &[u8]) -> Result<String, String> {
    serde_json::from_slice::<ByBarcode>(body)
        .map(|b| b.item_barcode)
        .map_err(|e| format!("expected {{\"item_barcode\"}}: {e}"))
}

/// Staff delete an item in Alma's UI (e.g. a temporary item they took for a duplicate).
async fn delete_item(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let barcode = match by_barcode(&body) {
        Ok(b) => b,
        Err(refused) => return bad_request(refused),
    };
    match app.store.with(|s| circ::delete_item(s, &barcode)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad_request(format!("{e:?}")),
    }
}

/// Staff scan an item in at the desk: its loan ends (a lent item goes in transit home and its lending request
/// is completed; a borrowed item goes back to its lender), exactly as a CheckInItem would have done.
async fn desk_return(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let barcode = match by_barcode(&body) {
        Ok(b) => b,
        Err(refused) => return bad_request(refused),
    };
    match app.store.with(|s| circ::check_in(s, &barcode)) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad_request(format!("{e:?}")),
    }
}

/// Staff cancel a lending request in Alma's UI, by Alma's id, whatever its status.
async fn cancel_lending(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let request_id = match serde_json::from_slice::<ByRequestId>(&body) {
        Ok(r) => r.request_id,
        Err(e) => return bad_request(format!("expected {{\"request_id\"}}: {e}")),
    };
    let found = app.store.with(|s| {
        let idx = s.rs.iter().position(|r| r.request_id == request_id && r.side == RsSide::Lending)?;
        circ::cancel_rs(s, idx);
        Some(())
    });
    match found {
        Some(()) => StatusCode::NO_CONTENT.into_response(),
        None => bad_request(format!("no lending request {request_id}")),
    }
}
