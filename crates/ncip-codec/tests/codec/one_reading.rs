//! One reading of every request: what the bridge reads is what it patches and what Alma receives. An element
//! the XSD allows once is refused when repeated, an element in a foreign namespace is never taken for NCIP's,
//! and identifiers are bounded and free of bidirectional controls.

use ncip_codec::{
    HeaderEdits, MAX_PROBLEM_VALUE_CHARS, Message, ReadError, ReadErrorKind, ReadOptions, ServiceKind, TypeEdit,
    error_response, patch, patch_as_read, peek, read, write,
};

const NS: &str = "http://www.niso.org/2008/ncip";
const HEADER: &str = "<InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>ALMA</AgencyId></ToAgencyId></InitiationHeader>";
const USER: &str = "<UserId><UserIdentifierValue>P1</UserIdentifierValue></UserId>";
const USER_2: &str = "<UserId><UserIdentifierValue>P2</UserIdentifierValue></UserId>";
const ITEM: &str = "<ItemId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId>";
const ITEM_2: &str = "<ItemId><ItemIdentifierValue>B2</ItemIdentifierValue></ItemId>";
const REQUEST: &str = "<RequestId><RequestIdentifierValue>R1</RequestIdentifierValue></RequestId>";
const REQUEST_2: &str = "<RequestId><RequestIdentifierValue>R2</RequestIdentifierValue></RequestId>";

