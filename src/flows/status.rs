//! `GET /requests/{relais_request_id}`: a request's correlation record and message history for staff, as
//! JSON or (for a browser) a small HTML page. It needs `STATUS_TOKEN`; the record holds ids, never names.

use crate::app::App;
use crate::http::{auth, pages, respond};
use crate::store::{Correlation, HistoryEntry, RelaisRequestId};
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub async fn handle(app: &App, request: &Request, id: &str) -> Response<Body> {
    if request.method() != http::Method::GET {
        return respond::text(405, "Use GET");
    }
    let query_token = request.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned())
    });
    if !auth::authorised(request, query_token.as_deref(), &app.settings.status_token) {
        return respond::text(401, "A valid status token is required (Authorization: Bearer <STATUS_TOKEN>)");
    }
    let id = percent_decode(id);
    let Ok(relais_id) = RelaisRequestId::new(id.clone()) else {
        return respond::text(400, "That is not a Relais request id");
    };
    let (record, history) = match (app.store.get_request(&relais_id).await, app.store.history(&relais_id).await) {
        (Ok(record), Ok(history)) => (record, history),
        (Err(err), _) | (_, Err(err)) => {
            tracing::error!(error = %err, "store unavailable for a status read");
            return respond::text(503, "The bridge's store is unavailable; try again shortly");
        }
    };
    if record.is_none() && history.is_empty() {
        return respond::text(404, "No request with that id is known to the bridge");
    }
    let wants_html = request
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        respond::html(200, html_page(&id, record.as_ref(), &history))
    } else {
        respond::json(200, &json!({ "relais_request_id": id, "record": record, "history": history }))
    }
}

fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn html_page(id: &str, record: Option<&Correlation>, history: &[HistoryEntry]) -> String {
    let e = pages::escape;
    let mut body = format!("<h1>Relais request {}</h1>", e(id));
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
                ("Due", r.due_date.map(|d| d.to_string()).unwrap_or_default()),
                ("Updated", r.updated_at.to_string()),
            ];
            body.push_str("<table>");
            for (label, value) in rows {
                body.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", e(label), e(&value)));
            }
            body.push_str("</table>");
        }
        None => body.push_str("<p>No correlation record (only history).</p>"),
    }
    body.push_str("<h2>History</h2><table><tr><th>Time</th><th>Message</th><th>Outcome</th><th>Problem</th><th>Alma calls</th><th>Alma tracking id</th></tr>");
    for entry in history {
        let problem = entry
            .problem
            .as_ref()
            .map(|p| format!("{}: {}", p.problem_type, p.detail.clone().unwrap_or_default()))
            .unwrap_or_default();
        let calls = entry
            .alma_calls
            .iter()
            .map(|c| format!("{} {} → {} ({} ms)", c.method, c.path_template, c.status, c.elapsed_ms))
            .collect::<Vec<_>>()
            .join("<br>");
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&entry.at.to_string()),
            e(&entry.message_type),
            entry.outcome,
            e(&problem),
            calls.split("<br>").map(e).collect::<Vec<_>>().join("<br>"),
            e(entry.alma_tracking_id.as_deref().unwrap_or(""))
        ));
    }
    body.push_str("</table>");
    pages::page(&format!("Relais request {id}"), &body)
}
