//! Relais hears back after Alma's NCIP answer alone, as on a direct link: Alma's own ids (the temporary item,
//! the hold, the borrowing or lending request) are read after the answer, as follow-up work the commit
//! recorded. The simulator's call log shows what Alma was asked before the answer; the record shows the ids
//! pending until the read-back ran. Run on both stores, with no worker, so that the test runs the read-backs
//! itself (`bridge::flows::follow_up::run_due`).

use crate::support::lookup::Lookup;
use crate::support::{Harness, StoreKind, messages as m};
use alma_sim::{CallRecord, FaultKind, FaultScope, FaultSpec};
use bridge::alma::AlmaRest;
use bridge::flows::follow_up;
use bridge::flows::outbox::deliver_due;

/// No worker: the test decides when the read-backs run.
const NO_WORKER: [(&str, &str); 1] = [("LOCAL_OUTBOX_POLL_MS", "0")];

/// The calls Alma received from `since` (an earlier length of the log) on, as `scope method path`.
fn calls_since(h: &Harness, since: usize) -> Vec<String> {
    h.sim.calls().iter().skip(since).map(describe).collect()
}

fn describe(call: &CallRecord) -> String {
    match &call.ncip_service {
        Some(service) => format!("{} {service}", call.scope),
        None => format!("{} {} {}", call.scope, call.method, call.path),
    }
}

async fn run_read_backs(h: &Harness) -> follow_up::FollowUpRound {
    h.read_backs().await
}

