//! The bridge's idea of "now", behind a trait so tests can move time (claim leases, expiry) without sleeping.

use jiff::Timestamp;
use std::sync::Mutex;

/// Where every flow reads the time (leases, due dates, a patron's standing), so that tests can choose it.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// Wall-clock time, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that starts at wall-clock time and moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    offset: Mutex<jiff::SignedDuration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self { offset: Mutex::new(jiff::SignedDuration::ZERO) }
    }
}

impl ManualClock {
    /// Moves this clock `by` ahead of wall-clock time (on top of earlier moves), e.g. past a claim's lease.
    pub fn advance(&self, by: std::time::Duration) {
        let mut offset = self.offset.lock().expect("clock lock");
        *offset += jiff::SignedDuration::try_from(by).expect("duration fits");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let offset = *self.offset.lock().expect("clock lock");
        Timestamp::now() + offset
    }
}
