//! One patron, one id in Relais: whatever identifier Alma's partner matches (a barcode, the primary id under
//! the partner schema's `user_name`, a university id), LookupUser answers it as the "Primary Key", Relais's
//! AcceptItem with that id is received by the strict simulator, and the OpenURL hand-off's encrypted `PI` names
//! the patron by the same id, though the sign-in names them by another: through the local server's bridge, and
//! through the hand-off's Lambda entry with its narrow Alma client.

use crate::support::Harness;
use crate::support::lookup::Lookup;
use crate::support::messages;
use alma_sim::{AlmaSim, FaultKind, FaultScope, FaultSpec, Seed};
use aws_lc_rs::rsa::{Pkcs1PrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bridge::config::Env;
use bridge::lambda::entry;
use bridge::ncip::{Message, ReadOptions};
use serde_json::json;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

const ISSUER: &str = "https://idp.example.edu/realms/library";
const AUDIENCE: &str = "alma-relais-bridge";
const IDP_RSA_PRIVATE: &str = include_str!("../../crates/openurl/tests/keys/idp_rsa_private.pem");
const IDP_RSA_PUBLIC: &str = include_str!("../../crates/openurl/tests/keys/idp_rsa_public.pem");
const RELAIS_PRIVATE: &str = include_str!("../../crates/openurl/tests/keys/relais_private.pem");
const RELAIS_PUBLIC: &str = include_str!("../../crates/openurl/tests/keys/relais_public.pem");

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("a PEM body")
}

/// The IdP's RS256 token naming `patron` in `sub`, valid for five minutes of the real clock (the hand-off
/// checks tokens against it).
fn sign_in(patron: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": patron, "iat": now - 30, "exp": now + 300 });
    let header = json!({ "alg": "RS256", "typ": "JWT" });
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let key = RsaKeyPair::from_pkcs8(&pem_der(IDP_RSA_PRIVATE)).expect("the IdP's test key");
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The patron id in a redirect's `base64PI`, decrypted with Relais's private key: `id|yyyyMMdd HHmmss`, of which
/// the id is returned.
fn relais_patron(location: &str) -> String {
    let url = url::Url::parse(location).expect("an absolute redirect");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(pairs.iter().any(|(k, v)| k == "base64PI" && v == "true"), "an encrypted PI: {location}");
    let pi = &pairs.iter().find(|(k, _)| k == "PI").unwrap_or_else(|| panic!("a PI: {location}")).1;
    let key = Pkcs1PrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&pem_der(RELAIS_PRIVATE)).unwrap())
        .expect("Relais's test key");
    let mut out = vec![0; key.min_output_size()];
    let plain = key.decrypt(&STANDARD.decode(pi).expect("base64"), &mut out).expect("encrypted for Relais");
    let plain = String::from_utf8(plain.to_vec()).expect("UTF-8");
    plain.split_once('|').unwrap_or_else(|| panic!("id|timestamp: {plain}")).0.to_owned()
}

/// The demo seed with the RELAIS partner matching `user_id_type` instead of the barcode.
fn relais_matching(user_id_type: &str) -> Seed {
    let seed = Seed::demo();
    let mut partners = seed.partners().to_vec();
    let relais = partners.iter_mut().find(|p| p["partner_details"]["code"] == "RELAIS").expect("the demo's RELAIS");
    relais["partner_details"]["profile_details"]["ncip_details"]["general_user_id_type"] =
        json!({ "value": user_id_type, "desc": user_id_type });
    seed.with_partners(partners)
}

/// The top-level UserId of a LookupUser answer: its type and value.
fn primary_key(answer: &str) -> (String, String) {
    let Ok(Message::LookupUserResponse(r)) = bridge::ncip::read(answer.as_bytes(), &ReadOptions::default()) else {
        panic!("a LookupUserResponse: {answer}")
    };
    assert!(r.problems.is_empty(), "the patron is found: {answer}");
    let id = r.user_id.unwrap_or_else(|| panic!("a UserId: {answer}"));
    (id.user_identifier_type.map(|t| t.value).unwrap_or_default(), id.user_identifier_value.as_str().to_owned())
}

