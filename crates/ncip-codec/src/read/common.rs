//! Readers for identifiers, headers, money, authentication input and Problems.

use super::MAX_IDENTIFIER_BYTES;
use super::cursor::{Child, Cursor, Fault, Result};
use crate::error::ReadErrorKind;
use crate::model::common::{
    Amount, AuthenticationInput, DueDate, FiscalTransactionInformation, FiscalTransactionReferenceId, InitiationHeader,
    MandatedAction, ResponseHeader,
};
use crate::model::ids::{
    AgencyId, Identifier, ItemId, ItemIdentifier, RequestId, RequestIdentifier, SchemeValue, UserId, UserIdentifier,
};
use crate::patch::{HeaderAt, INSERTABLE, Leaf, Span};
use crate::problem::Problem;

/// `AgencyId` (attribute scheme) or NCIP 1 `UniqueAgencyId` (`<Scheme>/<Value>` children).
pub(crate) fn agency_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<AgencyId> {
    let sv = c.scheme_value(el)?;
    Ok(AgencyId { scheme: sv.scheme, id: checked_identifier(c, sv.value, el.name())? })
}

/// An identifier read from a request, held to the rules every identifier shares: at most
/// [`MAX_IDENTIFIER_BYTES`], and no bidirectional control character (which makes one id display as another on
/// the staff pages and in Alma). Responses are read as Alma wrote them.
fn checked_identifier(c: &Cursor<'_>, text: String, name: &str) -> Result<Identifier> {
    Ok(Identifier::new(checked_identifier_text(c, text, name)?))
}

/// [`checked_identifier`]'s rules for an identifier the model keeps as plain text (bibliographic ids).
pub(crate) fn checked_identifier_text(c: &Cursor<'_>, text: String, name: &str) -> Result<String> {
    if c.strict {
        let rule = if text.len() > MAX_IDENTIFIER_BYTES {
            Some("longer than the 256 bytes an identifier may have")
        } else if crate::chars::has_bidi_control(&text) {
            Some("an identifier with a bidirectional control character (U+202A-202E, U+2066-2069, U+200E/F, U+061C)")
        } else {
            None
        };
        if let Some(rule) = rule {
            // Only the head of the value is kept: the Problem echoes 64 characters at most anyway.
            let value = text.chars().take(crate::problem::MAX_PROBLEM_VALUE_CHARS).collect();
            return Err(Fault::at(ReadErrorKind::IdentifierRuleViolated { element: String::new(), value, rule }, name));
        }
    }
    Ok(text)
}

/// A wrapper such as `FromAgencyId` / `OnBehalfOfAgency` holding one `AgencyId` (or `UniqueAgencyId`).
fn agency_wrapper<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Option<AgencyId>> {
    Ok(agency_wrapper_at(c, el)?.0)
}

/// [`agency_wrapper`], with where the `AgencyId`'s value lies (an NCIP 1 `UniqueAgencyId` is not edited).
fn agency_wrapper_at<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<(Option<AgencyId>, Option<Leaf>)> {
    let (mut found, mut leaf) = (None, None);
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            name @ ("AgencyId" | "UniqueAgencyId") if found.is_none() => {
                found = Some(agency_id(c, &ch)?);
                leaf = (name == "AgencyId").then(|| c.leaf(&ch));
            }
            // Two agencies in one wrapper: which one Alma would act on is not ours to guess (requests only;
            // responses are read leniently and keep the first).
            name @ ("AgencyId" | "UniqueAgencyId") if c.strict => return Err(repeated(name)),
            _ => c.skip(&ch)?,
        }
    }
    Ok((found, leaf))
}

/// A required agency wrapper of the header: blank or absent `AgencyId` is `Needed Data Missing` in requests.
/// Where its value lies goes with it.
fn required_agency<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<(AgencyId, Option<Leaf>)> {
    match agency_wrapper_at(c, el)? {
        (Some(agency), _) if agency.id.is_empty() && c.strict => Err(Fault::blank("AgencyId", agency.id.original())),
        (Some(agency), leaf) => Ok((agency, leaf)),
        (None, _) if c.strict => Err(Fault::missing("AgencyId")),
        (None, _) => Ok((AgencyId::default(), None)),
    }
}

