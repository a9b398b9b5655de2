//! A Relais action reaches Alma once, whatever happens: repeats, concurrent copies, Alma failing after it
//! acted, the bridge failing before it recorded Alma's answer. Run on both stores.
//!
//! These run with the outbox off (`OUTBOX=off`): Relais' own resends are what drives each action to Alma
//! here, the path a library that turns the outbox off relies on. tests/outbox.rs runs the same failures with
//! the outbox on, where the bridge's deliverer drives them.

use crate::support::{Harness, StoreKind, messages as m};
use alma_sim::{AfterCommit, FaultKind, FaultScope, FaultSpec};
use bridge::alma::AlmaRest;
use bridge::store::testing::{FaultyStore, Operation, OperationKind};
use bridge::store::{self, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

async fn start(kind: StoreKind) -> Harness {
    Harness::start_with(kind, &[("OUTBOX", "off")], |store| store).await
}

fn outcomes(status: &serde_json::Value) -> Vec<String> {
    status["history"].as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap().to_owned()).collect()
}

async fn a_message_replayed_three_times_acts_once(kind: StoreKind) {
    let logs = crate::support::lookup::capture_logs();
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    // No worker: the receipt's read-back of Alma's ids runs here, before the replays are counted.
    let quiet = [("OUTBOX", "off"), ("LOCAL_OUTBOX_POLL_MS", "0")];
    let h = Harness::start_with(kind, &quiet, move |store| {
        Arc::new(FaultyStore::new(store, move |operation| {
            seen.lock().unwrap().push(operation);
            None
        }))
    })
    .await;
    let request = format!("RL-5001-{kind:?}");
    let message = m::accept_item(&request, &format!("ILL-5001-{kind:?}"), "21000000001");
    let first = h.ncip(&message).await;
    assert!(first.contains("AcceptItemResponse") && !first.contains("Problem"), "{first}");
    assert_eq!(h.read_backs().await.finished, 1);
    let writes = |calls: &[Operation]| -> Vec<Operation> {
        calls.iter().copied().filter(|o| o.kind() != OperationKind::Read).collect()
    };
    for replay in 0..3 {
        calls.lock().unwrap().clear();
        assert_eq!(h.ncip(&message).await, first, "a repeat gets the stored answer");
        let calls = writes(&calls.lock().unwrap());
        if replay == 0 {
            assert_eq!(calls, [Operation::Begin, Operation::RecordReplay], "the first replay is recorded");
        } else {
            // `begin` of a done key is a read on either store (the store's own tests count its requests).
            assert_eq!(calls, [Operation::Begin], "a later replay writes nothing");
        }
    }
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1);
    assert_eq!(h.sim.state().items_with_barcode(&format!("ILL-5001-{kind:?}")), 1, "one temporary item");
    let status = h.status_json(&request).await;
    // Only the first replay is in the history: a sender retrying in a loop cannot grow it.
    assert_eq!(outcomes(&status), ["success", "replayed"]);
    // Every replay is counted, as the `Messages{Outcome=replayed}` metric counts it.
    let replays_answered = logs
        .text()
        .lines()
        .filter(|line| line.contains("ncip answered") && line.contains("\"replayed\"") && line.contains(&request))
        .count();
    assert_eq!(replays_answered, 3, "each replay answered and counted");
}

async fn twenty_concurrent_copies_act_once(kind: StoreKind) {
    let h = Arc::new(start(kind).await);
    let message = m::check_out_item("RL-5002", "39000000003", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z");
    let copies = (0..20).map(|_| {
        let h = Arc::clone(&h);
        let message = message.clone();
        tokio::spawn(async move { h.ncip(&message).await })
    });
    let answers: Vec<String> = futures_join(copies).await;
    for answer in &answers {
        assert!(answer.contains("CheckOutItemResponse") && !answer.contains("Problem"), "{answer}");
    }
    assert_eq!(h.alma_ncip_calls("CheckOutItem"), 1, "Alma saw the shipment once");
}

async fn futures_join(tasks: impl Iterator<Item = tokio::task::JoinHandle<String>>) -> Vec<String> {
    let mut answers = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        answers.push(task.await.expect("task finished"));
    }
    answers
}

