//! The loopback Runtime API against real clients: the floor binary (the `lambda_runtime` client every function
//! uses) and plain HTTP for the error paths. Times are only checked for order, never for size.

use bytes::Bytes;
use coldstart::environment;
use coldstart::events::http_api_event;
use coldstart::process::{Launch, measure};
use coldstart::runtime_api::{Report, RuntimeApi};
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn event() -> Bytes {
    Bytes::from(http_api_event("GET", "/health", "", &[], "").to_string())
}

#[tokio::test]
async fn the_floor_polls_takes_the_event_and_answers_it() {
    let log = tempfile_path("floor-measure.log");
    let launch = Launch {
        name: "floor",
        binary: Path::new(env!("CARGO_BIN_EXE_floor")),
        env: environment::lambda("floor"),
        event: event(),
        warm_invocations: 3,
        log: &log,
    };
    let run = measure(launch, &[]).await.expect("the floor answers");
    assert_eq!(run.answer.status, Some(200));
    assert!(!run.answer.ncip_problem);
    assert!(run.init <= run.cold, "the first poll comes before the first answer");
    assert_eq!(run.warm.len(), 3);
    assert_eq!(run.warm_own, run.warm, "the floor calls nothing upstream");
    assert!(run.peak_rss_kib > 0);
}

#[tokio::test]
async fn a_function_sees_lambdas_headers_and_its_answer_is_reported_with_its_request_id() {
    let mut api = RuntimeApi::start("probe").await.unwrap();
    let base = format!("http://{}/2018-06-01/runtime", api.address());
    let request_id = api.invoke(Bytes::from_static(br#"{"hello":"world"}"#));
    let http = reqwest::Client::new();

    let next = http.get(format!("{base}/invocation/next")).send().await.unwrap();
    assert_eq!(next.status(), 200);
    let header = |name: &str| next.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("lambda-runtime-aws-request-id").as_deref(), Some(request_id.as_str()));
    assert!(header("lambda-runtime-deadline-ms").unwrap().parse::<u64>().is_ok());
    assert_eq!(
        header("lambda-runtime-invoked-function-arn").as_deref(),
        Some("arn:aws:lambda:eu-west-1:000000000000:function:probe")
    );
    assert!(header("lambda-runtime-trace-id").unwrap().starts_with("Root=1-"));
    assert_eq!(next.bytes().await.unwrap().as_ref(), br#"{"hello":"world"}"#);

    let posted = http.post(format!("{base}/invocation/{request_id}/response")).body("42").send().await.unwrap();
    assert_eq!(posted.status(), 202);

    assert!(matches!(api.report(WAIT).await, Some(Report::Polled { .. })));
    assert!(matches!(api.report(WAIT).await, Some(Report::Handed { request_id: id, .. }) if id == request_id));
    match api.report(WAIT).await {
        Some(Report::Answered { request_id: id, body, .. }) => {
            assert_eq!(id, request_id);
            assert_eq!(body.as_ref(), b"42");
        }
        other => panic!("expected the answer, got {other:?}"),
    }
}

#[tokio::test]
async fn invocation_and_init_errors_are_reported_as_failures() {
    let mut api = RuntimeApi::start("probe").await.unwrap();
    let base = format!("http://{}/2018-06-01/runtime", api.address());
    let http = reqwest::Client::new();
    let error = r#"{"errorType":"Boom","errorMessage":"no"}"#;

    let posted = http.post(format!("{base}/invocation/abc/error")).body(error).send().await.unwrap();
    assert_eq!(posted.status(), 202);
    assert!(matches!(api.report(WAIT).await, Some(Report::Failed { request_id, body, .. })
        if request_id == "abc" && body.as_ref() == error.as_bytes()));

    let posted = http.post(format!("{base}/init/error")).body(error).send().await.unwrap();
    assert_eq!(posted.status(), 202);
    assert!(matches!(api.report(WAIT).await, Some(Report::InitFailed { .. })));

    let unknown = http.get(format!("{base}/invocation/abc/nothing")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

fn tempfile_path(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    dir.join(name)
}
