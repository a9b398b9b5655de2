//! Every file in `events/` is a real API Gateway HTTP API (v2) event: loaded with `lambda_http`'s own reader
//! and answered by that function's router (`bridge::http::router`) as the function the file is named after, with Lambda settings, against the
//! Alma simulator's demo seed. This is the `sam local invoke -e` path without Docker; `scripts/sam-local-check`
//! sends the same files through `sam local invoke`, and reads [`SCENARIO`] below for what each must answer.
//!
//! The events tell one story per entry point, so the order matters: `<crate>.json` are what the front door
//! hands a service function (Relais request ids RL-90xx); `ncip-<MessageType>.json` are what Relais sends to
//! the public front door (RL-91xx). Both stories share one Alma and one store, as on AWS.

use crate::support;

use alma_sim::{AlmaSim, Seed};
use bridge::app::{AlmaClients, Parts};
use bridge::config::AlmaRemote;
use bridge::config::{AlmaTarget, Env, Host, Settings};
use bridge::lambda::events::{DeliverAnswer, DeliverEvent, SqsBatchResponse};
use bridge::lambda::{check_requirements, entry, invoke::http_api_event};
use bridge::store::EmbeddedStore;
use bridge::{Bridge, Function};
use http_body_util::BodyExt;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

/// What an event must be answered with. `scripts/sam-local-check` reads [`SCENARIO`] too, so its entries stay
/// literals: `("file.json", Expect::Kind { field: value, ... })`, values a string, a number, `None` or `Some("...")`.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// HTTP 200, `application/xml`, with this NCIP response element and no Problem, and this text somewhere in it.
    Ncip { response: &'static str, contains: &'static str },
    /// A plain HTTP answer with this status and Content-Type (`None`: no body, so none), and this text in a
    /// header or the body.
    Http { status: u16, content_type: Option<&'static str>, contains: &'static str },
    /// The deliverer's SQS doorbell for a request whose AcceptItem of `barcode` waited out an Alma outage: no
    /// batch item failure, and Alma then holds the item.
    Delivered { barcode: &'static str },
    /// The reconciler's schedule: one run, answered with its summary, which ended this way.
    Reconciled { ended: &'static str },
}

/// The Content-Type of every NCIP answer.
const NCIP_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// The events, in the order their story needs (a request is cancelled after it was made; an item is checked
/// in after it was received; a loan is renewed after the item was shipped; status is read last).
const SCENARIO: &[(&str, Expect)] = &[
    ("ncip.json", Expect::Ncip { response: "LookupVersionResponse", contains: "v2_02" }),
    ("ncip-LookupVersion.json", Expect::Ncip { response: "LookupVersionResponse", contains: "AcceptItem" }),
    (
        "openurl-redirect.json",
        Expect::Http { status: 302, content_type: None, contains: "https://relais.example.org/user/login.html?" },
    ),
    ("patron-lookup.json", Expect::Ncip { response: "LookupUserResponse", contains: "Reader" }),
    ("ncip-LookupUser.json", Expect::Ncip { response: "LookupUserResponse", contains: "Professor" }),
    ("lookup-item.json", Expect::Ncip { response: "LookupItemResponse", contains: "The Art of Interlibrary Loan" }),
    ("ncip-LookupItem.json", Expect::Ncip { response: "LookupItemResponse", contains: "Metadata for Everyone" }),
    // Alma's profile lists CancelRequestItem for the lender only, so both cancel stories are lender-side: the
    // RequestItem names an item of ours (Alma then makes a lending request) and the UserId is the borrowing
    // library's patron.
    // The bridge files them as lending (tests/circulation.rs checks the record).
    ("request-item.json", Expect::Ncip { response: "RequestItemResponse", contains: "RL-9001" }),
    ("cancel-request-item.json", Expect::Ncip { response: "CancelRequestItemResponse", contains: "RL-9001" }),
    ("ncip-RequestItem.json", Expect::Ncip { response: "RequestItemResponse", contains: "RL-9101" }),
    ("ncip-CancelRequestItem.json", Expect::Ncip { response: "CancelRequestItemResponse", contains: "RL-9101" }),
    ("accept-item.json", Expect::Ncip { response: "AcceptItemResponse", contains: "ILL-9002" }),
    ("check-in-item.json", Expect::Ncip { response: "CheckInItemResponse", contains: "ILL-9002" }),
    ("ncip-AcceptItem.json", Expect::Ncip { response: "AcceptItemResponse", contains: "ILL-9102" }),
    ("ncip-CheckInItem.json", Expect::Ncip { response: "CheckInItemResponse", contains: "ILL-9102" }),
    ("check-out-item.json", Expect::Ncip { response: "CheckOutItemResponse", contains: "DateDue" }),
    ("renew-item.json", Expect::Ncip { response: "RenewItemResponse", contains: "DateDue" }),
    ("ncip-CheckOutItem.json", Expect::Ncip { response: "CheckOutItemResponse", contains: "DateDue" }),
    ("ncip-RenewItem.json", Expect::Ncip { response: "RenewItemResponse", contains: "DateDue" }),
    (
        "request-status.json",
        Expect::Http {
            status: 200,
            content_type: Some("application/json"),
            contains: "\"relais_request_id\":\"RL-9002\"",
        },
    ),
    ("reconcile.json", Expect::Reconciled { ended: "end_of_records" }),
    ("deliver.json", Expect::Delivered { barcode: "ILL-9003" }),
];

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The function an event file is for: `ncip-<MessageType>.json` is the front door, `<crate>.json` that crate.
fn function_for(file: &str) -> Function {
    let stem = file.strip_suffix(".json").unwrap_or_else(|| panic!("{file}: events are .json files"));
    if stem.starts_with("ncip-") {
        return Function::NcipFrontDoor;
    }
    Function::from_name(stem).unwrap_or_else(|| panic!("{file}: no function crate named {stem}"))
}

/// The settings the template gives the functions, with the simulator as Alma. The front door is given the
/// functions' names as the template gives them; the test's bridge answers them in process.
fn lambda_settings(sim: &AlmaSim) -> Settings {
    let (base, ncip) = (sim.base_url(), sim.ncip_url());
    let mut env = Env::from_pairs([
        ("ALMA_API_BASE", base.as_str()),
        ("ALMA_API_KEY", sim.api_key()),
        ("ALMA_NCIP_URL", ncip.as_str()),
        ("ALMA_INSTITUTION_CODE", Seed::demo().institution_code()),
        ("ALMA_PARTNER_CODE", "RELAIS"),
        // The agencies the events speak for: the front door on AWS does not start with an open policy.
        ("NCIP_ALLOWED_AGENCIES", "Relais"),
        ("DYNAMODB_TABLE", "not-used-the-test-opens-an-embedded-store"),
        ("NCIP_SHARED_SECRET", support::NCIP_TOKEN),
        ("STATUS_TOKEN", support::STATUS_TOKEN),
        ("STAFF_ACTION_TOKEN", support::STAFF_TOKEN),
        ("LOG_HASH_KEY", "events-test-log-hash-key"),
        ("RELAIS_FORM_URL", "https://relais.example.org/user/login.html"),
        ("RELAIS_LIBRARY_SYMBOL", "DEMO"),
        ("BRIDGE_DEADLINE_MS", "8000"),
    ]);
    for service in Function::services() {
        env.set(service.invoke_variable().expect("a service function"), service.name());
    }
    Settings::from_env(&env, Host::Lambda).expect("the Lambda settings are valid")
}

fn lambda_bridge(settings: Settings, data_dir: &Path) -> Arc<Bridge> {
    let AlmaTarget::Remote(remote) = &settings.alma else { panic!("Alma is configured") };
    let endpoints = AlmaRemote {
        api_base: remote.api_base.clone(),
        api_key: remote.api_key.clone(),
        ncip_url: remote.ncip_url.clone(),
        institution_code: remote.institution_code.clone(),
    };
    let store = EmbeddedStore::open_with_config(data_dir, settings.store_config()).expect("embedded store opens");
    let alma = AlmaClients::over(&settings, &endpoints, bridge::alma::https_client()).expect("Alma's URLs");
    Arc::new(Bridge::new(Parts::in_process(settings, alma, Arc::new(store)).expect("parts")).expect("bridge assembles"))
}

fn assert_ncip(file: &str, status: u16, content_type: Option<&str>, body: &str, response: &str, contains: &str) {
    assert_eq!(status, 200, "{file}: NCIP answers are HTTP 200: {body}");
    assert_eq!(content_type, Some(NCIP_CONTENT_TYPE), "{file}");
    assert!(body.contains(&format!("{response}>")), "{file}: expected {response}: {body}");
    assert!(!body.contains("Problem"), "{file}: unexpected Problem: {body}");
    assert!(body.contains(contains), "{file}: expected {contains:?} in {body}");
}

#[tokio::test]
async fn every_event_is_answered_by_its_function_with_the_real_answer() {
    let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
    let data_dir = tempfile::tempdir().expect("temp dir");
    let settings = lambda_settings(&sim);
    for function in Function::ALL {
        check_requirements(function, &settings).unwrap_or_else(|e| panic!("{}: {e}", function.name()));
    }
    let bridge = lambda_bridge(settings, data_dir.path());

    for (file, expect) in SCENARIO {
        let json = read(&events_dir().join(file));
        if let Expect::Delivered { barcode } = *expect {
            queue_during_maintenance(&sim, &bridge, barcode).await;
            let event: DeliverEvent = serde_json::from_str(&json).expect("a deliver event");
            assert!(matches!(event, DeliverEvent::Queue(_)), "{file}: an SQS batch");
            let answer = bridge::lambda::deliver::handle(&bridge, event).await;
            assert_eq!(answer, DeliverAnswer::Batch(SqsBatchResponse::default()), "{file}: nothing handed back");
            assert_eq!(sim.state().items_with_barcode(barcode), 1, "{file}: delivered to Alma");
            continue;
        }
        if let Expect::Reconciled { ended } = *expect {
            let _: serde_json::Value = serde_json::from_str(&json).expect("a schedule event");
            let summary = bridge::lambda::reconcile::handle(&bridge).await;
            let answer = serde_json::to_value(&summary).expect("the summary serialises");
            assert_eq!(answer["ended"], ended, "{file}: {answer}");
            assert!(answer["calls"].as_u64().unwrap_or(0) > 0, "{file}: Alma was read: {answer}");
            continue;
        }
        let request =
            lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{file}: not an HTTP API event: {e}"));
        // The function's own entry, as its binary runs it.
        let router = entry::of(function_for(file)).router(Arc::clone(&bridge)).expect("an HTTP function");
        let response = router.oneshot(request).await.expect("the router answers");
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (location, content_type) = (header("location").unwrap_or_default(), header("content-type"));
        let body = response.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&body).into_owned();
        match *expect {
            Expect::Ncip { response, contains } => {
                assert_ncip(file, status, content_type.as_deref(), &body, response, contains)
            }
            Expect::Delivered { .. } | Expect::Reconciled { .. } => unreachable!("answered above"),
            Expect::Http { status: wanted, content_type: wanted_type, contains } => {
                assert_eq!(status, wanted, "{file}: {body}");
                assert_eq!(content_type.as_deref(), wanted_type, "{file}: Content-Type");
                assert!(
                    location.contains(contains) || body.contains(contains),
                    "{file}: expected {contains:?}: {location} {body}"
                );
            }
        }
    }
}

