//! One function per NCIP service: read the request's fields, run the circulation step on the state, build
//! the `...Response`. The services are those of Alma's NCIP V.2 application profile (LookUpUser,
//! AcceptItem, RequestItem, CheckOutItem, CheckInItem, CancelRequestItem, RenewItem; RecallItem is not
//! modelled); anything else is Unsupported Service.

use ncip_codec::model::common::{DueDate, InitiationHeader, ResponseHeader, ServiceKind};
use ncip_codec::model::ids::{ItemId, RequestId, SchemeValue, UserId, UserIdentifier};
use ncip_codec::model::item::{
    BibliographicDescription, BibliographicId, BibliographicItemId, BibliographicRecordId, ItemOptionalFields,
    RecordIdSource,
};
use ncip_codec::model::messages::{
    AcceptItem, AcceptItemResponse, CancelRequestItem, CancelRequestItemResponse, CheckInItem, CheckInItemResponse,
    CheckOutItem, CheckOutItemResponse, LookupUser, LookupUserResponse, RenewItem, RenewItemResponse, RequestItem,
    RequestItemResponse,
};
use ncip_codec::model::user::{
    Address, ElectronicAddress, NameInformation, PersonalNameInformation, StructuredPersonalUserName,
    UserAddressInformation, UserOptionalFields,
};
use ncip_codec::problem::processing_error_scheme;
use ncip_codec::{Message, Problem};
use serde_json::Value;

use super::agencies::check_ids;
use crate::state::State;
use crate::state::circ::{self, AcceptInput, CircError, RequestInput};
use crate::state::{lending, patrons};

/// Services Alma's broker profile answers.
pub(super) fn offered(service: &ServiceKind) -> bool {
    matches!(
        service,
        ServiceKind::LookupUser
            | ServiceKind::AcceptItem
            | ServiceKind::CheckOutItem
            | ServiceKind::CheckInItem
            | ServiceKind::RequestItem
            | ServiceKind::CancelRequestItem
            | ServiceKind::RenewItem
    )
}

pub(super) fn dispatch(s: &mut State, partner: &str, h: &InitiationHeader, message: Message) -> Message {
    let service = message.service();
    let header = Some(ResponseHeader::answering(h));
    let result = match message {
        Message::AcceptItem(m) => accept_item(s, partner, header, m),
        Message::CheckOutItem(m) => check_out_item(s, partner, header, m),
        Message::CheckInItem(m) => check_in_item(s, header, m),
        Message::RequestItem(m) => request_item(s, partner, header, m),
        Message::CancelRequestItem(m) => cancel_request_item(s, partner, header, m),
        Message::RenewItem(m) => renew_item(s, header, m),
        Message::LookupUser(m) => lookup_user(s, partner, header, m),
        other => Err(Problem::unsupported_service(other.service().element_name())),
    };
    result.unwrap_or_else(|problem| ncip_codec::problem_response(service, Some(h), vec![problem]))
}

fn problem(service: &ServiceKind, e: CircError) -> Problem {
    match e {
        CircError::UnknownUser(u) => Problem::unknown_user(service, &u),
        CircError::UserBlocked(u) => Problem::user_blocked(service, &u),
        CircError::UnknownItem(i) => Problem::unknown_item(service, &i),
        CircError::ItemDoesNotCirculate(i) => Problem::item_does_not_circulate(service, &i),
        CircError::ItemNotCheckedOut(i) if *service == ServiceKind::CheckInItem => Problem::item_not_checked_out(&i),
        CircError::ItemNotCheckedOut(i) => {
            Problem::new(processing_error_scheme(service), "Item Not Checked Out", "the item is not on loan")
                .with_element("ItemId/ItemIdentifierValue")
                .with_value(i)
        }
        CircError::UnknownRequest(r) => Problem::unknown_request(service, &r),
        CircError::RequestAlreadyProcessed(r) => {
            Problem::new(processing_error_scheme(service), "Request Already Processed", "the item has been shipped")
                .with_element("RequestId/RequestIdentifierValue")
                .with_value(r)
        }
        CircError::DuplicateRequest(r) => Problem::duplicate_request(service, &r),
        // The text is Alma's (matched by ILLiad renewal add-ons); the ProblemType it comes under is UNCONFIRMED.
        CircError::NoChangeInDueDate(i) => Problem::new(
            processing_error_scheme(service),
            "Item Not Renewable",
            "Apply to circulation desk - Loan cannot be renewed (no change in due date)",
        )
        .with_element("DesiredDateDue")
        .with_value(i),
        // UNCONFIRMED wording: a misconfigured partner's answer was not found; Unknown User (the user cannot
        // be matched) whose detail names the setting is what staff would need to fix it.
        CircError::PartnerWithoutUserIdType { partner, user } => Problem::new(
            processing_error_scheme(service),
            "Unknown User",
            format!("partner {partner} has no User Identifier Type ({})", patrons::USER_ID_TYPE_SETTING),
        )
        .with_element("UserId/UserIdentifierValue")
        .with_value(user),
    }
}

