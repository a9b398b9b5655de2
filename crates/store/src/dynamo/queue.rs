//! The outbox on DynamoDB: each queued message lives in its request's partition (`OUT#<id>`, so a request's
//! messages read back in queueing order with one query), and while it is open a copy sits in the `QUEUE`
//! partition, which lists the whole queue oldest first without a scan. Both are written in one transaction.
//! The queue partition only ever holds what is waiting or parked: a handful of items even through an outage.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use jiff::Timestamp;

use super::claims::{self, CONDITION_FAILED, ROUNDS, built, claim_done_update, transaction_reasons};
use super::items::{self, Item, s};
use super::{DynamoStore, map_sdk_error};
use crate::config::expiry_after;
use crate::keys::history_key;
use crate::schema::{PARTITION_KEY, SORT_KEY};
use crate::{Enqueue, EnqueueOutcome, ItemBarcode, QueueLimit, QueueState, QueuedMessage, RelaisRequestId, StoreError};

const OP: &str = "TransactWriteItems";

/// Positions in the enqueue transaction.
const CLAIM_ITEM: usize = 0;
const HISTORY_ITEM: usize = 3;
const TOTAL_COUNT_ITEM: usize = 4;
const REQUEST_COUNT_ITEM: usize = 5;

pub(super) async fn enqueue(store: &DynamoStore, e: Enqueue<'_>) -> Result<EnqueueOutcome, StoreError> {
    let mut seq = 0;
    for round in 0..ROUNDS {
        let history_expiry = expiry_after(e.history.at, store.config.retention);
        let history =
            items::history_item(&e.message.request, &history_key(e.history.at, seq), e.history, history_expiry)?;
        let transaction = vec![
            TransactWriteItem::builder().update(claim_done_update(store, e.key, e.owner, e.response, e.now)?).build(),
            TransactWriteItem::builder().put(new_message_put(store, e.message)?).build(),
            queue_index_write(store, e.message)?,
            TransactWriteItem::builder()
                .put(built(
                    OP,
                    Put::builder()
                        .table_name(&store.table)
                        .set_item(Some(history))
                        .condition_expression("attribute_not_exists(#pk)")
                        .expression_attribute_names("#pk", PARTITION_KEY)
                        .build(),
                )?)
                .build(),
            count_up(store, items::queue_count_key(), e.limits.total)?,
            count_up(store, items::request_queue_count_key(&e.message.request), e.limits.per_request)?,
        ];
        let mut transaction = transaction;
        transaction.extend(open_barcode_write(store, e.message)?);
        let sent = store.client.transact_write_items().set_transact_items(Some(transaction)).send().await;
        let reasons = match sent {
            Ok(_) => return Ok(EnqueueOutcome::Queued),
            Err(error) => transaction_reasons(error)?,
        };
        let failed = |position: usize| reasons.get(position).is_some_and(|c| c.as_deref() == Some(CONDITION_FAILED));
        if failed(CLAIM_ITEM) {
            return Ok(EnqueueOutcome::ClaimLost);
        }
        if failed(REQUEST_COUNT_ITEM) {
            return Ok(EnqueueOutcome::Full(QueueLimit::PerRequest));
        }
        if failed(TOTAL_COUNT_ITEM) {
            return Ok(EnqueueOutcome::Full(QueueLimit::Total));
        }
        if failed(HISTORY_ITEM) {
            seq = claims::next_seq(store, &e.message.request, e.history.at).await?;
            continue;
        }
        claims::retry_or_refuse(&reasons, round).await?;
    }
    Err(StoreError::Contention { operation: "enqueue" })
}

pub(super) async fn update_queued(
    store: &DynamoStore,
    message: &QueuedMessage,
    expected: QueueState,
    now: Timestamp,
) -> Result<bool, StoreError> {
    for round in 0..ROUNDS {
        let expires_at = (!message.state.is_open()).then(|| expiry_after(now, store.config.retention));
        let put = Put::builder()
            .table_name(&store.table)
            .set_item(Some(items::queued_item(message, expires_at)?))
            .condition_expression("#state = :expected")
            .expression_attribute_names("#state", items::STATE)
            .expression_attribute_values(":expected", s(expected.label()));
        let mut transaction =
            vec![TransactWriteItem::builder().put(built(OP, put.build())?).build(), queue_index_write(store, message)?];
        transaction.extend(open_barcode_write(store, message)?);
        // Leaving the open states frees a place in both counts, in the same transaction as the state change.
        if expected.is_open() && !message.state.is_open() {
            transaction.push(count_down(store, items::queue_count_key())?);
            transaction.push(count_down(store, items::request_queue_count_key(&message.request))?);
        }
        let sent = store.client.transact_write_items().set_transact_items(Some(transaction)).send().await;
        let reasons = match sent {
            Ok(_) => return Ok(true),
            Err(error) => transaction_reasons(error)?,
        };
        if reasons.first().is_some_and(|c| c.as_deref() == Some(CONDITION_FAILED)) {
            return Ok(false);
        }
        claims::retry_or_refuse(&reasons, round).await?;
    }
    Err(StoreError::Contention { operation: "update queued" })
}

pub(super) async fn queued_for(store: &DynamoStore, id: &RelaisRequestId) -> Result<Vec<QueuedMessage>, StoreError> {
    let now = store.config.now();
    let items = query(store, items::request_pk(id), Some(items::OUTBOX_PREFIX), usize::MAX).await?;
    let mut messages = Vec::with_capacity(items.len());
    for item in &items {
        if let Some(message) = items::live_queued(item, now)? {
            messages.push(message);
        }
    }
    Ok(messages)
}

