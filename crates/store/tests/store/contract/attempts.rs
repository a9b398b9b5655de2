//! Contract scenarios for attempt counts: the store side of slowing PIN guessing. Every instance of the bridge
//! counts in the same store, so a guesser cannot get past the limit by spreading checks across instances.

use std::sync::Arc;
use std::time::Duration;

use bridge_store::{Attempt, AttemptKey, AttemptScope, StoreConfig};
use tokio::sync::Barrier;

use super::*;

const KEEP: Duration = Duration::from_secs(15 * 60);

pub fn attempt_key(scope: AttemptScope, seed: char) -> AttemptKey {
    let digest: String = std::iter::repeat_n(seed, 64).collect();
    AttemptKey::new(scope, &digest).unwrap()
}

pub async fn attempts_are_counted_up_to_the_limit_then_refused(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let patron = attempt_key(AttemptScope::Patron, 'a');
    assert_eq!(h.store.attempts(&patron, t0()).await.unwrap(), 0);
    for n in 1..=3 {
        assert_eq!(h.store.count_attempt(&patron, 3, after(i64::from(n)), KEEP).await.unwrap(), Attempt::Counted(n));
    }
    assert_eq!(h.store.count_attempt(&patron, 3, after(4), KEEP).await.unwrap(), Attempt::Refused);
    assert_eq!(h.store.attempts(&patron, after(4)).await.unwrap(), 3, "a refused attempt is not counted");
    // Same digest, other scope; and another patron: separate counts.
    let agency = attempt_key(AttemptScope::Agency, 'a');
    assert_eq!(h.store.attempts(&agency, after(4)).await.unwrap(), 0);
    assert_eq!(h.store.count_attempt(&agency, 3, after(4), KEEP).await.unwrap(), Attempt::Counted(1));
    let other = attempt_key(AttemptScope::Patron, 'b');
    assert_eq!(h.store.count_attempt(&other, 3, after(4), KEEP).await.unwrap(), Attempt::Counted(1));
    // A limit of 0 counts nothing.
    assert_eq!(h.store.count_attempt(&other, 0, after(4), KEEP).await.unwrap(), Attempt::Refused);
}

pub async fn attempt_count_lives_keep_after_the_last_counted_attempt(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let patron = attempt_key(AttemptScope::Patron, 'c');
    let keep = KEEP.as_secs() as i64;
    h.store.count_attempt(&patron, 2, t0(), KEEP).await.unwrap();
    assert_eq!(h.store.count_attempt(&patron, 2, after(60), KEEP).await.unwrap(), Attempt::Counted(2));
    // Refused attempts do not push the end out.
    assert_eq!(h.store.count_attempt(&patron, 2, after(600), KEEP).await.unwrap(), Attempt::Refused);
    assert_eq!(h.store.attempts(&patron, after(60 + keep - 1)).await.unwrap(), 2);
    assert_eq!(h.store.count_attempt(&patron, 2, after(60 + keep - 1), KEEP).await.unwrap(), Attempt::Refused);
    assert_eq!(h.store.attempts(&patron, after(60 + keep)).await.unwrap(), 0, "expired with the last attempt's keep");
    assert_eq!(h.store.count_attempt(&patron, 2, after(60 + keep), KEEP).await.unwrap(), Attempt::Counted(1));
}

pub async fn clearing_attempts_starts_the_count_again(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, _) = fresh(open).await;
    let patron = attempt_key(AttemptScope::Patron, 'd');
    h.store.clear_attempts(&patron).await.unwrap(); // nothing to clear is fine
    h.store.count_attempt(&patron, 2, t0(), KEEP).await.unwrap();
    h.store.count_attempt(&patron, 2, t0(), KEEP).await.unwrap();
    assert_eq!(h.store.count_attempt(&patron, 2, t0(), KEEP).await.unwrap(), Attempt::Refused);
    h.store.clear_attempts(&patron).await.unwrap();
    assert_eq!(h.store.attempts(&patron, t0()).await.unwrap(), 0);
    assert_eq!(h.store.count_attempt(&patron, 2, t0(), KEEP).await.unwrap(), Attempt::Counted(1));
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
            store.count_attempt(&key, 5, t0(), KEEP).await.unwrap()
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
    assert_eq!(h.store.attempts(&patron, t0()).await.unwrap(), 5);
}