/// `FromAgencyId`/`ToAgencyId` of `LookupVersion`: optional, NCIP 1 form allowed.
pub(crate) fn optional_agency<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Option<AgencyId>> {
    agency_wrapper(c, el)
}

/// Identifier text that must be present (and, in requests, not blank).
fn required_identifier(c: &Cursor<'_>, text: Option<String>, name: &str) -> Result<Identifier> {
    match text {
        Some(text) => {
            let id = checked_identifier(c, text, name)?;
            if id.is_empty() && c.strict {
                return Err(Fault::blank(name, id.original()));
            }
            Ok(id)
        }
        None if c.strict => Err(Fault::missing(name)),
        None => Ok(Identifier::default()),
    }
}

/// Where the parts of a `UserId` or `ItemId` lie, for the patch: each noted where its value is taken, so
/// that the patch edits the very occurrence the reading kept.
#[derive(Default)]
struct PartSpans {
    /// An `AgencyId` (an NCIP 1 `UniqueAgencyId` is not edited).
    agency: Option<Leaf>,
    /// The type's value, and the whole element (which the patch may remove).
    id_type: Option<(Leaf, Span)>,
    value: Option<Leaf>,
}

/// The shared shape of `UserId`, `ItemId` and `RequestId`: (AgencyId?, type?, value).
fn id_parts<'a>(
    c: &mut Cursor<'a>,
    el: &Child<'a>,
    type_name: &str,
    value_name: &str,
) -> Result<(Option<AgencyId>, Option<SchemeValue>, Identifier, PartSpans)> {
    let (mut agency, mut id_type, mut value) = (None, None, None);
    let mut spans = PartSpans::default();
    while let Some(ch) = c.next_child(el)? {
        let name = ch.name();
        // Each part once in a request: the reader would keep the last value where the patch edits the first.
        let twice = |seen: bool| if seen && c.strict { Err(repeated(name)) } else { Ok(()) };
        if name == value_name {
            twice(value.is_some())?;
            value = Some(c.string(&ch)?);
            spans.value = Some(c.leaf(&ch));
        } else if name == type_name {
            twice(id_type.is_some())?;
            id_type = Some(c.scheme_value(&ch)?);
            spans.id_type = Some((c.leaf(&ch), c.whole(&ch)));
        } else if name == "AgencyId" || name == "UniqueAgencyId" {
            twice(agency.is_some())?;
            agency = Some(agency_id(c, &ch)?);
            spans.agency = (name == "AgencyId").then(|| c.leaf(&ch));
        } else {
            c.skip(&ch)?;
        }
    }
    Ok((agency, id_type, required_identifier(c, value, value_name)?, spans))
}

/// `UserId`.
pub(crate) fn user_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UserId> {
    let (agency_id, user_identifier_type, value, _) = id_parts(c, el, "UserIdentifierType", "UserIdentifierValue")?;
    Ok(UserId { agency_id, user_identifier_type, user_identifier_value: UserIdentifier(value) })
}

/// The service's own `UserId`: the patron it acts on, whose identifier the patch may translate.
pub(crate) fn service_user_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UserId> {
    let (agency_id, user_identifier_type, value, spans) = id_parts(c, el, "UserIdentifierType", "UserIdentifierValue")?;
    c.spans.user_identifier = spans.value;
    c.spans.user_identifier_type = spans.id_type;
    c.spans.user_agency = spans.agency;
    Ok(UserId { agency_id, user_identifier_type, user_identifier_value: UserIdentifier(value) })
}

/// A service-level `UserId` or `ItemId` the request's model does not keep (CheckInItem's and LookupItem's
/// `UserId`, LookupUser's `ItemId`, which Relais and ILLiad still send): skipped as before, but where its
/// parts lie is noted, so that the patch edits it as it edits the ones the model keeps. The first of a
/// repeated part is the one noted.
fn unread_id_parts<'a>(c: &mut Cursor<'a>, el: &Child<'a>, type_name: &str, value_name: &str) -> Result<PartSpans> {
    let mut spans = PartSpans::default();
    while let Some(ch) = c.next_child(el)? {
        let name = ch.name();
        c.skip(&ch)?;
        if name == value_name {
            spans.value.get_or_insert(c.leaf(&ch));
        } else if name == type_name {
            spans.id_type.get_or_insert((c.leaf(&ch), c.whole(&ch)));
        } else if name == "AgencyId" && spans.agency.is_none() {
            spans.agency = Some(c.leaf(&ch));
        }
    }
    Ok(spans)
}

