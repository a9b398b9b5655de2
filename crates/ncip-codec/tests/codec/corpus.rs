//! Every file of `shared/ncip-corpus` does what the corpus README says: NCIP 2 files parse into the
//! service they name and round-trip; NCIP 1 files are recognised and refused with a version Problem;
//! NEGATIVE files get the precise Problem; `DeleteItem` gets Unsupported Service. A file added to the
//! corpus is picked up without code changes (it must then parse, or be listed as an expected failure).

use ncip_codec::model::user::{Address, NameInformation, PhysicalAddressForm};
use ncip_codec::{
    LookupVersionResponse, Message, NcipVersion, ReadErrorKind, ReadOptions, ServiceKind, VersionEnvelope,
    error_response, peek, read, write,
};

use crate::common;

/// Files that must NOT parse, with the Problem each must produce: (file, ProblemType, ProblemElement, ProblemValue).
const EXPECTED_PROBLEMS: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    (
        "mod-ncip-CancelRequestItem-empty-FromAgency.xml",
        "Needed Data Missing",
        Some("InitiationHeader/FromAgencyId/AgencyId"),
        Some(""),
    ),
    (
        "mod-ncip-RequestItem-empty-BibRecordIdentifier.xml",
        "Needed Data Missing",
        Some("BibliographicId/BibliographicRecordId/BibliographicRecordIdentifier"),
        Some(""),
    ),
    ("mod-ncip-DeleteItem-ns1.xml", "Unsupported Service", Some("DeleteItem"), None),
];

/// The corpus README's NCIP 1.0 marker: `*-v1-*` files with `UniqueAgencyId` (the Koha "hybrid-v1-schemes"
/// file is NCIP 2 with NCIP 1 habits and must parse).
fn is_v1(name: &str, bytes: &[u8]) -> bool {
    name.contains("-v1-") && bytes.windows(14).any(|w| w == b"UniqueAgencyId")
}

fn element_name(msg: &Message) -> String {
    match msg {
        Message::Problem(_) => "Problem".to_owned(),
        m if m.is_response() => format!("{}Response", m.service()),
        m => m.service().to_string(),
    }
}

