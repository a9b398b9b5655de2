//! The dispatch from a service element name to its reader, and one reader per request service.
//!
//! Requests are read strictly for the elements the NCIP 2.02 XSD requires (a missing or blank one is
//! `Needed Data Missing` with the element's path); responses (see `responses`) are read leniently
//! because the bridge must understand whatever Alma (or a vendor sample) answers.

use super::common::{
    amount, authentication_input, due_date_choice, fiscal_transaction_information, initiation_header, mandated_action,
    optional_agency, repeated, request_id, required_element, service_item_id, service_user_id, unread_service_item_id,
    unread_service_user_id,
};
use super::cursor::{Child, Cursor, Fault, Result};
use super::item::{bibliographic_id, item_optional_fields};
use super::responses::{
    accept_item_response, cancel_request_item_response, check_in_item_response, check_out_item_response,
    lookup_item_response, lookup_user_response, lookup_version_response, other_response, renew_item_response,
    request_item_response,
};
use super::user::user_optional_fields;
use crate::error::ReadErrorKind;
use crate::model::common::{AuthenticationInput, InitiationHeader, ServiceKind};
use crate::model::ids::UserId;
use crate::model::item::BibliographicId;
use crate::model::messages::{
    AcceptItem, CancelRequestItem, CheckInItem, CheckOutItem, LookupItem, LookupUser, LookupVersion, Message,
    RenewItem, RequestItem, VersionEnvelope,
};

/// Reads the service element `el` of kind `kind`. The request header, once read, is left in `seen` so
/// that a later failure can still be answered to the right agency.
pub(crate) fn read_service<'a>(
    c: &mut Cursor<'a>,
    el: &Child<'a>,
    kind: &ServiceKind,
    is_response: bool,
    envelope: VersionEnvelope,
    seen: &mut Option<InitiationHeader>,
) -> Result<Message> {
    c.strict = !is_response && !c.lenient_requests;
    Ok(match (kind, is_response) {
        (ServiceKind::LookupUser, false) => Message::LookupUser(lookup_user(c, el, seen)?),
        (ServiceKind::LookupUser, true) => Message::LookupUserResponse(lookup_user_response(c, el)?),
        (ServiceKind::AcceptItem, false) => Message::AcceptItem(accept_item(c, el, seen)?),
        (ServiceKind::AcceptItem, true) => Message::AcceptItemResponse(accept_item_response(c, el)?),
        (ServiceKind::CheckOutItem, false) => Message::CheckOutItem(check_out_item(c, el, seen)?),
        (ServiceKind::CheckOutItem, true) => Message::CheckOutItemResponse(check_out_item_response(c, el)?),
        (ServiceKind::CheckInItem, false) => Message::CheckInItem(check_in_item(c, el, seen)?),
        (ServiceKind::CheckInItem, true) => Message::CheckInItemResponse(check_in_item_response(c, el)?),
        (ServiceKind::RequestItem, false) => Message::RequestItem(request_item(c, el, seen)?),
        (ServiceKind::RequestItem, true) => Message::RequestItemResponse(request_item_response(c, el)?),
        (ServiceKind::CancelRequestItem, false) => Message::CancelRequestItem(cancel_request_item(c, el, seen)?),
        (ServiceKind::CancelRequestItem, true) => {
            Message::CancelRequestItemResponse(cancel_request_item_response(c, el)?)
        }
        (ServiceKind::RenewItem, false) => Message::RenewItem(renew_item(c, el, seen)?),
        (ServiceKind::RenewItem, true) => Message::RenewItemResponse(renew_item_response(c, el)?),
        (ServiceKind::LookupItem, false) => Message::LookupItem(lookup_item(c, el, seen)?),
        (ServiceKind::LookupItem, true) => Message::LookupItemResponse(lookup_item_response(c, el)?),
        (ServiceKind::LookupVersion, false) => Message::LookupVersion(lookup_version(c, el, envelope)?),
        (ServiceKind::LookupVersion, true) => Message::LookupVersionResponse(lookup_version_response(c, el, envelope)?),
        (ServiceKind::Other(_), false) => {
            // Read just enough to address the Unsupported Service answer.
            while let Some(ch) = c.next_child(el)? {
                match ch.name() {
                    "InitiationHeader" if seen.is_none() => {
                        c.strict = false;
                        *seen = Some(initiation_header(c, &ch)?);
                    }
                    _ => c.skip(&ch)?,
                }
            }
            return Err(Fault::new(ReadErrorKind::UnsupportedService));
        }
        (ServiceKind::Other(name), true) => Message::OtherResponse(other_response(c, el, name)?),
    })
}

