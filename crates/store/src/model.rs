//! What the store remembers about a Relais request: the correlation record and its message history.
//!
//! These are plain values; both store implementations persist them as JSON, so renaming a field or a variant
//! here is a data migration.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{ItemBarcode, PartnerCode, PatronId, RelaisRequestId};

/// Which side of the loan this library is on for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Our patron borrows from a partner: Alma holds a borrowing request and a temporary item.
    Borrowing,
    /// A partner borrows our item: Alma holds a lending request.
    Lending,
}

/// Where the request stands, as far as the messages the bridge has reflected into Alma tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// RequestItem seen (lending) or the borrowing request created.
    Requested,
    /// AcceptItem: the item was received and waits on the hold shelf for the patron.
    OnHoldShelf,
    /// CheckOutItem: our item was shipped to the borrowing library.
    Shipped,
    /// RenewItem: the due date moved.
    Renewed,
    /// Borrower-side CheckInItem: the patron's loan ended and the item goes back to the lender.
    Returned,
    /// Lender-side CheckInItem: our item came back home.
    CheckedIn,
    /// CancelRequestItem.
    Cancelled,
}

impl RequestStatus {
    /// A closed request takes no further circulation messages, so its record and history may age out
    /// (closed requests are kept for `HISTORY_RETENTION_DAYS`, then expire; see docs/configuration.md).
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Returned | Self::CheckedIn | Self::Cancelled)
    }
}

/// The Alma identifiers learnt so far. Alma may drop a client-supplied `external_id`, so these are Alma's own ids,
/// read back after each action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlmaIds {
    /// The borrowing or lending request id, whichever [`Side`] says this is.
    pub request_id: Option<String>,
    /// The physical item (for a borrowing, the temporary item Alma made on receipt).
    pub item_pid: Option<String>,
    /// The bibliographic record the item belongs to; Alma's item paths start with it.
    pub mms_id: Option<String>,
    /// The holding under that record; the middle part of Alma's item paths.
    pub holding_id: Option<String>,
    /// The hold request (borrowing, on the hold shelf) or loan (lending, shipped) id.
    pub hold_or_loan_id: Option<String>,
    /// Relais was answered and these ids are still being read back from Alma (a follow-up of the message's
    /// commit): the staff pages show the ids not yet known as "pending". Absent once read, or given up.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pending: bool,
}

/// One Relais request tied to its Alma records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correlation {
    /// The key of the record: every message Relais sends about the request carries it.
    pub relais_request_id: RelaisRequestId,
    /// Which side of the loan this library is on, fixed by the first message.
    pub side: Side,
    /// The side was inferred by a RequestItem or CancelRequestItem (which name no side), so the first
    /// AcceptItem (borrowing) or CheckOutItem (lending) may still correct it, once; `false` for every other
    /// record, and for records written before the flag existed, whose side never changes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub side_provisional: bool,
    /// The Alma NCIP partner code (application profile) the messages came under.
    pub partner: PartnerCode,
    /// The patron, once known, as the bridge hands it over: a keyed hash of the Alma id, so that one patron's
    /// requests can be told together without the store holding who it is.
    pub patron: Option<PatronId>,
    /// Barcodes that identify the item; CheckInItem carries only one of these.
    pub item_barcodes: Vec<ItemBarcode>,
    /// What Alma calls the same request, item and loan.
    pub alma: AlmaIds,
    /// Where the request stands; a closed status starts the record's retention clock.
    pub status: RequestStatus,
    /// The loan's due date as last set in Alma (shipping or renewal).
    pub due_date: Option<Timestamp>,
    /// When the first message about the request arrived; barcode lookups list the newest first.
    pub created_at: Timestamp,
    /// When a message last changed the record.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version as stored; set by the store on every commit, ignored on input
    /// (the commit's `expected_version` is what is checked).
    pub version: u64,
}

impl Correlation {
    /// A record for a request first seen at `now`, with nothing learnt from Alma yet.
    pub fn new(
        relais_request_id: RelaisRequestId,
        side: Side,
        partner: PartnerCode,
        status: RequestStatus,
        now: Timestamp,
    ) -> Self {
        Self {
            relais_request_id,
            side,
            side_provisional: false,
            partner,
            patron: None,
            item_barcodes: Vec::new(),
            alma: AlmaIds::default(),
            status,
            due_date: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    /// Whether the item with this barcode belongs to the request (a CheckInItem names one barcode only).
    pub fn has_barcode(&self, barcode: &ItemBarcode) -> bool {
        self.item_barcodes.contains(barcode)
    }
}

/// Sorts records newest first by creation, ties by id, so that barcode lookups list the same order from
/// either store.
pub(crate) fn newest_first(records: &mut [Correlation]) {
    records.sort_by(|a, b| (b.created_at, &b.relais_request_id).cmp(&(a.created_at, &a.relais_request_id)));
}

/// How the bridge answered a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done in Alma and answered with success.
    Success,
    /// Answered with an NCIP Problem that a retry will not change.
    Problem,
    /// Answered with "Temporary Processing Failure": Relais should send the message again.
    TemporaryFailure,
    /// A repeat delivery answered from the stored response, without calling Alma.
    Replayed,
    /// Answered with success while Alma could not take the message: it waits in the outbox.
    Queued,
    /// A queued message that Alma has now taken.
    Delivered,
    /// A queued message Alma refused on delivery, or that stayed undelivered too long: it waits for staff.
    Parked,
    /// Staff sent a parked message to Alma again.
    Redriven,
    /// Staff gave a queued message up.
    Discarded,
    /// A Relais resend with the same key said something else than the queued message (a corrected patron id):
    /// it took the queued message's place.
    Replaced,
}

impl Outcome {
    /// The label logs and metrics carry (`outcome` on the "ncip answered" line, the EMF `Outcome` dimension).
    /// template.yaml's metric filters and alarms match these exact strings, so they never change casually.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Problem => "problem",
            Outcome::TemporaryFailure => "TemporaryFailure",
            Outcome::Replayed => "replayed",
            Outcome::Queued => "queued",
            Outcome::Delivered => "delivered",
            Outcome::Parked => "parked",
            Outcome::Redriven => "redriven",
            Outcome::Discarded => "discarded",
            Outcome::Replaced => "replaced",
        }
    }
}