/// The state a receiving desk is in: Alma's partner record warm (a receipt for another patron came before), and
/// the patron named by the id LookupUser answered for them when Relais asked who they are. The patron's own
/// first receipt then needs nothing read from Alma before the NCIP call.
async fn warm_up(h: &Harness) {
    let answer = h.ncip(&m::accept_item("RL-WARM", "ILL-WARM", "21000000002")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(run_read_backs(h).await.finished, 1);
    let answer = h.ncip(&Lookup::user("U1001").xml()).await;
    assert!(answer.contains("21000000001"), "LookupUser answers patron1's barcode: {answer}");
}

async fn a_receipt_is_answered_after_one_ncip_call_and_its_ids_follow(kind: StoreKind) {
    let h = Harness::start_with(kind, &NO_WORKER, |store| store).await;
    warm_up(&h).await;
    let before = h.sim.calls().len();

    let answer = h.ncip(&m::accept_item("RL-5001", "ILL-5001", "21000000001")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(calls_since(&h, before), ["ncip AcceptItem"], "Alma's NCIP answer alone, before Relais's");

    // Relais was answered; Alma's ids are not read yet, and the staff pages say so.
    let record = &h.status_json("RL-5001").await["record"];
    assert_eq!(record["alma"]["pending"], true, "{record}");
    assert!(record["alma"]["item_pid"].is_null(), "{record}");
    assert!(h.status_html("RL-5001").await.contains("pending"));

    let round = run_read_backs(&h).await;
    assert_eq!((round.finished, round.retrying), (1, 0));
    // Read through the item, never through the patron.
    let reads = calls_since(&h, before + 1);
    assert!(reads.iter().all(|c| c.starts_with("rest GET /almaws/v1/items") || c.contains("/bibs/")), "{reads:?}");
    assert!(!reads.iter().any(|c| c.contains("/users/")), "{reads:?}");

    let item = h.alma.item_by_barcode("ILL-5001", &Harness::ctx()).await.expect("the temporary item");
    let hold = h.user_requests("patron1").await.into_iter().find(|r| r.item_barcode.as_deref() == Some("ILL-5001"));
    let hold = hold.expect("the hold on the temporary item");
    let record = &h.status_json("RL-5001").await["record"];
    assert_eq!(record["alma"]["item_pid"], item.item_data.pid.as_str());
    assert_eq!(record["alma"]["mms_id"], item.bib_data.mms_id.as_str());
    assert_eq!(record["alma"]["holding_id"], item.holding_data.holding_id.as_str());
    assert_eq!(record["alma"]["hold_or_loan_id"], hold.request_id.as_str());
    let borrowing = hold.resource_sharing.as_ref().and_then(|rs| rs.id.as_deref()).expect("a borrowing request");
    assert_eq!(record["alma"]["request_id"], borrowing);
    assert!(record["alma"].get("pending").is_none(), "no longer pending: {record}");
    assert!(!h.status_html("RL-5001").await.contains("pending"));
    assert_eq!(run_read_backs(&h).await, follow_up::FollowUpRound::default(), "done once");

    // The return is one NCIP call, as it always was.
    let before = h.sim.calls().len();
    let answer = h.ncip(&m::check_in_item("ILL-5001")).await;
    assert!(answer.contains("CheckInItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(calls_since(&h, before), ["ncip CheckInItem"]);
}

async fn a_ship_is_answered_after_one_ncip_call_and_its_ids_follow(kind: StoreKind) {
    let h = Harness::start_with(kind, &NO_WORKER, |store| store).await;
    let before = h.sim.calls().len();
    let ship = m::check_out_item("RL-6001", "39000000002", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z");
    let answer = h.ncip(&ship).await;
    assert!(answer.contains("CheckOutItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(calls_since(&h, before), ["ncip CheckOutItem"], "Alma's NCIP answer alone, before Relais's");
    let record = &h.status_json("RL-6001").await["record"];
    assert_eq!(record["alma"]["pending"], true, "{record}");
    assert!(record["alma"]["request_id"].is_null(), "{record}");

    assert_eq!(run_read_backs(&h).await.finished, 1);
    let item = h.alma.item_by_barcode("39000000002", &Harness::ctx()).await.expect("our item");
    let record = &h.status_json("RL-6001").await["record"];
    assert_eq!(record["alma"]["item_pid"], item.item_data.pid.as_str());
    let lending = record["alma"]["request_id"].as_str().expect("the lending request's id");
    assert_ne!(lending, "RL-6001", "Alma's id, not Relais's");
    assert!(record["alma"].get("pending").is_none(), "{record}");

    // A renewal is one NCIP call, as it always was.
    let before = h.sim.calls().len();
    let answer = h.ncip(&m::renew_item("39000000002", "GENERIC-ILL-PATRON", "2027-03-31T23:59:59Z")).await;
    assert!(answer.contains("RenewItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(calls_since(&h, before), ["ncip RenewItem"]);
}

async fn a_partners_cancel_stays_one_ncip_call(kind: StoreKind) {
    let h = Harness::start_with(kind, &NO_WORKER, |store| store).await;
    let answer = h.ncip(&m::request_item_for_our_item("RL-6101", "39000000001", "PARTNER-PATRON-7")).await;
    assert!(answer.contains("RequestItemResponse") && !answer.contains("Problem"), "{answer}");
    let before = h.sim.calls().len();
    let answer = h.ncip(&m::cancel_request_item("RL-6101", "PARTNER-PATRON-7")).await;
    assert!(answer.contains("CancelRequestItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(calls_since(&h, before), ["ncip CancelRequestItem"]);
}

async fn a_failed_read_back_is_retried_and_pending_meanwhile(kind: StoreKind) {
    let h = Harness::start_with(kind, &NO_WORKER, |store| store).await;
    let answer = h.ncip(&m::accept_item("RL-5101", "ILL-5101", "21000000001")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");

    // Alma's REST API fails for a while: the answer stands, the ids wait.
    h.sim.faults().arm(FaultSpec::always(FaultKind::GeneralError, FaultScope::Rest)).unwrap();
    let round = run_read_backs(&h).await;
    assert_eq!((round.finished, round.retrying, round.given_up), (0, 1, 0));
    let record = &h.status_json("RL-5101").await["record"];
    assert_eq!(record["alma"]["pending"], true, "{record}");
    assert!(h.status_html("RL-5101").await.contains("pending"));
    // Not due again yet: nothing is asked of Alma.
    let before = h.sim.calls().len();
    assert_eq!(run_read_backs(&h).await, follow_up::FollowUpRound::default());
    assert_eq!(h.sim.calls().len(), before);

    // Never the outbox's: nothing waits on GET /queue, and its count is untouched.
    assert_eq!(h.store.open_count().await.unwrap(), 0);
    assert!(h.store.open_queue(10).await.unwrap().is_empty());

    h.sim.faults().clear();
    h.clock.advance(follow_up::retry_pause(1));
    assert_eq!(run_read_backs(&h).await.finished, 1);
    let record = &h.status_json("RL-5101").await["record"];
    assert!(record["alma"]["item_pid"].is_string(), "{record}");
    assert!(record["alma"]["hold_or_loan_id"].is_string(), "{record}");
    assert!(record["alma"].get("pending").is_none(), "{record}");
}

async fn a_read_back_that_never_finds_the_ids_is_given_up_with_a_note(kind: StoreKind) {
    let h = Harness::start_with(kind, &NO_WORKER, |store| store).await;
    let answer = h.ncip(&m::accept_item("RL-5201", "ILL-5201", "21000000001")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    h.sim.faults().arm(FaultSpec::always(FaultKind::GeneralError, FaultScope::Rest)).unwrap();
    for attempt in 1..follow_up::GIVE_UP_AFTER {
        assert_eq!(run_read_backs(&h).await.retrying, 1, "attempt {attempt}");
        h.clock.advance(follow_up::retry_pause(attempt));
    }
    assert_eq!(run_read_backs(&h).await.given_up, 1);
    let status = h.status_json("RL-5201").await;
    assert!(status["record"]["alma"].get("pending").is_none(), "no longer pending once given up: {status}");
    let note = status["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message_type"] == follow_up::READ_BACK_ENTRY)
        .unwrap_or_else(|| panic!("a note in the history: {status}"));
    assert!(note["note"].as_str().unwrap().contains("not all read back"), "{note}");
    assert_eq!(run_read_backs(&h).await, follow_up::FollowUpRound::default());
}

async fn a_receipt_after_a_lost_answer_probes_alma_before_anything_else(kind: StoreKind) {
    let h = Harness::start_with(kind, &NO_WORKER, |store| store).await;
    // Alma takes the receipt but its answer is lost: the message waits in the outbox, answered.
    let lost = FaultSpec::next(FaultKind::FailAfterCommit { then: alma_sim::AfterCommit::Drop }, 1, FaultScope::Ncip);
    h.sim.faults().arm(lost).unwrap();
    let answer = h.ncip(&m::accept_item("RL-5301", "ILL-5301", "21000000001")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1);

    // Its delivery reads Alma's state first, finds the temporary item and sends nothing again.
    let before = h.sim.calls().len();
    deliver_due(&h.bridge.bridge).await;
    let delivery = calls_since(&h, before);
    assert!(delivery.first().is_some_and(|c| c.starts_with("rest GET /almaws/v1/items")), "{delivery:?}");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1, "no second temporary item: {delivery:?}");

    // The hold and the borrowing request follow, as after a fresh receipt.
    assert_eq!(run_read_backs(&h).await.finished, 1);
    let record = &h.status_json("RL-5301").await["record"];
    assert!(record["alma"]["item_pid"].is_string(), "{record}");
    assert!(record["alma"]["hold_or_loan_id"].is_string(), "{record}");
}

/// On AWS nothing runs after a function returns: the receipt's function rings the outbox queue, naming the
/// follow-up, before it answers, and the deliver function reads the ids back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_receipt_rings_the_deliverer_which_reads_its_ids_back() {
    use bridge::lambda::events::{DeliverAnswer, DeliverEvent, SqsBatchResponse};
    let (sqs, url) = crate::outbox::moto_fifo_queue().await;
    let aws = crate::support::lambda_aws(&bridge::alma::https_client());
    let doorbell = bridge::lambda::deliver::SqsDoorbell::built_on_first_ring(aws, url.clone());
    let h = Harness::start_adjusted(StoreKind::DynamoDb, &NO_WORKER, |parts| {
        parts.doorbell = Some(std::sync::Arc::new(doorbell))
    })
    .await;
    let answer = h.ncip(&m::accept_item("RL-7001", "ILL-7001", "21000000001")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(h.status_json("RL-7001").await["record"]["alma"]["pending"], true);

    let (event, groups) = crate::outbox::sqs_event(&sqs, &url).await;
    assert_eq!(groups, ["RL-7001"], "one doorbell, grouped by the Relais request");
    let body = event["Records"][0]["body"].as_str().unwrap().to_owned();
    assert!(body.contains("follow_up") && !body.contains("21000000001"), "names the work, never the patron: {body}");

    let event: DeliverEvent = serde_json::from_value(event).expect("the queue's records read as a deliver event");
    let answer = bridge::lambda::deliver::handle(&h.bridge.bridge, event.clone()).await;
    assert_eq!(answer, DeliverAnswer::Batch(SqsBatchResponse::default()), "nothing handed back");
    let record = &h.status_json("RL-7001").await["record"];
    assert!(record["alma"]["item_pid"].is_string() && record["alma"]["hold_or_loan_id"].is_string(), "{record}");
    assert!(record["alma"].get("pending").is_none(), "{record}");
    assert_eq!(h.store.open_count().await.unwrap(), 0, "the outbox's count is untouched");

    // SQS may hand the record over again (at-least-once): the work is done, Alma is not asked again.
    let before = h.sim.calls().len();
    let again = bridge::lambda::deliver::handle(&h.bridge.bridge, event).await;
    assert_eq!(again, DeliverAnswer::Batch(SqsBatchResponse::default()));
    assert_eq!(h.sim.calls().len(), before);
}

/// The local server's worker starts a read-back as soon as the commit leaves it, not at its next look at the
/// queue (a minute away here).
async fn locally_the_worker_reads_back_at_once(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "60000")], |store| store).await;
    let answer = h.ncip(&m::accept_item("RL-7101", "ILL-7101", "21000000001")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    let waited_since = std::time::Instant::now();
    loop {
        let record = h.status_json("RL-7101").await["record"].clone();
        if record["alma"].get("pending").is_none() {
            assert!(record["alma"]["hold_or_loan_id"].is_string(), "{record}");
            break;
        }
        assert!(waited_since.elapsed() < std::time::Duration::from_secs(20), "never read back: {record}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

on_both_stores!(
    a_receipt_is_answered_after_one_ncip_call_and_its_ids_follow,
    a_ship_is_answered_after_one_ncip_call_and_its_ids_follow,
    a_partners_cancel_stays_one_ncip_call,
    a_failed_read_back_is_retried_and_pending_meanwhile,
    a_read_back_that_never_finds_the_ids_is_given_up_with_a_note,
    a_receipt_after_a_lost_answer_probes_alma_before_anything_else,
    locally_the_worker_reads_back_at_once,
);
