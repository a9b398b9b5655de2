//! One struct per NCIP service message the bridge handles, and the [`Message`] enum over them.
//!
//! Field order follows the NCIP 2.02 XSD sequence of each element, which is also the order the writer
//! emits. Responses carry `problems`; by the XSD a response holds either problems or its data: answers
//! built with `problem_response` hold only problems, and the writer writes whatever a value holds.

use jiff::Timestamp;

use super::common::{
    Amount, AuthenticationInput, DueDate, FiscalTransactionInformation, InitiationHeader, MandatedAction,
    ResponseHeader, ServiceKind,
};
use super::ids::{AgencyId, ItemId, RequestId, SchemeValue, UserId};
use super::item::{BibliographicId, ItemOptionalFields};
use super::user::{LoanedItem, RequestedItem, UserFiscalAccount, UserOptionalFields};
use crate::patch::{PatchSpans, Spans};
use crate::problem::Problem;

/// `LookupUser`: Relais asks for a patron (by `UserId` of type "Primary Key", or by AuthenticationInput).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupUser {
    /// `InitiationHeader` (optional in the XSD; XC's sample omits it).
    pub header: Option<InitiationHeader>,
    /// `UserId` (either this or `authentication_inputs`).
    pub user_id: Option<UserId>,
    /// `AuthenticationInput` (repeatable).
    pub authentication_inputs: Vec<AuthenticationInput>,
    /// `UserElementType` (repeatable): which parts of the patron record to return.
    pub user_element_types: Vec<SchemeValue>,
    /// `LoanedItemsDesired`.
    pub loaned_items_desired: bool,
    /// `RequestedItemsDesired`.
    pub requested_items_desired: bool,
    /// `UserFiscalAccountDesired`.
    pub user_fiscal_account_desired: bool,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `LookupUserResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupUserResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `UserId`.
    pub user_id: Option<UserId>,
    /// `UserFiscalAccount` (repeatable).
    pub user_fiscal_accounts: Vec<UserFiscalAccount>,
    /// `LoanedItem` (repeatable).
    pub loaned_items: Vec<LoanedItem>,
    /// `RequestedItem` (repeatable).
    pub requested_items: Vec<RequestedItem>,
    /// `UserOptionalFields`.
    pub user_optional_fields: Option<UserOptionalFields>,
}

/// `AcceptItem`: the lender shipped; the borrowing library receives the item for its patron.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AcceptItem {
    /// `InitiationHeader`.
    pub header: Option<InitiationHeader>,
    /// `MandatedAction`.
    pub mandated_action: Option<MandatedAction>,
    /// `RequestId` (required): the Relais request number.
    pub request_id: RequestId,
    /// `RequestedActionType` (required), e.g. `Hold For Pickup`, `Circulate`.
    pub requested_action_type: SchemeValue,
    /// `UserId`: the patron barcode.
    pub user_id: Option<UserId>,
    /// `ItemId`: the item barcode (Relais often sends its request number).
    pub item_id: Option<ItemId>,
    /// `DateForReturn` (or one of the flags of the same XSD choice).
    pub date_for_return: Option<DueDate>,
    /// `RenewalNotPermitted`.
    pub renewal_not_permitted: bool,
    /// `FiscalTransactionInformation`.
    pub fiscal_transaction_information: Option<FiscalTransactionInformation>,
    /// `ItemOptionalFields`: title, author...
    pub item_optional_fields: Option<ItemOptionalFields>,
    /// `UserOptionalFields`.
    pub user_optional_fields: Option<UserOptionalFields>,
    /// `PickupLocation`.
    pub pickup_location: Option<SchemeValue>,
    /// `PickupExpiryDate`.
    pub pickup_expiry_date: Option<Timestamp>,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `AcceptItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AcceptItemResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
}

