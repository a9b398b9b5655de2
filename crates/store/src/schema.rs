//! The DynamoDB table layout, as constants that `template.yaml` is checked against, and [`create_table`] for
//! tests and local tooling.
//!
//! One table, string keys `pk` / `sk`:
//!
//! | item              | `pk`              | `sk`                         | other                                         |
//! |-------------------|-------------------|------------------------------|-----------------------------------------------|
//! | correlation record| `REQ#<relais id>` | `REQ`                        | `version`, `status`, `body` (JSON), `expires_at` when closed |
//! | barcode pointer   | `REQ#<relais id>` | `BARCODE#<barcode>`          | `gsi1pk` = `BARCODE#<barcode>`, `gsi1sk` = creation instant + id |
//! | history entry     | `REQ#<relais id>` | `HIST#<instant>#<seq>`       | `body` (JSON), `expires_at`                   |
//! | idempotency       | `IDEM#<key hex>`  | `IDEM`                       | `state`, `owner`, `lease_until` (ms), `attempts`, `response` (B), `expires_at` |
//! | discovery         | `DISC#<id>`       | `DISC`                       | `citation` (JSON), `expires_at`               |
//! | queued message    | `REQ#<relais id>` | `OUT#<message id>`           | `state`, `body` (JSON), `expires_at` once delivered or discarded |
//! | open queue entry  | `QUEUE`           | `<message id>`               | `body` (JSON): a copy, while waiting or parked |
//! | queue count       | `QUEUE#COUNT`     | `COUNT`                      | `open`: open messages in all, kept in the enqueue and settle transactions |
//! | request queue count | `REQ#<relais id>` | `QCOUNT`                   | `open`: the request's open messages, likewise |
//! | open barcode entry | `QBARCODE#<barcode>` | `<message id>`           | `request`: while a message naming the item is open, kept in the same transactions as its state |
//! | bulk action       | `BULK`            | `<action id>`                | `body` (JSON), `updated_at` (the condition of the next progress write), `expires_at` once done |
//! | marker            | `MARK#<name>`     | `MARK`                       | `recorded_at`: a durable fact (no expiry), written once |
//! | attempt count     | `ATTEMPT#P#<hmac>` or `ATTEMPT#A#<hmac>` | `ATTEMPT`  | `count`, `expires_at`                         |
//! | remembered patron | `PATRON#<hmac>`   | `PATRON`                     | `expires_at` only: an id LookupUser answered  |
//!
//! A record can list several barcodes, and an item has one GSI key, so each barcode gets its own small pointer
//! item in the `by-barcode` index; a barcode lookup queries the index and then reads the records themselves
//! with consistent reads (the version a flow commits against must be current).
//!
//! Attempt counts (PIN checks per patron `P` or calling agency `A`) are keyed by a keyed hash of the
//! identifier, never the identifier; they are the only items the patron-lookup function may touch, which
//! `template.yaml` grants through the [`ATTEMPT_KEY_PREFIX`] leading-key condition.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};

use crate::StoreError;
use crate::dynamo::map_sdk_error;

/// Partition key attribute (string).
pub const PARTITION_KEY: &str = "pk";
/// Sort key attribute (string).
pub const SORT_KEY: &str = "sk";
/// The global secondary index for barcode lookups.
pub const BARCODE_INDEX: &str = "by-barcode";
/// Partition key of [`BARCODE_INDEX`] (string): `BARCODE#<barcode>`.
pub const BARCODE_INDEX_PARTITION_KEY: &str = "gsi1pk";
/// Sort key of [`BARCODE_INDEX`] (string): creation instant and Relais request id.
pub const BARCODE_INDEX_SORT_KEY: &str = "gsi1sk";
/// What [`BARCODE_INDEX`] projects: the pointers' keys are all a lookup needs.
pub const BARCODE_INDEX_PROJECTION: &str = "KEYS_ONLY";
/// The TTL attribute (number, epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// Every request's items (record, barcode pointers, history, queued messages) share a partition key starting
/// with this.
pub const REQUEST_KEY_PREFIX: &str = "REQ#";
/// The partition listing the open outbox (waiting and parked messages).
pub const QUEUE_PARTITION: &str = "QUEUE";
/// Every open-barcode entry's partition key starts with this (`QBARCODE#<barcode>`).
pub const OPEN_BARCODE_KEY_PREFIX: &str = "QBARCODE#";
/// The partition listing the bulk actions staff confirmed.
pub const BULK_PARTITION: &str = "BULK";
/// Every attempt count's partition key starts with this (the patron-lookup function's IAM condition).
pub const ATTEMPT_KEY_PREFIX: &str = "ATTEMPT#";
/// Every remembered patron id's partition key starts with this (written by patron-lookup alone, read by the
/// functions that translate a patron id for Alma).
pub const PATRON_KEY_PREFIX: &str = "PATRON#";
/// On-demand capacity: the bridge's traffic is a trickle with bursts.
pub const BILLING_MODE: &str = "PAY_PER_REQUEST";

/// How long [`create_table`] waits for a new table to become active (real DynamoDB takes seconds).
const ACTIVE_WAIT: Duration = Duration::from_secs(300);

/// Creates the table with the layout above, waits until it is active and turns TTL on.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let key = |name: &str, key_type| {
        KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().expect("name and key type are set")
    };
    let string_attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("name and type are set")
    };
    let index = GlobalSecondaryIndex::builder()
        .index_name(BARCODE_INDEX)
        .key_schema(key(BARCODE_INDEX_PARTITION_KEY, KeyType::Hash))
        .key_schema(key(BARCODE_INDEX_SORT_KEY, KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::from(BARCODE_INDEX_PROJECTION)).build())
        .build()
        .expect("index name, keys and projection are set");
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(BILLING_MODE))
        .key_schema(key(PARTITION_KEY, KeyType::Hash))
        .key_schema(key(SORT_KEY, KeyType::Range))
        .attribute_definitions(string_attribute(PARTITION_KEY))
        .attribute_definitions(string_attribute(SORT_KEY))
        .attribute_definitions(string_attribute(BARCODE_INDEX_PARTITION_KEY))
        .attribute_definitions(string_attribute(BARCODE_INDEX_SORT_KEY))
        .global_secondary_indexes(index)
        .send()
        .await
        .map_err(|e| map_sdk_error("CreateTable", e))?;
    // TTL cannot be switched on while the table is still being created.
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(ACTIVE_WAIT)
        .await
        .map_err(|_| StoreError::Unavailable { operation: "CreateTable", cause: "the table did not become active" })?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .expect("enabled and attribute name are set"),
        )
        .send()
        .await
        .map_err(|e| map_sdk_error("UpdateTimeToLive", e))?;
    Ok(())
}
