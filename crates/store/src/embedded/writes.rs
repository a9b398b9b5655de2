//! Embedded-store writes, each run inside one redb write transaction that the caller commits or aborts.
//! The checks mirror the DynamoDB conditions one for one (see `dynamo::claims`).

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, Table, WriteTransaction};
use serde::de::DeserializeOwned;

use super::Failure;
use super::tables::{
    self, ATTEMPTS, BARCODES, BULK, CLAIMS, ClaimState, DISCOVERY, FOLLOW_UPS, HISTORY, OPEN_BARCODES, OPEN_QUEUE,
    OUTBOX, REQUESTS, RESPONSES, StoredAttempts, StoredBulk, StoredCitation, StoredClaim, StoredEntry, StoredQueued,
    StoredRecord,
};
use crate::claim::StoredResponse;
use crate::claim::{ClaimDecision, ExistingClaim, decide_claim, lease_end, next_version};
use crate::config::{expiry_after, is_live};
use crate::follow_up::{FinishOutcome, FollowUp};
use crate::keys::{HISTORY_PREFIX, history_instant_prefix, history_key, next_history_seq};
use crate::{
    Begun, ClaimOutcome, ClaimToken, Commit, CommitOutcome, Correlation, EnqueueOutcome, HistoryEntry, IdempotencyKey,
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
    follow_up: Option<FollowUp>,
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
            follow_up: c.follow_up.cloned(),
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
        replayed: false,
    };
    claims.insert(key.as_str(), tables::encode("claim", &stored)?.as_slice())?;
    // A fresh claim may replace an expired done record; its response must not outlive it.
    responses.remove(key.as_str())?;
    Ok(outcome)
}

/// The stored answer of `key` if it is done at `now`, from a read transaction: a replay is answered without
/// a write transaction, whose commit (an fsync on a file) is most of what a write costs.
pub(super) fn done_answer(
    db: &redb::Database,
    key: &IdempotencyKey,
    now: Timestamp,
) -> Result<Option<(StoredResponse, redb::ReadTransaction)>, Failure> {
    let txn = db.begin_read()?;
    let found = {
        let claims = txn.open_table(CLAIMS)?;
        let responses = txn.open_table(RESPONSES)?;
        tables::live_claim(&claims, &responses, key.as_str(), now)?
    };
    Ok(match found {
        Some((_, ExistingClaim::Done(response))) => Some((response, txn)),
        _ => None,
    })
}

/// A [`Begin`](crate::Begin) that can move to the blocking pool.
pub(super) struct OwnedBegin {
    pub(super) key: IdempotencyKey,
    pub(super) owner: ClaimToken,
    pub(super) request: RelaisRequestId,
    pub(super) now: Timestamp,
    pub(super) lease: std::time::Duration,
    pub(super) open_queue: bool,
    pub(super) patron: Option<crate::PatronKey>,
}

impl From<crate::Begin<'_>> for OwnedBegin {
    fn from(b: crate::Begin<'_>) -> Self {
        Self {
            key: b.key.clone(),
            owner: b.owner.clone(),
            request: b.request.clone(),
            now: b.now,
            lease: b.lease,
            open_queue: b.open_queue,
            patron: b.patron.cloned(),
        }
    }
}

/// The claim of [`crate::Store::begin`] for a key that was not done when read: one write transaction that
/// claims and reads the record, the open queue and the patron key beside the claim; committed only when the claim was taken.
pub(super) fn begin_claim(db: &redb::Database, config: &StoreConfig, b: &OwnedBegin) -> Result<Begun, Failure> {
    let txn = db.begin_write()?;
    let outcome = claim(&txn, config, &b.key, &b.owner, b.now, b.lease)?;
    let now = config.now();
    let record = tables::live_record(&txn.open_table(REQUESTS)?, b.request.as_str(), now)?;
    let open_queue =
        if b.open_queue { Some(tables::open_queued(&txn.open_table(OUTBOX)?, b.request.as_str(), now)?) } else { None };
    let patron_known = match &b.patron {
        Some(key) => Some(super::patrons::is_remembered(&txn.open_table(super::patrons::PATRONS)?, key, b.now)?),
        None => None,
    };
    if claimed(&outcome) {
        txn.commit()?;
    } else {
        txn.abort()?;
    }
    Ok(Begun { claim: outcome, record, open_queue, patron_known })
}

