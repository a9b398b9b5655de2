//! DynamoDB writes: the claim protocol, the commit transaction and history appends.
//!
//! Every write that may race carries a condition, and a failed condition is read back as a protocol outcome:
//! `ConditionalCheckFailedException` on single-item writes, and the per-item `CancellationReasons` of a
//! `TransactionCanceledException` on the commit, whose items are in a fixed order for exactly that purpose.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use jiff::Timestamp;

use super::items::{self, Item, n, s};
use super::reads::{self, get_item, last_history_position};
use super::{DynamoStore, back_off, map_sdk_error};
use crate::claim::{ClaimDecision, ExistingClaim, decide_claim, lease_end, next_version};
use crate::config::expiry_after;
use crate::keys::{history_instant_prefix, history_key, next_history_seq};
use crate::schema::{PARTITION_KEY, TTL_ATTRIBUTE};
use crate::{
    Begin, Begun, ClaimOutcome, ClaimToken, Commit, CommitOutcome, HistoryEntry, IdempotencyKey, RelaisRequestId,
    StoreError,
};

/// Attempts at a write whose precondition keeps changing under it (a claim released or taken over between
/// the read and the write, a history position taken, a transaction conflict) before reporting contention.
pub(super) const ROUNDS: u32 = 8;

/// DynamoDB allows 100 items per transaction; the commit uses three besides the barcode pointers.
const MAX_BARCODES: usize = 97;

/// Positions in the commit transaction, so that cancellation reasons can be read by position.
const CLAIM_ITEM: usize = 0;
const RECORD_ITEM: usize = 1;
const HISTORY_ITEM: usize = 2;

pub(super) const CONDITION_FAILED: &str = "ConditionalCheckFailed";
const TRANSACTION_CONFLICT: &str = "TransactionConflict";

pub(super) fn built<T>(operation: &'static str, result: Result<T, BuildError>) -> Result<T, StoreError> {
    result.map_err(|_| StoreError::Refused { operation, code: "RequestConstruction".to_owned() })
}

/// What [`put_unless_live`] did.
pub(super) enum PutUnlessLive {
    Written,
    /// A live item holds the key: the item, or `None` when it went away before it could be read.
    Blocked(Option<Item>),
}

