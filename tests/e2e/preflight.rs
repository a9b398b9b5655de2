//! The go-live preflight against the simulator, through the production clients: a good configuration passes
//! every check and records the outbox's go-live marker; a key without an area, a wrong NCIP path, an unknown
//! partner and a wrong institution code each fail their own check with the fix, while the checks that can
//! still pass do. On AWS the deliver function answers a preflight event with the same report.

use crate::support::{Harness, StoreKind};
use alma_sim::{ApiAccess, ApiArea, DEFAULT_API_KEY, FaultKind, FaultScope, FaultSpec, Seed};
use bridge::Bridge;
use bridge::app::{AlmaClients, Parts};
use bridge::config::{AlmaRemote, Env, Host, Secret, Settings};
use bridge::flows::reached::marker_for;
use bridge::lambda::events::{DeliverAnswer, DeliverEvent};
use bridge::preflight::{self, Check, Options, Report};
use std::sync::Arc;

/// Every check of a configuration with one partner code, in the order they are printed.
const CHECKS: [&str; 7] = [
    "api-key Users",
    "api-key Bibs",
    "api-key Resource Sharing Partners",
    "api-key Task Lists",
    "partner RELAIS",
    "ncip-url",
    "to-agency-id",
];

async fn run(h: &Harness, patron: Option<&str>) -> Report {
    let report = preflight::run(&h.bridge.bridge, &Options { patron: patron.map(str::to_owned) }).await;
    // Shown with `--nocapture`: what a librarian would read.
    println!("{}", report.lines().join("\n"));
    report
}

fn check<'r>(report: &'r Report, name: &str) -> &'r Check {
    report.checks.iter().find(|c| c.check == name).unwrap_or_else(|| panic!("no check {name}: {report:?}"))
}

fn assert_passed(report: &Report, names: &[&str]) {
    for name in names {
        let check = check(report, name);
        assert!(check.passed, "{name} should pass: {check:?}");
        assert!(check.fix.is_none(), "{name}: a pass has no fix");
    }
}

fn assert_failed(report: &Report, name: &str, found: &str, fix: &str) {
    let check = check(report, name);
    assert!(!check.passed, "{name} should fail: {check:?}");
    assert!(check.found.contains(found), "{name}: expected {found:?} in {:?}", check.found);
    let given = check.fix.as_deref().unwrap_or_default();
    assert!(given.contains(fix), "{name}: expected the fix {fix:?} in {given:?}");
    let line = check.to_string();
    assert!(line.starts_with(&format!("FAIL {name}: ")) && line.contains(" — fix: "), "{line}");
    assert!(!report.passed, "one failure fails the report");
}

async fn marker_recorded(h: &Harness, ncip_url: &str) -> bool {
    h.store.has_marker(&marker_for(ncip_url)).await.expect("the store answers")
}

on_both_stores!(
    a_good_configuration_passes_every_check_and_records_the_go_live_marker,
    the_deliver_function_answers_a_preflight_event_with_the_report
);

async fn a_good_configuration_passes_every_check_and_records_the_go_live_marker(kind: StoreKind) {
    let h = Harness::start_before_go_live(kind, &[]).await;
    assert!(!marker_recorded(&h, &h.sim.ncip_url()).await, "the bridge has not reached Alma yet");

    let report = run(&h, None).await;
    assert!(report.passed, "{report:#?}");
    let names: Vec<&str> = report.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(names, CHECKS);
    for line in report.lines() {
        assert!(line.starts_with("PASS ") && !line.contains('\n'), "{line}");
    }
    assert!(check(&report, "api-key Users").found.contains("GET - OK - institutionCode: 01DEMO_INST"));
    assert!(check(&report, "api-key Task Lists").found.contains("read is enough"));
    let partner = &check(&report, "partner RELAIS").found;
    assert!(partner.contains("User Identifier Type BARCODE") && partner.contains("resource-sharing library RES_SHARE"));
    let ncip = &check(&report, "ncip-url").found;
    assert!(
        ncip.contains("Unknown User for a made-up patron") && ncip.contains("go-live marker is recorded"),
        "{ncip}"
    );
    assert!(marker_recorded(&h, &h.sim.ncip_url()).await, "the NCIP answer recorded the go-live marker");

    // A real patron is found by the partner's User Identifier Type, and never named in the report.
    let report = run(&h, Some("21000000001")).await;
    assert!(report.passed, "{report:#?}");
    assert!(check(&report, "ncip-url").found.contains("Alma found the patron asked for"));
    assert!(!format!("{report:?}").contains("21000000001"), "the patron's id stays out of the report");

    // Nothing in Alma changed: reads, the test calls and two LookupUsers.
    let calls = h.sim.calls();
    assert!(calls.iter().all(|c| c.method == "GET" || c.ncip_service.as_deref() == Some("LookupUser")), "{calls:?}");
    assert_eq!(h.alma_ncip_calls("LookupUser"), 2);
}

