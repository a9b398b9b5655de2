//! The repository's own dialect fixtures (`tests/fixtures/ncip/dialects/`, written by us from documented
//! facts, ncip.md §4) read through the codec: every dialect the outside corpus exercises is covered with
//! nothing beside the checkout. The golden Alma messages (`tests/fixtures/ncip/alma/`) must read too.

use std::path::PathBuf;

use jiff::Timestamp;
use ncip_codec::{
    Message, NcipVersion, ReadErrorKind, ReadOptions, ServiceKind, VersionEnvelope, error_response, peek, read, write,
};

fn fixtures(folder: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ncip").join(folder)
}

fn bytes(name: &str) -> Vec<u8> {
    let path = fixtures("dialects").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn message(name: &str) -> Message {
    let m = read(&bytes(name), &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    // Whatever the dialect, what the codec writes reads back to the same value.
    assert_eq!(read(&write(&m), &ReadOptions::default()).unwrap(), m, "{name}: round trip");
    m
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn prefixed_default_and_absent_namespaces_read_alike() {
    let Message::LookupUser(m) = message("prefixed-namespace-lookup-user.xml") else { panic!() };
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "21000000001");
    assert_eq!(m.header.unwrap().application_profile_type.unwrap().value, "RELAIS");
    let Message::CheckOutItem(m) = message("default-namespace-check-out-item.xml") else { panic!() };
    assert_eq!(m.item_id.item_identifier_value.as_str(), "39000000003");
    let Message::RequestItem(m) = message("no-namespace-request-item.xml") else { panic!() };
    assert_eq!(m.request_id.unwrap().request_identifier_value.as_str(), "RLS-NONS-1");
    assert_eq!(m.request_scope_type.value, "Bibliographic Item");
}

#[test]
fn ncip1_habits_inside_ncip2_are_read_and_a_real_ncip1_message_gets_the_version_problem() {
    let Message::AcceptItem(m) = message("ncip1-habits-accept-item.xml") else { panic!() };
    assert_eq!(m.requested_action_type.value, "Hold For Pickup");
    let agency = m.request_id.agency_id.unwrap();
    assert_eq!((agency.as_str(), agency.scheme.as_deref()), ("01DEMO_INST", Some("http://example.org/agencies.scm")));

    let v1 = bytes("ncip1-message-lookup-user.xml");
    assert_eq!(peek(&v1, &ReadOptions::default()).unwrap().version, NcipVersion::V1);
    let err = read(&v1, &ReadOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ReadErrorKind::Version1 { .. }), "{err}");
    assert!(matches!(error_response(&err, None), Message::LookupUserResponse(_)), "answered as its service");
}

fn title_and_author(m: &Message) -> (String, String) {
    let Message::AcceptItem(m) = m else { panic!("{m:?}") };
    let bib = m.item_optional_fields.as_ref().unwrap().bibliographic_description.as_ref().unwrap();
    (bib.title.clone().unwrap(), bib.author.clone().unwrap())
}

#[test]
fn a_declared_encoding_is_honoured_and_an_encoding_lie_is_caught() {
    let latin1 = bytes("declared-iso-8859-1-accept-item.xml");
    assert!(std::str::from_utf8(&latin1).is_err(), "the fixture really is Latin-1");
    let m = message("declared-iso-8859-1-accept-item.xml");
    assert_eq!(title_and_author(&m), ("Über Bücher and Cafés".into(), "Müller, Jürgen".into()));
    let m = message("encoding-lie-cp1252-declared-utf8-accept-item.xml");
    assert_eq!(title_and_author(&m), ("Příběhy z Brna".into(), "Dvořák, Antonín".into()));
}

#[test]
fn padded_identifiers_are_trimmed_and_the_original_text_is_kept() {
    let Message::CheckInItem(m) = message("padded-identifiers-check-in-item.xml") else { panic!() };
    assert_eq!(m.item_id.item_identifier_value.as_str(), "39000000004");
    let header = m.header.unwrap();
    assert_eq!(header.to_agency_id.as_str(), "01DEMO_INST");
    assert_eq!(header.from_agency_id.as_str(), "Relais");
    // Scheme values are kept as sent (echoed back unchanged); comparisons trim them.
    assert_eq!(m.item_element_types[0].value.trim(), "Bibliographic Description");
}

#[test]
fn ext_blocks_in_another_namespace_do_not_stop_the_read() {
    let Message::LookupUser(m) = message("ext-block-lookup-user.xml") else { panic!() };
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "21000000002");
    assert_eq!(m.user_element_types.len(), 1);
}