/// Writes `item` unless a live item holds its key (`key`): one conditional put that also succeeds over an
/// expired item, since DynamoDB's TTL deletes late. On failure DynamoDB (and moto) hand the blocking item
/// back; should a server not, it is read instead.
pub(super) async fn put_unless_live(
    store: &DynamoStore,
    item: Item,
    key: Item,
    now: Timestamp,
) -> Result<PutUnlessLive, StoreError> {
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .expression_attribute_names("#exp", TTL_ATTRIBUTE)
        .expression_attribute_values(":now", n(now.as_second()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    let returned = match put {
        Ok(_) => return Ok(PutUnlessLive::Written),
        Err(error) => match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
            _ => return Err(map_sdk_error("PutItem", error)),
        },
    };
    Ok(PutUnlessLive::Blocked(match returned {
        Some(found) => Some(found),
        None => get_item(store, key).await?,
    }))
}

pub(super) async fn claim(
    store: &DynamoStore,
    key: &IdempotencyKey,
    owner: &ClaimToken,
    now: Timestamp,
    lease: Duration,
) -> Result<ClaimOutcome, StoreError> {
    // A key this instance has seen done is read, not written: DynamoDB charges a failed conditional put as a
    // write of the item it refused to replace, and a replay's answer is that item.
    if store.done_keys.contains(key) {
        let found = get_item(store, items::claim_key(key)).await?;
        if let Some(ExistingClaim::Done(done)) =
            found.as_ref().map(|item| items::live_claim(item, now)).transpose()?.flatten()
        {
            return Ok(ClaimOutcome::Done(done));
        }
        store.done_keys.forget(key);
    }
    let lease_until = lease_end(now, lease);
    let expires_at = expiry_after(now, store.config.idempotency_retention);
    for _ in 0..ROUNDS {
        // The common case (a first delivery) is one conditional put; everything else is decided from the
        // item DynamoDB hands back when the condition fails.
        let fresh = items::in_flight_item(key, owner, lease_until, 1, expires_at);
        let found = match put_unless_live(store, fresh, items::claim_key(key), now).await? {
            PutUnlessLive::Written => return Ok(ClaimOutcome::Claimed),
            PutUnlessLive::Blocked(found) => found,
        };
        let existing = match &found {
            Some(item) => items::live_claim(item, now)?,
            None => None,
        };
        match decide_claim(existing, now) {
            // Released or expired since the put looked: the next round tries the put again.
            ClaimDecision::Fresh => {}
            ClaimDecision::Report(outcome) => {
                if matches!(outcome, ClaimOutcome::Done(_)) {
                    store.done_keys.remember(key);
                }
                return Ok(outcome);
            }
            ClaimDecision::TakeOver { previous_attempts, holder, lease_until: stale_lease } => {
                let taken = store
                    .client
                    .update_item()
                    .table_name(&store.table)
                    .set_key(Some(items::claim_key(key)))
                    // Only the exact claim that was seen stale may be replaced: another attempt may have
                    // taken it over in the meantime.
                    .condition_expression("#state = :in_flight AND #owner = :old_owner AND #lease = :old_lease")
                    .update_expression("SET #owner = :owner, #lease = :lease, #attempts = :attempts, #exp = :exp")
                    .expression_attribute_names("#state", items::STATE)
                    .expression_attribute_names("#owner", items::OWNER)
                    .expression_attribute_names("#lease", items::LEASE_UNTIL)
                    .expression_attribute_names("#attempts", items::ATTEMPTS)
                    .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                    .expression_attribute_values(":in_flight", s(items::IN_FLIGHT))
                    .expression_attribute_values(":old_owner", s(holder))
                    .expression_attribute_values(":old_lease", n(stale_lease.as_millisecond()))
                    .expression_attribute_values(":owner", s(owner.as_str()))
                    .expression_attribute_values(":lease", n(lease_until.as_millisecond()))
                    .expression_attribute_values(":attempts", n(previous_attempts.saturating_add(1)))
                    .expression_attribute_values(":exp", n(expires_at))
                    .send()
                    .await;
                match taken {
                    Ok(_) => return Ok(ClaimOutcome::TookOverStale { previous_attempts }),
                    Err(error) => match error.as_service_error() {
                        // The claim changed since it was read: the next round looks again.
                        Some(UpdateItemError::ConditionalCheckFailedException(_)) => {}
                        _ => return Err(map_sdk_error("UpdateItem", error)),
                    },
                }
            }
        }
    }
    Err(StoreError::Contention { operation: "claim" })
}

/// The claim, with the record and (when asked) the open queue and a remembered patron read beside it, all in
/// one round trip: the requests go out together. A key this instance knows done skips the record, which a replay does not use.
pub(super) async fn begin(store: &DynamoStore, begin: Begin<'_>) -> Result<Begun, StoreError> {
    let known_done = store.done_keys.contains(begin.key);
    let record = async { if known_done { Ok(None) } else { reads::get_request(store, begin.request).await } };
    let open_queue = async {
        if !begin.open_queue {
            return Ok(None);
        }
        let queued = super::queue::queued_for(store, begin.request).await?;
        Ok(Some(queued.into_iter().filter(|m| m.state.is_open()).collect()))
    };
    let patron = async {
        match begin.patron {
            Some(key) if !known_done => Some(super::patrons::knows_patron(store, key, begin.now).await),
            _ => None,
        }
    };
    let (outcome, record, open_queue, patron) =
        tokio::join!(claim(store, begin.key, begin.owner, begin.now, begin.lease), record, open_queue, patron);
    // Not knowing costs the delivery one user read (the patron is translated as unseen), never the message.
    let patron_known = patron.and_then(|read| {
        read.inspect_err(|error| tracing::warn!(%error, "could not read a remembered patron beside a claim")).ok()
    });
    let outcome = outcome?;
    // A done key forwards nothing: what was read for it is not reported, as when it is known done beforehand.
    let patron_known = patron_known.filter(|_| !matches!(outcome, ClaimOutcome::Done(_)));
    // A key known done that turned out not to be (it expired): the record skipped above is read now.
    let record = match record {
        Ok(None) if known_done && !matches!(outcome, ClaimOutcome::Done(_)) => {
            reads::get_request(store, begin.request).await
        }
        other => other,
    };
    match (record, open_queue) {
        (Ok(record), Ok(open_queue)) => Ok(Begun { claim: outcome, record, open_queue, patron_known }),
        (Err(error), _) | (_, Err(error)) => {
            // Without the reads the delivery cannot decide, so a fresh claim is given back. One taken over from
            // a dead attempt is kept: its lease runs out, and the next delivery reads Alma before acting.
            if outcome == ClaimOutcome::Claimed {
                let _ = release(store, begin.key, begin.owner).await;
            }
            Err(error)
        }
    }
}

/// The first replay of a done key: marks the idempotency item replayed and puts the history entry, in one
/// transaction whose first item fails (and nothing is written) when a replay was recorded before.
pub(super) async fn record_replay(
    store: &DynamoStore,
    key: &IdempotencyKey,
    request: &RelaisRequestId,
    entry: &HistoryEntry,
) -> Result<bool, StoreError> {
    const OP: &str = "TransactWriteItems";
    let now = store.config.now();
    let expires_at = expiry_after(entry.at, store.config.retention);
    let mut seq = 0;
    for round in 0..ROUNDS {
        let mark = built(
            OP,
            Update::builder()
                .table_name(&store.table)
                .set_key(Some(items::claim_key(key)))
                .condition_expression("#state = :done AND attribute_not_exists(#replayed) AND #exp > :now")
                .update_expression("SET #replayed = :yes")
                .expression_attribute_names("#state", items::STATE)
                .expression_attribute_names("#replayed", items::REPLAYED)
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_values(":done", s(items::DONE))
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .expression_attribute_values(":now", n(now.as_second()))
                .build(),
        )?;
        let history = built(
            OP,
            Put::builder()
                .table_name(&store.table)
                .set_item(Some(items::history_item(request, &history_key(entry.at, seq), entry, expires_at)?))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .build(),
        )?;
        let items =
            vec![TransactWriteItem::builder().update(mark).build(), TransactWriteItem::builder().put(history).build()];
        let reasons = match store.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => return Ok(true),
            Err(error) => transaction_reasons(error)?,
        };
        let failed = |position: usize| reasons.get(position).is_some_and(|c| c.as_deref() == Some(CONDITION_FAILED));
        if failed(0) {
            return Ok(false);
        }
        if failed(1) {
            seq = next_seq(store, request, entry.at).await?;
            continue;
        }
        retry_or_refuse(&reasons, round).await?;
    }
    Err(StoreError::Contention { operation: "record replay" })
}

