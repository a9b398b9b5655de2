//! `POST /ncip/{token}` and `POST /ncip` (the front door Relais calls), and `POST /ncip` on a per-service
//! function (what the front door's invoke carries). NCIP answers are HTTP 200 with an NCIP body, Problems
//! included, as Alma's responder answers.

use super::body::{BodyRefusal, read_capped};
use super::{auth, respond};
use crate::flows::{self, Bridge, ServiceFlow};
use crate::ncip::{self as codec, Message, Problem, ReadError};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;
use std::sync::Arc;

/// The NCIP body, read only now that the caller is authenticated and only up to the codec's limit (256 KiB by
/// default; the corpus's largest message is 28 KB). `Err` is the answer to send instead.
async fn ncip_body(bridge: &Bridge, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let cap = bridge.read_options.max_bytes;
    match read_capped(headers, body, cap, bridge.settings.local.body_idle_timeout).await {
        Ok(bytes) => Ok(bytes),
        Err(BodyRefusal::TooLarge { size }) => {
            // The same Problem the codec gives an oversized message, without the message being read.
            Err(respond::xml(codec::write(&codec::error_response(&ReadError::too_large(size, cap), None))))
        }
        Err(BodyRefusal::Stalled) => Err(respond::text(408, "The request body stopped arriving")),
        Err(BodyRefusal::Broken) => Err(respond::text(400, "The request body could not be read")),
    }
}

pub(super) async fn front_door(
    State(bridge): State<Arc<Bridge>>,
    token: Option<Path<String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path_token = token.as_ref().map(|Path(token)| token.as_str());
    // During a rotation the previous secret is accepted too (an empty one matches nothing). Both are always
    // compared, so the time taken does not tell which one a token matched.
    let settings = &bridge.settings;
    let current = auth::authorised(&headers, path_token, &settings.ncip_secret);
    let previous = auth::authorised(&headers, path_token, &settings.ncip_previous_secret);
    if !(current | previous) {
        // No hint of which part was wrong, and nothing of the message is read. One line a minute at most,
        // counting the refusals since the last: an anonymous caller cannot grow the log request by request.
        if let Some(refused) = bridge.refused_tokens.count(std::time::Instant::now()) {
            tracing::warn!(refused, "NCIP request with a missing or wrong token");
        }
        let problem = Problem::agency_authentication_failed("the NCIP endpoint token is missing or wrong");
        return respond::xml(codec::write(&Message::Problem(vec![problem])));
    }
    let body = match ncip_body(&bridge, &headers, body).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    // The token that matched, as the endpoint the message came through (the current one when both match,
    // which only an empty previous secret could, and that matches nothing).
    let token = if current { &settings.ncip_secret } else { &settings.ncip_previous_secret };
    let endpoint = flows::front_door::Endpoint::of_token(&settings.log_hash_key, token.expose());
    respond::xml(flows::front_door::answer(&bridge, &endpoint, &body).await)
}

/// A per-service function: reached only through the front door's invoke, which IAM authorises.
pub(super) async fn service(
    State(bridge): State<Arc<Bridge>>,
    flow: ServiceFlow,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match ncip_body(&bridge, &headers, body).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let endpoint = headers
        .get(flows::front_door::Endpoint::HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(flows::front_door::Endpoint::parse);
    respond::xml(flows::dispatch_service(&bridge, flow, &body, endpoint.as_ref()).await)
}
