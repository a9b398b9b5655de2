//! How each kind of item is laid out in the table (see [`crate::schema`]) and read back.
//!
//! Records and history entries travel as one JSON `body` attribute: the bridge only ever reads them whole,
//! and JSON keeps the DynamoDB and embedded stores byte-for-byte alike. A few attributes are lifted out of the
//! body where DynamoDB itself must see them: keys, `version` and `state` for conditions, `expires_at` for TTL,
//! and `status` for operators browsing the table.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use crate::StoreError;
use crate::bulk::BulkAction;
use crate::claim::{ExistingClaim, StoredResponse};
use crate::config::is_live;
use crate::ids::{ClaimToken, IdempotencyKey, ItemBarcode, RelaisRequestId};
use crate::keys::instant_key;
use crate::model::{Correlation, HistoryEntry};
use crate::queue::QueuedMessage;
use crate::schema::{BARCODE_INDEX_PARTITION_KEY, BARCODE_INDEX_SORT_KEY, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) const KIND: &str = "kind";
pub(super) const VERSION: &str = "version";
pub(super) const STATUS: &str = "status";
pub(super) const BODY: &str = "body";
pub(super) const STATE: &str = "state";
pub(super) const OWNER: &str = "owner";
pub(super) const LEASE_UNTIL: &str = "lease_until";
pub(super) const ATTEMPTS: &str = "attempts";
pub(super) const RESPONSE: &str = "response";
/// Set on a done idempotency item by the first replay of its message (only that one is in the history).
pub(super) const REPLAYED: &str = "replayed";
pub(super) const CITATION: &str = "citation";

pub(super) const IN_FLIGHT: &str = "in_flight";
pub(super) const DONE: &str = "done";

const REQUEST_PREFIX: &str = crate::schema::REQUEST_KEY_PREFIX;
const RECORD_SK: &str = "REQ";
const BARCODE_PREFIX: &str = "BARCODE#";
const IDEMPOTENCY_SK: &str = "IDEM";
const DISCOVERY_SK: &str = "DISC";
/// Sort-key prefix of a queued message in its request's partition.
pub(super) const OUTBOX_PREFIX: &str = "OUT#";
/// The partition listing the open queue.
pub(super) const QUEUE_PK: &str = crate::schema::QUEUE_PARTITION;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn number<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn missing(what: &'static str, attribute: &str) -> StoreError {
    StoreError::Corrupt { what, reason: format!("attribute `{attribute}` is missing or has the wrong type") }
}

pub(super) fn expires_at(item: &Item) -> Option<i64> {
    number(item, TTL_ATTRIBUTE)
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PARTITION_KEY.to_owned(), s(pk)), (SORT_KEY.to_owned(), s(sk))])
}

fn with_expiry(mut item: Item, expires_at: Option<i64>) -> Item {
    if let Some(at) = expires_at {
        item.insert(TTL_ATTRIBUTE.to_owned(), n(at));
    }
    item
}

pub(super) fn request_pk(id: &RelaisRequestId) -> String {
    format!("{REQUEST_PREFIX}{id}")
}

/// The Relais request id a pointer or record item belongs to.
pub(super) fn request_id_of(item: &Item) -> Option<RelaisRequestId> {
    let pk = text(item, PARTITION_KEY)?.strip_prefix(REQUEST_PREFIX)?;
    RelaisRequestId::new(pk).ok()
}

pub(super) fn record_key(id: &RelaisRequestId) -> Item {
    key(request_pk(id), RECORD_SK)
}