pub(super) async fn open_queue(store: &DynamoStore, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
    let items = query(store, items::QUEUE_PK.to_owned(), None, limit).await?;
    items.iter().map(items::queued_in).collect()
}

pub(super) async fn open_queue_after(
    store: &DynamoStore,
    after: &str,
    limit: usize,
) -> Result<Vec<QueuedMessage>, StoreError> {
    let start = items::queue_index_key(after);
    let items = query_from(store, items::QUEUE_PK.to_owned(), None, limit, Some(start)).await?;
    items.iter().map(items::queued_in).collect()
}

pub(super) async fn open_count(store: &DynamoStore) -> Result<u64, StoreError> {
    let item = super::reads::get_item(store, items::queue_count_key()).await?;
    let count = item.as_ref().and_then(|i| i.get(items::OPEN_COUNT)).and_then(|v| v.as_n().ok());
    Ok(count.and_then(|n| n.parse::<i64>().ok()).map_or(0, |n| n.max(0).unsigned_abs()))
}

/// One more open message under `key`'s count, unless it already holds `max` (the condition that refuses a
/// message past the outbox's bound). A count written before counts existed starts from zero.
fn count_up(store: &DynamoStore, key: Item, max: u32) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(&store.table)
        .set_key(Some(key))
        .update_expression("SET #open = if_not_exists(#open, :zero) + :one")
        .condition_expression("attribute_not_exists(#open) OR #open < :max")
        .expression_attribute_names("#open", items::OPEN_COUNT)
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":max", AttributeValue::N(max.to_string()));
    Ok(TransactWriteItem::builder().update(built(OP, update.build())?).build())
}

/// One open message fewer under `key`'s count.
fn count_down(store: &DynamoStore, key: Item) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(&store.table)
        .set_key(Some(key))
        .update_expression("SET #open = if_not_exists(#open, :one) - :one")
        .expression_attribute_names("#open", items::OPEN_COUNT)
        .expression_attribute_values(":one", AttributeValue::N("1".into()));
    Ok(TransactWriteItem::builder().update(built(OP, update.build())?).build())
}

pub(super) async fn open_message(store: &DynamoStore, id: &str) -> Result<Option<QueuedMessage>, StoreError> {
    match super::reads::get_item(store, items::queue_index_key(id)).await? {
        Some(item) => items::queued_in(&item).map(Some),
        None => Ok(None),
    }
}

/// A newly queued message's own item (open, so without expiry), conditional on being new.
fn new_message_put(store: &DynamoStore, message: &QueuedMessage) -> Result<Put, StoreError> {
    let put = Put::builder()
        .table_name(&store.table)
        .set_item(Some(items::queued_item(message, None)?))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY);
    built(OP, put.build())
}

/// The queue-partition copy: written while the message is open, deleted once it is not.
fn queue_index_write(store: &DynamoStore, message: &QueuedMessage) -> Result<TransactWriteItem, StoreError> {
    Ok(if message.state.is_open() {
        let put = Put::builder().table_name(&store.table).set_item(Some(items::queue_index_item(message)?));
        TransactWriteItem::builder().put(built(OP, put.build())?).build()
    } else {
        let delete = Delete::builder().table_name(&store.table).set_key(Some(items::queue_index_key(&message.id)));
        TransactWriteItem::builder().delete(built(OP, delete.build())?).build()
    })
}

/// The barcode entry of a message that names an item: written while the message is open, deleted once it
/// is not, in the same transaction as its state.
fn open_barcode_write(store: &DynamoStore, message: &QueuedMessage) -> Result<Option<TransactWriteItem>, StoreError> {
    let Some(barcode) = &message.barcode else { return Ok(None) };
    Ok(Some(if message.state.is_open() {
        let put = Put::builder().table_name(&store.table).set_item(Some(items::open_barcode_item(barcode, message)));
        TransactWriteItem::builder().put(built(OP, put.build())?).build()
    } else {
        let delete =
            Delete::builder().table_name(&store.table).set_key(Some(items::open_barcode_key(barcode, &message.id)));
        TransactWriteItem::builder().delete(built(OP, delete.build())?).build()
    }))
}

pub(super) async fn open_for_barcode(
    store: &DynamoStore,
    barcode: &ItemBarcode,
) -> Result<Vec<QueuedMessage>, StoreError> {
    let entries = query(store, items::open_barcode_partition(barcode), None, usize::MAX).await?;
    let mut messages = Vec::with_capacity(entries.len());
    for entry in &entries {
        let Some(id) = items::sort_key(entry) else { continue };
        if let Some(message) = open_message(store, id).await? {
            messages.push(message);
        }
    }
    Ok(messages)
}

/// Every item of partition `pk` (whose sort key starts with `prefix`), in sort-key order, consistently read.
async fn query(store: &DynamoStore, pk: String, prefix: Option<&str>, limit: usize) -> Result<Vec<Item>, StoreError> {
    query_from(store, pk, prefix, limit, None).await
}

/// A query from after `start` (an item's key), at most `limit` items.
async fn query_from(
    store: &DynamoStore,
    pk: String,
    prefix: Option<&str>,
    limit: usize,
    mut start: Option<Item>,
) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::new();
    loop {
        let mut query = store
            .client
            .query()
            .table_name(&store.table)
            .consistent_read(true)
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_values(":pk", s(pk.clone()))
            .set_exclusive_start_key(start.take());
        query = match prefix {
            Some(prefix) => query
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_values(":prefix", s(prefix)),
            None => query.key_condition_expression("#pk = :pk"),
        };
        let output = query.send().await.map_err(|e| map_sdk_error("Query", e))?;
        found.extend(output.items().iter().cloned());
        if found.len() >= limit {
            found.truncate(limit);
            return Ok(found);
        }
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(found),
        }
    }
}
