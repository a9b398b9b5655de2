//! One record compared with Alma. Alma is read through what the record holds: the item (by the ids read back
//! after the action, else by barcode), its `/requests` and `/loans`, and the lending request by Alma's id;
//! never through a patron id, which the record keeps only as a keyed hash.

use std::collections::HashMap;

use jiff::Timestamp;

use super::report::{DriftKind, SuggestedAction};
use crate::alma::model::{AlmaItem, LendingRequest};
use crate::alma::{AlmaError, CallContext, ItemPath};
use crate::flows::{Bridge, patron_id};
use crate::store::{Correlation, QueueState, QueuedMessage, RequestStatus, Side};

/// The lending statuses the task list is read in: open requests, the ones a record or an Alma-only action
/// can be. UNCONFIRMED as the statuses a lending request shows before and after a ship (the simulator uses
/// them).
pub(super) const OPEN_LENDING_STATUSES: [&str; 2] = ["REQUEST_CREATED_LEND", "SHIPPED_PHYSICALLY"];
/// Lending statuses that mean the item came back (UNCONFIRMED names; the simulator completes a returned one).
const RETURNED_LENDING_STATUSES: [&str; 3] = ["REQUEST_COMPLETED", "RETURNED_BY_PARTNER", "RECEIVED_BACK"];
const CANCELLED: &str = "CANCELLED";

/// A drift found for one record, before the run gives it its `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub kind: DriftKind,
    pub relais_believes: String,
    pub alma_shows: String,
    pub action: SuggestedAction,
}

/// What one record's check came to.
#[derive(Debug, Default)]
pub(super) struct Checked {
    pub found: Vec<Found>,
    /// A lending request id the task list showed, to be written into the record.
    pub lending_id: Option<String>,
}

/// The task lists a run has read, by partner and status, so that many records cost one read.
#[derive(Default)]
pub(super) struct TaskLists {
    lists: HashMap<(String, String), Vec<LendingRequest>>,
    libraries: HashMap<String, Option<String>>,
}

impl TaskLists {
    /// The calls reading `partner`'s open task lists would still cost (its profile, then each status).
    pub(super) fn cost(&self, partner: &str) -> u32 {
        let profile = u32::from(!self.libraries.contains_key(partner));
        let lists = OPEN_LENDING_STATUSES.iter().filter(|s| !self.lists.contains_key(&(partner.into(), (**s).into())));
        profile + lists.count() as u32
    }

    /// `partner`'s open lending requests (both statuses), read once per run. `None` when the partner names no
    /// resource-sharing library, so that no task list can be read.
    pub(super) async fn open(
        &mut self,
        bridge: &Bridge,
        partner: &str,
        ctx: &CallContext,
    ) -> Result<Option<Vec<LendingRequest>>, AlmaError> {
        if !self.libraries.contains_key(partner) {
            let profile = patron_id::partner_profile(bridge, partner, ctx).await?;
            let library = profile.and_then(|p| p.general_library_owner).map(|c| c.value).filter(|v| !v.is_empty());
            self.libraries.insert(partner.to_owned(), library);
        }
        let Some(library) = self.libraries[partner].clone() else { return Ok(None) };
        let mut all = Vec::new();
        for status in OPEN_LENDING_STATUSES {
            let key = (partner.to_owned(), status.to_owned());
            if !self.lists.contains_key(&key) {
                let list = bridge.rest.lending_requests(&library, partner, status, ctx).await?;
                if list.total_record_count > list.user_resource_sharing_request.len() {
                    tracing::warn!(
                        partner,
                        status,
                        listed = list.user_resource_sharing_request.len(),
                        total = list.total_record_count,
                        "the lending task list holds more than Alma lists"
                    );
                }
                self.lists.insert(key.clone(), list.user_resource_sharing_request);
            }
            all.extend(self.lists[&key].iter().cloned());
        }
        Ok(Some(all))
    }
}

fn item_path(record: &Correlation) -> Option<ItemPath<'_>> {
    Some(ItemPath {
        mms_id: record.alma.mms_id.as_deref()?,
        holding_id: record.alma.holding_id.as_deref()?,
        item_pid: record.alma.item_pid.as_deref()?,
    })
}

fn barcode(record: &Correlation) -> Option<&str> {
    record.item_barcodes.first().map(|b| b.as_str())
}

/// Whether the record is compared at all: open records, and closed ones changed in the last 7 days.
pub(super) fn is_due(record: &Correlation, now: Timestamp) -> bool {
    !record.status.is_closed() || now.duration_since(record.updated_at).as_secs() <= 7 * 86_400
}

/// The most Alma calls the record's check can make, so that a run never starts one it cannot finish within
/// its budget (a retry of a failed read is the one thing that may go past it).
pub(super) fn most_calls(record: &Correlation, lists: &TaskLists) -> u32 {
    let item = if item_path(record).is_some() { 1 } else { 2 };
    match (record.side, record.status) {
        (Side::Borrowing, RequestStatus::OnHoldShelf | RequestStatus::Renewed) => item + 2,
        (Side::Borrowing, RequestStatus::Returned) => item,
        (Side::Lending, RequestStatus::Shipped | RequestStatus::Renewed) => match record.alma.request_id {
            Some(_) => item + 1,
            None => item + lists.cost(record.partner.as_str()),
        },
        (Side::Lending, RequestStatus::Requested) => u32::from(record.alma.request_id.is_some()),
        _ => 0,
    }
}

