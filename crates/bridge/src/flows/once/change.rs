//! What a carried-out action changes in the correlation record, as a plain value: each service says what it
//! learnt (status, patron, barcode, Alma's ids, due date) and [`RecordChange::apply`] is the one function that
//! writes it onto the stored record, so the change can be logged, compared and tested on its own.

use crate::alma::model::AlmaItem;
use crate::flows::follow_up::ReadBack;
use crate::flows::ids::Pseudonym;
use crate::store::{AlmaIds, Correlation, ItemBarcode, PartnerCode, RelaisRequestId, RequestStatus, Side};
use jiff::Timestamp;

/// The record to start from when the request has none (or its stored record is closed, see
/// [`RecordChange::fresh_after`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// A new record on this side, under this partner, in this status.
    New {
        /// Borrowing or lending, fixed for the record's life.
        side: Side,
        /// The Alma partner the request is with.
        partner: PartnerCode,
        /// The status the new record starts in.
        status: RequestStatus,
    },
    /// The record the message was matched to (a check-in finds its record by barcode first); used as is if it
    /// expired between the match and the commit, because Alma has acted all the same.
    Matched(Box<Correlation>),
}

/// One service's change to one request's record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordChange {
    /// The Relais request whose record changes.
    pub request: RelaisRequestId,
    /// The record to use when there is no current one.
    pub start: Start,
    /// A stored record in this status belongs to an earlier, finished round (an item lent again after it came
    /// home): the change starts a fresh record instead.
    pub fresh_after: Option<RequestStatus>,
    /// The request's new status, when the action moves it.
    pub status: Option<RequestStatus>,
    /// The patron the request is for: the pseudonym of the id the message named (never the id itself).
    pub(crate) patron: Option<Pseudonym>,
    /// An item barcode the record learns, kept beside those it already has.
    pub barcode: Option<ItemBarcode>,
    /// Alma's ids read back from its item (pid, holding, MMS id).
    pub alma_item: Option<AlmaIds>,
    /// Alma's request behind the Relais one: the borrowing request of an ILL hold, the lending request a
    /// shipped item belongs to, or the request Alma made for a RequestItem.
    pub alma_request_id: Option<String>,
    /// When the item is due back, when the action set or moved the date.
    pub due_date: Option<Timestamp>,
    /// How the change treats the record's side (see [`SideRule`]).
    pub side_rule: SideRule,
    /// What staff should read about this message in the request's history, beyond its outcome (a cancel the
    /// bridge answered without Alma).
    pub history_note: Option<String>,
    /// Alma's ids still to read, after the answer: the commit records it as follow-up work in the same write,
    /// and the record shows the ids as pending until then.
    pub read_back: Option<ReadBack>,
}

/// Whether a change may set the record's side after the record started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SideRule {
    /// The side is the record's, whatever the message would start with.
    #[default]
    Keep,
    /// A record this change starts has a side inferred from a message that names none (RequestItem,
    /// CancelRequestItem): the first [`SideRule::Settle`] may still correct it.
    Provisional,
    /// The message says which side it is on (AcceptItem is borrowing, CheckOutItem lending): a provisional
    /// side takes the side of [`Start::New`], and from then on never changes.
    Settle,
}

impl RecordChange {
    /// A change that starts (or keeps) the request's record and sets nothing else yet.
    pub fn new(request: RelaisRequestId, start: Start) -> Self {
        RecordChange {
            request,
            start,
            fresh_after: None,
            status: None,
            patron: None,
            barcode: None,
            alma_item: None,
            alma_request_id: None,
            due_date: None,
            side_rule: SideRule::Keep,
            history_note: None,
            read_back: None,
        }
    }