#[test]
fn fractional_zoned_and_zoneless_dates_are_instants() {
    let Message::RenewItem(m) = message("fractional-date-renew-item.xml") else { panic!() };
    assert_eq!(m.desired_date_due, Some(ts("2031-05-20T16:17:03.291Z")));
    let Message::CheckOutItem(m) = message("zoned-date-check-out-item.xml") else { panic!() };
    assert_eq!(m.desired_date_due, Some(ts("2031-03-15T12:59:00Z")), "+11:00 is honoured");
    // Zone-less: read in the configured zone (UTC by default, the library's zone when set).
    let Message::AcceptItem(m) = message("zoneless-date-accept-item.xml") else { panic!() };
    assert_eq!(m.date_for_return.and_then(|d| d.date()), Some(ts("2031-03-15T23:59:00Z")));
    let sydney = ReadOptions { time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(11)), ..Default::default() };
    let Ok(Message::AcceptItem(m)) = read(&bytes("zoneless-date-accept-item.xml"), &sydney) else { panic!() };
    assert_eq!(m.date_for_return.and_then(|d| d.date()), Some(ts("2031-03-15T12:59:00Z")));
}

#[test]
fn lookup_version_is_read_in_both_roots() {
    for (file, envelope) in [
        ("lookup-version-ncip-version-message.xml", VersionEnvelope::NcipVersionMessage),
        ("lookup-version-in-ncip-message.xml", VersionEnvelope::NcipMessage),
    ] {
        let Message::LookupVersion(v) = message(file) else { panic!("{file}") };
        assert_eq!(v.envelope, envelope, "{file}");
        assert_eq!(v.from_agency_id.unwrap().as_str(), "Relais", "{file}");
    }
}

#[test]
fn negative_cases_get_the_precise_problem() {
    let cases = [
        (
            "negative-empty-from-agency-cancel-request-item.xml",
            "Needed Data Missing",
            Some(ServiceKind::CancelRequestItem),
        ),
        ("negative-unsupported-service-delete-item.xml", "Unsupported Service", None),
        ("negative-truncated-accept-item.xml", "Invalid Message Syntax Error", Some(ServiceKind::AcceptItem)),
        ("negative-wrong-root.xml", "Invalid Message Syntax Error", None),
        ("negative-empty-user-id-lookup-user.xml", "Needed Data Missing", Some(ServiceKind::LookupUser)),
    ];
    for (file, problem_type, service) in cases {
        let err = read(&bytes(file), &ReadOptions::default()).expect_err(file);
        assert_eq!(err.problem().type_name(), problem_type, "{file}: {err}");
        if let Some(service) = service {
            assert_eq!(err.service(), Some(service), "{file}");
        }
        // Always an NCIP answer that itself reads.
        let answer = write(&error_response(&err, None));
        read(&answer, &ReadOptions::default()).unwrap_or_else(|e| panic!("{file}: answer unreadable: {e}"));
    }
}

#[test]
fn every_fixture_is_covered_here_and_every_golden_alma_message_reads() {
    let names = |folder: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(fixtures(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".xml"))
            .collect();
        names.sort();
        names
    };
    let this_file = include_str!("dialects.rs");
    for name in names("dialects") {
        assert!(this_file.contains(&format!("\"{name}\"")), "{name} has no test in dialects.rs");
    }
    let alma = names("alma");
    assert!(alma.len() >= 6, "{alma:?}");
    // The near-misses are for the simulator; one (no ToAgencyId) is already refused by the reader.
    for name in alma.into_iter().filter(|n| !n.starts_with("near-miss-")) {
        let path = fixtures("alma").join(&name);
        read(&std::fs::read(&path).unwrap(), &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
