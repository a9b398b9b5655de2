//! A process-wide pacer that keeps Alma calls under its per-second threshold.
//!
//! Alma answers HTTP 429 `PER_SECOND_THRESHOLD` above 25 calls per second per institution. The pacer grants a
//! call at once while fewer than `rate` calls were granted in the last second, and otherwise gives it the
//! moment one window (a second and a margin) after the `rate`-th most recent grant: no one-second window,
//! calendar or sliding, ever holds more than `rate` calls, and a message's few calls on an idle bridge never wait. Callers wait their
//! turn (within their deadline) instead of being refused.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// One second plus a margin: a grant is not an arrival. Requests granted exactly one second apart can reach
/// Alma closer together (scheduling, connection set-up), and Alma counts arrivals.
const WINDOW: Duration = Duration::from_millis(1_200);

/// The pacer every Alma client of a process shares: Alma counts the REST and NCIP calls of one institution
/// together.
#[derive(Debug)]
pub struct Limiter {
    rate: usize,
    /// The last `rate` grant times, oldest first (grants are handed out in non-decreasing order).
    granted: Mutex<VecDeque<Instant>>,
}

/// The caller's deadline passes before its turn would come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSlotBeforeDeadline;

impl Limiter {
    /// A pacer granting at most `rate` calls in any window (a rate of zero counts as one).
    pub fn per_second(rate: u32) -> Self {
        let rate = rate.max(1) as usize;
        Self { rate, granted: Mutex::new(VecDeque::with_capacity(rate)) }
    }

    /// Waits for the next free slot; refuses at once (taking no slot) if it would come after `deadline`.
    pub async fn acquire(&self, deadline: Instant) -> Result<(), NoSlotBeforeDeadline> {
        let slot = {
            let mut granted = self.granted.lock().await;
            let mut slot = Instant::now();
            if let Some(&latest) = granted.back() {
                slot = slot.max(latest);
            }
            if granted.len() == self.rate {
                slot = slot.max(granted[0] + WINDOW);
            }
            if slot > deadline {
                return Err(NoSlotBeforeDeadline);
            }
            if granted.len() == self.rate {
                granted.pop_front();
            }
            granted.push_back(slot);
            slot
        };
        tokio::time::sleep_until(slot).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_spread_so_no_second_exceeds_the_rate() {
        let limiter = std::sync::Arc::new(Limiter::per_second(25));
        let start = Instant::now();
        let far = start + Duration::from_secs(60);
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                limiter.acquire(far).await.unwrap();
                Instant::now().duration_since(start)
            }));
        }
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        // Every one-second window starting at a call (the worst case of any window) holds at most 25.
        for &from in &times {
            let window = from..from + WINDOW;
            let count = times.iter().filter(|t| window.contains(*t)).count();
            assert!(count <= 25, "the second from {from:?} had {count} calls");
        }
        assert_eq!(times.len(), 100);
        assert_eq!(times.iter().max(), Some(&(WINDOW * 3)), "the burst is not spread more than needed");
    }

    #[tokio::test(start_paused = true)]
    async fn refuses_without_taking_a_slot_when_the_deadline_is_too_close() {
        let limiter = Limiter::per_second(1);
        let now = Instant::now();
        limiter.acquire(now + Duration::from_secs(5)).await.unwrap();
        assert_eq!(limiter.acquire(Instant::now() + Duration::from_millis(10)).await, Err(NoSlotBeforeDeadline));
        // The refused caller did not push the queue back.
        assert!(limiter.acquire(Instant::now() + Duration::from_secs(2)).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bridge_makes_a_messages_few_calls_without_waiting() {
        let limiter = Limiter::per_second(25);
        let start = Instant::now();
        for _ in 0..7 {
            limiter.acquire(start + Duration::from_secs(10)).await.unwrap();
        }
        assert_eq!(Instant::now(), start, "seven calls fit in an empty window");
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_could_only_go_after_its_deadline_is_refused_at_once() {
        let limiter = Limiter::per_second(2);
        let start = Instant::now();
        limiter.acquire(start).await.unwrap();
        limiter.acquire(start).await.unwrap();
        assert_eq!(limiter.acquire(start + Duration::from_millis(500)).await, Err(NoSlotBeforeDeadline));
        assert_eq!(Instant::now(), start, "the refusal does not wait");
        limiter.acquire(start + Duration::from_secs(2)).await.unwrap();
        assert_eq!(Instant::now(), start + WINDOW);
    }
}
