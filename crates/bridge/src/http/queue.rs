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
//!
//! In the console (a browser signed in through [`session`]) the same actions are buttons: each posts a form
//! carrying the session's CSRF token, and the answer is a page that says what was done. A bulk action is
//! confirmed with its count: the filter form shows how many messages it picks, and the button says that
//! number, which the action then expects.

use super::auth::{self, StaffCredential};
use super::body::read_capped;
use super::session::{self, CSRF_FIELD};
use super::status::{encode_segment, viewer, wants_html};
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
    let viewer = match viewer(&bridge, &headers, &uri) {
        Ok(viewer) => viewer,
        Err(refusal) => return *refusal,
    };
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
        return pages::staff_html(200, html_list(&bridge, &viewer, &page, &actions));
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
    if auth::bearer(headers).is_none() && session::is_form(headers) {
        return act_from_console(bridge, id, headers, body, action).await;
    }
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
    let viewer = match viewer(&bridge, &headers, &uri) {
        Ok(viewer) => viewer,
        Err(refusal) => return *refusal,
    };
    let filter = match filter_from_query(uri.query().unwrap_or_default()) {
        Ok(filter) => filter,
        Err(why) => return respond::text(400, &why),
    };
    if wants_html(&headers) {
        return match bulk::preview(&bridge, &filter).await {
            Ok(matching) => pages::staff_html(200, html_bulk_preview(&viewer, &filter, matching)),
            Err(refusal) => refused_action(&refusal),
        };
    }
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
    if auth::bearer(&headers).is_none() && session::is_form(&headers) {
        return bulk_from_console(&bridge, &headers, body).await;
    }
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
    let (status, why) = refusal_text(refusal);
    respond::text(status, why)
}

/// Why a staff action was refused, and its HTTP status.
fn refusal_text(refusal: &QueueRefusal) -> (u16, &str) {
    match refusal {
        QueueRefusal::Unknown => (404, "No waiting or parked message has that id"),
        QueueRefusal::NotApplicable(why) => (409, why),
        QueueRefusal::NoteRequired => (400, "A discard needs a note saying why: {\"note\": \"...\"}"),
        QueueRefusal::ForceRequired => (
            409,
            "The message is still waiting for Alma, not parked: the deliverer will send it once Alma takes it. \
             Discard it only if it was done by hand in Alma, with {\"note\": \"...\", \"force\": true}",
        ),
        QueueRefusal::StoreUnavailable => (503, "The bridge's store is unavailable; try again shortly"),
    }
}

/// The console's session behind a form POST, checked before a byte of the body is used: signed in, and the
/// form carrying the session's CSRF token. Returns the viewer and the form's fields, or the refusal.
pub(super) async fn console_form<'a>(
    bridge: &'a Bridge,
    headers: &HeaderMap,
    body: Body,
) -> Result<(pages::Viewer<'a>, Vec<(String, String)>), Box<Response>> {
    let Some(signed_in) = session::session(headers, &bridge.settings, bridge.clock.now()) else {
        let page = session::sign_in_page("/queue", Some("Sign in again: the session has ended."));
        return Err(Box::new(pages::staff_html(401, page)));
    };
    let Ok(body) = read_capped(headers, body, NOTE_BODY_CAP, Duration::from_secs(5)).await else {
        return Err(Box::new(respond::text(413, "A staff form holds a short note")));
    };
    let form = session::form_fields(&body);
    if !session::csrf_matches(&signed_in, session::field(&form, CSRF_FIELD)) {
        return Err(Box::new(respond::text(
            403,
            "The form did not come from this console: reload the page and try again",
        )));
    }
    Ok((pages::Viewer { credential: signed_in.credential, session: Some(signed_in) }, form))
}

/// The staff token's fingerprint, or the page saying the session is read-only.
fn console_staff_token(bridge: &Bridge, viewer: &pages::Viewer<'_>) -> Result<String, Box<Response>> {
    match viewer.credential {
        StaffCredential::Staff(token) => Ok(token.fingerprint()),
        StaffCredential::Status => Err(Box::new(result_page(
            bridge,
            viewer,
            403,
            "Not done",
            "Signed in with the read-only status token: sign out and sign in with the staff token to re-drive or \
             discard."
                .to_owned(),
            None,
        ))),
    }
}