async fn alma_acting_then_dropping_the_connection_is_reconciled_on_retry(kind: StoreKind) {
    let h = start(kind).await;
    h.sim
        .faults()
        .arm(FaultSpec::next(FaultKind::FailAfterCommit { then: AfterCommit::Drop }, 1, FaultScope::Ncip))
        .unwrap();
    let message = m::accept_item("RL-5003", "ILL-5003", "21000000001");
    let answer = h.ncip(&message).await;
    assert!(answer.contains("Temporary Processing Failure"), "Relais is asked to retry: {answer}");
    assert_eq!(h.sim.state().items_with_barcode("ILL-5003"), 1, "Alma acted although its answer was lost");

    // Within the claim's lease a retry is told to wait: the first attempt's fate is still unknown.
    let answer = h.ncip(&message).await;
    assert!(answer.contains("Temporary Processing Failure"), "{answer}");

    h.clock.advance(Duration::from_secs(31));
    let answer = h.ncip(&message).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1, "the retry read Alma instead of acting again");
    assert_eq!(h.sim.state().items_with_barcode("ILL-5003"), 1);
    let status = h.status_json("RL-5003").await;
    assert_eq!(status["record"]["status"], "on_hold_shelf");
    assert!(status["record"]["alma"]["item_pid"].is_string(), "the record is complete: {status}");
}

/// A store whose first `commit` fails, as when the bridge dies between Alma's answer and its own write.
fn failing_first_commit(inner: Arc<dyn Store>) -> Arc<dyn Store> {
    let failures_left = AtomicU32::new(1);
    Arc::new(FaultyStore::new(inner, move |operation| {
        let fails = operation == Operation::Commit
            && failures_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        fails.then_some(store::StoreError::Unavailable {
            operation: "commit",
            cause: "injected crash before the record was written",
        })
    }))
}

