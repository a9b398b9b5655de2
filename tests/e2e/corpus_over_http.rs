//! Every real NCIP message in `../shared/ncip-corpus/` (when present: see `support::corpus`), posted to the running bridge, gets a well-formed NCIP
//! answer: a response to the service it names, or a top-level Problem. A file added to the corpus is covered
//! without code changes.

use crate::support;

use crate::support::{Harness, StoreKind};
use bridge::ncip::{self, Message, ReadOptions};

#[tokio::test]
async fn every_corpus_message_gets_a_well_formed_ncip_answer() {
    let Some(corpus) = support::corpus::dir() else { return };
    let h = Harness::start(StoreKind::Embedded).await;
    let mut files: Vec<_> = std::fs::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 55, "the corpus has its 55 files");
    for file in files {
        let body = std::fs::read(&file).unwrap();
        let response = h
            .http
            .post(h.bridge.url(&format!("/ncip/{}", support::NCIP_TOKEN)))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(response.status(), 200, "{name}");
        let answer = response.bytes().await.unwrap();
        let parsed = ncip::read(&answer, &ReadOptions::default()).unwrap_or_else(|e| {
            panic!("{name}: our answer does not parse ({e}): {}", String::from_utf8_lossy(&answer))
        });
        assert!(parsed.is_response() || matches!(parsed, Message::Problem(_)), "{name}: not a response: {parsed:?}");
        // A request gets the response of its own service (or a top-level Problem when unreadable).
        if let Ok(peek) = ncip::peek(&body, &ncip::ReadOptions::default())
            && !peek.is_response
            && peek.version == ncip::NcipVersion::V2
            && !matches!(parsed, Message::Problem(_))
        {
            assert_eq!(parsed.service(), peek.service, "{name}");
        }
    }
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_agency_authentication_failed() {
    let h = Harness::start(StoreKind::Embedded).await;
    let message = support::messages::lookup_version();
    for url in [h.bridge.url("/ncip/wrong-token-0000000000"), h.bridge.url("/ncip")] {
        let answer = h.http.post(url).body(message.clone()).send().await.unwrap().text().await.unwrap();
        assert!(answer.contains("Agency Authentication Failed"), "{answer}");
        assert!(!answer.contains("LookupVersionResponse"), "{answer}");
    }
    let answer = h
        .http
        .post(h.bridge.url("/ncip"))
        .bearer_auth(support::NCIP_TOKEN)
        .body(message)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(answer.contains("LookupVersionResponse") && answer.contains("v2_02"), "{answer}");
}

/// A rotation of the NCIP secret without an outage: while `NCIP_SHARED_SECRET_PREVIOUS` is set, Relais's old
/// URL and the new secret both work; any other token does not.
#[tokio::test]
async fn during_a_rotation_the_previous_and_the_new_secret_are_both_accepted() {
    let new = "rotated-ncip-secret-0123456789";
    let rotating = [("NCIP_SHARED_SECRET", new), ("NCIP_SHARED_SECRET_PREVIOUS", support::NCIP_TOKEN)];
    let h = Harness::start_with(StoreKind::Embedded, &rotating, |store| store).await;
    let message = support::messages::lookup_version();
    let post = |token: &str| {
        let (http, url, body) = (h.http.clone(), h.bridge.url(&format!("/ncip/{token}")), message.clone());
        async move { http.post(url).body(body).send().await.unwrap().text().await.unwrap() }
    };
    for token in [support::NCIP_TOKEN, new] {
        assert!(post(token).await.contains("LookupVersionResponse"), "{token} is accepted during the rotation");
    }
    assert!(post("some-other-token-0123456789").await.contains("Agency Authentication Failed"));

    // After the rotation only the new secret works.
    let h = Harness::start_with(StoreKind::Embedded, &[("NCIP_SHARED_SECRET", new)], |store| store).await;
    let old = h.http.post(h.bridge.url(&format!("/ncip/{}", support::NCIP_TOKEN))).body(message).send().await;
    assert!(old.unwrap().text().await.unwrap().contains("Agency Authentication Failed"));
}

