//! The reconciler's items on DynamoDB: its documents under `RECON#<name>` / `RECON` (the body as JSON, the
//! revision lifted out for the condition of the next write), and its walk through the records as a
//! consistent Scan of the record items, resumed after the last record it returned.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use jiff::Timestamp;

use super::items::{self, Item, n, s};
use super::{DynamoStore, map_sdk_error};
use crate::config::is_live;
use crate::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};
use crate::{AlmaIds, Correlation, ReconcileDoc, RelaisRequestId, StoreError};

/// Every reconciler document's partition key starts with this (the reconcile function's IAM condition).
pub(super) const RECONCILE_PREFIX: &str = crate::schema::RECONCILE_KEY_PREFIX;
const DOC_SK: &str = "RECON";
const REVISION: &str = "revision";
/// The sort key of a correlation record (the Scan keeps only these).
const RECORD_SK: &str = "REQ";

fn doc_key(name: &str) -> Item {
    Item::from([(PARTITION_KEY.to_owned(), s(format!("{RECONCILE_PREFIX}{name}"))), (SORT_KEY.to_owned(), s(DOC_SK))])
}

pub(super) async fn records_after(
    store: &DynamoStore,
    after: Option<&RelaisRequestId>,
    limit: usize,
) -> Result<Vec<Correlation>, StoreError> {
    let now = store.config.now();
    let mut records = Vec::new();
    let mut start = after.map(items::record_key);
    loop {
        let output = store
            .client
            .scan()
            .table_name(&store.table)
            .consistent_read(true)
            .filter_expression("#sk = :record")
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":record", s(RECORD_SK))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| map_sdk_error("Scan", e))?;
        for item in output.items() {
            if let Some(record) = items::live_record(item, now)? {
                records.push(record);
                if records.len() >= limit {
                    return Ok(records);
                }
            }
        }
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(records),
        }
    }
}

pub(super) async fn doc(store: &DynamoStore, name: &str) -> Result<Option<ReconcileDoc>, StoreError> {
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .set_key(Some(doc_key(name)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| map_sdk_error("GetItem", e))?;
    let Some(item) = output.item() else { return Ok(None) };
    let expires_at = items::expires_at(item);
    if !is_live(expires_at, store.config.now()) {
        return Ok(None);
    }
    let corrupt = |reason: &str| StoreError::Corrupt { what: "reconciliation document", reason: reason.to_owned() };
    let body = item.get(items::BODY).and_then(|v| v.as_s().ok()).ok_or_else(|| corrupt("no body"))?;
    let body = serde_json::from_str(body).map_err(|e| StoreError::corrupt("reconciliation document", &e))?;
    let revision = item
        .get(REVISION)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt("no revision"))?;
    let expires_at = expires_at.and_then(|at| Timestamp::from_second(at).ok());
    Ok(Some(ReconcileDoc { body, revision, expires_at }))
}

pub(super) async fn put_doc(
    store: &DynamoStore,
    name: &str,
    body: &serde_json::Value,
    expected: Option<u64>,
    expires_at: Option<Timestamp>,
) -> Result<bool, StoreError> {
    let mut item = doc_key(name);
    item.insert(items::BODY.to_owned(), s(body.to_string()));
    item.insert(REVISION.to_owned(), n(expected.map_or(1, |r| r + 1)));
    if let Some(at) = expires_at {
        item.insert(TTL_ATTRIBUTE.to_owned(), n(at.as_second()));
    }
    let now = AttributeValue::N(store.config.now().as_second().to_string());
    let put = store.client.put_item().table_name(&store.table).set_item(Some(item));
    // An expired document not yet deleted by DynamoDB counts as absent, as every read treats it.
    let put = match expected {
        None => put
            .condition_expression("attribute_not_exists(#pk) OR #ttl <= :now")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", now),
        Some(revision) => put
            .condition_expression("#rev = :rev")
            .expression_attribute_names("#rev", REVISION)
            .expression_attribute_values(":rev", n(revision)),
    };
    match put.send().await {
        Ok(_) => Ok(true),
        Err(error) if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
            Ok(false)
        }
        Err(error) => Err(map_sdk_error("PutItem", error)),
    }
}

pub(super) async fn record_alma_ids(
    store: &DynamoStore,
    id: &RelaisRequestId,
    alma: &AlmaIds,
    expected_version: u64,
) -> Result<bool, StoreError> {
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .set_key(Some(items::record_key(id)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| map_sdk_error("GetItem", e))?;
    let Some(item) = output.item() else { return Ok(false) };
    let expires_at = items::expires_at(item);
    let Some(mut record) = items::live_record(item, store.config.now())? else { return Ok(false) };
    if record.version != expected_version {
        return Ok(false);
    }
    record.alma = alma.clone();
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(items::record_item(&record, expected_version + 1, expires_at)?))
        .condition_expression("#version = :expected")
        .expression_attribute_names("#version", items::VERSION)
        .expression_attribute_values(":expected", n(expected_version))
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
