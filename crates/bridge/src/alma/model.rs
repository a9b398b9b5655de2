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
    /// The code's human-readable label in the institution's language, preferred over the code where shown.
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

/// A patron as `GET /users/{id}?view=full` returns it: what a LookupUser answer and the patron's standing are
/// made of.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AlmaUser {
    /// Alma's own identifier of the user, the one its other user APIs take.
    pub primary_id: String,
    /// The given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// The middle name.
    #[serde(default)]
    pub middle_name: Option<String>,
    /// The surname.
    #[serde(default)]
    pub last_name: Option<String>,
    /// The name as Alma displays it, for when the parts are missing.
    #[serde(default)]
    pub full_name: Option<String>,
    /// `ACTIVE` or `INACTIVE`: an inactive patron's standing is blocked.
    #[serde(default)]
    pub status: Code,
    /// The patron's group (e.g. undergraduate, staff): the configured ILL groups decide by it who may use ILL.
    #[serde(default)]
    pub user_group: Code,
    /// `"2030-01-16Z"`: a date with Alma's habitual trailing `Z`.
    #[serde(default)]
    pub expiry_date: Option<String>,
    /// Postal addresses, e-mail addresses and phone numbers.
    #[serde(default)]
    pub contact_info: ContactInfo,
    /// The user's further identifiers (barcode, university id ...), which a partner may match patrons by.
    #[serde(default)]
    pub user_identifier: Vec<UserIdentifier>,
    /// Blocks on the account; an active one makes the patron's standing blocked.
    #[serde(default)]
    pub user_block: Vec<UserBlock>,
}

/// Of a user, only what names the patron and decides their standing (the primary id, the further
/// identifiers, the e-mail addresses a sign-in is matched by, status, group, expiry and blocks): what the
/// OpenURL hand-off reads, so that the function holding it carries no reader for names, addresses and phones
/// it never uses (its binary is kept small for its cold start).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct UserIds {
    primary_id: String,
    #[serde(default)]
    status: Code,
    #[serde(default)]
    user_identifier: Vec<UserIdentifier>,
    #[serde(default)]
    user_group: Code,
    #[serde(default)]
    expiry_date: Option<String>,
    #[serde(default)]
    user_block: Vec<UserBlock>,
    #[serde(default)]
    contact_info: EmailsOnly,
}

/// A user's `contact_info`, e-mail addresses only.
#[derive(Debug, Clone, Default, Deserialize)]
struct EmailsOnly {
    #[serde(default)]
    email: Vec<EmailAddress>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct EmailAddress {
    #[serde(default)]
    email_address: String,
}

impl From<UserIds> for AlmaUser {
    fn from(ids: UserIds) -> Self {
        let email = ids
            .contact_info
            .email
            .into_iter()
            .map(|e| Email { email_address: e.email_address, ..Email::default() })
            .collect();
        AlmaUser {
            primary_id: ids.primary_id,
            status: ids.status,
            user_identifier: ids.user_identifier,
            user_group: ids.user_group,
            expiry_date: ids.expiry_date,
            user_block: ids.user_block,
            contact_info: ContactInfo { email, ..ContactInfo::default() },
            ..AlmaUser::default()
        }
    }
}

/// One page of Alma's user search (`GET /users?q=…`): brief records and the count of every match.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserSearch {
    /// How many users match in all, across pages.
    #[serde(default)]
    pub total_record_count: u64,
    /// This page's users (absent when nothing matches).
    #[serde(default)]
    pub user: Vec<BriefUser>,
}

/// A user as the search lists it: enough to read the whole record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BriefUser {
    /// The user's primary id.
    pub primary_id: String,
}

/// A user's `contact_info`: each list may name one entry `preferred`, the one a LookupUser answer gives.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContactInfo {
    /// Postal addresses.
    #[serde(default)]
    pub address: Vec<Address>,
    /// E-mail addresses.
    #[serde(default)]
    pub email: Vec<Email>,
    /// Phone numbers.
    #[serde(default)]
    pub phone: Vec<Phone>,
}

/// One postal address of a user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    /// The first street line.
    #[serde(default)]
    pub line1: Option<String>,
    /// The second street line.
    #[serde(default)]
    pub line2: Option<String>,
    /// The third street line.
    #[serde(default)]
    pub line3: Option<String>,
    /// The town or city.
    #[serde(default)]
    pub city: Option<String>,
    /// The state, province or region.
    #[serde(default)]
    pub state_province: Option<String>,
    /// The postcode.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// The country, as a code of Alma's country table.
    #[serde(default)]
    pub country: Option<Code>,
    /// Whether this is the address the user prefers to be reached at.
    #[serde(default)]
    pub preferred: bool,
    /// `home`, `work`, `school`, `alternative`... (Alma's UserAddressTypes code table).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub address_type: Vec<Code>,
}

