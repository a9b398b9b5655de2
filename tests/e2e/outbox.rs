//! No Relais action lost while Alma is down: messages Alma cannot take are answered at once and held in the
//! outbox, delivered in order when Alma is back, kept across a restart, parked when Alma refuses them, and
//! re-driven or discarded by staff. Over real HTTP to the simulator, on the embedded store and DynamoDB.

use crate::support;

use crate::support::{Harness, STAFF_TOKEN, STATUS_TOKEN, StoreKind, messages as m};
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use bridge::alma::AlmaRest;
use bridge::clock::Clock as _;
use bridge::flows::outbox::deliver_due;
use bridge::lambda::deliver::{SCHEDULED_ROUND_LEASE, scheduled_round_key};
use bridge::lambda::events::{DeliverAnswer, DeliverEvent, RoundSummary, ScheduleEvent, SqsBatchResponse};
use bridge::store::{ClaimOutcome, ClaimToken, Store as _};
use std::time::{Duration, Instant};

const LENDING_ITEM: &str = "39000000002";
const DUE: &str = "2027-02-28T23:59:59Z";

/// Alma in its maintenance window: every NCIP call is answered with the maintenance page.
fn maintenance(sim: &alma_sim::AlmaSim) {
    sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
}

fn assert_success(answer: &str, response: &str) {
    assert!(answer.contains(response), "expected {response}: {answer}");
    assert!(!answer.contains("Problem"), "Relais must not see a Problem: {answer}");
}

