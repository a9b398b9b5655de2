//! Embedded remembered patron ids: [`PATRONS`] maps a [`PatronKey`] to its expiry (epoch seconds).

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};

use super::{EmbeddedStore, Failure};
use crate::config::is_live;
use crate::{PatronKey, StoreError};

/// Patron key (64 hex digits) -> when it is forgotten, epoch seconds.
pub(super) const PATRONS: TableDefinition<'static, &str, i64> = TableDefinition::new("patrons");

impl EmbeddedStore {
    pub(super) async fn put_patron(&self, key: &PatronKey, expires_at: Timestamp) -> Result<(), StoreError> {
        let key = key.clone();
        self.run("remember patron", move |db, _| {
            let txn = db.begin_write()?;
            txn.open_table(PATRONS)?.insert(key.as_str(), expires_at.as_second())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn get_patron(&self, key: &PatronKey, now: Timestamp) -> Result<bool, StoreError> {
        let key = key.clone();
        self.run("knows patron", move |db, _| {
            let txn = db.begin_read()?;
            let table = match txn.open_table(PATRONS) {
                Ok(table) => table,
                // A file from before patrons were remembered, not yet written to.
                Err(TableError::TableDoesNotExist(_)) => return Ok(false),
                Err(other) => return Err(other.into()),
            };
            is_remembered(&table, &key, now)
        })
        .await
    }
}

/// Whether `key` is remembered at `now`, read from the table in the caller's transaction.
pub(super) fn is_remembered(
    table: &impl ReadableTable<&'static str, i64>,
    key: &PatronKey,
    now: Timestamp,
) -> Result<bool, Failure> {
    let expires_at = table.get(key.as_str())?.map(|v| v.value());
    Ok(expires_at.is_some_and(|at| is_live(Some(at), now)))
}

/// Removes the expired entries in a purge's transaction; returns how many went.
pub(super) fn purge(txn: &WriteTransaction, now: Timestamp) -> Result<usize, Failure> {
    let mut table = txn.open_table(PATRONS)?;
    let mut expired = Vec::new();
    for row in table.iter()? {
        let (key, at) = row?;
        if !is_live(Some(at.value()), now) {
            expired.push(key.value().to_owned());
        }
    }
    for key in &expired {
        table.remove(key.as_str())?;
    }
    Ok(expired.len())
}