/// A service-level `UserId` the request's model does not keep (see [`unread_id_parts`]).
pub(crate) fn unread_service_user_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<()> {
    let spans = unread_id_parts(c, el, "UserIdentifierType", "UserIdentifierValue")?;
    c.spans.user_identifier = spans.value;
    c.spans.user_identifier_type = spans.id_type;
    c.spans.user_agency = spans.agency;
    Ok(())
}

/// A service-level `ItemId` the request's model does not keep (see [`unread_id_parts`]).
pub(crate) fn unread_service_item_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<()> {
    let spans = unread_id_parts(c, el, "ItemIdentifierType", "ItemIdentifierValue")?;
    if let Some(agency) = spans.agency {
        c.spans.item_agencies.push(agency);
    }
    Ok(())
}

/// `ItemId`.
pub(crate) fn item_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<ItemId> {
    let (agency_id, item_identifier_type, value, _) = id_parts(c, el, "ItemIdentifierType", "ItemIdentifierValue")?;
    Ok(ItemId { agency_id, item_identifier_type, item_identifier_value: ItemIdentifier(value) })
}

/// The service's own `ItemId` (one of them in RequestItem), whose `AgencyId` the patch may replace.
pub(crate) fn service_item_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<ItemId> {
    let (agency_id, item_identifier_type, value, spans) = id_parts(c, el, "ItemIdentifierType", "ItemIdentifierValue")?;
    if let Some(agency) = spans.agency {
        c.spans.item_agencies.push(agency);
    }
    Ok(ItemId { agency_id, item_identifier_type, item_identifier_value: ItemIdentifier(value) })
}

/// `RequestId`.
pub(crate) fn request_id<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<RequestId> {
    let (agency_id, request_identifier_type, value, _) =
        id_parts(c, el, "RequestIdentifierType", "RequestIdentifierValue")?;
    Ok(RequestId { agency_id, request_identifier_type, request_identifier_value: RequestIdentifier(value) })
}

/// `InitiationHeader`: From/To agencies are required (and must not be blank) in requests. Only a service's
/// own header is read here, so where its parts lie is noted for the patch.
pub(crate) fn initiation_header<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<InitiationHeader> {
    let mut h = InitiationHeader::default();
    let (mut from, mut to) = (None, None);
    // Which header elements have been seen, by their place in the sequence (`header_rank`).
    let mut seen = 0u32;
    let insertable = INSERTABLE.map(header_rank);
    let mut after = [None; 3];
    let (mut from_leaf, mut to_leaf, mut profile_leaf) = (None, None, None);
    while let Some(ch) = c.next_child(el)? {
        // A repeated header element is refused rather than resolved: with two `FromAgencyId`s the agency
        // allow-list would check one while Alma might act on the other, letting an unlisted agency through.
        let rank = header_rank(ch.name());
        if let Some(rank) = rank.filter(|_| ch.name() != "Ext") {
            if seen & (1 << rank) != 0 {
                return Err(repeated(ch.name()));
            }
            seen |= 1 << rank;
        }
        match ch.name() {
            "FromSystemId" => h.from_system_id = Some(c.scheme_value(&ch)?),
            "FromSystemAuthentication" => h.from_system_authentication = Some(c.string(&ch)?),
            "FromAgencyId" => {
                let (agency, leaf) = c.within(&ch, required_agency)?;
                (from, from_leaf) = (Some(agency), leaf);
            }
            "FromAgencyAuthentication" => h.from_agency_authentication = Some(c.string(&ch)?),
            "OnBehalfOfAgency" => h.on_behalf_of_agency = c.within(&ch, agency_wrapper)?,
            "ToSystemId" => h.to_system_id = Some(c.scheme_value(&ch)?),
            "ToAgencyId" => {
                let (agency, leaf) = c.within(&ch, required_agency)?;
                (to, to_leaf) = (Some(agency), leaf);
            }
            "ApplicationProfileType" => {
                h.application_profile_type = Some(c.scheme_value(&ch)?);
                profile_leaf = Some(c.leaf(&ch));
            }
            _ => c.skip(&ch)?,
        }
        // A missing part goes after the last child that precedes it in the XSD's sequence.
        if let Some(rank) = rank {
            let end = c.position();
            for (slot, target) in after.iter_mut().zip(insertable) {
                if target.is_some_and(|target| rank < target) {
                    *slot = Some(end);
                }
            }
        }
    }
    h.from_agency_id = required_element(c, from, "FromAgencyId")?;
    h.to_agency_id = required_element(c, to, "ToAgencyId")?;
    let tag = el.tag();
    c.spans.header = if el.is_empty() { HeaderAt::Empty(tag) } else { HeaderAt::Open { open_end: tag.end, after } };
    (c.spans.from_agency, c.spans.to_agency, c.spans.application_profile_type) = (from_leaf, to_leaf, profile_leaf);
    Ok(h)
}

