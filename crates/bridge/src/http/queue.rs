//! The outbox for staff: `GET /queue` lists waiting and parked messages oldest first (JSON, or HTML with
//! `Accept: text/html`), with the status token or the staff token like the status page. The staff actions
//! need the staff token (`STAFF_ACTION_TOKEN`; the status token is read-only): `POST /queue/{message}/redrive`
//! sends a parked message to Alma again and `POST /queue/{message}/discard` gives it up. Both take an optional
//! JSON body `{"note": "..."}` (a discard must have one; discarding a message still waiting for Alma also
//! needs `"force": true`), recorded in the request's history with the acting token's fingerprint.

use super::auth::{self, StaffCredential};
use super::body::read_capped;
use super::status::{refused, wants_html};
use super::{pages, respond};
use crate::flows::Bridge;
use crate::flows::outbox::{self, QueueRefusal, StaffAction};
use crate::store::QueuedMessage;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A note is a sentence or two; the cap keeps an authenticated caller from parking megabytes in the history.
const NOTE_BODY_CAP: usize = 4 * 1024;

/// One message as staff see it: never the message body (it names the patron).
fn summary(message: &QueuedMessage, now: jiff::Timestamp) -> serde_json::Value {
    json!({
        "id": message.id,
        "relais_request_id": message.request,
        "message_type": message.message_type,
        "state": message.state.label(),
        "queued_at": message.queued_at,
        "age_seconds": now.duration_since(message.queued_at).as_secs(),
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "last_answer": message.last_answer,
        "note": message.note,
    })
}

/// `GET /queue[?after=<message id>]`: one page of the open queue, oldest first, with the total and the
/// cursor of the next page, so that every open message can be reached however many wait.
pub(super) async fn list(State(bridge): State<Arc<Bridge>>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&bridge, &headers) {
        return refusal;
    }
    let after = uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "after").map(|(_, v)| v.into_owned())
    });
    let page = match outbox::open_page(&bridge, after.as_deref()).await {
        Ok(page) => page,
        Err(QueueRefusal::Unknown) => return respond::text(400, "`after` must be a queued message's id"),
        Err(refusal) => return refused_action(&refusal),
    };
    let now = bridge.clock.now();
    if wants_html(&headers) {
        return respond::html(200, html_list(&page, now));
    }
    let listed: Vec<_> = page.messages.iter().map(|m| summary(m, now)).collect();
    respond::json(
        200,
        &json!({ "outbox": bridge.settings.outbox.enabled, "total": page.total, "next": page.next,
                 "messages": listed }),
    )
}

pub(super) async fn redrive(
    State(bridge): State<Arc<Bridge>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    act(&bridge, &id, &headers, body, Action::Redrive).await
}

pub(super) async fn discard(
    State(bridge): State<Arc<Bridge>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    act(&bridge, &id, &headers, body, Action::Discard).await
}

enum Action {
    Redrive,
    Discard,
}

async fn act(bridge: &Bridge, id: &str, headers: &HeaderMap, body: Body, action: Action) -> Response {
    // The token is checked before a byte of the body is read.
    let token = match auth::staff_credential(headers, &bridge.settings) {
        Some(StaffCredential::Staff(token)) => token,
        Some(StaffCredential::Status) => {
            return respond::text(
                403,
                "The status token is read-only: re-drive and discard need the staff token \
                 (Authorization: Bearer <STAFF_ACTION_TOKEN>)",
            );
        }
        None => {
            return respond::text(401, "A valid staff token is required (Authorization: Bearer <STAFF_ACTION_TOKEN>)");
        }
    };
    let Ok(body) = read_capped(headers, body, NOTE_BODY_CAP, Duration::from_secs(5)).await else {
        return respond::text(413, "Send at most a short JSON body: {\"note\": \"...\"}");
    };
    let mut staff = StaffAction { acted_by: token.fingerprint(), ..StaffAction::default() };
    if !body.is_empty() {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(value) => {
                staff.note = value.get("note").and_then(|n| n.as_str()).map(str::to_owned);
                staff.force = value.get("force").and_then(serde_json::Value::as_bool).unwrap_or(false);
            }
            Err(_) => return respond::text(400, "The body must be JSON: {\"note\": \"...\"}"),
        }
    }
    let done = match action {
        Action::Redrive => outbox::redrive(bridge, id, staff).await,
        Action::Discard => outbox::discard(bridge, id, staff).await,
    };
    match done {
        Ok(message) => respond::json(200, &summary(&message, bridge.clock.now())),
        Err(refusal) => refused_action(&refusal),
    }
}

fn refused_action(refusal: &QueueRefusal) -> Response {
    match refusal {
        QueueRefusal::Unknown => respond::text(404, "No waiting or parked message has that id"),
        QueueRefusal::NotApplicable(why) => respond::text(409, why),
        QueueRefusal::NoteRequired => respond::text(400, "A discard needs a note saying why: {\"note\": \"...\"}"),
        QueueRefusal::ForceRequired => respond::text(
            409,
            "The message is still waiting for Alma, not parked: the deliverer will send it once Alma takes it. \
             Discard it only if it was done by hand in Alma, with {\"note\": \"...\", \"force\": true}",
        ),
        QueueRefusal::StoreUnavailable => respond::text(503, "The bridge's store is unavailable; try again shortly"),
    }
}

fn html_list(queue: &outbox::QueuePage, now: jiff::Timestamp) -> String {
    use pages::{Node, el, table};
    let messages = &queue.messages;
    let mut page = pages::page("Outbox").with(el("h1").text("Outbox"));
    if queue.total > 0 {
        page.push(el("p").value(format!("{} open messages in all; this page shows {}.", queue.total, messages.len())));
    }
    if messages.is_empty() {
        page.push(el("p").text("No message is waiting for Alma."));
        return page.render();
    }
    let rows = messages.iter().map(|m| {
        let age_minutes = now.duration_since(m.queued_at).as_secs() / 60;
        vec![
            Node::value(m.queued_at.to_string()),
            Node::value(format!("{age_minutes} min")),
            Node::value(m.state.label()),
            Node::value(&m.message_type),
            Node::value(m.request.as_str()),
            Node::value(m.attempts.to_string()),
            Node::value(m.last_answer.as_deref().unwrap_or("")),
            Node::value(&m.id),
        ]
    });
    let headings = ["Queued", "Age", "State", "Message", "Relais request", "Attempts", "Alma's last answer", "Id"];
    page.push(table(&headings, rows));
    page.push(
        el("p")
            .text("With the staff token, re-drive a parked message once its cause is fixed in Alma: ")
            .child(el("code").text("POST /queue/{id}/redrive"))
            .text("; give one up with ")
            .child(el("code").text("POST /queue/{id}/discard"))
            .text(" and a note (docs/operations.md)."),
    );
    if let Some(next) = &queue.next {
        page.push(el("p").child(el("a").attr("href", format!("/queue?after={next}")).text("Next page")));
    }
    page.render()
}