/// The note a console form carries, if any.
fn note_of(form: &[(String, String)]) -> Option<String> {
    session::field(form, "note").map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned)
}

/// A re-drive or discard button pressed in the console.
async fn act_from_console(bridge: &Bridge, id: &str, headers: &HeaderMap, body: Body, action: Action) -> Response {
    let (viewer, form) = match console_form(bridge, headers, body).await {
        Ok(found) => found,
        Err(refusal) => return *refusal,
    };
    let acted_by = match console_staff_token(bridge, &viewer) {
        Ok(acted_by) => acted_by,
        Err(page) => return *page,
    };
    let force = session::field(&form, "force") == Some("yes");
    let staff = StaffAction { acted_by, note: note_of(&form), force };
    let (done, verb) = match action {
        Action::Redrive => (outbox::redrive(bridge, id, staff).await, "Re-driven"),
        Action::Discard => (outbox::discard(bridge, id, staff).await, "Discarded"),
    };
    match done {
        Ok(message) => {
            let what = match action {
                Action::Redrive => "is being sent to Alma again now; the request's history will show the outcome.",
                Action::Discard => "was given up; it will not reach Alma. The request's history records the note.",
            };
            let said = format!("{verb}: {} for Relais request {} {what}", message.message_type, message.request);
            result_page(bridge, &viewer, 200, verb, said, Some(message.request.as_str()))
        }
        Err(refusal) => {
            let (status, why) = refusal_text(&refusal);
            result_page(bridge, &viewer, status, "Not done", why.to_owned(), None)
        }
    }
}

/// A bulk action confirmed in the console with the count it was shown.
async fn bulk_from_console(bridge: &Bridge, headers: &HeaderMap, body: Body) -> Response {
    let (viewer, form) = match console_form(bridge, headers, body).await {
        Ok(found) => found,
        Err(refusal) => return *refusal,
    };
    let acted_by = match console_staff_token(bridge, &viewer) {
        Ok(acted_by) => acted_by,
        Err(page) => return *page,
    };
    let kind = match session::field(&form, "action") {
        Some("redrive") => BulkKind::Redrive,
        Some("discard") => BulkKind::Discard,
        _ => return respond::text(400, "The form names no action (redrive or discard)"),
    };
    let Some(expect) = session::field(&form, "expect").and_then(|n| n.parse::<u32>().ok()) else {
        return respond::text(400, "The form names no count to confirm");
    };
    // The filter travels as the preview's query fields; the form's own fields are not part of it.
    let own = [CSRF_FIELD, "action", "expect", "note", "force"];
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().filter(|(k, _)| !own.contains(&k.as_str())))
        .finish();
    let filter = match filter_from_query(&query) {
        Ok(filter) => filter,
        Err(why) => return result_page(bridge, &viewer, 400, "Not done", why, None),
    };
    let force = session::field(&form, "force") == Some("yes");
    let staff = StaffAction { acted_by, note: note_of(&form), force };
    let (status, title, said) = match bulk::confirm(bridge, kind, filter, expect, staff).await {
        Ok(action) => (
            202,
            "Bulk action recorded",
            format!(
                "The {} of {} messages is recorded; the deliverer carries it out at the start of its next round \
                 (its progress is listed on the outbox page).",
                action.kind.label(),
                action.matched
            ),
        ),
        Err(BulkRefusal::CountChanged { now }) => (
            409,
            "Not done",
            format!("The filter picks {now} messages now, not {expect}: look again and confirm that count."),
        ),
        Err(BulkRefusal::NothingMatches) => (409, "Not done", "No open message matches the filter.".to_owned()),
        Err(BulkRefusal::ForceRequired) => (
            409,
            "Not done",
            "A bulk discard gives up parked messages only: choose the state \"parked\", or tick the box saying \
             the messages were done by hand in Alma."
                .to_owned(),
        ),
        Err(BulkRefusal::Queue(refusal)) => {
            let (status, why) = refusal_text(&refusal);
            (status, "Not done", why.to_owned())
        }
    };
    result_page(bridge, &viewer, status, title, said, None)
}