fn message(service: &str, inside: &str) -> String {
    format!(r#"<NCIPMessage xmlns="{NS}" version="2.02"><{service}>{inside}</{service}></NCIPMessage>"#)
}

fn ok(doc: &str) -> Message {
    read(doc.as_bytes(), &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}: {doc}"))
}

/// Refused, answered in the service's own response, and the answer reads back with the same Problem.
fn refused(doc: &str, service: ServiceKind) -> ReadError {
    let err = read(doc.as_bytes(), &ReadOptions::default()).expect_err(doc);
    assert_eq!(err.service(), Some(service), "{err}");
    let answer = write(&error_response(&err, None));
    let reread = read(&answer, &ReadOptions::default()).expect("the answer reads");
    assert_eq!(reread.problems(), [err.problem()]);
    err
}

fn assert_repeated(err: &ReadError, element: &str) {
    let problem = err.problem();
    assert_eq!(problem.type_name(), "Element Rule Violated", "{err}");
    assert_eq!(problem.element.as_deref(), Some(element), "{err}");
}

/// Each request service with its required elements, and where a second copy of an element goes.
fn services() -> Vec<(ServiceKind, &'static str, String)> {
    let with = |parts: &[&str]| parts.concat();
    vec![
        (ServiceKind::LookupUser, "LookupUser", with(&[HEADER, USER])),
        (
            ServiceKind::AcceptItem,
            "AcceptItem",
            with(&[HEADER, REQUEST, "<RequestedActionType>Hold For Pickup</RequestedActionType>", USER, ITEM]),
        ),
        (ServiceKind::CheckOutItem, "CheckOutItem", with(&[HEADER, USER, ITEM, REQUEST])),
        (ServiceKind::CheckInItem, "CheckInItem", with(&[HEADER, ITEM])),
        (ServiceKind::RenewItem, "RenewItem", with(&[HEADER, USER, ITEM])),
        (ServiceKind::CancelRequestItem, "CancelRequestItem", with(&[HEADER, USER, REQUEST, ITEM])),
    ]
}

#[test]
fn a_second_user_item_or_request_id_is_refused_in_every_service_that_acts_on_one() {
    for (kind, service, inside) in services() {
        ok(&message(service, &inside));
        let seconds = [("UserId", USER_2), ("ItemId", ITEM_2), ("RequestId", REQUEST_2)];
        let present = seconds.into_iter().filter(|(name, _)| inside.contains(&format!("<{name}>")));
        for (name, second) in present {
            // Last, after unrelated elements too: the reader used to keep the last, the patch edited the first.
            let err = refused(&message(service, &format!("{inside}{second}")), kind.clone());
            assert_repeated(&err, name);
        }
        let err = refused(&message(service, &format!("{inside}{HEADER}")), kind.clone());
        assert_repeated(&err, "InitiationHeader");
    }
}

#[test]
fn request_item_keeps_its_list_of_item_ids_but_one_patron_and_one_request() {
    let base = [
        HEADER,
        USER,
        REQUEST,
        ITEM,
        ITEM_2,
        "<RequestType>Loan</RequestType><RequestScopeType>Item</RequestScopeType>",
    ]
    .concat();
    let Message::RequestItem(m) = ok(&message("RequestItem", &base)) else { panic!() };
    assert_eq!(m.item_ids.len(), 2);
    let err = refused(&message("RequestItem", &format!("{base}{USER_2}")), ServiceKind::RequestItem);
    assert_repeated(&err, "UserId");
    let err = refused(&message("RequestItem", &format!("{base}{REQUEST_2}")), ServiceKind::RequestItem);
    assert_repeated(&err, "RequestId");
}

#[test]
fn a_lookup_version_with_two_from_agencies_is_refused_in_either_root() {
    let from = |a: &str| format!("<FromAgencyId><AgencyId>{a}</AgencyId></FromAgencyId>");
    let two = format!("{}{}<ToAgencyId><AgencyId>ALMA</AgencyId></ToAgencyId>", from("Unlisted"), from("Relais"));
    let Message::LookupVersion(one) = ok(&message("LookupVersion", &two.replacen(&from("Unlisted"), "", 1))) else {
        panic!()
    };
    assert_eq!(one.from_agency_id.unwrap().as_str(), "Relais");
    let err = refused(&message("LookupVersion", &two), ServiceKind::LookupVersion);
    assert_repeated(&err, "FromAgencyId");
    let version_root = format!("<NCIPVersionMessage><LookupVersion>{two}</LookupVersion></NCIPVersionMessage>");
    assert_repeated(&refused(&version_root, ServiceKind::LookupVersion), "FromAgencyId");
}

#[test]
fn a_repeated_part_inside_an_identifier_is_refused() {
    let user = "<UserId><AgencyId>A</AgencyId><UserIdentifierValue>P1</UserIdentifierValue>\
<UserIdentifierValue>P2</UserIdentifierValue></UserId>";
    let err = refused(&message("LookupUser", &format!("{HEADER}{user}")), ServiceKind::LookupUser);
    assert_repeated(&err, "UserId/UserIdentifierValue");
    let item =
        "<ItemId><AgencyId>A</AgencyId><AgencyId>B</AgencyId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId>";
    let err = refused(&message("CheckInItem", &format!("{HEADER}{item}")), ServiceKind::CheckInItem);
    assert_repeated(&err, "ItemId/AgencyId");
}

#[test]
fn responses_from_alma_are_still_read_leniently() {
    // Alma's answers are not ours to police: a repeated id in a response keeps being read.
    let doc = message("CheckOutItemResponse", &format!("{ITEM}{ITEM_2}{USER}"));
    assert!(matches!(ok(&doc), Message::CheckOutItemResponse(_)));
}

#[test]
fn an_element_in_a_foreign_namespace_is_not_ncips_and_is_refused_in_a_request() {
    let evil = r#"<e:UserId xmlns:e="urn:evil"><e:UserIdentifierValue>VICTIM</e:UserIdentifierValue></e:UserId>"#;
    for inside in [format!("{HEADER}{evil}{USER}"), format!("{HEADER}{USER}{evil}")] {
        let err = refused(&message("LookupUser", &inside), ServiceKind::LookupUser);
        assert!(matches!(err.kind(), ReadErrorKind::ForeignElement { .. }), "{err}");
        let problem = err.problem();
        assert_eq!(problem.type_name(), "Unknown Element");
        assert_eq!(problem.element.as_deref(), Some("UserId"));
        assert_eq!(problem.value.as_deref(), Some("urn:evil"));
    }
    // A default namespace redeclared on one element is just as foreign.
    let nested = format!(r#"{HEADER}<UserId><UserIdentifierValue xmlns="urn:evil">X</UserIdentifierValue></UserId>"#);
    let err = refused(&message("LookupUser", &nested), ServiceKind::LookupUser);
    assert_eq!(err.problem().element.as_deref(), Some("UserId/UserIdentifierValue"));
    // Inside Ext other vocabularies are the XSD's extension point, and stay allowed.
    let ext =
        r#"<Ext><e:UserId xmlns:e="urn:vendor"><e:UserIdentifierValue>X</e:UserIdentifierValue></e:UserId></Ext>"#;
    let Message::LookupUser(m) = ok(&message("LookupUser", &format!("{HEADER}{USER}{ext}"))) else { panic!() };
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "P1");
}

#[test]
fn a_foreign_element_in_a_response_is_skipped_not_read_as_ncips() {
    let evil = r#"<e:UserId xmlns:e="urn:evil"><e:UserIdentifierValue>VICTIM</e:UserIdentifierValue></e:UserId>"#;
    let Message::CheckOutItemResponse(m) = ok(&message("CheckOutItemResponse", &format!("{ITEM}{evil}"))) else {
        panic!()
    };
    assert_eq!(m.user_id, None);
}

#[test]
fn a_root_in_a_foreign_namespace_is_refused_at_top_level() {
    for doc in [
        r#"<NCIPMessage xmlns="urn:evil"><CheckInItem><ItemId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>"#,
        r#"<x:NCIPMessage xmlns:x="urn:evil" xmlns="http://www.niso.org/2008/ncip"><CheckInItem/></x:NCIPMessage>"#,
    ] {
        let err = read(doc.as_bytes(), &ReadOptions::default()).expect_err(doc);
        assert_eq!(err.kind(), &ReadErrorKind::ForeignRoot { namespace: "urn:evil".into() });
        assert_eq!(err.service(), None);
        assert_eq!(err.problem().type_name(), "Invalid Message Syntax Error");
        assert!(matches!(error_response(&err, None), Message::Problem(_)));
        let peeked = peek(doc.as_bytes(), &ReadOptions::default()).expect_err("the front door refuses it too");
        assert_eq!(peeked.kind(), err.kind());
    }
    // No namespace at all is one of the dialects (mod-ncip's samples), and still read.
    ok(
        "<NCIPMessage><CheckInItem><ItemId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>",
    );
}

#[test]
fn the_patch_edits_the_occurrence_the_reader_read() {
    // A vendor's UserId inside Ext comes first in the text; the patch passes it by, as the reader does.
    let doc = message(
        "LookupUser",
        &format!(
            r#"{HEADER}<Ext><e:UserId xmlns:e="urn:vendor"><e:UserIdentifierValue>VENDOR</e:UserIdentifierValue></e:UserId></Ext>{USER}"#
        ),
    );
    let Message::LookupUser(m) = ok(&doc) else { panic!() };
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "P1");
    let edits = HeaderEdits { user_identifier: Some("TRANSLATED"), ..HeaderEdits::default() };
    let out = String::from_utf8(patch(doc.as_bytes(), &edits).unwrap()).unwrap();
    assert!(out.contains(">VENDOR<") && out.contains(">TRANSLATED<") && !out.contains(">P1<"), "{out}");
}

