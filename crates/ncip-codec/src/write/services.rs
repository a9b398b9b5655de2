//! One writer per service message, in NCIP 2.02 XSD sequence order.
//!
//! A response holds either `Problem`s (with `RequiredFeeAmount` / `RequiredItemUseRestrictionType` where
//! the XSD allows them) or its data: an XSD choice. The writer emits what the value holds, in that order,
//! so values built by `problem_response` or holding only data are schema-valid, and a value read from a
//! schema-invalid answer carrying both is still written back losslessly (fuzzing found that dropping the
//! data broke `read(write(read(x))) == read(x)`).

use super::common::{
    agency_wrapper, authentication_inputs, item_id, opt_amount, opt_due_date, opt_fiscal_transaction_information,
    opt_initiation_header, opt_item_id, opt_mandated_action, opt_request_id, opt_response_header, opt_user_id,
    problems, request_id,
};
use super::item::{bibliographic_ids, opt_item_optional_fields};
use super::user::{loaned_items, opt_user_optional_fields, requested_items, user_fiscal_accounts};
use super::xml::XmlWriter;
use crate::model::common::{Amount, ResponseHeader};
use crate::model::ids::SchemeValue;
use crate::model::messages::{
    AcceptItem, AcceptItemResponse, CancelRequestItem, CancelRequestItemResponse, CheckInItem, CheckInItemResponse,
    CheckOutItem, CheckOutItemResponse, LookupItem, LookupItemResponse, LookupUser, LookupUserResponse, LookupVersion,
    LookupVersionResponse, Message, OtherResponse, RenewItem, RenewItemResponse, RequestItem, RequestItemResponse,
};
use crate::problem::Problem;

/// Writes the service element of `msg` (everything inside the root).
pub(crate) fn service(w: &mut XmlWriter, msg: &Message) {
    match msg {
        Message::LookupUser(m) => lookup_user(w, m),
        Message::LookupUserResponse(m) => lookup_user_response(w, m),
        Message::AcceptItem(m) => accept_item(w, m),
        Message::AcceptItemResponse(m) => accept_item_response(w, m),
        Message::CheckOutItem(m) => check_out_item(w, m),
        Message::CheckOutItemResponse(m) => check_out_item_response(w, m),
        Message::CheckInItem(m) => check_in_item(w, m),
        Message::CheckInItemResponse(m) => check_in_item_response(w, m),
        Message::RequestItem(m) => request_item(w, m),
        Message::RequestItemResponse(m) => request_item_response(w, m),
        Message::CancelRequestItem(m) => cancel_request_item(w, m),
        Message::CancelRequestItemResponse(m) => cancel_request_item_response(w, m),
        Message::RenewItem(m) => renew_item(w, m),
        Message::RenewItemResponse(m) => renew_item_response(w, m),
        Message::LookupItem(m) => lookup_item(w, m),
        Message::LookupItemResponse(m) => lookup_item_response(w, m),
        Message::LookupVersion(m) => lookup_version(w, m),
        Message::LookupVersionResponse(m) => lookup_version_response(w, m),
        Message::OtherResponse(m) => other_response(w, m),
        Message::Problem(p) => problems(w, p),
    }
}

/// Opens a response: element, header, and its problems.
fn open_response(w: &mut XmlWriter, name: &str, header: Option<&ResponseHeader>, found: &[Problem]) {
    w.start(name);
    opt_response_header(w, header);
    problems(w, found);
}

/// `RequiredFeeAmount` and `RequiredItemUseRestrictionType`, which only accompany problems.
fn requirements(w: &mut XmlWriter, fee: Option<&Amount>, restrictions: &[SchemeValue]) {
    opt_amount(w, "RequiredFeeAmount", fee);
    w.scheme_values("RequiredItemUseRestrictionType", restrictions);
}

