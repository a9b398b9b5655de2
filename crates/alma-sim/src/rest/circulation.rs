//! A user's requests and loans: `GET /users/{id}/requests`, `GET /users/{id}/loans`,
//! `GET|POST /users/{id}/loans/{loan_id}[?op=renew]`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use super::Params;
use crate::errors::AlmaError;
use crate::http::App;
use crate::render;
use crate::state::circ;
use crate::state::model::Borrower;

/// Active user requests (holds, including hold-shelf ILL items); `status=history` lists finished ones.
pub(crate) async fn user_requests(
    State(app): State<App>,
    Path(user_id): Path<String>,
    params: Params,
) -> Result<Json<Value>, AlmaError> {
    let history = params.get("status").is_some_and(|s| s.eq_ignore_ascii_case("history"));
    let wanted_type = params.get("request_type").cloned();
    app.store.with(|s| {
        let pid = s.find_user(&user_id, params.get("user_id_type").map(String::as_str))?.primary_id().to_owned();
        let entries = s
            .holds
            .iter()
            .filter(|h| h.user_id == pid && h.is_active() != history)
            .filter(|_| wanted_type.as_deref().is_none_or(|t| t == "HOLD"))
            .map(|h| render::hold(s, h))
            .collect();
        Ok(Json(render::list("user_request", entries)))
    })
}

/// Active loans; `loan_status=Complete` lists returned ones.
pub(crate) async fn user_loans(
    State(app): State<App>,
    Path(user_id): Path<String>,
    params: Params,
) -> Result<Json<Value>, AlmaError> {
    let complete = params.get("loan_status").is_some_and(|s| s.eq_ignore_ascii_case("complete"));
    app.store.with(|s| {
        let pid = s.find_user(&user_id, params.get("user_id_type").map(String::as_str))?.primary_id().to_owned();
        let entries = s
            .loans
            .iter()
            .filter(|l| l.borrower == Borrower::User(pid.clone()) && l.active != complete)
            .map(|l| render::loan(&app.base_url, l, params.get("expand").map(String::as_str)))
            .collect();
        Ok(Json(render::list("item_loan", entries)))
    })
}

fn find_loan(s: &crate::state::State, user_id: &str, loan_id: &str) -> Result<usize, AlmaError> {
    let pid = s.find_user(user_id, None)?.primary_id().to_owned();
    s.loans
        .iter()
        .position(|l| l.loan_id == loan_id && l.borrower == Borrower::User(pid.clone()))
        .ok_or_else(|| AlmaError::loan_not_found(loan_id))
}

pub(crate) async fn get_loan(
    State(app): State<App>,
    Path((user_id, loan_id)): Path<(String, String)>,
    params: Params,
) -> Result<Json<Value>, AlmaError> {
    app.store.with(|s| {
        let l = find_loan(s, &user_id, &loan_id)?;
        Ok(Json(render::loan(&app.base_url, &s.loans[l], params.get("expand").map(String::as_str))))
    })
}

/// `op=renew`: a new due date one loan period on; answers the renewed loan.
pub(crate) async fn renew_loan(
    State(app): State<App>,
    Path((user_id, loan_id)): Path<(String, String)>,
    params: Params,
) -> Result<Json<Value>, AlmaError> {
    if params.get("op").map(String::as_str) != Some("renew") {
        return Err(AlmaError::parameter_not_valid("op"));
    }
    app.store.with(|s| {
        let l = find_loan(s, &user_id, &loan_id)?;
        if !s.loans[l].active {
            return Err(AlmaError::loan_not_found(&loan_id));
        }
        circ::renew_loan_at(s, l, None);
        Ok(Json(render::loan(&app.base_url, &s.loans[l], None)))
    })
}
