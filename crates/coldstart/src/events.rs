//! The event each function is measured with: `events/<function>.json` when the project has one, else an
//! equivalent API Gateway HTTP API (payload 2.0) event built here, aimed at the demo data of the Alma
//! simulator (`crates/alma-sim/seed/demo.json`).
//!
//! Event files carry their own tokens (in the NCIP path, in a bearer header); [`Tokens::of`] reads them back
//! so the function can be given the matching secrets.

use bridge::lambda::events::DoorbellBody;
use serde_json::Value;
use std::path::Path;

/// The NCIP secret and status token the fallback events use (16+ characters, as the bridge requires).
pub const NCIP_TOKEN: &str = "coldstart-ncip-token-0123456789";
/// The staff status token the fallback status-page event sends as its bearer.
pub const STATUS_TOKEN: &str = "coldstart-status-token-0123456789";
/// The staff action token the request-status function is started with (it refuses to start without one).
pub const STAFF_TOKEN: &str = "coldstart-staff-action-token-0123456789";

/// The Relais request id the fallback AcceptItem creates and the status page reads.
const REQUEST_ID: &str = "RLS-COLD-0001";

/// One function's event and where it came from.
pub struct Event {
    /// The event as the function receives it.
    pub json: Value,
    /// `events/<name>.json`, or `None` when built here.
    pub file: Option<String>,
}

/// The secrets an event expects the function to hold.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    /// The NCIP secret Relais would send, from the path or a bearer header.
    pub ncip: Option<String>,
    /// The staff status token, from the bearer header of a status-page request.
    pub status: Option<String>,
}

impl Event {
    /// The project's event file for `function` if it exists and parses, else the built-in one.
    pub fn for_function(workspace: &Path, function: &str) -> Result<Event, String> {
        let path = workspace.join("events").join(format!("{function}.json"));
        match std::fs::read(&path) {
            Ok(bytes) => {
                let json = serde_json::from_slice(&bytes).map_err(|e| format!("{}: not JSON ({e})", path.display()))?;
                Ok(Event { json, file: Some(format!("events/{function}.json")) })
            }
            Err(_) => Ok(Event { json: built_in(function)?, file: None }),
        }
    }

    /// The event as the Runtime API hands it over.
    pub fn bytes(&self) -> bytes::Bytes {
        bytes::Bytes::from(self.json.to_string())
    }
}

impl Tokens {
    /// The NCIP token from a `/ncip/{token}` path and the status token from a bearer header.
    pub fn of(event: &Value) -> Tokens {
        let path = event.get("rawPath").and_then(Value::as_str).unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let bearer = event
            .get("headers")
            .and_then(Value::as_object)
            .and_then(|headers| headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("authorization")))
            .and_then(|(_, value)| value.as_str())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(|token| token.trim().to_owned());
        // Relais puts the NCIP token in its URL or in a bearer header; staff tools send theirs either way too.
        let (ncip, status) = match segments.as_slice() {
            [.., "ncip", token] => (Some((*token).to_owned()), None),
            [.., "ncip"] => (bearer, None),
            [.., "requests", _] => (None, bearer),
            _ => (None, None),
        };
        Tokens { ncip, status }
    }
}

/// An API Gateway HTTP API (payload format 2.0) event: the builder the front door's invoke uses.
pub fn http_api_event(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &str) -> Value {
    let event = bridge::lambda::invoke::http_api_event(method, path, query, headers, body.as_bytes());
    serde_json::to_value(event).expect("an HTTP API event serialises")
}

fn ncip_event(service_xml: &str) -> Value {
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd">{service_xml}</NCIPMessage>"#
    );
    http_api_event("POST", "/ncip", "", &[("content-type", "application/xml")], &body)
}

/// An SQS event with one outbox doorbell, as the event source mapping hands it to the `deliver` function.
fn sqs_event(request: &str) -> Value {
    serde_json::json!({
        "Records": [{
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": DoorbellBody::new(&bridge::store::RelaisRequestId::new(request).expect("an id")).to_json(),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "MessageGroupId": request,
                "MessageDeduplicationId": "coldstart-doorbell",
                "SentTimestamp": "1767225600000"
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:alma-relais-bridge-outbox.fifo",
            "awsRegion": "eu-west-1"
        }]
    })
}

/// Relais' initiation header for the demo institution and its NCIP partner.
const HEADER: &str = "<InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId><ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader>";