/// `CheckOutItem`: for Alma, the lending library's "ship".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckOutItem {
    /// `InitiationHeader`.
    pub header: Option<InitiationHeader>,
    /// `MandatedAction`.
    pub mandated_action: Option<MandatedAction>,
    /// `UserId` (either this or `authentication_inputs`): the borrowing library's generic patron.
    pub user_id: Option<UserId>,
    /// `AuthenticationInput` (repeatable).
    pub authentication_inputs: Vec<AuthenticationInput>,
    /// `ItemId` (required).
    pub item_id: ItemId,
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `AcknowledgedFeeAmount`.
    pub acknowledged_fee_amount: Option<Amount>,
    /// `PaidFeeAmount`.
    pub paid_fee_amount: Option<Amount>,
    /// `AcknowledgedItemUseRestrictionType` (repeatable).
    pub acknowledged_item_use_restriction_types: Vec<SchemeValue>,
    /// `ResourceDesired`.
    pub resource_desired: bool,
    /// `DesiredDateDue`: Alma honours it.
    pub desired_date_due: Option<Timestamp>,
    /// `ItemElementType` (repeatable).
    pub item_element_types: Vec<SchemeValue>,
    /// `UserElementType` (repeatable).
    pub user_element_types: Vec<SchemeValue>,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `CheckOutItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckOutItemResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `RequiredFeeAmount` (only with problems).
    pub required_fee_amount: Option<Amount>,
    /// `RequiredItemUseRestrictionType` (only with problems).
    pub required_item_use_restriction_types: Vec<SchemeValue>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `UserId`.
    pub user_id: Option<UserId>,
    /// `DateDue` (or a flag of the same XSD choice).
    pub date_due: Option<DueDate>,
    /// `RenewalCount`.
    pub renewal_count: Option<u64>,
    /// `FiscalTransactionInformation`.
    pub fiscal_transaction_information: Option<FiscalTransactionInformation>,
    /// `ItemOptionalFields`.
    pub item_optional_fields: Option<ItemOptionalFields>,
    /// `UserOptionalFields`.
    pub user_optional_fields: Option<UserOptionalFields>,
}

/// `CheckInItem`: borrower-side return, or lender-side receipt of its own item.
///
/// The NCIP 2.02 XSD gives CheckInItem no `RequestId`; circill/Relais identify the request through
/// `ItemId` with `ItemIdentifierType` "ILL Request Id".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckInItem {
    /// `InitiationHeader`.
    pub header: Option<InitiationHeader>,
    /// `MandatedAction`.
    pub mandated_action: Option<MandatedAction>,
    /// `ItemId` (required).
    pub item_id: ItemId,
    /// `ItemElementType` (repeatable).
    pub item_element_types: Vec<SchemeValue>,
    /// `UserElementType` (repeatable).
    pub user_element_types: Vec<SchemeValue>,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `CheckInItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckInItemResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `UserId`.
    pub user_id: Option<UserId>,
    /// `FiscalTransactionInformation`.
    pub fiscal_transaction_information: Option<FiscalTransactionInformation>,
    /// `ItemOptionalFields`.
    pub item_optional_fields: Option<ItemOptionalFields>,
    /// `UserOptionalFields`.
    pub user_optional_fields: Option<UserOptionalFields>,
}