#[test]
fn every_ncip2_file_parses_into_the_service_it_names_and_round_trips() {
    let Some(files) = common::corpus_files() else { return };
    let opts = ReadOptions::default();
    let mut parsed = 0;
    for (name, bytes) in files {
        if is_v1(&name, &bytes) || EXPECTED_PROBLEMS.iter().any(|(f, ..)| *f == name) {
            continue;
        }
        let msg = read(&bytes, &opts).unwrap_or_else(|e| panic!("{name}: {e} / {:?}", e.problem()));
        let element = element_name(&msg);
        // File names carry the service element (`...-AcceptItemResponse-...`, `...-Problem-toplevel-...`).
        let named = name.split(['-', '.']).any(|part| part == element);
        assert!(named, "{name} parsed as {element}");
        let p = peek(&bytes, &ncip_codec::ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: peek {e}"));
        assert_eq!(p.version, NcipVersion::V2, "{name}");
        assert_eq!(p.is_response, msg.is_response(), "{name}");
        assert_eq!(p.service, msg.service(), "{name}");

        let written = write(&msg);
        let again = read(&written, &opts).unwrap_or_else(|e| {
            panic!("{name}: written form does not parse: {e}\n{}", String::from_utf8_lossy(&written))
        });
        assert_eq!(again, msg, "{name}: round trip changed the value");
        assert_eq!(write(&again), written, "{name}: writing is not deterministic");
        parsed += 1;
    }
    assert!(parsed >= 49, "only {parsed} files parsed");
}

#[test]
fn ncip1_files_are_recognised_and_answered_with_version_not_supported() {
    let Some(files) = common::corpus_files() else { return };
    let mut seen = 0;
    for (name, bytes) in files.into_iter().filter(|(n, b)| is_v1(n, b)) {
        assert_eq!(peek(&bytes, &ncip_codec::ReadOptions::default()).unwrap().version, NcipVersion::V1, "{name}");
        let err = read(&bytes, &ReadOptions::default()).expect_err(&name);
        assert!(matches!(err.kind(), ReadErrorKind::Version1 { .. }), "{name}: {err}");
        let problem = err.problem();
        assert!(problem.detail.as_deref().unwrap().contains("version 1.0 is not supported"), "{name}");
        // The answer is an NCIP 2 message (never a crash or a non-NCIP body) that itself parses.
        let answer = error_response(&err, None);
        assert_eq!(answer.problems(), [problem], "{name}");
        read(&write(&answer), &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: answer unreadable: {e}"));
        if !peek(&bytes, &ncip_codec::ReadOptions::default()).unwrap().is_response {
            assert!(!matches!(answer, Message::Problem(_)), "{name}: a v1 request gets its service's response");
        }
        seen += 1;
    }
    assert_eq!(seen, 3);
}

#[test]
fn negative_files_get_the_precise_problem() {
    let Some(files) = common::corpus_files() else { return };
    for (file, problem_type, element, value) in EXPECTED_PROBLEMS {
        let (_, bytes) = files.iter().find(|(n, _)| n == file).unwrap_or_else(|| panic!("{file} missing"));
        let err = read(bytes, &ReadOptions::default()).expect_err(file);
        let problem = err.problem();
        assert_eq!(problem.type_name(), *problem_type, "{file}: {err}");
        assert_eq!(problem.element.as_deref(), *element, "{file}");
        assert_eq!(problem.value.as_deref(), *value, "{file}");
        // Service-level answer, addressed back to the sender when the header was readable.
        let answer = error_response(&err, None);
        assert_eq!(Some(answer.service()), err.service(), "{file}");
        let reread = read(&write(&answer), &ReadOptions::default()).unwrap();
        assert_eq!(reread.problems(), [problem], "{file}");
    }
}

#[test]
fn delete_item_is_answered_with_delete_item_response_unsupported_service() {
    let Some(files) = common::corpus_files() else { return };
    let (_, bytes) = files.into_iter().find(|(n, _)| n == "mod-ncip-DeleteItem-ns1.xml").unwrap();
    let err = read(&bytes, &ReadOptions::default()).unwrap_err();
    assert_eq!(err.service(), Some(ServiceKind::Other("DeleteItem".into())));
    let answer = String::from_utf8(write(&error_response(&err, None))).unwrap();
    assert!(answer.contains("<ns1:DeleteItemResponse><ns1:ResponseHeader>"), "{answer}");
    // Header From/To swapped from the request's (From Relais, To Lehigh University).
    assert!(answer.contains(
        "<ns1:FromAgencyId><ns1:AgencyId>Lehigh University</ns1:AgencyId></ns1:FromAgencyId>\
         <ns1:ToAgencyId><ns1:AgencyId>Relais</ns1:AgencyId></ns1:ToAgencyId>"
    ));
    assert!(answer.contains(">Unsupported Service</ns1:ProblemType>"));
}

fn corpus_message(files: &[(String, Vec<u8>)], file: &str) -> Message {
    let (_, bytes) = files.iter().find(|(n, _)| n == file).unwrap();
    read(bytes, &ReadOptions::default()).unwrap()
}

#[test]
fn declared_cp1252_file_holding_utf8_yields_the_czech_text() {
    let Some(files) = common::corpus_files() else { return };
    let Message::LookupUserResponse(m) =
        corpus_message(&files, "NCIP2-Toolkit-LookupUserResponse-declared-cp1252-actually-utf8.xml")
    else {
        panic!("not a LookupUserResponse")
    };
    let fields = m.user_optional_fields.unwrap();
    let Some(NameInformation::Personal(person)) = fields.name_information else { panic!("no personal name") };
    assert_eq!(person.structured.unwrap().surname, "Němec");
    let Some(Address::Physical(address)) = &fields.user_address_informations[0].address else { panic!() };
    let PhysicalAddressForm::Structured(s) = &address.form else { panic!() };
    assert_eq!(s.district.as_deref(), Some("Zlín"));
    assert_eq!(s.country.as_deref(), Some("Česká republika"));
    let details = &m.user_fiscal_accounts[0].account_details;
    let description =
        details[2].fiscal_transaction_information.as_ref().unwrap().fiscal_transaction_description.as_deref();
    assert_eq!(description, Some("Platba v hotovosti na pokladně"));
    assert_eq!(m.requested_items.len(), 15);
}

#[test]
fn padded_identifiers_are_matched_trimmed_and_echoed_as_received() {
    let Some(files) = common::corpus_files() else { return };
    let Message::LookupUserResponse(m) = corpus_message(&files, "lib-ncip-client-LookupUserResponse-padded-values.xml")
    else {
        panic!()
    };
    let agency = m.user_id.unwrap().agency_id.unwrap();
    assert_eq!(agency.as_str(), "g");
    assert_eq!(agency.id.original(), "g    ");
    let written =
        String::from_utf8(write(&corpus_message(&files, "lib-ncip-client-LookupUserResponse-padded-values.xml")))
            .unwrap();
    assert!(written.contains("<ns1:AgencyId>g    </ns1:AgencyId>"));
}

#[test]
fn relais_accept_item_carries_what_alma_needs() {
    let Some(files) = common::corpus_files() else { return };
    let Message::AcceptItem(m) = corpus_message(&files, "mod-ncip-relais-AcceptItem.xml") else { panic!() };
    assert_eq!(m.header.as_ref().unwrap().from_agency_id.as_str(), "Relais");
    assert_eq!(m.request_id.request_identifier_value.as_str(), "LEH-20191122954");
    assert_eq!(m.item_id.unwrap().item_identifier_value.as_str(), "LEH-20191122954");
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "8377630");
    assert_eq!(m.requested_action_type.value, "Hold For Pickup");
    assert_eq!(m.pickup_location.unwrap().value, "FAIRCHILD");
    let bib = m.item_optional_fields.unwrap().bibliographic_description.unwrap();
    assert_eq!((bib.title.as_deref(), bib.author.as_deref()), (Some("Friday TEST"), Some("Author")));
}

#[test]
fn hybrid_ncip1_scheme_value_children_are_read_inside_ncip2() {
    let Some(files) = common::corpus_files() else { return };
    let Message::AcceptItem(m) = corpus_message(&files, "ncip-server-AcceptItem-hybrid-v1-schemes.xml") else {
        panic!()
    };
    let bib = m.item_optional_fields.unwrap().bibliographic_description.unwrap();
    let code = bib.bibliographic_item_id.unwrap().code.unwrap();
    assert_eq!(code.value, "ISBN");
    assert!(code.scheme.unwrap().ends_with("bibliographicitemidentifiercode.scm"));
    assert_eq!(bib.medium_type.unwrap().value, "Book");
}

#[test]
fn malformed_root_sample_is_read_leniently_with_its_fiscal_information() {
    let Some(files) = common::corpus_files() else { return };
    let Message::AcceptItem(m) = corpus_message(&files, "mod-ncip-AcceptItem-malformed-root-FiscalTransaction.xml")
    else {
        panic!()
    };
    let fiscal = m.fiscal_transaction_information.unwrap();
    assert_eq!(fiscal.fiscal_action_type.unwrap().value, "charge-default-patron-fee");
    let amount = fiscal.amount.unwrap();
    assert_eq!((amount.currency_code, amount.monetary_value), (None, 0));
}

#[test]
fn lookup_version_is_answered_in_the_root_it_came_in() {
    let Some(files) = common::corpus_files() else { return };
    for (file, envelope) in [
        ("circill-toolkit-LookupVersion.xml", VersionEnvelope::NcipVersionMessage),
        ("ncip-server-LookupVersion-in-NCIPMessage.xml", VersionEnvelope::NcipMessage),
    ] {
        let Message::LookupVersion(request) = corpus_message(&files, file) else { panic!("{file}") };
        assert_eq!(request.envelope, envelope, "{file}");
        let answer = Message::LookupVersionResponse(LookupVersionResponse::answering(
            &request,
            vec!["http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd".into()],
            vec!["LookupVersion".into(), "LookupUser".into(), "AcceptItem".into()],
        ));
        let bytes = write(&answer);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let root =
            if envelope == VersionEnvelope::NcipVersionMessage { "<NCIPVersionMessage" } else { "<ns1:NCIPMessage" };
        assert!(text.contains(root), "{file}: {text}");
        assert_eq!(read(&bytes, &ReadOptions::default()).unwrap(), answer, "{file}");
    }
    let Message::LookupVersion(v) = corpus_message(&files, "circill-toolkit-LookupVersion.xml") else { panic!() };
    let from = v.from_agency_id.unwrap();
    assert_eq!(from.as_str(), "UofC");
    assert_eq!(from.scheme.as_deref(), Some("http://www.oclc.org/ncip/schemes/agencyids.scm"));
}

#[test]
fn wms_ext_block_is_skipped() {
    let Some(files) = common::corpus_files() else { return };
    let Message::LookupUser(m) = corpus_message(&files, "circill-toolkit-LookupUser-WMS-Ext.xml") else { panic!() };
    assert!(m.loaned_items_desired && m.requested_items_desired && m.user_fiscal_account_desired);
    assert_eq!(m.user_id.unwrap().user_identifier_value.as_str(), "12093123");
}

#[test]
fn fractional_and_zoned_dates_survive() {
    let Some(files) = common::corpus_files() else { return };
    let Message::AcceptItem(m) = corpus_message(&files, "NCIP2-Toolkit-AcceptItem.xml") else { panic!() };
    assert_eq!(m.date_for_return.unwrap().date().unwrap().to_string(), "2010-11-20T00:00:00.329Z");
}
