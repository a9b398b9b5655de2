//! `GET /requests/{relais_request_id}`: a request's correlation record and history for staff, as JSON or (for
//! a browser) a small HTML page; `GET /requests?barcode=`: the records of an item. Both need a staff token as a
//! bearer header or through the console's sign-in ([`session`]): the read-only `STATUS_TOKEN`, or
//! `STAFF_ACTION_TOKEN` (whoever may act may also read). `GET /requests?q=` is the console's search box: a
//! Relais request id or an item barcode, answered with the request's page or the item's requests.

use super::{auth, pages, respond, session};
use crate::flows::Bridge;
use crate::flows::status::{self as flow, RequestView, StatusRefusal};
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::json;
use std::sync::Arc;

/// The value of `key` in the query string, percent-decoded.
pub(super) fn query_value(uri: &Uri, key: &str) -> Option<String> {
    uri.query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned()))
}

/// Who may read the staff pages: a caller with the status token or the staff token, as a bearer header (it
/// wins) or through the console's session cookie ([`session`]). Otherwise the refusal: a browser is sent to
/// the sign-in page, which brings it back to `uri` once signed in; a script gets a 401. A token in a URL is never
/// read: it would stay in browser histories and proxy logs.
pub(super) fn viewer<'a>(
    bridge: &'a Bridge,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<pages::Viewer<'a>, Box<Response>> {
    if let Some(credential) = auth::staff_credential(headers, &bridge.settings) {
        return Ok(pages::Viewer { credential, session: None });
    }
    if let Some(session) = session::session(headers, &bridge.settings, bridge.clock.now()) {
        return Ok(pages::Viewer { credential: session.credential, session: Some(session) });
    }
    Err(Box::new(if wants_html(headers) {
        let next = uri.path_and_query().map_or("/queue", |p| p.as_str());
        let back = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
        session::see_other(&format!("/signin?{back}"), None)
    } else {
        respond::text(401, "A valid status token is required (Authorization: Bearer <STATUS_TOKEN>)")
    }))
}

/// `GET /requests?barcode=<item barcode>`: the records holding that barcode, as JSON.
pub(super) async fn search(State(bridge): State<Arc<Bridge>>, uri: Uri, headers: HeaderMap) -> Response {
    let viewer = match viewer(&bridge, &headers, &uri) {
        Ok(viewer) => viewer,
        Err(refusal) => return *refusal,
    };
    if let Some(wanted) = query_value(&uri, "q") {
        return find(&bridge, &viewer, wanted.trim()).await;
    }
    let Some(barcode) = query_value(&uri, "barcode") else {
        return respond::text(400, "Search by item: /requests?barcode=<item barcode>");
    };
    match flow::search_by_barcode(&bridge, &barcode).await {
        Ok(records) => respond::json(200, &json!({ "barcode": barcode, "records": records })),
        Err(StatusRefusal::StoreUnavailable) => {
            respond::text(503, "The bridge's store is unavailable; try again shortly")
        }
        Err(_) => respond::text(400, "That is not an item barcode"),
    }
}

pub(super) async fn request(
    State(bridge): State<Arc<Bridge>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let viewer = match viewer(&bridge, &headers, &uri) {
        Ok(viewer) => viewer,
        Err(refusal) => return *refusal,
    };
    let last = crate::store::RelaisRequestId::new(&id).ok();
    let last = match &last {
        Some(id) => crate::flows::reconcile::last_check(&bridge, id).await.ok().flatten(),
        None => None,
    };
    match flow::view(&bridge, id).await {
        Ok(view) if wants_html(&headers) => {
            let mut page = html_page(&bridge, &viewer, &view, &bridge.settings.open_policy_warnings());
            // The last reconciliation, one line before the end of the page.
            if let Some(end) = page.rfind("</body>") {
                page.insert_str(end, &super::reconcile::last_check_html(last.as_ref()).render());
            }
            pages::staff_html(200, page)
        }
        Ok(RequestView { id, record, history, queue }) => {
            let warnings = bridge.settings.open_policy_warnings();
            // The outbox's view of the request's messages, without their bodies (they name the patron).
            let queue: Vec<_> = queue
                .iter()
                .map(|m| {
                    json!({ "id": m.id, "message_type": m.message_type, "state": m.state.label(),
                            "queued_at": m.queued_at, "attempts": m.attempts, "last_answer": m.last_answer,
                            "note": m.note })
                })
                .collect();
            let attention = record.as_ref().and_then(flow::staff_attention);
            respond::json(
                200,
                &json!({ "relais_request_id": id, "record": record, "history": history, "queue": queue,
                         "warnings": warnings, "attention": attention, "last_reconciliation": last }),
            )
        }
        Err(StatusRefusal::NotAnId) => respond::text(400, "That is not a Relais request id"),
        Err(StatusRefusal::Unknown) => respond::text(404, "No request with that id is known to the bridge"),
        Err(StatusRefusal::StoreUnavailable) => {
            respond::text(503, "The bridge's store is unavailable; try again shortly")
        }
    }
}

pub(super) fn wants_html(headers: &HeaderMap) -> bool {
    headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
}