/// `RequestItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestItem {
    /// `InitiationHeader`.
    pub header: Option<InitiationHeader>,
    /// `MandatedAction`.
    pub mandated_action: Option<MandatedAction>,
    /// `UserId` (either this or `authentication_inputs`).
    pub user_id: Option<UserId>,
    /// `AuthenticationInput` (repeatable).
    pub authentication_inputs: Vec<AuthenticationInput>,
    /// `ItemId` (repeatable; at least one of these or a `BibliographicId`).
    pub item_ids: Vec<ItemId>,
    /// `BibliographicId` (repeatable).
    pub bibliographic_ids: Vec<BibliographicId>,
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `RequestType` (required), e.g. `Hold`, `Loan`, `Page`.
    pub request_type: SchemeValue,
    /// `RequestScopeType` (required), e.g. `Item`, `Bibliographic Item`.
    pub request_scope_type: SchemeValue,
    /// `ItemOptionalFields`.
    pub item_optional_fields: Option<ItemOptionalFields>,
    /// `EarliestDateNeeded`.
    pub earliest_date_needed: Option<Timestamp>,
    /// `NeedBeforeDate`.
    pub need_before_date: Option<Timestamp>,
    /// `PickupLocation`.
    pub pickup_location: Option<SchemeValue>,
    /// `PickupExpiryDate`.
    pub pickup_expiry_date: Option<Timestamp>,
    /// `AcknowledgedFeeAmount`.
    pub acknowledged_fee_amount: Option<Amount>,
    /// `PaidFeeAmount`.
    pub paid_fee_amount: Option<Amount>,
    /// `AcknowledgedItemUseRestrictionType` (repeatable).
    pub acknowledged_item_use_restriction_types: Vec<SchemeValue>,
    /// `ItemElementType` (repeatable).
    pub item_element_types: Vec<SchemeValue>,
    /// `UserElementType` (repeatable).
    pub user_element_types: Vec<SchemeValue>,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `RequestItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestItemResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `RequiredFeeAmount` (only with problems).
    pub required_fee_amount: Option<Amount>,
    /// `RequiredItemUseRestrictionType` (only with problems).
    pub required_item_use_restriction_types: Vec<SchemeValue>,
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `UserId`.
    pub user_id: Option<UserId>,
    /// `RequestType`.
    pub request_type: Option<SchemeValue>,
    /// `RequestScopeType`.
    pub request_scope_type: Option<SchemeValue>,
    /// `DateAvailable`.
    pub date_available: Option<Timestamp>,
    /// `HoldPickupDate`.
    pub hold_pickup_date: Option<Timestamp>,
    /// `FiscalTransactionInformation`.
    pub fiscal_transaction_information: Option<FiscalTransactionInformation>,
    /// `ItemOptionalFields`.
    pub item_optional_fields: Option<ItemOptionalFields>,
    /// `UserOptionalFields`.
    pub user_optional_fields: Option<UserOptionalFields>,
}

/// `CancelRequestItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelRequestItem {
    /// `InitiationHeader`.
    pub header: Option<InitiationHeader>,
    /// `MandatedAction`.
    pub mandated_action: Option<MandatedAction>,
    /// `UserId` (either this or `authentication_inputs`).
    pub user_id: Option<UserId>,
    /// `AuthenticationInput` (repeatable).
    pub authentication_inputs: Vec<AuthenticationInput>,
    /// `RequestId` (this or `item_id` is required).
    pub request_id: Option<RequestId>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `RequestType`: required by the XSD, but FOLIO sends `<RequestType/>`, so optional and possibly empty.
    pub request_type: Option<SchemeValue>,
    /// `RequestScopeType`.
    pub request_scope_type: Option<SchemeValue>,
    /// `AcknowledgedFeeAmount`.
    pub acknowledged_fee_amount: Option<Amount>,
    /// `PaidFeeAmount`.
    pub paid_fee_amount: Option<Amount>,
    /// `ItemElementType` (repeatable).
    pub item_element_types: Vec<SchemeValue>,
    /// `UserElementType` (repeatable).
    pub user_element_types: Vec<SchemeValue>,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `CancelRequestItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelRequestItemResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `UserId`.
    pub user_id: Option<UserId>,
    /// `FiscalTransactionInformation`.
    pub fiscal_transaction_information: Option<FiscalTransactionInformation>,
    /// `ItemOptionalFields`.
    pub item_optional_fields: Option<ItemOptionalFields>,
    /// `UserOptionalFields`.
    pub user_optional_fields: Option<UserOptionalFields>,
}

/// `RenewItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenewItem {
    /// `InitiationHeader`.
    pub header: Option<InitiationHeader>,
    /// `MandatedAction`.
    pub mandated_action: Option<MandatedAction>,
    /// `UserId` (either this or `authentication_inputs`).
    pub user_id: Option<UserId>,
    /// `AuthenticationInput` (repeatable).
    pub authentication_inputs: Vec<AuthenticationInput>,
    /// `ItemId` (required).
    pub item_id: ItemId,
    /// `ItemElementType` (repeatable).
    pub item_element_types: Vec<SchemeValue>,
    /// `UserElementType` (repeatable).
    pub user_element_types: Vec<SchemeValue>,
    /// `DesiredDateDue`.
    pub desired_date_due: Option<Timestamp>,
    /// `DesiredDateForReturn`.
    pub desired_date_for_return: Option<Timestamp>,
    /// `AcknowledgedFeeAmount`.
    pub acknowledged_fee_amount: Option<Amount>,
    /// `PaidFeeAmount`.
    pub paid_fee_amount: Option<Amount>,
    /// `AcknowledgedItemUseRestrictionType` (repeatable).
    pub acknowledged_item_use_restriction_types: Vec<SchemeValue>,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `RenewItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenewItemResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `RequiredFeeAmount` (only with problems).
    pub required_fee_amount: Option<Amount>,
    /// `RequiredItemUseRestrictionType` (only with problems).
    pub required_item_use_restriction_types: Vec<SchemeValue>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `UserId`.
    pub user_id: Option<UserId>,
    /// `DateDue`.
    pub date_due: Option<Timestamp>,
    /// `DateForReturn`.
    pub date_for_return: Option<Timestamp>,
    /// `RenewalCount`.
    pub renewal_count: Option<u64>,
    /// `FiscalTransactionInformation`.
    pub fiscal_transaction_information: Option<FiscalTransactionInformation>,
    /// `ItemOptionalFields`.
    pub item_optional_fields: Option<ItemOptionalFields>,
    /// `UserOptionalFields`.
    pub user_optional_fields: Option<UserOptionalFields>,
}

/// `LookupItem`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupItem {
    /// `InitiationHeader`.
    pub header: Option<InitiationHeader>,
    /// `ItemId` (this or `request_id`).
    pub item_id: Option<ItemId>,
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `ItemElementType` (repeatable).
    pub item_element_types: Vec<SchemeValue>,
    /// `CurrentBorrowerDesired`.
    pub current_borrower_desired: bool,
    /// `CurrentRequestersDesired`.
    pub current_requesters_desired: bool,
    /// Where the values the forwarding patch may replace lie in the text this request was read from.
    pub patch_spans: PatchSpans,
}

/// `LookupItemResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupItemResponse {
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `RequestId`.
    pub request_id: Option<RequestId>,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `HoldPickupDate`.
    pub hold_pickup_date: Option<Timestamp>,
    /// `DateRecalled`.
    pub date_recalled: Option<Timestamp>,
    /// `ItemOptionalFields`: bibliographic description, circulation status, location...
    pub item_optional_fields: Option<ItemOptionalFields>,
}

/// Which root a `LookupVersion` exchange uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionEnvelope {
    /// Inside `NCIPMessage` (Koha/Evergreen ncip-server style, non-standard but common).
    #[default]
    NcipMessage,
    /// Its own `NCIPVersionMessage` root (the standard, version-independent form).
    NcipVersionMessage,
}

/// `LookupVersion`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupVersion {
    /// Root the request came in (the answer uses the same one).
    pub envelope: VersionEnvelope,
    /// `FromAgencyId` (NCIP 1 `UniqueAgencyId` form read too).
    pub from_agency_id: Option<AgencyId>,
    /// `ToAgencyId`.
    pub to_agency_id: Option<AgencyId>,
}

