//! User-side structures: `UserOptionalFields`, names, addresses, privileges, loans and requests.

use jiff::Timestamp;

use super::common::{Amount, DueDate, FiscalTransactionInformation};
use super::ids::{AgencyId, ItemId, RequestId, SchemeValue, UserId};
use super::item::BibliographicId;

/// `StructuredPersonalUserName`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StructuredPersonalUserName {
    /// `Prefix`, e.g. `Mr`.
    pub prefix: Option<String>,
    /// `GivenName`.
    pub given_name: Option<String>,
    /// `Initials`.
    pub initials: Option<String>,
    /// `Surname` (required by the XSD).
    pub surname: String,
    /// `Suffix`.
    pub suffix: Option<String>,
}

/// `PersonalNameInformation`: structured, unstructured, or both.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonalNameInformation {
    /// `StructuredPersonalUserName`.
    pub structured: Option<StructuredPersonalUserName>,
    /// `UnstructuredPersonalUserName`.
    pub unstructured: Option<String>,
}

/// `OrganizationNameInformation`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizationNameInformation {
    /// `OrganizationNameType`.
    pub organization_name_type: SchemeValue,
    /// `OrganizationName`.
    pub organization_name: String,
}

/// `NameInformation`: a person or an organisation (the XSD choice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameInformation {
    /// `PersonalNameInformation`.
    Personal(PersonalNameInformation),
    /// `OrganizationNameInformation`+.
    Organization(Vec<OrganizationNameInformation>),
}

/// `StructuredAddress`. The writer emits `Line1/Line2` when `line1` is set, otherwise the
/// building/street/box/district form, as the XSD choice requires.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StructuredAddress {
    /// `LocationWithinBuilding`.
    pub location_within_building: Option<String>,
    /// `HouseName`.
    pub house_name: Option<String>,
    /// `Street`.
    pub street: Option<String>,
    /// `PostOfficeBox`.
    pub post_office_box: Option<String>,
    /// `District`.
    pub district: Option<String>,
    /// `Line1`.
    pub line1: Option<String>,
    /// `Line2`.
    pub line2: Option<String>,
    /// `Locality` (city).
    pub locality: Option<String>,
    /// `Region` (state, county).
    pub region: Option<String>,
    /// `Country`.
    pub country: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
    /// `CareOf`.
    pub care_of: Option<String>,
}

/// `UnstructuredAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnstructuredAddress {
    /// `UnstructuredAddressType`.
    pub address_type: SchemeValue,
    /// `UnstructuredAddressData`.
    pub data: String,
}

/// The XSD choice inside `PhysicalAddress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhysicalAddressForm {
    /// `StructuredAddress` (boxed: twelve optional lines dwarf the other variant).
    Structured(Box<StructuredAddress>),
    /// `UnstructuredAddress`.
    Unstructured(UnstructuredAddress),
}

/// `PhysicalAddress`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalAddress {
    /// The address lines.
    pub form: PhysicalAddressForm,
    /// `PhysicalAddressType`, e.g. `Postal Address`.
    pub physical_address_type: SchemeValue,
}

/// `ElectronicAddress`: e-mail (`mailto`), phone (`tel`), fax...
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ElectronicAddress {
    /// `ElectronicAddressType`, e.g. `mailto`, `tel`.
    pub address_type: SchemeValue,
    /// `ElectronicAddressData`.
    pub data: String,
}

/// The XSD choice inside `UserAddressInformation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `PhysicalAddress`.
    Physical(PhysicalAddress),
    /// `ElectronicAddress`.
    Electronic(ElectronicAddress),
}

/// `UserAddressInformation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAddressInformation {
    /// `UserAddressRoleType`, e.g. `Home`, `Multi-Purpose`.
    pub role: SchemeValue,
    /// `ValidFromDate`.
    pub valid_from_date: Option<Timestamp>,
    /// `ValidToDate`.
    pub valid_to_date: Option<Timestamp>,
    /// The address (absent only in schema-invalid input).
    pub address: Option<Address>,
}

/// `UserPrivilegeStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserPrivilegeStatus {
    /// `UserPrivilegeStatusType`.
    pub status_type: SchemeValue,
    /// `DateOfUserPrivilegeStatus`.
    pub date: Option<Timestamp>,
}

