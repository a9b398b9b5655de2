//! The lending side of Alma's broker profile: RequestItem from the lender's broker ("lender agrees to
//! process" creates the lending request), CheckOutItem (ship) and CancelRequestItem (the profile lists it for
//! the lender only: "request cancelled (lender)", NCIP V.2 application profile table, alma.md §1.2).

use jiff::Timestamp;

use super::State;
use super::circ::{CircError, days, loan_days, ncip_code, ncip_detail, rs_library};
use super::model::{Borrower, Code, Loan, Origin, RsRequest, RsSide};

/// Statuses after which a lending request can no longer be cancelled or shipped again.
const FINISHED: [&str; 2] = ["CANCELLED", "REQUEST_COMPLETED"];

/// A lending request for the partner, in REQUEST_CREATED_LEND, for the inventory item at `idx`.
fn new_lending_request(s: &mut State, partner: &str, idx: usize, request_id: Option<&str>, now: Timestamp) -> usize {
    let id = s.new_id("15");
    let owner = rs_library(s, partner).value;
    let item = &s.items[idx];
    s.rs.push(RsRequest {
        request_id: id,
        external_id: request_id.filter(|r| !r.is_empty()).map(str::to_owned),
        side: RsSide::Lending,
        partner: Some(partner.to_owned()),
        status: Code::new("REQUEST_CREATED_LEND", "Created lending request"),
        owner,
        format: Code::new("PHYSICAL", "Physical"),
        citation_type: Code::new("BOOK", "Book"),
        requested_media: None,
        title: item.title.clone(),
        author: item.author.clone(),
        isbn: item.isbn.clone(),
        issn: item.issn.clone(),
        pickup_location: None,
        level_of_service: None,
        note: None,
        barcode: None,
        mms_id: Some(item.mms_id.clone()),
        item_pid: None,
        user_request_id: None,
        due_date: None,
        created: now,
        modified: now,
    });
    s.rs.len() - 1
}

/// The inventory item a lender-side RequestItem names, if its ItemId is one of our barcodes.
///
/// UNCONFIRMED: Alma's documentation does not say how it tells a lender's RequestItem from a borrower's. The
/// profile's triggers do: the lender "agrees to process" a request for an item it holds, the borrower asks for
/// something it does not. So a RequestItem whose ItemId is a barcode of our own inventory is lending; any
/// other RequestItem is borrowing and must name an ACTIVE patron by the partner's User Identifier Type.
pub(crate) fn own_item(s: &State, barcode: Option<&str>) -> Option<usize> {
    let idx = s.item_by_barcode(barcode?)?;
    (s.items[idx].origin == Origin::Inventory).then_some(idx)
}

/// Whether the partner's RequestItem may create a borrowing request (`request_item_support_borrowing` in the
/// partner's NCIP parameters, rest_partner.xsd); a partner without the field is taken as allowing it, as the
/// seeded partners do.
pub(crate) fn supports_borrowing(s: &State, partner: &str) -> bool {
    match ncip_detail(s, partner, "request_item_support_borrowing") {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(t)) => !t.trim().eq_ignore_ascii_case("false"),
        _ => true,
    }
}

/// A kind of bibliographic number a lender's RequestItem may name its title by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BibNumber {
    /// An OCLC control number, matched against the bib's `network_number` entries `(OCoLC)…`.
    Oclc,
    /// An ISBN, matched against the bib's ISBN.
    Isbn,
    /// An ISSN, matched against the bib's ISSN.
    Issn,
}

impl BibNumber {
    /// The kind a message's identifier code (`OCLC`, `ISBN` …) names.
    pub(crate) fn from_code(code: &str) -> Option<BibNumber> {
        let code = code.trim().to_ascii_uppercase();
        if code.contains("OCLC") || code.contains("OCOLC") {
            Some(BibNumber::Oclc)
        } else if code.contains("ISBN") {
            Some(BibNumber::Isbn)
        } else if code.contains("ISSN") {
            Some(BibNumber::Issn)
        } else {
            None
        }
    }
}