/// The AcceptItem of `barcode` for the request deliver.json names, sent while Alma is in maintenance: the
/// accept-item function answers Relais at once and queues it.
async fn queue_during_maintenance(sim: &AlmaSim, bridge: &Arc<Bridge>, barcode: &str) {
    use alma_sim::{FaultKind, FaultScope, FaultSpec};
    let maintenance = FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip);
    sim.faults().arm(maintenance).unwrap();
    let accept =
        read(&events_dir().join("accept-item.json")).replace("RL-9002", "RL-9003").replace("ILL-9002", barcode);
    let request = lambda_http::request::from_str(&accept).expect("an HTTP API event");
    let router = entry::ACCEPT_ITEM.router(Arc::clone(bridge)).expect("an HTTP function");
    let response = router.oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("AcceptItemResponse>") && !body.contains("Problem"), "queued and answered: {body}");
    assert_eq!(sim.state().items_with_barcode(barcode), 0, "Alma was in maintenance");
    sim.faults().clear();
}

#[test]
fn every_event_file_is_in_the_scenario_and_named_for_a_function() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(events_dir())
        .expect("events/ exists")
        .map(|entry| entry.expect("readable entry"))
        .filter(|entry| entry.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = SCENARIO.iter().map(|(file, _)| (*file).to_owned()).collect();
    assert_eq!(on_disk, listed, "each file in events/ has a place (and an expected answer) in SCENARIO");
    let covered: HashSet<Function> = listed.iter().map(|file| function_for(file)).collect();
    for function in Function::ALL {
        assert!(covered.contains(&function), "no event for {}", function.name());
        assert!(listed.contains(&format!("{}.json", function.name())), "no {}.json", function.name());
    }
}

