//! One log line a minute for the refusals anonymous callers cause (a missing or wrong NCIP token, a
//! connection over the local server's cap), with how many there were, instead of one line per refusal: a
//! caller without the token could otherwise grow the log as fast as it could send.
//!
//! The first refusal is logged at once, so a Relais left on an old secret shows up immediately; later ones
//! are counted, and the next line, at least a minute after the last, carries the count since it. The
//! `refused` field is what template.yaml's `RefusedNcipTokens` metric filter sums.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The shortest time between two summary lines of one kind.
pub const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// The refusals of one kind since its last summary line.
#[derive(Debug, Default)]
pub struct RefusalSummary {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last_line: Option<Instant>,
    since_last_line: u64,
}

impl RefusalSummary {
    /// Counts one refusal at `now`; `Some(n)` when a summary line is due, `n` being the refusals it reports
    /// (this one included).
    pub fn count(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.since_last_line += 1;
        let due = state.last_line.is_none_or(|last| now.saturating_duration_since(last) >= SUMMARY_INTERVAL);
        if !due {
            return None;
        }
        state.last_line = Some(now);
        Some(std::mem::take(&mut state.since_last_line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_refusal_is_reported_at_once_then_at_most_one_line_a_minute_with_the_count() {
        let summary = RefusalSummary::default();
        let start = Instant::now();
        assert_eq!(summary.count(start), Some(1));
        for second in 1..60 {
            assert_eq!(summary.count(start + Duration::from_secs(second)), None, "{second}");
        }
        // The line a minute after the last reports the 59 kept quiet and this one.
        assert_eq!(summary.count(start + SUMMARY_INTERVAL), Some(60));
        assert_eq!(summary.count(start + SUMMARY_INTERVAL + Duration::from_secs(1)), None);
        assert_eq!(summary.count(start + Duration::from_secs(600)), Some(2), "a quiet spell, then one line");
    }
}