fn user_value(user: Option<&UserId>) -> Result<String, Problem> {
    user.map(|u| u.user_identifier_value.as_str().to_owned())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Problem::needed_data_missing("UserId", "a UserId is required"))
}

fn item_value(item: Option<&ItemId>) -> Result<String, Problem> {
    item.map(|i| i.item_identifier_value.as_str().to_owned())
        .filter(|i| !i.is_empty())
        .ok_or_else(|| Problem::needed_data_missing("ItemId", "an ItemId is required"))
}

fn bib(fields: Option<&ItemOptionalFields>) -> Option<&BibliographicDescription> {
    fields.and_then(|f| f.bibliographic_description.as_ref())
}

fn isbn(b: Option<&BibliographicDescription>) -> Option<String> {
    let id = b?.bibliographic_item_id.as_ref()?;
    let is_isbn = id.code.as_ref().is_none_or(|c| c.value.to_ascii_uppercase().contains("ISBN"));
    is_isbn.then(|| id.identifier.clone())
}

fn accept_item(
    s: &mut State,
    partner: &str,
    header: Option<ResponseHeader>,
    m: AcceptItem,
) -> Result<Message, Problem> {
    let service = ServiceKind::AcceptItem;
    check_ids(s, m.user_id.as_ref(), m.item_id.as_ref())?;
    let user_id = user_value(m.user_id.as_ref())?;
    let item_barcode = item_value(m.item_id.as_ref())?;
    let b = bib(m.item_optional_fields.as_ref());
    let input = AcceptInput {
        request_id: m.request_id.request_identifier_value.as_str().to_owned(),
        item_barcode,
        user_id,
        title: b.and_then(|b| b.title.clone()),
        author: b.and_then(|b| b.author.clone()),
        isbn: isbn(b),
        date_for_return: m.date_for_return.and_then(|d| d.date()),
        pickup_library: m.pickup_location.as_ref().map(|p| p.value.clone()),
    };
    circ::accept_item(s, partner, input).map_err(|e| problem(&service, e))?;
    Ok(Message::AcceptItemResponse(AcceptItemResponse {
        header,
        request_id: Some(m.request_id),
        item_id: m.item_id,
        ..Default::default()
    }))
}

fn check_out_item(
    s: &mut State,
    partner: &str,
    header: Option<ResponseHeader>,
    m: CheckOutItem,
) -> Result<Message, Problem> {
    let service = ServiceKind::CheckOutItem;
    // The UserId is the borrowing library's generic patron, not ours; only the item must be ours.
    check_ids(s, None, Some(&m.item_id))?;
    let barcode = item_value(Some(&m.item_id))?;
    let request_id = m.request_id.as_ref().map(|r| r.request_identifier_value.as_str().to_owned());
    let due = lending::check_out(s, partner, &barcode, request_id.as_deref(), m.desired_date_due)
        .map_err(|e| problem(&service, e))?;
    Ok(Message::CheckOutItemResponse(CheckOutItemResponse {
        header,
        item_id: Some(m.item_id),
        user_id: m.user_id,
        date_due: Some(DueDate::Date(due)),
        ..Default::default()
    }))
}

fn check_in_item(s: &mut State, header: Option<ResponseHeader>, m: CheckInItem) -> Result<Message, Problem> {
    let service = ServiceKind::CheckInItem;
    check_ids(s, None, Some(&m.item_id))?;
    let barcode = item_value(Some(&m.item_id))?;
    circ::check_in(s, &barcode).map_err(|e| problem(&service, e))?;
    Ok(Message::CheckInItemResponse(CheckInItemResponse { header, item_id: Some(m.item_id), ..Default::default() }))
}

