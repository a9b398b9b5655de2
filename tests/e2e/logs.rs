//! What the Lambda functions log, with `RUST_LOG=trace`: no PIN, no secret and no NCIP message, although the
//! AWS SDK's own TRACE output holds whole request and response bodies (the front door's invoke payload with
//! Relais's message in it, the items written to DynamoDB, the decrypted SSM parameters). And every line the
//! functions log while answering an invocation names its Lambda request id.
//!
//! Everything runs as on AWS, through the functions' own handlers and clients: the front door reads its
//! secret from SSM (moto's, as a SecureString), invokes the per-service functions through the SDK's Lambda
//! client, and they read their secrets from SSM, count PIN attempts and record requests in DynamoDB (moto's
//! again) and call the Alma simulator; the deliverer's scheduled round then reads the outbox. Lambda's Invoke API is a loopback stand-in that hands each payload to
//! the named function's handler, as the Lambda runtime would. The output is captured from the subscriber the
//! functions install (`bridge::logging::subscriber`), so the caps under test are the ones that run.

use crate::support::lambda_invoke::{Answerer, InvokeStandIn};
use crate::support::lookup::{CapturedLogs as Captured, Lookup, demo_seed_with, seeded_user};
use crate::support::{self, messages};
use alma_sim::AlmaSim;
use bridge::config::Env;
use bridge::lambda::entry;
use bridge::lambda::refresh::Refreshing;
use lambda_http::RequestExt;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

/// The PIN Relais passes on for the patron, and the one a mistyping patron sends.
const PIN: &str = "zq-pin-7f3a9c";
const WRONG_PIN: &str = "zq-wrong-pin-51d0e2";
const BARCODE: &str = "27755500042";
/// The secrets, each in SSM or in the Lambda environment, none of which may be printed.
const NCIP_SECRET: &str = "ncip-secret-from-ssm-c41f0b2e9d";
const LOG_HASH_KEY: &str = "log-hash-key-from-ssm-8e2d61a7";
const SECRET_ACCESS_KEY: &str = "lambda-role-secret-access-key-93b1";
const SESSION_TOKEN: &str = "lambda-role-session-token-0f7c2a";
/// The front door's request id; each service invocation gets `service-invocation-N`.
const FRONT_DOOR_INVOCATION: &str = "front-door-invocation-5d8e";
/// The deliverer's scheduled invocation.
const DELIVERER_INVOCATION: &str = "deliverer-invocation-a19c";

fn context(request_id: &str) -> lambda_http::Context {
    support::lambda_invoke::context(request_id)
}

/// What Lambda gives every function: the region, the execution role's credentials, and here the endpoints.
fn lambda_environment(moto: &str, lambda: Option<&str>) -> Env {
    let mut env = Env::from_pairs([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIALOGTEST000000000"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("AWS_ENDPOINT_URL", moto),
    ]);
    if let Some(lambda) = lambda {
        env.set("AWS_ENDPOINT_URL_LAMBDA", lambda);
    }
    env
}

/// The NCIP answer of the front door to Relais's POST of `message`.
async fn relais_sends(front_door: &Refreshing, message: &str) -> String {
    let headers = [("content-type", "application/xml")];
    let event = bridge::lambda::invoke::http_api_event(
        "POST",
        &format!("/ncip/{NCIP_SECRET}"),
        "",
        &headers,
        message.as_bytes(),
    );
    let request = lambda_http::request::from_str(&serde_json::to_string(&event).expect("the event serialises"))
        .expect("an HTTP API event")
        .with_lambda_context(context(FRONT_DOOR_INVOCATION));
    let answer = entry::answer_http(front_door, request).await;
    let body = http_body_util::BodyExt::collect(answer.into_body()).await.expect("the answer").to_bytes();
    String::from_utf8(body.to_vec()).expect("an NCIP answer")
}

