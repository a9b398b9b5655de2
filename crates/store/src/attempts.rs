//! Counting secret checks, so that PIN guessing can be slowed across every instance of the bridge.
//!
//! The bridge counts password checks per patron and per calling endpoint under an [`AttemptKey`]. Once a
//! count reaches its [`AttemptRule::limit`], the key is locked until a stated time ("not before"), and each
//! further counted attempt after a lock doubles the next one: locks grow with repeated failures without anyone
//! being made to wait inside a request (a sleeping check would let a guesser hold every instance). A count
//! lives until `keep` after the last attempt it counted or the end of its lock, whichever is later, so it is
//! in the store (DynamoDB TTL, the embedded store's purge) only while it matters.
//!
//! Keys are keyed hashes made by the caller (it holds the key), never the identifier itself: the type
//! accepts nothing but 64 lowercase hex digits, so a raw barcode or user id cannot reach a table key.

use std::fmt;

/// What an attempt count is about: one patron, or one calling agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptScope {
    /// One patron's PIN, whoever tries it: guessing one patron's PIN from many agencies is still slowed.
    Patron,
    /// One caller (the bridge keys it by the NCIP endpoint token it came through), whichever patrons it
    /// tries: a caller trying many patrons is slowed too.
    Agency,
}

impl AttemptScope {
    fn tag(self) -> &'static str {
        match self {
            AttemptScope::Patron => "P",
            AttemptScope::Agency => "A",
        }
    }
}

/// The key of one attempt count: its scope and a keyed hash (HMAC-SHA-256, hex) of the identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttemptKey(String);

impl AttemptKey {
    /// `digest` must be a SHA-256-sized keyed hash in lowercase hex; anything else is refused, so that an
    /// identifier in the clear can never become a key.
    pub fn new(scope: AttemptScope, digest: &str) -> Option<AttemptKey> {
        let is_digest = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        is_digest.then(|| AttemptKey(format!("{}#{digest}", scope.tag())))
    }

    /// `P#<hex>` or `A#<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttemptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How one kind of count locks: after `limit` counted attempts the key is locked for `lock`, doubled for each
/// attempt counted after that (up to [`MAX_LOCK`]); the count is forgotten `keep` after its last attempt or
/// the end of its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRule {
    /// Attempts counted before the key locks; `u32::MAX` never locks (a plain count).
    pub limit: u32,
    /// The first lock's length.
    pub lock: std::time::Duration,
    /// How long a count outlives its last attempt, or its lock.
    pub keep: std::time::Duration,
}

/// The longest lock: a day. Doubling past it would lock a patron out for good after a few dozen guesses.
pub const MAX_LOCK: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl AttemptRule {
    /// The lock set when the count reaches `count` (none below the limit).
    pub fn lock_for(&self, count: u32) -> Option<std::time::Duration> {
        let over = count.checked_sub(self.limit)?;
        // 2^over, saturating well before the cap (2^17 of anything above a second is past a day).
        let factor = 1u32.checked_shl(over.min(17)).unwrap_or(u32::MAX);
        Some(self.lock.saturating_mul(factor).min(MAX_LOCK.max(self.lock)))
    }

    /// When a count last touched at `now`, locked until `not_before`, may be forgotten (epoch seconds).
    pub fn expiry(&self, now: jiff::Timestamp, not_before: Option<jiff::Timestamp>) -> jiff::Timestamp {
        let from = not_before.map_or(now, |nb| nb.max(now));
        from.saturating_add(self.keep).unwrap_or(jiff::Timestamp::MAX)
    }
}

/// What [`crate::Store::count_attempt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt was counted; the count is now this.
    Counted(u32),
    /// The key is locked until this instant: nothing changed, and the check must not be made.
    Refused {
        /// The lock's end: the first instant a check may be made again.
        until: jiff::Timestamp,
    },
}

/// A live count, as [`crate::Store::attempts`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts counted.
    pub count: u32,
    /// When the count will be forgotten.
    pub expires_at: jiff::Timestamp,
    /// The end of its lock, when one is in force.
    pub locked_until: Option<jiff::Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn locks_start_at_the_limit_and_double_up_to_a_day() {
        let rule = AttemptRule { limit: 5, lock: Duration::from_secs(900), keep: Duration::from_secs(900) };
        assert_eq!(rule.lock_for(4), None);
        assert_eq!(rule.lock_for(5), Some(Duration::from_secs(900)));
        assert_eq!(rule.lock_for(6), Some(Duration::from_secs(1800)));
        assert_eq!(rule.lock_for(7), Some(Duration::from_secs(3600)));
        assert_eq!(rule.lock_for(40), Some(MAX_LOCK));
        assert_eq!(rule.lock_for(u32::MAX), Some(MAX_LOCK));
        let plain = AttemptRule { limit: u32::MAX, ..rule };
        assert_eq!(plain.lock_for(u32::MAX - 1), None);
    }

    #[test]
    fn only_a_hex_digest_makes_a_key() {
        let digest = "0123456789abcdef".repeat(4);
        assert_eq!(AttemptKey::new(AttemptScope::Patron, &digest).unwrap().as_str(), format!("P#{digest}"));
        assert_eq!(AttemptKey::new(AttemptScope::Agency, &digest).unwrap().as_str(), format!("A#{digest}"));
        for raw in ["21000000001", "", &"0123456789ABCDEF".repeat(4), &format!("{digest}0"), &"g".repeat(64)] {
            assert_eq!(AttemptKey::new(AttemptScope::Patron, raw), None, "{raw:?}");
        }
    }
}
