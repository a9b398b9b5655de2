//! The front door over an Alma that answers instantly from memory and the embedded store held in memory: the
//! bridge with nothing to wait for, so that what a measurement counts is the bridge's own work. Shared by the
//! criterion bench (`benches/bridge_overhead.rs`, wall time) and the instruction-count workloads
//! (`examples/instructions`, run by `scripts/bench-instructions`).

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use bridge::alma::model::{AlmaItem, AlmaUser, LendingRequests, Loan, Partner, UserRequest};
use bridge::alma::{AlmaError, AlmaNcip, AlmaRest, ApiArea, CallContext, ItemPath, NotConfigured};
use bridge::app::{AlmaClients, Parts};
use bridge::config::{Env, Host, Settings};
use bridge::ncip::{self, Message, ReadOptions};
use bridge::store::testing::{FaultyStore, Operation, OperationKind};
use bridge::store::{EmbeddedStore, StoreConfig};
use bridge::{Bridge, Function};
use http::Request;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

pub const TOKEN: &str = "bench-token-0123456789abcdef";

/// Alma's NCIP responder answering at once: the success answer for the service asked.
struct InstantNcip {
    accept_item: Message,
}

#[async_trait]
impl AlmaNcip for InstantNcip {
    async fn send(&self, _body: Vec<u8>, _ctx: &CallContext) -> Result<Message, AlmaError> {
        Ok(self.accept_item.clone())
    }
}

/// Alma's REST API answering at once: the item the AcceptItem created, the patron (whose barcode is the
/// identifier Relais sends, so the patron identifier passes unchanged) and the partner record naming BARCODE as
/// its User Identifier Type (read once per process, as in production).
struct InstantRest {
    item: AlmaItem,
    user: AlmaUser,
    partner: Partner,
}

#[async_trait]
impl AlmaRest for InstantRest {
    async fn user(&self, _id: &str, _id_type: &str, _ctx: &CallContext) -> Result<AlmaUser, AlmaError> {
        Ok(self.user.clone())
    }
    async fn authenticate(&self, id: &str, password: &str, ctx: &CallContext) -> Result<(), AlmaError> {
        NotConfigured.authenticate(id, password, ctx).await
    }
    async fn item_by_barcode(&self, _barcode: &str, _ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        Ok(self.item.clone())
    }
    async fn user_requests(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        NotConfigured.user_requests(user_id, ctx).await
    }
    async fn user_loans(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        NotConfigured.user_loans(user_id, ctx).await
    }
    async fn item_requests(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        NotConfigured.item_requests(item, ctx).await
    }
    async fn item(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        NotConfigured.item(item, ctx).await
    }
    async fn item_loans(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        NotConfigured.item_loans(item, ctx).await
    }
    async fn lending_request(
        &self,
        partner: &str,
        id: &str,
        ctx: &CallContext,
    ) -> Result<bridge::alma::model::LendingRequest, AlmaError> {
        NotConfigured.lending_request(partner, id, ctx).await
    }
    async fn partner(&self, _code: &str, _ctx: &CallContext) -> Result<Partner, AlmaError> {
        Ok(self.partner.clone())
    }
    async fn lending_requests(
        &self,
        library: &str,
        partner: &str,
        status: &str,
        ctx: &CallContext,
    ) -> Result<LendingRequests, AlmaError> {
        NotConfigured.lending_requests(library, partner, status, ctx).await
    }
    async fn test_api_key(&self, area: ApiArea, ctx: &CallContext) -> Result<String, AlmaError> {
        NotConfigured.test_api_key(area, ctx).await
    }
}

/// The store's operations counted, each a round trip to the store (a redb transaction on the embedded store, a
/// request on DynamoDB): the target is at most two on a first delivery (docs/benchmarks.md).
#[derive(Debug, Default)]
pub struct StoreCalls {
    pub reads: AtomicU64,
    pub claims: AtomicU64,
    pub commits: AtomicU64,
    pub other_writes: AtomicU64,
}

impl StoreCalls {
    /// (reads, claims, commits, other writes) so far.
    pub fn snapshot(&self) -> [u64; 4] {
        [&self.reads, &self.claims, &self.commits, &self.other_writes].map(|c| c.load(Ordering::Relaxed))
    }
}

