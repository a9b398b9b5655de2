//! The reconciler's items in the redb file: its documents in a table of their own, and its walk through
//! the records in the records table's key order.

use jiff::Timestamp;
use redb::{Database, ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};

use super::Failure;
use super::tables::{self, REQUESTS, StoredRecord};
use crate::config::is_live;
use crate::{AlmaIds, Correlation, ReconcileDoc, RelaisRequestId};

/// Document name -> [`StoredDoc`].
pub(super) const DOCS: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("reconcile_docs");

#[derive(Serialize, Deserialize)]
struct StoredDoc {
    body: serde_json::Value,
    revision: u64,
    expires_at: Option<i64>,
}

pub(super) fn records_after(
    db: &Database,
    after: Option<&str>,
    limit: usize,
    now: Timestamp,
) -> Result<Vec<Correlation>, Failure> {
    let txn = db.begin_read()?;
    let requests = txn.open_table(REQUESTS)?;
    let rows = match after {
        Some(after) => requests.range::<&str>(after..)?,
        None => requests.range::<&str>(..)?,
    };
    let mut records = Vec::new();
    for row in rows {
        let (key, value) = row?;
        if after == Some(key.value()) {
            continue;
        }
        let stored: StoredRecord = tables::decode("record", value.value())?;
        if is_live(stored.expires_at, now) {
            records.push(stored.record);
            if records.len() >= limit {
                break;
            }
        }
    }
    Ok(records)
}

pub(super) fn doc(db: &Database, name: &str, now: Timestamp) -> Result<Option<ReconcileDoc>, Failure> {
    let txn = db.begin_read()?;
    let docs = txn.open_table(DOCS)?;
    let stored: Option<StoredDoc> = tables::read(&docs, "reconciliation document", name)?;
    Ok(stored.filter(|d| is_live(d.expires_at, now)).map(|d| ReconcileDoc {
        body: d.body,
        revision: d.revision,
        expires_at: d.expires_at.and_then(|at| Timestamp::from_second(at).ok()),
    }))
}

pub(super) fn put_doc(
    db: &Database,
    name: &str,
    body: serde_json::Value,
    expected: Option<u64>,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool, Failure> {
    let txn = db.begin_write()?;
    let current = {
        let docs = txn.open_table(DOCS)?;
        let stored: Option<StoredDoc> = tables::read(&docs, "reconciliation document", name)?;
        stored.map(|d| (is_live(d.expires_at, now), d.revision))
    };
    // An expired document counts as absent, as every read treats it.
    let matches = match current {
        Some((true, revision)) => expected == Some(revision),
        Some((false, _)) | None => expected.is_none(),
    };
    if !matches {
        txn.abort()?;
        return Ok(false);
    }
    let stored =
        StoredDoc { body, revision: expected.map_or(1, |r| r + 1), expires_at: expires_at.map(Timestamp::as_second) };
    txn.open_table(DOCS)?.insert(name, tables::encode("reconciliation document", &stored)?.as_slice())?;
    txn.commit()?;
    Ok(true)
}

pub(super) fn record_alma_ids(
    db: &Database,
    id: &RelaisRequestId,
    alma: &AlmaIds,
    expected_version: u64,
    now: Timestamp,
) -> Result<bool, Failure> {
    let txn = db.begin_write()?;
    let written = {
        let mut requests = txn.open_table(REQUESTS)?;
        let stored: Option<StoredRecord> = tables::read(&requests, "record", id.as_str())?;
        match stored.filter(|s| is_live(s.expires_at, now) && s.record.version == expected_version) {
            Some(mut stored) => {
                stored.record.alma = alma.clone();
                stored.record.version = expected_version + 1;
                requests.insert(id.as_str(), tables::encode("record", &stored)?.as_slice())?;
                true
            }
            None => false,
        }
    };
    if written {
        txn.commit()?;
    } else {
        txn.abort()?;
    }
    Ok(written)
}