    /// The record after this change. What the change does not know, the record keeps, and its side is set
    /// once, when it starts: a message never turns a borrowing record into a lending one or back. The one
    /// exception is a side RequestItem or CancelRequestItem had to infer, which the first message that names
    /// its side (AcceptItem, CheckOutItem) corrects, once ([`SideRule`]).
    pub fn apply(self, current: Option<Correlation>, now: Timestamp) -> Correlation {
        let current = current.filter(|record| self.fresh_after.is_none_or(|closed| record.status != closed));
        let mut record = match (current, self.start) {
            (Some(mut record), start) => {
                if self.side_rule == SideRule::Settle && record.side_provisional {
                    if let Start::New { side, .. } = start {
                        record.side = side;
                    }
                    record.side_provisional = false;
                }
                record
            }
            (None, Start::New { side, partner, status }) => {
                let mut record = Correlation::new(self.request, side, partner, status, now);
                record.side_provisional = self.side_rule == SideRule::Provisional;
                record
            }
            (None, Start::Matched(record)) => *record,
        };
        if let Some(status) = self.status {
            record.status = status;
        }
        record.patron = self.patron.map(Pseudonym::into_stored).or(record.patron);
        if let Some(barcode) = self.barcode
            && !record.has_barcode(&barcode)
        {
            record.item_barcodes.push(barcode);
        }
        if let Some(item) = self.alma_item {
            record.alma.item_pid = item.item_pid.or(record.alma.item_pid.take());
            record.alma.mms_id = item.mms_id.or(record.alma.mms_id.take());
            record.alma.holding_id = item.holding_id.or(record.alma.holding_id.take());
            record.alma.hold_or_loan_id = item.hold_or_loan_id.or(record.alma.hold_or_loan_id.take());
        }
        record.alma.request_id = self.alma_request_id.or(record.alma.request_id.take());
        if self.read_back.is_some() {
            record.alma.pending = true;
        }
        record.due_date = self.due_date.or(record.due_date);
        record
    }
}

