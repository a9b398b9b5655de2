//! `PATRON_IDENTITY=oidc`: the bridge signs the patron in at an OpenID Connect provider, finds them in Alma
//! and opens the Relais form under LookupUser's id, encrypted for Relais. These tests use a stand-in provider
//! in the test process (`support::stand_in_idp`), which can issue the tokens a real provider never would; the
//! real provider's end-to-end run is in `sign_in_real_idp`.

use crate::support::browser::{Browser, location};
use crate::support::stand_in_idp::{Issue, StandInIdp};
use crate::support::{Harness, StoreKind};
use alma_sim::Seed;
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bridge::flows::sign_in::{SESSION_COOKIE, SIGN_IN_COOKIE};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const RELAIS_PRIVATE: &str = include_str!("../../crates/openurl/tests/keys/relais_private.pem");
pub const RELAIS_PUBLIC: &str = include_str!("../../crates/openurl/tests/keys/relais_public.pem");
pub const COOKIE_SECRET: &str = "sign-in-cookie-secret-0123456789abcdef";
pub const LINK: &str = "genre=article&atitle=On+fish&title=Nature&issn=0028-0836&volume=12&spage=3&date=2020";
const FORM: &str = "https://relais.example.org/user/login.html?group=patron&LS=DEMO";

/// A port free for the bridge, so its callback URL can be registered before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A bridge on the embedded store signing patrons in at `idp`, with `extra` settings (later ones win).
async fn bridge(idp: &StandInIdp, seed: Option<Seed>, extra: &[(&str, &str)]) -> Harness {
    let port = free_port();
    let mut env = idp.settings(&format!("http://127.0.0.1:{port}/openurl/callback"));
    env.extend([
        ("BRIDGE_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
        ("RELAIS_PUBLIC_KEY".to_owned(), RELAIS_PUBLIC.to_owned()),
        ("SIGN_IN_COOKIE_SECRET".to_owned(), COOKIE_SECRET.to_owned()),
    ]);
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    match seed {
        Some(seed) => Harness::start_seeded(seed, &pairs).await,
        None => Harness::start_with(StoreKind::Embedded, &pairs, |store| store).await,
    }
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("a PEM body")
}

/// The patron id and its time in a redirect's `base64PI`, decrypted with Relais's private key by aws-lc-rs
/// (the bridge encrypts with `rsa`): `id|yyyyMMdd HHmmss`.
pub fn relais_patron(location: &str) -> (String, String) {
    let url = url::Url::parse(location).expect("an absolute redirect");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(pairs.iter().any(|(k, v)| k == "base64PI" && v == "true"), "an encrypted PI: {location}");
    let pi = &pairs.iter().find(|(k, _)| k == "PI").unwrap_or_else(|| panic!("a PI: {location}")).1;
    let key = Pkcs1PrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&pem_der(RELAIS_PRIVATE)).unwrap())
        .expect("Relais's test key");
    let mut out = vec![0; key.min_output_size()];
    let plain = key.decrypt(&STANDARD.decode(pi).expect("base64"), &mut out).expect("encrypted for Relais");
    let plain = String::from_utf8(plain.to_vec()).expect("UTF-8");
    let (id, time) = plain.split_once('|').unwrap_or_else(|| panic!("id|timestamp: {plain}"));
    (id.to_owned(), time.to_owned())
}

/// Relais accepts the encrypted id for five minutes and never from the future: the time must be now's.
pub fn assert_within_relais_window(time: &str) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let then = |secs: u64| bridge::openurl::identity::relais_timestamp(UNIX_EPOCH + Duration::from_secs(secs));
    let window: Vec<String> = (0..=60).map(|back| then(now.as_secs() + 1 - back)).collect();
    assert!(window.contains(&time.to_owned()), "{time} is not within the last minute (UTC, yyyyMMdd HHmmss)");
}

/// The Relais form's query without its patron: what the citation became.
pub fn citation_of(location: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    let kept: Vec<(String, String)> =
        url.query_pairs().into_owned().filter(|(k, _)| k != "PI" && k != "base64PI").collect();
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish()
}

