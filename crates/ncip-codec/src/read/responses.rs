//! Readers for the response messages (what Alma, or a vendor sample, answers). Read leniently: every
//! element optional, problems and data both kept.

use super::common::{
    amount, due_date_choice, fiscal_transaction_information, item_id, optional_agency, problem, request_id,
    response_header, user_id,
};
use super::cursor::{Child, Cursor, Result};
use super::item::item_optional_fields;
use super::user::{loaned_item, requested_item, user_fiscal_account, user_optional_fields};
use crate::model::messages::{
    AcceptItemResponse, CancelRequestItemResponse, CheckInItemResponse, CheckOutItemResponse, LookupItemResponse,
    LookupUserResponse, LookupVersionResponse, OtherResponse, RenewItemResponse, RequestItemResponse, VersionEnvelope,
};

pub(crate) fn lookup_user_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<LookupUserResponse> {
    let mut m = LookupUserResponse::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "UserId" => m.user_id = Some(c.within(&ch, user_id)?),
            "UserFiscalAccount" => m.user_fiscal_accounts.push(c.within(&ch, user_fiscal_account)?),
            "LoanedItem" => m.loaned_items.push(c.within(&ch, loaned_item)?),
            "RequestedItem" => m.requested_items.push(c.within(&ch, requested_item)?),
            "UserOptionalFields" => m.user_optional_fields = Some(c.within(&ch, user_optional_fields)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn accept_item_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<AcceptItemResponse> {
    let mut m = AcceptItemResponse::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "ItemId" => m.item_id = Some(c.within(&ch, item_id)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn check_out_item_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<CheckOutItemResponse> {
    let mut m = CheckOutItemResponse::default();
    while let Some(ch) = c.next_child(el)? {
        if due_date_choice(c, &ch, "DateDue", &mut m.date_due)? {
            continue;
        }
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "RequiredFeeAmount" => m.required_fee_amount = Some(c.within(&ch, amount)?),
            "RequiredItemUseRestrictionType" => m.required_item_use_restriction_types.push(c.scheme_value(&ch)?),
            "ItemId" => m.item_id = Some(c.within(&ch, item_id)?),
            "UserId" => m.user_id = Some(c.within(&ch, user_id)?),
            "RenewalCount" => m.renewal_count = Some(c.unsigned(&ch)?),
            "FiscalTransactionInformation" => {
                m.fiscal_transaction_information = Some(c.within(&ch, fiscal_transaction_information)?);
            }
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            "UserOptionalFields" => m.user_optional_fields = Some(c.within(&ch, user_optional_fields)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn check_in_item_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<CheckInItemResponse> {
    let mut m = CheckInItemResponse::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "ItemId" => m.item_id = Some(c.within(&ch, item_id)?),
            "UserId" => m.user_id = Some(c.within(&ch, user_id)?),
            "FiscalTransactionInformation" => {
                m.fiscal_transaction_information = Some(c.within(&ch, fiscal_transaction_information)?);
            }
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            "UserOptionalFields" => m.user_optional_fields = Some(c.within(&ch, user_optional_fields)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn request_item_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<RequestItemResponse> {
    let mut m = RequestItemResponse::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "RequiredFeeAmount" => m.required_fee_amount = Some(c.within(&ch, amount)?),
            "RequiredItemUseRestrictionType" => m.required_item_use_restriction_types.push(c.scheme_value(&ch)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "ItemId" => m.item_id = Some(c.within(&ch, item_id)?),
            "UserId" => m.user_id = Some(c.within(&ch, user_id)?),
            "RequestType" => m.request_type = Some(c.scheme_value(&ch)?),
            "RequestScopeType" => m.request_scope_type = Some(c.scheme_value(&ch)?),
            "DateAvailable" => m.date_available = Some(c.date(&ch)?),
            "HoldPickupDate" => m.hold_pickup_date = Some(c.date(&ch)?),
            "FiscalTransactionInformation" => {
                m.fiscal_transaction_information = Some(c.within(&ch, fiscal_transaction_information)?);
            }
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            "UserOptionalFields" => m.user_optional_fields = Some(c.within(&ch, user_optional_fields)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn cancel_request_item_response<'a>(
    c: &mut Cursor<'a>,
    el: &Child<'a>,
) -> Result<CancelRequestItemResponse> {
    let mut m = CancelRequestItemResponse::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "ItemId" => m.item_id = Some(c.within(&ch, item_id)?),
            "UserId" => m.user_id = Some(c.within(&ch, user_id)?),
            "FiscalTransactionInformation" => {
                m.fiscal_transaction_information = Some(c.within(&ch, fiscal_transaction_information)?);
            }
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            "UserOptionalFields" => m.user_optional_fields = Some(c.within(&ch, user_optional_fields)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn renew_item_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<RenewItemResponse> {
    let mut m = RenewItemResponse::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "RequiredFeeAmount" => m.required_fee_amount = Some(c.within(&ch, amount)?),
            "RequiredItemUseRestrictionType" => m.required_item_use_restriction_types.push(c.scheme_value(&ch)?),
            "ItemId" => m.item_id = Some(c.within(&ch, item_id)?),
            "UserId" => m.user_id = Some(c.within(&ch, user_id)?),
            "DateDue" => m.date_due = Some(c.date(&ch)?),
            "DateForReturn" => m.date_for_return = Some(c.date(&ch)?),
            "RenewalCount" => m.renewal_count = Some(c.unsigned(&ch)?),
            "FiscalTransactionInformation" => {
                m.fiscal_transaction_information = Some(c.within(&ch, fiscal_transaction_information)?);
            }
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            "UserOptionalFields" => m.user_optional_fields = Some(c.within(&ch, user_optional_fields)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn lookup_item_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<LookupItemResponse> {
    let mut m = LookupItemResponse::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "RequestId" => m.request_id = Some(c.within(&ch, request_id)?),
            "ItemId" => m.item_id = Some(c.within(&ch, item_id)?),
            "HoldPickupDate" => m.hold_pickup_date = Some(c.date(&ch)?),
            "DateRecalled" => m.date_recalled = Some(c.date(&ch)?),
            "ItemOptionalFields" => m.item_optional_fields = Some(c.within(&ch, item_optional_fields)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn lookup_version_response<'a>(
    c: &mut Cursor<'a>,
    el: &Child<'a>,
    envelope: VersionEnvelope,
) -> Result<LookupVersionResponse> {
    let mut m = LookupVersionResponse { envelope, ..Default::default() };
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "FromAgencyId" => m.from_agency_id = c.within(&ch, optional_agency)?,
            "ToAgencyId" => m.to_agency_id = c.within(&ch, optional_agency)?,
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            "VersionSupported" => m.versions_supported.push(c.string(&ch)?),
            "ServiceSupported" => m.services_supported.push(c.string(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

pub(crate) fn other_response<'a>(c: &mut Cursor<'a>, el: &Child<'a>, service: &str) -> Result<OtherResponse> {
    let mut m = OtherResponse { service: service.to_owned(), ..Default::default() };
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ResponseHeader" => m.header = Some(c.within(&ch, response_header)?),
            "Problem" => m.problems.push(c.within(&ch, problem)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(m)
}

/// Top-level `NCIPMessage/Problem` elements, starting with the one already entered.
pub(crate) fn top_level_problem<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<crate::problem::Problem> {
    c.strict = false;
    problem(c, el)
}
