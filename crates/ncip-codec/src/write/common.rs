//! Writers for identifiers, headers, money, authentication input and Problems (NCIP 2.02 XSD order).

use super::xml::XmlWriter;
use crate::model::common::{
    Amount, AuthenticationInput, DueDate, FiscalTransactionInformation, InitiationHeader, MandatedAction,
    ResponseHeader,
};
use crate::model::ids::{AgencyId, ItemId, RequestId, SchemeValue, UserId};
use crate::problem::Problem;

/// `AgencyId`, echoing the code exactly as received.
pub(crate) fn agency_id(w: &mut XmlWriter, name: &str, agency: &AgencyId) {
    w.scheme_value_parts(name, agency.scheme.as_deref(), agency.id.original());
}

/// A wrapper holding one `AgencyId` (`FromAgencyId`, `ToAgencyId`, `OnBehalfOfAgency`).
pub(crate) fn agency_wrapper(w: &mut XmlWriter, name: &str, agency: &AgencyId) {
    w.start(name);
    agency_id(w, "AgencyId", agency);
    w.end(name);
}

fn id_parts(w: &mut XmlWriter, agency: Option<&AgencyId>, id_type: (&str, Option<&SchemeValue>), value: (&str, &str)) {
    if let Some(agency) = agency {
        agency_id(w, "AgencyId", agency);
    }
    w.opt_scheme_value(id_type.0, id_type.1);
    w.text(value.0, value.1);
}

/// `UserId`.
pub(crate) fn user_id(w: &mut XmlWriter, id: &UserId) {
    w.start("UserId");
    id_parts(
        w,
        id.agency_id.as_ref(),
        ("UserIdentifierType", id.user_identifier_type.as_ref()),
        ("UserIdentifierValue", id.user_identifier_value.original()),
    );
    w.end("UserId");
}

/// `ItemId`.
pub(crate) fn item_id(w: &mut XmlWriter, id: &ItemId) {
    w.start("ItemId");
    id_parts(
        w,
        id.agency_id.as_ref(),
        ("ItemIdentifierType", id.item_identifier_type.as_ref()),
        ("ItemIdentifierValue", id.item_identifier_value.original()),
    );
    w.end("ItemId");
}

/// `RequestId`.
pub(crate) fn request_id(w: &mut XmlWriter, id: &RequestId) {
    w.start("RequestId");
    id_parts(
        w,
        id.agency_id.as_ref(),
        ("RequestIdentifierType", id.request_identifier_type.as_ref()),
        ("RequestIdentifierValue", id.request_identifier_value.original()),
    );
    w.end("RequestId");
}

pub(crate) fn opt_user_id(w: &mut XmlWriter, id: Option<&UserId>) {
    if let Some(id) = id {
        user_id(w, id);
    }
}

pub(crate) fn opt_item_id(w: &mut XmlWriter, id: Option<&ItemId>) {
    if let Some(id) = id {
        item_id(w, id);
    }
}

pub(crate) fn opt_request_id(w: &mut XmlWriter, id: Option<&RequestId>) {
    if let Some(id) = id {
        request_id(w, id);
    }
}

/// `InitiationHeader`.
pub(crate) fn initiation_header(w: &mut XmlWriter, h: &InitiationHeader) {
    w.start("InitiationHeader");
    w.opt_scheme_value("FromSystemId", h.from_system_id.as_ref());
    w.opt_text("FromSystemAuthentication", h.from_system_authentication.as_deref());
    agency_wrapper(w, "FromAgencyId", &h.from_agency_id);
    w.opt_text("FromAgencyAuthentication", h.from_agency_authentication.as_deref());
    if let Some(agency) = &h.on_behalf_of_agency {
        agency_wrapper(w, "OnBehalfOfAgency", agency);
    }
    w.opt_scheme_value("ToSystemId", h.to_system_id.as_ref());
    agency_wrapper(w, "ToAgencyId", &h.to_agency_id);
    w.opt_scheme_value("ApplicationProfileType", h.application_profile_type.as_ref());
    w.end("InitiationHeader");
}

pub(crate) fn opt_initiation_header(w: &mut XmlWriter, h: Option<&InitiationHeader>) {
    if let Some(h) = h {
        initiation_header(w, h);
    }
}

