//! The store of a function deployed without one: the NCIP front door, which only checks a message and
//! hands it to its service's function. Its IAM role has no access to the table, so a DynamoDB client there
//! would be dead weight in every cold start (the SDK's endpoint rules) and in the binary (docs/benchmarks.md).
//! Every call is refused as DynamoDB itself would refuse it without permission; nothing in
//! the front door's routes makes one.

use async_trait::async_trait;
use jiff::Timestamp;
use std::time::Duration;

use crate::store::{
    Attempt, AttemptCount, AttemptKey, AttemptRule, BulkAction, ClaimOutcome, ClaimToken, Commit, CommitOutcome,
    Correlation, Enqueue, EnqueueOutcome, HistoryEntry, IdempotencyKey, ItemBarcode, PatronKey, QueueState,
    QueuedMessage, RelaisRequestId, Store, StoreError,
};

/// See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStore;

/// The code a refusal carries, as `AccessDeniedException` would name DynamoDB's.
const NO_TABLE: &str = "NoTableForThisFunction";

fn refused<T>(operation: &'static str) -> Result<T, StoreError> {
    Err(StoreError::Refused { operation, code: NO_TABLE.to_owned() })
}

#[async_trait]
impl Store for NoStore {
    async fn get_request(&self, _: &RelaisRequestId) -> Result<Option<Correlation>, StoreError> {
        refused("get_request")
    }
    async fn find_by_barcode(&self, _: &ItemBarcode) -> Result<Vec<Correlation>, StoreError> {
        refused("find_by_barcode")
    }
    async fn history(&self, _: &RelaisRequestId) -> Result<Vec<HistoryEntry>, StoreError> {
        refused("history")
    }
    async fn append_history(&self, _: &RelaisRequestId, _: &HistoryEntry) -> Result<(), StoreError> {
        refused("append_history")
    }
    async fn claim(
        &self,
        _: &IdempotencyKey,
        _: &ClaimToken,
        _: Timestamp,
        _: Duration,
    ) -> Result<ClaimOutcome, StoreError> {
        refused("claim")
    }
    async fn commit(&self, _: Commit<'_>) -> Result<CommitOutcome, StoreError> {
        refused("commit")
    }
    async fn release(&self, _: &IdempotencyKey, _: &ClaimToken) -> Result<(), StoreError> {
        refused("release")
    }
    async fn put_discovery(&self, _: &str, _: &serde_json::Value, _: Timestamp) -> Result<(), StoreError> {
        refused("put_discovery")
    }
    async fn get_discovery(&self, _: &str, _: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
        refused("get_discovery")
    }
    async fn count_attempt(&self, _: &AttemptKey, _: AttemptRule, _: Timestamp) -> Result<Attempt, StoreError> {
        refused("count_attempt")
    }
    async fn attempts(&self, _: &AttemptKey, _: Timestamp) -> Result<Option<AttemptCount>, StoreError> {
        refused("attempts")
    }
    async fn clear_attempts(&self, _: &AttemptKey) -> Result<(), StoreError> {
        refused("clear_attempts")
    }
    async fn remember_patron(&self, _: &PatronKey, _: Timestamp) -> Result<(), StoreError> {
        refused("remember_patron")
    }
    async fn knows_patron(&self, _: &PatronKey, _: Timestamp) -> Result<bool, StoreError> {
        refused("knows_patron")
    }
    async fn enqueue(&self, _: Enqueue<'_>) -> Result<EnqueueOutcome, StoreError> {
        refused("enqueue")
    }
    async fn queued_for(&self, _: &RelaisRequestId) -> Result<Vec<QueuedMessage>, StoreError> {
        refused("queued_for")
    }
    async fn open_queue(&self, _: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        refused("open_queue")
    }
    async fn open_message(&self, _: &str) -> Result<Option<QueuedMessage>, StoreError> {
        refused("open_message")
    }
    async fn update_queued(&self, _: &QueuedMessage, _: QueueState, _: Timestamp) -> Result<bool, StoreError> {
        refused("update_queued")
    }
    async fn open_queue_after(&self, _: &str, _: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        refused("open_queue_after")
    }
    async fn open_count(&self) -> Result<u64, StoreError> {
        refused("open_count")
    }
    async fn open_for_barcode(&self, _: &ItemBarcode) -> Result<Vec<QueuedMessage>, StoreError> {
        refused("open_for_barcode")
    }
    async fn record_bulk(&self, _: &BulkAction) -> Result<(), StoreError> {
        refused("record_bulk")
    }
    async fn bulk_actions(&self, _: usize) -> Result<Vec<BulkAction>, StoreError> {
        refused("bulk_actions")
    }
    async fn update_bulk(&self, _: &BulkAction, _: Timestamp) -> Result<bool, StoreError> {
        refused("update_bulk")
    }
    async fn has_marker(&self, _: &str) -> Result<bool, StoreError> {
        refused("has_marker")
    }
    async fn record_marker(&self, _: &str, _: Timestamp) -> Result<(), StoreError> {
        refused("record_marker")
    }
}
