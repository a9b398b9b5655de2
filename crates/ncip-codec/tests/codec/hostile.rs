//! Hostile and broken input: each gets the right Problem (and a writable answer), never a panic,
//! a hang, an expansion or a fetch. No timing assertions: correctness only.

use ncip_codec::{Message, ReadError, ReadErrorKind, ReadOptions, ServiceKind, error_response, peek, read, write};

const NS: &str = "http://www.niso.org/2008/ncip";

fn check_in(body_inside_service: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><NCIPMessage xmlns="{NS}" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"><CheckInItem><InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId><ToAgencyId><AgencyId>ALMA</AgencyId></ToAgencyId></InitiationHeader><ItemId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId>{body_inside_service}</CheckInItem></NCIPMessage>"#
    )
}

fn fail(bytes: &[u8]) -> ReadError {
    let err = read(bytes, &ReadOptions::default()).expect_err("hostile input must not parse");
    // Whatever went wrong, the answer is a well-formed NCIP message that reads back with the same problem.
    let answer = error_response(&err, None);
    let reread = read(&write(&answer), &ReadOptions::default()).expect("answer parses");
    assert_eq!(reread.problems(), [err.problem()]);
    err
}

fn assert_top_level_syntax_problem(err: &ReadError) {
    assert_eq!(err.service(), None, "{err}");
    assert_eq!(err.problem().type_name(), "Invalid Message Syntax Error", "{err}");
    assert!(matches!(error_response(err, None), Message::Problem(_)));
}

#[test]
fn malformed_xml_before_the_service_is_a_top_level_syntax_error() {
    let err = fail(b"<NCIPMessage><CheckInItem></NCIPMessage>");
    assert!(matches!(err.kind(), ReadErrorKind::Malformed { .. }), "{err}");
    let err = fail(b"<NCIPMessage xmlns='x' version='1'");
    assert_top_level_syntax_problem(&err);
    let err = fail(b"");
    assert_top_level_syntax_problem(&err);
}

#[test]
fn malformed_xml_inside_a_known_service_is_answered_in_that_service() {
    let doc = check_in("<ItemElementType>x</ItemElement>");
    let err = fail(doc.as_bytes());
    assert!(matches!(err.kind(), ReadErrorKind::Malformed { .. }), "{err}");
    assert_eq!(err.service(), Some(ServiceKind::CheckInItem));
    assert_eq!(err.problem().type_name(), "Invalid Message Syntax Error");
    // The header was read before the break, so the answer is addressed back to Relais.
    let Message::CheckInItemResponse(answer) = error_response(&err, None) else { panic!() };
    assert_eq!(answer.header.unwrap().to_agency_id.as_str(), "Relais");
}

#[test]
fn wrong_root_names_the_root() {
    let err = fail(b"<?xml version='1.0'?><soap:Envelope xmlns:soap='s'><CheckInItem/></soap:Envelope>");
    assert_top_level_syntax_problem(&err);
    assert_eq!(err.problem().element.as_deref(), Some("Envelope"));
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 { "lol".to_owned() } else { format!("lol{}", i - 1) };
        doc.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
    }
    doc.push_str("]>\n<NCIPMessage><LookupUser><UserId><UserIdentifierValue>&lol9;</UserIdentifierValue></UserId></LookupUser></NCIPMessage>");
    let err = fail(doc.as_bytes());
    assert_eq!(err.kind(), &ReadErrorKind::EntityDeclarations);
    assert_top_level_syntax_problem(&err);
}

#[test]
fn external_entity_is_never_fetched() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><NCIPMessage><LookupUser><UserId><UserIdentifierValue>&xxe;</UserIdentifierValue></UserId></LookupUser></NCIPMessage>"#;
    assert_eq!(fail(xxe.as_bytes()).kind(), &ReadErrorKind::EntityDeclarations);
    // An external DTD with an entity used in the body: the DTD is not read, so the entity is undeclared.
    let external_dtd = format!(
        r#"<?xml version="1.0"?><!DOCTYPE NCIPMessage SYSTEM "http://attacker.invalid/evil.dtd">{}"#,
        check_in("<ItemElementType>&evil;</ItemElementType>")
    );
    let err = fail(external_dtd.as_bytes());
    assert!(matches!(err.kind(), ReadErrorKind::UndeclaredEntity { .. }), "{err}");
    assert!(err.problem().detail.unwrap().contains("&evil;"));
}

#[test]
fn ten_mebibyte_body_is_refused_by_size() {
    let mut doc = check_in("").into_bytes();
    doc.extend(std::iter::repeat_n(b' ', 10 * 1024 * 1024));
    let err = fail(&doc);
    assert_eq!(err.kind(), &ReadErrorKind::TooLarge { size: doc.len(), limit: 256 * 1024 });
    assert_top_level_syntax_problem(&err);
}