/// The page a console action answers with: what was done (or why not), and the way back.
fn result_page(
    _bridge: &Bridge,
    viewer: &pages::Viewer<'_>,
    status: u16,
    title: &'static str,
    said: String,
    request: Option<&str>,
) -> Response {
    use pages::el;
    let mut page = pages::console(title, None, viewer).with(el("h1").text(title));
    page.push(el("p").attr("role", "status").value(said));
    let mut links = el("p").child(el("a").attr("href", "/queue").text("Back to the outbox"));
    if let Some(id) = request {
        let href = format!("/requests/{}", encode_segment(id));
        links = links.text(" · ").child(el("a").attr("href", href).text("The request's history"));
    }
    page.push(links);
    pages::staff_html(status, page.render())
}

/// The bulk form: a filter (the same fields as `GET /queue/bulk`), sent to count what it picks.
fn bulk_filter_form(filter: &QueueFilter) -> pages::Element {
    use pages::el;
    let text_field = |name: &'static str, label: &'static str, value: Option<String>| {
        let id = name;
        el("p").child(el("label").attr("for", id).text(label)).text(" ").child(
            el("input").attr("type", "text").attr("id", id).attr("name", name).attr("value", value.unwrap_or_default()),
        )
    };
    let states = [("", "waiting or parked"), ("waiting", "waiting"), ("parked", "parked")];
    let chosen = filter.state.map(|s| s.label()).unwrap_or("");
    let options = states.into_iter().map(|(value, label)| {
        let option = el("option").attr("value", value).text(label);
        if value == chosen { option.attr("selected", "selected") } else { option }
    });
    el("form")
        .attr("method", "get")
        .attr("action", "/queue/bulk")
        .child(el("h2").text("Act on many messages"))
        .child(el("p").text("Every given part must match. The next page shows how many messages the filter picks."))
        .child(text_field("message_type", "Message type (e.g. AcceptItem)", filter.message_type.clone()))
        .child(text_field("partner", "Alma partner code", filter.partner.clone()))
        .child(text_field("last_answer", "Words in Alma's last answer", filter.last_answer.clone()))
        .child(text_field(
            "older_than_minutes",
            "Queued at least this many minutes ago",
            filter.older_than_minutes.map(|m| m.to_string()),
        ))
        .child(
            el("p")
                .child(el("label").attr("for", "state").text("State"))
                .text(" ")
                .child(el("select").attr("id", "state").attr("name", "state").children(options)),
        )
        .child(el("button").attr("type", "submit").text("Count the messages"))
}

/// `GET /queue/bulk` in the console: the count, and the buttons that confirm that count.
fn html_bulk_preview(viewer: &pages::Viewer<'_>, filter: &QueueFilter, matching: u32) -> String {
    use pages::el;
    let mut page = pages::console("Act on many messages", None, viewer).with(el("h1").text("Act on many messages"));
    page.push(el("p").attr("role", "status").value(format!("The filter picks {matching} open messages.")));
    page.push(el("p").child(el("a").attr("href", "/queue").text("Back to the outbox")));
    if matching > 0 && viewer.may_act() {
        let filter_fields = || {
            let pairs = [
                ("message_type", filter.message_type.clone()),
                ("partner", filter.partner.clone()),
                ("last_answer", filter.last_answer.clone()),
                ("older_than_minutes", filter.older_than_minutes.map(|m| m.to_string())),
                ("state", filter.state.map(|s| s.label().to_owned())),
            ];
            pairs.into_iter().filter_map(|(name, value)| value.map(|v| pages::hidden(name, v))).collect::<Vec<_>>()
        };
        let redrive = viewer
            .form("/queue/bulk")
            .children(filter_fields())
            .child(pages::hidden("action", "redrive"))
            .child(pages::hidden("expect", matching.to_string()))
            .child(el("button").attr("type", "submit").value(format!("Re-drive {matching} messages")));
        let discard = viewer
            .form("/queue/bulk")
            .children(filter_fields())
            .child(pages::hidden("action", "discard"))
            .child(pages::hidden("expect", matching.to_string()))
            .child(el("label").attr("for", "bulk-note").text("Note (why they are given up) "))
            .child(
                el("input")
                    .attr("type", "text")
                    .attr("id", "bulk-note")
                    .attr("name", "note")
                    .attr("required", "required"),
            )
            .text(" ")
            .child(
                el("label")
                    .child(el("input").attr("type", "checkbox").attr("name", "force").attr("value", "yes"))
                    .text(" Also messages still waiting for Alma (done by hand in Alma)"),
            )
            .text(" ")
            .child(el("button").attr("type", "submit").value(format!("Discard {matching} messages")));
        page.push(el("h2").text("Confirm"));
        page.push(redrive);
        page.push(discard);
    } else if matching > 0 {
        page.push(el("p").text("Sign in with the staff token to act on them."));
    }
    page.push(bulk_filter_form(filter));
    page.render()
}

