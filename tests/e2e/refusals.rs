//! Relais hears "success" only when Alma acted or will: a refusal that waiting cannot cure (a wrong NCIP
//! URL, an unknown partner, an identifier Alma's API cannot take) is answered with a Problem at once and
//! nothing is queued, while an outage still queues. Over real HTTP to the simulator.

use crate::support::lookup::capture_logs;
use crate::support::{Harness, StoreKind, messages as m};
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use bridge::flows::REFUSAL_PROBLEM_TYPE;

const DUE: &str = "2027-02-28T23:59:59Z";

fn problem_type(answer: &str) -> String {
    // Any prefix: the bridge writes `ns1:`.
    let start = answer.find("ProblemType").and_then(|i| answer[i..].find('>').map(|j| i + j + 1));
    let start = start.unwrap_or_else(|| panic!("a Problem: {answer}"));
    answer[start..].split('<').next().unwrap_or_default().to_owned()
}

/// Nothing of `request` waits in the outbox.
async fn nothing_queued(h: &Harness, request: &str) {
    let open = h.store.open_queue(100).await.expect("the queue reads");
    assert!(open.iter().all(|m| m.request.as_str() != request), "{request} was queued: {open:?}");
}

#[tokio::test]
async fn a_wrong_ncip_path_is_a_problem_at_once_and_nothing_waits() {
    let logs = capture_logs();
    let h = Harness::start_with_ncip_path(StoreKind::Embedded, "/view/NCIPServletX", &[]).await;
    let receive = h.ncip(&m::accept_item("RL-REF-1", "ILL-REF-1", "21000000001")).await;
    assert_eq!(problem_type(&receive), REFUSAL_PROBLEM_TYPE, "{receive}");
    assert!(receive.contains("ALMA_NCIP_URL") && receive.contains("404"), "staff are told what to fix: {receive}");
    nothing_queued(&h, "RL-REF-1").await;
    let ship = h.ncip(&m::check_out_item("RL-REF-2", "39000000002", "GENERIC-ILL-PATRON", DUE)).await;
    assert_eq!(problem_type(&ship), REFUSAL_PROBLEM_TYPE, "{ship}");
    nothing_queued(&h, "RL-REF-2").await;
    assert!(logs.text().contains("a configuration fault"), "the configuration-fault line the alarm counts");
}

#[tokio::test]
async fn an_unknown_partner_is_named_in_the_problem() {
    let h = Harness::start_with(StoreKind::Embedded, &[("ALMA_PARTNER_CODE", "RELAIS_X")], |store| store).await;
    let receive = h.ncip(&m::accept_item("RL-REF-3", "ILL-REF-3", "21000000001")).await;
    assert_eq!(problem_type(&receive), REFUSAL_PROBLEM_TYPE, "{receive}");
    assert!(receive.contains("Unknown partner RELAIS_X"), "{receive}");
    nothing_queued(&h, "RL-REF-3").await;
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 0, "nothing reached Alma's NCIP responder");
}

#[tokio::test]
async fn a_patron_id_alma_cannot_take_in_a_path_is_refused_not_queued() {
    let h = Harness::start(StoreKind::Embedded).await;
    let receive = h.ncip(&m::accept_item("RL-REF-4", "ILL-REF-4", "..")).await;
    assert_eq!(problem_type(&receive), REFUSAL_PROBLEM_TYPE, "{receive}");
    nothing_queued(&h, "RL-REF-4").await;
}

#[tokio::test]
async fn once_alma_has_answered_maintenance_still_queues_and_delivers_after() {
    let h = Harness::start(StoreKind::Embedded).await;
    // Alma answers once: the bridge now knows this NCIP URL reaches Alma.
    let first = h.ncip(&m::accept_item("RL-REF-5", "ILL-REF-5", "21000000001")).await;
    assert!(first.contains("AcceptItemResponse") && !first.contains("Problem"), "{first}");
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    let queued = h.ncip(&m::accept_item("RL-REF-6", "ILL-REF-6", "21000000001")).await;
    assert!(queued.contains("AcceptItemResponse") && !queued.contains("Problem"), "queued: {queued}");
    h.sim.faults().clear();
    bridge::flows::outbox::deliver_due(&h.bridge.bridge).await;
    assert_eq!(h.sim.state().items_with_barcode("ILL-REF-6"), 1, "delivered once Alma was back");
}

#[tokio::test]
async fn before_alma_first_answers_an_outage_is_a_temporary_failure_and_nothing_is_queued() {
    let h = Harness::start_before_go_live(StoreKind::Embedded, &[]).await;
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    let receive = h.ncip(&m::accept_item("RL-LIVE-1", "ILL-LIVE-1", "21000000001")).await;
    assert_eq!(problem_type(&receive), "Temporary Processing Failure", "{receive}");
    assert!(receive.contains("nothing was queued"), "{receive}");
    nothing_queued(&h, "RL-LIVE-1").await;

    // One message gets through: from then on this Alma's outages are waited out.
    h.sim.faults().clear();
    let first = h.ncip(&m::accept_item("RL-LIVE-2", "ILL-LIVE-2", "21000000001")).await;
    assert!(!first.contains("Problem"), "{first}");
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    let queued = h.ncip(&m::accept_item("RL-LIVE-3", "ILL-LIVE-3", "21000000001")).await;
    assert!(queued.contains("AcceptItemResponse") && !queued.contains("Problem"), "queued: {queued}");
    let open = h.store.open_queue(100).await.expect("the queue reads");
    assert!(open.iter().any(|m| m.request.as_str() == "RL-LIVE-3"), "{open:?}");
}