pub(super) async fn release(store: &DynamoStore, key: &IdempotencyKey, owner: &ClaimToken) -> Result<(), StoreError> {
    let deleted = store
        .client
        .delete_item()
        .table_name(&store.table)
        .set_key(Some(items::claim_key(key)))
        .condition_expression("#state = :in_flight AND #owner = :owner")
        .expression_attribute_names("#state", items::STATE)
        .expression_attribute_names("#owner", items::OWNER)
        .expression_attribute_values(":in_flight", s(items::IN_FLIGHT))
        .expression_attribute_values(":owner", s(owner.as_str()))
        .send()
        .await;
    match deleted {
        Ok(_) => Ok(()),
        Err(error) => match error.as_service_error() {
            // Not ours (anymore): leave the holder's claim alone.
            Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(()),
            _ => Err(map_sdk_error("DeleteItem", error)),
        },
    }
}

/// Folds a replay into the latest entry when that is a replay of the same message; false when it is not (or
/// another writer changed that entry meanwhile), and the replay is appended instead.
async fn fold_replay(
    store: &DynamoStore,
    id: &RelaisRequestId,
    entry: &HistoryEntry,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let Some((item, latest)) = reads::last_history_entry(store, id).await? else { return Ok(false) };
    if !latest.absorbs(entry) {
        return Ok(false);
    }
    let corrupt = |reason: &str| StoreError::Corrupt { what: "history entry", reason: reason.to_owned() };
    let position = items::sort_key(&item).ok_or_else(|| corrupt("no sort key"))?;
    let old_body = item.get(items::BODY).cloned().ok_or_else(|| corrupt("no body"))?;
    let folded = items::history_item(id, position, &latest.absorb(entry), expires_at)?;
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(folded))
        .condition_expression("#body = :old")
        .expression_attribute_names("#body", items::BODY)
        .expression_attribute_values(":old", old_body)
        .send()
        .await;
    match put {
        Ok(_) => Ok(true),
        Err(error) => match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
            _ => Err(map_sdk_error("PutItem", error)),
        },
    }
}