/// One e-mail address of a user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Email {
    /// The address itself.
    pub email_address: String,
    /// Whether this is the address the user prefers to be reached at.
    #[serde(default)]
    pub preferred: bool,
    /// `personal`, `work`, `school`, `alternative` (Alma's EmailTypes code table).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub email_type: Vec<Code>,
}

/// One phone number of a user.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Phone {
    /// The number as Alma holds it (not normalised).
    pub phone_number: String,
    /// Whether this is the number the user prefers to be reached at.
    #[serde(default)]
    pub preferred: bool,
    /// `home`, `mobile`, `office`, `officeFax` (Alma's UserPhoneTypes code table).
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub phone_type: Vec<Code>,
}

/// One of a user's further identifiers (`user_identifier`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserIdentifier {
    /// The identifier itself, e.g. the barcode's digits.
    pub value: String,
    /// Which kind of identifier this is (`BARCODE`, `UNIV_ID` ... from Alma's UserIdentifierTypes table).
    #[serde(default)]
    pub id_type: Code,
    /// `ACTIVE` or `INACTIVE`; absent means active, and only an active identifier names the patron.
    #[serde(default)]
    pub status: Option<String>,
}

/// A block on a user's account (`user_block`): it stops borrowing while active and unexpired.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserBlock {
    /// The kind of block (Alma's BlockTypes table), the label shown when the description has none.
    #[serde(default)]
    pub block_type: Code,
    /// What the block is for (e.g. overdue items, fines), the label a LookupUser answer shows first.
    #[serde(default)]
    pub block_description: Code,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default)]
    pub block_status: String,
    /// The day the block lapses (Alma's date with a trailing `Z`); a block past it no longer counts.
    #[serde(default)]
    pub expiry_date: Option<String>,
}

impl AlmaUser {
    /// Whether Alma holds the account as active (status `ACTIVE`); an inactive one is never in good standing.
    pub fn is_active(&self) -> bool {
        self.status.value.eq_ignore_ascii_case("ACTIVE")
    }

    /// The blocks Alma marks as in force (`ACTIVE`), whatever their expiry date says.
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
    /// The title the item is a copy of.
    #[serde(default)]
    pub bib_data: BibData,
    /// The holding the item belongs to.
    #[serde(default)]
    pub holding_data: HoldingData,
    /// The physical copy itself.
    pub item_data: ItemData,
}

/// An item's `bib_data`: the bibliographic record, what a LookupItem answer describes the item by.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BibData {
    /// The bibliographic record's id, kept on a request's record for the status pages.
    #[serde(default)]
    pub mms_id: String,
    /// The title.
    #[serde(default)]
    pub title: Option<String>,
    /// The author.
    #[serde(default)]
    pub author: Option<String>,
}

/// An item's `holding_data`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HoldingData {
    /// The holding's id, kept on a request's record for the status pages.
    #[serde(default)]
    pub holding_id: String,
}

/// An item's `item_data`: the copy's identity, whereabouts and circulation state.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemData {
    /// Alma's id of the physical item.
    pub pid: String,
    /// The item's barcode, the identifier NCIP messages carry.
    #[serde(default)]
    pub barcode: String,
    /// `1` = item in place, `0` = not in place (Alma's base status code table).
    #[serde(default)]
    pub base_status: Code,
    /// Why the item is not in place (`LOAN`, `TRANSIT`, `HOLDSHELF` ...); empty when it is.
    #[serde(default)]
    pub process_type: Code,
    /// The owning library's code.
    #[serde(default)]
    pub library: Code,
    /// The shelving location's code within the library.
    #[serde(default)]
    pub location: Code,
    /// When a loaned item is due back; Alma sends it only when asked to (`expand=due_date`).
    #[serde(default)]
    pub due_date: Option<String>,
}

/// One entry of `GET /users/{id}/requests` (`user_request`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserRequest {
    /// Alma's id of the request (for an ILL hold, the hold's own id, kept with the request's Alma ids).
    pub request_id: String,
    /// `HOLD`, `DIGITIZATION`, `BOOKING` ...
    #[serde(default)]
    pub request_type: String,
    /// Where the request stands, e.g. `IN_PROCESS` or `ON_HOLD_SHELF`.
    #[serde(default)]
    pub request_status: String,
    /// The requested title.
    #[serde(default)]
    pub title: Option<String>,
    /// Alma names the requested item's barcode plain `barcode` in a `user_request`.
    #[serde(default, rename = "barcode")]
    pub item_barcode: Option<String>,
    /// The requested title's bibliographic record.
    #[serde(default)]
    pub mms_id: Option<String>,
    /// The library the patron collects the item at.
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
    /// The borrowing request's id.
    #[serde(default)]
    pub id: Option<String>,
}

