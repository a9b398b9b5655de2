//! The parts of Alma's REST JSON the bridge reads, named as Alma names them (developers.exlibrisgroup.com,
//! REST API "xsd" pages for `user`, `item`, `user_request`, `item_loan`, `user_resource_sharing_request`,
//! `partner`). Every field is optional or defaulted: Alma omits empty fields, and a missing field must not turn
//! an answer into an error.

use serde::Deserialize;

/// Alma's `{"value": .., "desc": ..}` code-table pair.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Code {
    /// Alma sends `"value": null` for an unset code (an item with no process type); read it as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub value: String,
    #[serde(default)]
    pub desc: Option<String>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// Alma writes `null` for an empty list as readily as it omits it.
fn null_as_empty_list<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlmaUser {
    pub primary_id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub status: Code,
    #[serde(default)]
    pub user_group: Code,
    /// `"2030-01-16Z"`: a date with Alma's habitual trailing `Z`.
    #[serde(default)]
    pub expiry_date: Option<String>,
    #[serde(default)]
    pub contact_info: ContactInfo,
    #[serde(default)]
    pub user_identifier: Vec<UserIdentifier>,
    #[serde(default)]
    pub user_block: Vec<UserBlock>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactInfo {
    #[serde(default)]
    pub address: Vec<Address>,
    #[serde(default)]
    pub email: Vec<Email>,
    #[serde(default)]
    pub phone: Vec<Phone>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub line1: Option<String>,
    #[serde(default)]
    pub line2: Option<String>,
    #[serde(default)]
    pub line3: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state_province: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country: Option<Code>,
    #[serde(default)]
    pub preferred: bool,
    /// `home`, `work`, `school`, `alternative`... (Alma's UserAddressTypes code table).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub address_type: Vec<Code>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Email {
    pub email_address: String,
    #[serde(default)]
    pub preferred: bool,
    /// `personal`, `work`, `school`, `alternative` (Alma's EmailTypes code table).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub email_type: Vec<Code>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Phone {
    pub phone_number: String,
    #[serde(default)]
    pub preferred: bool,
    /// `home`, `mobile`, `office`, `officeFax` (Alma's UserPhoneTypes code table).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub phone_type: Vec<Code>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserIdentifier {
    pub value: String,
    #[serde(default)]
    pub id_type: Code,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserBlock {
    #[serde(default)]
    pub block_type: Code,
    #[serde(default)]
    pub block_description: Code,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default)]
    pub block_status: String,
    #[serde(default)]
    pub expiry_date: Option<String>,
}

impl AlmaUser {
    pub fn is_active(&self) -> bool {
        self.status.value.eq_ignore_ascii_case("ACTIVE")
    }

    pub fn active_blocks(&self) -> impl Iterator<Item = &UserBlock> {
        self.user_block.iter().filter(|b| b.block_status.eq_ignore_ascii_case("ACTIVE"))
    }

    /// The user's barcode, if Alma holds one (identifier type `BARCODE`).
    pub fn barcode(&self) -> Option<&str> {
        self.user_identifier.iter().find(|i| i.id_type.value.eq_ignore_ascii_case("BARCODE")).map(|i| i.value.as_str())
    }
}

/// Alma's item record as `GET /bibs/{mms}/holdings/{hid}/items/{pid}` returns it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlmaItem {
    #[serde(default)]
    pub bib_data: BibData,
    #[serde(default)]
    pub holding_data: HoldingData,
    pub item_data: ItemData,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BibData {
    #[serde(default)]
    pub mms_id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HoldingData {
    #[serde(default)]
    pub holding_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemData {
    pub pid: String,
    #[serde(default)]
    pub barcode: String,
    /// `1` = item in place, `0` = not in place (Alma's base status code table).
    #[serde(default)]
    pub base_status: Code,
    #[serde(default)]
    pub process_type: Code,
    #[serde(default)]
    pub library: Code,
    #[serde(default)]
    pub location: Code,
    #[serde(default)]
    pub due_date: Option<String>,
}

/// One entry of `GET /users/{id}/requests` (`user_request`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserRequest {
    pub request_id: String,
    #[serde(default)]
    pub request_type: String,
    #[serde(default)]
    pub request_status: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Alma names the requested item's barcode plain `barcode` in a `user_request`.
    #[serde(default, rename = "barcode")]
    pub item_barcode: Option<String>,
    #[serde(default)]
    pub mms_id: Option<String>,
    #[serde(default)]
    pub pickup_location: Option<String>,
    /// The borrowing request behind a hold-shelf ILL hold. UNCONFIRMED field: Alma's user request schema
    /// carries a `resource_sharing` block for requests resource sharing created; no captured answer shows it.
    #[serde(default)]
    pub resource_sharing: Option<ResourceSharingLink>,
}

/// `user_request.resource_sharing`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResourceSharingLink {
    #[serde(default)]
    pub id: Option<String>,
}