fn html_page(bridge: &Bridge, viewer: &pages::Viewer<'_>, view: &RequestView, warnings: &[&str]) -> String {
    use pages::{Node, el, table};
    let (id, record, history) = (view.id.as_str(), view.record.as_ref(), view.history.as_slice());
    let (now, zone) = (bridge.clock.now(), &bridge.settings.ncip.time_zone);
    let mut page = pages::console(format!("Relais request {id}"), None, viewer);
    page.push(el("h1").text("Relais request ").value(id));
    for warning in warnings {
        page.push(el("p").child(el("strong").text("Warning:")).text(" ").value(warning));
    }
    match record {
        Some(r) => {
            // An id Alma has not been asked for yet (it is read back after Relais's answer) says so.
            let alma_id = |id: &Option<String>| match id {
                Some(id) => id.clone(),
                None if r.alma.pending => "pending".to_owned(),
                None => String::new(),
            };
            let rows = [
                ("Side", format!("{:?}", r.side)),
                ("Status", format!("{:?}", r.status)),
                ("Alma partner", r.partner.to_string()),
                ("Item barcodes", r.item_barcodes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
                ("Alma request id", alma_id(&r.alma.request_id)),
                ("Alma item pid", alma_id(&r.alma.item_pid)),
                ("Alma MMS id", alma_id(&r.alma.mms_id)),
                ("Alma holding id", alma_id(&r.alma.holding_id)),
                ("Alma hold or loan id", alma_id(&r.alma.hold_or_loan_id)),
                ("Due", r.due_date.map(|d| d.to_string()).unwrap_or_default()),
                ("Updated", format!("{}, {}", pages::local_time(r.updated_at, zone), pages::age(r.updated_at, now))),
            ];
            let rows = rows.into_iter().map(|(label, value)| {
                el("tr").child(el("th").attr("scope", "row").text(label)).child(el("td").value(value))
            });
            page.push(el("table").child(el("tbody").children(rows)));
            if let Some(attention) = flow::staff_attention(r) {
                page.push(el("p").child(el("strong").text("For staff:")).text(" ").value(attention));
            }
        }
        None => page.push(el("p").text("No correlation record (only history).")),
    }
    if !view.queue.is_empty() {
        page.push(el("h2").text("Outbox"));
        let rows = view.queue.iter().map(|m| {
            vec![
                pages::when(m.queued_at, now, zone),
                Node::value(&m.message_type),
                Node::value(m.state.label()),
                Node::value(m.attempts.to_string()),
                Node::value(m.last_answer.as_deref().unwrap_or("")),
                Node::value(m.note.as_deref().unwrap_or("")),
            ]
        });
        page.push(table(&["Queued", "Message", "State", "Attempts", "Alma's last answer", "Note"], rows));
    }
    page.push(el("h2").text("History"));
    let rows = history.iter().map(|entry| {
        let problem = entry
            .problem
            .as_ref()
            .map(|p| format!("{}: {}", p.problem_type, p.detail.clone().unwrap_or_default()))
            .unwrap_or_default();
        let outcome = match (entry.repeats, entry.last_repeat_at) {
            (0, _) | (_, None) => format!("{:?}", entry.outcome),
            (n, Some(last)) => {
                format!("{:?} {} more times, the last at {}", entry.outcome, n, pages::local_time(last, zone))
            }
        };
        // One line per Alma call.
        let calls = entry.alma_calls.iter().enumerate().flat_map(|(i, c)| {
            let call = format!("{} {} → {} ({} ms)", c.method, c.path_template, c.status, c.elapsed_ms);
            let line_break = (i > 0).then(|| Node::from(el("br")));
            line_break.into_iter().chain([Node::value(call)])
        });
        vec![
            pages::when(entry.at, now, zone),
            Node::value(&entry.message_type),
            Node::value(outcome),
            Node::value(problem),
            el("span").children(calls).into(),
            Node::value(entry.alma_tracking_id.as_deref().unwrap_or("")),
        ]
    });
    page.push(table(&["Time", "Message", "Outcome", "Problem", "Alma calls", "Alma tracking id"], rows));
    page.render()
}

/// The console's search: `wanted` as a Relais request id first (its page), else as an item barcode (its one
/// request's page, or a list of its requests).
async fn find(bridge: &Bridge, viewer: &pages::Viewer<'_>, wanted: &str) -> Response {
    use pages::{el, table};
    let by_id = flow::view(bridge, wanted.to_owned()).await;
    if by_id.is_ok() {
        return session::see_other(&format!("/requests/{}", encode_segment(wanted)), None);
    }
    let records = match flow::search_by_barcode(bridge, wanted).await {
        Ok(records) => records,
        Err(StatusRefusal::StoreUnavailable) => {
            return respond::text(503, "The bridge's store is unavailable; try again shortly");
        }
        Err(_) => Vec::new(),
    };
    if let [only] = records.as_slice() {
        return session::see_other(&format!("/requests/{}", encode_segment(only.relais_request_id.as_str())), None);
    }
    let mut page = pages::console("Find a request", None, viewer).with(el("h1").text("Find a request"));
    if records.is_empty() {
        page.push(el("p").text("No Relais request has the id or item barcode ").value(wanted).text("."));
        return pages::staff_html(404, page.render());
    }
    page.push(el("p").text("Requests for item ").value(wanted).text(", newest first:"));
    let (now, zone) = (bridge.clock.now(), &bridge.settings.ncip.time_zone);
    let rows = records.iter().map(|r| {
        let id = r.relais_request_id.as_str();
        vec![
            el("a").attr("href", format!("/requests/{}", encode_segment(id))).value(id).into(),
            pages::Node::value(format!("{:?}", r.side)),
            pages::Node::value(format!("{:?}", r.status)),
            pages::when(r.updated_at, now, zone),
        ]
    });
    page.push(table(&["Relais request", "Side", "Status", "Updated"], rows));
    pages::staff_html(200, page.render())
}

/// `value` as one path segment.
pub(super) fn encode_segment(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}