/// The open default agency policy is fine for a first run but is said out loud on the status page (and at
/// start-up); naming the agencies silences it.
#[tokio::test]
async fn an_open_agency_policy_is_flagged_on_the_status_page_until_agencies_are_named() {
    for (env, flagged) in [(vec![], true), (vec![("NCIP_ALLOWED_AGENCIES", "Relais")], false)] {
        let h = Harness::start_with(StoreKind::Embedded, &env, |store| store).await;
        let answer = h.ncip(&support::messages::accept_item("RL-POLICY-1", "ILL-POLICY-1", "21000000001")).await;
        assert!(!answer.contains("Problem"), "{answer}");
        let warnings = h.status_json("RL-POLICY-1").await["warnings"].to_string();
        assert_eq!(warnings.contains("NCIP_ALLOWED_AGENCIES"), flagged, "{env:?}: {warnings}");
        assert_eq!(h.status_html("RL-POLICY-1").await.contains("Warning:"), flagged, "{env:?}");
    }
}

/// A Relais request id that spells a route name is still an id like any other on the status page.
#[tokio::test]
async fn requests_named_like_routes_can_be_viewed() {
    let h = Harness::start(StoreKind::Embedded).await;
    for (n, id) in ["ncip", "health", "openurl", "requests"].into_iter().enumerate() {
        let answer = h.ncip(&support::messages::accept_item(id, &format!("ILL-ROUTE-{n}"), "21000000001")).await;
        assert!(!answer.contains("Problem"), "{id}: {answer}");
        assert_eq!(h.status_json(id).await["record"]["relais_request_id"], id);
    }
}

/// The status token is taken from the Authorization header only: as `?token=` it would stay in browser
/// histories and proxy logs. A browser without it is sent to the console's sign-in form, which posts the token once
/// and gets a signed session cookie back (never the token), then returns to the page it asked for.
#[tokio::test]
async fn the_status_token_is_a_header_only_and_a_browser_gets_a_sign_in_page() {
    let h = Harness::start(StoreKind::Embedded).await;
    let answer = h.ncip(&support::messages::accept_item("RL-TOKEN-1", "ILL-TOKEN-1", "21000000001")).await;
    assert!(!answer.contains("Problem"), "{answer}");
    let in_url = h.bridge.url(&format!("/requests/RL-TOKEN-1?token={}", support::STATUS_TOKEN));
    assert_eq!(h.http.get(&in_url).send().await.unwrap().status(), 401, "a token in the URL is not accepted");
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let asked = no_redirects.get(h.bridge.url("/requests/RL-TOKEN-1")).header("accept", "text/html");
    let asked = asked.send().await.unwrap();
    assert_eq!(asked.status(), 303);
    assert_eq!(asked.headers()["location"], "/signin?next=%2Frequests%2FRL-TOKEN-1");
    let page = h.http.get(h.bridge.url("/requests/RL-TOKEN-1")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200, "the sign-in page");
    let page = page.text().await.unwrap();
    assert!(page.contains("<form method=\"post\" action=\"/signin\">"), "{page}");
    assert!(page.contains("name=\"next\" value=\"/requests/RL-TOKEN-1\""), "comes back to the page: {page}");
    assert!(!page.contains("<script"), "no script: {page}");
    assert!(!page.contains("ILL-TOKEN-1"), "nothing of the record before sign-in: {page}");
    // The form's post: a cookie holding no token, and the way back.
    let form = format!("token={}&next=%2Frequests%2FRL-TOKEN-1", support::STATUS_TOKEN);
    let signed_in =
        no_redirects.post(h.bridge.url("/signin")).header("content-type", "application/x-www-form-urlencoded");
    let signed_in = signed_in.body(form).send().await.unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/requests/RL-TOKEN-1");
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(support::STATUS_TOKEN), "the cookie holds no token: {cookie}");
    let session = cookie.split(';').next().unwrap();
    let page = h.http.get(h.bridge.url("/requests/RL-TOKEN-1")).header("accept", "text/html").header("cookie", session);
    assert!(page.send().await.unwrap().text().await.unwrap().contains("ILL-TOKEN-1"));
    assert!(h.status_html("RL-TOKEN-1").await.contains("ILL-TOKEN-1"), "the bearer header still works");
}