/// `UserPrivilege`: Relais reads the patron's profile/user group from here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserPrivilege {
    /// `AgencyId` (III-style responders send it empty).
    pub agency_id: AgencyId,
    /// `AgencyUserPrivilegeType`, e.g. `PROFILE`, a user-group code.
    pub agency_user_privilege_type: SchemeValue,
    /// `ValidFromDate`.
    pub valid_from_date: Option<Timestamp>,
    /// `ValidToDate`: for Alma, the patron's expiry date.
    pub valid_to_date: Option<Timestamp>,
    /// `UserPrivilegeStatus`.
    pub user_privilege_status: Option<UserPrivilegeStatus>,
    /// `UserPrivilegeDescription`.
    pub description: Option<String>,
}

/// `BlockOrTrap`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlockOrTrap {
    /// `AgencyId`.
    pub agency_id: AgencyId,
    /// `BlockOrTrapType`.
    pub block_or_trap_type: SchemeValue,
    /// `ValidFromDate`.
    pub valid_from_date: Option<Timestamp>,
    /// `ValidToDate`.
    pub valid_to_date: Option<Timestamp>,
}

/// `UserOptionalFields` (XSD sequence order is the field order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserOptionalFields {
    /// `NameInformation`.
    pub name_information: Option<NameInformation>,
    /// `UserAddressInformation` (repeatable).
    pub user_address_informations: Vec<UserAddressInformation>,
    /// `DateOfBirth`.
    pub date_of_birth: Option<Timestamp>,
    /// `UserLanguage` (repeatable).
    pub user_languages: Vec<SchemeValue>,
    /// `UserPrivilege` (repeatable).
    pub user_privileges: Vec<UserPrivilege>,
    /// `BlockOrTrap` (repeatable).
    pub block_or_traps: Vec<BlockOrTrap>,
    /// `UserId` (repeatable): other identifiers of the same patron.
    pub user_ids: Vec<UserId>,
}

/// `AccountDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountDetails {
    /// `AccrualDate`.
    pub accrual_date: Option<Timestamp>,
    /// `FiscalTransactionInformation`.
    pub fiscal_transaction_information: Option<FiscalTransactionInformation>,
}

/// `UserFiscalAccount`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserFiscalAccount {
    /// `AccountBalance`.
    pub account_balance: Amount,
    /// `AccountDetails` (repeatable).
    pub account_details: Vec<AccountDetails>,
}

/// `LoanedItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoanedItem {
    /// `ItemId`.
    pub item_id: ItemId,
    /// `BibliographicId` (repeatable, NCIP 2.02).
    pub bibliographic_ids: Vec<BibliographicId>,
    /// `ReminderLevel`.
    pub reminder_level: Option<u64>,
    /// `DateDue` or `IndeterminateLoanPeriodFlag`.
    pub date_due: Option<DueDate>,
    /// `Amount`.
    pub amount: Option<Amount>,
    /// `Title`.
    pub title: Option<String>,
    /// `MediumType`.
    pub medium_type: Option<SchemeValue>,
}

/// `RequestedItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestedItem {
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `BibliographicId` (repeatable, NCIP 2.02).
    pub bibliographic_ids: Vec<BibliographicId>,
    /// `RequestType`, e.g. `Hold`.
    pub request_type: Option<SchemeValue>,
    /// `RequestStatusType`, e.g. `In Process`.
    pub request_status_type: Option<SchemeValue>,
    /// `DatePlaced`.
    pub date_placed: Option<Timestamp>,
    /// `PickupDate`.
    pub pickup_date: Option<Timestamp>,
    /// `PickupLocation`.
    pub pickup_location: Option<SchemeValue>,
    /// `PickupExpiryDate`.
    pub pickup_expiry_date: Option<Timestamp>,
    /// `ReminderLevel`.
    pub reminder_level: Option<u64>,
    /// `HoldQueuePosition`.
    pub hold_queue_position: Option<u64>,
    /// `Title`.
    pub title: Option<String>,
    /// `MediumType`.
    pub medium_type: Option<SchemeValue>,
}