fn request_item(
    s: &mut State,
    partner: &str,
    header: Option<ResponseHeader>,
    m: RequestItem,
) -> Result<Message, Problem> {
    let service = ServiceKind::RequestItem;
    let barcode = m.item_ids.first().map(|i| i.item_identifier_value.as_str());
    if let Some(idx) = lending::own_item(s, barcode) {
        check_ids(s, None, &m.item_ids)?;
        let rid = m.request_id.as_ref().map(|r| r.request_identifier_value.as_str().to_owned());
        let alma_id = lending::request_item(s, partner, idx, rid.as_deref()).map_err(|e| problem(&service, e))?;
        return Ok(request_item_response(header, m, alma_id));
    }
    // Not one of our barcodes: a borrowing request for an ACTIVE patron of ours, where the partner allows
    // borrowing RequestItems; otherwise a lender's request by title, resolved through the partner's Request
    // Item bib type. UNCONFIRMED: the order in which Alma weighs the patron against the title; the patron
    // first keeps the borrowing path as strict as before.
    let borrowing_allowed = lending::supports_borrowing(s, partner);
    let our_patron =
        m.user_id.as_ref().is_some_and(|u| patrons::ncip_user(s, partner, u.user_identifier_value.as_str()).is_ok());
    if !(borrowing_allowed && our_patron) {
        if let Some(idx) = lending::item_by_bib(s, partner, &bib_numbers(&m)) {
            check_ids(s, None, &m.item_ids)?;
            let rid = m.request_id.as_ref().map(|r| r.request_identifier_value.as_str().to_owned());
            let alma_id = lending::request_item(s, partner, idx, rid.as_deref()).map_err(|e| problem(&service, e))?;
            return Ok(request_item_response(header, m, alma_id));
        }
        if !borrowing_allowed {
            let named = bib_numbers(&m).into_iter().next().map(|(_, v)| v).unwrap_or_default();
            return Err(problem(&service, CircError::UnknownItem(named)));
        }
    }
    check_ids(s, m.user_id.as_ref(), &m.item_ids)?;
    let user_id = user_value(m.user_id.as_ref())?;
    let b = bib(m.item_optional_fields.as_ref());
    let broker_id = m.request_id.as_ref().map(|r| r.request_identifier_value.as_str().to_owned());
    let input = RequestInput {
        request_id: broker_id.clone().unwrap_or_default(),
        user_id,
        title: b.and_then(|b| b.title.clone()),
        author: b.and_then(|b| b.author.clone()),
        isbn: isbn(b),
        pickup_library: m.pickup_location.as_ref().map(|p| p.value.clone()),
    };
    let alma_id = circ::request_item(s, partner, input).map_err(|e| problem(&service, e))?;
    Ok(request_item_response(header, m, alma_id))
}

/// The bibliographic numbers a RequestItem names its title by, with the code each came with: the
/// `BibliographicId`s, then those in the item's description.
fn bib_numbers(m: &RequestItem) -> Vec<(Option<String>, String)> {
    let record = |r: &BibliographicRecordId| {
        let code = match &r.source {
            Some(RecordIdSource::Code(c)) => Some(c.value.clone()),
            _ => None,
        };
        (code, r.identifier.trim().to_owned())
    };
    let item = |i: &BibliographicItemId| (i.code.as_ref().map(|c| c.value.clone()), i.identifier.trim().to_owned());
    let mut numbers: Vec<(Option<String>, String)> = m
        .bibliographic_ids
        .iter()
        .map(|id| match id {
            BibliographicId::Item(i) => item(i),
            BibliographicId::Record(r) => record(r),
        })
        .collect();
    if let Some(b) = bib(m.item_optional_fields.as_ref()) {
        numbers.extend(b.bibliographic_item_id.iter().map(item));
        numbers.extend(b.bibliographic_record_ids.iter().map(record));
    }
    numbers.retain(|(_, value)| !value.is_empty());
    numbers
}

fn request_item_response(header: Option<ResponseHeader>, m: RequestItem, alma_id: String) -> Message {
    // The broker's RequestId is echoed; without one, Alma's own request id identifies the request.
    let request_id = m.request_id.clone().unwrap_or_else(|| RequestId {
        request_identifier_value: ncip_codec::model::ids::RequestIdentifier::new(alma_id),
        ..Default::default()
    });
    Message::RequestItemResponse(RequestItemResponse {
        header,
        request_id: Some(request_id),
        item_id: m.item_ids.first().cloned(),
        user_id: m.user_id,
        request_type: Some(m.request_type),
        request_scope_type: Some(m.request_scope_type),
        ..Default::default()
    })
}

