//! What a LookupUser asks: which patron (one identifier), proven how (a PIN or password, when one is offered),
//! and which parts of the patron record to return.
//!
//! Clients identify the patron in two ways, often both at once: a `UserId`, and `AuthenticationInput`s that
//! carry an identifier ("Barcode Id", "User Id", FOLIO's "username") and/or a secret ("PIN", "Password").
//! The corpus has each shape: XC sends a barcode and a password, FOLIO a UserId plus a PIN, FOLIO's Relais
//! sample a username alone, Koha a UserId alone.

use std::fmt;

use crate::ncip::{LookupUser, Problem, SchemeValue};

/// A PIN or password offered for the patron. Never printed: `Debug` shows only that one was given.
pub(crate) struct Credential(String);

impl Credential {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

/// The parts of the patron record a client may ask for (`UserElementType`, NCIP's userelementtype scheme).
/// "Authentication Input", "Date Of Birth", "User Language" and "Previous User Id" are never answered: Relais
/// does not read them and the bridge does not hand out more than it needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Elements {
    pub name: bool,
    pub address: bool,
    pub privilege: bool,
    pub block_or_trap: bool,
    pub user_id: bool,
}

impl Elements {
    pub(crate) fn from_types(types: &[SchemeValue]) -> Self {
        let mut elements = Elements::default();
        for element_type in types {
            // Compared without case or spaces: vendors write "User Id", "User ID" and "UserId".
            let key: String =
                element_type.value.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
            match key.as_str() {
                "nameinformation" => elements.name = true,
                "useraddressinformation" => elements.address = true,
                "userprivilege" => elements.privilege = true,
                "blockortrap" => elements.block_or_trap = true,
                "userid" => elements.user_id = true,
                _ => {}
            }
        }
        elements
    }

    pub(crate) fn any(&self) -> bool {
        self.name || self.address || self.privilege || self.block_or_trap || self.user_id
    }
}

/// One LookupUser, read.
#[derive(Debug)]
pub(crate) struct PatronQuery {
    /// The identifier to find the patron by (trimmed), as Alma is asked for it.
    pub identifier: String,
    pub credential: Option<Credential>,
    pub elements: Elements,
    pub loans_desired: bool,
}

/// Why a LookupUser names no single patron.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// Neither a UserId nor an identifying AuthenticationInput.
    NoIdentifier,
    /// The UserId and an AuthenticationInput name different patrons: the secret cannot be said to belong to
    /// the patron asked about, so this is answered as a failed authentication.
    ConflictingIdentifiers,
    /// The identifier could not be a patron's: it holds a control character or whitespace, or is a dot
    /// segment (`.`, `..`). Sent to Alma it would name another resource (`..` made `GET /users/..` the
    /// list-users call, with the API key), so it is answered like an unknown patron without asking Alma. An
    /// id shaped like the bridge's own pseudonyms (`hmac:`) is refused alike, as every other message refuses it.
    UnusableIdentifier { identifier: String, secret_offered: bool },
}

impl QueryError {
    pub(crate) fn problem(&self) -> Problem {
        match self {
            QueryError::NoIdentifier => Problem::needed_data_missing(
                "UserId",
                "LookupUser needs a UserId or an AuthenticationInput that identifies the patron",
            ),
            QueryError::ConflictingIdentifiers | QueryError::UnusableIdentifier { .. } => {
                Problem::user_authentication_failed(&crate::ncip::ServiceKind::LookupUser)
            }
        }
    }
}

impl PatronQuery {
    pub(crate) fn read(message: &LookupUser) -> Result<PatronQuery, QueryError> {
        let mut credential = None;
        let mut identifiers: Vec<String> = Vec::new();
        if let Some(user) = &message.user_id {
            identifiers.push(user.user_identifier_value.as_str().to_owned());
        }
        for input in &message.authentication_inputs {
            if is_secret(&input.input_type) {
                // The first secret counts; Alma keeps one password per user.
                if credential.is_none() {
                    credential = Some(Credential(input.data.clone()));
                }
            } else {
                identifiers.push(input.data.trim().to_owned());
            }
        }
        identifiers.retain(|id| !id.is_empty());
        let Some(first) = identifiers.first().cloned() else {
            return Err(QueryError::NoIdentifier);
        };
        if identifiers.iter().any(|other| other != &first) {
            return Err(QueryError::ConflictingIdentifiers);
        }
        if !usable_identifier(&first) || crate::flows::ids::looks_like_pseudonym(&first) {
            return Err(QueryError::UnusableIdentifier { identifier: first, secret_offered: credential.is_some() });
        }
        Ok(PatronQuery {
            identifier: first,
            credential,
            elements: Elements::from_types(&message.user_element_types),
            loans_desired: message.loaned_items_desired,
        })
    }
}

