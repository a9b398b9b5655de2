//! Writers for `ItemOptionalFields` and bibliographic structures (NCIP 2.02 XSD order).

use super::common::agency_id;
use super::xml::XmlWriter;
use crate::model::item::{
    BibliographicDescription, BibliographicId, BibliographicItemId, BibliographicRecordId, ItemOptionalFields,
    RecordIdSource,
};

fn bibliographic_item_id(w: &mut XmlWriter, id: &BibliographicItemId) {
    w.start("BibliographicItemId");
    w.text("BibliographicItemIdentifier", &id.identifier);
    w.opt_scheme_value("BibliographicItemIdentifierCode", id.code.as_ref());
    w.end("BibliographicItemId");
}

fn bibliographic_record_id(w: &mut XmlWriter, id: &BibliographicRecordId) {
    w.start("BibliographicRecordId");
    w.text("BibliographicRecordIdentifier", &id.identifier);
    match &id.source {
        Some(RecordIdSource::Agency(agency)) => agency_id(w, "AgencyId", agency),
        Some(RecordIdSource::Code(code)) => w.scheme_value("BibliographicRecordIdentifierCode", code),
        None => {}
    }
    w.end("BibliographicRecordId");
}

/// `BibliographicId` elements.
pub(crate) fn bibliographic_ids(w: &mut XmlWriter, ids: &[BibliographicId]) {
    for id in ids {
        w.start("BibliographicId");
        match id {
            BibliographicId::Item(item) => bibliographic_item_id(w, item),
            BibliographicId::Record(record) => bibliographic_record_id(w, record),
        }
        w.end("BibliographicId");
    }
}

fn bibliographic_description(w: &mut XmlWriter, d: &BibliographicDescription) {
    w.start("BibliographicDescription");
    w.opt_text("Author", d.author.as_deref());
    w.opt_text("AuthorOfComponent", d.author_of_component.as_deref());
    if let Some(id) = &d.bibliographic_item_id {
        bibliographic_item_id(w, id);
    }
    for id in &d.bibliographic_record_ids {
        bibliographic_record_id(w, id);
    }
    w.opt_text("Edition", d.edition.as_deref());
    w.opt_text("Pagination", d.pagination.as_deref());
    w.opt_text("PlaceOfPublication", d.place_of_publication.as_deref());
    w.opt_text("PublicationDate", d.publication_date.as_deref());
    w.opt_text("PublicationDateOfComponent", d.publication_date_of_component.as_deref());
    w.opt_text("Publisher", d.publisher.as_deref());
    w.opt_text("SeriesTitleNumber", d.series_title_number.as_deref());
    w.opt_text("Title", d.title.as_deref());
    w.opt_text("TitleOfComponent", d.title_of_component.as_deref());
    w.opt_scheme_value("BibliographicLevel", d.bibliographic_level.as_ref());
    w.opt_text("SponsoringBody", d.sponsoring_body.as_deref());
    w.opt_scheme_value("ElectronicDataFormatType", d.electronic_data_format_type.as_ref());
    w.opt_scheme_value("Language", d.language.as_ref());
    w.opt_scheme_value("MediumType", d.medium_type.as_ref());
    w.end("BibliographicDescription");
}

/// `ItemOptionalFields`.
pub(crate) fn opt_item_optional_fields(w: &mut XmlWriter, f: Option<&ItemOptionalFields>) {
    let Some(f) = f else { return };
    w.start("ItemOptionalFields");
    if let Some(d) = &f.bibliographic_description {
        bibliographic_description(w, d);
    }
    w.scheme_values("ItemUseRestrictionType", &f.item_use_restriction_types);
    w.opt_scheme_value("CirculationStatus", f.circulation_status.as_ref());
    w.opt_number("HoldQueueLength", f.hold_queue_length);
    if let Some(d) = &f.item_description {
        w.start("ItemDescription");
        w.opt_text("CallNumber", d.call_number.as_deref());
        w.opt_text("CopyNumber", d.copy_number.as_deref());
        w.opt_scheme_value("ItemDescriptionLevel", d.item_description_level.as_ref());
        w.opt_number("NumberOfPieces", d.number_of_pieces);
        w.end("ItemDescription");
    }
    for l in &f.locations {
        w.start("Location");
        w.scheme_value("LocationType", &l.location_type);
        w.start("LocationName");
        for i in &l.location_name {
            w.start("LocationNameInstance");
            w.number("LocationNameLevel", i.level);
            w.text("LocationNameValue", &i.value);
            w.end("LocationNameInstance");
        }
        w.end("LocationName");
        w.opt_date("ValidFromDate", l.valid_from_date);
        w.opt_date("ValidToDate", l.valid_to_date);
        w.end("Location");
    }
    w.opt_scheme_value("SecurityMarker", f.security_marker.as_ref());
    w.flag_if("SensitizationFlag", f.sensitization_flag);
    w.opt_date("DateDue", f.date_due);
    w.end("ItemOptionalFields");
}
