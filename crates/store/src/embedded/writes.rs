//! Embedded-store writes, each run inside one redb write transaction that the caller commits or aborts.
//! The checks mirror the DynamoDB conditions one for one (see `dynamo::claims`).

use redb::{ReadableTable, ReadableTableMetadata, Table, WriteTransaction};
use serde::de::DeserializeOwned;

use super::Failure;
use super::tables::{
    self, ATTEMPTS, BARCODES, BULK, CLAIMS, ClaimState, DISCOVERY, HISTORY, OPEN_BARCODES, OPEN_QUEUE, OUTBOX,
    REQUESTS, RESPONSES, StoredAttempts, StoredBulk, StoredCitation, StoredClaim, StoredEntry, StoredQueued,
    StoredRecord,
};
use crate::claim::{ClaimDecision, ExistingClaim, decide_claim, lease_end, next_version};
use crate::config::{expiry_after, is_live};
use crate::keys::{HISTORY_PREFIX, history_instant_prefix, history_key, next_history_seq};
use crate::{
    ClaimOutcome, ClaimToken, Commit, CommitOutcome, Correlation, EnqueueOutcome, HistoryEntry, IdempotencyKey,
    QueueLimit, QueueLimits, QueuedMessage, RelaisRequestId, StoreConfig,
};
use jiff::Timestamp;

/// A [`Commit`] that can move to the blocking pool.
pub(super) struct OwnedCommit {
    key: IdempotencyKey,
    owner: ClaimToken,
    response: Vec<u8>,
    record: Correlation,
    expected_version: Option<u64>,
    history: HistoryEntry,
    now: Timestamp,
}

impl From<Commit<'_>> for OwnedCommit {
    fn from(c: Commit<'_>) -> Self {
        Self {
            key: c.key.clone(),
            owner: c.owner.clone(),
            response: c.response.to_vec(),
            record: c.record.clone(),
            expected_version: c.expected_version,
            history: c.history.clone(),
            now: c.now,
        }
    }
}

pub(super) fn claim(
    txn: &WriteTransaction,
    config: &StoreConfig,
    key: &IdempotencyKey,
    owner: &ClaimToken,
    now: Timestamp,
    lease: std::time::Duration,
) -> Result<ClaimOutcome, Failure> {
    let mut claims = txn.open_table(CLAIMS)?;
    let mut responses = txn.open_table(RESPONSES)?;
    let existing = tables::live_claim(&claims, &responses, key.as_str(), now)?;
    let (outcome, attempts) = match decide_claim(existing.map(|(_, e)| e), now) {
        ClaimDecision::Fresh => (ClaimOutcome::Claimed, 1),
        ClaimDecision::TakeOver { previous_attempts, .. } => {
            (ClaimOutcome::TookOverStale { previous_attempts }, previous_attempts.saturating_add(1))
        }
        ClaimDecision::Report(outcome) => return Ok(outcome),
    };
    let stored = StoredClaim {
        state: ClaimState::InFlight,
        owner: owner.as_str().to_owned(),
        lease_until_ms: lease_end(now, lease).as_millisecond(),
        attempts,
        expires_at: expiry_after(now, config.idempotency_retention),
    };
    claims.insert(key.as_str(), tables::encode("claim", &stored)?.as_slice())?;
    // A fresh claim may replace an expired done record; its response must not outlive it.
    responses.remove(key.as_str())?;
    Ok(outcome)
}

pub(super) fn release(txn: &WriteTransaction, key: &IdempotencyKey, owner: &ClaimToken) -> Result<(), Failure> {
    let mut claims = txn.open_table(CLAIMS)?;
    let stored: Option<StoredClaim> = tables::read(&claims, "claim", key.as_str())?;
    if stored.is_some_and(|s| s.state == ClaimState::InFlight && s.owner == owner.as_str()) {
        claims.remove(key.as_str())?;
    }
    Ok(())
}

