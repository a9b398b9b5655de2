//! The embedded store: one redb file in a data folder, the default for local runs and small sites.
//!
//! redb serialises write transactions, so each conditional operation (claim, commit, release) is a plain
//! read-check-write inside one write transaction; that is what makes it match DynamoDB's conditional writes.
//! redb calls block (and write commits fsync), so write transactions run on tokio's blocking pool; the read
//! that answers a replay runs on the calling task.

mod patrons;
mod problems;
mod reconcile;
mod tables;
mod writes;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use tables::{
    ATTEMPTS, BARCODES, BULK, CLAIMS, DISCOVERY, FOLLOW_UPS, HISTORY, MARKERS, OPEN_BARCODES, OPEN_QUEUE, OUTBOX,
    REQUESTS, RESPONSES, StoredAttempts, StoredBulk, StoredCitation, StoredEntry,
};

use crate::config::is_live;
use crate::keys::HISTORY_PREFIX;
use crate::{
    Attempt, AttemptCount, AttemptKey, AttemptRule, Begin, Begun, BulkAction, BulkState, ClaimOutcome, ClaimToken,
    Commit, CommitOutcome, Correlation, Enqueue, EnqueueOutcome, FinishFollowUp, FinishOutcome, FollowUp, HistoryEntry,
    IdempotencyKey, ItemBarcode, PatronKey, QueueState, QueuedMessage, RelaisRequestId, Store, StoreConfig, StoreError,
};

/// The file name inside the data folder.
pub const EMBEDDED_DATABASE_FILE: &str = "bridge-store.redb";

/// The store on a redb file. Cheap to clone; clones share the open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    config: Arc<StoreConfig>,
    /// When expired rows were last deleted. Parked citations arrive with every anonymous `GET /openurl` and
    /// live 30 minutes; purging only at open let a flood of links grow the file until a restart, so a write
    /// of a citation also purges once a citation's lifetime has passed since the last purge.
    purged_at: Arc<std::sync::Mutex<Timestamp>>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A failure inside a blocking job, before it is named after its operation.
pub(crate) enum Failure {
    Db(redb::Error),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

macro_rules! redb_failure {
    ($($error:ty),*) => {$(
        impl From<$error> for Failure {
            fn from(error: $error) -> Self {
                Self::Db(error.into())
            }
        }
    )*};
}
redb_failure!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl Failure {
    fn named(self, operation: &'static str) -> StoreError {
        match self {
            Self::Db(source) => StoreError::Embedded { operation, source: Box::new(source) },
            Self::Store(error) => error,
        }
    }
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, creating the folder if needed.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_config(dir, StoreConfig::default())
    }