fn lookup_user(w: &mut XmlWriter, m: &LookupUser) {
    w.start("LookupUser");
    opt_initiation_header(w, m.header.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    authentication_inputs(w, &m.authentication_inputs);
    w.scheme_values("UserElementType", &m.user_element_types);
    w.flag_if("LoanedItemsDesired", m.loaned_items_desired);
    w.flag_if("RequestedItemsDesired", m.requested_items_desired);
    w.flag_if("UserFiscalAccountDesired", m.user_fiscal_account_desired);
    w.end("LookupUser");
}

fn lookup_user_response(w: &mut XmlWriter, m: &LookupUserResponse) {
    open_response(w, "LookupUserResponse", m.header.as_ref(), &m.problems);
    opt_user_id(w, m.user_id.as_ref());
    user_fiscal_accounts(w, &m.user_fiscal_accounts);
    loaned_items(w, &m.loaned_items);
    requested_items(w, &m.requested_items);
    opt_user_optional_fields(w, m.user_optional_fields.as_ref());
    w.end("LookupUserResponse");
}

fn accept_item(w: &mut XmlWriter, m: &AcceptItem) {
    w.start("AcceptItem");
    opt_initiation_header(w, m.header.as_ref());
    opt_mandated_action(w, m.mandated_action.as_ref());
    request_id(w, &m.request_id);
    w.scheme_value("RequestedActionType", &m.requested_action_type);
    opt_user_id(w, m.user_id.as_ref());
    opt_item_id(w, m.item_id.as_ref());
    opt_due_date(w, "DateForReturn", m.date_for_return.as_ref());
    w.flag_if("RenewalNotPermitted", m.renewal_not_permitted);
    opt_fiscal_transaction_information(w, m.fiscal_transaction_information.as_ref());
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    opt_user_optional_fields(w, m.user_optional_fields.as_ref());
    w.opt_scheme_value("PickupLocation", m.pickup_location.as_ref());
    w.opt_date("PickupExpiryDate", m.pickup_expiry_date);
    w.end("AcceptItem");
}

fn accept_item_response(w: &mut XmlWriter, m: &AcceptItemResponse) {
    open_response(w, "AcceptItemResponse", m.header.as_ref(), &m.problems);
    opt_request_id(w, m.request_id.as_ref());
    opt_item_id(w, m.item_id.as_ref());
    w.end("AcceptItemResponse");
}

fn check_out_item(w: &mut XmlWriter, m: &CheckOutItem) {
    w.start("CheckOutItem");
    opt_initiation_header(w, m.header.as_ref());
    opt_mandated_action(w, m.mandated_action.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    authentication_inputs(w, &m.authentication_inputs);
    item_id(w, &m.item_id);
    opt_request_id(w, m.request_id.as_ref());
    opt_amount(w, "AcknowledgedFeeAmount", m.acknowledged_fee_amount.as_ref());
    opt_amount(w, "PaidFeeAmount", m.paid_fee_amount.as_ref());
    w.scheme_values("AcknowledgedItemUseRestrictionType", &m.acknowledged_item_use_restriction_types);
    w.flag_if("ResourceDesired", m.resource_desired);
    w.opt_date("DesiredDateDue", m.desired_date_due);
    w.scheme_values("ItemElementType", &m.item_element_types);
    w.scheme_values("UserElementType", &m.user_element_types);
    w.end("CheckOutItem");
}

fn check_out_item_response(w: &mut XmlWriter, m: &CheckOutItemResponse) {
    open_response(w, "CheckOutItemResponse", m.header.as_ref(), &m.problems);
    requirements(w, m.required_fee_amount.as_ref(), &m.required_item_use_restriction_types);
    opt_item_id(w, m.item_id.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    opt_due_date(w, "DateDue", m.date_due.as_ref());
    w.opt_number("RenewalCount", m.renewal_count);
    opt_fiscal_transaction_information(w, m.fiscal_transaction_information.as_ref());
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    opt_user_optional_fields(w, m.user_optional_fields.as_ref());
    w.end("CheckOutItemResponse");
}

fn check_in_item(w: &mut XmlWriter, m: &CheckInItem) {
    w.start("CheckInItem");
    opt_initiation_header(w, m.header.as_ref());
    opt_mandated_action(w, m.mandated_action.as_ref());
    item_id(w, &m.item_id);
    w.scheme_values("ItemElementType", &m.item_element_types);
    w.scheme_values("UserElementType", &m.user_element_types);
    w.end("CheckInItem");
}

fn check_in_item_response(w: &mut XmlWriter, m: &CheckInItemResponse) {
    open_response(w, "CheckInItemResponse", m.header.as_ref(), &m.problems);
    opt_item_id(w, m.item_id.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    opt_fiscal_transaction_information(w, m.fiscal_transaction_information.as_ref());
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    opt_user_optional_fields(w, m.user_optional_fields.as_ref());
    w.end("CheckInItemResponse");
}

fn request_item(w: &mut XmlWriter, m: &RequestItem) {
    w.start("RequestItem");
    opt_initiation_header(w, m.header.as_ref());
    opt_mandated_action(w, m.mandated_action.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    authentication_inputs(w, &m.authentication_inputs);
    // XSD choice: ItemId+ | (BibliographicId+, ItemId*).
    bibliographic_ids(w, &m.bibliographic_ids);
    for id in &m.item_ids {
        item_id(w, id);
    }
    opt_request_id(w, m.request_id.as_ref());
    w.scheme_value("RequestType", &m.request_type);
    w.scheme_value("RequestScopeType", &m.request_scope_type);
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    w.opt_date("EarliestDateNeeded", m.earliest_date_needed);
    w.opt_date("NeedBeforeDate", m.need_before_date);
    w.opt_scheme_value("PickupLocation", m.pickup_location.as_ref());
    w.opt_date("PickupExpiryDate", m.pickup_expiry_date);
    opt_amount(w, "AcknowledgedFeeAmount", m.acknowledged_fee_amount.as_ref());
    opt_amount(w, "PaidFeeAmount", m.paid_fee_amount.as_ref());
    w.scheme_values("AcknowledgedItemUseRestrictionType", &m.acknowledged_item_use_restriction_types);
    w.scheme_values("ItemElementType", &m.item_element_types);
    w.scheme_values("UserElementType", &m.user_element_types);
    w.end("RequestItem");
}

fn request_item_response(w: &mut XmlWriter, m: &RequestItemResponse) {
    open_response(w, "RequestItemResponse", m.header.as_ref(), &m.problems);
    requirements(w, m.required_fee_amount.as_ref(), &m.required_item_use_restriction_types);
    opt_request_id(w, m.request_id.as_ref());
    opt_item_id(w, m.item_id.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    w.opt_scheme_value("RequestType", m.request_type.as_ref());
    w.opt_scheme_value("RequestScopeType", m.request_scope_type.as_ref());
    w.opt_date("DateAvailable", m.date_available);
    w.opt_date("HoldPickupDate", m.hold_pickup_date);
    opt_fiscal_transaction_information(w, m.fiscal_transaction_information.as_ref());
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    opt_user_optional_fields(w, m.user_optional_fields.as_ref());
    w.end("RequestItemResponse");
}

fn cancel_request_item(w: &mut XmlWriter, m: &CancelRequestItem) {
    w.start("CancelRequestItem");
    opt_initiation_header(w, m.header.as_ref());
    opt_mandated_action(w, m.mandated_action.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    authentication_inputs(w, &m.authentication_inputs);
    opt_request_id(w, m.request_id.as_ref());
    opt_item_id(w, m.item_id.as_ref());
    w.opt_scheme_value("RequestType", m.request_type.as_ref());
    w.opt_scheme_value("RequestScopeType", m.request_scope_type.as_ref());
    opt_amount(w, "AcknowledgedFeeAmount", m.acknowledged_fee_amount.as_ref());
    opt_amount(w, "PaidFeeAmount", m.paid_fee_amount.as_ref());
    w.scheme_values("ItemElementType", &m.item_element_types);
    w.scheme_values("UserElementType", &m.user_element_types);
    w.end("CancelRequestItem");
}

fn cancel_request_item_response(w: &mut XmlWriter, m: &CancelRequestItemResponse) {
    open_response(w, "CancelRequestItemResponse", m.header.as_ref(), &m.problems);
    opt_request_id(w, m.request_id.as_ref());
    opt_item_id(w, m.item_id.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    opt_fiscal_transaction_information(w, m.fiscal_transaction_information.as_ref());
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    opt_user_optional_fields(w, m.user_optional_fields.as_ref());
    w.end("CancelRequestItemResponse");
}

fn renew_item(w: &mut XmlWriter, m: &RenewItem) {
    w.start("RenewItem");
    opt_initiation_header(w, m.header.as_ref());
    opt_mandated_action(w, m.mandated_action.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    authentication_inputs(w, &m.authentication_inputs);
    item_id(w, &m.item_id);
    w.scheme_values("ItemElementType", &m.item_element_types);
    w.scheme_values("UserElementType", &m.user_element_types);
    w.opt_date("DesiredDateDue", m.desired_date_due);
    w.opt_date("DesiredDateForReturn", m.desired_date_for_return);
    opt_amount(w, "AcknowledgedFeeAmount", m.acknowledged_fee_amount.as_ref());
    opt_amount(w, "PaidFeeAmount", m.paid_fee_amount.as_ref());
    w.scheme_values("AcknowledgedItemUseRestrictionType", &m.acknowledged_item_use_restriction_types);
    w.end("RenewItem");
}

fn renew_item_response(w: &mut XmlWriter, m: &RenewItemResponse) {
    open_response(w, "RenewItemResponse", m.header.as_ref(), &m.problems);
    requirements(w, m.required_fee_amount.as_ref(), &m.required_item_use_restriction_types);
    opt_item_id(w, m.item_id.as_ref());
    opt_user_id(w, m.user_id.as_ref());
    w.opt_date("DateDue", m.date_due);
    w.opt_date("DateForReturn", m.date_for_return);
    w.opt_number("RenewalCount", m.renewal_count);
    opt_fiscal_transaction_information(w, m.fiscal_transaction_information.as_ref());
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    opt_user_optional_fields(w, m.user_optional_fields.as_ref());
    w.end("RenewItemResponse");
}

fn lookup_item(w: &mut XmlWriter, m: &LookupItem) {
    w.start("LookupItem");
    opt_initiation_header(w, m.header.as_ref());
    // XSD choice ItemId | RequestId: the item wins when both were given.
    match (&m.item_id, &m.request_id) {
        (Some(item), _) => item_id(w, item),
        (None, Some(request)) => request_id(w, request),
        (None, None) => {}
    }
    w.scheme_values("ItemElementType", &m.item_element_types);
    w.flag_if("CurrentBorrowerDesired", m.current_borrower_desired);
    w.flag_if("CurrentRequestersDesired", m.current_requesters_desired);
    w.end("LookupItem");
}

fn lookup_item_response(w: &mut XmlWriter, m: &LookupItemResponse) {
    open_response(w, "LookupItemResponse", m.header.as_ref(), &m.problems);
    opt_request_id(w, m.request_id.as_ref());
    opt_item_id(w, m.item_id.as_ref());
    w.opt_date("HoldPickupDate", m.hold_pickup_date);
    w.opt_date("DateRecalled", m.date_recalled);
    opt_item_optional_fields(w, m.item_optional_fields.as_ref());
    w.end("LookupItemResponse");
}

fn lookup_version(w: &mut XmlWriter, m: &LookupVersion) {
    w.start("LookupVersion");
    if let Some(a) = &m.from_agency_id {
        agency_wrapper(w, "FromAgencyId", a);
    }
    if let Some(a) = &m.to_agency_id {
        agency_wrapper(w, "ToAgencyId", a);
    }
    w.end("LookupVersion");
}

fn lookup_version_response(w: &mut XmlWriter, m: &LookupVersionResponse) {
    w.start("LookupVersionResponse");
    if let Some(a) = &m.from_agency_id {
        agency_wrapper(w, "FromAgencyId", a);
    }
    if let Some(a) = &m.to_agency_id {
        agency_wrapper(w, "ToAgencyId", a);
    }
    problems(w, &m.problems);
    for v in &m.versions_supported {
        w.text("VersionSupported", v);
    }
    for s in &m.services_supported {
        w.text("ServiceSupported", s);
    }
    w.end("LookupVersionResponse");
}

fn other_response(w: &mut XmlWriter, m: &OtherResponse) {
    // Never turn an arbitrary string into markup: an unusable service name degrades to a top-level Problem.
    if !crate::ServiceKind::is_plain_element_name(&m.service) {
        problems(w, &m.problems);
        return;
    }
    let name = format!("{}Response", m.service);
    open_response(w, &name, m.header.as_ref(), &m.problems);
    w.end(&name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{AgencyId, ItemId, ItemIdentifier};

    fn written(msg: &Message) -> String {
        String::from_utf8(crate::write(msg)).unwrap()
    }

    #[test]
    fn a_due_date_at_an_instant_given_a_text_is_written_in_that_text() {
        let due: jiff::Timestamp = "2027-03-14T13:00:00Z".parse().unwrap();
        let answer = |at: jiff::Timestamp| {
            Message::RenewItemResponse(crate::RenewItemResponse { date_due: Some(at), ..Default::default() })
        };
        let texts = [(due, "2027-03-15T00:00:00")];
        let xml = String::from_utf8(crate::write_with_date_texts(&answer(due), &texts)).unwrap();
        assert!(xml.contains("<ns1:DateDue>2027-03-15T00:00:00</ns1:DateDue>"), "{xml}");
        // Another instant is written as always, in UTC.
        let later = due + jiff::SignedDuration::from_hours(24);
        let xml = String::from_utf8(crate::write_with_date_texts(&answer(later), &texts)).unwrap();
        assert!(xml.contains("<ns1:DateDue>2027-03-15T13:00:00Z</ns1:DateDue>"), "{xml}");
    }

    #[test]
    fn check_in_item_elements_follow_the_xsd_sequence() {
        let msg = Message::CheckInItem(CheckInItem {
            header: Some(crate::InitiationHeader {
                from_agency_id: AgencyId::new("Relais"),
                to_agency_id: AgencyId::new("01ALMA_INST"),
                application_profile_type: Some(SchemeValue::new("RELAIS")),
                ..Default::default()
            }),
            item_id: ItemId { item_identifier_value: ItemIdentifier::new("B123"), ..Default::default() },
            item_element_types: vec![SchemeValue::new("Bibliographic Description")],
            ..Default::default()
        });
        let xml = written(&msg);
        let order = [
            "<ns1:InitiationHeader>",
            "<ns1:FromAgencyId>",
            "<ns1:ToAgencyId>",
            "<ns1:ApplicationProfileType>",
            "<ns1:ItemId>",
            "<ns1:ItemElementType>",
        ];
        let positions: Vec<usize> =
            order.iter().map(|t| xml.find(t).unwrap_or_else(|| panic!("{t} in {xml}"))).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{xml}");
    }

    #[test]
    fn problem_answers_carry_no_data_and_mixed_values_are_written_losslessly() {
        let problem = Problem::unknown_item(&crate::ServiceKind::CheckOutItem, "X");
        let answer = crate::problem_response(crate::ServiceKind::CheckOutItem, None, vec![problem.clone()]);
        let xml = written(&answer);
        assert!(xml.contains("<ns1:Problem>") && !xml.contains("<ns1:ItemId>"), "{xml}");
        let mixed = Message::CheckOutItemResponse(CheckOutItemResponse {
            problems: vec![problem],
            item_id: Some(ItemId::default()),
            ..Default::default()
        });
        let xml = written(&mixed);
        assert!(xml.find("<ns1:Problem>") < xml.find("<ns1:ItemId>"), "{xml}");
        assert_eq!(crate::read(xml.as_bytes(), &Default::default()).unwrap(), mixed);
    }
}