#[test]
fn ten_thousand_deep_nesting_is_refused_by_depth() {
    let inner = "<a>".repeat(10_000) + &"</a>".repeat(10_000);
    let err = fail(check_in(&inner).as_bytes());
    assert_eq!(err.kind(), &ReadErrorKind::TooDeep { limit: 64 });
    assert_eq!(err.service(), Some(ServiceKind::CheckInItem), "the service was known");
    // Also before any service element.
    let bare = format!("<NCIPMessage>{}{}</NCIPMessage>", "<Deep>".repeat(10_000), "</Deep>".repeat(10_000));
    let err = fail(bare.as_bytes());
    assert_eq!(err.kind(), &ReadErrorKind::TooDeep { limit: 64 });
}

#[test]
fn element_flood_is_refused_by_count() {
    let flood = "<Ext/>".repeat(30_000);
    let err = fail(check_in(&flood).as_bytes());
    assert_eq!(err.kind(), &ReadErrorKind::TooManyElements { limit: 20_000 });
}

#[test]
fn invalid_utf8_without_latin1_declaration_is_an_encoding_problem() {
    let mut doc = check_in("").into_bytes();
    let at = doc.windows(2).position(|w| w == b"B1").unwrap();
    doc[at] = 0xFF;
    let err = fail(&doc);
    assert!(matches!(err.kind(), ReadErrorKind::Encoding { .. }), "{err}");
    assert_top_level_syntax_problem(&err);
}

#[test]
fn two_services_in_one_message_are_a_syntax_error() {
    let doc = format!(
        r#"<NCIPMessage xmlns="{NS}"><CheckInItem><ItemId><ItemIdentifierValue>1</ItemIdentifierValue></ItemId></CheckInItem><CheckOutItem/></NCIPMessage>"#
    );
    let err = fail(doc.as_bytes());
    assert_eq!(
        err.kind(),
        &ReadErrorKind::MultipleServices { first: "CheckInItem".into(), second: "CheckOutItem".into() }
    );
    assert_top_level_syntax_problem(&err);
    assert_eq!(err.problem().element.as_deref(), Some("CheckOutItem"));
}

#[test]
fn empty_ncip_message_has_no_service() {
    let err = fail(format!(r#"<NCIPMessage xmlns="{NS}"><Ext/></NCIPMessage>"#).as_bytes());
    assert_eq!(err.kind(), &ReadErrorKind::NoService);
    assert_top_level_syntax_problem(&err);
}

#[test]
fn content_after_the_root_is_refused() {
    let doc = check_in("") + "<NCIPMessage/>";
    assert!(matches!(fail(doc.as_bytes()).kind(), ReadErrorKind::Malformed { .. }));
}

#[test]
fn control_characters_and_bad_character_references_are_refused() {
    let err = fail(check_in("<ItemElementType>a\u{1}b</ItemElementType>").as_bytes());
    assert!(matches!(err.kind(), ReadErrorKind::Malformed { .. }), "{err}");
    let err = fail(check_in("<ItemElementType>&#0;</ItemElementType>").as_bytes());
    assert!(matches!(err.kind(), ReadErrorKind::UndeclaredEntity { .. }), "{err}");
    let err = fail(check_in("<ItemElementType>&#x1;</ItemElementType>").as_bytes());
    assert!(matches!(err.kind(), ReadErrorKind::UndeclaredEntity { .. }), "{err}");
}

#[test]
fn predefined_entities_and_character_references_are_resolved() {
    let doc = check_in("<ItemElementType>Tom &amp; Jerry &lt;3 &#x10D;&#225;</ItemElementType>");
    let Message::CheckInItem(m) = read(doc.as_bytes(), &ReadOptions::default()).unwrap() else { panic!() };
    assert_eq!(m.item_element_types[0].value, "Tom & Jerry <3 čá");
}

#[test]
fn limits_are_configurable() {
    let opts = ReadOptions { max_bytes: 100, ..ReadOptions::default() };
    let err = read(check_in("").as_bytes(), &opts).unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::TooLarge { limit: 100, .. }));
    let opts = ReadOptions { max_depth: 4, ..ReadOptions::default() };
    let err = read(check_in("").as_bytes(), &opts).unwrap_err();
    assert_eq!(err.kind(), &ReadErrorKind::TooDeep { limit: 4 });
}

#[test]
fn odd_service_element_names_are_never_echoed_as_markup() {
    // quick-xml accepts this start tag; its name must not become `<ns1:/x"Response>` in the answer.
    let doc = r#"<ns1:NCIPMessage xmlns:ns1="http://www.niso.org/2008/ncip"><ns1:/x"><a/></ns1:/x"></ns1:NCIPMessage>"#;
    let err = fail(doc.as_bytes());
    assert_top_level_syntax_problem(&err);
    let answer = ncip_codec::problem_response(ServiceKind::Other("x\"><y".into()), None, vec![err.problem()]);
    assert!(matches!(answer, Message::Problem(_)));
}