fn cancel_request_item(
    s: &mut State,
    partner: &str,
    header: Option<ResponseHeader>,
    m: CancelRequestItem,
) -> Result<Message, Problem> {
    let service = ServiceKind::CancelRequestItem;
    let request_id = m
        .request_id
        .as_ref()
        .map(|r| r.request_identifier_value.as_str().to_owned())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Problem::needed_data_missing("RequestId", "a RequestId is required"))?;
    lending::cancel_request(s, partner, &request_id).map_err(|e| problem(&service, e))?;
    Ok(Message::CancelRequestItemResponse(CancelRequestItemResponse {
        header,
        request_id: m.request_id,
        item_id: m.item_id,
        user_id: m.user_id,
        ..Default::default()
    }))
}

fn renew_item(s: &mut State, header: Option<ResponseHeader>, m: RenewItem) -> Result<Message, Problem> {
    let service = ServiceKind::RenewItem;
    check_ids(s, m.user_id.as_ref(), Some(&m.item_id))?;
    let barcode = item_value(Some(&m.item_id))?;
    let due = circ::renew(s, &barcode, m.desired_date_due).map_err(|e| problem(&service, e))?;
    Ok(Message::RenewItemResponse(RenewItemResponse {
        header,
        item_id: Some(m.item_id),
        user_id: m.user_id,
        date_due: Some(due),
        ..Default::default()
    }))
}

/// LookupUser by UserId, or by AuthenticationInput (an identifier, and a password that must match).
fn lookup_user(
    s: &mut State,
    partner: &str,
    header: Option<ResponseHeader>,
    m: LookupUser,
) -> Result<Message, Problem> {
    let service = ServiceKind::LookupUser;
    check_ids(s, m.user_id.as_ref(), None)?;
    let is_password = |t: &SchemeValue| t.value.eq_ignore_ascii_case("password") || t.value.eq_ignore_ascii_case("pin");
    let password = m.authentication_inputs.iter().find(|a| is_password(&a.input_type)).map(|a| a.data.clone());
    let id = match m.user_id.as_ref() {
        Some(u) => u.user_identifier_value.as_str().to_owned(),
        None => m
            .authentication_inputs
            .iter()
            .find(|a| !is_password(&a.input_type))
            .map(|a| a.data.trim().to_owned())
            .ok_or_else(|| Problem::needed_data_missing("UserId", "a UserId or AuthenticationInput is required"))?,
    };
    let idx = patrons::ncip_user(s, partner, &id).map_err(|e| problem(&service, e))?;
    let user = &s.users[idx];
    if let Some(pw) = password
        && user.password.as_deref() != Some(pw.as_str())
    {
        return Err(Problem::user_authentication_failed(&service));
    }
    let json = &user.json;
    let text = |v: &Value| v.as_str().filter(|t| !t.is_empty()).map(str::to_owned);
    let name = NameInformation::Personal(PersonalNameInformation {
        structured: Some(StructuredPersonalUserName {
            given_name: text(&json["first_name"]),
            surname: text(&json["last_name"]).unwrap_or_default(),
            ..Default::default()
        }),
        unstructured: None,
    });
    let emails = json["contact_info"]["email"].as_array().cloned().unwrap_or_default();
    let addresses = emails
        .iter()
        .filter_map(|e| text(&e["email_address"]))
        .map(|email| UserAddressInformation {
            role: SchemeValue::new("Home"),
            valid_from_date: None,
            valid_to_date: None,
            address: Some(Address::Electronic(ElectronicAddress {
                address_type: SchemeValue::new("mailto"),
                data: email,
            })),
        })
        .collect();
    let user_id = UserId { user_identifier_value: UserIdentifier::new(user.primary_id()), ..Default::default() };
    Ok(Message::LookupUserResponse(LookupUserResponse {
        header,
        user_id: Some(user_id),
        user_optional_fields: Some(UserOptionalFields {
            name_information: Some(name),
            user_address_informations: addresses,
            ..Default::default()
        }),
        ..Default::default()
    }))
}