#[tokio::test]
async fn an_api_key_without_the_users_area_is_named_in_the_problem() {
    use alma_sim::{ApiAccess, ApiArea, DEFAULT_API_KEY, Seed};
    let logs = capture_logs();
    let areas = [
        (ApiArea::Bibs, ApiAccess::ReadWrite),
        (ApiArea::ResourceSharingPartners, ApiAccess::Read),
        (ApiArea::TaskLists, ApiAccess::Read),
    ];
    let h = Harness::start_seeded(Seed::demo().with_api_key_for_areas(DEFAULT_API_KEY, areas), &[]).await;
    for (request, message) in [
        ("RL-KEY-1", m::accept_item("RL-KEY-1", "ILL-KEY-1", "21000000001")),
        ("RL-KEY-2", m::accept_item("RL-KEY-2", "ILL-KEY-2", "21000000002")),
    ] {
        let answer = h.ncip(&message).await;
        assert_eq!(problem_type(&answer), REFUSAL_PROBLEM_TYPE, "{answer}");
        assert!(answer.contains("API key for Users"), "staff are told which area: {answer}");
        nothing_queued(&h, request).await;
    }
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 0);
    assert!(logs.text().contains("a configuration fault"));
}

#[tokio::test]
async fn a_login_page_instead_of_ncip_is_a_problem_and_the_next_attempt_reads_alma_first() {
    let h = Harness::start_with(StoreKind::Embedded, &[("OUTBOX", "off")], |store| store).await;
    h.sim.faults().arm(FaultSpec::next(FaultKind::LoginPage, 1, FaultScope::Ncip)).unwrap();
    let message = m::accept_item("RL-HTML-1", "ILL-HTML-1", "21000000001");
    let answer = h.ncip(&message).await;
    assert_eq!(problem_type(&answer), REFUSAL_PROBLEM_TYPE, "{answer}");
    assert!(answer.contains("could not be read"), "{answer}");

    // Alma may have acted on it: once the claim's lease is over, the resend reads the item before it forwards.
    h.clock.advance(std::time::Duration::from_secs(31));
    let before = h.sim.calls().len();
    let again = h.ncip(&message).await;
    assert!(again.contains("AcceptItemResponse") && !again.contains("Problem"), "{again}");
    let during: Vec<_> = h.sim.calls().into_iter().skip(before).collect();
    let read = during.iter().position(|c| c.path.contains("/items"));
    let forward = during.iter().position(|c| c.ncip_service.as_deref() == Some("AcceptItem"));
    assert!(matches!((read, forward), (Some(r), Some(f)) if r < f), "read before forward: {during:?}");
    assert_eq!(h.sim.state().items_with_barcode("ILL-HTML-1"), 1, "received once");
}

#[tokio::test]
async fn a_general_error_while_probing_never_acts_again_on_a_guess() {
    use alma_sim::AfterCommit;
    let h = Harness::start_with(StoreKind::Embedded, &[("OUTBOX", "off")], |store| store).await;
    // Alma acts on the receive but its answer is lost.
    let lost = FaultKind::FailAfterCommit { then: AfterCommit::Drop };
    h.sim.faults().arm(FaultSpec::next(lost, 1, FaultScope::Ncip)).unwrap();
    let message = m::accept_item("RL-GEN-1", "ILL-GEN-1", "21000000001");
    assert_eq!(problem_type(&h.ncip(&message).await), "Temporary Processing Failure");
    assert_eq!(h.sim.state().items_with_barcode("ILL-GEN-1"), 1);

    // Every read of Alma's items now answers its general error 401652: not "not found".
    let general = FaultSpec::always(FaultKind::GeneralError, FaultScope::Rest).with_path_prefix("/almaws/v1/items");
    h.sim.faults().arm(general).unwrap();
    let mut answers = Vec::new();
    for _ in 0..3 {
        h.clock.advance(std::time::Duration::from_secs(31));
        answers.push(h.ncip(&message).await);
    }
    assert_eq!(h.sim.state().items_with_barcode("ILL-GEN-1"), 1, "no second temporary item");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1, "never forwarded again");
    assert_eq!(problem_type(&answers[0]), "Temporary Processing Failure", "{}", answers[0]);
    let last = answers.last().unwrap();
    assert_eq!(problem_type(last), REFUSAL_PROBLEM_TYPE, "staff decide: {last}");
    assert!(last.contains("ILL-GEN-1") && last.contains("check"), "names the item to check: {last}");
}

