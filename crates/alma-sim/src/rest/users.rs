//! `GET /users/{user_id}` and `POST /users/{user_id}?op=auth`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Params;
use crate::errors::AlmaError;
use crate::http::App;
use crate::state::model::{Borrower, RsSide};

/// The user as Alma returns it. `user_id_type` absent or `all_unique` searches every unique identifier
/// (Alma's docs for this parameter); `expand=loans,requests,fees` adds Alma's `{value, link}` counters.
pub(crate) async fn get_user(
    State(app): State<App>,
    Path(user_id): Path<String>,
    params: Params,
) -> Result<Json<Value>, AlmaError> {
    let expand = params.get("expand").cloned().unwrap_or_default();
    app.store.with(|s| {
        let user = s.find_user(&user_id, params.get("user_id_type").map(String::as_str))?;
        let mut json = user.json.clone();
        let pid = user.primary_id().to_owned();
        let base = &app.base_url;
        for part in expand.split(',').map(str::trim) {
            let (count, path) = match part {
                "loans" => {
                    (s.loans.iter().filter(|l| l.active && l.borrower == Borrower::User(pid.clone())).count(), "loans")
                }
                "requests" => (
                    s.holds.iter().filter(|h| h.is_active() && h.user_id == pid).count()
                        + s.rs.iter().filter(|r| r.side == RsSide::Borrowing { user_id: pid.clone() }).count(),
                    "requests",
                ),
                "fees" => (0, "fees"),
                _ => continue,
            };
            json[path] = json!({ "value": count, "link": format!("{base}/users/{pid}/{path}") });
        }
        json["link"] = json!(format!("{base}/users/{pid}"));
        Ok(Json(json))
    })
}

/// `op=auth` (the default op) with the password in `Exl-User-Pw` (or `password=`): 204 when it matches.
pub(crate) async fn post_user(
    State(app): State<App>,
    Path(user_id): Path<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, AlmaError> {
    match params.get("op").map(String::as_str) {
        None | Some("auth") => {}
        Some(_) => return Err(AlmaError::parameter_not_valid("op")),
    }
    let password = headers
        .get("Exl-User-Pw")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| params.get("password").cloned())
        .ok_or_else(|| AlmaError::mandatory_missing("password"))?;
    app.store.with(|s| {
        let user = s.find_user(&user_id, params.get("user_id_type").map(String::as_str))?;
        // Only internal users with a password in the Identity Service can authenticate; inactive ones cannot.
        if user.is_active() && user.password.as_deref() == Some(password.as_str()) {
            Ok(StatusCode::NO_CONTENT.into_response())
        } else {
            Err(AlmaError::authentication_failed())
        }
    })
}
