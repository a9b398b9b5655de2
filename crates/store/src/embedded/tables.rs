//! The redb tables and what their values hold. Values are JSON, like the DynamoDB `body` attribute, with the
//! expiry kept beside the payload; keys are chosen so that redb's ordering is the order reads want.

use jiff::Timestamp;
use redb::{MultimapTableDefinition, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::StoreError;
use crate::bulk::BulkAction;
use crate::claim::{ExistingClaim, StoredResponse};
use crate::config::is_live;
use crate::model::{Correlation, HistoryEntry};
use crate::queue::QueuedMessage;

/// Relais request id -> [`StoredRecord`].
pub(super) const REQUESTS: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("requests");
/// Barcode -> Relais request ids listing it.
pub(super) const BARCODES: MultimapTableDefinition<'static, &str, &str> = MultimapTableDefinition::new("barcodes");
/// (Relais request id, history position from `keys`) -> [`StoredEntry`].
pub(super) const HISTORY: TableDefinition<'static, (&str, &str), &[u8]> = TableDefinition::new("history");
/// Idempotency key -> [`StoredClaim`].
pub(super) const CLAIMS: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("claims");
/// Idempotency key -> the stored response, raw (JSON would quadruple it).
pub(super) const RESPONSES: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("responses");
/// Discovery id -> [`StoredCitation`].
pub(super) const DISCOVERY: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("discovery");
/// (Relais request id, queued message id) -> [`StoredQueued`].
pub(super) const OUTBOX: TableDefinition<'static, (&str, &str), &[u8]> = TableDefinition::new("outbox");
/// Open (waiting or parked) queued message id -> its Relais request id: the queue across requests.
pub(super) const OPEN_QUEUE: TableDefinition<'static, &str, &str> = TableDefinition::new("open_queue");
/// Item barcode -> the open queued message ids naming it: what a check-in looks up to queue behind a waiting
/// receive or ship. Kept in the same write transactions as [`OPEN_QUEUE`].
pub(super) const OPEN_BARCODES: MultimapTableDefinition<'static, &str, &str> =
    MultimapTableDefinition::new("open_barcodes");
/// Bulk action id -> [`StoredBulk`].
pub(super) const BULK: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("bulk_actions");
/// Marker name -> the instant it was recorded (RFC 3339): durable facts, never expiring.
pub(super) const MARKERS: TableDefinition<'static, &str, &str> = TableDefinition::new("markers");
/// Follow-up id -> the [`crate::FollowUp`] as JSON: work left for after the answer, removed once done.
pub(super) const FOLLOW_UPS: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("follow_ups");
/// Attempt key (`P#<hex>` / `A#<hex>`) -> [`StoredAttempts`].
pub(super) const ATTEMPTS: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("attempts");

#[derive(Serialize, Deserialize)]
pub(super) struct StoredRecord {
    pub record: Correlation,
    pub expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredEntry {
    pub entry: HistoryEntry,
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum ClaimState {
    InFlight,
    Done,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredClaim {
    pub state: ClaimState,
    pub owner: String,
    /// Epoch milliseconds, as DynamoDB stores it; meaningless once done.
    pub lease_until_ms: i64,
    pub attempts: u32,
    pub expires_at: i64,
    /// A replay of the done message is in the history (only the first one is recorded).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredCitation {
    pub citation: serde_json::Value,
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredQueued {
    pub message: QueuedMessage,
    /// Open messages never expire.
    pub expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredBulk {
    pub action: BulkAction,
    /// A pending action never expires; a finished one ages out like history.
    pub expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredAttempts {
    pub count: u32,
    pub expires_at: i64,
    /// The end of the key's lock (epoch seconds); absent from counts written before locks had an end.
    #[serde(default)]
    pub not_before: Option<i64>,
}

pub(super) fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::corrupt(what, &e))
}

pub(super) fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::corrupt(what, &e))
}

/// Reads and decodes one value of a `&str`-keyed table.
pub(super) fn read<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    what: &'static str,
    key: &str,
) -> Result<Option<T>, super::Failure> {
    match table.get(key)? {
        Some(guard) => Ok(Some(decode(what, guard.value())?)),
        None => Ok(None),
    }
}

/// The live record under `id` at `now`.
pub(super) fn live_record(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
    now: Timestamp,
) -> Result<Option<Correlation>, super::Failure> {
    let stored: Option<StoredRecord> = read(table, "record", id)?;
    Ok(stored.filter(|s| is_live(s.expires_at, now)).map(|s| s.record))
}

/// The open (waiting or parked) queued messages of `request` live at `now`, oldest first.
pub(super) fn open_queued(
    outbox: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    request: &str,
    now: Timestamp,
) -> Result<Vec<QueuedMessage>, super::Failure> {
    Ok(queued_of(outbox, request, now)?.into_iter().filter(|m| m.state.is_open()).collect())
}

/// Every queued message of `request` live at `now`, in any state, oldest first.
pub(super) fn queued_of(
    outbox: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    request: &str,
    now: Timestamp,
) -> Result<Vec<QueuedMessage>, super::Failure> {
    let mut messages = Vec::new();
    // Message ids are never empty, so (request, "") bounds the request's rows from below.
    for row in outbox.range((request, "")..)? {
        let (key, value) = row?;
        if key.value().0 != request {
            break;
        }
        let stored: StoredQueued = decode("queued message", value.value())?;
        if is_live(stored.expires_at, now) {
            messages.push(stored.message);
        }
    }
    Ok(messages)
}

/// The live claim under `key` at `now`, with its stored response when done.
pub(super) fn live_claim(
    claims: &impl ReadableTable<&'static str, &'static [u8]>,
    responses: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
    now: Timestamp,
) -> Result<Option<(StoredClaim, ExistingClaim)>, super::Failure> {
    let Some(stored) = read::<StoredClaim>(claims, "claim", key)? else {
        return Ok(None);
    };
    if !is_live(Some(stored.expires_at), now) {
        return Ok(None);
    }
    let existing = match stored.state {
        ClaimState::InFlight => ExistingClaim::InFlight {
            owner: stored.owner.clone(),
            lease_until: Timestamp::from_millisecond(stored.lease_until_ms)
                .map_err(|_| StoreError::Corrupt { what: "claim", reason: "lease end out of range".to_owned() })?,
            attempts: stored.attempts,
        },
        ClaimState::Done => {
            let body = responses.get(key)?.map(|guard| guard.value().to_vec()).ok_or_else(|| StoreError::Corrupt {
                what: "claim",
                reason: "done without a stored response".to_owned(),
            })?;
            ExistingClaim::Done(StoredResponse { body, replay_recorded: stored.replayed })
        }
    };
    Ok(Some((stored, existing)))
}
