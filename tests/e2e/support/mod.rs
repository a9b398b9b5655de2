//! A whole bridge for end-to-end tests: the Alma simulator and the bridge's local server on loopback ports,
//! with either the embedded store or DynamoDB (moto's server, started by `scripts/test`), and a clock the
//! test can move. Every call goes over real HTTP through the clients production uses.

pub mod browser;
pub mod corpus;
pub mod lambda_invoke;
pub mod lookup;
pub mod messages;
pub mod recorder;
pub mod stand_in_idp;
pub mod webdriver;

use alma_relais_bridge::local::{self, LocalBridge};
use alma_sim::{AlmaSim, Seed};
use bridge::Bridge;
use bridge::alma::{AlmaRest, CallContext, HttpAlmaRest, Limiter, Transport};
use bridge::app::{AlmaClients, Parts};
use bridge::clock::{Clock, ManualClock};
use bridge::config::AlmaRemote;
use bridge::config::{Env, Host, Secret, Settings};
use bridge::store::{self, Store};
use std::sync::Arc;
use std::time::Duration;

/// Runs each scenario `async fn name(kind: StoreKind)` of a test file as two tests, `embedded::name` and
/// `dynamodb::name` (the file declares `#[macro_use] mod support;` and imports `StoreKind`).
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::StoreKind::Embedded).await })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::StoreKind::DynamoDb).await })*
        }
    };
}

/// The AWS SDK configuration for moto's server, the one `./scripts/test` starts (DynamoDB, SSM and SQS).
pub async fn moto_aws() -> aws_config::SdkConfig {
    let endpoint = std::env::var("BRIDGE_TEST_DYNAMODB_ENDPOINT").expect(
        "BRIDGE_TEST_DYNAMODB_ENDPOINT is set by ./scripts/test (it starts moto_server); run the suite through it",
    );
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await
}