/// What the item read showed: the item, or that Alma has none.
enum ItemSeen {
    Present(Box<AlmaItem>),
    Missing,
    /// The record names no item to read.
    Unknown,
}

async fn read_item(bridge: &Bridge, record: &Correlation, ctx: &CallContext) -> Result<ItemSeen, AlmaError> {
    let read = match (item_path(record), barcode(record)) {
        (Some(path), _) => bridge.rest.item(&path, ctx).await,
        (None, Some(barcode)) => bridge.rest.item_by_barcode(barcode, ctx).await,
        (None, None) => return Ok(ItemSeen::Unknown),
    };
    match read {
        Ok(item) => Ok(ItemSeen::Present(Box::new(item))),
        Err(e) if e.is_not_found() || is_item_not_found(&e) => Ok(ItemSeen::Missing),
        Err(e) => Err(e),
    }
}

/// Alma's answer for an item path whose item is gone (401690, UNCONFIRMED code the simulator uses).
fn is_item_not_found(error: &AlmaError) -> bool {
    matches!(error, AlmaError::Api { code, .. } if code == "401690")
}

/// On loan: not in place and in the loan process.
fn is_out(item: &AlmaItem) -> bool {
    item.item_data.base_status.value == "0" && item.item_data.process_type.value == "LOAN"
}

fn item_words(item: &AlmaItem) -> String {
    let data = &item.item_data;
    match (data.base_status.value.as_str(), data.process_type.value.as_str()) {
        ("1", "") => "item in place".into(),
        ("1", process) => format!("item in place ({process})"),
        (_, "") => "item not in place".into(),
        (_, process) => format!("item not in place ({process})"),
    }
}

fn relais_words(record: &Correlation) -> String {
    let status = match record.status {
        RequestStatus::Requested => "requested",
        RequestStatus::OnHoldShelf => "received (on the hold shelf)",
        RequestStatus::Shipped => "shipped to the borrowing library",
        RequestStatus::Renewed => "renewed",
        RequestStatus::Returned => "returned to the lender",
        RequestStatus::CheckedIn => "checked in (back home)",
        RequestStatus::Cancelled => "cancelled",
    };
    match record.due_date {
        Some(due) if !record.status.is_closed() => format!("{status}, due {due}"),
        _ => status.to_owned(),
    }
}

fn found(kind: DriftKind, record: &Correlation, alma_shows: impl Into<String>, action: SuggestedAction) -> Found {
    Found { kind, relais_believes: relais_words(record), alma_shows: alma_shows.into(), action }
}