/// `name`'s place among the `InitiationHeader` children in the NCIP 2.02 XSD's sequence. Each occurs at most
/// once; `Ext` may repeat. The reader refuses a repeated one, and the patch places a missing one by this order.
fn header_rank(name: &str) -> Option<usize> {
    Some(match name {
        "FromSystemId" => 0,
        "FromSystemAuthentication" => 1,
        "FromAgencyId" => 2,
        "FromAgencyAuthentication" => 3,
        "OnBehalfOfAgency" => 4,
        "ToSystemId" => 5,
        "ToAgencyId" => 6,
        "ToAgencyAuthentication" => 7,
        "ApplicationProfileType" => 8,
        "Ext" => 9,
        _ => return None,
    })
}

/// `Element Rule Violated` for a second `name` where the XSD allows one.
pub(crate) fn repeated(name: &str) -> Fault {
    Fault::at(
        ReadErrorKind::ElementRuleViolated { element: String::new(), value: name.to_owned(), rule: "repeated" },
        name,
    )
}

/// A required child: absent is `Needed Data Missing` in requests, a default value in responses.
pub(crate) fn required_element<T: Default>(c: &Cursor<'_>, value: Option<T>, name: &str) -> Result<T> {
    match value {
        Some(v) => Ok(v),
        None if c.strict => Err(Fault::missing(name)),
        None => Ok(T::default()),
    }
}

/// `ResponseHeader` (read leniently: XC's LookupItemResponse sample leaves agencies empty).
pub(crate) fn response_header<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<ResponseHeader> {
    let mut h = ResponseHeader::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "FromSystemId" => h.from_system_id = Some(c.scheme_value(&ch)?),
            "FromSystemAuthentication" => h.from_system_authentication = Some(c.string(&ch)?),
            "FromAgencyId" => h.from_agency_id = c.within(&ch, agency_wrapper)?.unwrap_or_default(),
            "FromAgencyAuthentication" => h.from_agency_authentication = Some(c.string(&ch)?),
            "ToSystemId" => h.to_system_id = Some(c.scheme_value(&ch)?),
            "ToAgencyId" => h.to_agency_id = c.within(&ch, agency_wrapper)?.unwrap_or_default(),
            _ => c.skip(&ch)?,
        }
    }
    Ok(h)
}