pub(super) fn commit(txn: &WriteTransaction, config: &StoreConfig, c: &OwnedCommit) -> Result<CommitOutcome, Failure> {
    let mut claims = txn.open_table(CLAIMS)?;
    let mut responses = txn.open_table(RESPONSES)?;
    let Some(attempts) = held_attempts(&claims, &responses, &c.key, &c.owner, c.now)? else {
        return Ok(CommitOutcome::ClaimLost);
    };

    let id = c.record.relais_request_id.as_str();
    let mut requests = txn.open_table(REQUESTS)?;
    let previous: Option<StoredRecord> = tables::read(&requests, "record", id)?;
    let live_version = previous.as_ref().filter(|p| is_live(p.expires_at, c.now)).map(|p| p.record.version);
    if live_version != c.expected_version {
        return Ok(CommitOutcome::VersionConflict);
    }

    let new_version = next_version(c.expected_version);
    let mut record = c.record.clone();
    record.version = new_version;
    let stored = StoredRecord { expires_at: config.record_expiry(record.status.is_closed(), c.now), record };
    requests.insert(id, tables::encode("record", &stored)?.as_slice())?;

    let mut barcodes = txn.open_multimap_table(BARCODES)?;
    if let Some(previous) = previous {
        for barcode in &previous.record.item_barcodes {
            barcodes.remove(barcode.as_str(), id)?;
        }
    }
    for barcode in &stored.record.item_barcodes {
        barcodes.insert(barcode.as_str(), id)?;
    }

    append_history(txn, config, &c.record.relais_request_id, &c.history)?;
    mark_done(config, (&mut claims, &mut responses), (&c.key, &c.owner, attempts), &c.response, c.now)?;
    Ok(CommitOutcome::Committed { new_version })
}

/// The attempts counted on the claim `owner` holds in flight on `key`; `None` when it no longer holds it.
fn held_attempts(
    claims: &impl ReadableTable<&'static str, &'static [u8]>,
    responses: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &IdempotencyKey,
    owner: &ClaimToken,
    now: Timestamp,
) -> Result<Option<u32>, Failure> {
    Ok(match tables::live_claim(claims, responses, key.as_str(), now)? {
        Some((stored, ExistingClaim::InFlight { owner: holder, .. })) if holder == owner.as_str() => {
            Some(stored.attempts)
        }
        _ => None,
    })
}

/// A `&str`-keyed table of raw values, open for writing (claims, responses).
type KeyedTable<'txn> = Table<'txn, &'static str, &'static [u8]>;

/// Marks the claim done with the answer later deliveries replay (the last step of a commit or an enqueue).
fn mark_done(
    config: &StoreConfig,
    (claims, responses): (&mut KeyedTable<'_>, &mut KeyedTable<'_>),
    (key, owner, attempts): (&IdempotencyKey, &ClaimToken, u32),
    response: &[u8],
    now: Timestamp,
) -> Result<(), Failure> {
    let done = StoredClaim {
        state: ClaimState::Done,
        owner: owner.as_str().to_owned(),
        lease_until_ms: 0,
        attempts,
        expires_at: expiry_after(now, config.idempotency_retention),
    };
    claims.insert(key.as_str(), tables::encode("claim", &done)?.as_slice())?;
    responses.insert(key.as_str(), response)?;
    Ok(())
}

pub(super) fn append_history(
    txn: &WriteTransaction,
    config: &StoreConfig,
    id: &RelaisRequestId,
    entry: &HistoryEntry,
) -> Result<(), Failure> {
    let mut history = txn.open_table(HISTORY)?;
    if entry.outcome == crate::model::Outcome::Replayed {
        // A replay right after a replay of the same message is folded into the earlier entry.
        let all_end = format!("{}$", HISTORY_PREFIX.trim_end_matches('#'));
        let latest = history
            .range((id.as_str(), HISTORY_PREFIX)..(id.as_str(), all_end.as_str()))?
            .next_back()
            .transpose()?
            .map(|(key, value)| (key.value().1.to_owned(), value.value().to_vec()));
        if let Some((position, bytes)) = latest {
            let stored: StoredEntry = tables::decode("history entry", &bytes)?;
            if is_live(Some(stored.expires_at), config.now()) && stored.entry.absorbs(entry) {
                let folded = StoredEntry {
                    entry: stored.entry.absorb(entry),
                    expires_at: stored.expires_at.max(expiry_after(entry.at, config.retention)),
                };
                history
                    .insert((id.as_str(), position.as_str()), tables::encode("history entry", &folded)?.as_slice())?;
                return Ok(());
            }
        }
    }
    let prefix = history_instant_prefix(entry.at);
    // Positions at one instant share the prefix, which ends in '#'; '$' sorts right after it.
    let end = format!("{}$", prefix.trim_end_matches('#'));
    let last = history
        .range((id.as_str(), prefix.as_str())..(id.as_str(), end.as_str()))?
        .next_back()
        .transpose()?
        .map(|(key, _)| key.value().1.to_owned());
    let position = history_key(entry.at, next_history_seq(last.as_deref()));
    let stored = StoredEntry { entry: entry.clone(), expires_at: expiry_after(entry.at, config.retention) };
    history.insert((id.as_str(), position.as_str()), tables::encode("history entry", &stored)?.as_slice())?;
    Ok(())
}