/// One entry of `GET /users/{id}/loans` (`item_loan`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Loan {
    pub loan_id: String,
    #[serde(default)]
    pub item_barcode: String,
    #[serde(default)]
    pub due_date: Option<String>,
    #[serde(default)]
    pub loan_status: Option<String>,
    #[serde(default)]
    pub last_renew_date: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

/// An NCIP partner (`GET /partners/{code}`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Partner {
    pub partner_details: PartnerDetails,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PartnerDetails {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub profile_details: Option<ProfileDetails>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileDetails {
    #[serde(default)]
    pub profile_type: Option<String>,
    #[serde(default)]
    pub ncip_details: Option<NcipDetails>,
}

/// The NCIP partner's parameters. UNCONFIRMED field names (research notes: Alma's rest_partner.xsd lists
/// `ncip_details` without a captured sample); `general_user_id_type` is the partner's User Identifier Type,
/// the one identifier Alma matches a message's `UserIdentifierValue` against.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NcipDetails {
    #[serde(default)]
    pub general_user_id_type: Option<Code>,
    /// The resource-sharing library that owns the partner's requests ("Mandatory" in rest_partner.xsd): the
    /// library whose lending task list holds a shipped request.
    #[serde(default)]
    pub general_library_owner: Option<Code>,
}

/// One entry of a lending task list (`GET /task-lists/rs/lending-requests`; rest_lending_resource_sharing_request
/// .xsd): the fields the bridge matches on.
#[derive(Debug, Clone, Deserialize)]
pub struct LendingRequest {
    pub request_id: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
}

/// The lending task list: Alma lists at most 100 requests, without paging, and counts every match.
#[derive(Debug, Default, Deserialize)]
pub struct LendingRequests {
    #[serde(default)]
    pub user_resource_sharing_request: Vec<LendingRequest>,
    #[serde(default)]
    pub total_record_count: usize,
}

/// A list page: Alma wraps lists as `{"<name>": [...], "total_record_count": N}` and omits the array when empty.
#[derive(Debug, Deserialize)]
pub(crate) struct UserRequests {
    #[serde(default)]
    pub user_request: Vec<UserRequest>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Loans {
    #[serde(default)]
    pub item_loan: Vec<Loan>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_code_reads_as_empty_and_a_user_request_keeps_its_barcode() {
        let code: Code = serde_json::from_str(r#"{"value": null, "desc": null}"#).unwrap();
        assert_eq!(code.value, "");
        let request: UserRequest =
            serde_json::from_str(r#"{"request_id": "1", "barcode": "ILL-1", "request_status": "ON_HOLD_SHELF"}"#)
                .unwrap();
        assert_eq!(request.item_barcode.as_deref(), Some("ILL-1"));
    }

    #[test]
    fn contact_types_are_read_and_a_null_type_list_is_empty() {
        let info: ContactInfo = serde_json::from_str(
            r#"{"address": [{"line1": "1 Main St", "address_type": [{"value": "home", "desc": "Home"}]}],
                "email": [{"email_address": "a@b.example", "email_type": null}],
                "phone": [{"phone_number": "1", "phone_type": [{"value": "officeFax"}]}]}"#,
        )
        .unwrap();
        assert_eq!(info.address[0].address_type[0].value, "home");
        assert!(info.email[0].email_type.is_empty());
        assert_eq!(info.phone[0].phone_type[0].value, "officeFax");
    }
}