/// `ResponseHeader`.
pub(crate) fn opt_response_header(w: &mut XmlWriter, h: Option<&ResponseHeader>) {
    let Some(h) = h else { return };
    w.start("ResponseHeader");
    w.opt_scheme_value("FromSystemId", h.from_system_id.as_ref());
    w.opt_text("FromSystemAuthentication", h.from_system_authentication.as_deref());
    agency_wrapper(w, "FromAgencyId", &h.from_agency_id);
    w.opt_text("FromAgencyAuthentication", h.from_agency_authentication.as_deref());
    w.opt_scheme_value("ToSystemId", h.to_system_id.as_ref());
    agency_wrapper(w, "ToAgencyId", &h.to_agency_id);
    w.end("ResponseHeader");
}

/// `MandatedAction`.
pub(crate) fn opt_mandated_action(w: &mut XmlWriter, m: Option<&MandatedAction>) {
    if let Some(m) = m {
        w.start("MandatedAction");
        w.date("DateEventOccurred", m.date_event_occurred);
        w.end("MandatedAction");
    }
}

/// `Amount`-shaped elements.
pub(crate) fn amount(w: &mut XmlWriter, name: &str, a: &Amount) {
    w.start(name);
    w.opt_scheme_value("CurrencyCode", a.currency_code.as_ref());
    w.number("MonetaryValue", a.monetary_value);
    w.end(name);
}

pub(crate) fn opt_amount(w: &mut XmlWriter, name: &str, a: Option<&Amount>) {
    if let Some(a) = a {
        amount(w, name, a);
    }
}

/// `AuthenticationInput`.
pub(crate) fn authentication_inputs(w: &mut XmlWriter, inputs: &[AuthenticationInput]) {
    for input in inputs {
        w.start("AuthenticationInput");
        w.text("AuthenticationInputData", &input.data);
        w.opt_scheme_value("AuthenticationDataFormatType", input.data_format_type.as_ref());
        w.scheme_value("AuthenticationInputType", &input.input_type);
        w.end("AuthenticationInput");
    }
}

/// `FiscalTransactionInformation`.
pub(crate) fn opt_fiscal_transaction_information(w: &mut XmlWriter, f: Option<&FiscalTransactionInformation>) {
    let Some(f) = f else { return };
    w.start("FiscalTransactionInformation");
    w.opt_scheme_value("FiscalActionType", f.fiscal_action_type.as_ref());
    if let Some(r) = &f.fiscal_transaction_reference_id {
        w.start("FiscalTransactionReferenceId");
        agency_id(w, "AgencyId", &r.agency_id);
        w.text("FiscalTransactionIdentifierValue", &r.value);
        w.end("FiscalTransactionReferenceId");
    }
    w.opt_scheme_value("FiscalTransactionType", f.fiscal_transaction_type.as_ref());
    w.opt_date("ValidFromDate", f.valid_from_date);
    w.opt_date("ValidToDate", f.valid_to_date);
    opt_amount(w, "Amount", f.amount.as_ref());
    w.opt_scheme_value("PaymentMethodType", f.payment_method_type.as_ref());
    w.opt_text("FiscalTransactionDescription", f.fiscal_transaction_description.as_deref());
    opt_request_id(w, f.request_id.as_ref());
    w.end("FiscalTransactionInformation");
}

/// The `DateDue | IndeterminateLoanPeriodFlag | NonReturnableFlag` choice.
pub(crate) fn opt_due_date(w: &mut XmlWriter, date_name: &str, d: Option<&DueDate>) {
    match d {
        Some(DueDate::Date(ts)) => w.date(date_name, *ts),
        Some(DueDate::IndeterminateLoanPeriod) => w.flag("IndeterminateLoanPeriodFlag"),
        Some(DueDate::NonReturnable) => w.flag("NonReturnableFlag"),
        None => {}
    }
}

/// `Problem` elements.
pub(crate) fn problems(w: &mut XmlWriter, problems: &[Problem]) {
    for p in problems {
        w.start("Problem");
        w.scheme_value("ProblemType", &p.problem_type);
        w.opt_text("ProblemDetail", p.detail.as_deref());
        w.opt_text("ProblemElement", p.element.as_deref());
        w.opt_text("ProblemValue", p.value.as_deref());
        w.end("Problem");
    }
}