/// The request's messages as the status page shows them: (message type, state).
async fn queue_of(h: &Harness, request: &str) -> Vec<(String, String)> {
    let status = h.status_json(request).await;
    status["queue"]
        .as_array()
        .expect("queue array")
        .iter()
        .map(|m| (m["message_type"].as_str().unwrap().to_owned(), m["state"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

/// The services of the NCIP calls Alma took (answered 200), in arrival order.
fn taken_by_alma(h: &Harness) -> Vec<String> {
    h.sim
        .calls()
        .into_iter()
        .filter(|c| c.scope == "ncip" && c.status == Some(200) && c.fault.is_none())
        .filter_map(|c| c.ncip_service)
        .collect()
}

async fn get_queue(h: &Harness) -> serde_json::Value {
    let url = h.bridge.url("/queue");
    let refused = h.http.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401, "the queue needs the status token");
    let response = h.http.get(&url).bearer_auth(STATUS_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn post_queue(h: &Harness, id: &str, action: &str, body: Option<serde_json::Value>) -> reqwest::Response {
    let mut request = h.http.post(h.bridge.url(&format!("/queue/{id}/{action}"))).bearer_auth(STAFF_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn the_four_relais_actions_wait_out_maintenance_and_reach_alma_in_order(kind: StoreKind) {
    // The local server's own worker delivers, looking every 100 ms.
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "100")], |store| store).await;
    let before = h.sim.state().counts();
    maintenance(&h.sim);

    let started = Instant::now();
    let borrowing = [
        (m::accept_item("RL-OB-1", "ILL-OB-1", "21000000001"), "AcceptItemResponse"),
        (m::check_in_item("ILL-OB-1"), "CheckInItemResponse"),
    ];
    let lending = [
        (m::check_out_item("RL-OL-1", LENDING_ITEM, "GENERIC-ILL-PATRON", DUE), "CheckOutItemResponse"),
        (m::check_in_item(LENDING_ITEM), "CheckInItemResponse"),
    ];
    for (message, response) in borrowing.iter().chain(&lending) {
        let sent = Instant::now();
        let answer = h.ncip(message).await;
        assert_success(&answer, response);
        assert!(sent.elapsed() < Duration::from_secs(2), "answered at once, not after Alma: {:?}", sent.elapsed());
    }
    // Relais gets what Alma would have answered: its ids, and the due date it asked for.
    let shipped = h.ncip(&lending[0].0).await;
    assert!(shipped.contains(DUE.trim_end_matches('Z')) || shipped.contains("2027-02-28"), "{shipped}");
    println!("four actions answered during maintenance in {:?}", started.elapsed());

    // Alma holds none of them: the worker keeps trying and Alma keeps answering with its maintenance page.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(h.sim.state().items_with_barcode("ILL-OB-1"), 0);
    assert_eq!(h.sim.state().counts(), before);
    assert!(taken_by_alma(&h).is_empty());
    let waiting = pairs(&[("AcceptItem", "waiting"), ("CheckInItem", "waiting")]);
    assert_eq!(queue_of(&h, "RL-OB-1").await, waiting);
    assert_eq!(queue_of(&h, "RL-OL-1").await, pairs(&[("CheckOutItem", "waiting"), ("CheckInItem", "waiting")]));
    let listed = get_queue(&h).await;
    assert_eq!(listed["messages"].as_array().unwrap().len(), 4, "{listed}");

    // Maintenance ends: within 30 s Alma holds exactly the four actions, each request's in order.
    h.sim.faults().clear();
    let back = Instant::now();
    loop {
        let done = h.status_json("RL-OB-1").await["record"]["status"] == "returned"
            && h.status_json("RL-OL-1").await["record"]["status"] == "checked_in";
        if done {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(30), "not delivered within 30 s: {:?}", get_queue(&h).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("delivered {:?} after maintenance ended", back.elapsed());
    let mut taken = taken_by_alma(&h);
    taken.sort();
    assert_eq!(taken, ["AcceptItem", "CheckInItem", "CheckInItem", "CheckOutItem"], "each action once");
    let after = h.sim.state().counts();
    assert_eq!(after.borrowing_requests, before.borrowing_requests + 1);
    assert_eq!(h.sim.state().items_with_barcode("ILL-OB-1"), 0, "returned to the lender: the temporary item is gone");
    let item = h.alma.item_by_barcode(LENDING_ITEM, &Harness::ctx()).await.unwrap();
    assert_ne!(item.item_data.process_type.value, "LOAN", "the lent item came home");
    assert_eq!(queue_of(&h, "RL-OB-1").await, pairs(&[("AcceptItem", "delivered"), ("CheckInItem", "delivered")]));
    let outcomes: Vec<String> = h.status_json("RL-OB-1").await["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["message_type"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .filter(|e| !e.ends_with("temporary_failure"))
        .collect();
    assert_eq!(
        outcomes,
        ["AcceptItem queued", "CheckInItem queued", "AcceptItem delivered", "CheckInItem delivered"],
        "the history shows queued, then delivered"
    );
    let lending: Vec<String> = h.status_json("RL-OL-1").await["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "delivered")
        .map(|e| e["message_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(lending, ["CheckOutItem", "CheckInItem"], "the ship reached Alma before its return");
    assert!(get_queue(&h).await["messages"].as_array().unwrap().is_empty());
    // Relais resending a message it was answered for gets the same answer, and nothing happens twice.
    assert_success(&h.ncip(&borrowing[0].0).await, "AcceptItemResponse");
    assert_eq!(taken_by_alma(&h).len(), 4);
}

async fn a_check_in_sent_after_alma_came_back_waits_behind_its_queued_receipt(kind: StoreKind) {
    // No worker: the test says when delivery happens.
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    maintenance(&h.sim);
    assert_success(&h.ncip(&m::accept_item("RL-OB-2", "ILL-OB-2", "21000000001")).await, "AcceptItemResponse");
    h.sim.faults().clear();
    // Alma is back, but the receipt is still queued: the return must not overtake it.
    assert_success(&h.ncip(&m::check_in_item("ILL-OB-2")).await, "CheckInItemResponse");
    assert_eq!(h.alma_ncip_calls("CheckInItem"), 0, "the return waited instead of going to Alma");
    assert_eq!(queue_of(&h, "RL-OB-2").await, pairs(&[("AcceptItem", "waiting"), ("CheckInItem", "waiting")]));
    // A renewal needs Alma's own answer, so it cannot wait: it is told to come back, not sent ahead.
    let renewal = h.ncip(&m::renew_item("ILL-OB-2", "21000000001", DUE)).await;
    assert!(renewal.contains("Temporary Processing Failure"), "{renewal}");
    assert_eq!(h.alma_ncip_calls("RenewItem"), 0);

    let first = deliver_due(&h.bridge.bridge).await;
    assert_eq!((first.tried, first.open), (1, 1), "one request, its head first");
    let second = deliver_due(&h.bridge.bridge).await;
    assert_eq!((second.tried, second.open), (1, 0));
    assert_eq!(taken_by_alma(&h), ["AcceptItem", "CheckInItem"]);
    assert_eq!(h.status_json("RL-OB-2").await["record"]["status"], "returned");
}

async fn a_receipt_for_a_patron_blocked_meanwhile_is_parked_then_redriven_once_unblocked(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    maintenance(&h.sim);
    assert_success(&h.ncip(&m::accept_item("RL-OB-3", "ILL-OB-3", "21000000001")).await, "AcceptItemResponse");
    assert!(h.sim.state().set_user_blocked("21000000001", true));
    h.sim.faults().clear();

    deliver_due(&h.bridge.bridge).await;
    assert_eq!(h.sim.state().items_with_barcode("ILL-OB-3"), 0, "Alma refused it");
    assert_eq!(queue_of(&h, "RL-OB-3").await, pairs(&[("AcceptItem", "parked")]));
    let listed = get_queue(&h).await;
    let parked = &listed["messages"][0];
    assert_eq!(parked["state"], "parked", "{listed}");
    assert_eq!(parked["relais_request_id"], "RL-OB-3");
    assert!(parked["last_answer"].as_str().unwrap().contains("User Blocked"), "Alma's answer is shown: {parked}");
    assert!(!listed.to_string().contains("21000000001"), "the queue view names no patron: {listed}");
    // Parked means parked: the deliverer leaves it alone.
    assert_eq!(deliver_due(&h.bridge.bridge).await.tried, 0);
    let page = h.http.get(h.bridge.url("/queue")).header("accept", "text/html").bearer_auth(STATUS_TOKEN);
    let page = page.send().await.unwrap().text().await.unwrap();
    assert!(page.contains("parked") && page.contains("RL-OB-3"), "{page}");

    let id = parked["id"].as_str().unwrap().to_owned();
    assert_eq!(post_queue(&h, "not-an-id", "redrive", None).await.status(), 404);
    let refused = h.http.post(h.bridge.url(&format!("/queue/{id}/redrive"))).send().await.unwrap();
    assert_eq!(refused.status(), 401, "re-driving needs the staff token");
    assert!(h.sim.state().set_user_blocked("21000000001", false));
    let note = serde_json::json!({"note": "block lifted by the circulation desk"});
    let redriven = post_queue(&h, &id, "redrive", Some(note)).await;
    assert_eq!(redriven.status(), 200);
    deliver_due(&h.bridge.bridge).await;
    assert_eq!(h.sim.state().items_with_barcode("ILL-OB-3"), 1, "delivered once after the re-drive");
    assert_eq!(queue_of(&h, "RL-OB-3").await, pairs(&[("AcceptItem", "delivered")]));
    let history = h.status_json("RL-OB-3").await["history"].clone();
    let redrive = history.as_array().unwrap().iter().find(|e| e["outcome"] == "redriven").expect("re-drive in history");
    assert_eq!(redrive["note"], "block lifted by the circulation desk");
    assert_eq!(deliver_due(&h.bridge.bridge).await.tried, 0);
    assert_eq!(h.sim.state().items_with_barcode("ILL-OB-3"), 1);
}

async fn a_discarded_message_leaves_the_queue_with_its_note_and_lets_the_next_go(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    maintenance(&h.sim);
    assert_success(
        &h.ncip(&m::check_out_item("RL-OB-4", LENDING_ITEM, "GENERIC-ILL-PATRON", DUE)).await,
        "CheckOutItemResponse",
    );
    let id = get_queue(&h).await["messages"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(post_queue(&h, &id, "discard", None).await.status(), 400, "a discard needs a note");
    let note = serde_json::json!({"note": "shipped by hand in Alma"});
    let waiting = post_queue(&h, &id, "discard", Some(note)).await.status();
    assert_eq!(waiting, 409, "a message still waiting for Alma is discarded only with force");
    let forced = serde_json::json!({"note": "shipped by hand in Alma", "force": true});
    assert_eq!(post_queue(&h, &id, "discard", Some(forced)).await.status(), 200);
    assert_eq!(post_queue(&h, &id, "redrive", None).await.status(), 404, "no longer open");
    h.sim.faults().clear();
    assert_eq!(deliver_due(&h.bridge.bridge).await.tried, 0);
    assert_eq!(h.alma_ncip_calls("CheckOutItem"), 0, "a discarded message never reaches Alma");
    assert_eq!(queue_of(&h, "RL-OB-4").await, pairs(&[("CheckOutItem", "discarded")]));
    let status = h.status_json("RL-OB-4").await;
    let discard = status["history"].as_array().unwrap().iter().find(|e| e["outcome"] == "discarded").unwrap();
    assert_eq!(discard["note"], "shipped by hand in Alma");
}

async fn an_answer_lost_after_alma_acted_is_reconciled_on_delivery_not_repeated(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    // Alma acts, then the connection drops: the bridge cannot know, so it queues with "read Alma first".
    let lost = FaultKind::FailAfterCommit { then: alma_sim::AfterCommit::Drop };
    h.sim.faults().arm(FaultSpec::next(lost, 1, FaultScope::Ncip)).unwrap();
    assert_success(&h.ncip(&m::accept_item("RL-OB-5", "ILL-OB-5", "21000000001")).await, "AcceptItemResponse");
    assert_eq!(h.sim.state().items_with_barcode("ILL-OB-5"), 1);
    // The claim of the lost attempt must run out before a delivery may take it over.
    h.clock.advance(Duration::from_secs(31));
    deliver_due(&h.bridge.bridge).await;
    assert_eq!(h.sim.state().items_with_barcode("ILL-OB-5"), 1, "read back from Alma, not sent again");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1);
    assert_eq!(queue_of(&h, "RL-OB-5").await, pairs(&[("AcceptItem", "delivered")]));
    assert_eq!(h.status_json("RL-OB-5").await["record"]["status"], "on_hold_shelf");
}

async fn with_the_outbox_off_relais_is_told_to_resend(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("OUTBOX", "off")], |store| store).await;
    maintenance(&h.sim);
    let answer = h.ncip(&m::accept_item("RL-OB-6", "ILL-OB-6", "21000000001")).await;
    assert!(answer.contains("Temporary Processing Failure"), "{answer}");
    assert!(queue_of(&h, "RL-OB-6").await.is_empty());
    assert!(get_queue(&h).await["outbox"] == false);
}

/// The schedule's tick, as EventBridge sends it every minute.
async fn tick(h: &Harness) -> DeliverAnswer {
    let tick = DeliverEvent::Schedule(ScheduleEvent::tick());
    bridge::lambda::deliver::handle(&h.bridge.bridge, tick).await
}

/// A receipt waiting in the outbox after maintenance, with Alma back: the next round that runs delivers it.
async fn a_receipt_waiting_for_the_schedule(kind: StoreKind, request: &str, barcode: &str) -> Harness {
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    maintenance(&h.sim);
    assert_success(&h.ncip(&m::accept_item(request, barcode, "21000000001")).await, "AcceptItemResponse");
    h.sim.faults().clear();
    h
}

/// EventBridge starts a round every minute whether or not the last one ended (a full outbox, a slow Alma): a
/// round that finds the previous one still running does nothing, so rounds never add up against Alma's 25
/// calls a second, and the round after it ends goes ahead.
async fn a_scheduled_round_does_nothing_while_the_previous_one_runs(kind: StoreKind) {
    let h = a_receipt_waiting_for_the_schedule(kind, "RL-OB-L1", "ILL-OB-L1").await;
    let previous = ClaimToken::new("the-previous-round").unwrap();
    let key = scheduled_round_key();
    let taken = h.store.claim(&key, &previous, h.clock.now(), SCHEDULED_ROUND_LEASE).await.expect("store");
    assert_eq!(taken, ClaimOutcome::Claimed, "the previous round holds the schedule's lease");
    h.clock.advance(Duration::from_secs(60));

    let DeliverAnswer::Skipped(skipped) = tick(&h).await else { panic!("a round ran beside the previous one") };
    // The previous round's lease, as the store keeps it (to the millisecond): a minute from now.
    let running_until: jiff::Timestamp = skipped.running_until.parse().expect("an RFC 3339 time");
    let left = running_until.duration_since(h.clock.now());
    assert!(left > jiff::SignedDuration::from_secs(59) && left <= jiff::SignedDuration::from_secs(60), "{left}");
    assert!(taken_by_alma(&h).is_empty(), "the skipped tick sent nothing to Alma");
    assert_eq!(queue_of(&h, "RL-OB-L1").await, pairs(&[("AcceptItem", "waiting")]));

    // The previous round ends: the next tick runs, and releases the lease again when it is done.
    h.store.release(&key, &previous).await.expect("store");
    assert_eq!(tick(&h).await, DeliverAnswer::Round(RoundSummary { tried: 1, open: 0 }));
    assert_eq!(taken_by_alma(&h), ["AcceptItem"]);
    assert_eq!(tick(&h).await, DeliverAnswer::Round(RoundSummary { tried: 0, open: 0 }), "no lease left behind");
}

/// A round that died holding the lease (Lambda ended it at its timeout) holds the schedule back only until
/// the lease runs out, which is the function's timeout: the deliverer never stops for good.
async fn a_round_that_died_holding_the_lease_holds_the_schedule_back_only_until_it_runs_out(kind: StoreKind) {
    let h = a_receipt_waiting_for_the_schedule(kind, "RL-OB-L2", "ILL-OB-L2").await;
    let dead = ClaimToken::new("a-round-lambda-timed-out").unwrap();
    let key = scheduled_round_key();
    h.store.claim(&key, &dead, h.clock.now(), SCHEDULED_ROUND_LEASE).await.expect("store");

    h.clock.advance(SCHEDULED_ROUND_LEASE - Duration::from_secs(1));
    assert!(matches!(tick(&h).await, DeliverAnswer::Skipped(_)), "the lease still runs");
    assert!(taken_by_alma(&h).is_empty());
    h.clock.advance(Duration::from_secs(2));
    assert_eq!(tick(&h).await, DeliverAnswer::Round(RoundSummary { tried: 1, open: 0 }), "the lease ran out");
    assert_eq!(taken_by_alma(&h), ["AcceptItem"]);
}

on_both_stores!(
    a_scheduled_round_does_nothing_while_the_previous_one_runs,
    a_round_that_died_holding_the_lease_holds_the_schedule_back_only_until_it_runs_out,
    the_four_relais_actions_wait_out_maintenance_and_reach_alma_in_order,
    a_check_in_sent_after_alma_came_back_waits_behind_its_queued_receipt,
    a_receipt_for_a_patron_blocked_meanwhile_is_parked_then_redriven_once_unblocked,
    a_discarded_message_leaves_the_queue_with_its_note_and_lets_the_next_go,
    an_answer_lost_after_alma_acted_is_reconciled_on_delivery_not_repeated,
    with_the_outbox_off_relais_is_told_to_resend,
);

/// The local server as a person runs it (`cargo run`'s binary), on a data folder and a given Alma.
struct LocalProcess {
    child: std::process::Child,
    url: String,
}

impl LocalProcess {
    fn start(sim: &alma_sim::AlmaSim, data_dir: &std::path::Path) -> LocalProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_alma-relais-bridge"))
            .env("BRIDGE_LISTEN", "127.0.0.1:0")
            .env("BRIDGE_DATA_DIR", data_dir)
            .env("ALMA_API_BASE", sim.base_url())
            .env("ALMA_API_KEY", sim.api_key())
            .env("ALMA_NCIP_URL", sim.ncip_url())
            .env("ALMA_INSTITUTION_CODE", "01DEMO_INST")
            .env("ALMA_PARTNER_CODE", "RELAIS")
            .env("NCIP_SHARED_SECRET", support::NCIP_TOKEN)
            .env("STATUS_TOKEN", STATUS_TOKEN)
            .env("LOCAL_OUTBOX_POLL_MS", "200")
            .env_remove("DYNAMODB_TABLE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the local server starts");
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.split("listening on ").nth(1).map(str::to_owned))
            .expect("the banner names the address");
        // The server logs to stdout: keep reading, or its next line would meet a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        LocalProcess { child, url }
    }

    async fn ncip(&self, message: &str) -> String {
        let url = format!("{}/ncip/{}", self.url, support::NCIP_TOKEN);
        reqwest::Client::new().post(url).body(message.to_owned()).send().await.unwrap().text().await.unwrap()
    }

    /// Stops the process as a crash or a power cut would: no chance to finish anything.
    fn kill(mut self) {
        self.child.kill().expect("the process is killed");
        self.child.wait().expect("the process ends");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_waiting_when_the_server_stops_are_delivered_once_after_it_starts_again() {
    let sim = alma_sim::AlmaSim::start("127.0.0.1:0".parse().unwrap(), alma_sim::Seed::demo()).await.unwrap();
    let before = sim.state().counts();
    maintenance(&sim);
    let data = tempfile::tempdir().unwrap();
    {
        // This Alma has answered the bridge before (go-live is behind it), so its outage is waited out.
        let store = bridge::store::EmbeddedStore::open_with_config(data.path(), Default::default()).unwrap();
        let marker = bridge::flows::reached::marker_for(&sim.ncip_url());
        store.record_marker(&marker, jiff::Timestamp::now()).await.unwrap();
    }

    let first = LocalProcess::start(&sim, data.path());
    assert_success(&first.ncip(&m::accept_item("RL-OB-7", "ILL-OB-7", "21000000001")).await, "AcceptItemResponse");
    assert_success(&first.ncip(&m::check_in_item("ILL-OB-7")).await, "CheckInItemResponse");
    first.kill();
    sim.faults().clear();
    assert_eq!(sim.state().counts(), before, "nothing reached Alma before the stop");

    let second = LocalProcess::start(&sim, data.path());
    let started = Instant::now();
    let taken = || -> Vec<String> {
        sim.calls()
            .into_iter()
            .filter(|c| c.scope == "ncip" && c.status == Some(200) && c.fault.is_none())
            .filter_map(|c| c.ncip_service)
            .collect()
    };
    // A delivery attempt the kill cut short keeps its claim for the lease (30 s): the restarted worker then
    // reads Alma before acting, since it cannot know whether that attempt reached Alma.
    while taken().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(90), "not delivered after the restart: {:?}", taken());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more looks of the worker change nothing: each message went to Alma once.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(taken(), ["AcceptItem", "CheckInItem"]);
    assert_eq!(sim.state().counts().borrowing_requests, before.borrowing_requests + 1);
    assert_eq!(sim.state().items_with_barcode("ILL-OB-7"), 0, "received, then returned to the lender");
    second.kill();
}

/// moto's SQS (the same server as DynamoDB): a FIFO queue made like template.yaml's OutboxQueue.
pub(crate) async fn moto_fifo_queue() -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&support::moto_aws().await);
    let name = format!("bridge-test-{:016x}-outbox.fifo", rand::random::<u64>());
    let created = sqs
        .create_queue()
        .queue_name(name)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .expect("moto makes the FIFO queue");
    (sqs, created.queue_url().expect("a queue URL").to_owned())
}

/// What the queue holds, as Lambda's event source mapping would hand it to the deliver function.
pub(crate) async fn sqs_event(sqs: &aws_sdk_sqs::Client, url: &str) -> (serde_json::Value, Vec<String>) {
    use aws_sdk_sqs::types::MessageSystemAttributeName as Attribute;
    let received = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(Attribute::All)
        .send()
        .await
        .expect("moto answers");
    let mut groups = Vec::new();
    let records: Vec<serde_json::Value> = received
        .messages()
        .iter()
        .map(|message| {
            let attributes = message.attributes().cloned().unwrap_or_default();
            let group = attributes.get(&Attribute::MessageGroupId).cloned().unwrap_or_default();
            groups.push(group.clone());
            serde_json::json!({
                "messageId": message.message_id(),
                "receiptHandle": message.receipt_handle(),
                "body": message.body(),
                "attributes": {
                    "MessageGroupId": group,
                    "MessageDeduplicationId": attributes.get(&Attribute::MessageDeduplicationId),
                    "ApproximateReceiveCount": "1"
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:outbox.fifo",
                "awsRegion": "eu-west-1"
            })
        })
        .collect();
    (serde_json::json!({ "Records": records }), groups)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_queued_message_rings_the_fifo_queue_and_the_deliver_function_delivers_it_once() {
    let (sqs, url) = moto_fifo_queue().await;
    // As a Lambda function builds it: SDK configuration from the environment, the client made on first ring.
    let aws = support::lambda_aws(&bridge::alma::https_client());
    let doorbell = bridge::lambda::deliver::SqsDoorbell::built_on_first_ring(aws, url.clone());
    let env = [("LOCAL_OUTBOX_POLL_MS", "0")];
    let h = Harness::start_adjusted(StoreKind::DynamoDb, &env, |parts| {
        parts.doorbell = Some(std::sync::Arc::new(doorbell))
    })
    .await;
    maintenance(&h.sim);
    assert_success(&h.ncip(&m::accept_item("RL-OB-8", "ILL-OB-8", "21000000001")).await, "AcceptItemResponse");
    assert_success(&h.ncip(&m::check_in_item("ILL-OB-8")).await, "CheckInItemResponse");
    let (event, groups) = sqs_event(&sqs, &url).await;
    assert_eq!(groups, ["RL-OB-8", "RL-OB-8"], "one doorbell per queued message, grouped by the Relais request");
    let bodies: Vec<&str> = event["Records"].as_array().unwrap().iter().map(|r| r["body"].as_str().unwrap()).collect();
    assert!(bodies.iter().all(|b| !b.contains("21000000001")), "a doorbell names no patron: {bodies:?}");
    h.sim.faults().clear();

    let event: DeliverEvent = serde_json::from_value(event).expect("the queue's records read as a deliver event");
    let answer = bridge::lambda::deliver::handle(&h.bridge.bridge, event.clone()).await;
    assert_eq!(answer, DeliverAnswer::Batch(SqsBatchResponse::default()), "nothing handed back");
    assert_eq!(taken_by_alma(&h), ["AcceptItem", "CheckInItem"], "each once, in order");
    assert_eq!(queue_of(&h, "RL-OB-8").await, pairs(&[("AcceptItem", "delivered"), ("CheckInItem", "delivered")]));
    // SQS may hand the same records over again (at-least-once): nothing is sent twice.
    let again = bridge::lambda::deliver::handle(&h.bridge.bridge, event).await;
    assert_eq!(again, DeliverAnswer::Batch(SqsBatchResponse::default()));
    assert_eq!(taken_by_alma(&h).len(), 2);
    // The schedule's tick finds nothing left.
    let tick = serde_json::json!({ "source": "aws.events", "detail-type": "Scheduled Event", "detail": {} });
    let tick: DeliverEvent = serde_json::from_value(tick).expect("a schedule tick");
    let round = bridge::lambda::deliver::handle(&h.bridge.bridge, tick).await;
    assert_eq!(round, DeliverAnswer::Round(RoundSummary { tried: 0, open: 0 }));
}
