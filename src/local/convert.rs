//! Turning the local server's HTTP requests into the `lambda_http::Request`s API Gateway would deliver, and
//! the handlers' responses back.

use crate::app::App;
use axum::body::Body as AxumBody;
use axum::extract::{Request, State};
use axum::response::Response;
use http_body_util::BodyExt;
use lambda_http::RequestExt;
use std::collections::HashMap;
use std::sync::Arc;

/// API Gateway refuses payloads over 10 MB; the local server takes a little more so that an oversized NCIP
/// message still reaches the codec and gets its Problem answer, as on AWS it would get API Gateway's 413.
const MAX_BODY: usize = 12 * 1024 * 1024;

pub(super) async fn serve(State(app): State<Arc<App>>, request: Request) -> Response {
    let Some(function) = super::function_for(request.uri().path()) else {
        return plain(404, "Not found. Routes: /openurl, /ncip/{token}, /requests/{id}, /health");
    };
    let (parts, body) = request.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return plain(413, "Request body too large"),
    };
    let query = parts.uri.query().map(query_map).unwrap_or_default();
    let lambda_request = lambda_http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()))
        .with_query_string_parameters(query);
    let response = app.handle(function, lambda_request).await;
    let (parts, body) = response.into_parts();
    let body = match body {
        lambda_http::Body::Empty => AxumBody::empty(),
        lambda_http::Body::Text(text) => AxumBody::from(text),
        lambda_http::Body::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    Response::from_parts(parts, body)
}

/// The query as API Gateway's parsed map (repeated keys kept). Handlers that must see the exact query read
/// the raw string from the URI instead, as they do on AWS.
fn query_map(query: &str) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        map.entry(key.into_owned()).or_default().push(value.into_owned());
    }
    map
}

fn plain(status: u16, message: &'static str) -> Response {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(AxumBody::from(message))
        .expect("static response")
}
