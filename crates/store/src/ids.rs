//! Identifiers the store keys on, as newtypes so a barcode can never be passed where a request id is meant.
//!
//! Every identifier is checked once, when it is built: non-empty, at most [`MAX_ID_BYTES`] bytes and free of
//! control characters. The limit keeps every DynamoDB key well under its 1 KiB sort-key / 2 KiB partition-key
//! ceilings even after the item-type prefix, and control characters have no business in a Relais or Alma id.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest identifier accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// Why a string was refused as an identifier. Carries the kind of identifier, never the offending text,
/// because ids such as patron barcodes are personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidId {
    /// Empty: Relais and Alma never send an empty id, and a key needs something to key on.
    #[error("{kind} is empty")]
    Empty {
        /// Which identifier, e.g. "item barcode".
        kind: &'static str,
    },
    /// Longer than [`MAX_ID_BYTES`].
    #[error("{kind} is {len} bytes long, more than the {MAX_ID_BYTES} allowed")]
    TooLong {
        /// Which identifier.
        kind: &'static str,
        /// Its length in bytes (the length alone reveals nothing about a patron).
        len: usize,
    },
    /// Holds a control character, which no Relais or Alma id has.
    #[error("{kind} contains a control character")]
    ControlCharacter {
        /// Which identifier.
        kind: &'static str,
    },
    /// A stored idempotency key that is not what [`IdempotencyKey::derive`] makes.
    #[error("an idempotency key is 64 lowercase hex digits")]
    NotAKey,
}

pub(crate) fn check_id(kind: &'static str, value: &str) -> Result<(), InvalidId> {
    if value.is_empty() {
        return Err(InvalidId::Empty { kind });
    }
    if value.len() > MAX_ID_BYTES {
        return Err(InvalidId::TooLong { kind, len: value.len() });
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidId::ControlCharacter { kind });
    }
    Ok(())
}

macro_rules! checked_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks and wraps the identifier.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                check_id($kind, &value)?;
                Ok(Self(value))
            }

            /// The identifier as Relais or Alma wrote it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_id!(
    /// Relais's request number (NCIP `RequestId/RequestIdentifierValue`): the key of a correlation record.
    RelaisRequestId,
    "Relais request id"
);
checked_id!(
    /// An item barcode as carried in NCIP `ItemId/ItemIdentifierValue`; Relais may put its request number here.
    ItemBarcode,
    "item barcode"
);
checked_id!(
    /// The Alma primary id or barcode the bridge used for the patron. Never a name or an e-mail address.
    PatronId,
    "patron id"
);
checked_id!(
    /// The Alma NCIP partner code (the `ApplicationProfileType` Relais sends); case sensitive, like Alma's.
    PartnerCode,
    "partner code"
);
checked_id!(
    /// Who holds an idempotency claim: one value per delivery attempt, minted by the caller (for example the
    /// Lambda request id), so that a commit or release from a superseded attempt is recognised as such.
    ClaimToken,
    "claim token"
);

/// The de-duplication key of one NCIP message: SHA-256 over the parts that identify it, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl TryFrom<String> for IdempotencyKey {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, InvalidId> {
        Self::from_hex(&value).ok_or(InvalidId::NotAKey)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> String {
        key.0
    }
}

