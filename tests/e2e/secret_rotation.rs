//! A secret rotated in SSM reaches a running Lambda function without a deploy: the function reads its
//! parameters again every `SECRETS_REFRESH_SECONDS`, and answers with the new value from then on. Against
//! moto's SSM (the server `./scripts/test` starts), through the function's own router.

use crate::support;
use crate::support::put_secure_parameter as put;

use axum::body::Body;
use bridge::config::Env;
use bridge::lambda::entry;
use bridge::lambda::refresh::Refreshing;
use std::time::Duration;
use tower::ServiceExt;

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

/// Whether the front door takes `token` in Relais's URL: it answers a LookupVersion itself once the token
/// passes, and with the Problem "Agency Authentication Failed" when it does not.
async fn front_door_takes(function: &Refreshing, token: &str) -> bool {
    let request = http::Request::post(format!("/ncip/{token}"))
        .header("content-type", "application/xml")
        .body(Body::from(support::messages::lookup_version()))
        .unwrap();
    let answer = function.router().await.oneshot(request).await.unwrap();
    let body = http_body_util::BodyExt::collect(answer.into_body()).await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("NCIPMessage"), "an NCIP answer either way: {body}");
    let refused = body.contains("Agency Authentication Failed");
    assert!(refused || body.contains("LookupVersionResponse"), "{body}");
    !refused
}

/// The front door as its Lambda function starts, with `variables` beside what every function is given (the
/// table's name, though its role has no access to it) and the names of the functions it invokes, on `clock`.
async fn front_door(
    variables: &[(&str, &str)],
    clock: &std::sync::Arc<bridge::clock::ManualClock>,
) -> Result<Refreshing, bridge::config::ConfigError> {
    let mut env = Env::from_pairs(variables.iter().copied());
    env.set("DYNAMODB_TABLE", "bridge-front-door-test");
    // The front door on AWS does not start with an open agency policy.
    env.set("NCIP_ALLOWED_AGENCIES", "Relais");
    env.set("ALMA_PARTNER_CODE", "RELAIS");
    for service in bridge::Function::services() {
        env.set(service.invoke_variable().expect("a service"), service.name());
    }
    let http = bridge::alma::https_client();
    Refreshing::start_with_clock(entry::NCIP, env, support::lambda_aws(&http), http, clock.clone()).await
}

/// The runbook of docs/operations.md ("Rotating secrets") for the NCIP secret, step by step against moto's
/// SSM with the refresh interval crossed on a manual clock: Relais's messages, sent with whichever secret
/// Relais holds at each step (and its retries with the old one), are never refused, and no deploy is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ncip_secret_is_rotated_by_the_runbook_without_refusing_relais_or_a_deploy() {
    use bridge::clock::ManualClock;
    let aws = support::moto_aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let path = format!("/bridge-test-{:016x}", rand::random::<u64>());
    let (current, previous) = (format!("{path}/ncip-shared-secret"), format!("{path}/ncip-shared-secret-previous"));
    let (old, new) = ("the-old-ncip-secret-0123456789", "the-new-ncip-secret-0123456789");
    put(&ssm, &current, old).await;
    let env = [
        ("NCIP_SHARED_SECRET_PARAMETER", current.as_str()),
        ("NCIP_SHARED_SECRET_PREVIOUS_PARAMETER", previous.as_str()),
        ("SECRETS_REFRESH_SECONDS", "300"),
    ];
    let clock = std::sync::Arc::new(ManualClock::default());
    let function = front_door(&env, &clock)
        .await
        .expect("the front door starts without a previous secret: it exists only during a rotation");
    let wait_one_refresh = || clock.advance(Duration::from_secs(301));
    assert!(front_door_takes(&function, old).await && !front_door_takes(&function, new).await);

    // 1-2: the current value is copied to the previous one.
    put(&ssm, &previous, old).await;
    assert!(front_door_takes(&function, old).await);
    wait_one_refresh();
    assert!(front_door_takes(&function, old).await);
    // 3-4: the new value is put; Relais still sends the old one throughout.
    put(&ssm, &current, new).await;
    assert!(front_door_takes(&function, old).await, "within the interval");
    wait_one_refresh();
    assert!(front_door_takes(&function, old).await, "the old value, now as the previous one");
    assert!(front_door_takes(&function, new).await, "and the new one");
    // 5-6: Relais switches; its retries of older messages still carry the old value.
    assert!(front_door_takes(&function, new).await);
    wait_one_refresh();
    assert!(front_door_takes(&function, new).await && front_door_takes(&function, old).await);
    // 7: the previous value is deleted: no error, and the old value is refused after the next read.
    ssm.delete_parameter().name(&previous).send().await.expect("moto deletes it");
    assert!(front_door_takes(&function, old).await, "within the interval");
    wait_one_refresh();
    assert!(front_door_takes(&function, new).await, "the function goes on without the previous value");
    assert!(!front_door_takes(&function, old).await, "the old value is refused");
}

