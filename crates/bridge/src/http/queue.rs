//! The outbox for staff: `GET /queue` lists waiting and parked messages oldest first (JSON, or HTML with
//! `Accept: text/html`), with the status token or the staff token like the status page. The staff actions
//! need the staff token (`STAFF_ACTION_TOKEN`; the status token is read-only): `POST /queue/{message}/redrive`
//! sends a parked message to Alma again and `POST /queue/{message}/discard` gives it up. Both take an optional
//! JSON body `{"note": "..."}` (a discard must have one; discarding a message still waiting for Alma also
//! needs `"force": true`), recorded in the request's history with the acting token's fingerprint.
//!
//! Many messages at once: `GET /queue/bulk?message_type=&partner=&last_answer=&older_than_minutes=&state=`
//! counts the open messages a filter picks (either token), and `POST /queue/bulk` with the staff token and
//! `{"action": "redrive"|"discard", "filter": {...}, "expect": <that count>, "note": "...", "force": bool}`
//! records the action, which the deliverer carries out; `GET /queue` shows its progress.

use super::auth::{self, StaffCredential};
use super::body::read_capped;
use super::status::{refused, wants_html};
use super::{pages, respond};
use crate::flows::Bridge;
use crate::flows::bulk::{self, BulkRefusal};
use crate::flows::outbox::{self, QueueRefusal, StaffAction};
use crate::store::{BulkAction, BulkKind, QueueFilter, QueueState, QueuedMessage};
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
    let actions = match bulk::listed(&bridge).await {
        Ok(actions) => actions,
        Err(refusal) => return refused_action(&refusal),
    };
    let now = bridge.clock.now();
    if wants_html(&headers) {
        return respond::html(200, html_list(&page, &actions, now));
    }
    let listed: Vec<_> = page.messages.iter().map(|m| summary(m, now)).collect();
    let actions: Vec<_> = actions.iter().map(bulk_summary).collect();
    respond::json(
        200,
        &json!({ "outbox": bridge.settings.outbox.enabled, "total": page.total, "next": page.next,
                 "messages": listed, "bulk_actions": actions }),
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

/// The fingerprint of the staff token the request carries, or the status and text refusing it.
fn staff_token(bridge: &Bridge, headers: &HeaderMap) -> Result<String, (u16, &'static str)> {
    match auth::staff_credential(headers, &bridge.settings) {
        Some(StaffCredential::Staff(token)) => Ok(token.fingerprint()),
        Some(StaffCredential::Status) => Err((
            403,
            "The status token is read-only: re-drive and discard need the staff token \
             (Authorization: Bearer <STAFF_ACTION_TOKEN>)",
        )),
        None => Err((401, "A valid staff token is required (Authorization: Bearer <STAFF_ACTION_TOKEN>)")),
    }
}

async fn act(bridge: &Bridge, id: &str, headers: &HeaderMap, body: Body, action: Action) -> Response {
    // The token is checked before a byte of the body is read.
    let acted_by = match staff_token(bridge, headers) {
        Ok(acted_by) => acted_by,
        Err((status, why)) => return respond::text(status, why),
    };
    let Ok(body) = read_capped(headers, body, NOTE_BODY_CAP, Duration::from_secs(5)).await else {
        return respond::text(413, "Send at most a short JSON body: {\"note\": \"...\"}");
    };
    let mut staff = StaffAction { acted_by, ..StaffAction::default() };
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

/// `GET /queue/bulk?...`: how many open messages the filter picks now, to be confirmed with that count.
pub(super) async fn bulk_preview(State(bridge): State<Arc<Bridge>>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&bridge, &headers) {
        return refusal;
    }
    let filter = match filter_from_query(uri.query().unwrap_or_default()) {
        Ok(filter) => filter,
        Err(why) => return respond::text(400, &why),
    };
    match bulk::preview(&bridge, &filter).await {
        Ok(matching) => respond::json(
            200,
            &json!({
                "matching": matching,
                "filter": filter,
                "confirm": "POST /queue/bulk with the staff token and {\"action\": \"redrive\" or \"discard\", \
                            \"filter\": <this filter>, \"expect\": <matching>, \"note\": \"...\"}",
            }),
        ),
        Err(refusal) => refused_action(&refusal),
    }
}

/// What `POST /queue/bulk` carries.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkRequest {
    action: BulkKind,
    #[serde(default)]
    filter: QueueFilter,
    expect: u32,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    force: bool,
}