#[tokio::test]
async fn the_daily_threshold_stops_rest_calls_until_midnight_utc_while_ncip_goes_on() {
    let h = Harness::start(StoreKind::Embedded).await;
    let rest_calls = |h: &Harness| h.sim.calls().iter().filter(|c| c.scope == "rest").count();
    h.sim.faults().arm(FaultSpec::next(FaultKind::DailyThreshold, 1, FaultScope::Rest)).unwrap();
    // The patron's translation meets the used-up quota: an outage, so the receive waits.
    let first = h.ncip(&m::accept_item("RL-DAY-1", "ILL-DAY-1", "21000000002")).await;
    assert!(first.contains("AcceptItemResponse") && !first.contains("Problem"), "queued: {first}");
    let after_first = rest_calls(&h);

    // The next receive needs a translation too: no REST call is made for it, it waits as well.
    let second = h.ncip(&m::accept_item("RL-DAY-2", "ILL-DAY-2", "21000000003")).await;
    assert!(second.contains("AcceptItemResponse") && !second.contains("Problem"), "queued: {second}");
    assert_eq!(rest_calls(&h), after_first, "no REST call until Alma's reset");
    // NCIP forwards go on.
    let ncip_before = h.sim.calls().iter().filter(|c| c.scope == "ncip").count();
    h.ncip(&m::check_in_item("ILL-DAY-UNKNOWN")).await;
    assert_eq!(h.sim.calls().iter().filter(|c| c.scope == "ncip").count(), ncip_before + 1);

    // Past midnight UTC the waiting receives go through.
    h.clock.advance(std::time::Duration::from_secs(25 * 3600));
    for _ in 0..3 {
        bridge::flows::outbox::deliver_due(&h.bridge.bridge).await;
    }
    assert!(rest_calls(&h) > after_first, "REST calls resumed");
    assert_eq!(h.sim.state().items_with_barcode("ILL-DAY-1"), 1);
    assert_eq!(h.sim.state().items_with_barcode("ILL-DAY-2"), 1);
}

/// Set on the child process [`on_aws_a_configuration_fault_is_counted_on_its_metric`] starts.
const METRICS_CHILD: &str = "BRIDGE_TEST_METRICS_CHILD";

/// On AWS the configuration-fault alarm watches the `ConfigurationFaults` metric, which the function prints
/// on stdout in CloudWatch's Embedded Metric Format. The test binary runs the refusals again in a process of
/// its own, with metrics on as a Lambda function turns them on and the store on DynamoDB (moto), and reads
/// what that process printed, as CloudWatch would.
#[tokio::test]
async fn on_aws_a_configuration_fault_is_counted_on_its_metric() {
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--exact", "refusals::metrics_of_refusals_on_dynamodb", "--ignored", "--nocapture"])
        .env(METRICS_CHILD, "1")
        .env("METRICS_NAMESPACE", "AlmaRelaisBridge/test-stack")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the refusals ran: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|record: &serde_json::Value| record.get("_aws").is_some())
        .collect();
    let faults: Vec<&serde_json::Value> = records.iter().filter(|r| r.get("ConfigurationFaults").is_some()).collect();
    assert_eq!(faults.len(), 2, "one per refused message: {records:?}");
    for record in faults {
        assert_eq!(record["ConfigurationFaults"], 1.0);
        let declared = &record["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "AlmaRelaisBridge/test-stack", "the stack's namespace, as the alarm reads");
        assert_eq!(declared["Metrics"][0]["Name"], "ConfigurationFaults");
        assert_eq!(declared["Metrics"][0]["Unit"], "Count");
    }
    assert!(
        records.iter().any(|r| r["MessageType"] == "AcceptItem" && r.get("Messages").is_some()),
        "the answered message is counted too: {records:?}"
    );
}

/// The refusals [`on_aws_a_configuration_fault_is_counted_on_its_metric`] reads the metrics of; run only in
/// the process it starts.
#[tokio::test]
#[ignore = "run by on_aws_a_configuration_fault_is_counted_on_its_metric in a process of its own"]
async fn metrics_of_refusals_on_dynamodb() {
    assert_eq!(std::env::var(METRICS_CHILD).as_deref(), Ok("1"), "started by the test that reads its output");
    bridge::metrics::enable();
    let h = Harness::start_with_ncip_path(StoreKind::DynamoDb, "/view/NCIPServletX", &[]).await;
    let receive = h.ncip(&m::accept_item("RL-REF-M1", "ILL-REF-M1", "21000000001")).await;
    assert_eq!(problem_type(&receive), REFUSAL_PROBLEM_TYPE, "{receive}");
    let ship = h.ncip(&m::check_out_item("RL-REF-M2", "39000000002", "GENERIC-ILL-PATRON", DUE)).await;
    assert_eq!(problem_type(&ship), REFUSAL_PROBLEM_TYPE, "{ship}");
    nothing_queued(&h, "RL-REF-M1").await;
}