    /// Opens the store and drops what expired while it was closed (nothing else deletes it locally).
    pub fn open_with_config(dir: impl AsRef<Path>, config: StoreConfig) -> Result<Self, StoreError> {
        const OP: &str = "open";
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Embedded { operation: OP, source: Box::new(e) })?;
        let db = Database::create(dir.join(EMBEDDED_DATABASE_FILE)).map_err(|e| Failure::from(e).named(OP))?;
        Self::from_database(db, config)
    }

    /// A store held in memory only, gone with the process: for benchmarks that must measure the bridge's own
    /// work without disk syncs, and for throw-away demos. Same tables and transactions as on disk.
    pub fn in_memory(config: StoreConfig) -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|e| Failure::from(e).named("open"))?;
        Self::from_database(db, config)
    }

    fn from_database(db: Database, config: StoreConfig) -> Result<Self, StoreError> {
        const OP: &str = "open";
        // Creating every table up front lets read transactions open them without a "no such table" case.
        let create = || -> Result<(), Failure> {
            let txn = db.begin_write()?;
            txn.open_table(REQUESTS)?;
            txn.open_multimap_table(BARCODES)?;
            txn.open_table(HISTORY)?;
            txn.open_table(CLAIMS)?;
            txn.open_table(RESPONSES)?;
            txn.open_table(DISCOVERY)?;
            txn.open_table(ATTEMPTS)?;
            txn.open_table(MARKERS)?;
            txn.open_table(OUTBOX)?;
            txn.open_table(OPEN_QUEUE)?;
            txn.open_multimap_table(OPEN_BARCODES)?;
            txn.open_table(BULK)?;
            txn.open_table(patrons::PATRONS)?;
            txn.open_table(FOLLOW_UPS)?;
            txn.open_table(problems::PROBLEMS)?;
            txn.open_table(reconcile::DOCS)?;
            writes::index_open_barcodes(&txn)?;
            txn.commit()?;
            Ok(())
        };
        create().map_err(|f| f.named(OP))?;
        let now = config.now();
        writes::purge_expired(&db, now).map_err(|f| f.named("purge expired"))?;
        Ok(Self { db: Arc::new(db), config: Arc::new(config), purged_at: Arc::new(std::sync::Mutex::new(now)) })
    }

    /// Whether a citation's lifetime has passed since the last purge (and if so, the purge is now claimed).
    fn purge_due(&self, now: Timestamp) -> bool {
        let mut purged_at = self.purged_at.lock().unwrap_or_else(|p| p.into_inner());
        let due = crate::config::expiry_after(*purged_at, self.config.discovery_ttl) <= now.as_second();
        if due {
            *purged_at = now;
        }
        due
    }

    /// Deletes everything expired by the store's clock; returns how many items went.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.run("purge expired", |db, config| writes::purge_expired(db, config.now())).await
    }

    /// Runs a read transaction on the calling task: it never waits on the disk's sync, and reads a few pages
    /// that are usually in the page cache, so the hop to the blocking pool would cost more than the read.
    fn read_inline<T>(
        &self,
        operation: &'static str,
        job: impl FnOnce(&Database, &StoreConfig) -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        job(&self.db, &self.config).map_err(|f| f.named(operation))
    }

    async fn run<T, F>(&self, operation: &'static str, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database, &StoreConfig) -> Result<T, Failure> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        let config = Arc::clone(&self.config);
        tokio::task::spawn_blocking(move || job(&db, &config))
            .await
            .map_err(|_| StoreError::TaskFailed { operation })?
            .map_err(|f| f.named(operation))
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get_request(&self, id: &RelaisRequestId) -> Result<Option<Correlation>, StoreError> {
        let id = id.clone();
        self.run("get request", move |db, config| {
            let txn = db.begin_read()?;
            let requests = txn.open_table(REQUESTS)?;
            tables::live_record(&requests, id.as_str(), config.now())
        })
        .await
    }

    async fn find_by_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<Correlation>, StoreError> {
        let barcode = barcode.clone();
        self.run("find by barcode", move |db, config| {
            let now = config.now();
            let txn = db.begin_read()?;
            let barcodes = txn.open_multimap_table(BARCODES)?;
            let requests = txn.open_table(REQUESTS)?;
            let mut records = Vec::new();
            for id in barcodes.get(barcode.as_str())? {
                if let Some(record) = tables::live_record(&requests, id?.value(), now)? {
                    records.push(record);
                }
            }
            crate::model::newest_first(&mut records);
            Ok(records)
        })
        .await
    }

    async fn history(&self, id: &RelaisRequestId) -> Result<Vec<HistoryEntry>, StoreError> {
        let id = id.clone();
        self.run("history", move |db, config| {
            let now = config.now();
            let txn = db.begin_read()?;
            let history = txn.open_table(HISTORY)?;
            let mut entries = Vec::new();
            // Every position starts with the prefix, and '$' follows its trailing '#'.
            let end = format!("{}$", HISTORY_PREFIX.trim_end_matches('#'));
            for row in history.range((id.as_str(), HISTORY_PREFIX)..(id.as_str(), end.as_str()))? {
                let (_, value) = row?;
                let stored: StoredEntry = tables::decode("history entry", value.value())?;
                if is_live(Some(stored.expires_at), now) {
                    entries.push(stored.entry);
                }
            }
            Ok(entries)
        })
        .await
    }

    async fn append_history(&self, id: &RelaisRequestId, entry: &HistoryEntry) -> Result<(), StoreError> {
        let (id, entry) = (id.clone(), entry.clone());
        self.run("append history", move |db, config| {
            let txn = db.begin_write()?;
            writes::append_history(&txn, config, &id, &entry)?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn claim(
        &self,
        key: &IdempotencyKey,
        owner: &ClaimToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<ClaimOutcome, StoreError> {
        if let Some((done, _)) = self.read_inline("claim", |db, _| writes::done_answer(db, key, now))? {
            return Ok(ClaimOutcome::Done(done));
        }
        let (key, owner) = (key.clone(), owner.clone());
        self.run("claim", move |db, config| {
            let txn = db.begin_write()?;
            let outcome = writes::claim(&txn, config, &key, &owner, now, lease)?;
            if writes::claimed(&outcome) {
                txn.commit()?;
            } else {
                txn.abort()?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn begin(&self, begin: Begin<'_>) -> Result<Begun, StoreError> {
        // A done key (a replay) is answered from this one read transaction.
        let done = self.read_inline("begin", |db, config| {
            let Some((done, txn)) = writes::done_answer(db, begin.key, begin.now)? else { return Ok(None) };
            let open_queue = if begin.open_queue {
                Some(tables::open_queued(&txn.open_table(OUTBOX)?, begin.request.as_str(), config.now())?)
            } else {
                None
            };
            Ok(Some(Begun { claim: ClaimOutcome::Done(done), record: None, open_queue, patron_known: None }))
        })?;
        if let Some(begun) = done {
            return Ok(begun);
        }
        let owned = writes::OwnedBegin::from(begin);
        self.run("begin", move |db, config| writes::begin_claim(db, config, &owned)).await
    }

    async fn record_replay(
        &self,
        key: &IdempotencyKey,
        request: &RelaisRequestId,
        entry: &HistoryEntry,
    ) -> Result<bool, StoreError> {
        let (key, request, entry) = (key.clone(), request.clone(), entry.clone());
        self.run("record replay", move |db, config| {
            let txn = db.begin_write()?;
            let recorded = writes::record_replay(&txn, config, &key, &request, &entry)?;
            if recorded {
                txn.commit()?;
            } else {
                txn.abort()?;
            }
            Ok(recorded)
        })
        .await
    }

    async fn commit(&self, commit: Commit<'_>) -> Result<CommitOutcome, StoreError> {
        let owned = writes::OwnedCommit::from(commit);
        self.run("commit", move |db, config| {
            let txn = db.begin_write()?;
            let outcome = writes::commit(&txn, config, &owned)?;
            // Nothing may be written unless the whole commit holds.
            if matches!(outcome, CommitOutcome::Committed { .. }) {
                txn.commit()?;
            } else {
                txn.abort()?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn release(&self, key: &IdempotencyKey, owner: &ClaimToken) -> Result<(), StoreError> {
        let (key, owner) = (key.clone(), owner.clone());
        self.run("release", move |db, _| {
            let txn = db.begin_write()?;
            writes::release(&txn, &key, &owner)?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn put_discovery(&self, id: &str, citation: &serde_json::Value, now: Timestamp) -> Result<(), StoreError> {
        crate::check_discovery_id(id)?;
        let (id, citation) = (id.to_owned(), citation.clone());
        let purge_due = self.purge_due(now);
        self.run("put discovery", move |db, config| {
            let stored =
                StoredCitation { citation, expires_at: crate::config::expiry_after(now, config.discovery_ttl) };
            let bytes = tables::encode("citation", &stored)?;
            let txn = db.begin_write()?;
            txn.open_table(DISCOVERY)?.insert(id.as_str(), bytes.as_slice())?;
            txn.commit()?;
            if purge_due {
                writes::purge_expired(db, now)?;
            }
            Ok(())
        })
        .await
    }

    async fn get_discovery(&self, id: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
        crate::check_discovery_id(id)?;
        let id = id.to_owned();
        self.run("get discovery", move |db, _| {
            let txn = db.begin_read()?;
            let table = txn.open_table(DISCOVERY)?;
            let stored: Option<StoredCitation> = tables::read(&table, "citation", &id)?;
            Ok(stored.filter(|s| is_live(Some(s.expires_at), now)).map(|s| s.citation))
        })
        .await
    }

    async fn count_attempt(&self, key: &AttemptKey, rule: AttemptRule, now: Timestamp) -> Result<Attempt, StoreError> {
        let key = key.clone();
        self.run("count attempt", move |db, _| {
            let txn = db.begin_write()?;
            let outcome = {
                let mut table = txn.open_table(ATTEMPTS)?;
                let stored: Option<StoredAttempts> = tables::read(&table, "attempt count", key.as_str())?;
                let live = stored.filter(|s| is_live(Some(s.expires_at), now));
                let locked = live.as_ref().and_then(|s| s.not_before).filter(|nb| *nb > now.as_second());
                if let Some(until) = locked {
                    Attempt::Refused { until: Timestamp::from_second(until).unwrap_or(Timestamp::MAX) }
                } else {
                    let count = live.map_or(0, |s| s.count).saturating_add(1);
                    let not_before =
                        rule.lock_for(count).map(|lock| now.saturating_add(lock).unwrap_or(Timestamp::MAX));
                    let next = StoredAttempts {
                        count,
                        expires_at: rule.expiry(now, not_before).as_second(),
                        not_before: not_before.map(Timestamp::as_second),
                    };
                    table.insert(key.as_str(), tables::encode("attempt count", &next)?.as_slice())?;
                    Attempt::Counted(count)
                }
            };
            txn.commit()?;
            Ok(outcome)
        })
        .await
    }

    async fn attempts(&self, key: &AttemptKey, now: Timestamp) -> Result<Option<AttemptCount>, StoreError> {
        let key = key.clone();
        self.run("attempts", move |db, _| {
            let txn = db.begin_read()?;
            let table = txn.open_table(ATTEMPTS)?;
            let stored: Option<StoredAttempts> = tables::read(&table, "attempt count", key.as_str())?;
            let at = |second: i64| Timestamp::from_second(second).unwrap_or(Timestamp::MAX);
            Ok(stored.filter(|s| is_live(Some(s.expires_at), now)).map(|s| AttemptCount {
                count: s.count,
                expires_at: at(s.expires_at),
                locked_until: s.not_before.filter(|nb| *nb > now.as_second()).map(at),
            }))
        })
        .await
    }

    async fn has_marker(&self, marker: &str) -> Result<bool, StoreError> {
        crate::check_marker(marker)?;
        let marker = marker.to_owned();
        self.run("has marker", move |db, _| {
            let txn = db.begin_read()?;
            Ok(txn.open_table(MARKERS)?.get(marker.as_str())?.is_some())
        })
        .await
    }

    async fn record_marker(&self, marker: &str, now: Timestamp) -> Result<(), StoreError> {
        crate::check_marker(marker)?;
        let marker = marker.to_owned();
        self.run("record marker", move |db, _| {
            let txn = db.begin_write()?;
            {
                let mut table = txn.open_table(MARKERS)?;
                if table.get(marker.as_str())?.is_none() {
                    table.insert(marker.as_str(), now.to_string().as_str())?;
                }
            }
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn clear_attempts(&self, key: &AttemptKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.run("clear attempts", move |db, _| {
            let txn = db.begin_write()?;
            txn.open_table(ATTEMPTS)?.remove(key.as_str())?;
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn remember_patron(&self, key: &PatronKey, expires_at: Timestamp) -> Result<(), StoreError> {
        self.put_patron(key, expires_at).await
    }

    async fn knows_patron(&self, key: &PatronKey, now: Timestamp) -> Result<bool, StoreError> {
        self.get_patron(key, now).await
    }

    async fn enqueue(&self, enqueue: Enqueue<'_>) -> Result<EnqueueOutcome, StoreError> {
        let owned = writes::OwnedEnqueue::from(enqueue);
        self.run("enqueue", move |db, config| {
            let txn = db.begin_write()?;
            let outcome = writes::enqueue(&txn, config, &owned)?;
            if outcome == EnqueueOutcome::Queued {
                txn.commit()?;
            } else {
                txn.abort()?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn queued_for(&self, id: &RelaisRequestId) -> Result<Vec<QueuedMessage>, StoreError> {
        let id = id.clone();
        self.run("queued for", move |db, config| {
            let txn = db.begin_read()?;
            tables::queued_of(&txn.open_table(OUTBOX)?, id.as_str(), config.now())
        })
        .await
    }

    async fn open_queue(&self, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        self.run("open queue", move |db, _| {
            let txn = db.begin_read()?;
            let index = txn.open_table(OPEN_QUEUE)?;
            let outbox = txn.open_table(OUTBOX)?;
            let mut messages = Vec::new();
            for row in index.iter()?.take(limit) {
                let (id, request) = row?;
                if let Some(stored) = writes::read_queued(&outbox, request.value(), id.value())? {
                    messages.push(stored.message);
                }
            }
            Ok(messages)
        })
        .await
    }

    async fn open_queue_after(&self, after: &str, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        let after = after.to_owned();
        self.run("open queue after", move |db, _| {
            let txn = db.begin_read()?;
            let index = txn.open_table(OPEN_QUEUE)?;
            let outbox = txn.open_table(OUTBOX)?;
            let mut messages = Vec::new();
            let from = (std::ops::Bound::Excluded(after.as_str()), std::ops::Bound::Unbounded);
            for row in index.range::<&str>(from)?.take(limit) {
                let (id, request) = row?;
                if let Some(stored) = writes::read_queued(&outbox, request.value(), id.value())? {
                    messages.push(stored.message);
                }
            }
            Ok(messages)
        })
        .await
    }

    async fn open_count(&self) -> Result<u64, StoreError> {
        self.run("open count", move |db, _| {
            let txn = db.begin_read()?;
            Ok(txn.open_table(OPEN_QUEUE)?.len()?)
        })
        .await
    }

    async fn open_message(&self, id: &str) -> Result<Option<QueuedMessage>, StoreError> {
        let id = id.to_owned();
        self.run("open message", move |db, _| {
            let txn = db.begin_read()?;
            let index = txn.open_table(OPEN_QUEUE)?;
            let Some(request) = index.get(id.as_str())?.map(|r| r.value().to_owned()) else { return Ok(None) };
            let outbox = txn.open_table(OUTBOX)?;
            Ok(writes::read_queued(&outbox, &request, &id)?.map(|stored| stored.message))
        })
        .await
    }

    async fn update_queued(
        &self,
        message: &QueuedMessage,
        expected: QueueState,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let message = message.clone();
        self.run("update queued", move |db, config| {
            let txn = db.begin_write()?;
            let current = {
                let outbox = txn.open_table(OUTBOX)?;
                writes::read_queued(&outbox, message.request.as_str(), &message.id)?
            };
            if current.is_none_or(|stored| stored.message.state != expected || !is_live(stored.expires_at, now)) {
                txn.abort()?;
                return Ok(false);
            }
            writes::put_queued(&txn, config, &message, now)?;
            txn.commit()?;
            Ok(true)
        })
        .await
    }

    async fn open_for_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<QueuedMessage>, StoreError> {
        let barcode = barcode.clone();
        self.run("open for barcode", move |db, _| {
            let txn = db.begin_read()?;
            let barcodes = txn.open_multimap_table(OPEN_BARCODES)?;
            let index = txn.open_table(OPEN_QUEUE)?;
            let outbox = txn.open_table(OUTBOX)?;
            let mut messages = Vec::new();
            // Values of a multimap come back sorted, and message ids sort in queueing order.
            for id in barcodes.get(barcode.as_str())? {
                let id = id?;
                let Some(request) = index.get(id.value())?.map(|r| r.value().to_owned()) else { continue };
                if let Some(stored) = writes::read_queued(&outbox, &request, id.value())? {
                    messages.push(stored.message);
                }
            }
            Ok(messages)
        })
        .await
    }

    async fn record_bulk(&self, action: &BulkAction) -> Result<(), StoreError> {
        let action = action.clone();
        self.run("record bulk", move |db, _| {
            let txn = db.begin_write()?;
            let recorded = {
                let mut bulk = txn.open_table(BULK)?;
                let fresh = bulk.get(action.id.as_str())?.is_none();
                if fresh {
                    let stored = StoredBulk { action: action.clone(), expires_at: None };
                    bulk.insert(action.id.as_str(), tables::encode("bulk action", &stored)?.as_slice())?;
                }
                fresh
            };
            if !recorded {
                txn.abort()?;
                let reason = "an action with that id is already recorded".into();
                return Err(StoreError::Corrupt { what: "bulk action", reason }.into());
            }
            txn.commit()?;
            Ok(())
        })
        .await
    }

    async fn bulk_actions(&self, limit: usize) -> Result<Vec<BulkAction>, StoreError> {
        self.run("bulk actions", move |db, config| {
            let now = config.now();
            let txn = db.begin_read()?;
            let bulk = txn.open_table(BULK)?;
            let mut actions = Vec::new();
            for row in bulk.iter()?.rev() {
                let (_, value) = row?;
                let stored: StoredBulk = tables::decode("bulk action", value.value())?;
                if is_live(stored.expires_at, now) {
                    actions.push(stored.action);
                }
                if actions.len() >= limit {
                    break;
                }
            }
            Ok(actions)
        })
        .await
    }

    async fn update_bulk(&self, action: &BulkAction, expected: Timestamp) -> Result<bool, StoreError> {
        let action = action.clone();
        self.run("update bulk", move |db, config| {
            let txn = db.begin_write()?;
            let current: Option<StoredBulk> = tables::read(&txn.open_table(BULK)?, "bulk action", &action.id)?;
            if current.is_none_or(|stored| stored.action.updated_at != expected) {
                txn.abort()?;
                return Ok(false);
            }
            let done = action.state == BulkState::Done;
            let expires_at = done.then(|| crate::config::expiry_after(action.updated_at, config.retention));
            let stored = StoredBulk { action: action.clone(), expires_at };
            txn.open_table(BULK)?.insert(action.id.as_str(), tables::encode("bulk action", &stored)?.as_slice())?;
            txn.commit()?;
            Ok(true)
        })
        .await
    }

    async fn follow_up(&self, id: &str) -> Result<Option<FollowUp>, StoreError> {
        let id = id.to_owned();
        self.run("follow-up", move |db, _| {
            let txn = db.begin_read()?;
            tables::read(&txn.open_table(FOLLOW_UPS)?, "follow-up", &id)
        })
        .await
    }

    async fn due_follow_ups(&self, now: Timestamp, limit: usize) -> Result<Vec<FollowUp>, StoreError> {
        self.run("due follow-ups", move |db, _| {
            let txn = db.begin_read()?;
            let mut due = Vec::new();
            for row in txn.open_table(FOLLOW_UPS)?.iter()? {
                let (_, value) = row?;
                let follow_up: FollowUp = tables::decode("follow-up", value.value())?;
                if follow_up.due_at <= now {
                    due.push(follow_up);
                }
            }
            due.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
            due.truncate(limit);
            Ok(due)
        })
        .await
    }

    async fn reschedule_follow_up(&self, follow_up: &FollowUp) -> Result<bool, StoreError> {
        let follow_up = follow_up.clone();
        self.run("reschedule follow-up", move |db, _| {
            let txn = db.begin_write()?;
            let there = {
                let mut table = txn.open_table(FOLLOW_UPS)?;
                let there = table.get(follow_up.id.as_str())?.is_some();
                if there {
                    table.insert(follow_up.id.as_str(), tables::encode("follow-up", &follow_up)?.as_slice())?;
                }
                there
            };
            txn.commit()?;
            Ok(there)
        })
        .await
    }

    async fn finish_follow_up(&self, finish: FinishFollowUp<'_>) -> Result<FinishOutcome, StoreError> {
        let id = finish.id.to_owned();
        let record = finish.record.map(|(record, version)| (record.clone(), version));
        let now = finish.now;
        self.run("finish follow-up", move |db, config| {
            let txn = db.begin_write()?;
            let outcome = writes::finish_follow_up(&txn, config, &id, record.as_ref().map(|(r, v)| (r, *v)), now)?;
            // Nothing may be written unless the whole change holds.
            if outcome == FinishOutcome::Finished {
                txn.commit()?;
            } else {
                txn.abort()?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn record_problem(&self, problem: &crate::AnsweredProblem) -> Result<(), StoreError> {
        let problem = problem.clone();
        self.run("record problem", move |db, _| problems::record(db, &problem)).await
    }

    async fn problems_since(&self, since: Timestamp, limit: usize) -> Result<Vec<crate::AnsweredProblem>, StoreError> {
        self.run("problems since", move |db, config| problems::since(db, since, limit, config.now())).await
    }

    async fn records_after(
        &self,
        after: Option<&RelaisRequestId>,
        limit: usize,
    ) -> Result<Vec<Correlation>, StoreError> {
        let after = after.map(|a| a.as_str().to_owned());
        self.run("records after", move |db, config| reconcile::records_after(db, after.as_deref(), limit, config.now()))
            .await
    }

    async fn reconcile_doc(&self, name: &str) -> Result<Option<crate::ReconcileDoc>, StoreError> {
        crate::reconcile::check_doc_name(name)?;
        let name = name.to_owned();
        self.run("reconcile doc", move |db, config| reconcile::doc(db, &name, config.now())).await
    }

    async fn put_reconcile_doc(
        &self,
        name: &str,
        body: &serde_json::Value,
        expected: Option<u64>,
        expires_at: Option<Timestamp>,
    ) -> Result<bool, StoreError> {
        crate::reconcile::check_doc_name(name)?;
        let (name, body) = (name.to_owned(), body.clone());
        self.run("put reconcile doc", move |db, config| {
            reconcile::put_doc(db, &name, body, expected, expires_at, config.now())
        })
        .await
    }

    async fn record_alma_ids(
        &self,
        id: &RelaisRequestId,
        alma: &crate::AlmaIds,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        let (id, alma) = (id.clone(), alma.clone());
        self.run("record alma ids", move |db, config| {
            reconcile::record_alma_ids(db, &id, &alma, expected_version, config.now())
        })
        .await
    }
}

/// Counts rows across tables; used by tests of the purge through [`EmbeddedStore::row_count`].
fn count_rows(db: &Database) -> Result<u64, Failure> {
    let txn = db.begin_read()?;
    let mut rows = txn.open_table(REQUESTS)?.len()?;
    rows += txn.open_multimap_table(BARCODES)?.len()?;
    rows += txn.open_table(HISTORY)?.len()?;
    rows += txn.open_table(CLAIMS)?.len()?;
    rows += txn.open_table(RESPONSES)?.len()?;
    rows += txn.open_table(DISCOVERY)?.len()?;
    rows += txn.open_table(ATTEMPTS)?.len()?;
    rows += txn.open_table(MARKERS)?.len()?;
    rows += txn.open_table(OUTBOX)?.len()?;
    rows += txn.open_table(OPEN_QUEUE)?.len()?;
    rows += txn.open_multimap_table(OPEN_BARCODES)?.len()?;
    rows += txn.open_table(BULK)?.len()?;
    rows += txn.open_table(FOLLOW_UPS)?.len()?;
    rows += txn.open_table(problems::PROBLEMS)?.len()?;
    Ok(rows)
}

impl EmbeddedStore {
    /// How many rows the file holds across all tables, expired or not (reads hide expired ones, so this is
    /// the only way to see what a purge removed).
    pub async fn row_count(&self) -> Result<u64, StoreError> {
        self.run("count rows", |db, _| count_rows(db)).await
    }
}
