//! Follow-ups on DynamoDB: one item each in the `FOLLOWUP` partition, keyed by the follow-up's id, the work
//! as a JSON `body`. They are few and short-lived (removed once done, seconds after the answer), so the due
//! ones are found by reading the partition, without an index of their own.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::claims::{CONDITION_FAILED, ROUNDS, built, retry_or_refuse, transaction_reasons};
use super::items::{self, Item, n, s};
use super::reads::get_item;
use super::{DynamoStore, map_sdk_error};
use crate::follow_up::check_follow_up_id;
use crate::schema::{FOLLOW_UP_PARTITION, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
use crate::{FinishFollowUp, FinishOutcome, FollowUp, StoreError};

/// The transaction's items, in order: the follow-up's removal, then the record.
const FOLLOW_UP_ITEM: usize = 0;
const RECORD_ITEM: usize = 1;

pub(super) fn follow_up_key(id: &str) -> Item {
    Item::from([(PARTITION_KEY.to_owned(), s(FOLLOW_UP_PARTITION)), (SORT_KEY.to_owned(), s(id))])
}

pub(super) fn follow_up_item(follow_up: &FollowUp) -> Result<Item, StoreError> {
    check_follow_up_id(&follow_up.id)?;
    let body = serde_json::to_string(follow_up).map_err(|e| StoreError::corrupt("follow-up", &e))?;
    let mut item = follow_up_key(&follow_up.id);
    item.extend([(items::KIND.to_owned(), s("follow_up")), (items::BODY.to_owned(), s(body))]);
    Ok(item)
}

fn decode(item: &Item) -> Result<FollowUp, StoreError> {
    let body = item.get(items::BODY).and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Corrupt {
        what: "follow-up",
        reason: format!("attribute `{}` is missing or has the wrong type", items::BODY),
    })?;
    serde_json::from_str(body).map_err(|e| StoreError::corrupt("follow-up", &e))
}

pub(super) async fn follow_up(store: &DynamoStore, id: &str) -> Result<Option<FollowUp>, StoreError> {
    check_follow_up_id(id)?;
    get_item(store, follow_up_key(id)).await?.as_ref().map(decode).transpose()
}

pub(super) async fn due_follow_ups(
    store: &DynamoStore,
    now: jiff::Timestamp,
    limit: usize,
) -> Result<Vec<FollowUp>, StoreError> {
    let mut due = Vec::new();
    let mut start = None;
    loop {
        let output = store
            .client
            .query()
            .table_name(&store.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_values(":pk", s(FOLLOW_UP_PARTITION))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| map_sdk_error("Query", e))?;
        for item in output.items() {
            let follow_up = decode(item)?;
            if follow_up.due_at <= now {
                due.push(follow_up);
            }
        }
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    due.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
    due.truncate(limit);
    Ok(due)
}

pub(super) async fn reschedule_follow_up(store: &DynamoStore, follow_up: &FollowUp) -> Result<bool, StoreError> {
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(follow_up_item(follow_up)?))
        .condition_expression("attribute_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .send()
        .await;
    match put {
        Ok(_) => Ok(true),
        Err(error) if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
            Ok(false)
        }
        Err(error) => Err(map_sdk_error("PutItem", error)),
    }
}

pub(super) async fn finish_follow_up(
    store: &DynamoStore,
    finish: FinishFollowUp<'_>,
) -> Result<FinishOutcome, StoreError> {
    const OP: &str = "TransactWriteItems";
    check_follow_up_id(finish.id)?;
    let removal = built(
        OP,
        Delete::builder()
            .table_name(&store.table)
            .set_key(Some(follow_up_key(finish.id)))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .build(),
    )?;
    let mut transaction = vec![TransactWriteItem::builder().delete(removal).build()];
    if let Some((record, expected)) = finish.record {
        let expiry = store.config.record_expiry(record.status.is_closed(), finish.now);
        let put = Put::builder()
            .table_name(&store.table)
            .set_item(Some(items::record_item(record, crate::claim::next_version(Some(expected)), expiry)?))
            .condition_expression("#version = :expected AND (attribute_not_exists(#exp) OR #exp > :now)")
            .expression_attribute_names("#version", items::VERSION)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":now", n(finish.now.as_second()))
            .build();
        transaction.push(TransactWriteItem::builder().put(built(OP, put)?).build());
        // The pointers carry the record's expiry, as the commit writes them.
        for barcode in &record.item_barcodes {
            let pointer = items::barcode_pointer(record, barcode, expiry);
            let put = built(OP, Put::builder().table_name(&store.table).set_item(Some(pointer)).build())?;
            transaction.push(TransactWriteItem::builder().put(put).build());
        }
    }
    for round in 0..ROUNDS {
        let sent = store.client.transact_write_items().set_transact_items(Some(transaction.clone())).send().await;
        let reasons = match sent {
            Ok(_) => return Ok(FinishOutcome::Finished),
            Err(error) => transaction_reasons(error)?,
        };
        let failed =
            |position: usize| reasons.get(position).is_some_and(|code| code.as_deref() == Some(CONDITION_FAILED));
        if failed(FOLLOW_UP_ITEM) {
            return Ok(FinishOutcome::Gone);
        }
        if failed(RECORD_ITEM) {
            return Ok(FinishOutcome::VersionConflict);
        }
        retry_or_refuse(&reasons, round).await?;
    }
    Err(StoreError::Contention { operation: "finish follow-up" })
}
