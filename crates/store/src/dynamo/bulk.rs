//! Bulk actions on DynamoDB: one item each in the `BULK` partition (sorting in the order they were
//! confirmed), its last write instant lifted out of the body so that each progress write is conditional on
//! the one before.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use super::items::{self, s};
use super::{DynamoStore, map_sdk_error};
use crate::config::expiry_after;
use crate::schema::PARTITION_KEY;
use crate::{BulkAction, BulkState, StoreError};

pub(super) async fn record_bulk(store: &DynamoStore, action: &BulkAction) -> Result<(), StoreError> {
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(items::bulk_item(action, None)?))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .send()
        .await;
    match put {
        Ok(_) => Ok(()),
        Err(error) if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
            let reason = "an action with that id is already recorded".into();
            Err(StoreError::Corrupt { what: "bulk action", reason })
        }
        Err(error) => Err(map_sdk_error("PutItem", error)),
    }
}

pub(super) async fn bulk_actions(store: &DynamoStore, limit: usize) -> Result<Vec<BulkAction>, StoreError> {
    let now = store.config.now();
    let mut actions = Vec::new();
    let mut start = None;
    loop {
        let output = store
            .client
            .query()
            .table_name(&store.table)
            .consistent_read(true)
            .scan_index_forward(false)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_values(":pk", s(items::BULK_PK))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| map_sdk_error("Query", e))?;
        for item in output.items() {
            if let Some(action) = items::live_bulk(item, now)? {
                actions.push(action);
                if actions.len() >= limit {
                    return Ok(actions);
                }
            }
        }
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(actions),
        }
    }
}

pub(super) async fn update_bulk(
    store: &DynamoStore,
    action: &BulkAction,
    expected: Timestamp,
) -> Result<bool, StoreError> {
    let expires_at = (action.state == BulkState::Done).then(|| expiry_after(action.updated_at, store.config.retention));
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(items::bulk_item(action, expires_at)?))
        .condition_expression("#updated = :expected")
        .expression_attribute_names("#updated", items::UPDATED_AT)
        .expression_attribute_values(":expected", AttributeValue::S(expected.to_string()))
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