/// Whether a claim attempt wrote (took the key); otherwise it only reported, and its transaction is aborted.
pub(super) fn claimed(outcome: &ClaimOutcome) -> bool {
    matches!(outcome, ClaimOutcome::Claimed | ClaimOutcome::TookOverStale { .. })
}

/// Marks the first replay of a done key and appends its history entry; false (nothing to commit) when a replay
/// was recorded before or the key is not done.
pub(super) fn record_replay(
    txn: &WriteTransaction,
    config: &StoreConfig,
    key: &IdempotencyKey,
    request: &RelaisRequestId,
    entry: &HistoryEntry,
) -> Result<bool, Failure> {
    let mut claims = txn.open_table(CLAIMS)?;
    let stored: Option<StoredClaim> = tables::read(&claims, "claim", key.as_str())?;
    let Some(mut stored) =
        stored.filter(|s| s.state == ClaimState::Done && !s.replayed && is_live(Some(s.expires_at), config.now()))
    else {
        return Ok(false);
    };
    stored.replayed = true;
    claims.insert(key.as_str(), tables::encode("claim", &stored)?.as_slice())?;
    append_entry(txn, config, request, entry)?;
    Ok(true)
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

    let Some(new_version) = put_record(txn, config, &c.record, c.expected_version, c.now)? else {
        return Ok(CommitOutcome::VersionConflict);
    };
    if let Some(follow_up) = &c.follow_up {
        crate::follow_up::check_follow_up_id(&follow_up.id)?;
        txn.open_table(FOLLOW_UPS)?
            .insert(follow_up.id.as_str(), tables::encode("follow-up", follow_up)?.as_slice())?;
    }
    append_history(txn, config, &c.record.relais_request_id, &c.history)?;
    mark_done(config, (&mut claims, &mut responses), (&c.key, &c.owner, attempts), &c.response, c.now)?;
    Ok(CommitOutcome::Committed { new_version })
}

/// Writes `record` as the next version after `expected` (`None`: no live record may exist), with its barcode
/// index; `None`, and nothing written, when the stored record is not at that version.
fn put_record(
    txn: &WriteTransaction,
    config: &StoreConfig,
    record: &Correlation,
    expected: Option<u64>,
    now: Timestamp,
) -> Result<Option<u64>, Failure> {
    let id = record.relais_request_id.as_str();
    let mut requests = txn.open_table(REQUESTS)?;
    let previous: Option<StoredRecord> = tables::read(&requests, "record", id)?;
    let live_version = previous.as_ref().filter(|p| is_live(p.expires_at, now)).map(|p| p.record.version);
    if live_version != expected {
        return Ok(None);
    }

    let new_version = next_version(expected);
    let mut record = record.clone();
    record.version = new_version;
    let stored = StoredRecord { expires_at: config.record_expiry(record.status.is_closed(), now), record };
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
    Ok(Some(new_version))
}

/// Finishes a follow-up: its record (at the version it was read) and its removal, in the caller's transaction.
pub(super) fn finish_follow_up(
    txn: &WriteTransaction,
    config: &StoreConfig,
    id: &str,
    record: Option<(&Correlation, u64)>,
    now: Timestamp,
) -> Result<FinishOutcome, Failure> {
    let mut follow_ups = txn.open_table(FOLLOW_UPS)?;
    if follow_ups.remove(id)?.is_none() {
        return Ok(FinishOutcome::Gone);
    }
    drop(follow_ups);
    if let Some((record, expected)) = record
        && put_record(txn, config, record, Some(expected), now)?.is_none()
    {
        return Ok(FinishOutcome::VersionConflict);
    }
    Ok(FinishOutcome::Finished)
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
        replayed: false,
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
    if entry.outcome == crate::model::Outcome::Replayed {
        let mut history = txn.open_table(HISTORY)?;
        // A replay right after a replay of the same message is folded into the earlier entry (a resend that
        // differed from its queued message; a plain replay is recorded once, by `record_replay`).
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
    append_entry(txn, config, id, entry)
}

/// Appends `entry` after the request's entries at its instant, without folding.
fn append_entry(
    txn: &WriteTransaction,
    config: &StoreConfig,
    id: &RelaisRequestId,
    entry: &HistoryEntry,
) -> Result<(), Failure> {
    let mut history = txn.open_table(HISTORY)?;
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
        removed += super::problems::purge(&txn, now)?;

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
