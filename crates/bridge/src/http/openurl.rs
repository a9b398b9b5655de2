//! `GET /openurl`: a patron's ILL link becomes a 302 to the Relais request form ([`crate::flows::openurl`]).

use super::{auth, pages, respond};
use crate::flows::Bridge;
use crate::flows::openurl::{self as flow, Handoff};
use crate::openurl;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, Uri};
use std::sync::Arc;

/// The response header naming the correlation id of a redirect (the key of the parked citation), so a
/// support desk can find it from a browser trace.
pub const CORRELATION_HEADER: &str = "x-bridge-correlation-id";

pub(super) async fn hand_off(
    State(bridge): State<Arc<Bridge>>,
    uri: Uri,
    headers: HeaderMap,
    extensions: http::Extensions,
) -> Response {
    let client = super::client::ClientAddress::of(&extensions).map(|c| c.0);
    // The raw query, not a parsed map: API Gateway joins repeated keys with commas, and the codec reads
    // repeated keys itself.
    let raw_query = uri.query().unwrap_or("");
    match flow::hand_off(&bridge, raw_query, auth::bearer(&headers), client).await {
        Handoff::Redirect { location, correlation_id } => {
            let mut response = respond::redirect(&location);
            if let Ok(value) = http::HeaderValue::from_str(&correlation_id) {
                response.headers_mut().insert(CORRELATION_HEADER, value);
            }
            response
        }
        Handoff::NotConfigured => {
            let page = pages::page("Not configured")
                .with(pages::el("h1").text("ILL requests are not set up yet"))
                .with(pages::el("p").text(
                    "The library has not configured its Relais request form (RELAIS_FORM_URL and \
                     RELAIS_LIBRARY_SYMBOL).",
                ));
            respond::html(501, page.render())
        }
        Handoff::BadLink(bad) => respond::html(400, openurl::error_page(&bad)),
        Handoff::Unauthorised(err) => respond::html(401, openurl::unauthorized_page(&err)),
        Handoff::PatronIdFailed => respond::text(500, "The patron id could not be prepared for Relais"),
        Handoff::PatronUnconfirmed => {
            let mut response = respond::html(503, openurl::patron_unconfirmed_page());
            // Alma's outages are mostly its monthly maintenance or a short blip: a browser or proxy that honours
            // the header retries after a minute.
            response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("60"));
            response
        }
        Handoff::PatronUnknown => respond::html(403, openurl::patron_unknown_page()),
    }
}
