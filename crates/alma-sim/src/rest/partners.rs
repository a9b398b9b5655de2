//! `GET /partners`, `GET /partners/{code}` and a partner's lending requests.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::{code_pair, json_body, str_in};
use crate::errors::AlmaError;
use crate::http::App;
use crate::render;
use crate::state::model::{RsRequest, RsSide};

fn with_link(base: &str, partner: &Value) -> Value {
    let mut p = partner.clone();
    let code = p["partner_details"]["code"].as_str().unwrap_or_default().to_owned();
    p["link"] = json!(format!("{base}/partners/{code}"));
    p
}

pub(crate) async fn list(State(app): State<App>) -> Json<Value> {
    app.store.with(|s| {
        let entries = s.partners.iter().map(|p| with_link(&app.base_url, p)).collect();
        Json(render::list("partner", entries))
    })
}

pub(crate) async fn get_one(State(app): State<App>, Path(code): Path<String>) -> Result<Json<Value>, AlmaError> {
    app.store.with(|s| {
        s.partner(&code).map(|p| Json(with_link(&app.base_url, p))).ok_or_else(|| AlmaError::partner_not_found(&code))
    })
}

/// Creates a lending request; `external_id`, `owner`, `format`, `title` and `citation_type` are mandatory
/// (rest_user_resource_sharing_request.xsd). The external id is kept (a captured lending request shows it; research notes on Alma's REST API).
pub(crate) async fn create_lending(
    State(app): State<App>,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, AlmaError> {
    let body = json_body(&body)?;
    let external_id = str_in(&body, "external_id").ok_or_else(|| AlmaError::mandatory_missing("external_id"))?;
    let owner = str_in(&body, "owner").ok_or_else(|| AlmaError::mandatory_missing("owner"))?;
    let format = code_pair(&body, "format").ok_or_else(|| AlmaError::mandatory_missing("format"))?;
    let title = str_in(&body, "title").ok_or_else(|| AlmaError::mandatory_missing("title"))?;
    let citation_type =
        code_pair(&body, "citation_type").ok_or_else(|| AlmaError::mandatory_missing("citation_type"))?;
    app.store.with(|s| {
        if s.partner(&code).is_none() {
            return Err(AlmaError::partner_not_found(&code));
        }
        let now = jiff::Timestamp::now();
        let request = RsRequest {
            request_id: s.new_id("15"),
            external_id: Some(external_id),
            side: RsSide::Lending,
            partner: Some(code.clone()),
            status: crate::state::model::Code::new("REQUEST_CREATED_LEND", "Created lending request"),
            owner,
            format,
            citation_type,
            requested_media: str_in(&body, "requested_media"),
            title,
            author: str_in(&body, "author"),
            isbn: str_in(&body, "isbn"),
            issn: str_in(&body, "issn"),
            pickup_location: None,
            level_of_service: code_pair(&body, "level_of_service"),
            note: str_in(&body, "note"),
            barcode: None,
            mms_id: str_in(&body, "mms_id"),
            item_pid: None,
            user_request_id: None,
            due_date: None,
            created: now,
            modified: now,
        };
        let json = render::rs_request(&app.base_url, s, &request);
        s.rs.push(request);
        Ok(Json(json))
    })
}

pub(crate) async fn get_lending(
    State(app): State<App>,
    Path((code, request_id)): Path<(String, String)>,
) -> Result<Json<Value>, AlmaError> {
    app.store.with(|s| {
        if s.partner(&code).is_none() {
            return Err(AlmaError::partner_not_found(&code));
        }
        s.rs.iter()
            .find(|r| r.side == RsSide::Lending && r.request_id == request_id && r.partner.as_deref() == Some(&code))
            .map(|r| Json(render::rs_request(&app.base_url, s, r)))
            .ok_or_else(AlmaError::general)
    })
}