#[test]
fn an_identifier_over_256_bytes_is_refused_and_echoed_only_in_part() {
    let at_limit = "9".repeat(256);
    let over = "9".repeat(60_000);
    let user = |v: &str| format!("<UserId><UserIdentifierValue>{v}</UserIdentifierValue></UserId>");
    ok(&message("LookupUser", &format!("{HEADER}{}", user(&at_limit))));
    let err = refused(&message("LookupUser", &format!("{HEADER}{}", user(&over))), ServiceKind::LookupUser);
    let problem = err.problem();
    assert_eq!(problem.type_name(), "Element Rule Violated");
    assert_eq!(problem.element.as_deref(), Some("UserId/UserIdentifierValue"));
    assert_eq!(problem.value.as_deref().map(|v| v.chars().count()), Some(MAX_PROBLEM_VALUE_CHARS));
    let answer = write(&error_response(&err, None));
    assert!(answer.len() < 2_000, "the answer quotes {} bytes", answer.len());
    // The error's own text, which the bridge logs, names the rule and never quotes the (personal) value.
    assert!(!err.to_string().contains("999"), "{err}");
    // A wrong root named at length is quoted only in part in the detail and the element.
    let root = "R".repeat(10_000);
    let err = read(format!("<{root}/>").as_bytes(), &ReadOptions::default()).expect_err("a wrong root");
    let problem = err.problem();
    assert!(problem.element.unwrap().chars().count() <= 257 && problem.detail.unwrap().chars().count() <= 257);
    // Every identifier, not only the patron's: request, item and agency ids, and bibliographic ones.
    let long = "x".repeat(257);
    for (service, inside, element) in [
        (
            "CheckInItem",
            format!("{HEADER}<ItemId><ItemIdentifierValue>{long}</ItemIdentifierValue></ItemId>"),
            "ItemId/ItemIdentifierValue",
        ),
        (
            "CancelRequestItem",
            format!("{HEADER}{USER}<RequestId><RequestIdentifierValue>{long}</RequestIdentifierValue></RequestId>"),
            "RequestId/RequestIdentifierValue",
        ),
        (
            "CheckInItem",
            format!(
                "{HEADER}<ItemId><AgencyId>{long}</AgencyId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId>"
            ),
            "ItemId/AgencyId",
        ),
        (
            "CheckInItem",
            HEADER.replace(">Relais<", &format!(">{long}<")) + ITEM,
            "InitiationHeader/FromAgencyId/AgencyId",
        ),
    ] {
        let kind = ServiceKind::from_element_name(service).0;
        let err = refused(&message(service, &inside), kind);
        assert_eq!(err.problem().element.as_deref(), Some(element), "{err}");
    }
    let bib = format!(
        "{HEADER}{USER}<BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>{long}</BibliographicRecordIdentifier>\
</BibliographicRecordId></BibliographicId><RequestType>Loan</RequestType><RequestScopeType>Item</RequestScopeType>"
    );
    let err = refused(&message("RequestItem", &bib), ServiceKind::RequestItem);
    assert_eq!(err.problem().type_name(), "Element Rule Violated");
}

