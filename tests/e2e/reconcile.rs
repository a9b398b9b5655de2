//! The reconciler against the simulator: each kind of drift made to happen in "Alma" (staff acting by hand
//! over its admin API, or a record seeded straight into the store) is found as exactly its row in the JSON,
//! CSV and HTML report, records in step are counted and not listed; a pass keeps within its call budget and
//! resumes where it stopped; a lending request id the task list did not show is found later and written in.

use crate::support::messages as m;
use crate::support::{Harness, STAFF_TOKEN, STATUS_TOKEN, StoreKind};
use bridge::clock::Clock;
use bridge::flows::reconcile::{self, Limits, RunEnd};
use bridge::store::{
    ClaimOutcome, ClaimToken, Commit, Correlation, Enqueue, IdempotencyKey, ItemBarcode, PartnerCode, QueueState,
    QueuedMessage, RelaisRequestId, RequestStatus, Side, Store,
};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const PATRON: &str = "21000000001";

/// A record written as a flow's commit would write it, without a message reaching Alma.
async fn seed_record(store: &dyn Store, id: &str, side: Side, status: RequestStatus, barcode: &str, now: Timestamp) {
    let mut record =
        Correlation::new(RelaisRequestId::new(id).unwrap(), side, PartnerCode::new("RELAIS").unwrap(), status, now);
    record.item_barcodes = vec![ItemBarcode::new(barcode).unwrap()];
    let key = IdempotencyKey::derive("Seed", None, None, id.as_bytes());
    let owner = ClaimToken::new(format!("seed-{id}")).unwrap();
    assert_eq!(store.claim(&key, &owner, now, Duration::from_secs(30)).await.unwrap(), ClaimOutcome::Claimed);
    let history = bridge::store::HistoryEntry::new("Seed", now, bridge::store::Outcome::Success);
    let commit = Commit {
        key: &key,
        owner: &owner,
        response: b"<seeded/>",
        record: &record,
        expected_version: None,
        history: &history,
        now,
        follow_up: None,
    };
    store.commit(commit).await.unwrap();
}

/// A message of the request that waited in the outbox and that staff discarded.
async fn seed_discarded(store: &dyn Store, id: &str, message_type: &str, now: Timestamp) {
    let key = IdempotencyKey::derive(message_type, None, None, format!("discarded {id}").as_bytes());
    let owner = ClaimToken::new(format!("queue-{id}")).unwrap();
    store.claim(&key, &owner, now, Duration::from_secs(30)).await.unwrap();
    let message =
        QueuedMessage::new(RelaisRequestId::new(id).unwrap(), message_type, key.clone(), b"<x/>".to_vec(), now);
    let history = bridge::store::HistoryEntry::new(message_type, now, bridge::store::Outcome::Queued);
    let limits = bridge::store::QueueLimits { per_request: 10, total: 100 };
    store
        .enqueue(Enqueue {
            key: &key,
            owner: &owner,
            response: b"<ok/>",
            message: &message,
            history: &history,
            now,
            limits,
        })
        .await
        .unwrap();
    let mut discarded = message.clone();
    discarded.state = QueueState::Discarded;
    assert!(store.update_queued(&discarded, QueueState::Waiting, now).await.unwrap());
}

async fn sim_admin(h: &Harness, path: &str, body: Value) {
    let status = h.http.post(format!("{}/{path}", h.sim.admin_url())).json(&body).send().await.unwrap().status();
    assert!(status.is_success(), "{path}: {status}");
}

async fn sim_state(h: &Harness) -> Value {
    h.http.get(format!("{}/state", h.sim.admin_url())).send().await.unwrap().json().await.unwrap()
}

fn lending_id(state: &Value, external_id: &str) -> String {
    let found = state["lending_requests"].as_array().unwrap().iter().find(|r| r["external_id"] == external_id);
    found.and_then(|r| r["request_id"].as_str()).expect("the lending request").to_owned()
}

