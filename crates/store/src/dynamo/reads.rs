//! DynamoDB reads (records, barcode lookups, history) and the discovery citations.
//!
//! Base-table reads are strongly consistent: a flow commits against the version it read, and a history read
//! right after a commit must show it. Only the barcode index is eventually consistent (GSIs cannot be read
//! otherwise); it merely names the records, which are then read consistently.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use jiff::Timestamp;

use super::items::{self, Item, s};
use super::{DynamoStore, back_off, map_sdk_error};
use crate::config::expiry_after;
use crate::keys::HISTORY_PREFIX;
use crate::schema::{BARCODE_INDEX, BARCODE_INDEX_PARTITION_KEY, PARTITION_KEY, SORT_KEY};
use crate::{Correlation, HistoryEntry, ItemBarcode, RelaisRequestId, StoreError};

/// BatchGetItem takes at most 100 keys per call.
const BATCH_GET_LIMIT: usize = 100;
/// Rounds of re-asking for keys DynamoDB left unprocessed (it does so under load) before giving up.
const UNPROCESSED_ROUNDS: u32 = 8;

pub(super) async fn get_request(store: &DynamoStore, id: &RelaisRequestId) -> Result<Option<Correlation>, StoreError> {
    let now = store.config.now();
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .set_key(Some(items::record_key(id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| map_sdk_error("GetItem", e))?;
    match output.item() {
        Some(item) => items::live_record(item, now),
        None => Ok(None),
    }
}

pub(super) async fn find_by_barcode(
    store: &DynamoStore,
    barcode: &ItemBarcode,
) -> Result<Vec<Correlation>, StoreError> {
    let now = store.config.now();
    let mut ids = BTreeSet::new();
    let mut start: Option<Item> = None;
    loop {
        let output = store
            .client
            .query()
            .table_name(&store.table)
            .index_name(BARCODE_INDEX)
            .key_condition_expression("#bc = :bc")
            .expression_attribute_names("#bc", BARCODE_INDEX_PARTITION_KEY)
            .expression_attribute_values(":bc", s(items::barcode_partition(barcode)))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| map_sdk_error("Query", e))?;
        ids.extend(output.items().iter().filter_map(items::request_id_of));
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    let keys: Vec<Item> = ids.iter().map(items::record_key).collect();
    let mut records = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(BATCH_GET_LIMIT) {
        for item in batch_get(store, chunk.to_vec()).await? {
            // A pointer can outlive the barcode's removal from the record (pointers are only ever added,
            // see `commit`), so the record itself decides.
            match items::live_record(&item, now)? {
                Some(record) if record.has_barcode(barcode) => records.push(record),
                _ => {}
            }
        }
    }
    crate::model::newest_first(&mut records);
    Ok(records)
}

async fn batch_get(store: &DynamoStore, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::with_capacity(keys.len());
    let mut pending = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .consistent_read(true)
        .build()
        .map_err(|_| StoreError::Refused { operation: "BatchGetItem", code: "RequestConstruction".to_owned() })?;
    for round in 0..UNPROCESSED_ROUNDS {
        let output = store
            .client
            .batch_get_item()
            .request_items(&store.table, pending)
            .send()
            .await
            .map_err(|e| map_sdk_error("BatchGetItem", e))?;
        if let Some(items) = output.responses().and_then(|r| r.get(&store.table)) {
            found.extend(items.iter().cloned());
        }
        match output.unprocessed_keys().and_then(|u| u.get(&store.table)).filter(|k| !k.keys().is_empty()) {
            Some(rest) => pending = rest.clone(),
            None => return Ok(found),
        }
        back_off(round).await;
    }
    Err(StoreError::Throttled { operation: "BatchGetItem", code: "UnprocessedKeys".to_owned() })
}

pub(super) async fn history(store: &DynamoStore, id: &RelaisRequestId) -> Result<Vec<HistoryEntry>, StoreError> {
    let now = store.config.now();
    let mut entries = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let output = store
            .client
            .query()
            .table_name(&store.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :hist)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":pk", s(items::request_pk(id)))
            .expression_attribute_values(":hist", s(HISTORY_PREFIX))
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| map_sdk_error("Query", e))?;
        // The sort key orders entries by time, then by appending (see `keys`).
        for item in output.items() {
            entries.extend(items::live_history_entry(item, now)?);
        }
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(entries),
        }
    }
}

/// The greatest history position already used at `prefix`'s instant, to place the next entry after it.
pub(super) async fn last_history_position(
    store: &DynamoStore,
    id: &RelaisRequestId,
    prefix: &str,
) -> Result<Option<String>, StoreError> {
    Ok(latest_history_item(store, id, prefix).await?.as_ref().and_then(items::sort_key).map(str::to_owned))
}

/// The request's latest live history entry and its item, for folding a repeated replay into it.
pub(super) async fn last_history_entry(
    store: &DynamoStore,
    id: &RelaisRequestId,
) -> Result<Option<(Item, HistoryEntry)>, StoreError> {
    let Some(item) = latest_history_item(store, id, HISTORY_PREFIX).await? else { return Ok(None) };
    Ok(items::live_history_entry(&item, store.config.now())?.map(|entry| (item, entry)))
}

/// The request's history item with the greatest sort key under `prefix` (one consistent query).
async fn latest_history_item(
    store: &DynamoStore,
    id: &RelaisRequestId,
    prefix: &str,
) -> Result<Option<Item>, StoreError> {
    let output = store
        .client
        .query()
        .table_name(&store.table)
        .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .expression_attribute_names("#sk", SORT_KEY)
        .expression_attribute_values(":pk", s(items::request_pk(id)))
        .expression_attribute_values(":prefix", s(prefix))
        .scan_index_forward(false)
        .limit(1)
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| map_sdk_error("Query", e))?;
    Ok(output.items().first().cloned())
}

pub(super) async fn put_discovery(
    store: &DynamoStore,
    id: &str,
    citation: &serde_json::Value,
    now: Timestamp,
) -> Result<(), StoreError> {
    crate::check_discovery_id(id)?;
    let expires_at = expiry_after(now, store.config.discovery_ttl);
    store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(items::discovery_item(id, citation, expires_at)?))
        .send()
        .await
        .map_err(|e| map_sdk_error("PutItem", e))?;
    Ok(())
}

pub(super) async fn get_discovery(
    store: &DynamoStore,
    id: &str,
    now: Timestamp,
) -> Result<Option<serde_json::Value>, StoreError> {
    crate::check_discovery_id(id)?;
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .set_key(Some(items::discovery_key(id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| map_sdk_error("GetItem", e))?;
    match output.item() {
        Some(item) => items::live_citation(item, now),
        None => Ok(None),
    }
}

pub(super) async fn has_marker(store: &DynamoStore, marker: &str) -> Result<bool, StoreError> {
    crate::check_marker(marker)?;
    Ok(get_item(store, items::marker_key(marker)).await?.is_some())
}

/// Written once: a second writer's conditional put fails, which is the same fact recorded.
pub(super) async fn record_marker(store: &DynamoStore, marker: &str, now: Timestamp) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    crate::check_marker(marker)?;
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(items::marker_item(marker, now)))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    match put {
        Ok(_) => Ok(()),
        Err(err) if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => Ok(()),
        Err(err) => Err(map_sdk_error("PutItem", err)),
    }
}

/// A consistent read of one item by key, for the claim protocol.
pub(super) async fn get_item(store: &DynamoStore, key: Item) -> Result<Option<Item>, StoreError> {
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| map_sdk_error("GetItem", e))?;
    Ok(output.item().cloned())
}