async fn the_deliver_function_answers_a_preflight_event_with_the_report(kind: StoreKind) {
    let h = Harness::start_before_go_live(kind, &[]).await;
    let event: DeliverEvent =
        serde_json::from_str(r#"{"preflight":{"patron":"21000000002"}}"#).expect("the event scripts/preflight sends");
    let DeliverAnswer::Preflight(answer) = bridge::lambda::deliver::handle(&h.bridge.bridge, event).await else {
        panic!("a preflight event is answered with the preflight's report");
    };
    assert!(answer.preflight.passed, "{answer:#?}");
    let names: Vec<&str> = answer.preflight.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(names, CHECKS);
    assert!(marker_recorded(&h, &h.sim.ncip_url()).await, "the deliver function records the marker too");

    // What scripts/preflight reads from the invocation's answer.
    let json: serde_json::Value = serde_json::to_value(DeliverAnswer::Preflight(answer)).expect("JSON");
    assert_eq!(json["preflight"]["passed"], true);
    let first = &json["preflight"]["checks"][0];
    assert_eq!((first["check"].as_str(), first["passed"].as_bool()), (Some("api-key Users"), Some(true)));
    assert!(first["found"].as_str().is_some_and(|f| f.contains("GET - OK")), "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_task_lists_fails_that_area_alone() {
    let areas = [
        (ApiArea::Users, ApiAccess::Read),
        (ApiArea::Bibs, ApiAccess::Read),
        (ApiArea::ResourceSharingPartners, ApiAccess::Read),
    ];
    let h = Harness::start_seeded(Seed::demo().with_api_key_for_areas(DEFAULT_API_KEY, areas), &[]).await;
    let report = run(&h, None).await;
    assert_failed(
        &report,
        "api-key Task Lists",
        "Alma refused the key for Task Lists (HTTP 400, UNAUTHORIZED",
        "give ALMA_API_KEY's key Task Lists read access",
    );
    assert_passed(&report, &CHECKS.into_iter().filter(|c| *c != "api-key Task Lists").collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ncip_path_fails_the_ncip_check() {
    let h = Harness::start_with_ncip_path(StoreKind::Embedded, "/view/NCIPServlet/v1", &[]).await;
    let report = run(&h, None).await;
    assert_failed(
        &report,
        "ncip-url",
        "/view/NCIPServlet/v1 answered HTTP 404, not NCIP",
        "check ALMA_NCIP_URL (it ends in /view/NCIPServlet",
    );
    assert_failed(&report, "to-agency-id", "not checked", "correct ALMA_NCIP_URL");
    assert_passed(&report, &CHECKS[..5]);

    // The right path answering a sign-in page instead of NCIP fails the same way.
    let h = Harness::start_before_go_live(StoreKind::Embedded, &[]).await;
    h.sim.faults().arm(FaultSpec::always(FaultKind::LoginPage, FaultScope::Ncip)).unwrap();
    let report = run(&h, None).await;
    assert_failed(&report, "ncip-url", "not NCIP (an HTML page", "check ALMA_NCIP_URL (it ends in /view/NCIPServlet");
    assert_passed(&report, &CHECKS[..5]);
    assert!(!marker_recorded(&h, &h.sim.ncip_url()).await, "no NCIP answer, no go-live marker");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_partner_fails_the_partner_check() {
    let h = Harness::start_with(StoreKind::Embedded, &[("ALMA_PARTNER_CODE", "RELAIS_X")], |store| store).await;
    let report = run(&h, None).await;
    assert_failed(
        &report,
        "partner RELAIS_X",
        "Alma knows no partner with the code RELAIS_X",
        "partner codes are case-sensitive: set ALMA_PARTNER_CODE (or the code in NCIP_AGENCY_PARTNERS)",
    );
    assert_passed(&report, &CHECKS[..4]);
    // Alma's responder still answered NCIP (refusing the partner), and did not refuse the institution.
    assert_passed(&report, &["ncip-url", "to-agency-id"]);
    assert!(check(&report, "ncip-url").found.contains("Unknown partner"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_partner_code_is_checked_and_an_inactive_one_fails() {
    let partners = [("ALMA_PARTNER_CODE", "RELAIS"), ("NCIP_AGENCY_PARTNERS", "Relais=RELAIS,Old=RELAIS_OLD")];
    let h = Harness::start_with(StoreKind::Embedded, &partners, |store| store).await;
    let report = run(&h, None).await;
    assert_failed(&report, "partner RELAIS_OLD", "is INACTIVE", "make the partner Active");
    assert_passed(&report, &CHECKS);
    assert_eq!(report.checks.len(), CHECKS.len() + 1, "RELAIS is checked once: {report:#?}");
}

/// The partner schema spells the primary identifier `user_name`; the line shows Alma's code as written and what
/// the bridge makes of it, so a spelling read otherwise than staff meant is seen before go-live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_matching_the_primary_id_shows_its_own_code_and_the_bridges_reading() {
    let h = Harness::start_with(StoreKind::Embedded, &[("ALMA_PARTNER_CODE", "RELAIS_PRIMARY")], |store| store).await;
    let report = run(&h, None).await;
    let partner = &check(&report, "partner RELAIS_PRIMARY").found;
    assert!(
        partner.contains("User Identifier Type user_name (Primary Identifier), matched as the primary id"),
        "{partner}"
    );
    let barcode = Harness::start_with(StoreKind::Embedded, &[], |store| store).await;
    let report = run(&barcode, None).await;
    let partner = &check(&report, "partner RELAIS").found;
    assert!(partner.contains("BARCODE (Barcode), matched as an identifier of that type"), "{partner}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_institution_code_fails_the_to_agency_check() {
    let sim = alma_sim::AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
    let data_dir = tempfile::tempdir().expect("temp dir");
    let env = Env::from_pairs([("ALMA_PARTNER_CODE", "RELAIS"), ("BRIDGE_DEADLINE_MS", "8000")]);
    let settings = Settings::from_env(&env, Host::Local).expect("settings");
    let endpoints = AlmaRemote {
        api_base: sim.base_url(),
        api_key: Secret::new(sim.api_key()),
        ncip_url: sim.ncip_url(),
        institution_code: "01WRONG_INST".into(),
    };
    let store = bridge::store::EmbeddedStore::open_with_config(data_dir.path(), settings.store_config()).unwrap();
    let alma = AlmaClients::over(&settings, &endpoints, bridge::alma::https_client()).expect("Alma's URLs");
    let bridge = Bridge::new(Parts::bare(settings, alma, Arc::new(store))).expect("bridge assembles");

    let report = preflight::run(&bridge, &Options::default()).await;
    println!("{}", report.lines().join("\n"));
    assert_failed(
        &report,
        "to-agency-id",
        "Unknown Agency for ToAgencyId 01WRONG_INST",
        "ALMA_INSTITUTION_CODE (the stack's AlmaInstitutionCode) must be Alma's institution code, e.g. 01UNIV_INST \
         (Alma's API-key test answered institutionCode: 01DEMO_INST)",
    );
    assert_passed(&report, &CHECKS[..6]);
}
