//! Item-side structures: `ItemOptionalFields`, `BibliographicDescription`, `Location`...
//!
//! Only the parts Relais, Alma and the corpus dialects use are modelled; other children are skipped on
//! reading (and so never written).

use jiff::Timestamp;

use super::ids::{AgencyId, SchemeValue};

/// `BibliographicItemId`: an ISBN, ISSN, ... (`BibliographicItemIdentifierCode` says which).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BibliographicItemId {
    /// `BibliographicItemIdentifier`.
    pub identifier: String,
    /// `BibliographicItemIdentifierCode`, e.g. `ISBN`.
    pub code: Option<SchemeValue>,
}

/// Who or what qualifies a `BibliographicRecordId` (the XSD choice `AgencyId | BibliographicRecordIdentifierCode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordIdSource {
    /// The agency whose catalogue the record is in.
    Agency(AgencyId),
    /// A code such as `OCLC`.
    Code(SchemeValue),
}

/// `BibliographicRecordId`: a catalogue record number (OCLC number, MMS id...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BibliographicRecordId {
    /// `BibliographicRecordIdentifier`.
    pub identifier: String,
    /// The qualifier; FOLIO's title-level RequestItem sends none (schema-invalid, accepted).
    pub source: Option<RecordIdSource>,
}

/// `BibliographicId`: the XSD choice of an item-level or record-level bibliographic identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BibliographicId {
    /// `BibliographicItemId`.
    Item(BibliographicItemId),
    /// `BibliographicRecordId`.
    Record(BibliographicRecordId),
}

/// `BibliographicDescription` (XSD sequence order is the field order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BibliographicDescription {
    /// `Author`.
    pub author: Option<String>,
    /// `AuthorOfComponent` (article author).
    pub author_of_component: Option<String>,
    /// `BibliographicItemId` (at most one in NCIP 2.02).
    pub bibliographic_item_id: Option<BibliographicItemId>,
    /// `BibliographicRecordId` (repeatable since NCIP 2.01).
    pub bibliographic_record_ids: Vec<BibliographicRecordId>,
    /// `Edition`.
    pub edition: Option<String>,
    /// `Pagination`.
    pub pagination: Option<String>,
    /// `PlaceOfPublication`.
    pub place_of_publication: Option<String>,
    /// `PublicationDate` (free text: `c2001.`, `December 2007`).
    pub publication_date: Option<String>,
    /// `PublicationDateOfComponent`.
    pub publication_date_of_component: Option<String>,
    /// `Publisher`.
    pub publisher: Option<String>,
    /// `SeriesTitleNumber`.
    pub series_title_number: Option<String>,
    /// `Title`.
    pub title: Option<String>,
    /// `TitleOfComponent` (article title).
    pub title_of_component: Option<String>,
    /// `BibliographicLevel`, e.g. `Monograph`.
    pub bibliographic_level: Option<SchemeValue>,
    /// `SponsoringBody`.
    pub sponsoring_body: Option<String>,
    /// `ElectronicDataFormatType`.
    pub electronic_data_format_type: Option<SchemeValue>,
    /// `Language`.
    pub language: Option<SchemeValue>,
    /// `MediumType`, e.g. `Book`.
    pub medium_type: Option<SchemeValue>,
}

/// `ItemDescription` (holdings detail is not modelled).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemDescription {
    /// `CallNumber`.
    pub call_number: Option<String>,
    /// `CopyNumber`.
    pub copy_number: Option<String>,
    /// `ItemDescriptionLevel`.
    pub item_description_level: Option<SchemeValue>,
    /// `NumberOfPieces` (xs:positiveInteger).
    pub number_of_pieces: Option<u64>,
}

/// `LocationNameInstance`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocationNameInstance {
    /// `LocationNameLevel` (xs:positiveInteger).
    pub level: u64,
    /// `LocationNameValue`.
    pub value: String,
}

/// `Location`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// `LocationType`, e.g. `Permanent Location`.
    pub location_type: SchemeValue,
    /// `LocationName/LocationNameInstance`.
    pub location_name: Vec<LocationNameInstance>,
    /// `ValidFromDate`.
    pub valid_from_date: Option<Timestamp>,
    /// `ValidToDate`.
    pub valid_to_date: Option<Timestamp>,
}

/// `ItemOptionalFields`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemOptionalFields {
    /// `BibliographicDescription`: title and author Relais sends with AcceptItem.
    pub bibliographic_description: Option<BibliographicDescription>,
    /// `ItemUseRestrictionType` (repeatable).
    pub item_use_restriction_types: Vec<SchemeValue>,
    /// `CirculationStatus`.
    pub circulation_status: Option<SchemeValue>,
    /// `HoldQueueLength`.
    pub hold_queue_length: Option<u64>,
    /// `ItemDescription`.
    pub item_description: Option<ItemDescription>,
    /// `Location` (repeatable).
    pub locations: Vec<Location>,
    /// `SecurityMarker`.
    pub security_marker: Option<SchemeValue>,
    /// `SensitizationFlag`.
    pub sensitization_flag: bool,
    /// `DateDue` (NCIP 2.02 addition).
    pub date_due: Option<Timestamp>,
}