/// The anonymous redirect for `LINK`, the citation a signed-in patron's form must carry too.
async fn anonymous_citation(h: &Harness) -> String {
    let mut anonymous = Browser::default();
    let response = anonymous.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    // Under the sign-in every link goes to the provider: the expected citation is the form's, from a bridge
    // without the sign-in, which cleans links the same way.
    assert!(response.status().is_redirection());
    location(&response)
}

/// The link, the provider's sign-in (at once, at the stand-in) and the callback: the bridge's last answer.
async fn sign_in(h: &Harness, browser: &mut Browser) -> reqwest::Response {
    let to_provider = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    let provider = location(&to_provider);
    assert!(!provider.starts_with(FORM), "the link goes to the provider first: {provider}");
    let back = browser.get(&provider).await;
    let callback = location(&back);
    browser.get(&callback).await
}

/// A refusal: no Relais form, no session.
fn assert_no_form(browser: &Browser, response: &reqwest::Response) {
    if response.status().is_redirection() {
        let target = location(response);
        assert!(!target.starts_with("https://relais.example.org"), "no Relais form: {target}");
    }
    assert!(browser.cookie("127.0.0.1", SESSION_COOKIE).is_none(), "no session");
}

async fn refused_page(h: &Harness, browser: &mut Browser, status: u16, words: &str) {
    let response = sign_in(h, browser).await;
    assert_eq!(response.status(), status);
    assert_no_form(browser, &response);
    let page = response.text().await.unwrap();
    assert!(page.contains(words), "{words:?} in {page}");
    for alma_detail in ["401890", "errorList", "user_group", "UNDERGRAD", "@demo.example.edu"] {
        assert!(!page.contains(alma_detail), "no Alma detail ({alma_detail}) on the page: {page}");
    }
}

#[tokio::test]
async fn a_signed_in_patron_reaches_the_relais_form_with_the_citation_and_an_encrypted_id() {
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let h = bridge(&idp, None, &[]).await;
    let mut browser = Browser::default();

    let to_provider = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    assert_eq!(to_provider.status(), 302);
    assert_eq!(to_provider.headers()["cache-control"], "no-store");
    let request = url::Url::parse(&location(&to_provider)).unwrap();
    assert_eq!(request.as_str().split('?').next(), Some(format!("{}/authorize", idp.issuer()).as_str()));
    let sign_in_cookie = browser.cookie("127.0.0.1", SIGN_IN_COOKIE).expect("the round trip's cookie").clone();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/openurl/callback", "Max-Age=600"] {
        assert!(sign_in_cookie.line.contains(attribute), "{attribute} in {}", sign_in_cookie.line);
    }
    assert!(!sign_in_cookie.value.contains("fish"), "the citation is sealed, not readable");

    let back = browser.get(request.as_str()).await;
    let asked = idp.last_authorization();
    assert_eq!(asked["response_type"], "code");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["client_id"], crate::support::stand_in_idp::CLIENT_ID);
    assert_eq!(asked["state"].len(), 22, "state is a digest, whatever the citation's length");
    assert!(asked["nonce"].len() >= 43 && asked["code_challenge"].len() == 43);
    assert!(asked["scope"].split(' ').any(|s| s == "openid"));

    let relais = browser.get(&location(&back)).await;
    assert_eq!(relais.status(), 302);
    let form = location(&relais);
    assert!(form.starts_with(FORM), "{form}");
    let (patron, time) = relais_patron(&form);
    assert_eq!(patron, "21000000001", "the RELAIS partner matches patrons by barcode: LookupUser's Primary Key");
    assert_within_relais_window(&time);
    let session = browser.cookie("127.0.0.1", SESSION_COOKIE).expect("a session").clone();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/openurl"] {
        assert!(session.line.contains(attribute), "{attribute} in {}", session.line);
    }
    assert!(!session.line.contains("Max-Age"), "the session ends with the browser: {}", session.line);
    assert!(browser.cookie("127.0.0.1", SIGN_IN_COOKIE).is_none(), "the round trip's cookie is removed");

    // The citation survived the round trip: the same form an anonymous link gets from a bridge without it.
    let plain = Harness::start(StoreKind::Embedded).await;
    assert_eq!(citation_of(&form), citation_of(&anonymous_citation(&plain).await));
}

