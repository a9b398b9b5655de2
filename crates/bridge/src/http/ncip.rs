//! `POST /ncip/{token}` and `POST /ncip` (the front door Relais calls), and `POST /ncip` on a per-service
//! function (what the front door's invoke carries). NCIP answers are HTTP 200 with an NCIP body, Problems
//! included, as Alma's responder answers.

use super::{auth, respond};
use crate::flows::{self, Bridge};
use crate::function::Function;
use crate::ncip::{self as codec, Message, Problem};
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;
use std::sync::Arc;

pub(super) async fn front_door(
    State(bridge): State<Arc<Bridge>>,
    token: Option<Path<String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_token = token.as_ref().map(|Path(token)| token.as_str());
    if !auth::authorised(&headers, path_token, &bridge.settings.ncip_secret) {
        // No hint of which part was wrong, and nothing of the message is read.
        tracing::warn!("NCIP request with a missing or wrong token");
        let problem = Problem::agency_authentication_failed("the NCIP endpoint token is missing or wrong");
        return respond::xml(codec::write(&Message::Problem(vec![problem])));
    }
    respond::xml(flows::front_door::answer(&bridge, &body).await)
}

/// A per-service function: reached only through the front door's invoke, which IAM authorises.
pub(super) async fn service(State(bridge): State<Arc<Bridge>>, function: Function, body: Bytes) -> Response {
    respond::xml(flows::dispatch_service(&bridge, function, &body).await)
}