pub(super) async fn append_history(
    store: &DynamoStore,
    id: &RelaisRequestId,
    entry: &HistoryEntry,
) -> Result<(), StoreError> {
    let expires_at = expiry_after(entry.at, store.config.retention);
    if entry.outcome == crate::Outcome::Replayed && fold_replay(store, id, entry, expires_at).await? {
        return Ok(());
    }
    let mut seq = 0;
    for _ in 0..ROUNDS {
        let item = items::history_item(id, &history_key(entry.at, seq), entry, expires_at)?;
        let put = store
            .client
            .put_item()
            .table_name(&store.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .send()
            .await;
        match put {
            Ok(_) => return Ok(()),
            Err(error) => match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => {
                    seq = next_seq(store, id, entry.at).await?;
                }
                _ => return Err(map_sdk_error("PutItem", error)),
            },
        }
    }
    Err(StoreError::Contention { operation: "append history" })
}

pub(super) async fn next_seq(store: &DynamoStore, id: &RelaisRequestId, at: Timestamp) -> Result<u32, StoreError> {
    let prefix = history_instant_prefix(at);
    let last = last_history_position(store, id, &prefix).await?;
    Ok(next_history_seq(last.as_deref()))
}

pub(super) async fn commit(store: &DynamoStore, commit: Commit<'_>) -> Result<CommitOutcome, StoreError> {
    let barcodes: BTreeSet<_> = commit.record.item_barcodes.iter().collect();
    // A follow-up takes one of the transaction's items.
    if barcodes.len() + usize::from(commit.follow_up.is_some()) > MAX_BARCODES {
        return Err(StoreError::TooManyBarcodes { barcodes: barcodes.len() });
    }
    let new_version = next_version(commit.expected_version);
    let mut seq = 0;
    for round in 0..ROUNDS {
        let items = commit_items(store, &commit, new_version, seq, &barcodes)?;
        let sent = store.client.transact_write_items().set_transact_items(Some(items)).send().await;
        let reasons = match sent {
            Ok(_) => return Ok(CommitOutcome::Committed { new_version }),
            Err(error) => transaction_reasons(error)?,
        };
        let failed =
            |position: usize| reasons.get(position).is_some_and(|code| code.as_deref() == Some(CONDITION_FAILED));
        if failed(CLAIM_ITEM) {
            return Ok(CommitOutcome::ClaimLost);
        }
        if failed(RECORD_ITEM) {
            return Ok(CommitOutcome::VersionConflict);
        }
        if failed(HISTORY_ITEM) {
            tracing::debug!(round, "history position taken at this instant; placing the entry after it");
            seq = next_seq(store, &commit.record.relais_request_id, commit.history.at).await?;
            continue;
        }
        retry_or_refuse(&reasons, round).await?;
    }
    Err(StoreError::Contention { operation: "commit" })
}

/// The per-item cancellation codes of a cancelled transaction (in the transaction's item order); any other
/// failure is an error.
pub(super) fn transaction_reasons(
    error: aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Result<Vec<Option<String>>, StoreError> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            Ok(cancelled.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect())
        }
        _ => Err(map_sdk_error("TransactWriteItems", error)),
    }
}

/// After a cancelled transaction whose own conditions held: waits and returns `Ok` when another transaction
/// merely collided with it (real DynamoDB reports that rather than serialising the two), else the refusal.
pub(super) async fn retry_or_refuse(reasons: &[Option<String>], round: u32) -> Result<(), StoreError> {
    if reasons.iter().any(|code| code.as_deref() == Some(TRANSACTION_CONFLICT)) {
        tracing::debug!(round, "transaction conflicted with another; retrying");
        back_off(round).await;
        return Ok(());
    }
    let code = reasons
        .iter()
        .flatten()
        .find(|code| code.as_str() != "None")
        .cloned()
        .unwrap_or_else(|| "TransactionCanceled".to_owned());
    Err(StoreError::Refused { operation: "TransactWriteItems", code })
}