async fn run_now(h: &Harness) -> Value {
    // Alma's ids are read back after each answer; the worker may not have reached the last ones yet.
    h.read_backs().await;
    let url = h.bridge.url("/reconcile");
    assert_eq!(h.http.post(&url).bearer_auth(STATUS_TOKEN).send().await.unwrap().status(), 403, "read-only token");
    assert_eq!(h.http.post(&url).send().await.unwrap().status(), 401);
    let response = h.http.post(&url).bearer_auth(STAFF_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn report_json(h: &Harness) -> Value {
    let response = h.http.get(h.bridge.url("/reconcile")).bearer_auth(STATUS_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn report_csv(h: &Harness) -> String {
    let response = h.http.get(h.bridge.url("/reconcile?format=csv")).bearer_auth(STATUS_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    response.text().await.unwrap()
}

/// The (request, kind) pairs of the report's rows.
fn rows(report: &Value) -> BTreeSet<(String, String)> {
    report["latest"]["drifts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["relais_request_id"].as_str().unwrap().to_owned(), d["kind"].as_str().unwrap().to_owned()))
        .collect()
}

async fn every_kind_of_drift_is_found_as_its_row_in_json_csv_and_html(kind: StoreKind) {
    let h = Harness::start(kind).await;
    let now = h.clock.now();

    // In step: a receipt and a ship Alma shows as Relais was told.
    assert!(!h.ncip(&m::accept_item("RC-OK-B", "ILL-OK-B", PATRON)).await.contains("Problem"));
    assert!(
        !h.ncip(&m::check_out_item("RC-OK-L", "39000000001", "GEN", "2027-02-28T23:59:59Z")).await.contains("Problem")
    );

    // Borrowing: the temporary item deleted by hand.
    h.ncip(&m::accept_item("RC-NT", "ILL-NT", PATRON)).await;
    sim_admin(&h, "delete-item", json!({"item_barcode": "ILL-NT"})).await;
    // Borrowing: the borrowing request cancelled in Alma, its hold with it.
    h.ncip(&m::accept_item("RC-NR", "ILL-NR", PATRON)).await;
    h.read_backs().await;
    let rs = h.status_json("RC-NR").await["record"]["alma"]["request_id"].as_str().unwrap().to_owned();
    let cancel = format!("{}/users/patron1/resource-sharing-requests/{rs}?reason=OTHER", h.sim.base_url());
    let cancelled = h
        .http
        .delete(cancel)
        .header("Authorization", format!("apikey {}", h.sim.api_key()))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 204, "{}", cancelled.text().await.unwrap());
    // Borrowing: returned in Relais, the temporary item still in Alma (the receipt reached Alma directly).
    let (_, receipt) = (0, m::accept_item("RC-ST", "ILL-ST", PATRON));
    h.http.post(h.sim.ncip_url()).body(receipt).send().await.unwrap();
    seed_record(&*h.store, "RC-ST", Side::Borrowing, RequestStatus::Returned, "ILL-ST", now).await;

    // Lending: returned at the desk, Relais not told.
    h.ncip(&m::check_out_item("RC-RT", "39000000002", "GEN", "2027-02-28T23:59:59Z")).await;
    h.read_backs().await;
    sim_admin(&h, "return", json!({"item_barcode": "39000000002"})).await;
    // Lending: the lending request cancelled in Alma.
    h.ncip(&m::check_out_item("RC-CA", "39000000003", "GEN", "2027-02-28T23:59:59Z")).await;
    h.read_backs().await;
    sim_admin(&h, "cancel-lending", json!({"request_id": lending_id(&sim_state(&h).await, "RC-CA")})).await;
    // Lending: shipped in Relais, never in Alma (in place, and no lending request to find).
    seed_record(&*h.store, "RC-NL", Side::Lending, RequestStatus::Shipped, "39000000004", now).await;
    // Outbox: a receipt discarded from the outbox, which Alma never saw.
    seed_record(&*h.store, "RC-OB", Side::Borrowing, RequestStatus::OnHoldShelf, "ILL-OB", now).await;
    seed_discarded(&*h.store, "RC-OB", "AcceptItem", now).await;
    // Alma only: a lending request made in Alma alone.
    let body = json!({"external_id": "RC-AO", "owner": "RES_SHARE", "format": {"value": "PHYSICAL"},
                      "citation_type": {"value": "BOOK"}, "title": "Lent by hand"});
    let made = h
        .http
        .post(format!("{}/partners/RELAIS/lending-requests", h.sim.base_url()))
        .header("Authorization", format!("apikey {}", h.sim.api_key()))
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 200, "{}", made.text().await.unwrap());

    let summary = run_now(&h).await;
    assert_eq!(summary["ended"], "end_of_records", "{summary}");

    let report = report_json(&h).await;
    let expected: BTreeSet<(String, String)> = [
        ("RC-NT", "borrowing_no_temporary_item"),
        ("RC-NR", "borrowing_no_request"),
        ("RC-ST", "borrowing_item_still_in_alma"),
        ("RC-RT", "lending_returned_not_told"),
        ("RC-CA", "lending_cancelled_in_alma"),
        ("RC-NL", "lending_not_on_loan"),
        ("RC-NL", "lending_id_unknown"),
        ("RC-OB", "borrowing_no_temporary_item"),
        ("RC-OB", "outbox_action_missing"),
        ("RC-AO", "alma_only"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(rows(&report), expected, "{report:#}");
    let latest = &report["latest"];
    assert_eq!(latest["checked"], 9, "{latest:#}");
    assert_eq!(latest["in_step"], 2, "the receipt and the ship in step are counted");
    assert_eq!(latest["drifts"].as_array().unwrap().len(), expected.len(), "one row per drift");
    let alma_only = latest["drifts"].as_array().unwrap().iter().find(|d| d["kind"] == "alma_only").unwrap();
    assert_eq!(alma_only["side"], "-");
    assert_eq!(alma_only["action"], "resend from Relais");
    let returned =
        latest["drifts"].as_array().unwrap().iter().find(|d| d["kind"] == "lending_returned_not_told").unwrap();
    assert_eq!(returned["barcode"], "39000000002");
    assert!(returned["relais_believes"].as_str().unwrap().starts_with("shipped"), "{returned}");

    let csv = report_csv(&h).await;
    assert_eq!(csv.lines().count(), expected.len() + 1, "{csv}");
    for (id, kind) in &expected {
        assert_eq!(
            csv.lines().filter(|l| l.starts_with(&format!("{id},")) && l.contains(&format!(",{kind},"))).count(),
            1,
            "{id} {kind}\n{csv}"
        );
    }
    assert!(!csv.contains("RC-OK-B") && !csv.contains("RC-OK-L"), "in-step records are not listed");

    let html = h.staff_html("/reconcile").await;
    for (id, kind) in &expected {
        assert!(html.contains(&format!(">{id}<")) && html.contains(kind.as_str()), "{id} {kind}");
    }
    assert!(!html.contains("RC-OK-B") && !html.contains("RC-OK-L"));
    assert!(html.contains("9 records checked, 2 in step, 10 drifts"), "{html}");

    // The record's status page shows its last reconciliation.
    let status = h.status_json("RC-NT").await;
    assert_eq!(status["last_reconciliation"]["drifts"][0]["kind"], "borrowing_no_temporary_item");
    assert!(h.status_json("RC-OK-B").await["last_reconciliation"]["drifts"].as_array().unwrap().is_empty());
    assert!(h.status_html("RC-NT").await.contains("Last reconciliation:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patrons_loan_still_out_after_the_lenders_due_date_is_overdue_drift() {
    let h = Harness::start(StoreKind::Embedded).await;
    // Relais's due date to the lender: 2027-01-31T23:59:59Z.
    h.ncip(&m::accept_item("RC-OD", "ILL-OD", PATRON)).await;
    h.desk_loan("patron1", "ILL-OD").await;
    h.ncip(&m::accept_item("RC-OD-OK", "ILL-OD-OK", PATRON)).await;
    h.desk_loan("patron1", "ILL-OD-OK").await;
    let summary = run_now(&h).await;
    assert_eq!(summary["drifts"], json!({}), "not overdue yet: {summary}");

    let past_due: Timestamp = "2027-02-15T00:00:00Z".parse().unwrap();
    h.clock.advance(Duration::try_from(past_due.duration_since(h.clock.now())).unwrap());
    run_now(&h).await;
    let report = report_json(&h).await;
    let expected: BTreeSet<_> = [("RC-OD", "borrowing_loan_overdue"), ("RC-OD-OK", "borrowing_loan_overdue")]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .into();
    assert_eq!(rows(&report), expected);
    assert!(report_csv(&h).await.contains("RC-OD,ILL-OD,borrowing,borrowing_loan_overdue,"));
    assert!(h.staff_html("/reconcile").await.contains("borrowing_loan_overdue"));
}

async fn a_pass_keeps_within_its_budget_and_checks_every_record_once_over_later_runs(kind: StoreKind) {
    let h = Harness::start(kind).await;
    let now = h.clock.now();
    let mut ids = BTreeSet::new();
    for i in 0..300 {
        let (id, barcode) = (format!("RC-B{i:03}"), format!("ILL-B{i:03}"));
        // The receipt reaches Alma directly; the record is seeded straight into the store.
        h.http.post(h.sim.ncip_url()).body(m::accept_item(&id, &barcode, PATRON)).send().await.unwrap();
        seed_record(&*h.store, &id, Side::Borrowing, RequestStatus::OnHoldShelf, &barcode, now).await;
        ids.insert(id);
    }
    let budget = 100;
    let limits = Limits { budget, max_run: Duration::from_secs(600) };
    let mut seen = BTreeSet::new();
    let mut runs = 0;
    let mut calls = 0u64;
    loop {
        let before = h.sim.calls().len();
        let summary = reconcile::run(&h.bridge.bridge, limits).await;
        runs += 1;
        let made = h.sim.calls().len() - before;
        assert_eq!(summary.calls as usize, made, "the run counts every call it makes");
        assert!(summary.calls <= budget, "run {runs} made {} calls", summary.calls);
        calls += u64::from(summary.calls);
        let in_run: BTreeSet<_> = summary.checked.iter().cloned().collect();
        assert_eq!(in_run.len(), summary.checked.len(), "none checked twice in run {runs}");
        assert!(in_run.is_disjoint(&seen), "run {runs} checked a record an earlier run of the pass had");
        seen.extend(in_run);
        match summary.end {
            RunEnd::Budget => assert!(runs < 20, "the pass does not end"),
            RunEnd::EndOfRecords => break,
            other => panic!("run {runs} ended {other:?}"),
        }
    }
    assert_eq!(seen, ids, "every record checked in the pass");
    // Calls per record, the pass's own task-list reads included: ⌈records × calls per record ÷ budget⌉.
    let bound = calls.div_ceil(u64::from(budget));
    assert!(runs as u64 <= bound, "{runs} runs for {calls} calls at {budget} a run");
    assert!(runs >= 3);
    let report = report_json(&h).await;
    assert_eq!(report["latest"]["checked"], 300);
    assert_eq!(report["latest"]["in_step"], 300);
    assert_eq!(report["latest"]["runs"], runs);

    // The next run starts a new pass from the first record.
    let next = reconcile::run(&h.bridge.bridge, limits).await;
    assert_eq!(next.end, RunEnd::Budget);
    assert!(next.checked.iter().all(|id| ids.contains(id)));
}

async fn a_lending_request_id_missing_from_the_task_list_is_found_later_and_written_into_the_record(kind: StoreKind) {
    let h = Harness::start(kind).await;
    let now = h.clock.now();
    // Shipped in Relais; the id never read back (as when the task list held more than Alma lists).
    seed_record(&*h.store, "RC-ID", Side::Lending, RequestStatus::Shipped, "39000000002", now).await;
    let first = reconcile::run(&h.bridge.bridge, Limits { budget: 1000, max_run: Duration::from_secs(600) }).await;
    assert_eq!(first.end, RunEnd::EndOfRecords);
    let report = report_json(&h).await;
    assert!(rows(&report).contains(&("RC-ID".to_owned(), "lending_id_unknown".to_owned())), "{report:#}");
    assert_eq!(h.status_json("RC-ID").await["record"]["alma"]["request_id"], Value::Null);

    // Alma now lists it: the ship reached Alma (the task list shows the request under the Relais id).
    let ship = m::check_out_item("RC-ID", "39000000002", "GEN", "2027-02-28T23:59:59Z");
    h.http.post(h.sim.ncip_url()).body(ship).send().await.unwrap();
    let in_alma = lending_id(&sim_state(&h).await, "RC-ID");
    let second = reconcile::run(&h.bridge.bridge, Limits { budget: 1000, max_run: Duration::from_secs(600) }).await;
    assert_eq!(second.end, RunEnd::EndOfRecords);
    let record = h.status_json("RC-ID").await;
    assert_eq!(record["record"]["alma"]["request_id"], in_alma.as_str(), "written into the record");
    assert_eq!(record["last_reconciliation"]["found_lending_id"], in_alma.as_str());
    let report = report_json(&h).await;
    assert!(rows(&report).is_empty(), "in step now: {report:#}");
    assert_eq!(report["latest"]["ids_found"], 1);
    // Nothing else was written: the record's status is what Relais's message made it.
    assert_eq!(record["record"]["status"], "shipped");
}

async fn a_second_run_while_one_is_under_way_does_nothing(kind: StoreKind) {
    let h = Harness::start(kind).await;
    let now = h.clock.now();
    seed_record(&*h.store, "RC-2R", Side::Borrowing, RequestStatus::OnHoldShelf, "ILL-2R", now).await;
    // A run that marked itself under way a moment ago (and has not ended).
    let progress =
        json!({"cursor": null, "pass": {"started_at": now, "runs": 1}, "running": [now, "other"], "last_run": null});
    assert!(h.store.put_reconcile_doc("progress", &progress, None, None).await.unwrap());
    let summary = reconcile::run(&h.bridge.bridge, Limits { budget: 100, max_run: Duration::from_secs(60) }).await;
    assert_eq!(summary.end, RunEnd::AnotherRun);
    assert!(summary.checked.is_empty());
    assert_eq!(summary.calls, 0);
}

on_both_stores!(
    every_kind_of_drift_is_found_as_its_row_in_json_csv_and_html,
    a_pass_keeps_within_its_budget_and_checks_every_record_once_over_later_runs,
    a_lending_request_id_missing_from_the_task_list_is_found_later_and_written_into_the_record,
    a_second_run_while_one_is_under_way_does_nothing,
);