fn html_list(bridge: &Bridge, viewer: &pages::Viewer<'_>, queue: &outbox::QueuePage, actions: &[BulkAction]) -> String {
    use pages::{Node, el, table};
    let (now, zone) = (bridge.clock.now(), &bridge.settings.ncip.time_zone);
    let messages = &queue.messages;
    let mut page = pages::console("Outbox", Some("/queue"), viewer).with(el("h1").text("Outbox"));
    if !bridge.settings.outbox.enabled {
        page.push(el("p").text("The outbox is off (OUTBOX=off): nothing is queued."));
    }
    if !actions.is_empty() {
        page.push(el("h2").text("Bulk actions"));
        let rows = actions.iter().map(|a| {
            vec![
                pages::when(a.confirmed_at, now, zone),
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
    let may_act = viewer.may_act();
    let rows = messages.iter().map(|m| {
        let request = m.request.as_str();
        let link = el("a").attr("href", format!("/requests/{}", encode_segment(request))).value(request);
        let mut cells = vec![
            pages::when(m.queued_at, now, zone),
            Node::value(m.state.label()),
            Node::value(&m.message_type),
            link.into(),
            Node::value(m.attempts.to_string()),
            Node::value(m.last_answer.as_deref().unwrap_or("")),
            Node::value(&m.id),
        ];
        if may_act {
            cells.push(row_actions(viewer, m).into());
        }
        cells
    });
    let mut headings = vec!["Queued", "State", "Message", "Relais request", "Attempts", "Alma's last answer", "Id"];
    if may_act {
        headings.push("Act");
    }
    page.push(table(&headings, rows));
    if !may_act {
        page.push(el("p").text(
            "Re-drive and discard need the staff token: sign out and sign in with it (scripts send it as a bearer \
             header, docs/operations.md).",
        ));
    }
    if let Some(next) = &queue.next {
        page.push(el("p").child(el("a").attr("href", format!("/queue?after={next}")).text("Next page")));
    }
    page.push(bulk_filter_form(&QueueFilter::default()));
    page.render()
}

/// One message's buttons: re-drive it, or discard it with a note (a waiting one only when ticked as done by
/// hand in Alma). Each control is labelled with the request it acts on, for screen readers.
fn row_actions(viewer: &pages::Viewer<'_>, message: &QueuedMessage) -> pages::Element {
    use pages::el;
    let id = encode_segment(&message.id);
    let who = format!("{} for {}", message.message_type, message.request);
    let redrive = viewer
        .form(format!("/queue/{id}/redrive"))
        .child(el("button").attr("type", "submit").attr("aria-label", format!("Re-drive {who}")).text("Re-drive"));
    let note_id = format!("note-{}", message.id);
    let mut discard = viewer
        .form(format!("/queue/{id}/discard"))
        .child(el("label").attr("for", note_id.as_str()).text("Note "))
        .child(
            el("input")
                .attr("type", "text")
                .attr("id", note_id.as_str())
                .attr("name", "note")
                .attr("required", "required")
                .attr("size", "14"),
        );
    if message.state == QueueState::Waiting {
        discard = discard.text(" ").child(
            el("label")
                .child(el("input").attr("type", "checkbox").attr("name", "force").attr("value", "yes"))
                .text(" done by hand in Alma"),
        );
    }
    let discard = discard
        .text(" ")
        .child(el("button").attr("type", "submit").attr("aria-label", format!("Discard {who}")).text("Discard"));
    el("div").child(redrive).child(discard)
}