/// Alma's ids of an item it answered with (empty strings are "not known").
pub fn item_ids(item: &AlmaItem) -> AlmaIds {
    let known = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    AlmaIds {
        item_pid: known(&item.item_data.pid),
        mms_id: known(&item.bib_data.mms_id),
        holding_id: known(&item.holding_data.holding_id),
        ..AlmaIds::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PatronId;

    fn request(id: &str) -> RelaisRequestId {
        RelaisRequestId::new(id).unwrap()
    }

    fn new_borrowing(status: RequestStatus) -> Start {
        Start::New { side: Side::Borrowing, partner: PartnerCode::new("RELAIS").unwrap(), status }
    }

    #[test]
    fn a_change_to_an_unknown_request_starts_its_record() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let mut change = RecordChange::new(request("RL-1"), new_borrowing(RequestStatus::OnHoldShelf));
        change.barcode = Some(ItemBarcode::new("ILL-1").unwrap());
        let record = change.apply(None, now);
        assert_eq!(record.relais_request_id, request("RL-1"));
        assert_eq!(record.status, RequestStatus::OnHoldShelf);
        assert_eq!(record.item_barcodes, [ItemBarcode::new("ILL-1").unwrap()]);
        assert_eq!(record.created_at, now);
    }

    #[test]
    fn what_a_change_does_not_know_the_record_keeps() {
        let then = Timestamp::from_second(1_700_000_000).unwrap();
        let mut existing =
            RecordChange::new(request("RL-2"), new_borrowing(RequestStatus::Requested)).apply(None, then);
        existing.alma.request_id = Some("ALMA-7".into());
        existing.patron = Some(PatronId::new("hmac:abc").unwrap());
        let mut change = RecordChange::new(request("RL-2"), new_borrowing(RequestStatus::Requested));
        change.status = Some(RequestStatus::Cancelled);
        let record = change.apply(Some(existing.clone()), then);
        assert_eq!(record.status, RequestStatus::Cancelled);
        assert_eq!(record.alma.request_id.as_deref(), Some("ALMA-7"));
        assert_eq!(record.patron, existing.patron);
        assert_eq!(record.created_at, then);
    }

    #[test]
    fn a_record_keeps_its_side_whatever_later_messages_start_with() {
        let then = Timestamp::from_second(1_700_000_000).unwrap();
        let borrowed = RecordChange::new(request("RL-3"), new_borrowing(RequestStatus::OnHoldShelf)).apply(None, then);
        // A ship for the same request (a patron pick-up sent as CheckOutItem) would start a lending record.
        let lending = Start::New {
            side: Side::Lending,
            partner: PartnerCode::new("RELAIS").unwrap(),
            status: RequestStatus::Shipped,
        };
        let mut change = RecordChange::new(request("RL-3"), lending);
        change.status = Some(RequestStatus::Shipped);
        assert_eq!(change.apply(Some(borrowed), then).side, Side::Borrowing);
    }

    fn new_lending(status: RequestStatus) -> Start {
        Start::New { side: Side::Lending, partner: PartnerCode::new("RELAIS").unwrap(), status }
    }

    #[test]
    fn an_inferred_side_is_corrected_once_by_the_first_message_that_names_its_side() {
        let then = Timestamp::from_second(1_700_000_000).unwrap();
        // A RequestItem took the request for lending (nothing in it said otherwise) ...
        let mut requested = RecordChange::new(request("RL-5"), new_lending(RequestStatus::Requested));
        requested.side_rule = SideRule::Provisional;
        let record = requested.apply(None, then);
        assert!(record.side_provisional);
        // ... an AcceptItem says it was borrowing: the side follows, and is settled from then on.
        let mut accept = RecordChange::new(request("RL-5"), new_borrowing(RequestStatus::OnHoldShelf));
        accept.side_rule = SideRule::Settle;
        let record = accept.apply(Some(record), then);
        assert_eq!((record.side, record.side_provisional), (Side::Borrowing, false));
        // A CheckOutItem after that cannot turn it back.
        let mut ship = RecordChange::new(request("RL-5"), new_lending(RequestStatus::Shipped));
        ship.side_rule = SideRule::Settle;
        assert_eq!(ship.apply(Some(record), then).side, Side::Borrowing);
    }

    #[test]
    fn a_side_a_message_named_is_never_corrected() {
        let then = Timestamp::from_second(1_700_000_000).unwrap();
        let accepted = RecordChange::new(request("RL-6"), new_borrowing(RequestStatus::OnHoldShelf)).apply(None, then);
        assert!(!accepted.side_provisional);
        let mut ship = RecordChange::new(request("RL-6"), new_lending(RequestStatus::Shipped));
        ship.side_rule = SideRule::Settle;
        assert_eq!(ship.apply(Some(accepted), then).side, Side::Borrowing);
        // Nor does a message that does not name its side correct a provisional one.
        let mut requested = RecordChange::new(request("RL-7"), new_lending(RequestStatus::Requested));
        requested.side_rule = SideRule::Provisional;
        let record = requested.apply(None, then);
        let cancel = RecordChange::new(request("RL-7"), new_borrowing(RequestStatus::Cancelled));
        let record = cancel.apply(Some(record), then);
        assert_eq!((record.side, record.side_provisional), (Side::Lending, true));
    }

    #[test]
    fn a_closed_round_starts_afresh_when_the_change_says_so() {
        let then = Timestamp::from_second(1_700_000_000).unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let mut closed =
            RecordChange::new(request("item:39"), new_borrowing(RequestStatus::CheckedIn)).apply(None, then);
        closed.due_date = Some(then);
        let mut change = RecordChange::new(
            request("item:39"),
            Start::New {
                side: Side::Lending,
                partner: PartnerCode::new("RELAIS").unwrap(),
                status: RequestStatus::Shipped,
            },
        );
        change.fresh_after = Some(RequestStatus::CheckedIn);
        let record = change.apply(Some(closed), now);
        assert_eq!(
            (record.side, record.status, record.created_at, record.due_date),
            (Side::Lending, RequestStatus::Shipped, now, None)
        );
    }

    #[test]
    fn a_matched_record_that_expired_meanwhile_is_kept_as_matched() {
        let then = Timestamp::from_second(1_700_000_000).unwrap();
        let matched = RecordChange::new(request("RL-3"), new_borrowing(RequestStatus::OnHoldShelf)).apply(None, then);
        let mut change = RecordChange::new(request("RL-3"), Start::Matched(Box::new(matched.clone())));
        change.status = Some(RequestStatus::Returned);
        let record = change.apply(None, then);
        assert_eq!(record, Correlation { status: RequestStatus::Returned, ..matched });
    }
}