impl StoreCalls {
    /// Counts `operation` by the cost it has on the store.
    fn count(&self, operation: Operation) {
        let counter = match operation.kind() {
            OperationKind::Read => &self.reads,
            OperationKind::Claim => &self.claims,
            OperationKind::Commit => &self.commits,
            OperationKind::OtherWrite => &self.other_writes,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The front door as the local server serves it, over a bridge whose Alma answers at once.
pub fn front_door() -> Router {
    front_door_counting_store_calls().0
}

/// [`front_door`], and the count of its store operations.
pub fn front_door_counting_store_calls() -> (Router, Arc<StoreCalls>) {
    let env = Env::from_pairs([
        ("NCIP_SHARED_SECRET", TOKEN),
        ("STATUS_TOKEN", "bench-status-token-0123456789"),
        ("ALMA_PARTNER_CODE", "RELAIS"),
    ]);
    let settings = Settings::from_env(&env, Host::Local).expect("bench settings are valid");
    let answer = r#"<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"><AcceptItemResponse><ResponseHeader><FromAgencyId><AgencyId>01DEMO_INST</AgencyId></FromAgencyId><ToAgencyId><AgencyId>RELAIS</AgencyId></ToAgencyId></ResponseHeader><RequestId><AgencyId>RELAIS</AgencyId><RequestIdentifierValue>RL-1</RequestIdentifierValue></RequestId><ItemId><ItemIdentifierValue>ILL-1</ItemIdentifierValue></ItemId></AcceptItemResponse></NCIPMessage>"#;
    let accept_item = ncip::read(answer.as_bytes(), &ReadOptions::default()).expect("canned answer parses");
    let item: AlmaItem = serde_json::from_value(serde_json::json!({
        "bib_data": {"mms_id": "9910000000010105", "title": "A Book From Afar"},
        "holding_data": {"holding_id": "2210000000010105"},
        "item_data": {"pid": "2310000000010105", "barcode": "ILL-1", "base_status": {"value": "0"},
                      "process_type": {"value": "HOLDSHELF"}, "library": {"value": "MAIN"}}
    }))
    .expect("item JSON");
    let user: AlmaUser = serde_json::from_value(serde_json::json!({
        "primary_id": "p-21000000001", "first_name": "Bea", "last_name": "Borrower",
        "status": {"value": "ACTIVE"}, "user_group": {"value": "UG"},
        "user_identifier": [{"value": "21000000001", "id_type": {"value": "BARCODE"}, "status": "ACTIVE"}]
    }))
    .expect("user JSON");
    let partner: Partner = serde_json::from_value(serde_json::json!({
        "partner_details": {"code": "RELAIS", "profile_details": {"profile_type": "NCIP",
            "ncip_details": {"general_user_id_type": {"value": "BARCODE"}}}}
    }))
    .expect("partner JSON");
    let calls = Arc::new(StoreCalls::default());
    let inner = EmbeddedStore::in_memory(StoreConfig::default()).expect("in-memory store");
    let counted = Arc::clone(&calls);
    let store = FaultyStore::new(Arc::new(inner), move |operation| {
        counted.count(operation);
        None
    });
    let alma = AlmaClients {
        institution_code: "01DEMO_INST".into(),
        rest: Arc::new(InstantRest { item, user, partner }),
        ncip: Arc::new(InstantNcip { accept_item }),
    };
    // The front door answers each service in process, as the local server does.
    let parts = Parts::in_process(settings, alma, Arc::new(store)).expect("the parts");
    let bridge = Bridge::new(parts).expect("bridge assembles");
    (bridge::http::router(Arc::new(bridge), &[Function::NcipFrontDoor]), calls)
}

/// One message through the router, as an HTTP server hands it over.
pub async fn answer(router: &Router, body: String) -> http::Response<Body> {
    router.clone().oneshot(post(body)).await.expect("the router answers")
}

pub fn post(body: String) -> Request<Body> {
    http::Request::builder()
        .method("POST")
        .uri(format!("/ncip/{TOKEN}"))
        .header("content-type", "application/xml")
        .body(Body::from(body))
        .expect("request")
}