/// The scenario: secrets into SSM, the table, the functions, then Relais's messages through the front door.
/// Returns where in `captured` the functions were answering invocations (the rest is start-up).
async fn relais_looks_up_a_patron_with_a_pin_and_accepts_an_item(captured: &Captured) -> [Range<usize>; 2] {
    let moto = std::env::var("BRIDGE_TEST_DYNAMODB_ENDPOINT").expect("set by ./scripts/test");
    let aws = support::moto_aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let path = format!("/bridge-logs-{:016x}", rand::random::<u64>());
    support::put_secure_parameter(&ssm, &format!("{path}/ncip-shared-secret"), NCIP_SECRET).await;
    support::put_secure_parameter(&ssm, &format!("{path}/alma-api-key"), alma_sim::DEFAULT_API_KEY).await;
    support::put_secure_parameter(&ssm, &format!("{path}/log-hash-key"), LOG_HASH_KEY).await;
    let table = format!("bridge-logs-{:016x}", rand::random::<u64>());
    bridge::store::create_table(&aws_sdk_dynamodb::Client::new(&aws), &table).await.expect("table created");

    let mut patron = seeded_user("zq-primary-42", &[("BARCODE", BARCODE)], Some(PIN));
    patron["last_name"] = "Quillfeather".into();
    patron["full_name"] = "Zenobia Quillfeather".into();
    let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), demo_seed_with(vec![patron])).await.expect("sim");
    let http = bridge::alma::https_client();
    let service_env = |name: &str| {
        let mut env = lambda_environment(&moto, None);
        env.set("AWS_LAMBDA_FUNCTION_NAME", name);
        env.set("DYNAMODB_TABLE", table.as_str());
        env.set("ALMA_API_BASE", sim.base_url());
        env.set("ALMA_API_KEY_PARAMETER", format!("{path}/alma-api-key"));
        env.set("ALMA_NCIP_URL", sim.ncip_url());
        env.set("ALMA_INSTITUTION_CODE", "01DEMO_INST");
        env.set("ALMA_PARTNER_CODE", "RELAIS");
        env.set("ALMA_MAX_CALLS_PER_SECOND", "1000");
        env.set("LOG_HASH_KEY_PARAMETER", format!("{path}/log-hash-key"));
        env
    };
    let mut services = BTreeMap::new();
    for service in [entry::PATRON_LOOKUP, entry::ACCEPT_ITEM] {
        let name = service.function.name();
        let env = service_env(name);
        let aws = bridge::lambda::aws::sdk_config(&env, http.clone()).expect("a Lambda environment");
        let function = Refreshing::start(service, env, aws, http.clone()).await.expect("the service starts");
        services.insert(name.to_owned(), Answerer::Function(Arc::new(function)));
    }
    let lambda = InvokeStandIn::start(services).await;
    let lambda = lambda.url();

    let mut env = lambda_environment(&moto, Some(lambda));
    env.set("NCIP_SHARED_SECRET_PARAMETER", format!("{path}/ncip-shared-secret"));
    env.set("DYNAMODB_TABLE", &table);
    // The front door on AWS does not start with an open agency policy.
    env.set("NCIP_ALLOWED_AGENCIES", "Relais");
    env.set("ALMA_PARTNER_CODE", "RELAIS");
    for service in bridge::Function::services() {
        env.set(service.invoke_variable().expect("a service"), service.name());
    }
    let aws = bridge::lambda::aws::sdk_config(&env, http.clone()).expect("a Lambda environment");
    let front_door = Refreshing::start(entry::NCIP, env, aws, http.clone()).await.expect("the front door starts");

    let answering = captured.len();
    let found = relais_sends(&front_door, &Lookup::auth(&[("Barcode Id", BARCODE), ("PIN", PIN)]).xml()).await;
    assert!(found.contains("LookupUserResponse") && !found.contains("Problem"), "the patron is found: {found}");
    let refused = relais_sends(&front_door, &Lookup::auth(&[("Barcode Id", BARCODE), ("PIN", WRONG_PIN)]).xml()).await;
    assert!(refused.contains("Problem"), "a wrong PIN is refused: {refused}");
    let accepted = relais_sends(&front_door, &messages::accept_item("RL-LOGS-1", "ILL-LOGS-7731", "21000000001")).await;
    assert!(accepted.contains("AcceptItemResponse") && !accepted.contains("Problem"), "{accepted}");

    let relais = answering..captured.len();
    // The deliverer's scheduled round reads the outbox from the table.
    let env = service_env("deliver");
    let aws = bridge::lambda::aws::sdk_config(&env, http.clone()).expect("a Lambda environment");
    let deliverer = Refreshing::start(entry::DELIVER, env, aws, http).await.expect("the deliverer starts");
    let tick = bridge::lambda::events::DeliverEvent::Schedule(bridge::lambda::events::ScheduleEvent::tick());
    let answering = captured.len();
    entry::answer_event(&deliverer, lambda_http::LambdaEvent::new(tick, context(DELIVERER_INVOCATION))).await;
    [relais, answering..captured.len()]
}