async fn a_crash_between_alma_and_the_store_neither_loses_nor_repeats(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("OUTBOX", "off")], failing_first_commit).await;
    let message = m::check_out_item("RL-5004", "39000000004", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z");
    let answer = h.ncip(&message).await;
    assert!(answer.contains("Temporary Processing Failure"), "{answer}");
    h.clock.advance(Duration::from_secs(31));
    let answer = h.ncip(&message).await;
    assert!(answer.contains("CheckOutItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(h.alma_ncip_calls("CheckOutItem"), 1, "one shipment in Alma");
    let status = h.status_json("RL-5004").await;
    assert_eq!(status["record"]["status"], "shipped");
    assert!(status["record"]["alma"]["item_pid"].is_string());
    assert_eq!(outcomes(&status), ["temporary_failure", "success"]);
}

async fn alma_maintenance_is_a_temporary_failure_and_the_retry_acts(kind: StoreKind) {
    let h = start(kind).await;
    h.sim.faults().arm(FaultSpec::next(FaultKind::Maintenance503, 10, FaultScope::Ncip)).unwrap();
    let message = m::accept_item("RL-5005", "ILL-5005", "21000000001");
    let answer = h.ncip(&message).await;
    assert!(answer.contains("Temporary Processing Failure"), "{answer}");
    assert_eq!(h.sim.state().items_with_barcode("ILL-5005"), 0);
    h.sim.faults().clear();
    // Alma's maintenance page means Alma did nothing, so no waiting for a lease: the retry acts at once.
    let answer = h.ncip(&message).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(h.sim.state().items_with_barcode("ILL-5005"), 1);
}

/// Relais' lending CheckOutItem without a RequestId: the loan is traced by barcode.
fn ship_without_request_id(barcode: &str, due: &str) -> String {
    m::check_out_item("RL-unused", barcode, "GENERIC-ILL-PATRON", due)
        .replace("<RequestId><RequestIdentifierValue>RL-unused</RequestIdentifierValue></RequestId>", "")
}

async fn an_item_lent_twice_is_checked_in_twice(kind: StoreKind) {
    let h = start(kind).await;
    for (loan, due) in [(1, "2027-02-28T23:59:59Z"), (2, "2027-05-31T23:59:59Z")] {
        let shipped = ship_without_request_id("39000000003", due);
        assert!(!shipped.contains("RL-unused"));
        let answer = h.ncip(&shipped).await;
        assert!(answer.contains("CheckOutItemResponse") && !answer.contains("Problem"), "loan {loan}: {answer}");
        let answer = h.ncip(&m::check_in_item("39000000003")).await;
        assert!(answer.contains("CheckInItemResponse") && !answer.contains("Problem"), "loan {loan}: {answer}");
        // Relais retrying the check-in is answered from the store.
        h.ncip(&m::check_in_item("39000000003")).await;
        assert_eq!(h.alma_ncip_calls("CheckOutItem"), loan, "each loan reaches Alma once");
        assert_eq!(h.alma_ncip_calls("CheckInItem"), loan, "each loan's check-in reaches Alma once");
        scan_in_at_home(&h, "39000000003").await;
    }
}

async fn an_item_lent_twice_without_request_id_or_due_date_is_shipped_twice(kind: StoreKind) {
    let h = start(kind).await;
    let ship = ship_without_request_id("39000000003", "2027-02-28T23:59:59Z")
        .replace("<DesiredDateDue>2027-02-28T23:59:59Z</DesiredDateDue>", "");
    assert!(!ship.contains("DesiredDateDue"));
    for loan in 1..=2 {
        let answer = h.ncip(&ship).await;
        assert!(answer.contains("CheckOutItemResponse") && !answer.contains("Problem"), "loan {loan}: {answer}");
        // Relais retrying the ship is answered from the store.
        h.ncip(&ship).await;
        assert_eq!(h.alma_ncip_calls("CheckOutItem"), loan, "the second loan is a new action, not a replay");
        // Staff find the loan by its item: it has no Relais request id to look it up by.
        let found = h.search_by_barcode("39000000003").await;
        let records = found["records"].as_array().expect("records");
        assert_eq!(records.len(), 1, "{found}");
        assert_eq!(records[0]["relais_request_id"], "item:39000000003");
        assert_eq!(records[0]["status"], "shipped");
        let answer = h.ncip(&m::check_in_item("39000000003")).await;
        assert!(answer.contains("CheckInItemResponse") && !answer.contains("Problem"), "loan {loan}: {answer}");
        scan_in_at_home(&h, "39000000003").await;
    }
}

async fn a_relais_request_id_in_the_bridges_item_form_is_refused(kind: StoreKind) {
    let h = start(kind).await;
    // `item:<barcode>` is where the bridge files a ship without a request id; Relais may not claim it.
    let answer =
        h.ncip(&m::check_out_item("ITEM:39000000003", "39000000003", "GENERIC-ILL-PATRON", "2027-02-28")).await;
    assert!(answer.contains("Element Rule Violated") && answer.contains("reserves"), "{answer}");
    assert_eq!(h.alma_ncip_calls("CheckOutItem"), 0, "refused before Alma");
}

/// The lent item arrives home and is scanned in at the circulation desk (Alma's item scan-in operation).
async fn scan_in_at_home(h: &Harness, barcode: &str) {
    use bridge::alma::AlmaRest;
    let item = h.alma.item_by_barcode(barcode, &Harness::ctx()).await.unwrap();
    let url = format!(
        "{}/bibs/{}/holdings/{}/items/{}?op=scan&library=MAIN&circ_desk=DEFAULT_CIRC_DESK",
        h.sim.base_url(),
        item.bib_data.mms_id,
        item.holding_data.holding_id,
        item.item_data.pid
    );
    let response = h
        .http
        .post(url)
        .header("Authorization", format!("apikey {}", h.sim.api_key()))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

async fn a_renewal_whose_answer_was_lost_is_not_repeated(kind: StoreKind) {
    let h = start(kind).await;
    let answer =
        h.ncip(&m::check_out_item("RL-5006", "39000000004", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z")).await;
    assert!(answer.contains("CheckOutItemResponse") && !answer.contains("Problem"), "{answer}");
    h.sim
        .faults()
        .arm(FaultSpec::next(FaultKind::FailAfterCommit { then: AfterCommit::Drop }, 1, FaultScope::Ncip))
        .unwrap();
    let renewal = m::renew_item("39000000004", "GENERIC-ILL-PATRON", "2027-03-31T23:59:59Z");
    let answer = h.ncip(&renewal).await;
    assert!(answer.contains("Temporary Processing Failure"), "Relais is asked to retry: {answer}");

    h.clock.advance(Duration::from_secs(31));
    let answer = h.ncip(&renewal).await;
    assert!(answer.contains("RenewItemResponse") && !answer.contains("Problem"), "{answer}");
    assert!(answer.contains("2027-03-31"), "answered with Alma's due date: {answer}");
    assert_eq!(h.alma_ncip_calls("RenewItem"), 1, "the retry read the item's due date instead of renewing again");
}

async fn a_borrowing_return_whose_answer_was_lost_is_answered_as_done(kind: StoreKind) {
    let h = start(kind).await;
    let answer = h.ncip(&m::accept_item("RL-5007", "ILL-5007", "21000000001")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
    h.sim
        .faults()
        .arm(FaultSpec::next(FaultKind::FailAfterCommit { then: AfterCommit::Drop }, 1, FaultScope::Ncip))
        .unwrap();
    let answer = h.ncip(&m::check_in_item("ILL-5007")).await;
    assert!(answer.contains("Temporary Processing Failure"), "Relais is asked to retry: {answer}");

    // Alma returned the item and deleted its temporary copy; the retry must not report that as a failure.
    h.clock.advance(Duration::from_secs(31));
    let answer = h.ncip(&m::check_in_item("ILL-5007")).await;
    assert!(answer.contains("CheckInItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(h.alma_ncip_calls("CheckInItem"), 1, "the retry read Alma's item instead of returning it again");
    assert_eq!(h.status_json("RL-5007").await["record"]["status"], "returned");
}

async fn a_renewal_by_policy_whose_answer_was_lost_is_not_repeated(kind: StoreKind) {
    let h = start(kind).await;
    let answer =
        h.ncip(&m::check_out_item("RL-5008", "39000000004", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z")).await;
    assert!(answer.contains("CheckOutItemResponse") && !answer.contains("Problem"), "{answer}");
    h.sim
        .faults()
        .arm(FaultSpec::next(FaultKind::FailAfterCommit { then: AfterCommit::Drop }, 1, FaultScope::Ncip))
        .unwrap();
    let renewal = m::renew_item_by_policy("39000000004", "GENERIC-ILL-PATRON");
    let answer = h.ncip(&renewal).await;
    assert!(answer.contains("Temporary Processing Failure"), "Relais is asked to retry: {answer}");

    // No date was asked for, so the retry compares Alma's due date with the one the loan had before.
    h.clock.advance(Duration::from_secs(31));
    let answer = h.ncip(&renewal).await;
    assert!(answer.contains("RenewItemResponse") && !answer.contains("Problem"), "{answer}");
    assert_eq!(h.alma_ncip_calls("RenewItem"), 1, "the loan was renewed once, not twice");
}

async fn a_ship_that_never_reached_alma_is_sent_even_if_the_item_is_in_transit(kind: StoreKind) {
    let h = start(kind).await;
    // One loan to a partner, returned: the item is now in transit home, not in place but not on loan.
    let first =
        h.ncip(&m::check_out_item("RL-5009", "39000000003", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z")).await;
    assert!(!first.contains("Problem"), "{first}");
    assert!(!h.ncip(&m::check_in_item("39000000003")).await.contains("Problem"));
    let item = h.alma.item_by_barcode("39000000003", &Harness::ctx()).await.unwrap();
    assert_eq!(item.item_data.process_type.value, "TRANSIT");

    // The next ship fails at Alma (500: nothing done, but the bridge cannot know), and is retried after the lease.
    h.sim.faults().arm(FaultSpec::next(FaultKind::Http500, 1, FaultScope::Ncip)).unwrap();
    let ship = m::check_out_item("RL-5010", "39000000003", "GENERIC-ILL-PATRON", "2027-04-30T23:59:59Z");
    assert!(h.ncip(&ship).await.contains("Temporary Processing Failure"));
    h.clock.advance(Duration::from_secs(31));
    let ncip_calls = || h.sim.calls().iter().filter(|c| c.scope == "ncip").count();
    let before = ncip_calls();
    let answer = h.ncip(&ship).await;
    // Reading "not in place" as "shipped" would answer success with Alma never told; the ship is sent instead,
    // and Relais gets Alma's own answer (here: an item in transit does not circulate).
    assert_eq!(ncip_calls(), before + 1, "the retry forwarded the ship");
    assert!(answer.contains("Item Does Not Circulate"), "{answer}");
}

on_both_stores!(
    a_message_replayed_three_times_acts_once,
    twenty_concurrent_copies_act_once,
    alma_acting_then_dropping_the_connection_is_reconciled_on_retry,
    a_crash_between_alma_and_the_store_neither_loses_nor_repeats,
    alma_maintenance_is_a_temporary_failure_and_the_retry_acts,
    an_item_lent_twice_is_checked_in_twice,
    a_renewal_whose_answer_was_lost_is_not_repeated,
    a_borrowing_return_whose_answer_was_lost_is_answered_as_done,
    a_renewal_by_policy_whose_answer_was_lost_is_not_repeated,
    a_ship_that_never_reached_alma_is_sent_even_if_the_item_is_in_transit,
    an_item_lent_twice_without_request_id_or_due_date_is_shipped_twice,
    a_relais_request_id_in_the_bridges_item_form_is_refused,
);
