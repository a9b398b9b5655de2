//! A secret rotated in SSM reaches a running Lambda function without a deploy: the function reads its
//! parameters again every `SECRETS_REFRESH_SECONDS`, and answers with the new value from then on. Against
//! moto's SSM (the server `./scripts/test` starts), through the function's own router.

use crate::support;

use axum::body::Body;
use bridge::config::Env;
use bridge::lambda::entry;
use bridge::lambda::refresh::Refreshing;
use std::time::Duration;
use tower::ServiceExt;

async fn put(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("moto keeps the parameter");
}

/// Whether the status function takes `token` (it then looks the request up; a wrong token is refused first).
async fn accepts(function: &Refreshing, token: &str) -> bool {
    let request =
        http::Request::get("/queue").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let status = function.router().await.oneshot(request).await.unwrap().status();
    status != 401
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_token_rotated_in_ssm_is_used_after_the_refresh_interval_without_a_deploy() {
    let aws = support::moto_aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let parameter = format!("/bridge-test-{:016x}/status-token", rand::random::<u64>());
    let (old, new) = ("the-old-status-token-0123456789", "the-new-status-token-0123456789");
    put(&ssm, &parameter, old).await;
    let env = Env::from_pairs([
        ("STATUS_TOKEN_PARAMETER", parameter.as_str()),
        ("STAFF_ACTION_TOKEN", "the-staff-action-token-0123456789"),
        ("DYNAMODB_TABLE", "bridge-secret-rotation-test"),
        ("SECRETS_REFRESH_SECONDS", "1"),
    ]);
    let http = bridge::alma::https_client();
    let function = Refreshing::start(entry::REQUEST_STATUS, env, support::lambda_aws(&http), http)
        .await
        .expect("the function starts");
    assert!(accepts(&function, old).await && !accepts(&function, new).await);

    put(&ssm, &parameter, new).await;
    // Within the interval the function keeps what it read: one SSM call per interval, not per request.
    assert!(accepts(&function, old).await, "read again only once the interval has passed");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(accepts(&function, new).await, "the rotated token is taken");
    assert!(!accepts(&function, old).await, "and the old one no longer");
}

/// The IdP's JWKS of the openurl crate's tests, grown past Lambda's 4 KB of environment with a key per year, as
/// an IdP that keeps its retired keys publishes it.
fn large_jwks() -> String {
    let jwks: serde_json::Value =
        serde_json::from_str(include_str!("../../crates/openurl/tests/keys/idp_jwks.json")).expect("JWKS");
    let key = jwks["keys"][0].clone();
    let keys: Vec<serde_json::Value> = (2015..2027)
        .map(|year| {
            let mut older = key.clone();
            older["kid"] = serde_json::json!(format!("idp-rsa-{year}"));
            older
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_too_large_for_lambdas_environment_is_read_from_ssm() {
    let aws = support::moto_aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let jwks = large_jwks();
    assert!(jwks.len() > 4096, "bigger than Lambda allows all of a function's variables: {} bytes", jwks.len());
    let parameter = format!("/bridge-test-{:016x}/jwt-verification-key", rand::random::<u64>());
    put(&ssm, &parameter, &jwks).await;
    let env = |parameter: &str| {
        Env::from_pairs([
            // A signed-in patron's PI is the id LookupUser answers, which the hand-off reads from Alma.
            ("ALMA_API_BASE", "eu"),
            ("ALMA_API_KEY", "jwks-test-alma-key"),
            ("ALMA_NCIP_URL", "https://eu.alma.exlibrisgroup.com/view/NCIPServlet"),
            ("ALMA_INSTITUTION_CODE", "01DEMO_INST"),
            ("ALMA_PARTNER_CODE", "RELAIS"),
            ("RELAIS_FORM_URL", "https://relais.example.org/user/login.html"),
            ("RELAIS_LIBRARY_SYMBOL", "DEMO"),
            ("PATRON_IDENTITY", "jwt"),
            ("JWT_ISSUER", "https://idp.example.edu/realms/library"),
            ("JWT_AUDIENCE", "alma-relais-bridge"),
            ("JWT_VERIFICATION_KEY", ""),
            ("JWT_VERIFICATION_KEY_PARAMETER", parameter),
            ("DYNAMODB_TABLE", "bridge-jwks-test"),
            ("LOG_HASH_KEY", "jwks-test-log-hash-key"),
        ])
    };
    let http = bridge::alma::https_client();
    let function =
        Refreshing::start(entry::OPENURL_REDIRECT, env(&parameter), support::lambda_aws(&http), http.clone())
            .await
            .expect("the function starts with the JWKS from SSM");
    // The key is in use: a link with a token that is not the IdP's is refused with the readable page.
    let request = http::Request::get("/openurl?genre=book&title=Ulysses&token=not.a.jwt").body(Body::empty()).unwrap();
    let answer = function.router().await.oneshot(request).await.unwrap();
    assert_eq!(answer.status(), 401);
    // A parameter that is not there is named at start-up.
    let missing = format!("{parameter}-missing");
    let error = Refreshing::start(entry::OPENURL_REDIRECT, env(&missing), support::lambda_aws(&http), http)
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("JWT_VERIFICATION_KEY"), "{error}");
}
