//! DynamoDB attempt counts: one small item per [`AttemptKey`], `pk` = `ATTEMPT#<scope>#<hex>`, with the count
//! `expires_at` (TTL) and, once locked, `not_before`. Counting is a conditional put (no live count yet) or a
//! conditional update (a live, unlocked count); the item DynamoDB hands back on a failed condition decides
//! between them.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use jiff::Timestamp;

use super::claims::{PutUnlessLive, put_unless_live};
use super::items::{self, Item, n, s};
use super::reads::get_item;
use super::{DynamoStore, map_sdk_error};
use crate::config::is_live;
use crate::schema::{ATTEMPT_KEY_PREFIX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
use crate::{Attempt, AttemptCount, AttemptKey, AttemptRule, StoreError};

const ATTEMPT_SK: &str = "ATTEMPT";
const COUNT: &str = "count";
/// The end of the key's lock, epoch seconds.
const NOT_BEFORE: &str = "not_before";

/// Rounds of put-then-increment before concurrent writers are reported as contention.
const ROUNDS: u32 = 8;

fn attempt_key(key: &AttemptKey) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(format!("{ATTEMPT_KEY_PREFIX}{key}"))),
        (SORT_KEY.to_owned(), s(ATTEMPT_SK)),
    ])
}

/// The live count an item holds at `now`, with its lock (`None` when it expired).
fn live_count(item: &Item, now: Timestamp) -> Result<Option<AttemptCount>, StoreError> {
    let Some(expires_at) = items::expires_at(item) else {
        return Err(corrupt(TTL_ATTRIBUTE));
    };
    if !is_live(Some(expires_at), now) {
        return Ok(None);
    }
    let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    let count = number(COUNT).and_then(|c| u32::try_from(c).ok()).ok_or_else(|| corrupt(COUNT))?;
    let at = |second: i64| Timestamp::from_second(second).unwrap_or(Timestamp::MAX);
    Ok(Some(AttemptCount {
        count,
        expires_at: at(expires_at),
        locked_until: number(NOT_BEFORE).filter(|nb| *nb > now.as_second()).map(at),
    }))
}

fn corrupt(name: &str) -> StoreError {
    StoreError::Corrupt {
        what: "attempt count",
        reason: format!("attribute `{name}` is missing or has the wrong type"),
    }
}

pub(super) async fn count_attempt(
    store: &DynamoStore,
    key: &AttemptKey,
    rule: AttemptRule,
    now: Timestamp,
) -> Result<Attempt, StoreError> {
    for _ in 0..ROUNDS {
        // Most checks find no count (a patron who types the PIN right): one conditional put.
        let first_lock = rule.lock_for(1).map(|lock| now.saturating_add(lock).unwrap_or(Timestamp::MAX));
        let mut first = attempt_key(key);
        first.extend([
            (items::KIND.to_owned(), s("attempts")),
            (COUNT.to_owned(), n(1)),
            (TTL_ATTRIBUTE.to_owned(), n(rule.expiry(now, first_lock).as_second())),
        ]);
        if let Some(nb) = first_lock {
            first.insert(NOT_BEFORE.to_owned(), n(nb.as_second()));
        }
        let found = match put_unless_live(store, first, attempt_key(key), now).await? {
            PutUnlessLive::Written => return Ok(Attempt::Counted(1)),
            PutUnlessLive::Blocked(found) => found,
        };
        let Some(found) = found else { continue };
        // Expired between the put and the read: put again.
        let Some(live) = live_count(&found, now)? else { continue };
        if let Some(until) = live.locked_until {
            return Ok(Attempt::Refused { until });
        }
        let next = live.count.saturating_add(1);
        let lock = rule.lock_for(next).map(|lock| now.saturating_add(lock).unwrap_or(Timestamp::MAX));
        let update = store
            .client
            .update_item()
            .table_name(&store.table)
            .set_key(Some(attempt_key(key)))
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#count", COUNT)
            .expression_attribute_values(":now", n(now.as_second()))
            .expression_attribute_values(":exp", n(rule.expiry(now, lock).as_second()))
            .return_values(ReturnValue::UpdatedNew);
        let update = match lock {
            // Still under the limit after this attempt: any count that stays under it may be incremented, so
            // concurrent checks do not have to retry one another.
            None => update
                .condition_expression("#exp > :now AND #count < :below")
                .update_expression("SET #count = #count + :one, #exp = :exp")
                .expression_attribute_values(":below", n(rule.limit.saturating_sub(1)))
                .expression_attribute_values(":one", n(1)),
            // This attempt sets a lock: only over the count it was computed from, unlocked, so that of
            // concurrent attempts one locks and the others find the lock.
            Some(until) => update
                .condition_expression("#exp > :now AND #count = :seen AND (attribute_not_exists(#nb) OR #nb <= :now)")
                .update_expression("SET #count = :next, #exp = :exp, #nb = :nb")
                .expression_attribute_names("#nb", NOT_BEFORE)
                .expression_attribute_values(":seen", n(live.count))
                .expression_attribute_values(":next", n(next))
                .expression_attribute_values(":nb", n(until.as_second())),
        };
        match update.send().await {
            Ok(output) => {
                let count = output
                    .attributes()
                    .and_then(|a| a.get(COUNT))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(next);
                return Ok(Attempt::Counted(count));
            }
            Err(error) => match error.as_service_error() {
                // Reached the limit, locked or expired since the read: the next round looks again.
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {}
                _ => return Err(map_sdk_error("UpdateItem", error)),
            },
        }
    }
    Err(StoreError::Contention { operation: "count attempt" })
}

pub(super) async fn attempts(
    store: &DynamoStore,
    key: &AttemptKey,
    now: Timestamp,
) -> Result<Option<AttemptCount>, StoreError> {
    match get_item(store, attempt_key(key)).await? {
        Some(item) => live_count(&item, now),
        None => Ok(None),
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