#[test]
fn at_trace_the_logs_of_an_invoke_a_table_write_and_an_ssm_read_hold_no_pin_secret_or_message() {
    let captured = Captured::default();
    let writer = captured.clone();
    let (subscriber, _) = bridge::logging::subscriber(true, Some("trace"), move || writer.clone());
    // For this thread only (the suite's other tests log elsewhere), and the runtime, the simulator and the
    // Invoke stand-in all run on it, so the capture holds everything the scenario logs.
    let installed = tracing::dispatcher::set_default(&subscriber);
    // reqwest and rustls log through the `log` crate; `logging::init` forwards its records into tracing (the
    // subscriber's `try_init`), and so does this test. Another test may have done it first.
    let _ = tracing_log::LogTracer::init();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let invocations = runtime.block_on(relais_looks_up_a_patron_with_a_pin_and_accepts_an_item(&captured));
    drop(runtime);
    drop(installed);

    let text = captured.text();
    let lines: Vec<serde_json::Value> =
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("a JSON line: {line}"))).collect();
    // The capture saw the SDK at work (its DEBUG lines are kept), so the absences below mean something.
    assert!(text.contains("beginning attempt"), "the SDK's DEBUG lines: {text}");
    assert!(text.contains("starting new connection"), "reqwest's DEBUG records: {text}");
    let secrets =
        [PIN, WRONG_PIN, NCIP_SECRET, LOG_HASH_KEY, alma_sim::DEFAULT_API_KEY, SECRET_ACCESS_KEY, SESSION_TOKEN];
    // Relais's messages and Alma's answers: their envelopes, a title, the patron's name and barcode.
    let bodies = ["NCIPMessage", "A Book From Afar", "Borrower, Bea", "Quillfeather", BARCODE, "ILL-LOGS-7731"];
    for value in secrets.iter().chain(&bodies) {
        assert!(!text.contains(value), "the logs hold {value:?}: {text}");
    }

    // The lines of each invocation name it, the SDK's included: the front door's own, and each service's.
    let spans = |line: &serde_json::Value| line["spans"].as_array().cloned().unwrap_or_default();
    let invocation = |line: &serde_json::Value| {
        spans(line).iter().find(|span| span["name"] == "invocation").map(|span| span["request_id"].clone())
    };
    // While the functions answer (the Alma simulator and the Invoke stand-in log nothing then), every line
    // names its invocation: the SDK's and the HTTP client's as well as the bridge's.
    for window in invocations {
        assert!(!window.is_empty(), "the invocations log at TRACE");
        for line in text[window].lines() {
            let line: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            assert!(invocation(&line).is_some(), "a line of an invocation without its request id: {line}");
        }
    }
    let request_ids: Vec<serde_json::Value> = lines.iter().filter_map(invocation).collect();
    assert!(request_ids.contains(&FRONT_DOOR_INVOCATION.into()), "{text}");
    assert!(request_ids.contains(&DELIVERER_INVOCATION.into()), "the deliverer's round: {text}");
    for n in 1..=3 {
        assert!(request_ids.contains(&format!("service-invocation-{n}").into()), "invocation {n}: {text}");
    }
}