/// Compares one record with Alma. An Alma that cannot be read (an outage, a refusal) is an error: the run
/// stops there and the record is compared again by the next one.
pub(super) async fn record(
    bridge: &Bridge,
    record: &Correlation,
    messages: &[QueuedMessage],
    lists: &mut TaskLists,
    now: Timestamp,
    ctx: &CallContext,
) -> Result<Checked, AlmaError> {
    let mut checked = Checked::default();
    let mut item_seen = ItemSeen::Unknown;
    let mut lending_status: Option<String> = None;
    use DriftKind as K;
    use SuggestedAction as A;
    match (record.side, record.status) {
        (Side::Borrowing, RequestStatus::OnHoldShelf | RequestStatus::Renewed) => {
            item_seen = read_item(bridge, record, ctx).await?;
            match &item_seen {
                ItemSeen::Missing => checked.found.push(found(
                    K::BorrowingNoTemporaryItem,
                    record,
                    format!("no item with barcode {}", barcode(record).unwrap_or("-")),
                    A::FixInAlma,
                )),
                ItemSeen::Present(item) => {
                    let path = ItemPath {
                        mms_id: &item.bib_data.mms_id,
                        holding_id: &item.holding_data.holding_id,
                        item_pid: &item.item_data.pid,
                    };
                    let holds = bridge.rest.item_requests(&path, ctx).await?;
                    if holds.is_empty() {
                        let loans = bridge.rest.item_loans(&path, ctx).await?;
                        let active = loans
                            .iter()
                            .find(|l| l.loan_status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE")));
                        match (active, record.due_date) {
                            (None, _) => checked.found.push(found(
                                K::BorrowingNoRequest,
                                record,
                                format!("temporary item without a hold or a loan ({})", item_words(item)),
                                A::FixInAlma,
                            )),
                            (Some(loan), Some(lender_due)) if lender_due < now => checked.found.push(found(
                                K::BorrowingLoanOverdue,
                                record,
                                format!("on loan to the patron, due {}", loan.due_date.as_deref().unwrap_or("-")),
                                A::FixInAlma,
                            )),
                            (Some(_), _) => {}
                        }
                    }
                }
                ItemSeen::Unknown => {}
            }
        }
        (Side::Borrowing, RequestStatus::Returned) => {
            item_seen = read_item(bridge, record, ctx).await?;
            if let ItemSeen::Present(item) = &item_seen {
                checked.found.push(found(
                    K::BorrowingItemStillInAlma,
                    record,
                    format!("temporary item still in Alma ({})", item_words(item)),
                    A::FixInAlma,
                ));
            }
        }
        (Side::Lending, RequestStatus::Shipped | RequestStatus::Renewed) => {
            item_seen = read_item(bridge, record, ctx).await?;
            let request_id = match &record.alma.request_id {
                Some(id) => Some(id.clone()),
                None => {
                    let listed = lists.open(bridge, record.partner.as_str(), ctx).await?.unwrap_or_default();
                    let relais = record.relais_request_id.as_str();
                    let hit = listed.iter().find(|r| r.external_id.as_deref() == Some(relais)).or_else(|| {
                        listed.iter().find(|r| r.barcode.is_some() && r.barcode.as_deref() == barcode(record))
                    });
                    checked.lending_id = hit.map(|r| r.request_id.clone());
                    if let Some(hit) = hit {
                        lending_status = Some(hit.status.value.clone());
                    }
                    checked.lending_id.clone()
                }
            };
            if let (Some(id), None) = (&request_id, &lending_status)
                && record.alma.request_id.is_some()
            {
                let request = bridge.rest.lending_request(record.partner.as_str(), id, ctx).await?;
                lending_status = Some(request.status.value);
            }
            let out = matches!(&item_seen, ItemSeen::Present(item) if is_out(item));
            let status = lending_status.as_deref().unwrap_or("");
            if status == CANCELLED {
                checked.found.push(found(
                    K::LendingCancelledInAlma,
                    record,
                    "lending request cancelled",
                    A::ResendFromRelais,
                ));
            } else if !out {
                let item = match &item_seen {
                    ItemSeen::Present(item) => item_words(item),
                    _ => format!("no item with barcode {}", barcode(record).unwrap_or("-")),
                };
                let returned = RETURNED_LENDING_STATUSES.contains(&status)
                    || matches!(&item_seen, ItemSeen::Present(i) if i.item_data.process_type.value == "TRANSIT");
                if returned {
                    let shows =
                        format!("returned: {item}, lending request {}", if status.is_empty() { "-" } else { status });
                    checked.found.push(found(K::LendingReturnedNotTold, record, shows, A::ResendFromRelais));
                } else {
                    checked.found.push(found(K::LendingNotOnLoan, record, item, A::FixInAlma));
                }
            }
            if request_id.is_none() {
                checked.found.push(found(
                    K::LendingIdUnknown,
                    record,
                    "not in the partner's task list (Alma lists at most 100)",
                    A::FixInAlma,
                ));
            }
        }
        (Side::Lending, RequestStatus::Requested) => {
            if let Some(id) = &record.alma.request_id {
                let request = bridge.rest.lending_request(record.partner.as_str(), id, ctx).await?;
                if request.status.value == CANCELLED {
                    checked.found.push(found(
                        K::LendingCancelledInAlma,
                        record,
                        "lending request cancelled",
                        A::ResendFromRelais,
                    ));
                }
                lending_status = Some(request.status.value);
            }
        }
        _ => {}
    }
    let seen = Seen { item: &item_seen, lending_status: lending_status.as_deref(), side: record.side };
    for message in messages.iter().filter(|m| matches!(m.state, QueueState::Parked | QueueState::Discarded)) {
        if let Some(shows) = seen.misses(&message.message_type) {
            let action = if message.state == QueueState::Parked { A::Redrive } else { A::ResendFromRelais };
            checked.found.push(Found {
                kind: K::OutboxActionMissing,
                relais_believes: format!("{} answered ({} in the outbox)", message.message_type, message.state.label()),
                alma_shows: shows,
                action,
            });
        }
    }
    Ok(checked)
}

/// What Alma showed of a record, for judging its parked and discarded messages.
struct Seen<'a> {
    item: &'a ItemSeen,
    lending_status: Option<&'a str>,
    side: Side,
}

impl Seen<'_> {
    /// Alma's state in words when it does not show `message_type`'s action; `None` when it does, or when the
    /// check read nothing that could tell.
    fn misses(&self, message_type: &str) -> Option<String> {
        match (message_type, self.item) {
            ("AcceptItem", ItemSeen::Missing) => Some("no temporary item".into()),
            ("CheckOutItem", ItemSeen::Present(item)) if !is_out(item) => Some(item_words(item)),
            ("CheckOutItem", ItemSeen::Missing) => Some("no such item".into()),
            ("CheckInItem", ItemSeen::Present(item)) if self.side == Side::Borrowing => {
                Some(format!("temporary item still in Alma ({})", item_words(item)))
            }
            ("CheckInItem", ItemSeen::Present(item)) if is_out(item) => Some("item still on loan".into()),
            ("CancelRequestItem", _) => match self.lending_status {
                Some(status) if status != CANCELLED => Some(format!("lending request {status}")),
                _ => None,
            },
            _ => None,
        }
    }
}
