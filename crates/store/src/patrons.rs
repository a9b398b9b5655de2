//! Patron ids the bridge has answered itself, remembered so that they are not translated again.
//!
//! LookupUser answers a patron by the id of the Alma partner's User Identifier Type (its "Primary Key"), and
//! Relais sends that id back in AcceptItem. An id the bridge answered is already the type Alma matches, so
//! reading the user again to translate it is a wasted round trip and a call from the daily API quota. The
//! store keeps only a keyed hash of the id (the caller holds the key), for a limited time, and nothing else
//! about the patron.

use std::fmt;

/// The key of one remembered patron id: a keyed hash (HMAC-SHA-256, hex) of the id within its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PatronKey(String);

impl PatronKey {
    /// `digest` must be a SHA-256-sized keyed hash in lowercase hex; anything else is refused, so that an id in
    /// the clear can never become a key.
    pub fn new(digest: &str) -> Option<PatronKey> {
        let is_digest = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        is_digest.then(|| PatronKey(digest.to_owned()))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PatronKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_hex_digest_makes_a_key() {
        let digest = "a".repeat(64);
        assert_eq!(PatronKey::new(&digest).map(|k| k.to_string()), Some(digest));
        for refused in ["P-1001", "", &"A".repeat(64), &"a".repeat(63), &"g".repeat(64)] {
            assert_eq!(PatronKey::new(refused), None, "{refused:?}");
        }
    }
}
