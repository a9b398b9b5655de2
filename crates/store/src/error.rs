//! Why a store call failed. Outcomes that are part of the protocol (a claim held elsewhere, a version
//! conflict, a lost claim) are not errors: they are `ClaimOutcome` / `CommitOutcome` values.
//!
//! Messages name the operation and an error code, never a key or an attribute value: DynamoDB's own messages
//! can quote the item, and items hold patron ids.

/// A store call that did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// DynamoDB kept throttling after the SDK's standard retries.
    #[error("DynamoDB throttled {operation} beyond the SDK's retries ({code})")]
    Throttled {
        /// The DynamoDB call, e.g. "TransactWriteItems".
        operation: &'static str,
        /// DynamoDB's error code, e.g. "ProvisionedThroughputExceededException".
        code: String,
    },
    /// DynamoDB could not be reached or did not answer (timeout, connection, 5xx).
    #[error("DynamoDB did not answer {operation}: {cause}")]
    Unavailable {
        /// The DynamoDB call.
        operation: &'static str,
        /// What went wrong, in a few words (e.g. "timed out").
        cause: &'static str,
    },
    /// DynamoDB refused the call: usually configuration (table missing, no permission, schema mismatch).
    #[error("DynamoDB refused {operation} with {code}")]
    Refused {
        /// The DynamoDB call.
        operation: &'static str,
        /// DynamoDB's error code, e.g. "ResourceNotFoundException".
        code: String,
    },
    /// Concurrent writers kept colliding on the same items (DynamoDB `TransactionConflict`, or a claim that
    /// changed under every attempt); retrying the message later is safe.
    #[error("{operation} kept colliding with concurrent writers")]
    Contention {
        /// The store call that gave up.
        operation: &'static str,
    },
    /// The embedded database file failed.
    #[error("the embedded store failed during {operation}: {source}")]
    Embedded {
        /// The store call, e.g. "commit".
        operation: &'static str,
        /// Boxed rather than `redb::Error`: the error's drop glue reaches redb's transaction code, so naming
        /// the type here linked the whole embedded database into every Lambda function.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored item did not decode: a bug, or data written by an incompatible version.
    #[error("a stored {what} could not be decoded: {reason}")]
    Corrupt {
        /// What was stored, e.g. "history entry".
        what: &'static str,
        /// Where decoding failed, without the stored value (it may hold personal data).
        reason: String,
    },
    /// The record cannot be written in one transaction (DynamoDB allows 100 items).
    #[error("a correlation record with {barcodes} barcodes is more than one transaction can hold")]
    TooManyBarcodes {
        /// How many barcodes the record lists.
        barcodes: usize,
    },
    /// A discovery id that is empty, too long or holds control characters.
    #[error("invalid discovery id: {0}")]
    InvalidDiscoveryId(#[source] crate::ids::InvalidId),
    /// A follow-up id that is empty, too long or holds control characters.
    #[error("invalid follow-up id: {0}")]
    InvalidFollowUpId(#[source] crate::ids::InvalidId),
    /// A marker name that is empty, too long or holds control characters.
    #[error("invalid marker: {0}")]
    InvalidMarker(#[source] crate::ids::InvalidId),
    /// The blocking task running an embedded-store call panicked or was cancelled.
    #[error("the embedded store task for {operation} did not finish")]
    TaskFailed {
        /// The store call.
        operation: &'static str,
    },
}

impl StoreError {
    /// Whether sending the same message again later may succeed: the bridge answers those with NCIP's
    /// "Temporary Processing Failure" instead of a permanent Problem.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. } | Self::Unavailable { .. } | Self::Contention { .. } | Self::TaskFailed { .. }
        )
    }

    /// A decode failure, described by its category and position only: serde_json's own message quotes
    /// the offending value.
    pub(crate) fn corrupt(what: &'static str, error: &serde_json::Error) -> Self {
        Self::Corrupt {
            what,
            reason: format!("{:?} error at line {} column {}", error.classify(), error.line(), error.column()),
        }
    }
}
