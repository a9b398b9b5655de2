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

/// The fields `q=` may search, as Alma's Users API lists them for `GET /users` (alma.md §2.1).
const SEARCHABLE: [&str; 6] = ["primary_id", "identifiers", "email", "first_name", "last_name", "all"];

/// `GET /users?q=<field>~<text>&limit=&offset=`: Alma's user search. `~` is "contains", compared without
/// case, so `email~ann@example.edu` also finds `joann@example.edu`: a client wanting one patron compares the
/// full records itself. Answers brief records (`primary_id`, names, `link`) and `total_record_count`; an
/// empty result has no `user` list (UNCONFIRMED, the stricter reading: a client must not rely on the key).
pub(crate) async fn search(State(app): State<App>, params: Params) -> Result<Json<Value>, AlmaError> {
    let query = params.get("q").ok_or_else(|| AlmaError::mandatory_missing("q"))?;
    let (field, text) = query.split_once('~').ok_or_else(|| AlmaError::parameter_not_valid("q"))?;
    let field = field.trim().to_ascii_lowercase();
    if !SEARCHABLE.contains(&field.as_str()) {
        return Err(AlmaError::parameter_not_valid("q"));
    }
    let number = |name: &str, default: usize, max: usize| match params.get(name) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().ok().filter(|n| *n <= max).ok_or_else(|| AlmaError::parameter_not_valid(name)),
    };
    let limit = number("limit", 10, 100)?;
    let offset = number("offset", 0, usize::MAX)?;
    let wanted = text.trim().to_lowercase();
    app.store.with(|s| {
        let found: Vec<&crate::state::UserRec> = s.users.iter().filter(|u| u.searched_by(&field, &wanted)).collect();
        let base = &app.base_url;
        let brief: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(limit)
            .map(|u| {
                let pid = u.primary_id();
                json!({
                    "primary_id": pid,
                    "first_name": u.json["first_name"],
                    "last_name": u.json["last_name"],
                    "link": format!("{base}/users/{pid}"),
                })
            })
            .collect();
        let mut answer = json!({ "total_record_count": found.len() });
        if !brief.is_empty() {
            answer["user"] = Value::Array(brief);
        }
        Ok(Json(answer))
    })
}
