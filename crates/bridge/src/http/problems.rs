//! `GET /problems`: the NCIP Problems and Temporary Processing Failures answered to Relais in the last seven
//! days, grouped by type, partner and message type, with counts and the latest requests (their Relais ids,
//! never a patron). JSON, or a console page with `Accept: text/html`; the status token or the staff token,
//! like the other staff pages.

use super::status::{encode_segment, viewer, wants_html};
use super::{pages, respond};
use crate::flows::Bridge;
use crate::flows::problems::{self as flow, ProblemsWeek};
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, Uri};
use serde_json::json;
use std::sync::Arc;

/// What the page does not list, and where staff find it instead.
const NOT_LISTED: &str = "LookupUser's refusals (unknown patron, wrong PIN, blocked) and the NCIP front door's own \
                          refusals (a missing or wrong token, an agency not admitted) answer no request and are \
                          not listed here: they are in the logs and metrics (RefusedNcipTokens, PinLockouts, \
                          Messages by outcome; docs/operations.md).";

pub(super) async fn list(State(bridge): State<Arc<Bridge>>, uri: Uri, headers: HeaderMap) -> Response {
    let viewer = match viewer(&bridge, &headers, &uri) {
        Ok(viewer) => viewer,
        Err(refusal) => return *refusal,
    };
    let Some(week) = flow::week(&bridge).await else {
        return respond::text(503, "The bridge's store is unavailable; try again shortly");
    };
    if wants_html(&headers) {
        return pages::staff_html(200, html(&bridge, &viewer, &week));
    }
    respond::json(
        200,
        &json!({ "since": week.since, "total": week.total, "truncated": week.truncated, "groups": week.groups,
                 "not_listed": NOT_LISTED }),
    )
}

fn html(bridge: &Bridge, viewer: &pages::Viewer<'_>, week: &ProblemsWeek) -> String {
    use pages::{Node, el, table};
    let (now, zone) = (bridge.clock.now(), &bridge.settings.ncip.time_zone);
    let mut page = pages::console("Problems answered to Relais", Some("/problems"), viewer)
        .with(el("h1").text("Problems answered to Relais"));
    page.push(el("p").value(format!(
        "{} answered since {} (the last seven days), in {} groups.",
        week.total,
        pages::local_time(week.since, zone),
        week.groups.len()
    )));
    if week.truncated {
        page.push(
            el("p")
                .child(el("strong").text("More were answered than the page reads:"))
                .text(" the oldest of the week are not counted."),
        );
    }
    page.push(el("p").text(NOT_LISTED));
    if week.groups.is_empty() {
        page.push(el("p").text("No Problem was answered to Relais in the last seven days."));
        return page.render();
    }
    let rows = week.groups.iter().map(|g| {
        let kind = if g.temporary { "temporary (Relais resends)" } else { "Problem (staff act)" };
        let examples = g.examples.iter().enumerate().flat_map(|(i, id)| {
            let separator = (i > 0).then(|| Node::text(", "));
            let link = el("a").attr("href", format!("/requests/{}", encode_segment(id.as_str()))).value(id.as_str());
            separator.into_iter().chain([link.into()])
        });
        vec![
            Node::value(&g.problem_type),
            Node::value(kind),
            Node::value(g.partner.as_deref().unwrap_or("(unknown)")),
            Node::value(&g.message_type),
            Node::value(g.count.to_string()),
            pages::when(g.latest_at, now, zone),
            el("span").children(examples).into(),
        ]
    });
    let headings = ["Problem", "Kind", "Partner", "Message", "Count", "Latest", "Latest requests"];
    page.push(table(&headings, rows));
    page.render()
}