/// `UserId | AuthenticationInput+`: one of them is required in requests.
fn require_user(c: &Cursor<'_>, user_id: &Option<UserId>, inputs: &[AuthenticationInput]) -> Result<()> {
    if c.strict && user_id.is_none() && inputs.is_empty() {
        return Err(Fault::missing("UserId"));
    }
    Ok(())
}

/// A request's direct children that its XSD allows once, and which of them have been seen. Each is refused
/// when repeated rather than resolved: with two `UserId`s the bridge would read one patron while the patch
/// (and Alma) acted on another, and with two `FromAgencyId`s the allow-list would check one of them only.
struct Once {
    names: &'static [&'static str],
    seen: u32,
}

impl Once {
    const fn of(names: &'static [&'static str]) -> Self {
        Self { names, seen: 0 }
    }

    /// The next child of `el`, refused in a request when it repeats one of the names allowed once.
    fn next<'a>(&mut self, c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Option<Child<'a>>> {
        let child = c.next_child(el)?;
        if let Some(ch) = &child
            && c.strict
            && let Some(index) = self.names.iter().position(|name| *name == ch.name())
        {
            let bit = 1 << index;
            if self.seen & bit != 0 {
                return Err(repeated(ch.name()));
            }
            self.seen |= bit;
        }
        Ok(child)
    }
}

/// The identifiers a service's request carries once: the header, and the patron, item and request it acts on
/// (`UserId` and `RequestId` are refused twice even where the XSD has none, as in CheckInItem: the patch
/// would still find them).
const SINGLE_IDS: &[&str] = &["InitiationHeader", "UserId", "ItemId", "RequestId"];

fn lookup_user<'a>(c: &mut Cursor<'a>, el: &Child<'a>, seen: &mut Option<InitiationHeader>) -> Result<LookupUser> {
    let mut m = LookupUser::default();
    let mut once = Once::of(SINGLE_IDS);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "UserId" => m.user_id = Some(c.within(&ch, service_user_id)?),
            "ItemId" => unread_service_item_id(c, &ch)?,
            "AuthenticationInput" => m.authentication_inputs.push(c.within(&ch, authentication_input)?),
            "UserElementType" => m.user_element_types.push(c.scheme_value(&ch)?),
            "LoanedItemsDesired" => {
                c.skip(&ch)?;
                m.loaned_items_desired = true;
            }
            "RequestedItemsDesired" => {
                c.skip(&ch)?;
                m.requested_items_desired = true;
            }
            "UserFiscalAccountDesired" => {
                c.skip(&ch)?;
                m.user_fiscal_account_desired = true;
            }
            _ => c.skip(&ch)?,
        }
    }
    require_user(c, &m.user_id, &m.authentication_inputs)?;
    m.header = seen.take();
    Ok(m)
}

