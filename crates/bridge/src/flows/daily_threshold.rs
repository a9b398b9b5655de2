//! Alma's daily API threshold, respected across a process.
//!
//! Once Alma answers a REST call `429 DAILY_THRESHOLD`, every further REST call that day would be refused the
//! same way and still cost a round trip; the institution's other integrations share the same quota. So the
//! first such answer stops REST calls (patron translations, read-backs, lookups) until Alma's reset, and each
//! is refused at once with the same error, which the flows treat as an outage (queued, or Temporary
//! Processing Failure). NCIP forwards go on: they do not count against the REST quota.
//!
//! When Alma resets the count is not documented (UNCONFIRMED): the stop lasts until the next midnight UTC,
//! the later of the plausible readings for most regions, so the bridge never hammers a quota that is still used
//! up. A call after that tries again.

use crate::alma::model::{AlmaItem, AlmaUser, LendingRequest, LendingRequests, Loan, Partner, UserRequest};
use crate::alma::{AlmaError, AlmaRest, ApiArea, CallContext, ItemPath};
use crate::clock::Clock;
use async_trait::async_trait;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A REST client that stops calling Alma for the rest of the day once the daily threshold is reached.
pub struct DailyThresholdGate {
    inner: Arc<dyn AlmaRest>,
    clock: Arc<dyn Clock>,
    /// Seconds since the epoch until which no REST call is made (0: calls go through).
    stopped_until: AtomicI64,
}

impl DailyThresholdGate {
    /// `inner`'s calls, gated by the daily threshold as `clock` tells the time.
    pub fn new(inner: Arc<dyn AlmaRest>, clock: Arc<dyn Clock>) -> Self {
        Self { inner, clock, stopped_until: AtomicI64::new(0) }
    }

    fn open(&self) -> Result<(), AlmaError> {
        if self.clock.now().as_second() < self.stopped_until.load(Ordering::Relaxed) {
            return Err(AlmaError::DailyThreshold);
        }
        Ok(())
    }

    fn noted<T>(&self, result: Result<T, AlmaError>) -> Result<T, AlmaError> {
        if let Err(AlmaError::DailyThreshold) = &result {
            let until = next_utc_midnight(self.clock.now());
            if self.stopped_until.swap(until.as_second(), Ordering::Relaxed) < until.as_second() {
                tracing::error!(%until, "Alma's daily API threshold is used up: no REST call until then");
                crate::metrics::alma_daily_threshold();
            }
        }
        result
    }
}

/// The first instant of the next UTC day after `now`.
fn next_utc_midnight(now: Timestamp) -> Timestamp {
    let today = now.to_zoned(TimeZone::UTC).date();
    today.tomorrow().ok().and_then(|day| day.to_zoned(TimeZone::UTC).ok()).map_or(now, |midnight| midnight.timestamp())
}

#[async_trait]
impl AlmaRest for DailyThresholdGate {
    async fn user(&self, id: &str, id_type: &str, ctx: &CallContext) -> Result<AlmaUser, AlmaError> {
        self.open()?;
        self.noted(self.inner.user(id, id_type, ctx).await)
    }
    async fn authenticate(&self, id: &str, password: &str, ctx: &CallContext) -> Result<(), AlmaError> {
        self.open()?;
        self.noted(self.inner.authenticate(id, password, ctx).await)
    }
    async fn item_by_barcode(&self, barcode: &str, ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        self.open()?;
        self.noted(self.inner.item_by_barcode(barcode, ctx).await)
    }
    async fn user_requests(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        self.open()?;
        self.noted(self.inner.user_requests(user_id, ctx).await)
    }
    async fn user_loans(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        self.open()?;
        self.noted(self.inner.user_loans(user_id, ctx).await)
    }
    async fn item_requests(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        self.open()?;
        self.noted(self.inner.item_requests(item, ctx).await)
    }
    async fn item(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        self.open()?;
        self.noted(self.inner.item(item, ctx).await)
    }
    async fn item_loans(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        self.open()?;
        self.noted(self.inner.item_loans(item, ctx).await)
    }
    async fn lending_request(&self, partner: &str, id: &str, ctx: &CallContext) -> Result<LendingRequest, AlmaError> {
        self.open()?;
        self.noted(self.inner.lending_request(partner, id, ctx).await)
    }
    async fn partner(&self, code: &str, ctx: &CallContext) -> Result<Partner, AlmaError> {
        self.open()?;
        self.noted(self.inner.partner(code, ctx).await)
    }
    async fn search_users(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
        ctx: &CallContext,
    ) -> Result<crate::alma::model::UserSearch, AlmaError> {
        self.open()?;
        self.noted(self.inner.search_users(query, limit, offset, ctx).await)
    }
    async fn lending_requests(
        &self,
        library: &str,
        partner: &str,
        status: &str,
        ctx: &CallContext,
    ) -> Result<LendingRequests, AlmaError> {
        self.open()?;
        self.noted(self.inner.lending_requests(library, partner, status, ctx).await)
    }
    async fn test_api_key(&self, area: ApiArea, ctx: &CallContext) -> Result<String, AlmaError> {
        self.open()?;
        self.noted(self.inner.test_api_key(area, ctx).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_lasts_until_the_next_utc_midnight() {
        let now: Timestamp = "2026-12-06T23:30:00Z".parse().unwrap();
        assert_eq!(next_utc_midnight(now), "2026-12-07T00:00:00Z".parse::<Timestamp>().unwrap());
        let midnight: Timestamp = "2026-12-07T00:00:00Z".parse().unwrap();
        assert_eq!(next_utc_midnight(midnight), "2026-12-08T00:00:00Z".parse::<Timestamp>().unwrap());
    }
}