#[tokio::test]
async fn blocked_expired_inactive_and_wrong_group_patrons_get_a_page_and_no_form() {
    let idp = StandInIdp::start(Issue::email("blocked1@demo.example.edu")).await;
    let h = bridge(&idp, None, &[("PATRON_ILL_GROUPS", "UNDERGRAD,GRAD")]).await;
    refused_page(&h, &mut Browser::default(), 403, "not active, or has a block").await;
    idp.set_issue(Issue::email("inactive1@demo.example.edu"));
    refused_page(&h, &mut Browser::default(), 403, "not active, or has a block").await;
    idp.set_issue(Issue::email("expired1@demo.example.edu"));
    refused_page(&h, &mut Browser::default(), 403, "has expired").await;
    idp.set_issue(Issue::email("faculty1@demo.example.edu"));
    refused_page(&h, &mut Browser::default(), 403, "does not offer interlibrary loan to").await;
}

#[tokio::test]
async fn an_address_no_user_has_exactly_is_refused_though_alma_finds_it_inside_another() {
    let idp = StandInIdp::start(Issue::email("nobody@demo.example.edu")).await;
    let h = bridge(&idp, None, &[]).await;
    refused_page(&h, &mut Browser::default(), 403, "no borrower record").await;
    // Alma's `~` finds patron1@demo.example.edu for this address; the full comparison does not.
    idp.set_issue(Issue::email("atron1@demo.example.edu"));
    refused_page(&h, &mut Browser::default(), 403, "no borrower record").await;
}

#[tokio::test]
async fn an_address_two_users_share_is_refused() {
    let twin = json!({
        "primary_id": "patron1twin", "status": {"value": "ACTIVE", "desc": "Active"},
        "user_group": {"value": "UNDERGRAD", "desc": "Undergraduate"}, "expiry_date": "2030-01-16Z",
        "contact_info": {"email": [{"email_address": "Patron1@demo.example.edu", "preferred": true}]},
        "user_identifier": [{"value": "21000000099", "id_type": {"value": "BARCODE", "desc": "Barcode"}}],
    });
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let h = bridge(&idp, Some(Seed::demo().with_user(twin)), &[]).await;
    refused_page(&h, &mut Browser::default(), 403, "more than one borrower record").await;
}

#[tokio::test]
async fn a_token_for_another_client_with_another_nonce_or_expired_is_refused() {
    let idp =
        StandInIdp::start(Issue { audience: "another-service".into(), ..Issue::email("patron1@demo.example.edu") })
            .await;
    let h = bridge(&idp, None, &[]).await;
    refused_page(&h, &mut Browser::default(), 400, "could not be completed").await;
    idp.set_issue(Issue { nonce: Some("another-sign-ins-nonce".into()), ..Issue::email("patron1@demo.example.edu") });
    refused_page(&h, &mut Browser::default(), 400, "could not be completed").await;
    // A token valid for one minute, checked after the patron spent three at the provider (the bridge's clock).
    idp.set_issue(Issue { lifetime: 60, ..Issue::email("patron1@demo.example.edu") });
    let mut browser = Browser::default();
    let to_provider = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    let back = browser.get(&location(&to_provider)).await;
    h.clock.advance(Duration::from_secs(180));
    let response = browser.get(&location(&back)).await;
    assert_eq!(response.status(), 400);
    assert_no_form(&browser, &response);
}

