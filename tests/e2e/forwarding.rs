//! What Alma receives is what Relais sent: the bridge changes only the header values it is configured to set
//! (ToAgencyId = the institution, ApplicationProfileType = the partner code), the patron identifier (and its
//! type) translated for Alma, and Relais's agency code inside the item's and our patron's identifiers, and
//! otherwise passes every element, its order, extensions and date texts through. Checked byte for byte through a recording proxy
//! in front of the simulator's NCIP responder.

use crate::support;

use crate::support::{Harness, StoreKind};

/// An AcceptItem the way a Relais site may send it: its own agency codes in the header, a zone-less date
/// (read in the library's time zone), an extension and shipping details the bridge does not model.
fn accept_item_as_relais_sends_it(to_agency: &str, profile: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ns1:NCIPMessage xmlns:ns1="http://www.niso.org/2008/ncip" ns1:version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd">
  <ns1:AcceptItem>
    <ns1:InitiationHeader>
      <ns1:FromAgencyId><ns1:AgencyId>Relais</ns1:AgencyId></ns1:FromAgencyId>
      <ns1:ToAgencyId><ns1:AgencyId>{to_agency}</ns1:AgencyId></ns1:ToAgencyId>
      <ns1:ApplicationProfileType>{profile}</ns1:ApplicationProfileType>
    </ns1:InitiationHeader>
    <ns1:RequestId><ns1:RequestIdentifierValue>RLS-FWD-1</ns1:RequestIdentifierValue></ns1:RequestId>
    <ns1:RequestedActionType>Hold For Pickup</ns1:RequestedActionType>
    <ns1:UserId><ns1:UserIdentifierValue>21000000001</ns1:UserIdentifierValue></ns1:UserId>
    <ns1:ItemId><ns1:ItemIdentifierValue>RLS-FWD-ITEM-1</ns1:ItemIdentifierValue></ns1:ItemId>
    <ns1:DateForReturn>2027-03-15T23:59:00</ns1:DateForReturn>
    <ns1:ItemOptionalFields><ns1:BibliographicDescription><ns1:Author>Ng, Ana</ns1:Author><ns1:Title>Tides &amp; Moons</ns1:Title></ns1:BibliographicDescription></ns1:ItemOptionalFields>
    <ns1:ShippingInformation><ns1:ShippingInstructions>Fragile</ns1:ShippingInstructions></ns1:ShippingInformation>
    <ns1:PickupLocation>MAIN</ns1:PickupLocation>
    <ns1:Ext><loc:Note xmlns:loc="urn:example:relais">kept as sent</loc:Note></ns1:Ext>
  </ns1:AcceptItem>
</ns1:NCIPMessage>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alma_receives_relais_bytes_with_only_the_configured_header_values_changed() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    let sent = accept_item_as_relais_sends_it("RELAIS_AGENCY_SYMBOL", "RELAIS");
    let answer = h.ncip(&sent).await;
    assert!(!answer.contains("Problem"), "{answer}");
    let received = recorder.received();
    assert_eq!(received.len(), 1, "one message reached Alma");
    // The institution code replaces Relais's own agency symbol; nothing else differs, byte for byte.
    assert_eq!(received[0], accept_item_as_relais_sends_it("01DEMO_INST", "RELAIS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latin1_message_with_a_zoned_date_reaches_alma_as_utf8_and_says_so() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    let text = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n\
<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\" version=\"http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd\">\
<AcceptItem><InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId><ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader>\
<RequestId><RequestIdentifierValue>RLS-FWD-2</RequestIdentifierValue></RequestId>\
<RequestedActionType>Hold For Pickup</RequestedActionType><UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>RLS-FWD-ITEM-2</ItemIdentifierValue></ItemId>\
<DateForReturn>2027-03-15T23:59:00.000+11:00</DateForReturn>\
<ItemOptionalFields><BibliographicDescription><Title>Gödel, Escher, Bach</Title></BibliographicDescription></ItemOptionalFields>\
</AcceptItem></NCIPMessage>";
    let (latin1, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    let answer = h
        .http
        .post(h.bridge.url(&format!("/ncip/{}", support::NCIP_TOKEN)))
        .header("content-type", "application/xml")
        .body(latin1.into_owned())
        .send()
        .await
        .expect("bridge answers")
        .text()
        .await
        .expect("body");
    assert!(!answer.contains("Problem"), "{answer}");
    let received = recorder.received();
    assert_eq!(received[0], text.replace("encoding=\"ISO-8859-1\"", "encoding=\"UTF-8\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_without_a_header_reaches_alma_with_the_partner_header_and_nothing_else_added() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    let body = |header: &str| {
        format!(
            "<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\" version=\"http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd\">\
<RequestItem>{header}<UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
<BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>OCLC-777</BibliographicRecordIdentifier>\
<BibliographicRecordIdentifierCode>OCLC</BibliographicRecordIdentifierCode></BibliographicRecordId></BibliographicId>\
<RequestId><RequestIdentifierValue>RLS-FWD-3</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType><RequestScopeType>Bibliographic Item</RequestScopeType></RequestItem></NCIPMessage>"
        )
    };
    h.ncip(&body("")).await;
    let header = "<InitiationHeader><FromAgencyId><AgencyId>RELAIS</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId><ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader>";
    assert_eq!(recorder.received(), [body(header)]);
}

/// The demo partner matches patrons by barcode; Relais may name them by whatever LookupUser answered or the
/// patron typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patron_named_by_another_identifier_reaches_alma_as_the_partners_match_point() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    for (request, item, named_as) in [("RLS-ID-1", "RLS-ID-ITEM-1", "patron1"), ("RLS-ID-2", "RLS-ID-ITEM-2", "U1001")]
    {
        let answer = h.ncip(&support::messages::accept_item(request, item, named_as)).await;
        assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{named_as}: {answer}");
        let sent = recorder.received().pop().expect("forwarded");
        assert!(sent.contains("<UserIdentifierValue>21000000001</UserIdentifierValue>"), "{sent}");
        assert!(!sent.contains(named_as), "only the identifier changed: {sent}");
    }
    // Already the barcode: passed through untouched.
    let sent = support::messages::accept_item("RLS-ID-3", "RLS-ID-ITEM-3", "21000000001");
    h.ncip(&sent).await;
    assert_eq!(recorder.received().pop().expect("forwarded"), sent);
}

/// A translation is kept a few minutes: the patron's next message (a resend, a second item) is forwarded
/// with the same identifier and reads the user only once; an unknown patron is asked about every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patrons_translation_is_read_once_for_messages_minutes_apart() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    let user_reads = |id: &str| h.sim.calls().iter().filter(|c| c.path.ends_with(&format!("/users/{id}"))).count();
    for (request, item) in [("RLS-TTL-1", "RLS-TTL-ITEM-1"), ("RLS-TTL-2", "RLS-TTL-ITEM-2")] {
        let answer = h.ncip(&support::messages::accept_item(request, item, "U1001")).await;
        assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
        let sent = recorder.received().pop().expect("forwarded");
        assert!(sent.contains("<UserIdentifierValue>21000000001</UserIdentifierValue>"), "{sent}");
    }
    assert_eq!(user_reads("U1001"), 1, "the second message used the kept translation");
    for request in ["RLS-TTL-3", "RLS-TTL-4"] {
        h.ncip(&support::messages::accept_item(request, "RLS-TTL-ITEM-3", "NOBODY-43")).await;
    }
    assert_eq!(user_reads("NOBODY-43"), 2, "an unknown patron is not remembered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patron_alma_does_not_know_in_any_form_is_unknown_user_without_a_forward() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    let answer = h.ncip(&support::messages::accept_item("RLS-ID-4", "RLS-ID-ITEM-4", "NOBODY-42")).await;
    assert!(answer.contains("Unknown User") && answer.contains("NOBODY-42"), "{answer}");
    assert!(recorder.received().is_empty(), "nothing reached Alma's NCIP responder");
    // Nothing happened, so a corrected resend acts.
    let answer = h.ncip(&support::messages::accept_item("RLS-ID-4", "RLS-ID-ITEM-4", "patron1")).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "{answer}");
}

/// Whatever the partner matches, the identifier LookupUser answered works in AcceptItem, and so does each of
/// the patron's other identifiers (demo patron1: primary id `patron1`, barcode `21000000001`, university id
/// `U1001`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_then_accept_item_works_whatever_identifier_type_the_partner_matches() {
    use crate::support::lookup::{Lookup, demo_seed_matching};
    for (id_type, kept) in [("BARCODE", "21000000001"), ("PRIMARY_ID", "patron1"), ("UNIV_ID", "U1001")] {
        let h = Harness::start_seeded(demo_seed_matching(id_type), &[]).await;
        let answer = h.ncip(&Lookup::user("21000000001").xml()).await;
        let returned = answer
            .split("<ns1:UserIdentifierValue>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap_or_else(|| panic!("{id_type}: a UserId in {answer}"));
        assert_eq!(returned, kept, "{id_type}: LookupUser answers the identifier Alma matches");
        for (n, named_as) in [returned, "patron1", "21000000001", "U1001"].into_iter().enumerate() {
            let request = format!("RLS-{id_type}-{n}");
            let answer = h.ncip(&support::messages::accept_item(&request, &format!("{request}-ITEM"), named_as)).await;
            assert!(!answer.contains("Problem"), "{id_type}, patron named {named_as}: {answer}");
        }
        assert_eq!(h.sim.state().items_with_barcode(&format!("RLS-{id_type}-0-ITEM")), 1);
    }
}

/// Relais writes its own agency code inside the identifiers; Alma's items and patrons are the institution's.
/// The item's AgencyId and, on the borrowing side, the patron's become the institution code in place; the
/// request number's stays Relais's, and so does the partner's patron on the lending side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_codes_inside_identifiers_reach_alma_as_the_institution_code() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    let accept = |user_agency: &str, item_agency: &str| {
        accept_item_as_relais_sends_it("01DEMO_INST", "RELAIS")
            .replace(
                "<ns1:UserId><ns1:UserIdentifierValue>",
                &format!("<ns1:UserId><ns1:AgencyId>{user_agency}</ns1:AgencyId><ns1:UserIdentifierValue>"),
            )
            .replace(
                "<ns1:ItemId><ns1:ItemIdentifierValue>",
                &format!("<ns1:ItemId><ns1:AgencyId>{item_agency}</ns1:AgencyId><ns1:ItemIdentifierValue>"),
            )
            .replace("<ns1:RequestId>", "<ns1:RequestId><ns1:AgencyId>Relais</ns1:AgencyId>")
    };
    let answer = h.ncip(&accept("LEH", "PUL")).await;
    assert!(!answer.contains("Problem"), "{answer}");
    assert_eq!(recorder.received(), [accept("01DEMO_INST", "01DEMO_INST")], "only the two AgencyIds changed");

    let ship = support::messages::check_out_item("RLS-FWD-4", "39000000002", "PUL-ILL", "2027-02-28T23:59:59Z")
        .replace("<UserId>", "<UserId><AgencyId>PUL</AgencyId>")
        .replace("<ItemId>", "<ItemId><AgencyId>LEH</AgencyId>");
    let answer = h.ncip(&ship).await;
    assert!(!answer.contains("Problem"), "{answer}");
    let sent = recorder.received().pop().expect("forwarded");
    assert_eq!(sent, ship.replace("<AgencyId>LEH</AgencyId>", "<AgencyId>01DEMO_INST</AgencyId>"));
}