fn built_in(function: &str) -> Result<Value, String> {
    let patron = "21000000001";
    Ok(match function {
        "openurl-redirect" => http_api_event(
            "GET",
            "/openurl",
            "genre=book&title=The+Art+of+Interlibrary+Loan&isbn=9780838913390&sid=primo",
            &[],
            "",
        ),
        "ncip" => {
            let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"><LookupVersion><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId><ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId></LookupVersion></NCIPMessage>"#;
            http_api_event("POST", &format!("/ncip/{NCIP_TOKEN}"), "", &[("content-type", "application/xml")], body)
        }
        "patron-lookup" => ncip_event(&format!(
            "<LookupUser>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<UserElementType>Name Information</UserElementType><UserElementType>User Address Information</UserElementType>\
<UserElementType>User Privilege</UserElementType></LookupUser>"
        )),
        "accept-item" => ncip_event(&format!(
            "<AcceptItem>{HEADER}<RequestId><RequestIdentifierValue>{REQUEST_ID}</RequestIdentifierValue></RequestId>\
<RequestedActionType>Hold For Pickup</RequestedActionType><UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>RLS-COLD-ITEM-1</ItemIdentifierValue></ItemId><DateForReturn>2027-01-31T23:59:59Z</DateForReturn>\
<ItemOptionalFields><BibliographicDescription><Author>Borrower, Bea</Author><Title>A Book From Afar</Title></BibliographicDescription></ItemOptionalFields>\
<PickupLocation>MAIN</PickupLocation></AcceptItem>"
        )),
        "check-out-item" => ncip_event(&format!(
            "<CheckOutItem>{HEADER}<UserId><UserIdentifierValue>ILL_PARTNER</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>39000000001</ItemIdentifierValue></ItemId>\
<RequestId><RequestIdentifierValue>RLS-COLD-0002</RequestIdentifierValue></RequestId>\
<DesiredDateDue>2027-02-28T23:59:59Z</DesiredDateDue></CheckOutItem>"
        )),
        "check-in-item" => ncip_event(&format!(
            "<CheckInItem>{HEADER}<ItemId><ItemIdentifierValue>39000000002</ItemIdentifierValue></ItemId></CheckInItem>"
        )),
        "request-item" => ncip_event(&format!(
            "<RequestItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>OCLC-12345</BibliographicRecordIdentifier>\
<BibliographicRecordIdentifierCode>OCLC</BibliographicRecordIdentifierCode></BibliographicRecordId></BibliographicId>\
<RequestId><RequestIdentifierValue>RLS-COLD-0003</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType><RequestScopeType>Bibliographic Item</RequestScopeType>\
<ItemOptionalFields><BibliographicDescription><Title>A Book From Afar</Title></BibliographicDescription></ItemOptionalFields>\
<PickupLocation>MAIN</PickupLocation></RequestItem>"
        )),
        "cancel-request-item" => ncip_event(&format!(
            "<CancelRequestItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<RequestId><RequestIdentifierValue>RLS-COLD-0003</RequestIdentifierValue></RequestId><RequestType>Loan</RequestType></CancelRequestItem>"
        )),
        "renew-item" => ncip_event(&format!(
            "<RenewItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>39000000003</ItemIdentifierValue></ItemId><DesiredDateDue>2027-03-31T23:59:59Z</DesiredDateDue></RenewItem>"
        )),
        "lookup-item" => ncip_event(&format!(
            "<LookupItem>{HEADER}<ItemId><ItemIdentifierValue>39000000004</ItemIdentifierValue></ItemId>\
<ItemElementType>Bibliographic Description</ItemElementType><ItemElementType>Circulation Status</ItemElementType></LookupItem>"
        )),
        "request-status" => http_api_event(
            "GET",
            &format!("/requests/{REQUEST_ID}"),
            "",
            &[("authorization", &format!("Bearer {STATUS_TOKEN}"))],
            "",
        ),
        // A doorbell from the outbox's FIFO queue for the request the AcceptItem above created.
        "reconcile" => serde_json::json!({
            "version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "region": "eu-west-1", "detail": {}
        }),
        "deliver" => sqs_event(REQUEST_ID),
        other => return Err(format!("no built-in event for {other}: add events/{other}.json")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_read_back_from_the_events_that_carry_them() {
        assert_eq!(Tokens::of(&built_in("ncip").unwrap()).ncip.as_deref(), Some(NCIP_TOKEN));
        assert_eq!(Tokens::of(&built_in("request-status").unwrap()).status.as_deref(), Some(STATUS_TOKEN));
        assert_eq!(Tokens::of(&built_in("accept-item").unwrap()), Tokens::default());
        let by_header = http_api_event("POST", "/ncip", "", &[("Authorization", "Bearer xyz")], "");
        assert_eq!(Tokens::of(&by_header).ncip.as_deref(), Some("xyz"));
    }

    #[test]
    fn every_function_has_an_event() {
        for function in crate::ORDER {
            let event = built_in(function.name()).unwrap();
            if function.is_http() {
                assert_eq!(event["version"], "2.0", "{function:?}");
            } else if function == bridge::Function::Reconcile {
                assert_eq!(event["detail-type"], "Scheduled Event", "{function:?}");
            } else {
                assert_eq!(event["Records"][0]["eventSource"], "aws:sqs", "{function:?}");
            }
        }
    }
}
