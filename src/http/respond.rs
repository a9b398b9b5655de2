//! Building responses in the shapes the bridge answers with.

use lambda_http::{Body, Response};

pub fn xml(body: Vec<u8>) -> Response<Body> {
    build(200, "application/xml; charset=utf-8", Body::Binary(body))
}

pub fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    build(status, "application/json", Body::Text(value.to_string()))
}

pub fn html(status: u16, page: String) -> Response<Body> {
    build(status, "text/html; charset=utf-8", Body::Text(page))
}

pub fn text(status: u16, message: &str) -> Response<Body> {
    build(status, "text/plain; charset=utf-8", Body::Text(message.to_owned()))
}

/// A 302 that no cache keeps: the target may carry a short-lived patron token.
pub fn redirect(location: &str) -> Response<Body> {
    Response::builder()
        .status(302)
        .header("Location", location)
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .body(Body::Empty)
        .expect("static headers are valid")
}

fn build(status: u16, content_type: &str, body: Body) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(body)
        .expect("static headers are valid")
}
