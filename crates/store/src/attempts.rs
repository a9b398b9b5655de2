//! Counting secret checks, so that PIN guessing can be slowed across every instance of the bridge.
//!
//! The bridge counts password checks per patron and per calling agency under an [`AttemptKey`]; once a
//! count reaches its limit, further checks are refused without asking Alma until the count expires. A count
//! lives until `keep` after the last attempt it counted, so it is in the store (DynamoDB TTL, the embedded
//! store's purge) only while it matters.
//!
//! Keys are keyed hashes made by the caller (it holds the key), never the identifier itself: the type
//! accepts nothing but 64 lowercase hex digits, so a raw barcode or user id cannot reach a table key.

use std::fmt;

/// What an attempt count is about: one patron, or one calling agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptScope {
    /// One patron's PIN, whoever tries it: guessing one patron's PIN from many agencies is still slowed.
    Patron,
    /// One calling agency, whichever patrons it tries: an agency trying many patrons is slowed too.
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

/// What [`crate::Store::count_attempt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt was counted; the count is now this.
    Counted(u32),
    /// The count had already reached the limit: nothing changed, and the check must not be made.
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

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
