//! Readers for `ItemOptionalFields` and the bibliographic structures inside it.

use super::common::{agency_id, checked_identifier_text, required_element};
use super::cursor::{Child, Cursor, Result};
use crate::model::item::{
    BibliographicDescription, BibliographicId, BibliographicItemId, BibliographicRecordId, ItemDescription,
    ItemOptionalFields, Location, LocationNameInstance, RecordIdSource,
};

/// `BibliographicItemId`.
pub(crate) fn bibliographic_item_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<BibliographicItemId> {
    let mut id = BibliographicItemId::default();
    let mut identifier = None;
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "BibliographicItemIdentifier" => {
                let text = c.string(&ch)?;
                identifier = Some(checked_identifier_text(c, text, "BibliographicItemIdentifier")?);
            }
            "BibliographicItemIdentifierCode" => id.code = Some(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    id.identifier = required_element(c, identifier, "BibliographicItemIdentifier")?;
    Ok(id)
}

/// `BibliographicRecordId`.
pub(crate) fn bibliographic_record_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<BibliographicRecordId> {
    let mut id = BibliographicRecordId::default();
    let mut identifier = None;
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "BibliographicRecordIdentifier" => {
                let text = c.string(&ch)?;
                identifier = Some(checked_identifier_text(c, text, "BibliographicRecordIdentifier")?);
            }
            "AgencyId" if id.source.is_none() => id.source = Some(RecordIdSource::Agency(agency_id(c, &ch)?)),
            "BibliographicRecordIdentifierCode" if id.source.is_none() => {
                id.source = Some(RecordIdSource::Code(c.scheme_value(&ch)?));
            }
            _ => c.skip(&ch)?,
        }
    }
    id.identifier = required_element(c, identifier, "BibliographicRecordIdentifier")?;
    Ok(id)
}

/// `BibliographicId` (the item/record choice); `None` when it holds neither.
pub(crate) fn bibliographic_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Option<BibliographicId>> {
    let mut found = None;
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "BibliographicItemId" if found.is_none() => {
                found = Some(BibliographicId::Item(c.within(&ch, bibliographic_item_id)?));
            }
            "BibliographicRecordId" if found.is_none() => {
                found = Some(BibliographicId::Record(c.within(&ch, bibliographic_record_id)?));
            }
            _ => c.skip(&ch)?,
        }
    }
    Ok(found)
}

/// `BibliographicDescription`.
pub(crate) fn bibliographic_description<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<BibliographicDescription> {
    let mut d = BibliographicDescription::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "Author" => d.author = Some(c.string(&ch)?),
            "AuthorOfComponent" => d.author_of_component = Some(c.string(&ch)?),
            "BibliographicItemId" if d.bibliographic_item_id.is_none() => {
                d.bibliographic_item_id = Some(c.within(&ch, bibliographic_item_id)?);
            }
            "BibliographicRecordId" => d.bibliographic_record_ids.push(c.within(&ch, bibliographic_record_id)?),
            "Edition" => d.edition = Some(c.string(&ch)?),
            "Pagination" => d.pagination = Some(c.string(&ch)?),
            "PlaceOfPublication" => d.place_of_publication = Some(c.string(&ch)?),
            "PublicationDate" => d.publication_date = Some(c.string(&ch)?),
            "PublicationDateOfComponent" => d.publication_date_of_component = Some(c.string(&ch)?),
            "Publisher" => d.publisher = Some(c.string(&ch)?),
            "SeriesTitleNumber" => d.series_title_number = Some(c.string(&ch)?),
            "Title" => d.title = Some(c.string(&ch)?),
            "TitleOfComponent" => d.title_of_component = Some(c.string(&ch)?),
            "BibliographicLevel" => d.bibliographic_level = Some(c.scheme_value(&ch)?),
            "SponsoringBody" => d.sponsoring_body = Some(c.string(&ch)?),
            "ElectronicDataFormatType" => d.electronic_data_format_type = Some(c.scheme_value(&ch)?),
            "Language" => d.language = Some(c.scheme_value(&ch)?),
            "MediumType" => d.medium_type = Some(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(d)
}

fn item_description<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<ItemDescription> {
    let mut d = ItemDescription::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "CallNumber" => d.call_number = Some(c.string(&ch)?),
            "CopyNumber" => d.copy_number = Some(c.string(&ch)?),
            "ItemDescriptionLevel" => d.item_description_level = Some(c.scheme_value(&ch)?),
            "NumberOfPieces" => d.number_of_pieces = Some(c.unsigned(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(d)
}

fn location<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Location> {
    let mut l = Location::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "LocationType" => l.location_type = c.scheme_value(&ch)?,
            "LocationName" => l.location_name = c.within(&ch, location_name)?,
            "ValidFromDate" => l.valid_from_date = Some(c.date(&ch)?),
            "ValidToDate" => l.valid_to_date = Some(c.date(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(l)
}

fn location_name<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Vec<LocationNameInstance>> {
    let mut instances = Vec::new();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "LocationNameInstance" => instances.push(c.within(&ch, location_name_instance)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(instances)
}

fn location_name_instance<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<LocationNameInstance> {
    let mut i = LocationNameInstance::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "LocationNameLevel" => i.level = c.unsigned(&ch)?,
            "LocationNameValue" => i.value = c.string(&ch)?,
            _ => c.skip(&ch)?,
        }
    }
    Ok(i)
}

/// `ItemOptionalFields`.
pub(crate) fn item_optional_fields<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<ItemOptionalFields> {
    let mut f = ItemOptionalFields::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "BibliographicDescription" => {
                f.bibliographic_description = Some(c.within(&ch, bibliographic_description)?);
            }
            "ItemUseRestrictionType" => f.item_use_restriction_types.push(c.scheme_value(&ch)?),
            "CirculationStatus" => f.circulation_status = Some(c.scheme_value(&ch)?),
            "HoldQueueLength" => f.hold_queue_length = Some(c.unsigned(&ch)?),
            "ItemDescription" => f.item_description = Some(c.within(&ch, item_description)?),
            "Location" => f.locations.push(c.within(&ch, location)?),
            "SecurityMarker" => f.security_marker = Some(c.scheme_value(&ch)?),
            "SensitizationFlag" => {
                c.skip(&ch)?;
                f.sensitization_flag = true;
            }
            "DateDue" => f.date_due = Some(c.date(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(f)
}