/// `LookupVersionResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupVersionResponse {
    /// Root to answer in.
    pub envelope: VersionEnvelope,
    /// `FromAgencyId`.
    pub from_agency_id: Option<AgencyId>,
    /// `ToAgencyId`.
    pub to_agency_id: Option<AgencyId>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
    /// `VersionSupported` (repeatable): version URIs.
    pub versions_supported: Vec<String>,
    /// `ServiceSupported` (repeatable): service names, e.g. `LookupUser`.
    pub services_supported: Vec<String>,
}

impl LookupVersionResponse {
    /// The answer to `request`: same root, agencies swapped.
    pub fn answering(request: &LookupVersion, versions: Vec<String>, services: Vec<String>) -> Self {
        Self {
            envelope: request.envelope,
            from_agency_id: request.to_agency_id.clone(),
            to_agency_id: request.from_agency_id.clone(),
            problems: Vec::new(),
            versions_supported: versions,
            services_supported: services,
        }
    }
}

/// The response to a service the bridge does not model (e.g. `DeleteItemResponse`): header and problems.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OtherResponse {
    /// The request element name, e.g. `DeleteItem` (the element written is `DeleteItemResponse`).
    pub service: String,
    /// `ResponseHeader`.
    pub header: Option<ResponseHeader>,
    /// `Problem` (repeatable).
    pub problems: Vec<Problem>,
}