#[test]
fn service_function_events_are_exactly_what_the_front_door_sends() {
    for function in Function::ALL.into_iter().filter(|f| f.service().is_some()) {
        let file = format!("{}.json", function.name());
        let event: serde_json::Value = serde_json::from_str(&read(&events_dir().join(&file))).expect("JSON");
        let body = event["body"].as_str().unwrap_or_else(|| panic!("{file}: a text body"));
        let sent = http_api_event("POST", "/ncip", "", &[("content-type", "application/xml")], body.as_bytes());
        let sent = serde_json::to_value(&sent).expect("the invoke payload serialises");
        assert_eq!(event, sent, "{file} differs from the front door's invoke payload (src/lambda/invoke.rs)");
        let service = function.service().expect("a service function").to_string();
        assert!(body.contains(&format!("<{service}>")), "{file} carries a {service} message");
    }
}

#[test]
fn front_door_events_carry_the_curl_bodies_and_the_test_token() {
    let bodies = events_dir().join("bodies");
    let mut seen = 0;
    for entry in std::fs::read_dir(&bodies).expect("events/bodies exists") {
        let path = entry.expect("readable entry").path();
        let service = path.file_stem().and_then(|s| s.to_str()).expect("a file name").to_owned();
        let event: serde_json::Value = serde_json::from_str(&read(&events_dir().join(format!("ncip-{service}.json"))))
            .unwrap_or_else(|e| panic!("ncip-{service}.json: {e}"));
        assert_eq!(
            event["body"].as_str(),
            Some(read(&path).as_str()),
            "ncip-{service}.json carries bodies/{service}.xml"
        );
        assert!(read(&path).contains(&format!("<{service}>")), "bodies/{service}.xml is a {service} message");
        assert_eq!(event["rawPath"], format!("/ncip/{}", support::NCIP_TOKEN));
        assert_eq!(event["pathParameters"]["token"], support::NCIP_TOKEN);
        assert_eq!(event["routeKey"], "POST /ncip/{token}");
        seen += 1;
    }
    let front_door_events = SCENARIO.iter().filter(|(file, _)| file.starts_with("ncip-")).count();
    assert_eq!(seen, front_door_events, "one body per front-door event");
}
