//! The front door over an Alma that answers instantly from memory and the embedded store held in memory: the
//! bridge with nothing to wait for, so that what a measurement counts is the bridge's own work. Shared by the
//! criterion bench (`benches/bridge_overhead.rs`, wall time) and the instruction-count workloads
//! (`examples/instructions`, run by `scripts/bench-instructions`).

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use bridge::alma::model::{AlmaItem, AlmaUser, BorrowingRequest, LendingRequest, Loan, Partner, UserRequest};
use bridge::alma::{AlmaError, AlmaNcip, AlmaRest, CallContext, NotConfigured};
use bridge::clock::SystemClock;
use bridge::config::{Env, Host, Settings};
use bridge::ncip::{self, Message, ReadOptions};
use bridge::store::{EmbeddedStore, StoreConfig};
use bridge::{Bridge, Function};
use http::Request;
use std::sync::Arc;
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

/// Alma's REST API answering at once with the item the AcceptItem created.
struct InstantRest {
    item: AlmaItem,
}

#[async_trait]
impl AlmaRest for InstantRest {
    async fn user(&self, id: &str, id_type: &str, ctx: &CallContext) -> Result<AlmaUser, AlmaError> {
        NotConfigured.user(id, id_type, ctx).await
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
    async fn borrowing_request(&self, user: &str, id: &str, ctx: &CallContext) -> Result<BorrowingRequest, AlmaError> {
        NotConfigured.borrowing_request(user, id, ctx).await
    }
    async fn lending_request(&self, partner: &str, id: &str, ctx: &CallContext) -> Result<LendingRequest, AlmaError> {
        NotConfigured.lending_request(partner, id, ctx).await
    }
    async fn partner(&self, code: &str, ctx: &CallContext) -> Result<Partner, AlmaError> {
        NotConfigured.partner(code, ctx).await
    }
}

/// The front door as the local server serves it, over a bridge whose Alma answers at once.
pub fn front_door() -> Router {
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
    let store = EmbeddedStore::in_memory(StoreConfig::default()).expect("in-memory store");
    let bridge = Bridge::assemble(
        settings,
        "01DEMO_INST".into(),
        Arc::new(InstantRest { item }),
        Arc::new(InstantNcip { accept_item }),
        Arc::new(store),
        Arc::new(SystemClock),
    )
    .expect("bridge assembles");
    bridge::http::router(Arc::new(bridge), &[Function::NcipFrontDoor])
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
