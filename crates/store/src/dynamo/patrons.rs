//! DynamoDB remembered patron ids: one small item per [`PatronKey`], `pk` = `PATRON#<hex>`, holding only its
//! `expires_at` (TTL). Remembering again puts the item again with a later expiry.

use std::collections::HashMap;

use jiff::Timestamp;

use super::items::{self, Item, n, s};
use super::{DynamoStore, map_sdk_error};
use crate::config::is_live;
use crate::schema::{PARTITION_KEY, PATRON_KEY_PREFIX, SORT_KEY, TTL_ATTRIBUTE};
use crate::{PatronKey, StoreError};

const PATRON_SK: &str = "PATRON";

fn patron_key(key: &PatronKey) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), s(format!("{PATRON_KEY_PREFIX}{key}"))),
        (SORT_KEY.to_owned(), s(PATRON_SK)),
    ])
}

pub(super) async fn remember_patron(
    store: &DynamoStore,
    key: &PatronKey,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    let mut item = patron_key(key);
    item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at.as_second()));
    store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(item))
        .send()
        .await
        .map_err(|e| map_sdk_error("PutItem", e))?;
    Ok(())
}

pub(super) async fn knows_patron(store: &DynamoStore, key: &PatronKey, now: Timestamp) -> Result<bool, StoreError> {
    // An eventually consistent read: the id was answered to Relais minutes to days before it comes back.
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .set_key(Some(patron_key(key)))
        .projection_expression("#exp")
        .expression_attribute_names("#exp", TTL_ATTRIBUTE)
        .send()
        .await
        .map_err(|e| map_sdk_error("GetItem", e))?;
    Ok(output.item().and_then(items::expires_at).is_some_and(|at| is_live(Some(at), now)))
}
