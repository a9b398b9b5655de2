//! A service function at its reserved concurrency (two desks receiving at once) is throttled by Lambda
//! (`TooManyRequestsException`): the front door waits that out and tries again, within a bound that leaves
//! the service its whole deadline inside the front door's own timeout, and answers Temporary Processing
//! Failure once the bound is spent. Run as on AWS: the front door's own handler and SDK client, against the
//! Invoke stand-in.

use crate::support::lambda_invoke::{Answerer, InvokeStandIn, context};
use crate::support::messages;
use bridge::config::Env;
use bridge::lambda::entry;
use bridge::lambda::invoke::throttle_wait;
use bridge::lambda::refresh::Refreshing;
use lambda_http::RequestExt;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const NCIP_SECRET: &str = "front-door-throttle-secret-5e1a";
/// The AcceptItem function's answer, as the stand-in gives it.
const ANSWERED: &str = "<NCIPMessage><AcceptItemResponse>answered by accept-item</AcceptItemResponse></NCIPMessage>";

/// The front door, as on Lambda, invoking the stand-in's functions; the services' deadline is `deadline_ms`.
async fn front_door(lambda: &InvokeStandIn, deadline_ms: &str) -> Refreshing {
    let mut env = Env::from_pairs([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIATHROTTLETEST0000"),
        ("AWS_SECRET_ACCESS_KEY", "throttle-test-secret-access-key"),
        ("AWS_ENDPOINT_URL_LAMBDA", lambda.url()),
        ("NCIP_SHARED_SECRET", NCIP_SECRET),
        ("NCIP_ALLOWED_AGENCIES", "Relais"),
        ("ALMA_PARTNER_CODE", "RELAIS"),
        ("BRIDGE_DEADLINE_MS", deadline_ms),
        // Required of every function on Lambda; the front door holds no table client and never reads it.
        ("DYNAMODB_TABLE", "bridge-throttle-test"),
    ]);
    for service in bridge::Function::services() {
        env.set(service.invoke_variable().expect("a service"), service.name());
    }
    let http = bridge::alma::https_client();
    let aws = bridge::lambda::aws::sdk_config(&env, http.clone()).expect("a Lambda environment");
    Refreshing::start(entry::NCIP, env, aws, http).await.expect("the front door starts")
}

async fn relais_sends(front_door: &Refreshing, message: &str) -> String {
    let event = bridge::lambda::invoke::http_api_event(
        "POST",
        &format!("/ncip/{NCIP_SECRET}"),
        "",
        &[("content-type", "application/xml")],
        message.as_bytes(),
    );
    let request = lambda_http::request::from_str(&serde_json::to_string(&event).expect("the event serialises"))
        .expect("an HTTP API event")
        .with_lambda_context(context("front-door-throttled"));
    let answer = entry::answer_http(front_door, request).await;
    let body = http_body_util::BodyExt::collect(answer.into_body()).await.expect("the answer").to_bytes();
    String::from_utf8(body.to_vec()).expect("an NCIP answer")
}

async fn stand_in() -> InvokeStandIn {
    let name = bridge::Function::AcceptItem.name().to_owned();
    InvokeStandIn::start(BTreeMap::from([(name, Answerer::Fixed(ANSWERED.to_owned()))])).await
}

#[tokio::test]
async fn a_throttled_invoke_is_tried_again_and_the_services_answer_reaches_relais() {
    let lambda = stand_in().await;
    let front_door = front_door(&lambda, "20000").await;
    lambda.refuse_next(3);
    let answer = relais_sends(&front_door, &messages::accept_item("THR-1", "RLS-THR-1", "21000000001")).await;
    assert_eq!(answer, ANSWERED, "the service's answer, once Lambda started it");
    assert_eq!(lambda.invocations(), 4, "three throttled invokes and the one that ran");
}

#[tokio::test]
async fn a_function_that_stays_throttled_is_answered_temporary_processing_failure_within_the_bound() {
    let lambda = stand_in().await;
    // A 25 s service deadline leaves the front door's 28 s timeout one second of waiting beside its margin.
    let front_door = front_door(&lambda, "25000").await;
    let bound = throttle_wait(Duration::from_secs(25));
    assert_eq!(bound, Duration::from_secs(1));
    lambda.refuse_next(usize::MAX);
    let started = Instant::now();
    let answer = relais_sends(&front_door, &messages::accept_item("THR-2", "RLS-THR-2", "21000000001")).await;
    let took = started.elapsed();
    assert!(answer.contains("Temporary Processing Failure"), "{answer}");
    assert!(took >= bound, "the throttle was waited out first: {took:?}");
    assert!(took < bound + Duration::from_millis(800), "and no longer than the bound: {took:?}");
    assert!(lambda.invocations() > 2, "tried again meanwhile: {}", lambda.invocations());
}