async fn put_string(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("moto keeps the parameter");
}

/// What a deploy writes into the settings parameter reaches a running function within one refresh, with no
/// new version: here the outbox switch and the agency list, and a `SecretsPath` that moved the secrets away
/// from where the function's environment names them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_a_deploy_writes_reach_a_running_function_within_one_refresh() {
    use bridge::clock::ManualClock;
    let aws = support::moto_aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let stack = format!("bridge-test-{:016x}", rand::random::<u64>());
    let (first, moved) = (format!("{stack}/first"), format!("{stack}/moved"));
    let settings = format!("/{stack}/settings");
    let (old, new) = ("the-first-ncip-secret-0123456789", "the-moved-ncip-secret-0123456789");
    put(&ssm, &format!("/{first}/ncip-shared-secret"), old).await;
    let text = |path: &str, outbox: &str, allowed: &str| {
        format!(
            "[common]\nSECRETS_PATH={path}\nOUTBOX={outbox}\nSECRETS_REFRESH_SECONDS=300\n\
             [agencies]\nNCIP_ALLOWED_AGENCIES={allowed}\nALMA_PARTNER_CODE=RELAIS\n[alma]\nALMA_API_BASE=https://api.example\n"
        )
    };
    put_string(&ssm, &settings, &text(&first, "on", "RELAIS")).await;
    let ncip_secret = format!("/{first}/ncip-shared-secret");
    let env = [
        ("SETTINGS_PARAMETER", settings.as_str()),
        ("SETTINGS_SECTIONS", "common agencies"),
        ("NCIP_SHARED_SECRET_PARAMETER", ncip_secret.as_str()),
    ];
    let clock = std::sync::Arc::new(ManualClock::default());
    let function = front_door(&env, &clock).await.expect("the front door starts from its settings");
    let settings_now = |bridge: std::sync::Arc<bridge::Bridge>| {
        let s = bridge.settings();
        let allowed = s.ncip.allowed_agencies.as_ref().map_or(0, Vec::len);
        (s.outbox.enabled, allowed, !matches!(s.alma, bridge::config::AlmaTarget::Unconfigured))
    };
    assert_eq!(settings_now(function.bridge().await), (true, 1, false), "the [alma] section is not the front door's");
    assert!(front_door_takes(&function, old).await);

    // A deploy changes two values and moves the secrets to another SecretsPath.
    put(&ssm, &format!("/{moved}/ncip-shared-secret"), new).await;
    put_string(&ssm, &settings, &text(&moved, "off", "RELAIS,LEH")).await;
    assert_eq!(settings_now(function.bridge().await), (true, 1, false), "within the interval");
    clock.advance(Duration::from_secs(301));
    assert_eq!(settings_now(function.bridge().await), (false, 2, false), "the deployed values, no new version");
    assert!(front_door_takes(&function, new).await, "the secret read where the deploy put it");
    assert!(!front_door_takes(&function, old).await);
}