/// The configuration a Lambda function builds for itself (`bridge::lambda::aws`: the environment's region,
/// credentials and endpoint, requests through the bridge's own HTTPS client), pointed at moto.
pub fn lambda_aws(http: &reqwest::Client) -> aws_config::SdkConfig {
    let endpoint = std::env::var("BRIDGE_TEST_DYNAMODB_ENDPOINT").expect("set by ./scripts/test");
    let env = bridge::config::Env::from_pairs([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test-session"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ]);
    bridge::lambda::aws::sdk_config(&env, http.clone()).expect("a complete Lambda environment")
}

/// Puts `value` into moto's SSM as the SecureString `name` (over any earlier value), as a deployer's
/// `aws ssm put-parameter --overwrite --type SecureString` does.
pub async fn put_secure_parameter(ssm: &aws_sdk_ssm::Client, name: &str, value: &str) {
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("moto keeps the parameter");
}

pub const NCIP_TOKEN: &str = "local-test-token-0123456789";
pub const STATUS_TOKEN: &str = "local-status-token-0123456789";
/// The token that may re-drive and discard queued messages (the status token is read-only).
pub const STAFF_TOKEN: &str = "local-staff-action-token-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Embedded,
    DynamoDb,
}

pub struct Harness {
    pub bridge: LocalBridge,
    pub sim: AlmaSim,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    /// Alma's REST API through the production client, for asserting what "Alma" now holds.
    pub alma: HttpAlmaRest,
    /// The embedded store's folder (`None` on DynamoDB).
    data_dir: Option<tempfile::TempDir>,
}

impl Harness {
    pub async fn start(kind: StoreKind) -> Harness {
        Harness::start_with(kind, &[], |store| store).await
    }

    /// `wrap` lets a test put a fault-injecting store in front of the real one.
    pub async fn start_with(
        kind: StoreKind,
        extra_env: &[(&str, &str)],
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> Harness {
        let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
        let ncip_url = sim.ncip_url();
        Harness::assemble(sim, (demo_institution(), ncip_url), kind, extra_env, wrap).await
    }

    /// A bridge on the embedded store over a simulator seeded with `seed` (corpus patrons, a low per-second
    /// threshold), with `extra_env` settings (later pairs win over the defaults).
    pub async fn start_seeded(seed: Seed, extra_env: &[(&str, &str)]) -> Harness {
        let institution = seed.institution_code().to_owned();
        let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), seed).await.expect("simulator starts");
        let ncip_url = sim.ncip_url();
        Harness::assemble(sim, (institution, ncip_url), StoreKind::Embedded, extra_env, |store| store).await
    }

    /// A bridge on `kind` with `extra_env`, changed by `adjust` before it serves (an outbox doorbell).
    pub async fn start_adjusted(
        kind: StoreKind,
        extra_env: &[(&str, &str)],
        adjust: impl FnOnce(&mut Parts),
    ) -> Harness {
        let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
        let ncip_url = sim.ncip_url();
        Harness::assemble_adjusted(sim, (demo_institution(), ncip_url), kind, extra_env, |store| store, adjust, true)
            .await
    }

    /// A bridge given `ncip_path` on the simulator's host as its `ALMA_NCIP_URL` (a wrong path, as a site
    /// might mistype it), with `extra_env` settings.
    pub async fn start_with_ncip_path(kind: StoreKind, ncip_path: &str, extra_env: &[(&str, &str)]) -> Harness {
        let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
        let base = sim.ncip_url();
        let host = base.split("/view/").next().expect("the simulator's NCIP URL").to_owned();
        let url = format!("{host}{ncip_path}");
        Harness::assemble(sim, (demo_institution(), url), kind, extra_env, |store| store).await
    }

    /// A bridge whose NCIP messages to Alma pass through a recorder, to see exactly what Alma receives.
    pub async fn start_recording(kind: StoreKind) -> (Harness, recorder::NcipRecorder) {
        let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
        let recorder = recorder::NcipRecorder::start(sim.ncip_url()).await;
        (Harness::assemble(sim, (demo_institution(), recorder.url.clone()), kind, &[], |store| store).await, recorder)
    }

    /// `alma` is the institution code and the NCIP URL the bridge is given.
    async fn assemble(
        sim: AlmaSim,
        alma: (String, String),
        kind: StoreKind,
        extra_env: &[(&str, &str)],
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
    ) -> Harness {
        Harness::assemble_adjusted(sim, alma, kind, extra_env, wrap, |_| {}, true).await
    }

    /// A bridge that has never had an answer from Alma's NCIP responder, as at go-live: its outages are not
    /// queued until one message gets through.
    pub async fn start_before_go_live(kind: StoreKind, extra_env: &[(&str, &str)]) -> Harness {
        let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo()).await.expect("simulator starts");
        let alma = (demo_institution(), sim.ncip_url());
        Harness::assemble_adjusted(sim, alma, kind, extra_env, |store| store, |_| {}, false).await
    }

    async fn assemble_adjusted(
        sim: AlmaSim,
        (institution_code, ncip_url): (String, String),
        kind: StoreKind,
        extra_env: &[(&str, &str)],
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>,
        adjust: impl FnOnce(&mut Parts),
        alma_answered_before: bool,
    ) -> Harness {
        let clock = Arc::new(ManualClock::default());
        let mut pairs = vec![
            ("NCIP_SHARED_SECRET", NCIP_TOKEN),
            ("STATUS_TOKEN", STATUS_TOKEN),
            ("STAFF_ACTION_TOKEN", STAFF_TOKEN),
            ("ALMA_PARTNER_CODE", "RELAIS"),
            ("BRIDGE_LISTEN", "127.0.0.1:0"),
            ("BRIDGE_DEADLINE_MS", "8000"),
        ];
        pairs.extend_from_slice(extra_env);
        let settings = Settings::from_env(&Env::from_pairs(pairs), Host::Local).expect("test settings are valid");
        let (store, data_dir) = open_store(kind, &settings, Arc::clone(&clock)).await;
        if alma_answered_before {
            // As if the bridge had already had an answer from this Alma (go-live is behind it): its outages
            // queue. `start_before_go_live` leaves this out.
            let marker = bridge::flows::reached::marker_for(&ncip_url);
            store.record_marker(&marker, clock.now()).await.expect("the store records the marker");
        }
        let store = wrap(store);
        let endpoints =
            AlmaRemote { api_base: sim.base_url(), api_key: Secret::new(sim.api_key()), ncip_url, institution_code };
        let alma = AlmaClients::over(&settings, &endpoints, bridge::alma::https_client()).expect("Alma's URLs");
        let mut parts = Parts::in_process(settings.clone(), alma, Arc::clone(&store)).expect("app assembles");
        parts.clock = clock.clone();
        adjust(&mut parts);
        let app = Bridge::new(parts).expect("app assembles");
        let bridge = local::serve(Arc::new(app), settings.listen).await.expect("bridge serves");
        let transport = Transport::new(Arc::new(Limiter::per_second(25)), Some(Secret::new(sim.api_key())));
        let alma = HttpAlmaRest::new(transport, &sim.base_url()).expect("valid base");
        Harness { bridge, sim, clock, store, http: reqwest::Client::new(), alma, data_dir }
    }

    /// Posts an NCIP message to the front door, as Relais does, and returns the answer body.
    pub async fn ncip(&self, xml: &str) -> String {
        self.ncip_bytes(xml.as_bytes().to_vec()).await
    }

    pub async fn ncip_bytes(&self, body: Vec<u8>) -> String {
        let response = self
            .http
            .post(self.bridge.url(&format!("/ncip/{NCIP_TOKEN}")))
            .header("content-type", "application/xml")
            .body(body)
            .send()
            .await
            .expect("bridge answers");
        assert_eq!(response.status(), 200, "NCIP answers are HTTP 200");
        response.text().await.expect("body")
    }

    /// A REST call straight to "Alma" with the bridge's key (it counts against the same per-second window).
    pub async fn direct_alma_get(&self, path: &str) {
        let response = self
            .http
            .get(format!("{}{path}", self.sim.base_url()))
            .header("Authorization", format!("apikey {}", self.sim.api_key()))
            .header("Accept", "application/json")
            .send()
            .await
            .expect("simulator answers");
        assert_eq!(response.status(), 200, "the direct call itself is admitted");
    }

    /// A desk check-out in "Alma", so the patron has a loan.
    pub async fn desk_loan(&self, user: &str, barcode: &str) {
        let response = self
            .http
            .post(format!("{}/loan", self.sim.admin_url()))
            .json(&serde_json::json!({"user_id": user, "item_barcode": barcode}))
            .send()
            .await
            .expect("simulator answers");
        assert_eq!(response.status(), 201, "desk loan made");
    }

    /// Every file of the embedded store, with its bytes.
    pub fn store_files(&self) -> Vec<(String, Vec<u8>)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).expect("readable store dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push((path.display().to_string(), std::fs::read(&path).expect("readable store file")));
                }
            }
        }
        let dir = self.data_dir.as_ref().expect("an embedded store");
        let mut out = Vec::new();
        walk(dir.path(), &mut out);
        assert!(!out.is_empty(), "the embedded store has its file");
        out
    }

    /// Runs the read-backs of Alma's ids that are due, as the worker does after an answer: when this returns,
    /// every one due has finished or failed an attempt (the worker may have run it first).
    pub async fn read_backs(&self) -> bridge::flows::follow_up::FollowUpRound {
        bridge::flows::follow_up::run_due(&self.bridge.bridge).await.expect("the store answers")
    }

    pub fn ctx() -> CallContext {
        CallContext::new(Duration::from_secs(10))
    }

    /// NCIP calls the simulator received for one service.
    pub fn alma_ncip_calls(&self, service: &str) -> usize {
        self.sim.calls().iter().filter(|c| c.scope == "ncip" && c.ncip_service.as_deref() == Some(service)).count()
    }

    pub async fn status_json(&self, relais_request_id: &str) -> serde_json::Value {
        let response = self
            .http
            .get(self.bridge.url(&format!("/requests/{relais_request_id}")))
            .bearer_auth(STATUS_TOKEN)
            .send()
            .await
            .expect("status answers");
        assert_eq!(response.status(), 200, "status of {relais_request_id}");
        response.json().await.expect("json")
    }

    /// The status page a staff browser gets.
    pub async fn status_html(&self, relais_request_id: &str) -> String {
        self.staff_html(&format!("/requests/{relais_request_id}")).await
    }

    /// The staff page at `path` (`/queue`, `/requests/{id}`) as a browser gets it, with the status token.
    pub async fn staff_html(&self, path: &str) -> String {
        let response = self
            .http
            .get(self.bridge.url(path))
            .header("accept", "text/html")
            .bearer_auth(STATUS_TOKEN)
            .send()
            .await
            .expect("the staff page answers");
        assert_eq!(response.status(), 200, "staff page {path}");
        response.text().await.expect("html")
    }

    /// `GET /requests?barcode=`: the records holding an item barcode.
    pub async fn search_by_barcode(&self, barcode: &str) -> serde_json::Value {
        let query: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("barcode", barcode).finish();
        let url = self.bridge.url(&format!("/requests?{query}"));
        let unauthorised = self.http.get(&url).send().await.expect("answers");
        assert_eq!(unauthorised.status(), 401, "the search needs the status token");
        let response = self.http.get(&url).bearer_auth(STATUS_TOKEN).send().await.expect("answers");
        assert_eq!(response.status(), 200, "search for {barcode}");
        response.json().await.expect("json")
    }

    pub async fn user_requests(&self, user: &str) -> Vec<bridge::alma::model::UserRequest> {
        self.alma.user_requests(user, &Self::ctx()).await.expect("user requests")
    }
}

fn demo_institution() -> String {
    Seed::demo().institution_code().to_owned()
}

async fn open_store(
    kind: StoreKind,
    settings: &Settings,
    clock: Arc<ManualClock>,
) -> (Arc<dyn Store>, Option<tempfile::TempDir>) {
    use bridge::clock::Clock;
    let config = settings.store_config().with_clock(move || clock.now());
    match kind {
        StoreKind::Embedded => {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = store::EmbeddedStore::open_with_config(dir.path(), config).expect("embedded store opens");
            (Arc::new(store), Some(dir))
        }
        StoreKind::DynamoDb => {
            let client = aws_sdk_dynamodb::Client::new(&moto_aws().await);
            let table = format!("bridge-test-{:016x}", rand::random::<u64>());
            store::create_table(&client, &table).await.expect("table created");
            (Arc::new(store::DynamoStore::with_config(client, table, config)), None)
        }
    }
}
