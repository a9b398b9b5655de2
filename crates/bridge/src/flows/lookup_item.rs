//! LookupItem: an item's state, answered from Alma's REST API (Alma's NCIP responder does not offer it).

use super::ids;
use crate::alma::CallContext;
use crate::alma::model::AlmaItem;
use crate::flows::Bridge;
use crate::ncip::model::item::{BibliographicDescription, ItemOptionalFields, Location, LocationNameInstance};
use crate::ncip::{self, LookupItem, LookupItemResponse, Message, Problem, ResponseHeader, SchemeValue, ServiceKind};
use crate::store::{ItemBarcode, Outcome, RelaisRequestId};

pub(crate) async fn handle(bridge: &Bridge, message: LookupItem, ctx: &CallContext) -> Vec<u8> {
    let service = ServiceKind::LookupItem;
    let header = message.header.as_ref();
    let barcode = match barcode_of(bridge, &message).await {
        Ok(barcode) => barcode,
        Err(problem) => return ids::refuse_now(&service, header, problem),
    };
    match bridge.rest.item_by_barcode(&barcode, ctx).await {
        Ok(item) => {
            super::log_answer(&service, Outcome::Success);
            let answer = LookupItemResponse {
                header: header.map(ResponseHeader::answering),
                request_id: message.request_id.clone(),
                item_id: message.item_id.clone(),
                item_optional_fields: Some(optional_fields(&item)),
                ..LookupItemResponse::default()
            };
            ncip::write(&Message::LookupItemResponse(answer))
        }
        Err(err) if err.is_not_found() => ids::refuse_now(&service, header, Problem::unknown_item(&service, &barcode)),
        Err(err) => ids::refuse_now(
            &service,
            header,
            Problem::temporary_processing_failure(super::forward::temporary(&err).detail),
        ),
    }
}

/// The barcode to look up: the ItemId, or the barcode the store holds for the RequestId.
async fn barcode_of(bridge: &Bridge, message: &LookupItem) -> Result<String, Problem> {
    if let Some(item) = message.item_id.as_ref().filter(|i| !i.item_identifier_value.as_str().is_empty()) {
        return ItemBarcode::new(item.item_identifier_value.as_str())
            .map(|b| b.as_str().to_owned())
            .map_err(|e| Problem::element_rule_violated("LookupItem/ItemId/ItemIdentifierValue", "", e.to_string()));
    }
    let Some(request) = message.request_id.as_ref() else {
        return Err(Problem::needed_data_missing("LookupItem/ItemId", "LookupItem needs an ItemId or a RequestId"));
    };
    let value = request.request_identifier_value.as_str();
    let unknown = || Problem::unknown_request(&ServiceKind::LookupItem, value);
    let id = RelaisRequestId::new(value).map_err(|_| unknown())?;
    match bridge.store.get_request(&id).await {
        Ok(Some(record)) => record.item_barcodes.first().map(|b| b.as_str().to_owned()).ok_or_else(unknown),
        Ok(None) => Err(unknown()),
        Err(_) => Err(Problem::temporary_processing_failure("the bridge's store is unavailable")),
    }
}

/// Alma's item in NCIP terms: title and author, circulation status, library/location and due date.
fn optional_fields(item: &AlmaItem) -> ItemOptionalFields {
    let status = match (item.item_data.base_status.value.as_str(), item.item_data.process_type.value.as_str()) {
        ("1", _) => "Available On Shelf",
        (_, "LOAN") => "On Loan",
        (_, "TRANSIT" | "TRANSIT_TO_REMOTE_STORAGE") => "In Transit Between Library Locations",
        (_, "HOLDSHELF") => "Available For Pickup",
        (_, "MISSING" | "LOST_LOAN" | "LOST_ILL") => "Lost",
        _ => "Not Available",
    };
    let name = |level, value: &str| LocationNameInstance { level, value: value.to_owned() };
    let mut location_name = Vec::new();
    if !item.item_data.library.value.is_empty() {
        location_name.push(name(1, &item.item_data.library.value));
    }
    if !item.item_data.location.value.is_empty() {
        location_name.push(name(2, &item.item_data.location.value));
    }
    ItemOptionalFields {
        bibliographic_description: Some(BibliographicDescription {
            title: item.bib_data.title.clone(),
            author: item.bib_data.author.clone(),
            ..BibliographicDescription::default()
        }),
        // Circulation Status scheme values from the NCIP 2 implementation profile.
        circulation_status: Some(SchemeValue::new(status)),
        locations: if location_name.is_empty() {
            Vec::new()
        } else {
            vec![Location { location_type: SchemeValue::new("Permanent"), location_name, ..Location::default() }]
        },
        date_due: item.item_data.due_date.as_deref().and_then(|d| d.parse().ok()),
        ..ItemOptionalFields::default()
    }
}
