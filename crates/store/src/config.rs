//! Store settings and the expiry rule both implementations share.
//!
//! Expiry is written as an absolute `expires_at` (epoch seconds, the unit DynamoDB TTL wants) and enforced on
//! every read: no test server deletes expired items and real DynamoDB deletes them up to days late
//! (AWS: "Using time to live", items are deleted within a few days), so the attribute alone would let
//! expired records reappear.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long things are kept, and the clock reads use to hide what has expired.
#[derive(Clone)]
pub struct StoreConfig {
    /// How long a closed request (and each history entry, counted from its own time) is kept.
    pub retention: Duration,
    /// How long an idempotency record is kept; a message repeated after this is handled afresh. Relais gives up
    /// retrying long before the 30-day default.
    pub idempotency_retention: Duration,
    /// How long an OpenURL citation waits for the patron to come back from authentication.
    pub discovery_ttl: Duration,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            retention: 400 * DAY,
            idempotency_retention: 30 * DAY,
            discovery_ttl: Duration::from_secs(30 * 60),
            clock: Arc::new(Timestamp::now),
        }
    }
}

impl StoreConfig {
    /// Replaces the system clock used by the reads that take no `now` (`get_request`, `find_by_barcode`,
    /// `history`) to decide what has expired. The core passes its own `Clock` here so that a simulated time
    /// applies to expiry too.
    pub fn with_clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// `expires_at` for a correlation record written at `now`: only closed requests age out.
    pub(crate) fn record_expiry(&self, closed: bool, now: Timestamp) -> Option<i64> {
        closed.then(|| expiry_after(now, self.retention))
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("retention", &self.retention)
            .field("idempotency_retention", &self.idempotency_retention)
            .field("discovery_ttl", &self.discovery_ttl)
            .finish_non_exhaustive()
    }
}

/// Epoch second at which something written at `start` and kept for `keep` expires.
pub(crate) fn expiry_after(start: Timestamp, keep: Duration) -> i64 {
    start.saturating_add(keep).unwrap_or(Timestamp::MAX).as_second()
}

/// Whether an item with this `expires_at` is still readable at `now`. It is gone from the expiry second on,
/// which is also when DynamoDB becomes free to delete it.
pub(crate) fn is_live(expires_at: Option<i64>, now: Timestamp) -> bool {
    expires_at.is_none_or(|at| at > now.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_from_the_expiry_second_on() {
        let now = Timestamp::from_second(1_000).unwrap();
        assert!(is_live(None, now));
        assert!(is_live(Some(1_001), now));
        assert!(!is_live(Some(1_000), now));
    }

    #[test]
    fn only_closed_records_get_an_expiry() {
        let config = StoreConfig::default();
        let now = Timestamp::from_second(1_000).unwrap();
        assert_eq!(config.record_expiry(false, now), None);
        assert_eq!(config.record_expiry(true, now), Some(1_000 + 400 * 86_400));
    }
}