fn accept_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>, seen: &mut Option<InitiationHeader>) -> Result<AcceptItem> {
    let mut m = AcceptItem::default();
    let (mut request, mut action) = (None, None);
    let mut once = Once::of(SINGLE_IDS);
    while let Some(ch) = once.next(c, el)? {
        if due_date_choice(c, &ch, "DateForReturn", &mut m.date_for_return)? {
            continue;
        }
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "MandatedAction" => m.mandated_action = c.within(&ch, mandated_action)?,
            "RequestId" => request = Some(c.within(&ch, request_id)?),
            "RequestedActionType" => action = Some(c.scheme_value(&ch)?),
            "UserId" => m.user_id = Some(c.within(&ch, service_user_id)?),
            "ItemId" => m.item_id = Some(c.within(&ch, service_item_id)?),
            "RenewalNotPermitted" => {
                c.skip(&ch)?;
                m.renewal_not_permitted = true;
            }
            "FiscalTransactionInformation" => {
                m.fiscal_transaction_information = Some(c.within(&ch, fiscal_transaction_information)?);
            }
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            "UserOptionalFields" => m.user_optional_fields = Some(c.within(&ch, user_optional_fields)?),
            "PickupLocation" => m.pickup_location = Some(c.scheme_value(&ch)?),
            "PickupExpiryDate" => m.pickup_expiry_date = Some(c.date(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    m.request_id = required_element(c, request, "RequestId")?;
    m.requested_action_type = required_element(c, action, "RequestedActionType")?;
    m.header = seen.take();
    Ok(m)
}

fn check_out_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>, seen: &mut Option<InitiationHeader>) -> Result<CheckOutItem> {
    let mut m = CheckOutItem::default();
    let mut item = None;
    let mut once = Once::of(SINGLE_IDS);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "MandatedAction" => m.mandated_action = c.within(&ch, mandated_action)?,
            "UserId" => m.user_id = Some(c.within(&ch, service_user_id)?),
            "AuthenticationInput" => m.authentication_inputs.push(c.within(&ch, authentication_input)?),
            "ItemId" => item = Some(c.within(&ch, service_item_id)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "AcknowledgedFeeAmount" => m.acknowledged_fee_amount = Some(c.within(&ch, amount)?),
            "PaidFeeAmount" => m.paid_fee_amount = Some(c.within(&ch, amount)?),
            "AcknowledgedItemUseRestrictionType" => {
                m.acknowledged_item_use_restriction_types.push(c.scheme_value(&ch)?);
            }
            "ResourceDesired" => {
                c.skip(&ch)?;
                m.resource_desired = true;
            }
            "DesiredDateDue" => m.desired_date_due = Some(c.date(&ch)?),
            "ItemElementType" => m.item_element_types.push(c.scheme_value(&ch)?),
            "UserElementType" => m.user_element_types.push(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    require_user(c, &m.user_id, &m.authentication_inputs)?;
    m.item_id = required_element(c, item, "ItemId")?;
    m.header = seen.take();
    Ok(m)
}

fn check_in_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>, seen: &mut Option<InitiationHeader>) -> Result<CheckInItem> {
    let mut m = CheckInItem::default();
    let mut item = None;
    let mut once = Once::of(SINGLE_IDS);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "UserId" => unread_service_user_id(c, &ch)?,
            "MandatedAction" => m.mandated_action = c.within(&ch, mandated_action)?,
            "ItemId" => item = Some(c.within(&ch, service_item_id)?),
            "ItemElementType" => m.item_element_types.push(c.scheme_value(&ch)?),
            "UserElementType" => m.user_element_types.push(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    m.item_id = required_element(c, item, "ItemId")?;
    m.header = seen.take();
    Ok(m)
}

fn request_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>, seen: &mut Option<InitiationHeader>) -> Result<RequestItem> {
    let mut m = RequestItem::default();
    let (mut request_type, mut scope) = (None, None);
    let mut once = Once::of(&["InitiationHeader", "UserId", "RequestId"]);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "MandatedAction" => m.mandated_action = c.within(&ch, mandated_action)?,
            "UserId" => m.user_id = Some(c.within(&ch, service_user_id)?),
            "AuthenticationInput" => m.authentication_inputs.push(c.within(&ch, authentication_input)?),
            "ItemId" => m.item_ids.push(c.within(&ch, service_item_id)?),
            "BibliographicId" => m.bibliographic_ids.extend(c.within(&ch, bibliographic_id)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "RequestType" => request_type = Some(c.scheme_value(&ch)?),
            "RequestScopeType" => scope = Some(c.scheme_value(&ch)?),
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            "EarliestDateNeeded" => m.earliest_date_needed = Some(c.date(&ch)?),
            "NeedBeforeDate" => m.need_before_date = Some(c.date(&ch)?),
            "PickupLocation" => m.pickup_location = Some(c.scheme_value(&ch)?),
            "PickupExpiryDate" => m.pickup_expiry_date = Some(c.date(&ch)?),
            "AcknowledgedFeeAmount" => m.acknowledged_fee_amount = Some(c.within(&ch, amount)?),
            "PaidFeeAmount" => m.paid_fee_amount = Some(c.within(&ch, amount)?),
            "AcknowledgedItemUseRestrictionType" => {
                m.acknowledged_item_use_restriction_types.push(c.scheme_value(&ch)?);
            }
            "ItemElementType" => m.item_element_types.push(c.scheme_value(&ch)?),
            "UserElementType" => m.user_element_types.push(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    require_user(c, &m.user_id, &m.authentication_inputs)?;
    require_item_or_bibliographic_id(&m.item_ids, &m.bibliographic_ids)?;
    m.request_type = required_element(c, request_type, "RequestType")?;
    m.request_scope_type = required_element(c, scope, "RequestScopeType")?;
    m.header = seen.take();
    Ok(m)
}

/// RequestItem needs an `ItemId` or a usable `BibliographicId` (XSD choice). When the only
/// bibliographic ids are blank (mod-ncip's barcode-fallback sample), the blank one is reported.
fn require_item_or_bibliographic_id(items: &[crate::model::ids::ItemId], bibs: &[BibliographicId]) -> Result<()> {
    if !items.is_empty() {
        return Ok(());
    }
    let blank = |id: &BibliographicId| match id {
        BibliographicId::Item(i) => i.identifier.trim().is_empty(),
        BibliographicId::Record(r) => r.identifier.trim().is_empty(),
    };
    match bibs.iter().find(|id| !blank(id)) {
        Some(_) => Ok(()),
        None => match bibs.first() {
            Some(BibliographicId::Item(i)) => Err(Fault::blank("BibliographicItemIdentifier", &i.identifier)
                .within("BibliographicItemId")
                .within("BibliographicId")),
            Some(BibliographicId::Record(r)) => Err(Fault::blank("BibliographicRecordIdentifier", &r.identifier)
                .within("BibliographicRecordId")
                .within("BibliographicId")),
            None => Err(Fault::missing("ItemId")),
        },
    }
}

fn cancel_request_item<'a>(
    c: &mut Cursor<'a>,
    el: &Child<'a>,
    seen: &mut Option<InitiationHeader>,
) -> Result<CancelRequestItem> {
    let mut m = CancelRequestItem::default();
    let mut once = Once::of(SINGLE_IDS);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "MandatedAction" => m.mandated_action = c.within(&ch, mandated_action)?,
            "UserId" => m.user_id = Some(c.within(&ch, service_user_id)?),
            "AuthenticationInput" => m.authentication_inputs.push(c.within(&ch, authentication_input)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "ItemId" => m.item_id = Some(c.within(&ch, service_item_id)?),
            "RequestType" => m.request_type = Some(c.scheme_value(&ch)?),
            "RequestScopeType" => m.request_scope_type = Some(c.scheme_value(&ch)?),
            "AcknowledgedFeeAmount" => m.acknowledged_fee_amount = Some(c.within(&ch, amount)?),
            "PaidFeeAmount" => m.paid_fee_amount = Some(c.within(&ch, amount)?),
            "ItemElementType" => m.item_element_types.push(c.scheme_value(&ch)?),
            "UserElementType" => m.user_element_types.push(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    require_user(c, &m.user_id, &m.authentication_inputs)?;
    if m.request_id.is_none() && m.item_id.is_none() {
        return Err(Fault::missing("RequestId"));
    }
    m.header = seen.take();
    Ok(m)
}

fn renew_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>, seen: &mut Option<InitiationHeader>) -> Result<RenewItem> {
    let mut m = RenewItem::default();
    let mut item = None;
    let mut once = Once::of(SINGLE_IDS);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "MandatedAction" => m.mandated_action = c.within(&ch, mandated_action)?,
            "UserId" => m.user_id = Some(c.within(&ch, service_user_id)?),
            "AuthenticationInput" => m.authentication_inputs.push(c.within(&ch, authentication_input)?),
            "ItemId" => item = Some(c.within(&ch, service_item_id)?),
            "ItemElementType" => m.item_element_types.push(c.scheme_value(&ch)?),
            "UserElementType" => m.user_element_types.push(c.scheme_value(&ch)?),
            "DesiredDateDue" => m.desired_date_due = Some(c.date(&ch)?),
            "DesiredDateForReturn" => m.desired_date_for_return = Some(c.date(&ch)?),
            "AcknowledgedFeeAmount" => m.acknowledged_fee_amount = Some(c.within(&ch, amount)?),
            "PaidFeeAmount" => m.paid_fee_amount = Some(c.within(&ch, amount)?),
            "AcknowledgedItemUseRestrictionType" => {
                m.acknowledged_item_use_restriction_types.push(c.scheme_value(&ch)?);
            }
            _ => c.skip(&ch)?,
        }
    }
    require_user(c, &m.user_id, &m.authentication_inputs)?;
    m.item_id = required_element(c, item, "ItemId")?;
    m.header = seen.take();
    Ok(m)
}

fn lookup_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>, seen: &mut Option<InitiationHeader>) -> Result<LookupItem> {
    let mut m = LookupItem::default();
    let mut once = Once::of(SINGLE_IDS);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "InitiationHeader" => *seen = Some(c.within(&ch, initiation_header)?),
            "UserId" => unread_service_user_id(c, &ch)?,
            "ItemId" => m.item_id = Some(c.within(&ch, service_item_id)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "ItemElementType" => m.item_element_types.push(c.scheme_value(&ch)?),
            "CurrentBorrowerDesired" => {
                c.skip(&ch)?;
                m.current_borrower_desired = true;
            }
            "CurrentRequestersDesired" => {
                c.skip(&ch)?;
                m.current_requesters_desired = true;
            }
            _ => c.skip(&ch)?,
        }
    }
    if m.item_id.is_none() && m.request_id.is_none() {
        return Err(Fault::missing("ItemId"));
    }
    m.header = seen.take();
    Ok(m)
}

fn lookup_version<'a>(c: &mut Cursor<'a>, el: &Child<'a>, envelope: VersionEnvelope) -> Result<LookupVersion> {
    let mut m = LookupVersion { envelope, ..Default::default() };
    let mut once = Once::of(&["FromAgencyId", "ToAgencyId"]);
    while let Some(ch) = once.next(c, el)? {
        match ch.name() {
            "FromAgencyId" => m.from_agency_id = c.within(&ch, optional_agency)?,
            "ToAgencyId" => m.to_agency_id = c.within(&ch, optional_agency)?,
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}
