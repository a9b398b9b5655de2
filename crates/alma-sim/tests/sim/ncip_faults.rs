//! What a bridge meets when its NCIP URL is wrong or Alma's responder refuses to act: a 404 off the
//! servlet path, a sign-in page instead of NCIP, and the Problems Alma answers without acting.

use crate::common::{self, accept_item, arm, post_ncip};
use serde_json::json;

async fn post_to(sim: &alma_sim::AlmaSim, path: &str, xml: &str) -> (u16, String, String) {
    let origin = sim.ncip_url().trim_end_matches("/view/NCIPServlet").to_owned();
    let r = reqwest::Client::new().post(format!("{origin}{path}")).body(xml.to_owned()).send().await.unwrap();
    let content_type = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (r.status().as_u16(), content_type, r.text().await.unwrap())
}

#[tokio::test]
async fn any_other_path_under_view_is_an_html_404_and_changes_nothing() {
    let sim = common::start().await;
    let xml = accept_item("RELAIS", "R-P1", "21000000001", "B-P1");
    for path in ["/view/NCIPServlet/v1", "/view/NCIPservlet", "/view/action/uresolver.do", "/view/NCIP"] {
        let (status, content_type, body) = post_to(&sim, path, &xml).await;
        assert_eq!(status, 404, "{path}");
        assert!(content_type.starts_with("text/html"), "{path}: {content_type}");
        assert!(body.contains("404"), "{body}");
    }
    assert_eq!(sim.state().items_with_barcode("B-P1"), 0);
    // Logged as NCIP calls, so a test sees where the bridge posted.
    let calls = sim.calls();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| c.scope == "ncip" && c.status == Some(404) && c.ncip_service.is_none()));
    assert_eq!(calls[0].path, "/view/NCIPServlet/v1");
}

#[tokio::test]
async fn login_page_answers_200_html_instead_of_ncip_and_changes_nothing() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "login_page", "for_next": 1})).await, 201);
    let xml = accept_item("RELAIS", "R-P2", "21000000001", "B-P2");
    let (status, content_type, body) = post_to(&sim, "/view/NCIPServlet", &xml).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("<form") && body.contains("password") && !body.contains("NCIPMessage"), "{body}");
    assert_eq!(sim.state().items_with_barcode("B-P2"), 0);
    assert_eq!(sim.calls()[0].fault.as_deref(), Some("login_page"));
    // Used up: the next message is answered in NCIP.
    let (status, body) = post_ncip(&sim, &xml).await;
    assert_eq!(status, 200);
    assert!(body.contains("AcceptItemResponse"), "{body}");
}

#[tokio::test]
async fn html_404_answers_404_html_on_the_servlet_path() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "html_404", "scope": "ncip", "for_next": 1})).await, 201);
    let (status, content_type, body) =
        post_to(&sim, "/view/NCIPServlet", &accept_item("RELAIS", "R-P3", "21000000001", "B-P3")).await;
    assert_eq!((status, content_type.starts_with("text/html")), (404, true));
    assert!(body.contains("404"));
    assert_eq!(sim.state().items_with_barcode("B-P3"), 0);
}

#[tokio::test]
async fn ncip_only_kinds_pass_over_rest_and_cannot_be_aimed_at_it() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "login_page", "scope": "rest"})).await, 400);
    assert_eq!(arm(&sim, json!({"kind": "html_404"})).await, 201);
    let r = common::client(&sim).get(format!("{}/users/patron1", sim.base_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn patron_busy_answers_the_problem_and_does_not_act() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "patron_busy", "for_next": 1})).await, 201);
    let xml = accept_item("RELAIS", "R-P4", "21000000001", "B-P4");
    let (status, body) = post_ncip(&sim, &xml).await;
    assert_eq!(status, 200);
    let answer = ncip_codec::read(body.as_bytes(), &ncip_codec::ReadOptions::default()).expect("NCIP");
    let ncip_codec::Message::AcceptItemResponse(r) = answer else { panic!("an AcceptItemResponse: {body}") };
    let problem = &r.problems[0];
    assert_eq!(problem.problem_type.value, "Patron Record is Busy");
    assert_eq!(
        problem.problem_type.scheme.as_deref(),
        Some("http://www.niso.org/ncip/v1_0/schemes/processingerrortype/acceptitemprocessingerror.scm")
    );
    assert_eq!(problem.value.as_deref(), Some("21000000001"));
    assert_eq!(sim.state().items_with_barcode("B-P4"), 0, "Alma did nothing");
    assert_eq!(sim.state().counts().borrowing_requests, 0);
    let call = &sim.calls()[0];
    assert_eq!((call.fault.as_deref(), call.ncip_service.as_deref()), (Some("patron_busy"), Some("AcceptItem")));
    // The same message again, the fault used up, is acted on.
    let (_, body) = post_ncip(&sim, &xml).await;
    assert!(!body.contains("Problem"), "{body}");
    assert_eq!(sim.state().items_with_barcode("B-P4"), 1);
}

#[tokio::test]
async fn patron_busy_leaves_an_unknown_partner_answered_as_such() {
    let sim = common::start().await;
    assert_eq!(arm(&sim, json!({"kind": "patron_busy", "scope": "ncip"})).await, 201);
    let (_, body) = post_ncip(&sim, &accept_item("NOBODY", "R-P5", "21000000001", "B-P5")).await;
    assert!(body.contains("Unknown partner") && !body.contains("Patron Record is Busy"), "{body}");
    assert_eq!(arm(&sim, json!({"kind": "patron_busy", "scope": "rest"})).await, 400);
}