/// Removes every expired item; returns how many rows went.
pub(super) fn purge_expired(db: &redb::Database, now: Timestamp) -> Result<usize, Failure> {
    let txn = db.begin_write()?;
    let mut removed = 0;
    {
        let mut requests = txn.open_table(REQUESTS)?;
        let mut barcodes = txn.open_multimap_table(BARCODES)?;
        for (id, stored) in take_expired::<StoredRecord>(&mut requests, "record", now, |s| s.expires_at)? {
            for barcode in &stored.record.item_barcodes {
                barcodes.remove(barcode.as_str(), id.as_str())?;
            }
            removed += 1;
        }

        let mut claims = txn.open_table(CLAIMS)?;
        let mut responses = txn.open_table(RESPONSES)?;
        for (key, _) in take_expired::<StoredClaim>(&mut claims, "claim", now, |s| Some(s.expires_at))? {
            responses.remove(key.as_str())?;
            removed += 1;
        }

        let mut discovery = txn.open_table(DISCOVERY)?;
        removed += take_expired::<StoredCitation>(&mut discovery, "citation", now, |s| Some(s.expires_at))?.len();

        let mut attempts = txn.open_table(ATTEMPTS)?;
        removed += take_expired::<StoredAttempts>(&mut attempts, "attempt count", now, |s| Some(s.expires_at))?.len();

        let mut outbox = txn.open_table(OUTBOX)?;
        removed += take_expired_pairs::<StoredQueued>(&mut outbox, "queued message", now, |s| s.expires_at)?;

        let mut bulk = txn.open_table(BULK)?;
        removed += take_expired::<StoredBulk>(&mut bulk, "bulk action", now, |s| s.expires_at)?.len();

        removed += super::patrons::purge(&txn, now)?;

        let mut history = txn.open_table(HISTORY)?;
        removed += take_expired_pairs::<StoredEntry>(&mut history, "history entry", now, |s| Some(s.expires_at))?;
    }
    txn.commit()?;
    Ok(removed)
}

/// Removes the expired rows of a table keyed by (Relais request id, position); returns how many went.
fn take_expired_pairs<T: DeserializeOwned>(
    table: &mut Table<'_, (&'static str, &'static str), &'static [u8]>,
    what: &'static str,
    now: Timestamp,
    expires_at: impl Fn(&T) -> Option<i64>,
) -> Result<usize, Failure> {
    let mut expired = Vec::new();
    for row in table.iter()? {
        let (key, value) = row?;
        let stored: T = tables::decode(what, value.value())?;
        if !is_live(expires_at(&stored), now) {
            let (id, position) = key.value();
            expired.push((id.to_owned(), position.to_owned()));
        }
    }
    for (id, position) in &expired {
        table.remove((id.as_str(), position.as_str()))?;
    }
    Ok(expired.len())
}

/// Removes the expired rows of a `&str`-keyed table and hands them back.
fn take_expired<T: DeserializeOwned>(
    table: &mut Table<'_, &'static str, &'static [u8]>,
    what: &'static str,
    now: Timestamp,
    expires_at: impl Fn(&T) -> Option<i64>,
) -> Result<Vec<(String, T)>, Failure> {
    let mut expired = Vec::new();
    for row in table.iter()? {
        let (key, value) = row?;
        let stored: T = tables::decode(what, value.value())?;
        if !is_live(expires_at(&stored), now) {
            expired.push((key.value().to_owned(), stored));
        }
    }
    for (key, _) in &expired {
        table.remove(key.as_str())?;
    }
    Ok(expired)
}

/// An [`Enqueue`](crate::Enqueue) that can move to the blocking pool.
pub(super) struct OwnedEnqueue {
    key: IdempotencyKey,
    owner: ClaimToken,
    response: Vec<u8>,
    message: QueuedMessage,
    history: HistoryEntry,
    now: Timestamp,
    limits: QueueLimits,
}

