//! Identifier values: scheme/value pairs, agency ids and the user/item/request ids.
//!
//! NCIP identifiers travel between systems that pad, indent or re-wrap them (III-style `g    ` agency
//! codes, pretty-printed JAXB output). Each identifier therefore keeps two readings: the trimmed and
//! whitespace-collapsed value the bridge matches on ([`Identifier::as_str`]) and the text exactly as
//! received ([`Identifier::original`]), which is what the writer echoes back (NCIP responders compare
//! echoed ids byte for byte; circill-toolkit's CheckOutItemResponse sample says so explicitly).

use std::borrow::Cow;
use std::fmt;

/// An NCIP `SchemeValuePair`: a value with an optional `Scheme` URI (NCIP 2.02 XSD `SchemeValuePair`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SchemeValue {
    /// The `Scheme` attribute, when the sender gave one.
    pub scheme: Option<String>,
    /// The element text.
    pub value: String,
}

impl SchemeValue {
    /// A value without a scheme.
    pub fn new(value: impl Into<String>) -> Self {
        Self { scheme: None, value: value.into() }
    }

    /// A value qualified by a scheme URI.
    pub fn with_scheme(scheme: impl Into<String>, value: impl Into<String>) -> Self {
        Self { scheme: Some(scheme.into()), value: value.into() }
    }
}

/// An identifier as received plus its normalised (trimmed, whitespace-collapsed) reading.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Identifier {
    /// Normalised value; equal to the original in the common case.
    value: String,
    /// The received text, kept only when it differs from `value`.
    original: Option<String>,
}

impl Identifier {
    /// Builds an identifier from received (or locally chosen) text.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        match normalise(&text) {
            Cow::Borrowed(_) => Self { value: text, original: None },
            Cow::Owned(value) => Self { value, original: Some(text) },
        }
    }

    /// The trimmed, whitespace-collapsed value: what the bridge matches and stores.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The text exactly as received: what the writer echoes.
    pub fn original(&self) -> &str {
        self.original.as_deref().unwrap_or(&self.value)
    }

    /// True when the normalised value is empty (an empty or blank element).
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.original {
            None => write!(f, "{:?}", self.value),
            Some(original) => write!(f, "{:?} (received {:?})", self.value, original),
        }
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl From<&str> for Identifier {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Identifier {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

/// Trims and collapses runs of whitespace to one space; borrows when nothing changes.
fn normalise(text: &str) -> Cow<'_, str> {
    if is_normal(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// One pass: no leading/trailing space, no whitespace other than single ASCII spaces.
fn is_normal(text: &str) -> bool {
    // The usual identifier (a barcode, a request number, an agency code) has no space at all: eight bytes a step.
    if crate::chars::is_spaceless_ascii(text) {
        return true;
    }
    let mut previous_space = true; // a space at the start is "after a space"
    let mut non_ascii = false;
    for b in text.bytes() {
        match b {
            b' ' if previous_space => return false,
            b' ' => previous_space = true,
            0..=0x1f => return false,
            0x80.. => {
                non_ascii = true;
                previous_space = false;
            }
            _ => previous_space = false,
        }
    }
    if previous_space && !text.is_empty() {
        return false;
    }
    !(non_ascii && text.chars().any(|c| !c.is_ascii() && c.is_whitespace()))
}

macro_rules! identifier_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub Identifier);

        impl $name {
            /// Builds the identifier from text (normalised reading plus the original).
            pub fn new(text: impl Into<String>) -> Self {
                Self(Identifier::new(text))
            }
            /// The normalised value.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
            /// The text exactly as received.
            pub fn original(&self) -> &str {
                self.0.original()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

identifier_newtype!(
    /// `UserIdentifierValue`: a patron barcode, primary key or (for lending) an institution symbol.
    UserIdentifier
);
identifier_newtype!(
    /// `ItemIdentifierValue`: an item barcode, or the Relais request number Relais uses as a barcode.
    ItemIdentifier
);
identifier_newtype!(
    /// `RequestIdentifierValue`: the Relais (or Alma) request number.
    RequestIdentifier
);

/// `AgencyId`: an agency code with its optional scheme. For Alma the `ToAgencyId` is the institution code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AgencyId {
    /// The `Scheme` attribute (NCIP 1 `UniqueAgencyId/Scheme` is read into it too).
    pub scheme: Option<String>,
    /// The agency code.
    pub id: Identifier,
}

impl AgencyId {
    /// An agency code without a scheme.
    pub fn new(code: impl Into<String>) -> Self {
        Self { scheme: None, id: Identifier::new(code) }
    }

    /// The normalised agency code.
    pub fn as_str(&self) -> &str {
        self.id.as_str()
    }
}

/// `UserId` (NCIP 2.02: AgencyId?, UserIdentifierType?, UserIdentifierValue).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct UserId {
    /// Agency that issued the identifier.
    pub agency_id: Option<AgencyId>,
    /// E.g. `Barcode`, `Primary Key`, `Institution Id Number`.
    pub user_identifier_type: Option<SchemeValue>,
    /// The identifier itself.
    pub user_identifier_value: UserIdentifier,
}

/// `ItemId` (NCIP 2.02: AgencyId?, ItemIdentifierType?, ItemIdentifierValue).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ItemId {
    /// Agency that owns the item.
    pub agency_id: Option<AgencyId>,
    /// E.g. `Barcode`, or circill's `ILL Request Id`.
    pub item_identifier_type: Option<SchemeValue>,
    /// The identifier itself.
    pub item_identifier_value: ItemIdentifier,
}

/// `RequestId` (NCIP 2.02: AgencyId?, RequestIdentifierType?, RequestIdentifierValue).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RequestId {
    /// Agency that issued the request number.
    pub agency_id: Option<AgencyId>,
    /// E.g. circill's `ILL Request Id`.
    pub request_identifier_type: Option<SchemeValue>,
    /// The request number.
    pub request_identifier_value: RequestIdentifier,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_agency_code_is_matched_trimmed_and_echoed_as_received() {
        let id = Identifier::new("g    ");
        assert_eq!(id.as_str(), "g");
        assert_eq!(id.original(), "g    ");
    }

    #[test]
    fn inner_whitespace_runs_collapse_to_one_space() {
        let id = Identifier::new(" Lehigh \n\t University ");
        assert_eq!(id.as_str(), "Lehigh University");
        assert_eq!(id.original(), " Lehigh \n\t University ");
    }

    #[test]
    fn clean_identifier_keeps_no_copy() {
        let id = Identifier::new("LEH-20191122954");
        assert_eq!(id.as_str(), id.original());
        assert!(id.original.is_none());
    }
}