impl IdempotencyKey {
    /// Derives the key from what makes a message "the same message again".
    ///
    /// Each part is written with a presence tag and a length prefix before hashing, so that moving bytes from
    /// one part to the next (`"AB" + "C"` against `"A" + "BC"`), or an absent part against an empty one, can
    /// never produce the same key. The leading label versions the scheme: changing the parts changes it.
    pub fn derive(
        message_type: &str,
        request_id: Option<&RelaisRequestId>,
        item_id: Option<&ItemBarcode>,
        content_digest_input: &[u8],
    ) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"alma-relais-bridge/idempotency/v1");
        let parts = [
            Some(message_type.as_bytes()),
            request_id.map(|id| id.as_str().as_bytes()),
            item_id.map(|id| id.as_str().as_bytes()),
            Some(content_digest_input),
        ];
        for part in parts {
            match part {
                None => hasher.update([0u8]),
                Some(bytes) => {
                    hasher.update([1u8]);
                    hasher.update((bytes.len() as u64).to_be_bytes());
                    hasher.update(bytes);
                }
            }
        }
        Self(to_hex(&hasher.finalize()))
    }

    /// Accepts a key previously produced by [`IdempotencyKey::derive`] (64 lowercase hex digits).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let well_formed = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then(|| Self(hex.to_owned()))
    }

    /// The 64 hex digits, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: &str) -> RelaisRequestId {
        RelaisRequestId::new(id).unwrap()
    }

    fn item(id: &str) -> ItemBarcode {
        ItemBarcode::new(id).unwrap()
    }

    #[test]
    fn same_message_gives_same_key_as_64_hex_digits() {
        let a = IdempotencyKey::derive("AcceptItem", Some(&req("R1")), Some(&item("B1")), b"body");
        let b = IdempotencyKey::derive("AcceptItem", Some(&req("R1")), Some(&item("B1")), b"body");
        assert_eq!(a, b);
        assert_eq!(IdempotencyKey::from_hex(a.as_str()), Some(a.clone()));
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn known_vector_pins_the_derivation() {
        // Pinned so that a change to the scheme (which would re-run every in-flight message once) is deliberate.
        let key = IdempotencyKey::derive("CheckInItem", None, Some(&item("39001")), b"");
        let mut hasher = Sha256::new();
        hasher.update(b"alma-relais-bridge/idempotency/v1");
        hasher.update([1u8]);
        hasher.update(11u64.to_be_bytes());
        hasher.update(b"CheckInItem");
        hasher.update([0u8]);
        hasher.update([1u8]);
        hasher.update(5u64.to_be_bytes());
        hasher.update(b"39001");
        hasher.update([1u8]);
        hasher.update(0u64.to_be_bytes());
        assert_eq!(key.as_str(), to_hex(&hasher.finalize()));
    }

    #[test]
    fn parts_cannot_bleed_into_each_other() {
        let shifted_a = IdempotencyKey::derive("AcceptItem", Some(&req("AB")), Some(&item("C")), b"");
        let shifted_b = IdempotencyKey::derive("AcceptItem", Some(&req("A")), Some(&item("BC")), b"");
        assert_ne!(shifted_a, shifted_b);
        let absent = IdempotencyKey::derive("CheckInItem", None, Some(&item("B")), b"");
        let other_message = IdempotencyKey::derive("CheckOutItem", None, Some(&item("B")), b"");
        assert_ne!(absent, other_message);
        let different_content = IdempotencyKey::derive("CheckInItem", None, Some(&item("B")), b"x");
        assert_ne!(absent, different_content);
    }

    #[test]
    fn ids_refuse_empty_long_and_control_text_without_echoing_it() {
        assert_eq!(PatronId::new(""), Err(InvalidId::Empty { kind: "patron id" }));
        let long = "x".repeat(MAX_ID_BYTES + 1);
        assert!(matches!(ItemBarcode::new(long), Err(InvalidId::TooLong { .. })));
        let err = RelaisRequestId::new("R1\n").unwrap_err();
        assert_eq!(err, InvalidId::ControlCharacter { kind: "Relais request id" });
        assert!(!err.to_string().contains("R1"));
        assert!(serde_json::from_str::<PatronId>("\"\"").is_err());
    }

    #[test]
    fn from_hex_refuses_anything_but_a_digest() {
        assert!(IdempotencyKey::from_hex("abc").is_none());
        assert!(IdempotencyKey::from_hex(&"G".repeat(64)).is_none());
        assert!(IdempotencyKey::from_hex(&"A".repeat(64)).is_none());
    }
}
