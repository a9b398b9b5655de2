//! The `reconcile` function's binary under the Lambda Runtime API (the loopback one the cold-start harness
//! uses), against DynamoDB on moto and the Alma simulator: its scheduled event runs one reconciliation, whose
//! summary is the invocation's answer and whose report is in the table for the status function to serve.
//!
//! Needs a DynamoDB-compatible endpoint in `BRIDGE_TEST_DYNAMODB_ENDPOINT` (`./scripts/test` starts moto);
//! without one it says so and passes, like the store's DynamoDB tests.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use bridge_store::{
    ClaimToken, Commit, Correlation, DynamoStore, HistoryEntry, IdempotencyKey, ItemBarcode, Outcome, PartnerCode,
    RelaisRequestId, RequestStatus, Side, Store, StoreConfig,
};
use coldstart::environment::{self, Endpoints};
use coldstart::events::Tokens;
use coldstart::process::{Launch, measure};
use std::path::PathBuf;
use std::time::Duration;

/// Builds the function's binary (debug: what is tested is the runtime protocol, not its speed).
fn reconcile_binary() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet", "-p", "reconcile", "--bin", "reconcile"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the reconcile function builds");
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace.join("target"), PathBuf::from);
    target.join("debug").join("reconcile")
}

async fn seed(store: &DynamoStore, id: &str, barcode: &str) {
    let now = jiff::Timestamp::now();
    let mut record = Correlation::new(
        RelaisRequestId::new(id).unwrap(),
        Side::Borrowing,
        PartnerCode::new("RELAIS").unwrap(),
        RequestStatus::OnHoldShelf,
        now,
    );
    record.item_barcodes = vec![ItemBarcode::new(barcode).unwrap()];
    let key = IdempotencyKey::derive("Seed", None, None, id.as_bytes());
    let owner = ClaimToken::new(format!("seed-{id}")).unwrap();
    store.claim(&key, &owner, now, Duration::from_secs(30)).await.unwrap();
    let history = HistoryEntry::new("AcceptItem", now, Outcome::Success);
    let commit = Commit {
        key: &key,
        owner: &owner,
        response: b"<ok/>",
        record: &record,
        expected_version: None,
        history: &history,
        now,
        follow_up: None,
    };
    store.commit(commit).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_function_reconciles_under_the_lambda_runtime_api() {
    let Ok(moto) = std::env::var("BRIDGE_TEST_DYNAMODB_ENDPOINT") else {
        eprintln!("BRIDGE_TEST_DYNAMODB_ENDPOINT is not set: the reconcile function is not run");
        return;
    };
    let binary = reconcile_binary();
    let sim = alma_sim::AlmaSim::start("127.0.0.1:0".parse().unwrap(), alma_sim::Seed::demo()).await.unwrap();
    // One receipt Alma holds, one it never saw.
    let receipt = "<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\" version=\"2.02\"><AcceptItem><InitiationHeader>\
         <FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId><ToAgencyId><AgencyId>01DEMO_INST</AgencyId>\
         </ToAgencyId><ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader><RequestId>\
         <RequestIdentifierValue>RL-AWS-1</RequestIdentifierValue></RequestId><RequestedActionType>Hold For \
         Pickup</RequestedActionType><UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
         <ItemId><ItemIdentifierValue>ILL-9002</ItemIdentifierValue></ItemId></AcceptItem></NCIPMessage>";
    let answer = reqwest::Client::new().post(sim.ncip_url()).body(receipt).send().await.unwrap().text().await.unwrap();
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");

    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "reconcile-test"))
            .endpoint_url(&moto)
            .build(),
    );
    let table = format!("reconcile-function-{}", std::process::id());
    bridge_store::create_table(&client, &table).await.unwrap();
    let store = DynamoStore::with_config(client, table.clone(), StoreConfig::default());
    seed(&store, "RL-AWS-1", "ILL-9002").await;
    seed(&store, "RL-AWS-2", "ILL-NEVER-IN-ALMA").await;

    let endpoints = Endpoints {
        alma_api_base: sim.base_url(),
        alma_ncip_url: sim.ncip_url(),
        alma_api_key: sim.api_key().to_owned(),
        institution_code: alma_sim::Seed::demo().institution_code().to_owned(),
        dynamodb: moto.clone(),
        table,
        // The reconciler rings no doorbell: it is given no queue.
        sqs: moto.clone(),
        outbox_queue_url: String::new(),
    };
    let env = environment::bridge("reconcile", &endpoints, &Tokens::default());
    let event = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/reconcile.json")).unwrap();
    let log = std::env::temp_dir().join(format!("reconcile-function-{}.log", std::process::id()));
    let launch = Launch {
        name: "reconcile",
        binary: &binary,
        env,
        event: bytes::Bytes::from(event),
        warm_invocations: 1,
        log: &log,
    };
    let run = measure(launch, &[]).await.unwrap_or_else(|e| {
        panic!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default());
    });
    let summary: serde_json::Value = serde_json::from_slice(&run.answer_body).expect("the run's summary");
    assert_eq!(summary["ended"], "end_of_records", "{summary}");
    let mut checked: Vec<&str> = summary["checked"].as_array().unwrap().iter().filter_map(|c| c.as_str()).collect();
    checked.sort_unstable();
    assert_eq!(checked, ["RL-AWS-1", "RL-AWS-2"], "{summary}");
    assert_eq!(summary["drifts"], serde_json::json!({"borrowing_no_temporary_item": 1}), "{summary}");

    // The report is in the table, as the status function reads it.
    let report = store.reconcile_doc("report").await.unwrap().expect("the completed pass");
    assert_eq!(report.body["checked"], 2);
    assert_eq!(report.body["in_step"], 1);
    assert_eq!(report.body["drifts"][0]["relais_request_id"], "RL-AWS-2");
    // The log says the run ended; the EMF lines carry the drift count for the alarm.
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("reconciliation run"), "{text}");
    assert!(text.contains("\"ReconcileCompleted\":1") || text.contains("\"ReconcileCompleted\":1.0"), "{text}");
}
