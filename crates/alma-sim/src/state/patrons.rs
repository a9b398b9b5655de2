//! Which Alma user an NCIP `UserId` names, the way Alma's broker-mode responder decides it.
//!
//! Alma matches a message's `UserIdentifierValue` against one identifier only: the partner's **User
//! Identifier Type** (Fulfillment > Resource Sharing > Partners > Parameters; "the match point for
//! `UserIdentifierValue`", alma.md §1.5, VCU `alma-ncip` README, CSU "Illiad NCIP Plug-in Set Up").
//! There is no fallback to other identifiers: a bridge that sends the primary id to a partner set to
//! Barcode is refused, as it would be in production. Only ACTIVE users are found (Ex Libris KB "How to
//! block users from placing resource requests with NCIP Partner?", alma.md §1.4).

use serde_json::Value;

use super::State;
use super::circ::CircError;

/// Whether the partner's `ncip_details.general_user_id_type.value` names the user's primary id.
///
/// Ex Libris' partner schema (`rest_partner.xsd`, complexType `general_user_id_type`, as the bridge's
/// maintainers read it; UNCONFIRMED in any captured partner record) gives the primary identifier as
/// `user_name`. `userName` and `PRIMARY_ID`, the spellings seen in site configurations and the simulator's
/// earlier choice, are read the same way in any case: the simulator must not refuse a spelling Alma may
/// accept, or a bridge bug hides behind it. Every other value is a user identifier type code (`BARCODE`,
/// `UNIV_ID`, …) as in `user_identifier[].id_type`.
pub(crate) fn names_primary_id(value: &str) -> bool {
    let folded: String = value.trim().chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect();
    folded == "username" || folded == "primaryid"
}

/// The partner setting a missing type is reported under.
pub(crate) const USER_ID_TYPE_SETTING: &str = "ncip_details.general_user_id_type";

/// What the partner says a `UserIdentifierValue` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserIdType {
    PrimaryId,
    /// A user identifier type code such as `BARCODE` or `UNIV_ID`.
    Identifier(String),
}

/// The partner's User Identifier Type, or None when the partner record does not set one.
pub(crate) fn partner_user_id_type(s: &State, partner: &str) -> Option<UserIdType> {
    let value = s
        .partner(partner)?
        .pointer("/partner_details/profile_details/ncip_details/general_user_id_type/value")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())?;
    Some(if names_primary_id(value) { UserIdType::PrimaryId } else { UserIdType::Identifier(value.to_owned()) })
}

/// The index of the ACTIVE user whose identifier of the partner's type is `user_id`, compared exactly.
///
/// UNCONFIRMED: whether Alma compares case-insensitively; exact comparison is the stricter reading. An
/// identifier whose own `status` is not ACTIVE does not match (the stricter reading of Alma's identifier
/// status field). A partner with no type refuses every user and names the missing setting, as a
/// half-configured partner cannot match anything.
pub(crate) fn ncip_user(s: &State, partner: &str, user_id: &str) -> Result<usize, CircError> {
    let Some(id_type) = partner_user_id_type(s, partner) else {
        return Err(CircError::PartnerWithoutUserIdType { partner: partner.to_owned(), user: user_id.to_owned() });
    };
    s.users
        .iter()
        .position(|u| u.is_active() && has_identifier(&u.json, &id_type, user_id))
        .ok_or_else(|| CircError::UnknownUser(user_id.to_owned()))
}

fn has_identifier(user: &Value, id_type: &UserIdType, value: &str) -> bool {
    match id_type {
        UserIdType::PrimaryId => user["primary_id"] == value,
        UserIdType::Identifier(code) => user["user_identifier"].as_array().is_some_and(|ids| {
            ids.iter().any(|i| {
                i["id_type"]["value"] == code.as_str()
                    && i["value"] == value
                    && i.get("status").and_then(Value::as_str).is_none_or(|st| st == "ACTIVE")
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::names_primary_id;

    #[test]
    fn the_schema_spelling_and_the_older_ones_all_name_the_primary_id() {
        for value in ["user_name", "userName", "USER_NAME", "PRIMARY_ID", "primary_id"] {
            assert!(names_primary_id(value), "{value}");
        }
        for value in ["BARCODE", "UNIV_ID", "user", "PRIMARY"] {
            assert!(!names_primary_id(value), "{value}");
        }
    }
}