impl From<crate::Enqueue<'_>> for OwnedEnqueue {
    fn from(e: crate::Enqueue<'_>) -> Self {
        Self {
            key: e.key.clone(),
            owner: e.owner.clone(),
            response: e.response.to_vec(),
            message: e.message.clone(),
            history: e.history.clone(),
            now: e.now,
            limits: e.limits,
        }
    }
}

pub(super) fn enqueue(
    txn: &WriteTransaction,
    config: &StoreConfig,
    e: &OwnedEnqueue,
) -> Result<EnqueueOutcome, Failure> {
    let mut claims = txn.open_table(CLAIMS)?;
    let mut responses = txn.open_table(RESPONSES)?;
    let Some(attempts) = held_attempts(&claims, &responses, &e.key, &e.owner, e.now)? else {
        return Ok(EnqueueOutcome::ClaimLost);
    };
    if let Some(limit) = queue_limit_met(txn, &e.message.request, e.limits)? {
        return Ok(EnqueueOutcome::Full(limit));
    }
    put_queued(txn, config, &e.message, e.now)?;
    append_history(txn, config, &e.message.request, &e.history)?;
    mark_done(config, (&mut claims, &mut responses), (&e.key, &e.owner, attempts), &e.response, e.now)?;
    Ok(EnqueueOutcome::Queued)
}

/// The bound a new message of `request` would break, if any.
fn queue_limit_met(
    txn: &WriteTransaction,
    request: &RelaisRequestId,
    limits: QueueLimits,
) -> Result<Option<QueueLimit>, Failure> {
    let index = txn.open_table(OPEN_QUEUE)?;
    if index.len()? >= u64::from(limits.total) {
        return Ok(Some(QueueLimit::Total));
    }
    let outbox = txn.open_table(OUTBOX)?;
    let mut open = 0u32;
    for row in outbox.range((request.as_str(), "")..)? {
        let (key, value) = row?;
        if key.value().0 != request.as_str() {
            break;
        }
        let stored: StoredQueued = tables::decode("queued message", value.value())?;
        if stored.message.state.is_open() {
            open += 1;
        }
    }
    Ok((open >= limits.per_request).then_some(QueueLimit::PerRequest))
}

/// Writes a queued message and keeps the open-queue index in step with its state.
pub(super) fn put_queued(
    txn: &WriteTransaction,
    config: &StoreConfig,
    message: &QueuedMessage,
    now: Timestamp,
) -> Result<(), Failure> {
    let open = message.state.is_open();
    let stored =
        StoredQueued { message: message.clone(), expires_at: (!open).then(|| expiry_after(now, config.retention)) };
    let request = message.request.as_str();
    txn.open_table(OUTBOX)?
        .insert((request, message.id.as_str()), tables::encode("queued message", &stored)?.as_slice())?;
    let mut index = txn.open_table(OPEN_QUEUE)?;
    let mut barcodes = txn.open_multimap_table(OPEN_BARCODES)?;
    if open {
        index.insert(message.id.as_str(), request)?;
    } else {
        index.remove(message.id.as_str())?;
    }
    if let Some(barcode) = &message.barcode {
        if open {
            barcodes.insert(barcode.as_str(), message.id.as_str())?;
        } else {
            barcodes.remove(barcode.as_str(), message.id.as_str())?;
        }
    }
    Ok(())
}

/// The stored message `id` of `request`, whatever its state.
pub(super) fn read_queued(
    outbox: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    request: &str,
    id: &str,
) -> Result<Option<StoredQueued>, Failure> {
    match outbox.get((request, id))? {
        Some(guard) => Ok(Some(tables::decode("queued message", guard.value())?)),
        None => Ok(None),
    }
}

/// Fills the barcode entries of open messages queued before the store kept them (a file written by an older
/// bridge): a check-in must find every waiting receive of its item, whenever it was queued.
pub(super) fn index_open_barcodes(txn: &WriteTransaction) -> Result<(), Failure> {
    let index = txn.open_table(OPEN_QUEUE)?;
    let outbox = txn.open_table(OUTBOX)?;
    let mut barcodes = txn.open_multimap_table(OPEN_BARCODES)?;
    for row in index.iter()? {
        let (id, request) = row?;
        if let Some(stored) = read_queued(&outbox, request.value(), id.value())?
            && let Some(barcode) = &stored.message.barcode
        {
            barcodes.insert(barcode.as_str(), id.value())?;
        }
    }
    Ok(())
}
