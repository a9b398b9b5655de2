//! Pieces shared by many services: headers, the service names, money, authentication input, dates.

use std::fmt;

use jiff::Timestamp;

use super::ids::{AgencyId, RequestId, SchemeValue};

/// Which NCIP generation a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NcipVersion {
    /// NCIP 1.0 (DTD-based, `UniqueAgencyId`, `<Scheme>/<Value>` children): recognised, never served.
    V1,
    /// NCIP 2.0x (`http://www.niso.org/2008/ncip`).
    V2,
}

/// The NCIP service a message belongs to (request and response share the kind).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// `LookupUser` / `LookupUserResponse`.
    LookupUser,
    /// `AcceptItem` / `AcceptItemResponse`.
    AcceptItem,
    /// `CheckOutItem` / `CheckOutItemResponse`.
    CheckOutItem,
    /// `CheckInItem` / `CheckInItemResponse`.
    CheckInItem,
    /// `RequestItem` / `RequestItemResponse`.
    RequestItem,
    /// `CancelRequestItem` / `CancelRequestItemResponse`.
    CancelRequestItem,
    /// `RenewItem` / `RenewItemResponse`.
    RenewItem,
    /// `LookupItem` / `LookupItemResponse`.
    LookupItem,
    /// `LookupVersion` / `LookupVersionResponse`.
    LookupVersion,
    /// Any other element found where a service belongs (e.g. `DeleteItem`): the request element name.
    Other(String),
}

impl ServiceKind {
    /// The request element name, e.g. `CheckOutItem`.
    pub fn element_name(&self) -> &str {
        match self {
            Self::LookupUser => "LookupUser",
            Self::AcceptItem => "AcceptItem",
            Self::CheckOutItem => "CheckOutItem",
            Self::CheckInItem => "CheckInItem",
            Self::RequestItem => "RequestItem",
            Self::CancelRequestItem => "CancelRequestItem",
            Self::RenewItem => "RenewItem",
            Self::LookupItem => "LookupItem",
            Self::LookupVersion => "LookupVersion",
            Self::Other(name) => name,
        }
    }

    /// Whether `name` looks like an NCIP service element name (`CamelCase` ASCII letters and digits).
    /// Only such names are ever echoed into an answer's element name: quick-xml accepts odd names such
    /// as `ns1:/x"` that must not be written back as markup.
    pub fn is_plain_element_name(name: &str) -> bool {
        name.len() <= 64
            && name.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
            && name.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    /// Classifies a service element's local name: the kind and whether it is a `...Response`.
    pub fn from_element_name(name: &str) -> (Self, bool) {
        let (base, is_response) = match name.strip_suffix("Response") {
            Some(base) if !base.is_empty() => (base, true),
            _ => (name, false),
        };
        let kind = match base {
            "LookupUser" => Self::LookupUser,
            "AcceptItem" => Self::AcceptItem,
            "CheckOutItem" => Self::CheckOutItem,
            "CheckInItem" => Self::CheckInItem,
            "RequestItem" => Self::RequestItem,
            "CancelRequestItem" => Self::CancelRequestItem,
            "RenewItem" => Self::RenewItem,
            "LookupItem" => Self::LookupItem,
            "LookupVersion" => Self::LookupVersion,
            other => Self::Other(other.to_owned()),
        };
        (kind, is_response)
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.element_name())
    }
}

/// `InitiationHeader` of every request (NCIP 2.02 XSD order is kept by the writer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InitiationHeader {
    /// `FromSystemId`, e.g. `Relais D2D`.
    pub from_system_id: Option<SchemeValue>,
    /// `FromSystemAuthentication`.
    pub from_system_authentication: Option<String>,
    /// `FromAgencyId/AgencyId`.
    pub from_agency_id: AgencyId,
    /// `FromAgencyAuthentication`: a shared secret some partners send.
    pub from_agency_authentication: Option<String>,
    /// `OnBehalfOfAgency/AgencyId`.
    pub on_behalf_of_agency: Option<AgencyId>,
    /// `ToSystemId`.
    pub to_system_id: Option<SchemeValue>,
    /// `ToAgencyId/AgencyId`: for Alma, the institution code.
    pub to_agency_id: AgencyId,
    /// `ApplicationProfileType`: for Alma, the (case-sensitive) NCIP partner code.
    pub application_profile_type: Option<SchemeValue>,
}

