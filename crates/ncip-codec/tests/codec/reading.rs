//! The reading and writing rules of the crate documentation (`src/lib.rs`), one scenario each.

use jiff::tz::TimeZone;
use ncip_codec::{
    AgencyId, CheckOutItem, InitiationHeader, Message, ReadErrorKind, ReadOptions, SchemeValue, ServiceKind,
    error_response, peek, problem_response, read, write,
};

fn checkout(root_open: &str, root_close: &str, p: &str) -> String {
    format!(
        "{root_open}<{p}CheckOutItem><{p}InitiationHeader><{p}FromAgencyId><{p}AgencyId>Relais</{p}AgencyId></{p}FromAgencyId>\
         <{p}ToAgencyId><{p}AgencyId>LEHI</{p}AgencyId></{p}ToAgencyId></{p}InitiationHeader>\
         <{p}UserId><{p}UserIdentifierValue>8377630</{p}UserIdentifierValue></{p}UserId>\
         <{p}ItemId><{p}ItemIdentifierValue>LEH-1</{p}ItemIdentifierValue></{p}ItemId></{p}CheckOutItem>{root_close}"
    )
}

fn read_ok(doc: &str) -> Message {
    read(doc.as_bytes(), &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}: {doc}"))
}

#[test]
fn elements_match_by_local_name_in_every_namespace_form() {
    let forms = [
        checkout(r#"<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="x">"#, "</NCIPMessage>", ""),
        checkout(
            r#"<ns1:NCIPMessage xmlns:ns1="http://www.niso.org/2008/ncip" ns1:version="x">"#,
            "</ns1:NCIPMessage>",
            "ns1:",
        ),
        checkout(r#"<q:NCIPMessage xmlns:q="http://www.niso.org/2008/ncip">"#, "</q:NCIPMessage>", "q:"),
        checkout("<NCIPMessage>", "</NCIPMessage>", ""),
    ];
    let first = read_ok(&forms[0]);
    for form in &forms[1..] {
        assert_eq!(read_ok(form), first, "{form}");
    }
}

#[test]
fn scheme_attribute_is_read_qualified_or_not() {
    for attr in ["Scheme", "ns1:Scheme"] {
        let doc = format!(
            r#"<ns1:NCIPMessage xmlns:ns1="http://www.niso.org/2008/ncip"><ns1:LookupUser><ns1:UserId><ns1:UserIdentifierType {attr}="urn:s">Barcode</ns1:UserIdentifierType><ns1:UserIdentifierValue>1</ns1:UserIdentifierValue></ns1:UserId></ns1:LookupUser></ns1:NCIPMessage>"#
        );
        let Message::LookupUser(m) = read_ok(&doc) else { panic!() };
        assert_eq!(m.user_id.unwrap().user_identifier_type, Some(SchemeValue::with_scheme("urn:s", "Barcode")));
    }
}

#[test]
fn zone_less_dates_use_the_configured_zone_and_date_only_means_end_of_day() {
    let doc = r#"<NCIPMessage><CheckOutItem><UserId><UserIdentifierValue>u</UserIdentifierValue></UserId><ItemId><ItemIdentifierValue>i</ItemIdentifierValue></ItemId><DesiredDateDue>2024-03-01T12:00:00</DesiredDateDue></CheckOutItem></NCIPMessage>"#;
    let opts = ReadOptions { time_zone: TimeZone::fixed(jiff::tz::offset(-5)), ..ReadOptions::default() };
    let Message::CheckOutItem(m) = read(doc.as_bytes(), &opts).unwrap() else { panic!() };
    assert_eq!(m.desired_date_due.unwrap().to_string(), "2024-03-01T17:00:00Z");
    let date_only = doc.replace("2024-03-01T12:00:00", "2024-03-01");
    let Message::CheckOutItem(m) = read(date_only.as_bytes(), &opts).unwrap() else { panic!() };
    assert_eq!(m.desired_date_due.unwrap().to_string(), "2024-03-02T04:59:59Z");
}

#[test]
fn a_bad_date_is_an_invalid_date_problem_naming_the_element_and_value() {
    let doc = r#"<NCIPMessage><CheckInItem><MandatedAction><DateEventOccurred>yesterday</DateEventOccurred></MandatedAction><ItemId><ItemIdentifierValue>i</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>"#;
    let err = read(doc.as_bytes(), &ReadOptions::default()).unwrap_err();
    let p = err.problem();
    assert_eq!(p.type_name(), "Invalid Date");
    assert_eq!(p.element.as_deref(), Some("MandatedAction/DateEventOccurred"));
    assert_eq!(p.value.as_deref(), Some("yesterday"));
    assert_eq!(err.service(), Some(ServiceKind::CheckInItem));
}

#[test]
fn missing_required_elements_are_needed_data_missing_with_their_path() {
    let cases = [
        // AcceptItem without RequestId.
        (
            r#"<NCIPMessage><AcceptItem><RequestedActionType>Hold For Pickup</RequestedActionType></AcceptItem></NCIPMessage>"#,
            "RequestId",
        ),
        // UserId without its value.
        (
            r#"<NCIPMessage><LookupUser><UserId><AgencyId>A</AgencyId></UserId></LookupUser></NCIPMessage>"#,
            "UserId/UserIdentifierValue",
        ),
        // CheckInItem without ItemId.
        (r#"<NCIPMessage><CheckInItem/></NCIPMessage>"#, "ItemId"),
        // Header without ToAgencyId.
        (
            r#"<NCIPMessage><CheckInItem><InitiationHeader><FromAgencyId><AgencyId>A</AgencyId></FromAgencyId></InitiationHeader><ItemId><ItemIdentifierValue>1</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>"#,
            "InitiationHeader/ToAgencyId",
        ),
        // Blank barcode (whitespace only) in a request.
        (
            r#"<NCIPMessage><CheckInItem><ItemId><ItemIdentifierValue>  </ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>"#,
            "ItemId/ItemIdentifierValue",
        ),
    ];
    for (doc, path) in cases {
        let err = read(doc.as_bytes(), &ReadOptions::default()).unwrap_err();
        let p = err.problem();
        assert_eq!(p.type_name(), "Needed Data Missing", "{doc}");
        assert_eq!(p.element.as_deref(), Some(path), "{doc}");
    }
}

#[test]
fn responses_are_read_leniently() {
    let doc = r#"<NCIPMessage><CheckInItemResponse><ItemId><AgencyId/></ItemId></CheckInItemResponse></NCIPMessage>"#;
    let Message::CheckInItemResponse(m) = read_ok(doc) else { panic!() };
    assert!(m.item_id.unwrap().item_identifier_value.0.is_empty());
}

#[test]
fn a_non_integer_amount_violates_the_element_rule() {
    let doc = r#"<NCIPMessage><CheckOutItemResponse><Problem><ProblemType>x</ProblemType></Problem><RequiredFeeAmount><MonetaryValue>5 EUR</MonetaryValue></RequiredFeeAmount></CheckOutItemResponse></NCIPMessage>"#;
    let err = read(doc.as_bytes(), &ReadOptions::default()).unwrap_err();
    let p = err.problem();
    assert_eq!(p.type_name(), "Element Rule Violated");
    assert_eq!(p.element.as_deref(), Some("RequiredFeeAmount/MonetaryValue"));
    assert_eq!(err.service(), None, "a broken response is not answered at service level");
}

#[test]
fn latin1_bytes_are_decoded_when_declared() {
    let mut doc =
        br#"<?xml version="1.0" encoding="ISO-8859-1"?><NCIPMessage><LookupUser><UserId><UserIdentifierValue>M"#
            .to_vec();
    doc.push(0xFC); // ü in Latin-1, invalid as UTF-8
    doc.extend_from_slice(b"ller</UserIdentifierValue></UserId></LookupUser></NCIPMessage>");
    let Message::LookupUser(m) = read(&doc, &ReadOptions::default()).unwrap() else { panic!() };
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "Müller");
}

#[test]
fn peek_reads_only_the_service_element() {
    // Everything after the service element start is garbage: peek must not care.
    let doc = b"<NCIPMessage xmlns='http://www.niso.org/2008/ncip'><AcceptItemResponse><<<garbage";
    let p = peek(doc, &ncip_codec::ReadOptions::default()).unwrap();
    assert_eq!((p.service, p.is_response), (ServiceKind::AcceptItem, true));
}

#[test]
fn problem_response_swaps_from_and_to() {
    let header = InitiationHeader {
        from_agency_id: AgencyId::new("Relais"),
        to_agency_id: AgencyId::new("01UNI_INST"),
        from_system_id: Some(SchemeValue::new("Relais D2D")),
        ..Default::default()
    };
    let problem = ncip_codec::Problem::unknown_user(&ServiceKind::LookupUser, "123");
    let Message::LookupUserResponse(r) =
        problem_response(ServiceKind::LookupUser, Some(&header), vec![problem.clone()])
    else {
        panic!()
    };
    let h = r.header.unwrap();
    assert_eq!((h.from_agency_id.as_str(), h.to_agency_id.as_str()), ("01UNI_INST", "Relais"));
    assert_eq!(h.to_system_id, Some(SchemeValue::new("Relais D2D")));
    assert_eq!(r.problems, vec![problem]);
}

#[test]
fn error_response_uses_the_callers_header_when_given() {
    let doc = r#"<NCIPMessage><CheckInItem/></NCIPMessage>"#;
    let err = read(doc.as_bytes(), &ReadOptions::default()).unwrap_err();
    let header =
        InitiationHeader { from_agency_id: AgencyId::new("A"), to_agency_id: AgencyId::new("B"), ..Default::default() };
    let Message::CheckInItemResponse(r) = error_response(&err, Some(&header)) else { panic!() };
    assert_eq!(r.header.unwrap().to_agency_id.as_str(), "A");
}

#[test]
fn forwarding_to_alma_rewrites_only_profile_and_to_agency() {
    let relais = checkout("<NCIPMessage>", "</NCIPMessage>", "");
    let mut msg = read_ok(&relais);
    let header = msg.initiation_header_mut().unwrap();
    header.application_profile_type = Some(SchemeValue::new("RELAIS_PARTNER"));
    header.to_agency_id = AgencyId::new("01UNI_INST");
    let written = String::from_utf8(write(&msg)).unwrap();
    assert!(written.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(written.contains(
        r#"<ns1:NCIPMessage xmlns:ns1="http://www.niso.org/2008/ncip" ns1:version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd">"#
    ));
    assert!(written.contains(
        "<ns1:ToAgencyId><ns1:AgencyId>01UNI_INST</ns1:AgencyId></ns1:ToAgencyId><ns1:ApplicationProfileType>RELAIS_PARTNER</ns1:ApplicationProfileType></ns1:InitiationHeader>"
    ));
    let Message::CheckOutItem(CheckOutItem { user_id, item_id, .. }) = read_ok(&written) else { panic!() };
    assert_eq!(user_id.unwrap().user_identifier_value.as_str(), "8377630");
    assert_eq!(item_id.item_identifier_value.as_str(), "LEH-1");
}

#[test]
fn schemes_are_written_as_qualified_attributes_and_data_is_escaped() {
    let doc = r#"<NCIPMessage><LookupUser><UserId><UserIdentifierType Scheme="urn:a&amp;b">A &lt; B</UserIdentifierType><UserIdentifierValue>x&amp;y</UserIdentifierValue></UserId></LookupUser></NCIPMessage>"#;
    let written = String::from_utf8(write(&read_ok(doc))).unwrap();
    assert!(written.contains(r#"<ns1:UserIdentifierType ns1:Scheme="urn:a&amp;b">A &lt; B</ns1:UserIdentifierType>"#));
    assert!(written.contains("<ns1:UserIdentifierValue>x&amp;y</ns1:UserIdentifierValue>"));
}

#[test]
fn ncip1_detection_follows_version_not_doctype_alone() {
    let v1 =
        r#"<NCIPMessage version="http://www.niso.org/ncip/v1_0/imp1/dtd/ncip_v1_0.dtd"><LookupUser/></NCIPMessage>"#;
    let err = read(v1.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::Version1 { .. }));
    assert_eq!(err.service(), Some(ServiceKind::LookupUser));
    let no_version = r#"<!DOCTYPE NCIPMessage PUBLIC "-//NISO//NCIP DTD Version 1//EN" "http://www.niso.org/ncip/v1_0/imp1/dtd/ncip_v1_0.dtd"><NCIPMessage><LookupUser/></NCIPMessage>"#;
    assert_eq!(
        peek(no_version.as_bytes(), &ncip_codec::ReadOptions::default()).unwrap().version,
        ncip_codec::NcipVersion::V1
    );
}
