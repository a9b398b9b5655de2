//! Alma's API governance: a per-second threshold per API key and a daily cap per institution.
//!
//! Alma allows 25 calls per second (Ex Libris "REST API Governance Thresholds") and answers
//! more with HTTP 429 `PER_SECOND_THRESHOLD`; the daily cap is 1,000 calls per named user, counted down
//! in `X-Exl-Api-Remaining` on every answer ("requests left until midnight", Ex Libris developer blog
//! "New header in API response: X-Exl-Api-Remaining").
//!
//! Only REST calls count: the NCIP responder (`/view/NCIPServlet`) is served by the institution's Alma
//! host, not by the API gateway that enforces these thresholds.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::civil::Date;

/// The verdict for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Admitted { remaining: u64 },
    PerSecond { remaining: u64 },
    Daily,
}

#[derive(Debug)]
struct Inner {
    windows: HashMap<String, VecDeque<Instant>>,
    day: Date,
    used_today: u64,
}

#[derive(Debug)]
pub(crate) struct Limiter {
    per_second: u32,
    daily_limit: u64,
    inner: Mutex<Inner>,
}

fn today() -> Date {
    jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date()
}

impl Limiter {
    pub(crate) fn new(per_second: u32, daily_limit: u64) -> Limiter {
        Limiter {
            per_second,
            daily_limit,
            inner: Mutex::new(Inner { windows: HashMap::new(), day: today(), used_today: 0 }),
        }
    }

    /// Counts one call by `key`. Calls refused for the per-second threshold do not use up the window or
    /// the daily cap, so a client that backs off recovers within a second.
    pub(crate) fn admit(&self, key: &str) -> Admission {
        self.admit_at(key, Instant::now())
    }

    fn admit_at(&self, key: &str, now: Instant) -> Admission {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let day = today();
        if inner.day != day {
            inner.day = day;
            inner.used_today = 0;
        }
        if inner.used_today >= self.daily_limit {
            return Admission::Daily;
        }
        let remaining_before = self.daily_limit - inner.used_today;
        let window = inner.windows.entry(key.to_owned()).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            window.pop_front();
        }
        if window.len() >= self.per_second as usize {
            return Admission::PerSecond { remaining: remaining_before };
        }
        window.push_back(now);
        inner.used_today += 1;
        Admission::Admitted { remaining: remaining_before - 1 }
    }

    /// What `X-Exl-Api-Remaining` says without counting a call (answers refused before counting).
    pub(crate) fn remaining(&self) -> u64 {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        self.daily_limit.saturating_sub(inner.used_today)
    }

    pub(crate) fn reset(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.windows.clear();
        inner.used_today = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_above_threshold_within_one_second_and_recovers_after() {
        let l = Limiter::new(3, 100);
        let t0 = Instant::now();
        for n in 0..3 {
            assert_eq!(l.admit_at("k", t0), Admission::Admitted { remaining: 99 - n });
        }
        assert_eq!(l.admit_at("k", t0), Admission::PerSecond { remaining: 97 });
        // Another key has its own window.
        assert!(matches!(l.admit_at("other", t0), Admission::Admitted { .. }));
        assert!(matches!(l.admit_at("k", t0 + Duration::from_millis(1000)), Admission::Admitted { .. }));
    }

    #[test]
    fn daily_cap_counts_down_and_then_refuses() {
        let l = Limiter::new(100, 2);
        let t0 = Instant::now();
        assert_eq!(l.admit_at("k", t0), Admission::Admitted { remaining: 1 });
        assert_eq!(l.admit_at("k", t0), Admission::Admitted { remaining: 0 });
        assert_eq!(l.admit_at("k", t0), Admission::Daily);
        assert_eq!(l.remaining(), 0);
    }
}