/// The kind of number the partner's `request_item_bib_type` says a lender's RequestItem carries; `None` when
/// the partner takes it from the message (`TAKEN_FROM_MESSAGE`, or no value). UNCONFIRMED: the field's
/// values (only `TAKEN_FROM_MESSAGE` is seen, in the seeded records); `OCLC`, `ISBN` and `ISSN` are read as
/// the numbers of those names.
fn partner_bib_type(s: &State, partner: &str) -> Option<BibNumber> {
    ncip_detail(s, partner, "request_item_bib_type")
        .and_then(|v| v.as_str().or_else(|| v.get("value").and_then(serde_json::Value::as_str)))
        .and_then(BibNumber::from_code)
}

/// An OCLC number without its prefixes (`(OCoLC)`, `ocm`, `ocn`, `on`) and leading zeros, so that the forms
/// WorldCat and catalogues write compare equal.
fn oclc_digits(number: &str) -> &str {
    let n = number.trim();
    let n = n.strip_prefix("(OCoLC)").unwrap_or(n);
    let n = ["ocm", "ocn", "on"].iter().find_map(|p| n.strip_prefix(p)).unwrap_or(n);
    n.trim_start_matches('0')
}

/// The inventory item a lender's RequestItem names by title: the first of our items on a bib whose number
/// matches one the message gives, read as the partner's `request_item_bib_type` says (or as each number's own
/// code says, when the partner takes the type from the message). An item on the shelf is preferred.
pub(crate) fn item_by_bib(s: &State, partner: &str, numbers: &[(Option<String>, String)]) -> Option<usize> {
    let fixed = partner_bib_type(s, partner);
    let wanted: Vec<(BibNumber, &str)> = numbers
        .iter()
        .filter_map(|(code, value)| {
            let kind = fixed.or_else(|| code.as_deref().and_then(BibNumber::from_code))?;
            Some((kind, value.as_str()))
        })
        .collect();
    let matches = |idx: usize| {
        let item = &s.items[idx];
        wanted.iter().any(|(kind, value)| match kind {
            BibNumber::Isbn => item.isbn.as_deref().is_some_and(|i| i.replace('-', "") == value.replace('-', "")),
            BibNumber::Issn => item.issn.as_deref().is_some_and(|i| i == *value),
            BibNumber::Oclc => item
                .seed_json
                .as_ref()
                .and_then(|j| j.pointer("/bib_data/network_number"))
                .and_then(serde_json::Value::as_array)
                .is_some_and(|all| {
                    all.iter()
                        .filter_map(serde_json::Value::as_str)
                        .filter(|n| n.starts_with("(OCoLC)"))
                        .any(|n| !oclc_digits(value).is_empty() && oclc_digits(n) == oclc_digits(value))
                }),
        })
    };
    let ours: Vec<usize> =
        (0..s.items.len()).filter(|&i| s.items[i].origin == Origin::Inventory && matches(i)).collect();
    ours.iter().copied().find(|&i| s.items[i].in_place && s.items[i].process_type.is_none()).or(ours.first().copied())
}

/// RequestItem on the lender's side: a lending request for the partner (the mindtouch "Broker Based Resource
/// Sharing – Lending" page: RequestItem creates the lending request, then a pick slip or move request). The
/// UserId is the borrowing library's patron, unknown to us, so it is not looked up (as for CheckOutItem).
/// The same RequestId again answers Duplicate Request rather than a second lending request.
pub(crate) fn request_item(
    s: &mut State,
    partner: &str,
    idx: usize,
    request_id: Option<&str>,
) -> Result<String, CircError> {
    if let Some(rid) = request_id.filter(|r| !r.is_empty())
        && s.rs.iter().any(|r| {
            r.side == RsSide::Lending
                && r.partner.as_deref() == Some(partner)
                && r.external_id.as_deref() == Some(rid)
                && !FINISHED.contains(&r.status.value.as_str())
        })
    {
        return Err(CircError::DuplicateRequest(rid.to_owned()));
    }
    let rs = new_lending_request(s, partner, idx, request_id, Timestamp::now());
    s.items[idx].requested = true;
    Ok(s.rs[rs].request_id.clone())
}

