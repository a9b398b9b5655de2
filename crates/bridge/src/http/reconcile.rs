//! The reconciliation report for staff: `GET /reconcile` serves the last completed pass (one row per drift,
//! in-step records counted, not listed) and the pass under way, as JSON, as HTML with `Accept: text/html`, or as
//! CSV with `?format=csv`; the status token or the staff token reads it. `POST /reconcile` with the staff
//! token runs the reconciler now: on AWS it starts the `reconcile` function and answers 202 at once; locally it
//! runs in the server and answers with the run's summary.

use super::status::{viewer, wants_html};
use super::{auth, pages, respond};
use crate::flows::Bridge;
use crate::flows::reconcile::report::{self, Pass, Report};
use crate::flows::reconcile::{self, LastCheck};
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Uri};
use serde_json::json;
use std::sync::Arc;

/// `GET /reconcile[?format=csv]`.
pub(super) async fn show(State(bridge): State<Arc<Bridge>>, uri: Uri, headers: HeaderMap) -> Response {
    let viewer = match viewer(&bridge, &headers, &uri) {
        Ok(viewer) => viewer,
        Err(refusal) => return *refusal,
    };
    let report = match reconcile::report(&bridge).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(error = %e, "the reconciliation report could not be read");
            return respond::text(503, "The bridge's store is unavailable; try again shortly");
        }
    };
    let csv = uri.query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "format" && v.eq_ignore_ascii_case("csv"))
    });
    if csv {
        let body = report.latest.as_ref().map(report::csv).unwrap_or_else(|| report::csv(&Pass::default()));
        return (
            [
                (http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (http::header::CONTENT_DISPOSITION, "attachment; filename=\"reconciliation.csv\""),
                (http::header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response();
    }
    if wants_html(&headers) {
        return pages::staff_html(200, html(&bridge, &viewer, &report));
    }
    respond::json(200, &json_report(&report))
}

fn json_report(report: &Report) -> serde_json::Value {
    let pass = |p: &Pass| {
        json!({
            "started_at": p.started_at, "completed_at": p.completed_at, "runs": p.runs, "checked": p.checked,
            "in_step": p.in_step, "ids_found": p.ids_found, "alma_calls": p.calls,
            "drift_counts": p.counts().into_iter().map(|(k, n)| (k.label().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "drifts": p.drifts.iter().map(|d| json!({
                "relais_request_id": d.relais_request_id, "barcode": d.barcode, "side": d.side,
                "kind": d.kind.label(), "relais_believes": d.relais_believes, "alma_shows": d.alma_shows,
                "since": d.since, "action": d.action.label(),
            })).collect::<Vec<_>>(),
        })
    };
    json!({
        "latest": report.latest.as_ref().map(pass),
        "under_way": report.under_way.as_ref().map(|p| json!({
            "started_at": p.started_at, "runs": p.runs, "checked": p.checked, "drifts_so_far": p.drifts.len(),
        })),
        "last_run": report.last_run,
    })
}

fn html(bridge: &Bridge, viewer: &pages::Viewer<'_>, report: &Report) -> String {
    use pages::{Node, el, table};
    let (now, zone) = (bridge.clock.now(), &bridge.settings.ncip.time_zone);
    let mut page = pages::console("Reconciliation", Some("/reconcile"), viewer);
    page.push(el("h1").text("Reconciliation with Alma"));
    if viewer.may_act() {
        // Staff run it after fixing something, rather than wait for the night.
        page.push(viewer.form("/reconcile").child(el("button").attr("type", "submit").text("Run it now")));
    }
    let Some(latest) = &report.latest else {
        page.push(el("p").text("No reconciliation has completed yet."));
        if let Some(under_way) = &report.under_way {
            page.push(el("p").value(format!("A pass is under way: {} records checked so far.", under_way.checked)));
        }
        return page.render();
    };
    let when = latest.completed_at.map(|t| pages::local_time(t, zone)).unwrap_or_default();
    page.push(el("p").text("Completed ").value(when).value(format!(
        ": {} records checked, {} in step, {} drifts, {} Alma ids found; {} runs, {} Alma calls.",
        latest.checked,
        latest.in_step,
        latest.drifts.len(),
        latest.ids_found,
        latest.runs,
        latest.calls
    )));
    if let Some(run) = &report.last_run {
        let ended = serde_json::to_value(&run.end).ok().and_then(|v| v["ended"].as_str().map(str::to_owned));
        page.push(el("p").text("Last run: ").value(format!(
            "{} to {}, ended at {}, {} records, {} Alma calls.",
            pages::local_time(run.started_at, zone),
            pages::local_time(run.ended_at, zone),
            ended.unwrap_or_default(),
            run.checked.len(),
            run.calls
        )));
    }
    page.push(el("p").child(el("a").attr("href", "/reconcile?format=csv").text("Download as CSV")));
    if latest.drifts.is_empty() {
        page.push(el("p").text("Every record checked is in step with Alma."));
        return page.render();
    }
    let rows = latest.drifts.iter().map(|d| {
        vec![
            Node::from(el("a").attr("href", format!("/requests/{}", d.relais_request_id)).value(&d.relais_request_id)),
            Node::value(d.barcode.as_deref().unwrap_or("")),
            Node::value(&d.side),
            Node::value(d.kind.label()),
            Node::value(&d.relais_believes),
            Node::value(&d.alma_shows),
            pages::when(d.since, now, zone),
            Node::value(d.action.label()),
        ]
    });
    let headings =
        ["Relais request", "Barcode", "Side", "Drift", "Relais believes", "Alma shows", "Since", "Suggested action"];
    page.push(table(&headings, rows));
    page.render()
}

/// `POST /reconcile`: the staff token runs the reconciler now (a bearer header, or the console's button).
pub(super) async fn run_now(State(bridge): State<Arc<Bridge>>, headers: HeaderMap, body: Body) -> Response {
    match auth::staff_credential(&headers, &bridge.settings) {
        Some(auth::StaffCredential::Staff(_)) => {}
        None if super::session::session(&headers, &bridge.settings, bridge.clock.now()).is_some() => {
            return run_from_console(&bridge, &headers, body).await;
        }
        Some(auth::StaffCredential::Status) => {
            return respond::text(403, "The status token is read-only: running the reconciler needs the staff token");
        }
        None => {
            return respond::text(401, "A valid staff token is required (Authorization: Bearer <STAFF_ACTION_TOKEN>)");
        }
    }
    let Some(trigger) = &bridge.reconcile_trigger else {
        return respond::text(503, "This deployment cannot run the reconciler on demand");
    };
    match trigger.start(&bridge).await {
        Ok(Some(summary)) => respond::json(200, &json!(summary)),
        Ok(None) => respond::json(202, &json!({ "started": true })),
        Err(why) => {
            tracing::warn!(error = %why, "the reconciler could not be started");
            respond::text(503, "The reconciler could not be started; try again shortly")
        }
    }
}

/// The console's "Run it now" button: signed in with the staff token, the form carrying the session's CSRF
/// token. Answers with a page saying what was started.
async fn run_from_console(bridge: &Arc<Bridge>, headers: &HeaderMap, body: Body) -> Response {
    use pages::el;
    let (viewer, _) = match super::queue::console_form(bridge, headers, body).await {
        Ok(signed_in) => signed_in,
        Err(refusal) => return *refusal,
    };
    let mut page = pages::console("Reconciliation run", None, &viewer);
    page.push(el("h1").text("Reconciliation run"));
    let (status, said) = if !viewer.may_act() {
        (
            403,
            "Signed in with the read-only status token: sign in with the staff token to run the reconciliation."
                .to_owned(),
        )
    } else {
        match &bridge.reconcile_trigger {
            None => (503, "This deployment cannot run the reconciler on demand.".to_owned()),
            Some(trigger) => match trigger.start(bridge).await {
                Ok(Some(summary)) => (
                    200,
                    format!(
                        "The reconciliation ran: {} records checked, {} drifts found, {} Alma calls.",
                        summary.checked.len(),
                        summary.drifts.values().sum::<u64>(),
                        summary.calls
                    ),
                ),
                Ok(None) => (202, "The reconciliation was started; its report appears here when it ends.".to_owned()),
                Err(why) => {
                    tracing::warn!(error = %why, "the reconciler could not be started");
                    (503, "The reconciler could not be started; try again shortly.".to_owned())
                }
            },
        }
    };
    page.push(el("p").attr("role", "status").value(said));
    page.push(el("p").child(el("a").attr("href", "/reconcile").text("The reconciliation report")));
    pages::staff_html(status, page.render())
}

/// A record's last reconciliation, for its status page.
pub(super) fn last_check_html(last: Option<&LastCheck>) -> pages::Element {
    use pages::el;
    let line = el("p").child(el("strong").text("Last reconciliation:")).text(" ");
    match last {
        None => line.text("not yet compared with Alma."),
        Some(check) if check.drifts.is_empty() => line.value(format!("{}, in step with Alma.", check.at)),
        Some(check) => {
            let kinds: Vec<&str> = check.drifts.iter().map(|d| d.kind.label()).collect();
            line.value(format!("{}: {} ", check.at, kinds.join(", ")))
                .child(el("a").attr("href", "/reconcile").text("(the report)"))
        }
    }
}
