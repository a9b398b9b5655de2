//! The local server's nightly reconciliation: one background task that sleeps until
//! `RECONCILE_LOCAL_TIME` in `LIBRARY_TIME_ZONE` and runs the reconciler once, within the same call budget and
//! time cap as the `reconcile` function on AWS. Staff can also run it at once with `POST /reconcile`.

use bridge::Bridge;
use bridge::flows::reconcile::{self, Limits};
use jiff::Timestamp;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Starts the task, unless `RECONCILE_LOCAL_TIME=off`.
pub fn spawn(bridge: Arc<Bridge>) -> Option<JoinHandle<()>> {
    let at = bridge.settings().reconcile.local_time?;
    Some(tokio::spawn(async move {
        loop {
            let zone = bridge.settings().ncip.time_zone.clone();
            let wait = until_next(Timestamp::now(), at, &zone);
            tokio::time::sleep(wait).await;
            let settings = &bridge.settings().reconcile;
            reconcile::run(&bridge, Limits { budget: settings.call_budget, max_run: settings.max_run }).await;
        }
    }))
}

/// How long from `now` until the next `at` in `zone` (a day at most; a time a clock change skips is taken
/// as the instant after the gap, as jiff's compatible disambiguation does).
fn until_next(now: Timestamp, at: jiff::civil::Time, zone: &jiff::tz::TimeZone) -> std::time::Duration {
    let here = now.to_zoned(zone.clone());
    let today = here.date().to_datetime(at);
    let next = match today.to_zoned(zone.clone()) {
        Ok(t) if t.timestamp() > now => t.timestamp(),
        _ => today
            .date()
            .tomorrow()
            .ok()
            .and_then(|d| d.to_datetime(at).to_zoned(zone.clone()).ok())
            .map_or(now, |t| t.timestamp()),
    };
    std::time::Duration::try_from(next.duration_since(now)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_is_today_when_the_time_is_still_ahead_else_tomorrow() {
        let zone = jiff::tz::TimeZone::get("Australia/Sydney").unwrap();
        let at = jiff::civil::time(2, 30, 0, 0);
        // 01:00 in Sydney (UTC+11 in December): an hour and a half to go.
        let now: Timestamp = "2026-12-06T14:00:00Z".parse().unwrap();
        assert_eq!(until_next(now, at, &zone).as_secs(), 90 * 60);
        // 03:00 in Sydney: tomorrow's 02:30, 23 and a half hours on.
        let now: Timestamp = "2026-12-06T16:00:00Z".parse().unwrap();
        assert_eq!(until_next(now, at, &zone).as_secs(), (23 * 60 + 30) * 60);
    }
}