/// `POST /queue/bulk`: records a bulk action for the deliverer, if the filter still picks the count staff
/// were shown.
pub(super) async fn bulk_confirm(State(bridge): State<Arc<Bridge>>, headers: HeaderMap, body: Body) -> Response {
    let acted_by = match staff_token(&bridge, &headers) {
        Ok(acted_by) => acted_by,
        Err((status, why)) => return respond::text(status, why),
    };
    let Ok(body) = read_capped(&headers, body, NOTE_BODY_CAP, Duration::from_secs(5)).await else {
        return respond::text(413, "Send at most a short JSON body");
    };
    let request: BulkRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return respond::text(
                400,
                &format!(
                    "The body must be JSON: {{\"action\": \"redrive\" or \"discard\", \"filter\": {{...}}, \
                     \"expect\": <the count GET /queue/bulk gave>, \"note\": \"...\", \"force\": false}} ({})",
                    err
                ),
            );
        }
    };
    if let Err(why) = check_filter(&request.filter) {
        return respond::text(400, &why);
    }
    let staff = StaffAction { acted_by, note: request.note, force: request.force };
    match bulk::confirm(&bridge, request.action, request.filter, request.expect, staff).await {
        Ok(action) => respond::json(202, &bulk_summary(&action)),
        Err(BulkRefusal::CountChanged { now }) => respond::text(
            409,
            &format!(
                "The filter picks {now} messages now, not {}: look again (GET /queue/bulk) and confirm that count",
                request.expect
            ),
        ),
        Err(BulkRefusal::NothingMatches) => respond::text(409, "No open message matches the filter"),
        Err(BulkRefusal::ForceRequired) => respond::text(
            409,
            "A bulk discard gives up parked messages only: add \"state\": \"parked\" to the filter, or, to give up \
             messages still waiting for Alma too (done by hand in Alma), \"force\": true",
        ),
        Err(BulkRefusal::Queue(refusal)) => refused_action(&refusal),
    }
}

/// The filter in `GET /queue/bulk`'s query: the same names as the JSON filter; an unknown name is refused,
/// since dropping it would widen the filter.
fn filter_from_query(query: &str) -> Result<QueueFilter, String> {
    let mut filter = QueueFilter::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim().to_owned();
        if value.is_empty() {
            continue;
        }
        match name.as_ref() {
            "message_type" => filter.message_type = Some(value),
            "partner" => filter.partner = Some(value),
            "last_answer" => filter.last_answer = Some(value),
            "older_than_minutes" => {
                let minutes = value.parse().map_err(|_| "`older_than_minutes` must be a whole number".to_owned())?;
                filter.older_than_minutes = Some(minutes);
            }
            "state" => {
                filter.state = Some(match value.as_str() {
                    "waiting" => QueueState::Waiting,
                    "parked" => QueueState::Parked,
                    _ => return Err("`state` is `waiting` or `parked`".to_owned()),
                });
            }
            other => {
                return Err(format!(
                    "Unknown filter `{other}`: use message_type, partner, last_answer, older_than_minutes, state"
                ));
            }
        }
    }
    check_filter(&filter)?;
    Ok(filter)
}

/// Only open messages are in the queue: a filter on another state would match nothing, and is refused so
/// that staff see why.
fn check_filter(filter: &QueueFilter) -> Result<(), String> {
    match filter.state {
        Some(state) if !state.is_open() => Err("`state` is `waiting` or `parked`".to_owned()),
        _ => Ok(()),
    }
}

/// A bulk action as staff see it, with its progress.
fn bulk_summary(action: &BulkAction) -> serde_json::Value {
    json!({
        "id": action.id,
        "action": action.kind.label(),
        "filter": action.filter,
        "confirmed_at": action.confirmed_at,
        "acted_by": action.acted_by,
        "note": action.note,
        "state": action.state.label(),
        "matched": action.matched,
        "done": action.done,
        "skipped": action.skipped,
        "updated_at": action.updated_at,
    })
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

fn html_list(queue: &outbox::QueuePage, actions: &[BulkAction], now: jiff::Timestamp) -> String {
    use pages::{Node, el, table};
    let messages = &queue.messages;
    let mut page = pages::page("Outbox").with(el("h1").text("Outbox"));
    if !actions.is_empty() {
        page.push(el("h2").text("Bulk actions"));
        let rows = actions.iter().map(|a| {
            vec![
                Node::value(a.confirmed_at.to_string()),
                Node::value(a.kind.label()),
                Node::value(serde_json::to_string(&a.filter).unwrap_or_default()),
                Node::value(a.state.label()),
                Node::value(format!("{} of {}", a.done, a.matched)),
                Node::value(a.skipped.to_string()),
                Node::value(a.note.as_deref().unwrap_or("")),
            ]
        });
        let headings = ["Confirmed", "Action", "Filter", "State", "Done", "Left alone", "Note"];
        page.push(table(&headings, rows));
    }
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