pub(super) fn record_item(record: &Correlation, version: u64, expires_at: Option<i64>) -> Result<Item, StoreError> {
    let mut stored = record.clone();
    stored.version = version;
    let body = serde_json::to_string(&stored).map_err(|e| StoreError::corrupt("record", &e))?;
    let status =
        serde_json::to_value(record.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let mut item = record_key(&record.relais_request_id);
    item.extend([
        (KIND.to_owned(), s("request")),
        (VERSION.to_owned(), n(version)),
        (STATUS.to_owned(), s(status)),
        (BODY.to_owned(), s(body)),
    ]);
    Ok(with_expiry(item, expires_at))
}

/// The record in `item`, if it is still live at `now`.
pub(super) fn live_record(item: &Item, now: Timestamp) -> Result<Option<Correlation>, StoreError> {
    if !is_live(expires_at(item), now) {
        return Ok(None);
    }
    let body = text(item, BODY).ok_or_else(|| missing("record", BODY))?;
    let mut record: Correlation = serde_json::from_str(body).map_err(|e| StoreError::corrupt("record", &e))?;
    // The attribute is what conditions check, so it is the truth.
    record.version = number(item, VERSION).ok_or_else(|| missing("record", VERSION))?;
    Ok(Some(record))
}

pub(super) fn barcode_partition(barcode: &ItemBarcode) -> String {
    format!("{BARCODE_PREFIX}{barcode}")
}

pub(super) fn barcode_pointer(record: &Correlation, barcode: &ItemBarcode, expires_at: Option<i64>) -> Item {
    let id = &record.relais_request_id;
    let mut item = key(request_pk(id), &barcode_partition(barcode));
    item.extend([
        (KIND.to_owned(), s("barcode")),
        (BARCODE_INDEX_PARTITION_KEY.to_owned(), s(barcode_partition(barcode))),
        (BARCODE_INDEX_SORT_KEY.to_owned(), s(format!("{}#{id}", instant_key(record.created_at)))),
    ]);
    with_expiry(item, expires_at)
}

pub(super) fn history_item(
    id: &RelaisRequestId,
    position: &str,
    entry: &HistoryEntry,
    expires_at: i64,
) -> Result<Item, StoreError> {
    let body = serde_json::to_string(entry).map_err(|e| StoreError::corrupt("history entry", &e))?;
    let mut item = key(request_pk(id), position);
    item.extend([(KIND.to_owned(), s("history")), (BODY.to_owned(), s(body))]);
    Ok(with_expiry(item, Some(expires_at)))
}

pub(super) fn sort_key(item: &Item) -> Option<&str> {
    text(item, SORT_KEY)
}

pub(super) fn live_history_entry(item: &Item, now: Timestamp) -> Result<Option<HistoryEntry>, StoreError> {
    if !is_live(expires_at(item), now) {
        return Ok(None);
    }
    let body = text(item, BODY).ok_or_else(|| missing("history entry", BODY))?;
    serde_json::from_str(body).map(Some).map_err(|e| StoreError::corrupt("history entry", &e))
}

pub(super) fn claim_key(key: &IdempotencyKey) -> Item {
    self::key(format!("IDEM#{key}"), IDEMPOTENCY_SK)
}

pub(super) fn in_flight_item(
    key: &IdempotencyKey,
    owner: &ClaimToken,
    lease_until: Timestamp,
    attempts: u32,
    expires_at: i64,
) -> Item {
    let mut item = claim_key(key);
    item.extend([
        (KIND.to_owned(), s("idempotency")),
        (STATE.to_owned(), s(IN_FLIGHT)),
        (OWNER.to_owned(), s(owner.as_str())),
        (LEASE_UNTIL.to_owned(), n(lease_until.as_millisecond())),
        (ATTEMPTS.to_owned(), n(attempts)),
    ]);
    with_expiry(item, Some(expires_at))
}

pub(super) fn blob(bytes: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(bytes))
}

/// The claim in `item`, if it is still live at `now`.
pub(super) fn live_claim(item: &Item, now: Timestamp) -> Result<Option<ExistingClaim>, StoreError> {
    if !is_live(expires_at(item), now) {
        return Ok(None);
    }
    match text(item, STATE) {
        Some(IN_FLIGHT) => {
            let lease_ms: i64 = number(item, LEASE_UNTIL).ok_or_else(|| missing("claim", LEASE_UNTIL))?;
            Ok(Some(ExistingClaim::InFlight {
                owner: text(item, OWNER).ok_or_else(|| missing("claim", OWNER))?.to_owned(),
                lease_until: Timestamp::from_millisecond(lease_ms).map_err(|_| missing("claim", LEASE_UNTIL))?,
                attempts: number(item, ATTEMPTS).ok_or_else(|| missing("claim", ATTEMPTS))?,
            }))
        }
        Some(DONE) => {
            let body = item.get(RESPONSE).and_then(|v| v.as_b().ok()).ok_or_else(|| missing("claim", RESPONSE))?;
            let replay_recorded = item.get(REPLAYED).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
            Ok(Some(ExistingClaim::Done(StoredResponse { body: body.as_ref().to_vec(), replay_recorded })))
        }
        _ => Err(missing("claim", STATE)),
    }
}

/// The key of a durable marker: `MARK#<name>` / `MARK`.
pub(super) fn marker_key(marker: &str) -> Item {
    key(format!("MARK#{marker}"), "MARK")
}

/// A marker recorded at `now`; no expiry.
pub(super) fn marker_item(marker: &str, now: Timestamp) -> Item {
    let mut item = marker_key(marker);
    item.extend([(KIND.to_owned(), s("marker")), ("recorded_at".to_owned(), s(now.to_string()))]);
    item
}

pub(super) fn discovery_key(id: &str) -> Item {
    key(format!("DISC#{id}"), DISCOVERY_SK)
}

pub(super) fn discovery_item(id: &str, citation: &serde_json::Value, expires_at: i64) -> Result<Item, StoreError> {
    let json = serde_json::to_string(citation).map_err(|e| StoreError::corrupt("citation", &e))?;
    let mut item = discovery_key(id);
    item.extend([(KIND.to_owned(), s("discovery")), (CITATION.to_owned(), s(json))]);
    Ok(with_expiry(item, Some(expires_at)))
}