/// CancelRequestItem: cancels the partner's open lending request whose external id is the broker's
/// RequestId. A borrowing request is not found this way (the profile offers no borrower-side cancel); a
/// lending request already shipped answers Request Already Processed.
pub(crate) fn cancel_request(s: &mut State, partner: &str, request_id: &str) -> Result<(), CircError> {
    let idx =
        s.rs.iter()
            .rposition(|r| {
                r.side == RsSide::Lending
                    && r.partner.as_deref() == Some(partner)
                    && r.external_id.as_deref() == Some(request_id)
                    && !FINISHED.contains(&r.status.value.as_str())
            })
            .ok_or_else(|| CircError::UnknownRequest(request_id.to_owned()))?;
    if s.rs[idx].status.value != "REQUEST_CREATED_LEND" {
        return Err(CircError::RequestAlreadyProcessed(request_id.to_owned()));
    }
    if let Some(pid) = s.rs[idx].mms_id.clone() {
        // The item is no longer wanted by this partner.
        for item in s.items.iter_mut().filter(|i| i.mms_id == pid && i.origin == Origin::Inventory) {
            item.requested = false;
        }
    }
    super::circ::cancel_rs(s, idx);
    Ok(())
}

/// CheckOutItem (lending "ship"): the item is lent to the partner, moved to its check-out location, and
/// the lending request (matched by external id, or created) becomes SHIPPED_PHYSICALLY. The UserId Relais
/// sends is a generic patron of the borrowing library and is not looked up (Alma lends to the partner: OLF wiki on Alma's broker).
pub(crate) fn check_out(
    s: &mut State,
    partner: &str,
    barcode: &str,
    request_id: Option<&str>,
    desired_due: Option<Timestamp>,
) -> Result<Timestamp, CircError> {
    let idx = s.item_by_barcode(barcode).ok_or_else(|| CircError::UnknownItem(barcode.to_owned()))?;
    let item = &s.items[idx];
    if item.origin != Origin::Inventory || !item.in_place || item.process_type.is_some() {
        return Err(CircError::ItemDoesNotCirculate(barcode.to_owned()));
    }
    let now = Timestamp::now();
    let due = desired_due.unwrap_or(now + days(loan_days(s, partner)));
    let library = rs_library(s, partner);
    let lend_location = ncip_code(s, partner, "check_out_location")
        .unwrap_or_else(|| Code::new("RS_LEND", "Lending Resource Sharing Requests"));
    let circ_desk = s.circ_desk_of(&library.value);
    let loan_id = s.new_id("18");
    let existing = request_id.and_then(|rid| {
        s.rs.iter().position(|r| {
            r.side == RsSide::Lending
                && r.partner.as_deref() == Some(partner)
                && r.external_id.as_deref() == Some(rid)
                && r.status.value == "REQUEST_CREATED_LEND"
        })
    });
    let rs_idx = match existing {
        Some(i) => i,
        // UNCONFIRMED (alma.md §1.4): Alma auto-creates the lending request when no RequestItem came
        // first; the partner's "Check-Out Item default location = Lending RS Requests" suggests it does.
        None => new_lending_request(s, partner, idx, request_id, now),
    };
    let item = &mut s.items[idx];
    item.in_place = false;
    item.process_type = Some(Code::new("LOAN", "Loan"));
    item.temp = Some((library.clone(), lend_location));
    item.due_date = Some(due);
    let loan = Loan::of(item, loan_id, Borrower::Partner(partner.to_owned()), circ_desk, now, due);
    let (pid, bc) = (item.pid.clone(), item.barcode.clone());
    s.loans.push(loan);
    let rs = &mut s.rs[rs_idx];
    rs.status = Code::new("SHIPPED_PHYSICALLY", "Shipped Physically");
    rs.item_pid = Some(pid);
    rs.barcode = Some(bc);
    rs.due_date = Some(due);
    rs.modified = now;
    Ok(due)
}
