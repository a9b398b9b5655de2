//! Shared helpers: a simulator on a free loopback port and reqwest clients that talk to it as the
//! bridge would (Authorization: apikey, Accept: application/json).

use alma_sim::{AlmaSim, Seed};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;

pub async fn start() -> AlmaSim {
    start_with(Seed::demo()).await
}

pub async fn start_with(seed: Seed) -> AlmaSim {
    AlmaSim::start("127.0.0.1:0".parse().unwrap(), seed).await.expect("simulator starts")
}

fn headers(key: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, HeaderValue::from_str(&format!("apikey {key}")).unwrap());
    h.insert(ACCEPT, HeaderValue::from_static("application/json"));
    h
}

/// A client like the bridge's: key and JSON on every call, redirects followed.
pub fn client(sim: &AlmaSim) -> reqwest::Client {
    reqwest::Client::builder().default_headers(headers(sim.api_key())).build().unwrap()
}

/// A client like the bridge's that sends `key` instead of the simulator's all-areas key.
pub fn client_with_key(key: &str) -> reqwest::Client {
    reqwest::Client::builder().default_headers(headers(key)).build().unwrap()
}

/// The same, but it shows redirects instead of following them.
pub fn client_no_redirect(sim: &AlmaSim) -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(headers(sim.api_key()))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn get_json(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let resp = client.get(url).send().await.expect("answer");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

/// Asserts Alma's error body and returns its first errorCode.
pub fn error_code(body: &Value) -> String {
    assert_eq!(body["errorsExist"], true, "not an Alma error body: {body}");
    assert!(body["result"].is_null());
    let code = &body["errorList"]["error"][0]["errorCode"];
    assert!(code.is_string(), "errorCode must be a string: {body}");
    code.as_str().unwrap().to_owned()
}

pub fn error_message(body: &Value) -> String {
    body["errorList"]["error"][0]["errorMessage"].as_str().unwrap_or_default().to_owned()
}

/// An NCIP 2 message with Alma's InitiationHeader (`ToAgencyId` = institution, profile = partner code).
pub fn ncip_message(service: &str, partner: &str, body: &str) -> String {
    ncip_message_to(service, "01DEMO_INST", partner, body)
}

pub fn ncip_message_to(service: &str, to_agency: &str, partner: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd">
  <{service}>
    <InitiationHeader>
      <FromAgencyId><AgencyId>RELAIS</AgencyId></FromAgencyId>
      <ToAgencyId><AgencyId>{to_agency}</AgencyId></ToAgencyId>
      <ApplicationProfileType>{partner}</ApplicationProfileType>
    </InitiationHeader>
    {body}
  </{service}>
</NCIPMessage>"#
    )
}

/// AcceptItem as Relais sends it: RequestId, Hold For Pickup, patron barcode, item barcode, return date.
pub fn accept_item(partner: &str, request_id: &str, user: &str, item: &str) -> String {
    ncip_message(
        "AcceptItem",
        partner,
        &format!(
            "<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>
    <RequestedActionType>Hold For Pickup</RequestedActionType>
    <UserId><UserIdentifierValue>{user}</UserIdentifierValue></UserId>
    <ItemId><ItemIdentifierValue>{item}</ItemIdentifierValue></ItemId>
    <DateForReturn>2031-02-01T00:00:00Z</DateForReturn>
    <ItemOptionalFields><BibliographicDescription><Author>Relais, Ruth</Author><Title>Borrowed via Relais {request_id}</Title></BibliographicDescription></ItemOptionalFields>
    <PickupLocation>MAIN</PickupLocation>"
        ),
    )
}

pub fn check_out_item(partner: &str, item: &str, request_id: Option<&str>) -> String {
    let rid = request_id
        .map(|r| format!("<RequestId><RequestIdentifierValue>{r}</RequestIdentifierValue></RequestId>"))
        .unwrap_or_default();
    ncip_message(
        "CheckOutItem",
        partner,
        &format!(
            "<UserId><UserIdentifierValue>GENERIC-PATRON-ZYX</UserIdentifierValue></UserId>
    <ItemId><ItemIdentifierValue>{item}</ItemIdentifierValue></ItemId>{rid}"
        ),
    )
}

pub fn check_in_item(partner: &str, item: &str) -> String {
    ncip_message("CheckInItem", partner, &format!("<ItemId><ItemIdentifierValue>{item}</ItemIdentifierValue></ItemId>"))
}

/// POSTs an NCIP message; returns the HTTP status and the body text.
pub async fn post_ncip(sim: &AlmaSim, xml: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(sim.ncip_url())
        .header("Content-Type", "application/xml")
        .body(xml.to_owned())
        .send()
        .await
        .expect("NCIP answer");
    (r.status().as_u16(), r.text().await.unwrap())
}

pub async fn admin_state(sim: &AlmaSim) -> Value {
    reqwest::Client::new().get(format!("{}/state", sim.admin_url())).send().await.unwrap().json().await.unwrap()
}

/// Arms a fault over `POST /admin/faults`; returns the HTTP status (201 armed, 400 refused).
pub async fn arm(sim: &AlmaSim, spec: Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/faults", sim.admin_url()))
        .json(&spec)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
