//! NCIP messages as Relais sends them (default namespace, Relais agency, the Alma partner code as
//! ApplicationProfileType), built for each test's request ids and barcodes.

fn envelope(service_xml: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd">
{service_xml}
</NCIPMessage>"#
    )
}

const HEADER: &str = "<InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId><ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader>";

pub fn accept_item(request_id: &str, barcode: &str, patron: &str) -> String {
    envelope(&format!(
        "<AcceptItem>{HEADER}<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<RequestedActionType>Hold For Pickup</RequestedActionType>\
<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId>\
<DateForReturn>2027-01-31T23:59:59Z</DateForReturn>\
<ItemOptionalFields><BibliographicDescription><Author>Borrower, Bea</Author><Title>A Book From Afar</Title></BibliographicDescription></ItemOptionalFields>\
<PickupLocation>MAIN</PickupLocation></AcceptItem>"
    ))
}

pub fn check_in_item(barcode: &str) -> String {
    envelope(&format!(
        "<CheckInItem>{HEADER}<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId></CheckInItem>"
    ))
}

pub fn check_out_item(request_id: &str, barcode: &str, borrowing_library_patron: &str, due: &str) -> String {
    envelope(&format!(
        "<CheckOutItem>{HEADER}<UserId><UserIdentifierValue>{borrowing_library_patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId>\
<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<DesiredDateDue>{due}</DesiredDateDue></CheckOutItem>"
    ))
}

pub fn request_item(request_id: &str, patron: &str, title: &str) -> String {
    envelope(&format!(
        "<RequestItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<BibliographicId><BibliographicRecordId><BibliographicRecordIdentifier>OCLC-12345</BibliographicRecordIdentifier>\
<BibliographicRecordIdentifierCode>OCLC</BibliographicRecordIdentifierCode></BibliographicRecordId></BibliographicId>\
<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType><RequestScopeType>Bibliographic Item</RequestScopeType>\
<ItemOptionalFields><BibliographicDescription><Title>{title}</Title></BibliographicDescription></ItemOptionalFields>\
<PickupLocation>MAIN</PickupLocation></RequestItem>"
    ))
}

/// A partner's request for an item of ours (lending side): it names our barcode, and the UserId is the
/// borrowing library's patron.
pub fn request_item_for_our_item(request_id: &str, barcode: &str, partner_patron: &str) -> String {
    envelope(&format!(
        "<RequestItem>{HEADER}<UserId><UserIdentifierValue>{partner_patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId>\
<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType><RequestScopeType>Item</RequestScopeType></RequestItem>"
    ))
}

pub fn cancel_request_item(request_id: &str, patron: &str) -> String {
    envelope(&format!(
        "<CancelRequestItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<RequestId><RequestIdentifierValue>{request_id}</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType></CancelRequestItem>"
    ))
}

pub fn renew_item(barcode: &str, patron: &str, due: &str) -> String {
    envelope(&format!(
        "<RenewItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId><DesiredDateDue>{due}</DesiredDateDue></RenewItem>"
    ))
}

/// A renewal that leaves the new due date to Alma's policy (no DesiredDateDue).
pub fn renew_item_by_policy(barcode: &str, patron: &str) -> String {
    envelope(&format!(
        "<RenewItem>{HEADER}<UserId><UserIdentifierValue>{patron}</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId></RenewItem>"
    ))
}

pub fn lookup_item(barcode: &str) -> String {
    envelope(&format!(
        "<LookupItem>{HEADER}<ItemId><ItemIdentifierValue>{barcode}</ItemIdentifierValue></ItemId>\
<ItemElementType>Bibliographic Description</ItemElementType><ItemElementType>Circulation Status</ItemElementType></LookupItem>"
    ))
}

pub fn lookup_version() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?>
<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd">
<LookupVersion><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId><ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId></LookupVersion>
</NCIPMessage>"#
        .to_owned()
}
