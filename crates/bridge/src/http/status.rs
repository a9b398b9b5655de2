//! `GET /requests/{relais_request_id}`: a request's correlation record and history for staff, as JSON or (for
//! a browser) a small HTML page; `GET /requests?barcode=`: the records of an item. Both need a staff token as a
//! bearer header: the read-only `STATUS_TOKEN`, or `STAFF_ACTION_TOKEN` (whoever may act may also read).

use super::{auth, pages, respond};
use crate::flows::Bridge;
use crate::flows::status::{self as flow, RequestView, StatusRefusal};
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::json;
use std::sync::Arc;

/// The value of `key` in the query string, percent-decoded.
fn query_value(uri: &Uri, key: &str) -> Option<String> {
    uri.query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned()))
}

/// The answer for a caller without the status token (or the staff token), or `None` to go on. The token is
/// taken from the `Authorization` header only: in a URL it would stay in browser histories and proxy logs. A
/// browser is answered with a sign-in page that keeps the token for the tab (session storage) and sends it as a
/// header.
pub(super) fn refused(bridge: &Bridge, headers: &HeaderMap) -> Option<Response> {
    if auth::staff_credential(headers, &bridge.settings).is_some() {
        return None;
    }
    Some(if wants_html(headers) {
        respond::html(401, pages::page("Staff sign-in").with(pages::Node::trusted(SIGN_IN)).render())
    } else {
        respond::text(401, "A valid status token is required (Authorization: Bearer <STATUS_TOKEN>)")
    })
}

/// The sign-in page's body: the token goes into this tab's session storage, never into a URL or a cookie,
/// and the page asks for itself again with it as a bearer header.
const SIGN_IN: &str = r#"<h1>Staff sign-in</h1>
<form id="sign-in"><label>Status token <input type="password" id="token" autocomplete="off" required></label>
<button>Show</button></form><p id="note"></p>
<script>
const KEY = "alma-relais-bridge-status-token";
async function show(token) {
  const answer = await fetch(location.href, { headers: { Authorization: "Bearer " + token, Accept: "text/html" } });
  if (!answer.ok) {
    sessionStorage.removeItem(KEY);
    document.getElementById("note").textContent = "That token was not accepted.";
    return;
  }
  sessionStorage.setItem(KEY, token);
  document.open(); document.write(await answer.text()); document.close();
}
const saved = sessionStorage.getItem(KEY);
if (saved) show(saved);
document.getElementById("sign-in").addEventListener("submit", (e) => {
  e.preventDefault(); show(document.getElementById("token").value);
});
</script>"#;

/// `GET /requests?barcode=<item barcode>`: the records holding that barcode, as JSON.
pub(super) async fn search(State(bridge): State<Arc<Bridge>>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&bridge, &headers) {
        return refusal;
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

pub(super) async fn request(State(bridge): State<Arc<Bridge>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refused(&bridge, &headers) {
        return refusal;
    }
    let last = crate::store::RelaisRequestId::new(&id).ok();
    let last = match &last {
        Some(id) => crate::flows::reconcile::last_check(&bridge, id).await.ok().flatten(),
        None => None,
    };
    match flow::view(&bridge, id).await {
        Ok(view) if wants_html(&headers) => {
            let mut page = html_page(&view, &bridge.settings.open_policy_warnings());
            // The last reconciliation, one line before the end of the page.
            if let Some(end) = page.rfind("</body>") {
                page.insert_str(end, &super::reconcile::last_check_html(last.as_ref()).render());
            }
            respond::html(200, page)
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

fn html_page(view: &RequestView, warnings: &[&str]) -> String {
    use pages::{Node, el, table};
    let (id, record, history) = (view.id.as_str(), view.record.as_ref(), view.history.as_slice());
    let mut page = pages::page(format!("Relais request {id}"));
    page.push(el("h1").text("Relais request ").value(id));
    for warning in warnings {
        page.push(el("p").child(el("strong").text("Warning:")).text(" ").value(warning));
    }
    match record {
        Some(r) => {
            let rows = [
                ("Side", format!("{:?}", r.side)),
                ("Status", format!("{:?}", r.status)),
                ("Alma partner", r.partner.to_string()),
                ("Item barcodes", r.item_barcodes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
                ("Alma request id", r.alma.request_id.clone().unwrap_or_default()),
                ("Alma item pid", r.alma.item_pid.clone().unwrap_or_default()),
                ("Alma MMS id", r.alma.mms_id.clone().unwrap_or_default()),
                ("Alma holding id", r.alma.holding_id.clone().unwrap_or_default()),
                ("Alma hold or loan id", r.alma.hold_or_loan_id.clone().unwrap_or_default()),
                ("Due", r.due_date.map(|d| d.to_string()).unwrap_or_default()),
                ("Updated", r.updated_at.to_string()),
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
                Node::value(m.queued_at.to_string()),
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
            (n, Some(last)) => format!("{:?} {} more times, the last at {last}", entry.outcome, n),
        };
        // One line per Alma call.
        let calls = entry.alma_calls.iter().enumerate().flat_map(|(i, c)| {
            let call = format!("{} {} → {} ({} ms)", c.method, c.path_template, c.status, c.elapsed_ms);
            let line_break = (i > 0).then(|| Node::from(el("br")));
            line_break.into_iter().chain([Node::value(call)])
        });
        vec![
            Node::value(entry.at.to_string()),
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