/// The NCIP Problem the bridge answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemSummary {
    /// The NCIP `ProblemType` value, e.g. "Unknown Item".
    pub problem_type: String,
    /// The free text that went with it, for staff reading the history.
    pub detail: Option<String>,
}

/// One call the bridge made to Alma while handling a message. The path is the template
/// (`/users/{user_id}/loans`), never the filled-in path, so that no patron id lands in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlmaCall {
    /// The HTTP method, e.g. "POST".
    pub method: String,
    /// The path with its ids left as `{placeholders}`.
    pub path_template: String,
    /// Alma's HTTP status (0 when no answer came).
    pub status: u16,
    /// How long Alma took, for staff chasing a slow message.
    pub elapsed_ms: u64,
}

/// An AgencyId Relais sent inside an identifier that the bridge replaced with Alma's institution code before
/// forwarding: kept so that staff comparing Relais's log with Alma's can see what Relais itself wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacedAgencyId {
    /// Where it was, e.g. `ItemId/AgencyId` or `UserId/AgencyId`.
    pub element: String,
    /// The agency code Relais sent there.
    pub sent: String,
}

/// One message handled for a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The NCIP service, e.g. "AcceptItem".
    pub message_type: String,
    /// When the message was handled; history reads oldest first by this.
    pub at: Timestamp,
    /// How the bridge answered.
    pub outcome: Outcome,
    /// The Problem answered, when the outcome is one.
    pub problem: Option<ProblemSummary>,
    /// The Alma calls made for the message, in order.
    pub alma_calls: Vec<AlmaCall>,
    /// Alma's `trackingId` from an error answer, the handle Ex Libris support asks for.
    pub alma_tracking_id: Option<String>,
    /// For a replay: how many more times the same message was replayed right after this entry, folded into
    /// it so that a sender retrying in a loop cannot grow the history without bound.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeats: u32,
    /// When the last of those repeats came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_repeat_at: Option<Timestamp>,
    /// What staff wrote when they re-drove or discarded a queued message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For a staff action: which token took it, as a fingerprint (`sha256:` and 8 hex digits of the token's
    /// SHA-256), never the token itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acted_by: Option<String>,
    /// The AgencyIds inside identifiers that reached Alma as its institution code instead; empty when the
    /// message went as sent (and in entries written before the bridge rewrote them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced_agency_ids: Vec<ReplacedAgencyId>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl HistoryEntry {
    /// Whether `next`, appended after this entry, is folded into it: both replays of the same message type.
    pub fn absorbs(&self, next: &HistoryEntry) -> bool {
        self.outcome == Outcome::Replayed && next.outcome == Outcome::Replayed && self.message_type == next.message_type
    }

    /// This entry with `next` folded in (see [`HistoryEntry::absorbs`]).
    pub fn absorb(mut self, next: &HistoryEntry) -> HistoryEntry {
        self.repeats += 1;
        self.last_repeat_at = Some(next.at);
        self
    }

    /// An entry with no Problem, Alma calls or tracking id.
    pub fn new(message_type: impl Into<String>, at: Timestamp, outcome: Outcome) -> Self {
        Self {
            message_type: message_type.into(),
            at,
            outcome,
            problem: None,
            alma_calls: Vec::new(),
            alma_tracking_id: None,
            repeats: 0,
            last_repeat_at: None,
            note: None,
            acted_by: None,
            replaced_agency_ids: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_written_before_agency_ids_were_kept_still_reads() {
        let old = serde_json::json!({
            "message_type": "AcceptItem", "at": "2026-01-02T03:04:05Z", "outcome": "success",
            "problem": null, "alma_calls": [], "alma_tracking_id": null
        });
        let entry: HistoryEntry = serde_json::from_value(old).expect("an older entry reads");
        assert!(entry.replaced_agency_ids.is_empty());
        let mut entry = entry;
        entry.replaced_agency_ids.push(ReplacedAgencyId { element: "ItemId/AgencyId".into(), sent: "LEH".into() });
        let again: HistoryEntry = serde_json::from_value(serde_json::to_value(&entry).unwrap()).unwrap();
        assert_eq!(again, entry);
    }

    #[test]
    fn only_returned_checked_in_and_cancelled_are_closed() {
        use RequestStatus::*;
        let closed: Vec<_> = [Requested, OnHoldShelf, Shipped, Renewed, Returned, CheckedIn, Cancelled]
            .into_iter()
            .filter(|s| s.is_closed())
            .collect();
        assert_eq!(closed, [Returned, CheckedIn, Cancelled]);
    }

    #[test]
    fn status_is_stored_in_snake_case() {
        let json = serde_json::to_string(&RequestStatus::OnHoldShelf).unwrap();
        assert_eq!(json, "\"on_hold_shelf\"");
    }
}
