//! A process-wide pacer that keeps Alma calls under its per-second threshold.
//!
//! Alma answers HTTP 429 `PER_SECOND_THRESHOLD` above 25 calls per second per institution. Spacing calls at
//! least `1/rate` seconds apart means no calendar second can hold more than `rate` calls, whatever the burst
//! from Relais; callers wait their turn (within their deadline) instead of being refused.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Limiter {
    interval: Duration,
    next_slot: Mutex<Instant>,
}

/// The caller's deadline passes before its turn would come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoSlotBeforeDeadline;

impl Limiter {
    pub fn per_second(rate: u32) -> Self {
        Self { interval: Duration::from_secs(1) / rate.max(1), next_slot: Mutex::new(Instant::now()) }
    }

    /// Waits for the next free slot; refuses at once (taking no slot) if it would come after `deadline`.
    pub async fn acquire(&self, deadline: Instant) -> Result<(), NoSlotBeforeDeadline> {
        let slot = {
            let mut next = self.next_slot.lock().await;
            let slot = (*next).max(Instant::now());
            if slot > deadline {
                return Err(NoSlotBeforeDeadline);
            }
            *next = slot + self.interval;
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
        for second in 0..4u64 {
            let window = Duration::from_secs(second)..Duration::from_secs(second + 1);
            let count = times.iter().filter(|t| window.contains(*t)).count();
            assert!(count <= 25, "second {second} had {count} calls");
        }
        assert_eq!(times.len(), 100);
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
}