#[tokio::test]
async fn a_forged_signature_is_refused_and_unknown_key_ids_reread_the_keys_at_most_once_a_minute() {
    let idp = StandInIdp::start(Issue { forged: true, ..Issue::email("patron1@demo.example.edu") }).await;
    let h = bridge(&idp, None, &[]).await;
    refused_page(&h, &mut Browser::default(), 400, "could not be completed").await;
    let reads = idp.jwks_reads();
    assert_eq!(reads, 1, "the keys are read once and kept");
    // Forged tokens naming key ids the provider never had: within a minute of the last read, the keys are not
    // read again at all; after it, once, not once a token.
    idp.set_issue(Issue { forged: true, kid: "made-up".into(), ..Issue::email("patron1@demo.example.edu") });
    refused_page(&h, &mut Browser::default(), 400, "could not be completed").await;
    assert_eq!(idp.jwks_reads(), reads, "the keys were read less than a minute ago");
    h.clock.advance(Duration::from_secs(61));
    for _ in 0..3 {
        refused_page(&h, &mut Browser::default(), 400, "could not be completed").await;
    }
    assert_eq!(idp.jwks_reads(), reads + 1, "one re-read within the minute");
    h.clock.advance(Duration::from_secs(61));
    refused_page(&h, &mut Browser::default(), 400, "could not be completed").await;
    assert_eq!(idp.jwks_reads(), reads + 2, "and one more a minute later");
}

#[tokio::test]
async fn a_tampered_state_or_a_missing_sign_in_cookie_is_refused() {
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let h = bridge(&idp, None, &[]).await;
    let mut browser = Browser::default();
    let to_provider = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    let back = browser.get(&location(&to_provider)).await;
    let callback = url::Url::parse(&location(&back)).unwrap();
    let mut tampered = callback.clone();
    let pairs: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    tampered.query_pairs_mut().clear().extend_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), if k == "state" { "AAAAAAAAAAAAAAAAAAAAAA" } else { v.as_str() })),
    );
    let response = browser.get(tampered.as_str()).await;
    assert_eq!(response.status(), 400);
    assert_no_form(&browser, &response);
    // The untouched callback in another browser (no round-trip cookie) is refused too.
    let mut elsewhere = Browser::default();
    let response = elsewhere.get(callback.as_str()).await;
    assert_eq!(response.status(), 400);
    assert_no_form(&elsewhere, &response);
}