#[test]
fn bidirectional_controls_are_refused_in_identifiers_but_not_in_other_text() {
    for control in [
        '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        '\u{200E}', '\u{200F}',
    ] {
        let item = format!("<ItemId><ItemIdentifierValue>RL-{control}4321</ItemIdentifierValue></ItemId>");
        let err = refused(&message("CheckInItem", &format!("{HEADER}{item}")), ServiceKind::CheckInItem);
        let problem = err.problem();
        assert_eq!(problem.type_name(), "Element Rule Violated", "U+{:04X}", control as u32);
        assert_eq!(problem.element.as_deref(), Some("ItemId/ItemIdentifierValue"));
    }
    let request = "<RequestId><RequestIdentifierValue>\u{202E}1-LR</RequestIdentifierValue></RequestId>";
    let err =
        refused(&message("CancelRequestItem", &format!("{HEADER}{USER}{request}")), ServiceKind::CancelRequestItem);
    assert_eq!(err.problem().element.as_deref(), Some("RequestId/RequestIdentifierValue"));
    // A title may be right-to-left text; only identifiers are held to the rule. Hebrew and Arabic ids
    // without controls are identifiers like any other.
    let titled = format!(
        "{HEADER}{REQUEST}<RequestedActionType>Hold For Pickup</RequestedActionType>\
<ItemId><ItemIdentifierValue>שלום-1</ItemIdentifierValue></ItemId>\
<ItemOptionalFields><BibliographicDescription><Title>\u{202B}كتاب\u{202C}</Title></BibliographicDescription></ItemOptionalFields>"
    );
    let Message::AcceptItem(m) = ok(&message("AcceptItem", &titled)) else { panic!() };
    let title = m.item_optional_fields.and_then(|f| f.bibliographic_description).and_then(|d| d.title);
    assert_eq!(title.as_deref(), Some("\u{202B}كتاب\u{202C}"));
}

