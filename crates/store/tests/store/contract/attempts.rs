//! Contract scenarios for attempt counts: the store side of slowing PIN guessing. Every instance of the bridge
//! counts in the same store, so a guesser cannot get past the limit by spreading checks across instances.

use std::sync::Arc;
use std::time::Duration;

use bridge_store::{Attempt, AttemptKey, AttemptRule, AttemptScope, StoreConfig};
use tokio::sync::Barrier;

use super::*;

const KEEP: Duration = Duration::from_secs(15 * 60);

/// `limit` attempts, then a lock of `KEEP` that doubles, forgotten `KEEP` after the last attempt or lock.
fn rule(limit: u32) -> AttemptRule {
    AttemptRule { limit, lock: KEEP, keep: KEEP }
}

/// The store keeps whole seconds, as DynamoDB's TTL does.
fn second(seconds: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(after(seconds).as_second()).unwrap()
}

fn locked(seconds: i64) -> Attempt {
    Attempt::Refused { until: second(seconds) }
}

async fn count(h: &Harness, key: &AttemptKey, at: jiff::Timestamp) -> u32 {
    h.store.attempts(key, at).await.unwrap().map_or(0, |c| c.count)
}

pub fn attempt_key(scope: AttemptScope, seed: char) -> AttemptKey {
    let digest: String = std::iter::repeat_n(seed, 64).collect();
    AttemptKey::new(scope, &digest).unwrap()
}

pub async fn attempts_are_counted_up_to_the_limit_then_refused(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let patron = attempt_key(AttemptScope::Patron, 'a');
    let keep = KEEP.as_secs() as i64;
    assert_eq!(count(&h, &patron, t0()).await, 0);
    for n in 1..=3 {
        assert_eq!(h.store.count_attempt(&patron, rule(3), after(i64::from(n))).await.unwrap(), Attempt::Counted(n));
    }
    // The third attempt locked the key from its own instant.
    assert_eq!(h.store.count_attempt(&patron, rule(3), after(4)).await.unwrap(), locked(3 + keep));
    assert_eq!(count(&h, &patron, after(4)).await, 3, "a refused attempt is not counted");
    let read = h.store.attempts(&patron, after(4)).await.unwrap().unwrap();
    assert_eq!((read.locked_until, read.expires_at), (Some(second(3 + keep)), second(3 + 2 * keep)));
    // Same digest, other scope; and another patron: separate counts.
    let agency = attempt_key(AttemptScope::Agency, 'a');
    assert_eq!(count(&h, &agency, after(4)).await, 0);
    assert_eq!(h.store.count_attempt(&agency, rule(3), after(4)).await.unwrap(), Attempt::Counted(1));
    let other = attempt_key(AttemptScope::Patron, 'b');
    assert_eq!(h.store.count_attempt(&other, rule(3), after(4)).await.unwrap(), Attempt::Counted(1));
}

pub async fn locks_grow_with_each_attempt_after_one_and_are_forgotten_after_keep(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let patron = attempt_key(AttemptScope::Patron, 'c');
    let keep = KEEP.as_secs() as i64;
    h.store.count_attempt(&patron, rule(2), t0()).await.unwrap();
    assert_eq!(h.store.count_attempt(&patron, rule(2), after(60)).await.unwrap(), Attempt::Counted(2));
    // Refused attempts do not push the end out.
    assert_eq!(h.store.count_attempt(&patron, rule(2), after(600)).await.unwrap(), locked(60 + keep));
    assert_eq!(h.store.count_attempt(&patron, rule(2), after(60 + keep - 1)).await.unwrap(), locked(60 + keep));
    // At the lock's end one more attempt is counted, and locks for twice as long.
    let third = 60 + keep;
    assert_eq!(h.store.count_attempt(&patron, rule(2), after(third)).await.unwrap(), Attempt::Counted(3));
    assert_eq!(h.store.count_attempt(&patron, rule(2), after(third + 1)).await.unwrap(), locked(third + 2 * keep));
    // Forgotten `keep` after the lock's end: the next attempt starts a new count.
    let forgotten = third + 3 * keep;
    assert_eq!(count(&h, &patron, after(forgotten - 1)).await, 3);
    assert_eq!(count(&h, &patron, after(forgotten)).await, 0);
    assert_eq!(h.store.count_attempt(&patron, rule(2), after(forgotten)).await.unwrap(), Attempt::Counted(1));
}

pub async fn clearing_attempts_starts_the_count_again(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let patron = attempt_key(AttemptScope::Patron, 'd');
    h.store.clear_attempts(&patron).await.unwrap(); // nothing to clear is fine
    h.store.count_attempt(&patron, rule(2), t0()).await.unwrap();
    h.store.count_attempt(&patron, rule(2), t0()).await.unwrap();
    assert!(matches!(h.store.count_attempt(&patron, rule(2), t0()).await.unwrap(), Attempt::Refused { .. }));
    h.store.clear_attempts(&patron).await.unwrap();
    assert_eq!(count(&h, &patron, t0()).await, 0);
    assert_eq!(h.store.count_attempt(&patron, rule(2), t0()).await.unwrap(), Attempt::Counted(1));
}

pub async fn fifty_concurrent_attempts_count_no_more_than_the_limit(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let patron = attempt_key(AttemptScope::Patron, 'e');
    let start = Arc::new(Barrier::new(50));
    let mut racers = Vec::new();
    for _ in 0..50 {
        let (store, key, start) = (Arc::clone(&h.store), patron.clone(), Arc::clone(&start));
        racers.push(tokio::spawn(async move {
            start.wait().await;
            store.count_attempt(&key, rule(5), t0()).await.unwrap()
        }));
    }
    let mut counted = Vec::new();
    for racer in racers {
        if let Attempt::Counted(n) = racer.await.unwrap() {
            counted.push(n);
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, vec![1, 2, 3, 4, 5]);
    assert_eq!(count(&h, &patron, t0()).await, 5);
}