struct Partner {
    /// What the case is, for the failure messages.
    name: &'static str,
    seed: Seed,
    code: &'static str,
    /// patron1's identifier of the partner's type: what Relais must key the patron by.
    kept: &'static str,
}

#[tokio::test]
async fn lookup_accept_and_the_openurl_pi_name_the_patron_by_the_partners_one_id() {
    let partners = [
        Partner { name: "Barcode", seed: Seed::demo(), code: "RELAIS", kept: "21000000001" },
        Partner { name: "user_name", seed: Seed::demo(), code: "RELAIS_PRIMARY", kept: "patron1" },
        Partner { name: "university id", seed: relais_matching("UNIV_ID"), code: "RELAIS", kept: "U1001" },
    ];
    for (n, partner) in partners.into_iter().enumerate() {
        let Partner { name, seed, code, kept } = partner;
        let env = [
            ("ALMA_PARTNER_CODE", code),
            ("PATRON_IDENTITY", "jwt"),
            ("JWT_ISSUER", ISSUER),
            ("JWT_AUDIENCE", AUDIENCE),
            ("JWT_VERIFICATION_KEY", IDP_RSA_PUBLIC),
            ("RELAIS_PUBLIC_KEY", RELAIS_PUBLIC),
        ];
        let h = Harness::start_seeded(seed, &env).await;

        // The patron types their university id into Relais; Relais keys them by what LookupUser answers.
        let (label, id) = primary_key(&h.ncip(&Lookup::user("U1001").xml()).await);
        assert_eq!((label.as_str(), id.as_str()), ("Primary Key", kept), "{name}: LookupUser's UserId");

        // Relais sends that id back when the borrowed item arrives; the strict simulator matches only the
        // partner's type, so a wrong kind of id would be "Unknown User".
        let barcode = format!("RLS-PK-{n}");
        let answer = h.ncip(&messages::accept_item(&format!("PK-{n}"), &barcode, &id)).await;
        assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{name}: received: {answer}");
        assert_eq!(h.sim.state().items_with_barcode(&barcode), 1, "{name}: Alma holds the borrowed item");

        // An AcceptItem naming the patron by another id (a barcode, or the university id for the Barcode
        // partner) is translated into the partner's type first: for `user_name` that is the primary id, which a
        // bridge reading the code as an identifier type would not find, and Alma would refuse the barcode.
        let other = if kept == "21000000001" { "U1001" } else { "21000000001" };
        let barcode = format!("RLS-PK-OTHER-{n}");
        let answer = h.ncip(&messages::accept_item(&format!("PK-OTHER-{n}"), &barcode, other)).await;
        assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{name}: translated: {answer}");
        assert_eq!(h.sim.state().items_with_barcode(&barcode), 1, "{name}: Alma holds the second item");

        // The IdP names the patron by their primary id; the form's PI must carry Relais's id for them.
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(h.bridge.url("/openurl?genre=book&title=A+Book+From+Afar&isbn=9780838913390"))
            .bearer_auth(sign_in("patron1"))
            .send()
            .await
            .expect("the bridge answers");
        assert_eq!(response.status(), 302, "{name}: redirected to Relais");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(relais_patron(&location), id, "{name}: the PI is LookupUser's id");
    }
}