#[test]
fn a_namespace_declaration_reaches_only_the_elements_in_its_scope() {
    // Declaring a foreign prefix is harmless; using it is what makes an element foreign.
    let declared =
        format!(r#"{HEADER}<UserId xmlns:e="urn:evil"><UserIdentifierValue>P1</UserIdentifierValue></UserId>"#);
    let Message::LookupUser(m) = ok(&message("LookupUser", &declared)) else { panic!() };
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "P1");
    // `xmlns=""` is no namespace at all, as the dialects without one send.
    let undeclared = format!(r#"{HEADER}<UserId xmlns=""><UserIdentifierValue>P1</UserIdentifierValue></UserId>"#);
    ok(&message("LookupUser", &undeclared));
    // A foreign default on an empty element, or on an element already closed, does not reach its siblings.
    let sibling = format!(r#"<x xmlns="urn:vendor"/><y xmlns="urn:vendor"><z/></y>{ITEM}{USER}"#);
    let Message::CheckOutItemResponse(m) = ok(&message("CheckOutItemResponse", &sibling)) else { panic!() };
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "P1");
    // NCIP's namespace declared again inside a foreign one is NCIP's.
    let back = format!(
        r#"<y xmlns="urn:vendor"><UserId xmlns="{NS}"><UserIdentifierValue>P9</UserIdentifierValue></UserId></y>{ITEM}"#
    );
    let Message::CheckOutItemResponse(m) = ok(&message("CheckOutItemResponse", &back)) else { panic!() };
    assert_eq!(m.user_id, None, "y itself is foreign, so what it holds is skipped with it");
}

/// What the bridge changes in a forwarded request, every kind of edit at once.
fn every_edit() -> [HeaderEdits<'static>; 2] {
    [
        HeaderEdits {
            to_agency: Some("01DEMO_INST"),
            from_agency: Some("RELAIS"),
            application_profile_type: Some("RELAIS"),
            user_identifier: Some("21000000001"),
            user_identifier_type: Some(TypeEdit::Set("Barcode")),
            item_agency: Some("01DEMO_INST"),
            user_agency: Some("01DEMO_INST"),
        },
        HeaderEdits {
            user_identifier_type: Some(TypeEdit::Remove),
            user_identifier: Some("P&9"),
            ..HeaderEdits::default()
        },
    ]
}

#[test]
fn the_patch_of_a_reading_edits_where_the_reading_noted_in_every_request_of_the_corpus_and_fixtures() {
    // The spans the bridge's reading noted, and a patch that reads the bytes itself, edit the same places.
    let mut files = crate::common::corpus_or_fixtures();
    files.extend(crate::common::fixture_files());
    let mut patched = 0;
    for (name, bytes) in files {
        let Ok(message) = read(&bytes, &ReadOptions::default()) else { continue };
        if message.is_response() || message.service() == ServiceKind::LookupVersion {
            continue;
        }
        for (i, edits) in every_edit().into_iter().enumerate() {
            let as_read = patch_as_read(&bytes, &message, &edits).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(as_read, patch(&bytes, &edits).unwrap(), "{name}");
            // With both agencies given (as the bridge gives them to a message that came without a header), the
            // forwarded message reads.
            if i == 0 {
                read(&as_read, &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: the patched message: {e}"));
            }
        }
        patched += 1;
    }
    assert!(patched >= 15, "only {patched} requests patched");
}

#[test]
fn a_message_not_read_from_the_bytes_given_is_patched_by_reading_them() {
    let doc = message("LookupUser", &format!("{HEADER}{USER}"));
    let edits = HeaderEdits { user_identifier: Some("TRANSLATED"), ..HeaderEdits::default() };
    let expected = doc.replace(">P1<", ">TRANSLATED<");
    // Built in code: it notes nothing.
    let built = Message::LookupUser(ncip_codec::LookupUser::default());
    assert_eq!(String::from_utf8(patch_as_read(doc.as_bytes(), &built, &edits).unwrap()).unwrap(), expected);
    // Read from other bytes, of the same length or not: their spans do not fit these.
    for other in [doc.replace(HEADER, &HEADER.replace("Relais", "RELAIS")), doc.replace("P1", "P12345")] {
        let from_other = ok(&other);
        assert_eq!(from_other, ok(&other), "two readings of one message are equal");
        let out = patch_as_read(doc.as_bytes(), &from_other, &edits).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