#[tokio::test]
async fn a_replayed_callback_is_refused_by_the_provider() {
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let h = bridge(&idp, None, &[]).await;
    let mut browser = Browser::default();
    let to_provider = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    let back = browser.get(&location(&to_provider)).await;
    let callback = location(&back);
    let round_trip = browser.cookie("127.0.0.1", SIGN_IN_COOKIE).unwrap().value.clone();
    let first = browser.get(&callback).await;
    assert!(location(&first).starts_with(FORM), "the first use signs in");
    // The same callback again, with the same round-trip cookie (as an attacker who copied both would send).
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&callback)
        .header("cookie", format!("{SIGN_IN_COOKIE}={round_trip}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with(SESSION_COOKIE)));
    assert_no_form(&Browser::default(), &response);
}

#[tokio::test]
async fn an_unverified_address_is_refused() {
    let issue = Issue {
        patron: json!({ "email": "patron1@demo.example.edu", "email_verified": false }),
        ..Issue::email("patron1@demo.example.edu")
    };
    let idp = StandInIdp::start(issue).await;
    let h = bridge(&idp, None, &[]).await;
    refused_page(&h, &mut Browser::default(), 400, "could not be completed").await;
}

#[tokio::test]
async fn a_patron_named_by_eppn_is_read_as_any_unique_id() {
    let issue = Issue { patron: json!({ "eppn": "U1002" }), ..Issue::email("unused") };
    let idp = StandInIdp::start(issue).await;
    let h = bridge(&idp, None, &[("OIDC_PATRON_CLAIM", "eppn")]).await;
    let response = sign_in(&h, &mut Browser::default()).await;
    assert_eq!(relais_patron(&location(&response)).0, "21000000002", "faculty1's barcode");
}

#[tokio::test]
async fn within_the_session_a_second_link_goes_straight_to_relais_until_it_ends() {
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let h = bridge(&idp, None, &[]).await;
    let mut browser = Browser::default();
    let first = sign_in(&h, &mut browser).await;
    assert!(location(&first).starts_with(FORM));
    assert_eq!(idp.authorizations(), 1);

    let second = browser.get(&h.bridge.url("/openurl?genre=book&title=Second+book&isbn=9780838913390")).await;
    let form = location(&second);
    assert!(form.starts_with(FORM) && form.contains("Second%20book"), "{form}");
    assert_eq!(relais_patron(&form).0, "21000000001");
    assert_eq!(idp.authorizations(), 1, "no second sign-in");

    // Past a few minutes the patron's standing is read from Alma again, and the session carries on.
    let reads = |h: &Harness| h.sim.calls().iter().filter(|c| c.path.starts_with("/almaws/v1/users/")).count();
    let before = reads(&h);
    h.clock.advance(Duration::from_secs(6 * 60));
    let third = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    assert!(location(&third).starts_with(FORM));
    assert_eq!(reads(&h), before + 1, "one read of the patron's standing");

    // Thirty minutes after signing in the session is over, however recently it was used.
    h.clock.advance(Duration::from_secs(25 * 60));
    let late = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    assert!(location(&late).starts_with(idp.issuer()), "signs in again: {}", location(&late));
    assert_eq!(idp.authorizations(), 1, "the browser has not been to the provider yet");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let h = bridge(&idp, None, &[]).await;
    let mut browser = Browser::default();
    sign_in(&h, &mut browser).await;
    assert!(browser.cookie("127.0.0.1", SESSION_COOKIE).is_some());
    let out = browser.get(&h.bridge.url("/openurl/sign-out")).await;
    assert_eq!(out.status(), 200);
    assert!(out.text().await.unwrap().contains("signed out"));
    assert!(browser.cookie("127.0.0.1", SESSION_COOKIE).is_none());
    let next = browser.get(&h.bridge.url(&format!("/openurl?{LINK}"))).await;
    assert!(location(&next).starts_with(idp.issuer()));
}

#[tokio::test]
async fn a_session_outlives_a_rotation_until_the_previous_secret_is_deleted() {
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let before = bridge(&idp, None, &[]).await;
    let mut browser = Browser::default();
    sign_in(&before, &mut browser).await;
    let session = browser.cookie("127.0.0.1", SESSION_COOKIE).unwrap().value.clone();
    let link = |h: &Harness| h.bridge.url(&format!("/openurl?{LINK}"));
    let with_session = |url: String| {
        let session = session.clone();
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(url)
                .header("cookie", format!("{SESSION_COOKIE}={session}"))
                .send()
                .await
                .unwrap()
        }
    };
    const NEW: &str = "the-rotated-cookie-secret-0123456789abcdef";
    let rotating =
        bridge(&idp, None, &[("SIGN_IN_COOKIE_SECRET", NEW), ("SIGN_IN_COOKIE_SECRET_PREVIOUS", COOKIE_SECRET)]).await;
    let during = with_session(link(&rotating)).await;
    assert!(location(&during).starts_with(FORM), "the previous secret still opens the session");
    let rotated = bridge(&idp, None, &[("SIGN_IN_COOKIE_SECRET", NEW)]).await;
    let after = with_session(link(&rotated)).await;
    assert!(location(&after).starts_with(idp.issuer()), "signs in again once the previous secret is deleted");
    let cleared = after.headers().get_all("set-cookie").iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0")
    });
    assert!(cleared, "the session that no longer opens is removed");
}