/// The demo partner matches barcodes. A patron's other identifier, sent under a type naming it, reaches Alma
/// as the barcode typed `Barcode`: a UserId typed Barcode always carries a barcode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_translated_identifiers_type_follows_its_value() {
    let (h, recorder) = Harness::start_recording(StoreKind::Embedded).await;
    for (n, (sent_type, named_as)) in [("Barcode", "U1001"), ("User Id", "patron1")].into_iter().enumerate() {
        let request = format!("RLS-TYPE-{n}");
        let sent = support::messages::accept_item(&request, &format!("{request}-ITEM"), named_as).replace(
            "<UserId><UserIdentifierValue>",
            &format!("<UserId><UserIdentifierType>{sent_type}</UserIdentifierType><UserIdentifierValue>"),
        );
        let answer = h.ncip(&sent).await;
        assert!(!answer.contains("Problem"), "{sent_type} {named_as}: {answer}");
        let forwarded = recorder.received().pop().expect("forwarded");
        let expected = "<UserId><UserIdentifierType>Barcode</UserIdentifierType>\
<UserIdentifierValue>21000000001</UserIdentifierValue></UserId>";
        assert!(forwarded.contains(expected), "{sent_type} {named_as}: {forwarded}");
    }
    // Relais's own label for the id it keys the patron by stays, whatever the value becomes.
    let sent = support::messages::accept_item("RLS-TYPE-2", "RLS-TYPE-2-ITEM", "patron1").replace(
        "<UserId><UserIdentifierValue>",
        "<UserId><UserIdentifierType>Primary Key</UserIdentifierType><UserIdentifierValue>",
    );
    h.ncip(&sent).await;
    let forwarded = recorder.received().pop().expect("forwarded");
    assert!(
        forwarded.contains("<UserIdentifierType>Primary Key</UserIdentifierType><UserIdentifierValue>21000000001<")
    );
}