#[test]
fn multi_byte_character_inside_a_date_is_an_invalid_date_not_a_panic() {
    // Fuzzer finding: byte 10 of this value falls inside `Œ`; the date parser sliced there and panicked.
    let doc =
        check_in("<MandatedAction><DateEventOccurred>2015-03-1\u{152}7T01:00:00Z</DateEventOccurred></MandatedAction>");
    let err = fail(doc.as_bytes());
    assert_eq!(err.problem().type_name(), "Invalid Date", "{err}");
}

// The front door's peek must apply the size limit too, or an authenticated caller could make it scan a 10 MiB
// run of `Ext` elements in full. The size is the first check, before a byte is parsed: the error is TooLarge
// even though the document is well-formed and its service element comes first.
#[test]
fn peek_refuses_an_oversized_body_before_parsing_it() {
    let mut doc = check_in("");
    doc.insert_str(doc.len() - "</NCIPMessage>".len(), &"<Ext/>".repeat(10 * 1024 * 1024 / 6));
    let err = peek(doc.as_bytes(), &ReadOptions::default()).expect_err("10 MiB is over the limit");
    assert!(matches!(err.kind(), ReadErrorKind::TooLarge { limit: 262_144, .. }), "{err}");
    // A body that is not XML at all gets the same answer: nothing was parsed.
    let garbage = vec![b'<'; 10 * 1024 * 1024];
    let err = peek(&garbage, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::TooLarge { .. }), "{err}");
}

#[test]
fn peek_counts_elements_like_read() {
    let opts = ReadOptions { max_elements: 10, ..ReadOptions::default() };
    let doc = format!(
        r#"<NCIPMessage xmlns="{NS}">{}<CheckInItem/></NCIPMessage>"#,
        "<Ext><a/><a/><a/><a/><a/><a/><a/><a/><a/><a/></Ext>"
    );
    let err = peek(doc.as_bytes(), &opts).unwrap_err();
    assert_eq!(err.kind(), &ReadErrorKind::TooManyElements { limit: 10 });
}

// Attributes are counted before any is parsed, so refusing a root with a million of them costs little time or memory.
#[test]
fn an_element_with_too_many_attributes_is_refused_however_they_are_written() {
    let spaced: String = (0..40).map(|i| format!(" a{i}=\"\"")).collect();
    let packed: String = (0..40).map(|i| format!("a{i}=\"\"")).collect();
    for attributes in [spaced, format!(" {packed}")] {
        let doc = format!(r#"<NCIPMessage xmlns="{NS}"{attributes}><CheckInItem/></NCIPMessage>"#);
        let err = fail(doc.as_bytes());
        assert_eq!(err.kind(), &ReadErrorKind::TooManyAttributes { limit: 32 }, "{attributes}");
        let err = peek(doc.as_bytes(), &ReadOptions::default()).unwrap_err();
        assert_eq!(err.kind(), &ReadErrorKind::TooManyAttributes { limit: 32 });
    }
    // Deep inside the service too, where only skip() sees the element.
    let err = fail(check_in(&format!("<Ext><x{}/></Ext>", " b=''".repeat(33))).as_bytes());
    assert_eq!(err.kind(), &ReadErrorKind::TooManyAttributes { limit: 32 });
}

// CDATA gets the same control-character check as plain text: otherwise an ESC byte (a terminal escape) would
// be passed on to Alma.
#[test]
fn control_characters_inside_cdata_are_refused_like_plain_text() {
    let doc = check_in("<ItemElementType><![CDATA[a\u{1b}[31mb]]></ItemElementType>");
    let err = fail(doc.as_bytes());
    assert!(matches!(err.kind(), ReadErrorKind::Malformed { .. }), "{err}");
    let fine = check_in("<ItemElementType><![CDATA[Tom & Jerry]]></ItemElementType>");
    assert!(read(fine.as_bytes(), &ReadOptions::default()).is_ok());
}

// A repeated header element is refused: with two FromAgencyId elements the agency allow-list would check one
// while the other could be acted on.
#[test]
fn a_repeated_initiation_header_element_is_refused() {
    let doc = format!(
        r#"<NCIPMessage xmlns="{NS}"><CheckInItem><InitiationHeader><FromAgencyId><AgencyId>Evil</AgencyId></FromAgencyId><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId><ToAgencyId><AgencyId>ALMA</AgencyId></ToAgencyId></InitiationHeader><ItemId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>"#
    );
    let err = fail(doc.as_bytes());
    assert_eq!(err.problem().type_name(), "Element Rule Violated", "{err}");
    assert_eq!(err.service(), Some(ServiceKind::CheckInItem));
    let doc = doc.replace("<AgencyId>Evil</AgencyId></FromAgencyId><FromAgencyId>", "<AgencyId>Evil</AgencyId>");
    let err = fail(doc.as_bytes());
    assert_eq!(err.problem().type_name(), "Element Rule Violated", "{err}");
}
