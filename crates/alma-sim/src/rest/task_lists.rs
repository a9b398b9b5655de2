//! `GET /task-lists/rs/lending-requests`: a resource-sharing library's lending requests, as the Tasks API
//! lists them for the lending task list (filters `library`, `partner`, `status`, `requested_format` and
//! `supplied_format`; the bridge's way to Alma's id
//! of the lending request a CheckOutItem shipped, since Alma's NCIP answer does not carry it).
//!
//! Strict where the evidence is thin (no captured answer; only the Tasks API documentation, its OpenAPI copy
//! and developer-forum answers):
//! - `library` is "Mandatory" in the documentation (though optional in the schema): refused without it;
//! - the call has no `limit`/`offset`, and a developer-forum answer says at most 100 requests come back: the
//!   simulator returns the 100 oldest matches, so a newly shipped request can be missing from the list, and
//!   `total_record_count` counts every match.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use super::Params;
use crate::errors::AlmaError;
use crate::http::App;
use crate::render;
use crate::state::model::RsSide;

/// The most entries one answer holds.
pub(crate) const MAX_LISTED: usize = 100;

pub(crate) async fn lending_requests(State(app): State<App>, params: Params) -> Result<Json<Value>, AlmaError> {
    let library = params
        .get("library")
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| AlmaError::mandatory_missing("library"))?;
    let wanted = |key: &str, value: Option<&str>| params.get(key).is_none_or(|w| value == Some(w.as_str()));
    app.store.with(|s| {
        let mut matches: Vec<_> =
            s.rs.iter()
                .filter(|r| r.side == RsSide::Lending && r.owner == *library)
                .filter(|r| wanted("partner", r.partner.as_deref()) && wanted("status", Some(r.status.value.as_str())))
                // The simulator keeps one format per request: what was asked for is what is supplied.
                .filter(|r| {
                    wanted("requested_format", Some(r.format.value.as_str()))
                        && wanted("supplied_format", Some(r.format.value.as_str()))
                })
                .collect();
        matches.sort_by_key(|r| r.created);
        let total = matches.len();
        let entries: Vec<Value> =
            matches.into_iter().take(MAX_LISTED).map(|r| render::rs_request(&app.base_url, s, r)).collect();
        let mut page = render::list("user_resource_sharing_request", entries);
        page["total_record_count"] = total.into();
        Ok(Json(page))
    })
}