/// Whether `id` can be sent to Alma as one patron identifier. Alma's identifiers (primary ids, barcodes,
/// university ids) hold neither whitespace nor control characters; a dot segment is a path, not an id.
pub(crate) fn usable_identifier(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && !id.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Longest PIN or password passed to Alma; anything longer is not a patron's secret.
const MAX_SECRET_BYTES: usize = 256;

/// Whether a PIN or password can be sent to Alma in the `Exl-User-Pw` header. A control character made the
/// header invalid, and the request failed only for patrons that exist (their check is the one that sends
/// it), which told a caller that the patron exists: such secrets are refused before any call.
pub(crate) fn usable_secret(secret: &str) -> bool {
    !secret.is_empty() && secret.len() <= MAX_SECRET_BYTES && !secret.chars().any(char::is_control)
}

/// `AuthenticationInputType` values that carry a secret: "PIN", "Password" and their variants
/// ("Patron PIN", "User Password"). Everything else ("Barcode Id", "User Id", "username") identifies.
fn is_secret(input_type: &SchemeValue) -> bool {
    input_type.value.split(|c: char| c.is_whitespace() || c == '_' || c == '-').any(|word| {
        word.eq_ignore_ascii_case("pin")
            || word.eq_ignore_ascii_case("password")
            || word.eq_ignore_ascii_case("passcode")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ncip::{AuthenticationInput, UserId, UserIdentifier};

    fn input(kind: &str, data: &str) -> AuthenticationInput {
        AuthenticationInput { data: data.into(), data_format_type: None, input_type: SchemeValue::new(kind) }
    }

    fn user_id(value: &str) -> Option<UserId> {
        Some(UserId { user_identifier_value: UserIdentifier::new(value), ..UserId::default() })
    }

    #[test]
    fn a_barcode_and_a_password_identify_and_prove() {
        let message = LookupUser {
            authentication_inputs: vec![input("Barcode Id", " 98765432 "), input("Password", "secret")],
            ..LookupUser::default()
        };
        let query = PatronQuery::read(&message).unwrap();
        assert_eq!(query.identifier, "98765432");
        assert_eq!(query.credential.as_ref().map(Credential::expose), Some("secret"));
        assert!(!format!("{query:?}").contains("secret"), "the secret never prints");
    }

    #[test]
    fn a_user_id_with_a_pin_is_one_patron_and_a_username_alone_identifies() {
        let message = LookupUser {
            user_id: user_id("8377630"),
            authentication_inputs: vec![input("PIN", "1234")],
            ..LookupUser::default()
        };
        let query = PatronQuery::read(&message).unwrap();
        assert_eq!((query.identifier.as_str(), query.credential.is_some()), ("8377630", true));

        let message = LookupUser { authentication_inputs: vec![input("username", "myluid")], ..LookupUser::default() };
        let query = PatronQuery::read(&message).unwrap();
        assert_eq!((query.identifier.as_str(), query.credential.is_none()), ("myluid", true));
    }

    #[test]
    fn two_different_patrons_or_none_at_all_are_refused() {
        let message = LookupUser {
            user_id: user_id("patron1"),
            authentication_inputs: vec![input("Barcode Id", "21000000002"), input("PIN", "x")],
            ..LookupUser::default()
        };
        assert_eq!(PatronQuery::read(&message).unwrap_err(), QueryError::ConflictingIdentifiers);
        let message = LookupUser { authentication_inputs: vec![input("PIN", "1234")], ..LookupUser::default() };
        assert_eq!(PatronQuery::read(&message).unwrap_err(), QueryError::NoIdentifier);
    }

    #[test]
    fn identifiers_that_alma_would_read_as_another_path_are_refused() {
        for id in ["..", ".", "2100\t0001", "2100\n0001", "21 00", "a\u{7f}b", "a\u{85}b", "a\u{1b}[31m", "hmac:0f1e"] {
            let message = LookupUser { authentication_inputs: vec![input("Barcode Id", id)], ..LookupUser::default() };
            let err = PatronQuery::read(&message).unwrap_err();
            assert!(matches!(err, QueryError::UnusableIdentifier { secret_offered: false, .. }), "{id:?}");
        }
        for id in ["...", "a.b", "a/b", "patron1", "21000000001", "ünïcode"] {
            assert!(usable_identifier(id), "{id:?}");
        }
    }

    #[test]
    fn secrets_that_cannot_travel_in_a_header_are_refused() {
        for secret in ["", "12\n34", "1234\r", "12\u{7f}", "\t1234", &"9".repeat(257)] {
            assert!(!usable_secret(secret), "{secret:?}");
        }
        for secret in ["1234", "pass word", "pässwörd", &"9".repeat(256)] {
            assert!(usable_secret(secret), "{secret:?}");
        }
    }

    #[test]
    fn element_types_are_matched_loosely_and_unknown_ones_ignored() {
        let types =
            ["Name Information", "user  address information", "User ID", "Date Of Birth", "Authentication Input"]
                .map(SchemeValue::new);
        let elements = Elements::from_types(&types);
        assert_eq!(elements, Elements { name: true, address: true, user_id: true, ..Elements::default() });
        assert!(!Elements::from_types(&[SchemeValue::new("User Language")]).any());
    }

    #[test]
    fn secret_input_types_are_recognised() {
        for kind in ["PIN", "pin", "Password", "Patron PIN", "user_password"] {
            assert!(is_secret(&SchemeValue::new(kind)), "{kind}");
        }
        for kind in ["Barcode Id", "User Id", "username", "Pinned"] {
            assert!(!is_secret(&SchemeValue::new(kind)), "{kind}");
        }
    }
}