/// Every NCIP message the codec reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Relais asks who a patron is (by id or by credentials).
    LookupUser(LookupUser),
    /// The patron found, or the problem finding them.
    LookupUserResponse(LookupUserResponse),
    /// The borrowing library received the lender's item for its patron.
    AcceptItem(AcceptItem),
    /// The answer to an `AcceptItem`.
    AcceptItemResponse(AcceptItemResponse),
    /// The lending library shipped its item to the partner.
    CheckOutItem(CheckOutItem),
    /// The answer to a `CheckOutItem`, with the due date.
    CheckOutItemResponse(CheckOutItemResponse),
    /// An item's return: to the lender (borrowing side) or back home (lending side).
    CheckInItem(CheckInItem),
    /// The answer to a `CheckInItem`.
    CheckInItemResponse(CheckInItemResponse),
    /// A patron's borrowing request for a title, or a partner's request for one of our items.
    RequestItem(RequestItem),
    /// The answer to a `RequestItem`, naming the request created.
    RequestItemResponse(RequestItemResponse),
    /// A lending request withdrawn before shipping.
    CancelRequestItem(CancelRequestItem),
    /// The answer to a `CancelRequestItem`.
    CancelRequestItemResponse(CancelRequestItemResponse),
    /// A loan extended, on either side.
    RenewItem(RenewItem),
    /// The answer to a `RenewItem`, with the new due date.
    RenewItemResponse(RenewItemResponse),
    /// A question about one item (its bibliographic and circulation details).
    LookupItem(LookupItem),
    /// The item's details, or the problem finding it.
    LookupItemResponse(LookupItemResponse),
    /// A partner asks which NCIP versions the bridge speaks.
    LookupVersion(LookupVersion),
    /// The versions supported, in the root the question came in.
    LookupVersionResponse(LookupVersionResponse),
    /// A response to a service the bridge does not offer (`DeleteItemResponse` carrying Unsupported Service).
    OtherResponse(OtherResponse),
    /// Top-level `NCIPMessage/Problem`: the answer when no service could be read.
    Problem(Vec<Problem>),
}

impl Message {
    /// The service the message belongs to (`Other("Problem")` for a top-level Problem message).
    pub fn service(&self) -> ServiceKind {
        match self {
            Self::LookupUser(_) | Self::LookupUserResponse(_) => ServiceKind::LookupUser,
            Self::AcceptItem(_) | Self::AcceptItemResponse(_) => ServiceKind::AcceptItem,
            Self::CheckOutItem(_) | Self::CheckOutItemResponse(_) => ServiceKind::CheckOutItem,
            Self::CheckInItem(_) | Self::CheckInItemResponse(_) => ServiceKind::CheckInItem,
            Self::RequestItem(_) | Self::RequestItemResponse(_) => ServiceKind::RequestItem,
            Self::CancelRequestItem(_) | Self::CancelRequestItemResponse(_) => ServiceKind::CancelRequestItem,
            Self::RenewItem(_) | Self::RenewItemResponse(_) => ServiceKind::RenewItem,
            Self::LookupItem(_) | Self::LookupItemResponse(_) => ServiceKind::LookupItem,
            Self::LookupVersion(_) | Self::LookupVersionResponse(_) => ServiceKind::LookupVersion,
            Self::OtherResponse(r) => ServiceKind::Other(r.service.clone()),
            Self::Problem(_) => ServiceKind::Other("Problem".to_owned()),
        }
    }

