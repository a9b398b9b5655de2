//! The DynamoDB store: one table laid out as [`crate::schema`] describes.
//!
//! Throttling and transient failures are retried by the SDK's standard retry mode (the caller configures the
//! client); what reaches this module is either a condition failure, which becomes a typed outcome, or an
//! error mapped to [`StoreError`] by code only.

mod attempts;
mod bulk;
mod claims;
mod items;
mod patrons;
mod queue;
mod reads;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use jiff::Timestamp;

use crate::{
    Attempt, AttemptCount, AttemptKey, AttemptRule, BulkAction, ClaimOutcome, ClaimToken, Commit, CommitOutcome,
    Correlation, Enqueue, EnqueueOutcome, HistoryEntry, IdempotencyKey, ItemBarcode, PatronKey, QueueState,
    QueuedMessage, RelaisRequestId, Store, StoreConfig, StoreError,
};

/// The store on a DynamoDB table made by [`crate::create_table`] (or the equivalent `template.yaml`).
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    config: StoreConfig,
}

impl DynamoStore {
    /// The store with the default retention and TTLs, reading the system clock.
    pub fn new(client: Client, table: String) -> Self {
        Self::with_config(client, table, StoreConfig::default())
    }

    /// The store with the deployment's retention and TTLs (or a test's clock).
    pub fn with_config(client: Client, table: String, config: StoreConfig) -> Self {
        Self { client, table, config }
    }

    /// The name of the table this store reads and writes, as the deployment gave it.
    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Maps an SDK failure to a [`StoreError`] by its error code alone: DynamoDB messages can quote key values.
pub(crate) fn map_sdk_error<E, R>(operation: &'static str, error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata,
{
    let cause = match &error {
        SdkError::TimeoutError(_) => "timed out",
        SdkError::DispatchFailure(_) => "connection failed",
        SdkError::ResponseError(_) => "unreadable response",
        SdkError::ConstructionFailure(_) => {
            return StoreError::Refused { operation, code: "RequestConstruction".to_owned() };
        }
        SdkError::ServiceError(_) => {
            let code = error.code().unwrap_or("Unknown").to_owned();
            return match code.as_str() {
                "ThrottlingException" | "ProvisionedThroughputExceededException" | "RequestLimitExceeded" => {
                    StoreError::Throttled { operation, code }
                }
                "InternalServerError" | "ServiceUnavailable" => {
                    StoreError::Unavailable { operation, cause: "server error" }
                }
                _ => StoreError::Refused { operation, code },
            };
        }
        _ => "unknown failure",
    };
    StoreError::Unavailable { operation, cause }
}

/// Pause before another round after DynamoDB reported a transaction conflict; grows with the round so that
/// colliding writers spread out.
async fn back_off(round: u32) {
    tokio::time::sleep(Duration::from_millis(10 << round.min(6))).await;
}

#[async_trait]
impl Store for DynamoStore {
    async fn get_request(&self, id: &RelaisRequestId) -> Result<Option<Correlation>, StoreError> {
        reads::get_request(self, id).await
    }

    async fn find_by_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<Correlation>, StoreError> {
        reads::find_by_barcode(self, barcode).await
    }

    async fn history(&self, id: &RelaisRequestId) -> Result<Vec<HistoryEntry>, StoreError> {
        reads::history(self, id).await
    }

    async fn append_history(&self, id: &RelaisRequestId, entry: &HistoryEntry) -> Result<(), StoreError> {
        claims::append_history(self, id, entry).await
    }

    async fn claim(
        &self,
        key: &IdempotencyKey,
        owner: &ClaimToken,
        now: Timestamp,
        lease: Duration,
    ) -> Result<ClaimOutcome, StoreError> {
        claims::claim(self, key, owner, now, lease).await
    }

    async fn commit(&self, commit: Commit<'_>) -> Result<CommitOutcome, StoreError> {
        claims::commit(self, commit).await
    }

    async fn release(&self, key: &IdempotencyKey, owner: &ClaimToken) -> Result<(), StoreError> {
        claims::release(self, key, owner).await
    }

    async fn put_discovery(&self, id: &str, citation: &serde_json::Value, now: Timestamp) -> Result<(), StoreError> {
        reads::put_discovery(self, id, citation, now).await
    }

    async fn get_discovery(&self, id: &str, now: Timestamp) -> Result<Option<serde_json::Value>, StoreError> {
        reads::get_discovery(self, id, now).await
    }

    async fn count_attempt(&self, key: &AttemptKey, rule: AttemptRule, now: Timestamp) -> Result<Attempt, StoreError> {
        attempts::count_attempt(self, key, rule, now).await
    }

    async fn attempts(&self, key: &AttemptKey, now: Timestamp) -> Result<Option<AttemptCount>, StoreError> {
        attempts::attempts(self, key, now).await
    }

    async fn clear_attempts(&self, key: &AttemptKey) -> Result<(), StoreError> {
        attempts::clear_attempts(self, key).await
    }

    async fn remember_patron(&self, key: &PatronKey, expires_at: Timestamp) -> Result<(), StoreError> {
        patrons::remember_patron(self, key, expires_at).await
    }

    async fn knows_patron(&self, key: &PatronKey, now: Timestamp) -> Result<bool, StoreError> {
        patrons::knows_patron(self, key, now).await
    }

    async fn has_marker(&self, marker: &str) -> Result<bool, StoreError> {
        reads::has_marker(self, marker).await
    }

    async fn record_marker(&self, marker: &str, now: Timestamp) -> Result<(), StoreError> {
        reads::record_marker(self, marker, now).await
    }

    async fn enqueue(&self, enqueue: Enqueue<'_>) -> Result<EnqueueOutcome, StoreError> {
        queue::enqueue(self, enqueue).await
    }

    async fn queued_for(&self, id: &RelaisRequestId) -> Result<Vec<QueuedMessage>, StoreError> {
        queue::queued_for(self, id).await
    }

    async fn open_queue(&self, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        queue::open_queue(self, limit).await
    }

    async fn open_queue_after(&self, after: &str, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        queue::open_queue_after(self, after, limit).await
    }

    async fn open_count(&self) -> Result<u64, StoreError> {
        queue::open_count(self).await
    }

    async fn open_message(&self, id: &str) -> Result<Option<QueuedMessage>, StoreError> {
        queue::open_message(self, id).await
    }

    async fn update_queued(
        &self,
        message: &QueuedMessage,
        expected: QueueState,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        queue::update_queued(self, message, expected, now).await
    }

    async fn open_for_barcode(&self, barcode: &ItemBarcode) -> Result<Vec<QueuedMessage>, StoreError> {
        queue::open_for_barcode(self, barcode).await
    }

    async fn record_bulk(&self, action: &BulkAction) -> Result<(), StoreError> {
        bulk::record_bulk(self, action).await
    }

    async fn bulk_actions(&self, limit: usize) -> Result<Vec<BulkAction>, StoreError> {
        bulk::bulk_actions(self, limit).await
    }

    async fn update_bulk(&self, action: &BulkAction, expected: Timestamp) -> Result<bool, StoreError> {
        bulk::update_bulk(self, action, expected).await
    }
}
