//! DynamoDB attempt counts: one small item per [`AttemptKey`], `pk` = `ATTEMPT#<scope>#<hex>`, with the count
//! and `expires_at` (TTL). Counting is a conditional put (no live count yet) or a conditional increment (a
//! live count under the limit); the item DynamoDB hands back on a failed condition decides between them.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use jiff::Timestamp;

use super::claims::{PutUnlessLive, put_unless_live};
use super::items::{self, Item, n, s};
use super::reads::get_item;
use super::{DynamoStore, map_sdk_error};
use crate::config::{expiry_after, is_live};
use crate::schema::{ATTEMPT_KEY_PREFIX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
use crate::{Attempt, AttemptKey, StoreError};

const ATTEMPT_SK: &str = "ATTEMPT";
const COUNT: &str = "count";

/// Rounds of put-then-increment before concurrent writers are reported as contention.
const ROUNDS: u32 = 8;

fn attempt_key(key: &AttemptKey) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(format!("{ATTEMPT_KEY_PREFIX}{key}"))),
        (SORT_KEY.to_owned(), s(ATTEMPT_SK)),
    ])
}

/// The live count an item holds at `now` (0 when it expired).
fn live_count(item: &Item, now: Timestamp) -> Result<u32, StoreError> {
    if !is_live(items::expires_at(item), now) {
        return Ok(0);
    }
    item.get(COUNT).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).ok_or(StoreError::Corrupt {
        what: "attempt count",
        reason: format!("attribute `{COUNT}` is missing or has the wrong type"),
    })
}

pub(super) async fn count_attempt(
    store: &DynamoStore,
    key: &AttemptKey,
    limit: u32,
    now: Timestamp,
    keep: Duration,
) -> Result<Attempt, StoreError> {
    if limit == 0 {
        return Ok(Attempt::Refused);
    }
    let expires_at = expiry_after(now, keep);
    for _ in 0..ROUNDS {
        // Most checks find no count (a patron who types the PIN right): one conditional put.
        let mut first = attempt_key(key);
        first.extend([
            (items::KIND.to_owned(), s("attempts")),
            (COUNT.to_owned(), n(1)),
            (TTL_ATTRIBUTE.to_owned(), n(expires_at)),
        ]);
        let found = match put_unless_live(store, first, attempt_key(key), now).await? {
            PutUnlessLive::Written => return Ok(Attempt::Counted(1)),
            PutUnlessLive::Blocked(found) => found,
        };
        let Some(found) = found else { continue };
        let count = live_count(&found, now)?;
        if count >= limit {
            return Ok(Attempt::Refused);
        }
        if count == 0 {
            continue; // expired between the put and the read: put again
        }
        let counted = store
            .client
            .update_item()
            .table_name(&store.table)
            .set_key(Some(attempt_key(key)))
            .condition_expression("#exp > :now AND #count < :limit")
            .update_expression("SET #count = #count + :one, #exp = :exp")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_values(":now", n(now.as_second()))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(expires_at))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match counted {
            Ok(output) => {
                let count = output
                    .attributes()
                    .and_then(|a| a.get(COUNT))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(count + 1);
                return Ok(Attempt::Counted(count));
            }
            Err(error) => match error.as_service_error() {
                // Reached the limit or expired since the read: the next round looks again.
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {}
                _ => return Err(map_sdk_error("UpdateItem", error)),
            },
        }
    }
    Err(StoreError::Contention { operation: "count attempt" })
}

pub(super) async fn attempts(store: &DynamoStore, key: &AttemptKey, now: Timestamp) -> Result<u32, StoreError> {
    match get_item(store, attempt_key(key)).await? {
        Some(item) => live_count(&item, now),
        None => Ok(0),
    }
}

pub(super) async fn clear_attempts(store: &DynamoStore, key: &AttemptKey) -> Result<(), StoreError> {
    store
        .client
        .delete_item()
        .table_name(&store.table)
        .set_key(Some(attempt_key(key)))
        .send()
        .await
        .map_err(|e| map_sdk_error("DeleteItem", e))?;
    Ok(())
}