/// A signed-in patron whom Alma does not know, or whom Alma cannot look up, gets a page saying so, and never
/// a Relais form carrying the sign-in's own id (which Relais might hold for another patron, or not at all).
#[tokio::test]
async fn a_patron_alma_cannot_name_gets_a_readable_page_and_no_form() {
    let env = [
        ("PATRON_IDENTITY", "jwt"),
        ("JWT_ISSUER", ISSUER),
        ("JWT_AUDIENCE", AUDIENCE),
        ("JWT_VERIFICATION_KEY", IDP_RSA_PUBLIC),
        ("RELAIS_PUBLIC_KEY", RELAIS_PUBLIC),
    ];
    let h = Harness::start_seeded(Seed::demo(), &env).await;
    let link = |patron: &str| {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(h.bridge.url("/openurl?genre=book&title=Anything&isbn=9780838913390"))
            .bearer_auth(sign_in(patron))
            .send()
    };

    let unknown = link("nobody-in-alma").await.unwrap();
    assert_eq!(unknown.status(), 403);
    assert!(unknown.headers().get("location").is_none());
    let page = unknown.text().await.unwrap();
    assert!(page.contains("No library account was found for your sign-in"), "{page}");
    assert!(!page.contains("nobody-in-alma"), "the page names no id: {page}");

    // Alma's monthly maintenance: every REST call answered 503 while it lasts.
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Rest)).unwrap();
    let outage = link("patron1").await.unwrap();
    assert_eq!(outage.status(), 503);
    assert_eq!(outage.headers()["retry-after"], "60");
    assert!(outage.headers().get("location").is_none(), "no form under an unconfirmed id");
    assert!(outage.text().await.unwrap().contains("could not be checked just now"));
}

/// The hand-off as its Lambda binary runs it (`entry::OPENURL_REDIRECT`, whose Alma client reads users and
/// partners only, at the template's pace of one call a second): a patron signed in by university id reaches
/// Relais under the Barcode partner's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_hand_off_reads_the_patron_through_its_own_narrow_client() {
    let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
    let (base, key, ncip_url) = (sim.base_url(), sim.api_key().to_owned(), sim.ncip_url());
    let env = Env::from_pairs([
        ("ALMA_API_BASE", base.as_str()),
        ("ALMA_API_KEY", key.as_str()),
        ("ALMA_NCIP_URL", ncip_url.as_str()),
        ("ALMA_INSTITUTION_CODE", "01DEMO_INST"),
        ("ALMA_PARTNER_CODE", "RELAIS"),
        ("ALMA_MAX_CALLS_PER_SECOND", "1"),
        ("RELAIS_FORM_URL", "https://relais.example.org/user/login.html"),
        ("RELAIS_LIBRARY_SYMBOL", "DEMO"),
        ("PATRON_IDENTITY", "jwt"),
        ("JWT_ISSUER", ISSUER),
        ("JWT_AUDIENCE", AUDIENCE),
        ("JWT_VERIFICATION_KEY", IDP_RSA_PUBLIC),
        ("RELAIS_PUBLIC_KEY", RELAIS_PUBLIC),
        // Moto's table is not created: parking the citation fails, which the hand-off logs and goes past.
        ("DYNAMODB_TABLE", "bridge-hand-off-test"),
        ("LOG_HASH_KEY", "hand-off-test-log-hash-key"),
    ]);
    let client = bridge::alma::https_client();
    let aws = crate::support::lambda_aws(&client);
    let clock = std::sync::Arc::new(bridge::clock::SystemClock);
    let built =
        bridge::lambda::build(entry::OPENURL_REDIRECT, &env, &aws, &client, clock).expect("the function starts");
    let router = entry::OPENURL_REDIRECT.router(Arc::new(built)).expect("an HTTP function");
    let request = http::Request::get("/openurl?genre=book&title=Ulysses&isbn=9780838913390")
        .header("authorization", format!("Bearer {}", sign_in("U1001")))
        .body(Body::empty())
        .unwrap();
    let answer = router.oneshot(request).await.expect("the router answers");
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(relais_patron(&location), "21000000001", "the Barcode partner's id for patron1");
    let users = sim.calls().into_iter().filter(|c| c.scope == "rest" && c.path.contains("/users/")).count();
    assert_eq!(users, 1, "one user read for the link");
}
