//! Building responses in the shapes the bridge answers with.

use axum::body::Body;
use axum::response::Response;

/// An NCIP answer: always HTTP 200, a Problem travels inside the message.
pub fn xml(body: Vec<u8>) -> Response {
    build(200, "application/xml; charset=utf-8", Body::from(body))
}

/// A JSON answer (the status and queue views for scripts).
pub fn json(status: u16, value: &serde_json::Value) -> Response {
    build(status, "application/json", Body::from(value.to_string()))
}

/// A page for a person, built with [`super::pages`].
pub fn html(status: u16, page: String) -> Response {
    build(status, "text/html; charset=utf-8", Body::from(page))
}

/// A short plain-text answer (refusals a caller reads in a terminal or a log).
pub fn text(status: u16, message: &str) -> Response {
    build(status, "text/plain; charset=utf-8", Body::from(message.to_owned()))
}

/// A 302 that no cache keeps: the target may carry a short-lived patron token.
pub fn redirect(location: &str) -> Response {
    Response::builder()
        .status(302)
        .header("Location", location)
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .body(Body::empty())
        .unwrap_or_else(|_| text(500, "The redirect target could not be sent"))
}

fn build(status: u16, content_type: &str, body: Body) -> Response {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(body)
        .expect("static headers are valid")
}