pub(super) fn live_citation(item: &Item, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
    if !is_live(expires_at(item), now) {
        return Ok(None);
    }
    let json = text(item, CITATION).ok_or_else(|| missing("citation", CITATION))?;
    serde_json::from_str(json).map(Some).map_err(|e| StoreError::corrupt("citation", &e))
}

fn queued_body(message: &QueuedMessage) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(message).map(s).map_err(|e| StoreError::corrupt("queued message", &e))
}

/// A queued message in its request's partition.
pub(super) fn queued_item(message: &QueuedMessage, expires_at: Option<i64>) -> Result<Item, StoreError> {
    let mut item = key(request_pk(&message.request), &format!("{OUTBOX_PREFIX}{}", message.id));
    item.extend([
        (KIND.to_owned(), s("outbox")),
        (STATE.to_owned(), s(message.state.label())),
        (BODY.to_owned(), queued_body(message)?),
    ]);
    Ok(with_expiry(item, expires_at))
}

/// The outbox's count of open messages in all: `QUEUE#COUNT` / `COUNT`, attribute `open`.
pub(super) fn queue_count_key() -> Item {
    key(format!("{QUEUE_PK}#COUNT"), "COUNT")
}

/// One request's count of open messages: `REQ#<id>` / `QCOUNT`, attribute `open`.
pub(super) fn request_queue_count_key(id: &RelaisRequestId) -> Item {
    key(request_pk(id), "QCOUNT")
}

/// The attribute a queue count is kept in.
pub(super) const OPEN_COUNT: &str = "open";

pub(super) fn queue_index_key(id: &str) -> Item {
    key(QUEUE_PK.to_owned(), id)
}

/// The open queue's copy of a message.
pub(super) fn queue_index_item(message: &QueuedMessage) -> Result<Item, StoreError> {
    let mut item = queue_index_key(&message.id);
    item.extend([(KIND.to_owned(), s("queue")), (BODY.to_owned(), queued_body(message)?)]);
    Ok(item)
}

/// The message an outbox or queue item holds.
pub(super) fn queued_in(item: &Item) -> Result<QueuedMessage, StoreError> {
    let body = text(item, BODY).ok_or_else(|| missing("queued message", BODY))?;
    serde_json::from_str(body).map_err(|e| StoreError::corrupt("queued message", &e))
}

/// The message in an outbox item, if it is still live at `now`.
pub(super) fn live_queued(item: &Item, now: Timestamp) -> Result<Option<QueuedMessage>, StoreError> {
    if !is_live(expires_at(item), now) {
        return Ok(None);
    }
    queued_in(item).map(Some)
}

/// The barcode entry of an open message that names an item: `QBARCODE#<barcode>` / `<message id>`, so that
/// a check-in finds the receive or ship it must wait behind with one consistent query (the barcode index is a
/// GSI, which cannot be read consistently, and a check-in can follow its receive within a second).
pub(super) fn open_barcode_key(barcode: &ItemBarcode, id: &str) -> Item {
    key(open_barcode_partition(barcode), id)
}

pub(super) fn open_barcode_partition(barcode: &ItemBarcode) -> String {
    format!("{}{barcode}", crate::schema::OPEN_BARCODE_KEY_PREFIX)
}

/// The attribute naming the Relais request of an open message's barcode entry.
pub(super) const REQUEST: &str = "request";

pub(super) fn open_barcode_item(barcode: &ItemBarcode, message: &QueuedMessage) -> Item {
    let mut item = open_barcode_key(barcode, &message.id);
    item.extend([(KIND.to_owned(), s("queue_barcode")), (REQUEST.to_owned(), s(message.request.as_str()))]);
    item
}

/// The partition holding the bulk actions staff confirmed.
pub(super) const BULK_PK: &str = crate::schema::BULK_PARTITION;
/// The attribute a bulk action's last write instant is kept in, for the condition of the next write.
pub(super) const UPDATED_AT: &str = "updated_at";

pub(super) fn bulk_key(id: &str) -> Item {
    key(BULK_PK.to_owned(), id)
}

pub(super) fn bulk_item(action: &BulkAction, expires_at: Option<i64>) -> Result<Item, StoreError> {
    let body = serde_json::to_string(action).map_err(|e| StoreError::corrupt("bulk action", &e))?;
    let mut item = bulk_key(&action.id);
    item.extend([
        (KIND.to_owned(), s("bulk")),
        (BODY.to_owned(), s(body)),
        (UPDATED_AT.to_owned(), s(action.updated_at.to_string())),
    ]);
    Ok(with_expiry(item, expires_at))
}

/// The bulk action in `item`, if it is still live at `now`.
pub(super) fn live_bulk(item: &Item, now: Timestamp) -> Result<Option<BulkAction>, StoreError> {
    if !is_live(expires_at(item), now) {
        return Ok(None);
    }
    let body = text(item, BODY).ok_or_else(|| missing("bulk action", BODY))?;
    serde_json::from_str(body).map(Some).map_err(|e| StoreError::corrupt("bulk action", &e))
}
