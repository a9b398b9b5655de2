//! The outbox: Relais messages the bridge answered but Alma could not take yet, kept until they are delivered.
//!
//! A message joins the outbox in the same write that marks its idempotency key done with the answer Relais got
//! ([`Enqueue`]), so a Relais resend replays that answer and the message is held exactly once. Messages of one
//! Relais request are delivered in the order they were queued ([`QueuedMessage::id`] sorts by queueing time);
//! separate requests are independent.
//!
//! A queued message is `Waiting` until the deliverer gets Alma to take it (`Delivered`), or Alma refuses it or it
//! stays undelivered too long (`Parked`, until staff re-drive or discard it). Waiting and parked messages never
//! expire; delivered and discarded ones are kept as long as history entries, for the staff pages.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{ClaimToken, IdempotencyKey, ItemBarcode, PartnerCode, RelaisRequestId};
use crate::keys::instant_key;
use crate::model::HistoryEntry;

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueState {
    /// Not yet in Alma; the deliverer keeps trying.
    Waiting,
    /// Alma refused it on delivery, or it stayed undelivered too long: staff re-drive or discard it.
    Parked,
    /// Alma took it.
    Delivered,
    /// Staff gave it up, with a note.
    Discarded,
}

impl QueueState {
    /// Waiting and parked messages still need someone: they are listed on the queue and never expire.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Waiting | Self::Parked)
    }

    /// The state as the staff queue page and the status report show it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Parked => "parked",
            Self::Delivered => "delivered",
            Self::Discarded => "discarded",
        }
    }
}

/// One Relais message held for Alma.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMessage {
    /// Unique, and sorting as text in queueing order: the queueing instant in the form the store's keys give
    /// instants, then the start of the message's key.
    pub id: String,
    /// The Relais request the message is about: its messages are delivered one after another.
    pub request: RelaisRequestId,
    /// The NCIP service, e.g. "AcceptItem".
    pub message_type: String,
    /// The message's own idempotency key (done, with the answer Relais got).
    pub key: IdempotencyKey,
    /// The item the message names, so that a CheckInItem (which carries only the barcode) finds the request
    /// whose receive or ship is still waiting, and queues behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<ItemBarcode>,
    /// The Alma partner code of the agency that sent it: what staff filter a bulk action by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<PartnerCode>,
    /// The message as Relais sent it: what delivery forwards, patched like any forward.
    #[serde(with = "base64_bytes")]
    pub body: Vec<u8>,
    /// When Relais sent it and got its answer.
    pub queued_at: Timestamp,
    /// Where it stands.
    pub state: QueueState,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// Not before this instant is the next attempt due.
    pub next_attempt_at: Timestamp,
    /// The answer to an attempt was lost after sending: the next attempt reads Alma's state before acting.
    pub reconcile: bool,
    /// Alma's last answer, or why it could not be asked, in words for staff.
    pub last_answer: Option<String>,
    /// What staff wrote when discarding (or re-driving) it.
    pub note: Option<String>,
    /// When the deliverer or staff last changed it.
    pub updated_at: Timestamp,
}

impl QueuedMessage {
    /// A message queued at `now`, due for its first delivery attempt at once.
    pub fn new(
        request: RelaisRequestId,
        message_type: impl Into<String>,
        key: IdempotencyKey,
        body: Vec<u8>,
        now: Timestamp,
    ) -> Self {
        // The key tells messages queued in the same instant apart: one message is queued at most once.
        let suffix = &key.as_str()[..12];
        Self {
            id: format!("{}-{suffix}", instant_key(now)),
            request,
            message_type: message_type.into(),
            key,
            barcode: None,
            partner: None,
            body,
            queued_at: now,
            state: QueueState::Waiting,
            attempts: 0,
            next_attempt_at: now,
            reconcile: false,
            last_answer: None,
            note: None,
            updated_at: now,
        }
    }
}

/// Whether `id` has the shape [`QueuedMessage::new`] gives ids: checked before an id from a URL reaches a key.
pub fn is_queue_id(id: &str) -> bool {
    id.len() == 35 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b'-')
}

/// Everything that changes together when a message is queued (see [`crate::Store::enqueue`]).
#[derive(Debug, Clone, Copy)]
pub struct Enqueue<'a> {
    /// The message's idempotency key, claimed by `owner`.
    pub key: &'a IdempotencyKey,
    /// The delivery attempt that holds the claim.
    pub owner: &'a ClaimToken,
    /// The answer Relais gets, replayed to its resends.
    pub response: &'a [u8],
    /// The message as it joins the outbox.
    pub message: &'a QueuedMessage,
    /// The entry that tells the request's history the message was queued.
    pub history: &'a HistoryEntry,
    /// When it is queued: the lease is checked at it, and the key's retention counts from it.
    pub now: Timestamp,
    /// The most open messages the outbox may hold, per request and in all.
    pub limits: QueueLimits,
}

/// The outbox's bounds: an open message costs store space and a turn of every delivery round, so neither
/// one request's messages nor the whole queue may grow without end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    /// At most this many open (waiting or parked) messages for one Relais request.
    pub per_request: u32,
    /// At most this many open messages in all.
    pub total: u32,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self { per_request: 10, total: 5_000 }
    }
}

/// Which bound a refused message met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueLimit {
    /// Its request already has [`QueueLimits::per_request`] open messages.
    PerRequest,
    /// The outbox already holds [`QueueLimits::total`] open messages.
    Total,
}

/// How queueing ended. Nothing was written unless it is `Queued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnqueueOutcome {
    /// The message is in the outbox and its key is done.
    Queued,
    /// The caller no longer holds the message's claim: whoever took it over is responsible for the message.
    ClaimLost,
    /// The outbox is at one of its bounds: nothing was written, the claim is still the caller's.
    Full(QueueLimit),
}

/// Serialises the body as base64 text: JSON would spend four bytes on each of its bytes.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_in_queueing_order_and_pass_their_own_check() {
        let request = RelaisRequestId::new("RL-1").unwrap();
        let key = IdempotencyKey::derive("AcceptItem", Some(&request), None, b"");
        let early = QueuedMessage::new(
            request.clone(),
            "AcceptItem",
            key.clone(),
            b"<x/>".to_vec(),
            Timestamp::from_second(9).unwrap(),
        );
        let late = QueuedMessage::new(request, "CheckInItem", key, Vec::new(), Timestamp::from_second(10).unwrap());
        assert!(early.id < late.id, "{} !< {}", early.id, late.id);
        assert!(is_queue_id(&early.id), "{}", early.id);
        assert!(!is_queue_id("../REQ#x") && !is_queue_id(""));
    }

    #[test]
    fn the_body_round_trips_through_json_as_text() {
        let request = RelaisRequestId::new("RL-1").unwrap();
        let key = IdempotencyKey::derive("AcceptItem", Some(&request), None, b"");
        let body = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><x>\xe9</x>".to_vec();
        let message = QueuedMessage::new(request, "AcceptItem", key, body, Timestamp::from_second(9).unwrap());
        let json = serde_json::to_string(&message).unwrap();
        assert!(json.contains("\"body\":\"PD94"), "{json}");
        assert_eq!(serde_json::from_str::<QueuedMessage>(&json).unwrap(), message);
    }
}