/// Marks the claim done with `response`, if `owner` still holds it in flight: the first item of the commit
/// and enqueue transactions.
pub(super) fn claim_done_update(
    store: &DynamoStore,
    key: &IdempotencyKey,
    owner: &ClaimToken,
    response: &[u8],
    now: Timestamp,
) -> Result<Update, StoreError> {
    built(
        "TransactWriteItems",
        Update::builder()
            .table_name(&store.table)
            .set_key(Some(items::claim_key(key)))
            .condition_expression("#state = :in_flight AND #owner = :owner AND #exp > :now")
            .update_expression("SET #state = :done, #response = :response, #exp = :exp REMOVE #lease")
            .expression_attribute_names("#state", items::STATE)
            .expression_attribute_names("#owner", items::OWNER)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#response", items::RESPONSE)
            .expression_attribute_names("#lease", items::LEASE_UNTIL)
            .expression_attribute_values(":in_flight", s(items::IN_FLIGHT))
            .expression_attribute_values(":owner", s(owner.as_str()))
            .expression_attribute_values(":now", n(now.as_second()))
            .expression_attribute_values(":done", s(items::DONE))
            .expression_attribute_values(":response", items::blob(response))
            .expression_attribute_values(":exp", n(expiry_after(now, store.config.idempotency_retention)))
            .build(),
    )
}

/// The commit transaction: claim, record, history entry (at the positions named above), then one pointer per
/// barcode. Pointers are put, never deleted: finding the ones a record no longer lists would cost a read on
/// every commit, and `find_by_barcode` ignores them anyway (barcodes are hardly ever removed).
fn commit_items(
    store: &DynamoStore,
    commit: &Commit<'_>,
    new_version: u64,
    seq: u32,
    barcodes: &BTreeSet<&crate::ItemBarcode>,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    const OP: &str = "TransactWriteItems";
    let now_s = n(commit.now.as_second());
    let claim = claim_done_update(store, commit.key, commit.owner, commit.response, commit.now)?;

    let record_expiry = store.config.record_expiry(commit.record.status.is_closed(), commit.now);
    let record = Put::builder()
        .table_name(&store.table)
        .set_item(Some(items::record_item(commit.record, new_version, record_expiry)?))
        .expression_attribute_names("#exp", TTL_ATTRIBUTE)
        .expression_attribute_values(":now", now_s);
    // An expired record counts as absent, as it does for every read.
    let record = match commit.expected_version {
        None => record
            .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
            .expression_attribute_names("#pk", PARTITION_KEY),
        Some(expected) => record
            .condition_expression("#version = :expected AND (attribute_not_exists(#exp) OR #exp > :now)")
            .expression_attribute_names("#version", items::VERSION)
            .expression_attribute_values(":expected", n(expected)),
    };
    let record = built(OP, record.build())?;

    let id = &commit.record.relais_request_id;
    let history_expiry = expiry_after(commit.history.at, store.config.retention);
    let history = built(
        OP,
        Put::builder()
            .table_name(&store.table)
            .set_item(Some(items::history_item(
                id,
                &history_key(commit.history.at, seq),
                commit.history,
                history_expiry,
            )?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .build(),
    )?;

    let mut transaction = vec![
        TransactWriteItem::builder().update(claim).build(),
        TransactWriteItem::builder().put(record).build(),
        TransactWriteItem::builder().put(history).build(),
    ];
    for barcode in barcodes {
        let pointer: Item = items::barcode_pointer(commit.record, barcode, record_expiry);
        let put = built(OP, Put::builder().table_name(&store.table).set_item(Some(pointer)).build())?;
        transaction.push(TransactWriteItem::builder().put(put).build());
    }
    if let Some(follow_up) = commit.follow_up {
        let put = Put::builder().table_name(&store.table).set_item(Some(super::follow_ups::follow_up_item(follow_up)?));
        transaction.push(TransactWriteItem::builder().put(built(OP, put.build())?).build());
    }
    Ok(transaction)
}