/// `ResponseHeader` of every response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseHeader {
    /// `FromSystemId`.
    pub from_system_id: Option<SchemeValue>,
    /// `FromSystemAuthentication`.
    pub from_system_authentication: Option<String>,
    /// `FromAgencyId/AgencyId`.
    pub from_agency_id: AgencyId,
    /// `FromAgencyAuthentication`.
    pub from_agency_authentication: Option<String>,
    /// `ToSystemId`.
    pub to_system_id: Option<SchemeValue>,
    /// `ToAgencyId/AgencyId`.
    pub to_agency_id: AgencyId,
}

impl ResponseHeader {
    /// The header answering `request`: From and To swapped (agency and system ids).
    pub fn answering(request: &InitiationHeader) -> Self {
        Self {
            from_system_id: request.to_system_id.clone(),
            from_system_authentication: None,
            from_agency_id: request.to_agency_id.clone(),
            from_agency_authentication: None,
            to_system_id: request.from_system_id.clone(),
            to_agency_id: request.from_agency_id.clone(),
        }
    }
}

/// `AuthenticationInput`: a PIN, password or login name offered instead of (or with) a `UserId`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AuthenticationInput {
    /// `AuthenticationInputData`: secret material, never logged (see the `Debug` impl).
    pub data: String,
    /// `AuthenticationDataFormatType`, e.g. `text/plain`.
    pub data_format_type: Option<SchemeValue>,
    /// `AuthenticationInputType`, e.g. `Barcode Id`, `PIN`, `Password`, `username`.
    pub input_type: SchemeValue,
}

impl fmt::Debug for AuthenticationInput {
    // The data is a PIN or password as often as a barcode: keep it out of logs and panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticationInput")
            .field("data", &"<redacted>")
            .field("data_format_type", &self.data_format_type)
            .field("input_type", &self.input_type)
            .finish()
    }
}

/// `MandatedAction/DateEventOccurred`: the time the action happened at the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MandatedAction {
    /// When the event happened.
    pub date_event_occurred: Timestamp,
}

/// The NCIP choice `DateDue | IndeterminateLoanPeriodFlag | NonReturnableFlag` (also used for
/// AcceptItem's `DateForReturn` choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueDate {
    /// A due (or return) date.
    Date(Timestamp),
    /// `IndeterminateLoanPeriodFlag`.
    IndeterminateLoanPeriod,
    /// `NonReturnableFlag`.
    NonReturnable,
}

impl DueDate {
    /// The date, when there is one.
    pub fn date(&self) -> Option<Timestamp> {
        match self {
            Self::Date(ts) => Some(*ts),
            _ => None,
        }
    }
}

/// `Amount`, `RequiredFeeAmount`, `AccountBalance`...: a currency and an integer value in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Amount {
    /// `CurrencyCode` (ISO 4217). Optional here although the XSD requires it: mod-ncip's Relais
    /// AcceptItem sample sends a `FiscalTransactionInformation/Amount` without one.
    pub currency_code: Option<SchemeValue>,
    /// `MonetaryValue` (xs:integer, minor units).
    pub monetary_value: i64,
}

/// `FiscalTransactionReferenceId`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FiscalTransactionReferenceId {
    /// Issuing agency.
    pub agency_id: AgencyId,
    /// `FiscalTransactionIdentifierValue`.
    pub value: String,
}

/// `FiscalTransactionInformation`, read tolerantly: every part optional (FOLIO/Relais samples omit some).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FiscalTransactionInformation {
    /// `FiscalActionType`, e.g. `Payment`.
    pub fiscal_action_type: Option<SchemeValue>,
    /// `FiscalTransactionReferenceId`.
    pub fiscal_transaction_reference_id: Option<FiscalTransactionReferenceId>,
    /// `FiscalTransactionType`, e.g. `Service Charge`.
    pub fiscal_transaction_type: Option<SchemeValue>,
    /// `ValidFromDate`.
    pub valid_from_date: Option<Timestamp>,
    /// `ValidToDate`.
    pub valid_to_date: Option<Timestamp>,
    /// `Amount`.
    pub amount: Option<Amount>,
    /// `PaymentMethodType`.
    pub payment_method_type: Option<SchemeValue>,
    /// `FiscalTransactionDescription`.
    pub fiscal_transaction_description: Option<String>,
    /// `RequestId` the charge belongs to.
    pub request_id: Option<RequestId>,
}