/// `MandatedAction`.
pub(crate) fn mandated_action<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Option<MandatedAction>> {
    let mut date = None;
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "DateEventOccurred" => date = Some(c.date(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    match date {
        Some(date_event_occurred) => Ok(Some(MandatedAction { date_event_occurred })),
        None if c.strict => Err(Fault::missing("DateEventOccurred")),
        None => Ok(None),
    }
}

/// `Amount` and its look-alikes (`RequiredFeeAmount`, `AccountBalance`, ...).
pub(crate) fn amount<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Amount> {
    let mut a = Amount::default();
    let mut value = None;
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "CurrencyCode" => a.currency_code = Some(c.scheme_value(&ch)?),
            "MonetaryValue" => value = Some(c.integer(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    a.monetary_value = required_element(c, value, "MonetaryValue")?;
    Ok(a)
}

/// `AuthenticationInput`.
pub(crate) fn authentication_input<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<AuthenticationInput> {
    let mut input = AuthenticationInput::default();
    let (mut data, mut input_type) = (None, None);
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "AuthenticationInputData" => data = Some(c.string(&ch)?),
            "AuthenticationDataFormatType" => input.data_format_type = Some(c.scheme_value(&ch)?),
            "AuthenticationInputType" => input_type = Some(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    input.data = required_element(c, data, "AuthenticationInputData")?;
    input.input_type = required_element(c, input_type, "AuthenticationInputType")?;
    Ok(input)
}

/// `FiscalTransactionInformation`, tolerant of missing parts (Relais sends no CurrencyCode).
pub(crate) fn fiscal_transaction_information<'a>(
    c: &mut Cursor<'a>,
    el: &Child<'a>,
) -> Result<FiscalTransactionInformation> {
    let strict = std::mem::replace(&mut c.strict, false);
    let result = fiscal_transaction_information_inner(c, el);
    c.strict = strict;
    result
}

fn fiscal_transaction_information_inner<'a>(
    c: &mut Cursor<'a>,
    el: &Child<'a>,
) -> Result<FiscalTransactionInformation> {
    let mut f = FiscalTransactionInformation::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "FiscalActionType" => f.fiscal_action_type = Some(c.scheme_value(&ch)?),
            "FiscalTransactionReferenceId" => {
                f.fiscal_transaction_reference_id = Some(c.within(&ch, fiscal_reference)?);
            }
            "FiscalTransactionType" => f.fiscal_transaction_type = Some(c.scheme_value(&ch)?),
            "ValidFromDate" => f.valid_from_date = Some(c.date(&ch)?),
            "ValidToDate" => f.valid_to_date = Some(c.date(&ch)?),
            "Amount" => f.amount = Some(c.within(&ch, amount)?),
            "PaymentMethodType" => f.payment_method_type = Some(c.scheme_value(&ch)?),
            "FiscalTransactionDescription" => f.fiscal_transaction_description = Some(c.string(&ch)?),
            "RequestId" => f.request_id = Some(c.within(&ch, request_id)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(f)
}

fn fiscal_reference<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<FiscalTransactionReferenceId> {
    let mut r = FiscalTransactionReferenceId::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "AgencyId" => r.agency_id = agency_id(c, &ch)?,
            "FiscalTransactionIdentifierValue" => r.value = c.string(&ch)?,
            _ => c.skip(&ch)?,
        }
    }
    Ok(r)
}

/// `Problem` (NCIP 2); NCIP 1 `ProcessingError`/`MessagingError` never get this far (v1 is refused).
pub(crate) fn problem<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Problem> {
    let mut p = Problem::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ProblemType" => p.problem_type = c.scheme_value(&ch)?,
            "ProblemDetail" => p.detail = Some(c.string(&ch)?),
            "ProblemElement" => p.element = Some(c.string(&ch)?),
            "ProblemValue" => p.value = Some(c.string(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(p)
}

/// Marks `flag` for an element of the `DateDue | IndeterminateLoanPeriodFlag | NonReturnableFlag` choice;
/// returns false for other names. The first member seen wins.
pub(crate) fn due_date_choice<'a>(
    c: &mut Cursor<'a>,
    ch: &Child<'a>,
    date_name: &str,
    slot: &mut Option<DueDate>,
) -> Result<bool> {
    let name = ch.name();
    let value = if name == date_name {
        DueDate::Date(c.date(ch)?)
    } else if name == "IndeterminateLoanPeriodFlag" {
        c.skip(ch)?;
        DueDate::IndeterminateLoanPeriod
    } else if name == "NonReturnableFlag" {
        c.skip(ch)?;
        DueDate::NonReturnable
    } else {
        return Ok(false);
    };
    if slot.is_none() {
        *slot = Some(value);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::header_rank;

    #[test]
    fn each_header_element_has_its_place_in_the_sequence() {
        const SEQUENCE: [&str; 10] = [
            "FromSystemId",
            "FromSystemAuthentication",
            "FromAgencyId",
            "FromAgencyAuthentication",
            "OnBehalfOfAgency",
            "ToSystemId",
            "ToAgencyId",
            "ToAgencyAuthentication",
            "ApplicationProfileType",
            "Ext",
        ];
        for (rank, name) in SEQUENCE.iter().enumerate() {
            assert_eq!(header_rank(name), Some(rank), "{name}");
        }
        assert_eq!(header_rank("AgencyId"), None);
    }
}