/// One entry of `GET /users/{id}/loans` (`item_loan`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Loan {
    /// Alma's id of the loan.
    pub loan_id: String,
    /// The loaned item's barcode, the identifier a LookupUser answer lists the loan by.
    #[serde(default)]
    pub item_barcode: String,
    /// When the item is due back (an RFC 3339 timestamp).
    #[serde(default)]
    pub due_date: Option<String>,
    /// `ACTIVE` for a current loan; absent is read as active.
    #[serde(default)]
    pub loan_status: Option<String>,
    /// When the loan was last renewed.
    #[serde(default)]
    pub last_renew_date: Option<String>,
    /// The loaned title.
    #[serde(default)]
    pub title: Option<String>,
}

/// An NCIP partner (`GET /partners/{code}`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Partner {
    /// The partner's identity and profile.
    pub partner_details: PartnerDetails,
}

/// A partner's `partner_details`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PartnerDetails {
    /// The partner's code, the agency NCIP messages name.
    pub code: String,
    /// The partner's display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default)]
    pub status: Option<String>,
    /// How Alma talks to the partner; only an NCIP profile carries the settings the bridge needs.
    #[serde(default)]
    pub profile_details: Option<ProfileDetails>,
}

/// A partner's `profile_details`: which protocol the partner speaks, with that protocol's settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileDetails {
    /// `NCIP`, `ISO`, `EMAIL` ...
    #[serde(default)]
    pub profile_type: Option<String>,
    /// The NCIP settings, present for an NCIP partner.
    #[serde(default)]
    pub ncip_details: Option<NcipDetails>,
}

/// The NCIP partner's parameters. UNCONFIRMED field names (research notes: Alma's rest_partner.xsd lists
/// `ncip_details` without a captured sample); `general_user_id_type` is the partner's User Identifier Type,
/// the one identifier Alma matches a message's `UserIdentifierValue` against.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NcipDetails {
    /// The partner's User Identifier Type (see above); without it Alma matches by primary id.
    #[serde(default)]
    pub general_user_id_type: Option<Code>,
    /// The resource-sharing library that owns the partner's requests ("Mandatory" in rest_partner.xsd): the
    /// library whose lending task list holds a shipped request.
    #[serde(default)]
    pub general_library_owner: Option<Code>,
    /// Whether the partner's RequestItem may create a borrowing request (Alma's partner page, Request Item
    /// section; `request_item_support_borrowing` in rest_partner.xsd). When `false`, every RequestItem from the
    /// partner is a lender's. Read as a JSON boolean or its text (the field's JSON type is UNCONFIRMED).
    #[serde(default, deserialize_with = "flexible_bool")]
    pub request_item_support_borrowing: Option<bool>,
}

/// A boolean Alma may write as `true` or `"true"` (its JSON mirrors XML, where both read the same).
fn flexible_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flexible {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Flexible>::deserialize(deserializer)? {
        Some(Flexible::Bool(b)) => Some(b),
        Some(Flexible::Text(t)) if t.trim().eq_ignore_ascii_case("true") => Some(true),
        Some(Flexible::Text(t)) if t.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

/// One entry of a lending task list (`GET /task-lists/rs/lending-requests`; rest_lending_resource_sharing_request
/// .xsd): the fields the bridge matches on.
#[derive(Debug, Clone, Deserialize)]
pub struct LendingRequest {
    /// Alma's id of the lending request.
    pub request_id: String,
    /// The borrower's (Relais') request id, the first thing a shipped item is matched by.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The barcode of the item supplied for it, the match when no external id is known.
    #[serde(default)]
    pub barcode: Option<String>,
    /// Where the request stands (`REQUEST_CREATED_LEND`, `SHIPPED_PHYSICALLY`, `REQUEST_COMPLETED`,
    /// `CANCELLED` ...): what the reconciler compares with what Relais was told.
    #[serde(default)]
    pub status: Code,
}

/// The lending task list: Alma lists at most 100 requests, without paging, and counts every match.
#[derive(Debug, Default, Deserialize)]
pub struct LendingRequests {
    /// The requests on this one page (at most 100).
    #[serde(default)]
    pub user_resource_sharing_request: Vec<LendingRequest>,
    /// How many requests matched in all, which may exceed what the page holds.
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