    /// True for `...Response` messages and top-level Problems.
    pub fn is_response(&self) -> bool {
        !matches!(
            self,
            Self::LookupUser(_)
                | Self::AcceptItem(_)
                | Self::CheckOutItem(_)
                | Self::CheckInItem(_)
                | Self::RequestItem(_)
                | Self::CancelRequestItem(_)
                | Self::RenewItem(_)
                | Self::LookupItem(_)
                | Self::LookupVersion(_)
        )
    }

    /// The request's `InitiationHeader`, if this is a request that carries one.
    pub fn initiation_header(&self) -> Option<&InitiationHeader> {
        match self {
            Self::LookupUser(m) => m.header.as_ref(),
            Self::AcceptItem(m) => m.header.as_ref(),
            Self::CheckOutItem(m) => m.header.as_ref(),
            Self::CheckInItem(m) => m.header.as_ref(),
            Self::RequestItem(m) => m.header.as_ref(),
            Self::CancelRequestItem(m) => m.header.as_ref(),
            Self::RenewItem(m) => m.header.as_ref(),
            Self::LookupItem(m) => m.header.as_ref(),
            _ => None,
        }
    }

    /// Mutable access to the request's `InitiationHeader` (the bridge rewrites `ToAgencyId` and
    /// `ApplicationProfileType` before forwarding to Alma).
    pub fn initiation_header_mut(&mut self) -> Option<&mut InitiationHeader> {
        match self {
            Self::LookupUser(m) => m.header.as_mut(),
            Self::AcceptItem(m) => m.header.as_mut(),
            Self::CheckOutItem(m) => m.header.as_mut(),
            Self::CheckInItem(m) => m.header.as_mut(),
            Self::RequestItem(m) => m.header.as_mut(),
            Self::CancelRequestItem(m) => m.header.as_mut(),
            Self::RenewItem(m) => m.header.as_mut(),
            Self::LookupItem(m) => m.header.as_mut(),
            _ => None,
        }
    }

    /// The spans a reading of this request noted for the forwarding patch (`None` for a response, or a
    /// message built in code).
    pub(crate) fn patch_spans(&self) -> Option<&Spans> {
        let spans = match self {
            Self::LookupUser(m) => &m.patch_spans,
            Self::AcceptItem(m) => &m.patch_spans,
            Self::CheckOutItem(m) => &m.patch_spans,
            Self::CheckInItem(m) => &m.patch_spans,
            Self::RequestItem(m) => &m.patch_spans,
            Self::CancelRequestItem(m) => &m.patch_spans,
            Self::RenewItem(m) => &m.patch_spans,
            Self::LookupItem(m) => &m.patch_spans,
            _ => return None,
        };
        spans.0.as_deref()
    }

    /// Keeps what the reading of a request noted for the patch.
    pub(crate) fn set_patch_spans(&mut self, spans: Spans) {
        let slot = match self {
            Self::LookupUser(m) => &mut m.patch_spans,
            Self::AcceptItem(m) => &mut m.patch_spans,
            Self::CheckOutItem(m) => &mut m.patch_spans,
            Self::CheckInItem(m) => &mut m.patch_spans,
            Self::RequestItem(m) => &mut m.patch_spans,
            Self::CancelRequestItem(m) => &mut m.patch_spans,
            Self::RenewItem(m) => &mut m.patch_spans,
            Self::LookupItem(m) => &mut m.patch_spans,
            _ => return,
        };
        slot.0 = Some(Box::new(spans));
    }

    /// The problems a response carries (empty for requests and successful responses).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::LookupUserResponse(m) => &m.problems,
            Self::AcceptItemResponse(m) => &m.problems,
            Self::CheckOutItemResponse(m) => &m.problems,
            Self::CheckInItemResponse(m) => &m.problems,
            Self::RequestItemResponse(m) => &m.problems,
            Self::CancelRequestItemResponse(m) => &m.problems,
            Self::RenewItemResponse(m) => &m.problems,
            Self::LookupItemResponse(m) => &m.problems,
            Self::LookupVersionResponse(m) => &m.problems,
            Self::OtherResponse(m) => &m.problems,
            Self::Problem(p) => p,
            _ => &[],
        }
    }
}