#[tokio::test]
async fn the_logs_carry_no_address_claim_code_token_or_cookie_of_a_sign_in() {
    let logs = crate::support::lookup::capture_logs();
    let address = "faculty1@demo.example.edu";
    let idp = StandInIdp::start(Issue::email(address)).await;
    let h = bridge(&idp, None, &[]).await;
    let mut browser = Browser::default();
    let response = sign_in(&h, &mut browser).await;
    assert!(location(&response).starts_with(FORM));
    let session = browser.cookie("127.0.0.1", SESSION_COOKIE).unwrap().value.clone();
    let text = logs.text();
    assert!(text.contains("patron signed in"), "the capture holds the sign-in's lines");
    // The capture is the whole test process's: only what no other test has (this sign-in's address, codes,
    // tokens and session) is looked for.
    let mut secrets = idp.issued();
    secrets.extend([address.to_owned(), session]);
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "{secret} was logged");
    }
    // The ID token's parts: neither its header nor its claims.
    for token in idp.issued().iter().filter(|t| t.contains('.')) {
        for part in token.split('.') {
            assert!(!text.contains(part), "a part of the ID token was logged");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_hand_off_signs_in_with_its_secrets_from_ssm_and_stops_without_the_cookie_secret() {
    use bridge::config::Env;
    use bridge::lambda::entry;
    use bridge::lambda::refresh::Refreshing;
    use tower::ServiceExt;
    let idp = StandInIdp::start(Issue::email("patron1@demo.example.edu")).await;
    let aws = crate::support::moto_aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let path = format!("/bridge-sign-in-{:016x}", rand::random::<u64>());
    crate::support::put_secure_parameter(&ssm, &format!("{path}/oidc-client-secret"), "client-secret-from-ssm-0123")
        .await;
    crate::support::put_secure_parameter(&ssm, &format!("{path}/sign-in-cookie-secret"), COOKIE_SECRET).await;
    let env = |cookie: &str| {
        let mut env = Env::from_pairs([
            ("ALMA_API_BASE", "eu"),
            ("ALMA_API_KEY", "sign-in-test-alma-key"),
            ("ALMA_NCIP_URL", "https://eu.alma.exlibrisgroup.com/view/NCIPServlet"),
            ("ALMA_INSTITUTION_CODE", "01DEMO_INST"),
            ("ALMA_PARTNER_CODE", "RELAIS"),
            ("RELAIS_FORM_URL", "https://relais.example.org/user/login.html"),
            ("RELAIS_LIBRARY_SYMBOL", "DEMO"),
            ("RELAIS_PUBLIC_KEY", RELAIS_PUBLIC),
            ("PATRON_IDENTITY", "oidc"),
            ("OIDC_ISSUER", idp.issuer()),
            ("OIDC_CLIENT_ID", crate::support::stand_in_idp::CLIENT_ID),
            ("OIDC_REDIRECT_URL", "https://bridge.example.edu/openurl/callback"),
            ("DYNAMODB_TABLE", "bridge-sign-in-test"),
            ("LOG_HASH_KEY", "sign-in-test-log-hash-key"),
        ]);
        env.set("OIDC_CLIENT_SECRET_PARAMETER", format!("{path}/oidc-client-secret"));
        env.set("SIGN_IN_COOKIE_SECRET_PARAMETER", format!("{path}/{cookie}"));
        // Named as the template names it; absent outside a rotation, which is no error.
        env.set("SIGN_IN_COOKIE_SECRET_PREVIOUS_PARAMETER", format!("{path}/sign-in-cookie-secret-previous"));
        env
    };
    let http = bridge::alma::https_client();
    let function = Refreshing::start(
        entry::OPENURL_REDIRECT,
        env("sign-in-cookie-secret"),
        crate::support::lambda_aws(&http),
        http.clone(),
    )
    .await
    .expect("the function starts with the sign-in's secrets from SSM");
    let request = http::Request::get(format!("/openurl?{LINK}")).body(axum::body::Body::empty()).unwrap();
    let answer = function.router().await.oneshot(request).await.unwrap();
    assert_eq!(answer.status(), 302);
    let to = answer.headers()["location"].to_str().unwrap();
    assert!(to.starts_with(&format!("{}/authorize?", idp.issuer())), "{to}");
    let cookie = answer.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with(SIGN_IN_COOKIE) && cookie.contains("; Secure"),
        "over https the cookie is Secure: {cookie}"
    );
    // Without the cookie secret the function does not start, and says which setting is missing.
    let error = Refreshing::start(entry::OPENURL_REDIRECT, env("not-there"), crate::support::lambda_aws(&http), http)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("SIGN_IN_COOKIE_SECRET"), "{error}");
}
