//! The patron record in NCIP terms, holding only the element types the client asked for.
//!
//! The shapes are those Relais (and ReShare's NCIP client) read: the patron's identifier of the Alma partner's
//! User Identifier Type as the `UserId` typed "Primary Key", the one Relais keys its patron by (so Relais sends
//! back what Alma matches); the typed barcodes under `UserOptionalFields`; a structured personal name; one postal address, one e-mail and one phone as
//! `UserAddressInformation`; `UserPrivilege` PROFILE (the user group) and STATUS (OK or BLOCKED), each with the
//! expiry as `ValidToDate`; a `BlockOrTrap` per active block.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::request::Elements;
use super::standing::{Standing, alma_date, end_of_day};
use crate::alma::model::{self as alma, AlmaUser, Code, Loan};
use crate::config::PatronPolicy;
use crate::flows::patron_id::MatchPoint;
use crate::ncip::model::user::{
    Address, BlockOrTrap, ElectronicAddress, LoanedItem, NameInformation, PersonalNameInformation, PhysicalAddress,
    PhysicalAddressForm, StructuredAddress, StructuredPersonalUserName, UserAddressInformation, UserOptionalFields,
    UserPrivilege, UserPrivilegeStatus,
};
use crate::ncip::{AgencyId, DueDate, ItemId, ItemIdentifier, SchemeValue, UserId, UserIdentifier};

/// What the answer is built from.
pub(crate) struct PatronRecord<'a> {
    pub user: &'a AlmaUser,
    pub standing: &'a Standing<'a>,
    pub policy: &'a PatronPolicy,
    /// The agency the patron belongs to in the answer (the agency Relais addressed, else the institution).
    pub agency: AgencyId,
    pub zone: &'a TimeZone,
    /// The identifier Relais keeps for the patron: the one Alma's partner matches (see `flows::patron_id`).
    pub kept_id: KeptId<'a>,
}

/// Relais's label for the `UserId` it keys its patron record by (OCLC, "NCIP generated patron records", alma.md
/// §1.3). It names the role of the id, not its kind: the value is whatever Alma's partner matches.
pub(crate) const PRIMARY_KEY: &str = "Primary Key";

/// The value of the `UserId` Relais keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeptId<'a> {
    pub value: &'a str,
}

impl<'a> KeptId<'a> {
    /// The user's identifier of the partner's type; the primary id when no type is known or the user has
    /// no identifier of it (Alma will then refuse the patron, as it would refuse them by any other id). The
    /// OpenURL hand-off puts the same value in the form's `PI` ([`crate::flows::patron_id::kept_value`]).
    pub(crate) fn of(user: &'a AlmaUser, point: Option<&MatchPoint>) -> KeptId<'a> {
        KeptId { value: crate::flows::patron_id::kept_value(user, point) }
    }
}

impl PatronRecord<'_> {
    /// The top-level `UserId`, which Relais keeps as the patron's id and sends back in later messages.
    pub(crate) fn user_id(&self) -> UserId {
        UserId {
            agency_id: Some(self.agency.clone()),
            user_identifier_type: Some(SchemeValue::new(PRIMARY_KEY)),
            user_identifier_value: UserIdentifier::new(self.kept_id.value),
        }
    }

    /// `UserOptionalFields` with the asked-for elements only; `None` when none was asked for.
    pub(crate) fn optional_fields(&self, wanted: Elements) -> Option<UserOptionalFields> {
        if !wanted.any() {
            return None;
        }
        let mut fields = UserOptionalFields::default();
        if wanted.name {
            fields.name_information = name(self.user);
        }
        if wanted.address {
            fields.user_address_informations = addresses(&self.user.contact_info);
        }
        if wanted.privilege {
            fields.user_privileges = self.privileges();
        }
        if wanted.block_or_trap {
            fields.block_or_traps = self.blocks();
        }
        if wanted.user_id {
            fields.user_ids = self.barcodes();
        }
        Some(fields)
    }

    fn privileges(&self) -> Vec<UserPrivilege> {
        let group = &self.user.user_group;
        // PATRON_GROUP_MAP renames Alma's group code for Relais; unmapped codes pass through.
        let profile = self.policy.group_map.get(&group.value).cloned().unwrap_or_else(|| group.value.clone());
        let privilege = |kind: &str, status: String, description: Option<String>| UserPrivilege {
            agency_id: self.agency.clone(),
            agency_user_privilege_type: SchemeValue::new(kind),
            valid_from_date: None,
            valid_to_date: self.standing.valid_to,
            user_privilege_status: Some(UserPrivilegeStatus { status_type: SchemeValue::new(status), date: None }),
            description,
        };
        vec![
            privilege("PROFILE", profile, group.desc.clone().filter(|d| !d.is_empty())),
            privilege("STATUS", self.standing.status().to_owned(), self.standing.reasons()),
        ]
    }

    fn blocks(&self) -> Vec<BlockOrTrap> {
        self.standing
            .active_blocks
            .iter()
            .map(|block| BlockOrTrap {
                agency_id: self.agency.clone(),
                block_or_trap_type: SchemeValue::new(
                    [&block.block_description, &block.block_type].into_iter().find_map(label).unwrap_or("Block"),
                ),
                valid_from_date: None,
                valid_to_date: block.expiry_date.as_deref().and_then(alma_date).and_then(|d| end_of_day(d, self.zone)),
            })
            .collect()
    }

    /// The patron's active barcodes (`UserElementType` "User Id"): what Relais prints on slips.
    fn barcodes(&self) -> Vec<UserId> {
        self.user
            .user_identifier
            .iter()
            .filter(|id| id.id_type.value.eq_ignore_ascii_case("BARCODE"))
            .filter(|id| id.status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE")))
            .map(|id| UserId {
                agency_id: Some(self.agency.clone()),
                user_identifier_type: Some(SchemeValue::new("Barcode")),
                user_identifier_value: UserIdentifier::new(id.value.as_str()),
            })
            .collect()
    }
}

/// A code's description, else its value; `None` when both are empty.
fn label(code: &Code) -> Option<&str> {
    code.desc.as_deref().filter(|d| !d.trim().is_empty()).or(Some(code.value.as_str()).filter(|v| !v.trim().is_empty()))
}

fn non_empty(text: Option<&String>) -> Option<String> {
    text.map(|t| t.trim()).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// Given name and surname, structured; a name Alma holds only whole goes unstructured.
fn name(user: &AlmaUser) -> Option<NameInformation> {
    let given_name = non_empty(user.first_name.as_ref());
    let personal = match non_empty(user.last_name.as_ref()) {
        Some(surname) => PersonalNameInformation {
            structured: Some(StructuredPersonalUserName {
                given_name,
                surname,
                ..StructuredPersonalUserName::default()
            }),
            unstructured: None,
        },
        None => PersonalNameInformation {
            structured: None,
            unstructured: non_empty(user.full_name.as_ref()).or(given_name),
        },
    };
    (personal.structured.is_some() || personal.unstructured.is_some()).then_some(NameInformation::Personal(personal))
}

/// The preferred entry of a contact list, else its first.
fn preferred<T>(entries: &[T], is_preferred: impl Fn(&T) -> bool) -> Option<&T> {
    entries.iter().find(|e| is_preferred(e)).or_else(|| entries.first())
}

/// NCIP `UserAddressRoleType` for Alma's contact types: home and personal entries are "Home", the rest
/// (work, school, alternative) "Multi-Purpose".
fn role(types: &[Code]) -> SchemeValue {
    let home = types.iter().any(|t| matches!(t.value.to_ascii_lowercase().as_str(), "home" | "personal" | "mobile"));
    SchemeValue::new(if home { "Home" } else { "Multi-Purpose" })
}

/// One postal address, one e-mail and one phone: the preferred of each, which is what Relais keeps.
fn addresses(contact: &alma::ContactInfo) -> Vec<UserAddressInformation> {
    let entry = |role, address| UserAddressInformation {
        role,
        valid_from_date: None,
        valid_to_date: None,
        address: Some(address),
    };
    let mut out = Vec::new();
    if let Some(postal) = preferred(&contact.address, |a| a.preferred) {
        let line2 = [non_empty(postal.line2.as_ref()), non_empty(postal.line3.as_ref())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        let structured = StructuredAddress {
            line1: non_empty(postal.line1.as_ref()),
            line2: (!line2.is_empty()).then(|| line2.join(", ")),
            locality: non_empty(postal.city.as_ref()),
            region: non_empty(postal.state_province.as_ref()),
            postal_code: non_empty(postal.postal_code.as_ref()),
            country: postal.country.as_ref().and_then(label).map(str::to_owned),
            ..StructuredAddress::default()
        };
        let physical = PhysicalAddress {
            form: PhysicalAddressForm::Structured(Box::new(structured)),
            physical_address_type: SchemeValue::new("Postal Address"),
        };
        out.push(entry(role(&postal.address_type), Address::Physical(physical)));
    }
    if let Some(email) = preferred(&contact.email, |e| e.preferred).filter(|e| !e.email_address.trim().is_empty()) {
        let address =
            ElectronicAddress { address_type: SchemeValue::new("mailto"), data: email.email_address.trim().to_owned() };
        out.push(entry(role(&email.email_type), Address::Electronic(address)));
    }
    if let Some(phone) = preferred(&contact.phone, |p| p.preferred).filter(|p| !p.phone_number.trim().is_empty()) {
        let fax = phone.phone_type.iter().any(|t| t.value.eq_ignore_ascii_case("officeFax"));
        let address = ElectronicAddress {
            address_type: SchemeValue::new(if fax { "fax" } else { "tel" }),
            data: phone.phone_number.trim().to_owned(),
        };
        out.push(entry(role(&phone.phone_type), Address::Electronic(address)));
    }
    out
}

/// Alma's loans as `LoanedItem`s (only when `PATRON_ALLOW_LOANS` lets the bridge answer LoanedItemsDesired).
pub(crate) fn loaned_items(loans: &[Loan], agency: &AgencyId) -> Vec<LoanedItem> {
    loans
        .iter()
        .filter(|loan| loan.loan_status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE")))
        .map(|loan| LoanedItem {
            item_id: ItemId {
                agency_id: Some(agency.clone()),
                item_identifier_type: Some(SchemeValue::new("Barcode")),
                item_identifier_value: ItemIdentifier::new(loan.item_barcode.as_str()),
            },
            date_due: loan.due_date.as_deref().and_then(|d| d.parse::<Timestamp>().ok()).map(DueDate::Date),
            title: loan.title.clone(),
            ..LoanedItem::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patron() -> AlmaUser {
        serde_json::from_value(serde_json::json!({
            "primary_id": "p1", "first_name": "Ada", "last_name": "Lovelace", "full_name": "Ada Lovelace",
            "status": {"value": "ACTIVE"}, "user_group": {"value": "UG", "desc": "Undergraduate"},
            "expiry_date": "2030-01-16Z",
            "contact_info": {
                "address": [
                    {"line1": "1 Old St", "city": "Leeds", "preferred": false, "address_type": [{"value": "work"}]},
                    {"line1": "2 New St", "line2": "Flat 3", "line3": "Wing B", "city": "York", "state_province": "N Yorks",
                     "postal_code": "YO1", "country": {"value": "GBR", "desc": "United Kingdom"}, "preferred": true,
                     "address_type": [{"value": "home"}]}
                ],
                "email": [{"email_address": "ada@example.org", "preferred": true, "email_type": [{"value": "work"}]}],
                "phone": [{"phone_number": "+44 1", "preferred": true, "phone_type": [{"value": "officeFax"}]}]
            },
            "user_identifier": [
                {"id_type": {"value": "BARCODE"}, "value": "B-1", "status": "ACTIVE"},
                {"id_type": {"value": "BARCODE"}, "value": "B-OLD", "status": "INACTIVE"},
                {"id_type": {"value": "UNIV_ID"}, "value": "U-1", "status": "ACTIVE"}
            ],
            "user_block": [{"block_type": {"value": "GENERAL", "desc": "General"},
                            "block_description": {"value": "OVERDUE", "desc": "Overdue items"},
                            "block_status": "ACTIVE", "expiry_date": "2030-03-01Z"}]
        }))
        .unwrap()
    }

    fn with_record<R>(user: &AlmaUser, policy: &PatronPolicy, f: impl FnOnce(&PatronRecord<'_>) -> R) -> R {
        let now: Timestamp = "2026-03-10T12:00:00Z".parse().unwrap();
        let standing = Standing::of(user, policy, now, &TimeZone::UTC);
        let record = PatronRecord {
            user,
            standing: &standing,
            policy,
            agency: AgencyId::new("LIB"),
            zone: &TimeZone::UTC,
            kept_id: KeptId::of(user, None),
        };
        f(&record)
    }

    #[test]
    fn nothing_asked_for_is_nothing_answered_and_each_element_comes_alone() {
        let user = patron();
        with_record(&user, &PatronPolicy::default(), |record| {
            assert_eq!(record.optional_fields(Elements::default()), None);
            let names = record.optional_fields(Elements { name: true, ..Elements::default() }).unwrap();
            assert!(names.name_information.is_some());
            assert!(names.user_address_informations.is_empty() && names.user_privileges.is_empty());
            assert!(names.block_or_traps.is_empty() && names.user_ids.is_empty());
        });
    }

    #[test]
    fn the_preferred_address_email_and_phone_are_answered_once_each() {
        let user = patron();
        let addresses = addresses(&user.contact_info);
        assert_eq!(addresses.len(), 3);
        let Some(Address::Physical(postal)) = &addresses[0].address else { panic!("postal first: {addresses:?}") };
        let PhysicalAddressForm::Structured(s) = &postal.form else { panic!("structured") };
        assert_eq!(s.line1.as_deref(), Some("2 New St"));
        assert_eq!(s.line2.as_deref(), Some("Flat 3, Wing B"));
        assert_eq!((s.locality.as_deref(), s.country.as_deref()), (Some("York"), Some("United Kingdom")));
        assert_eq!(addresses[0].role.value, "Home");
        let Some(Address::Electronic(email)) = &addresses[1].address else { panic!("email second") };
        assert_eq!((email.address_type.value.as_str(), addresses[1].role.value.as_str()), ("mailto", "Multi-Purpose"));
        let Some(Address::Electronic(fax)) = &addresses[2].address else { panic!("phone third") };
        assert_eq!(fax.address_type.value, "fax");
    }

    #[test]
    fn privileges_carry_the_mapped_group_the_status_and_the_expiry() {
        let user = patron();
        let policy =
            PatronPolicy { group_map: [("UG".to_owned(), "Student".to_owned())].into(), ..PatronPolicy::default() };
        with_record(&user, &policy, |record| {
            let privileges = record.privileges();
            let profile = &privileges[0];
            assert_eq!(profile.agency_user_privilege_type.value, "PROFILE");
            assert_eq!(profile.user_privilege_status.as_ref().unwrap().status_type.value, "Student");
            assert_eq!(profile.valid_to_date, Some("2030-01-16T23:59:59Z".parse().unwrap()));
            let status = &privileges[1];
            assert_eq!(status.user_privilege_status.as_ref().unwrap().status_type.value, "BLOCKED");
            assert_eq!(status.description.as_deref(), Some("blocked in Alma"));
            let blocks = record.blocks();
            assert_eq!(blocks.len(), 1);
            assert_eq!(blocks[0].block_or_trap_type.value, "Overdue items");
            assert_eq!(blocks[0].valid_to_date, Some("2030-03-01T23:59:59Z".parse().unwrap()));
        });
    }

    #[test]
    fn user_ids_are_the_active_barcodes_and_the_key_is_the_primary_id() {
        let user = patron();
        with_record(&user, &PatronPolicy::default(), |record| {
            let barcodes = record.barcodes();
            let ids: Vec<&str> = barcodes.iter().map(|id| id.user_identifier_value.as_str()).collect();
            assert_eq!(ids, ["B-1"]);
            let key = record.user_id();
            assert_eq!(key.user_identifier_value.as_str(), "p1");
            assert_eq!(key.user_identifier_type.unwrap().value, "Primary Key");
        });
    }

    #[test]
    fn the_primary_key_carries_the_partners_type_and_the_barcodes_stay_typed() {
        let user = patron();
        let policy = PatronPolicy::default();
        let standing = Standing::of(&user, &policy, "2026-03-10T12:00:00Z".parse().unwrap(), &TimeZone::UTC);
        for (code, expected) in [("BARCODE", "B-1"), ("UNIV_ID", "U-1"), ("user_name", "p1"), ("OTHER_ID", "p1")] {
            let point = MatchPoint::from_code(code);
            let record = PatronRecord {
                user: &user,
                standing: &standing,
                policy: &policy,
                agency: AgencyId::new("LIB"),
                zone: &TimeZone::UTC,
                kept_id: KeptId::of(&user, point.as_ref()),
            };
            let key = record.user_id();
            assert_eq!(key.user_identifier_type.unwrap().value, "Primary Key", "{code}");
            assert_eq!(key.user_identifier_value.as_str(), expected, "{code}");
            let fields = record.optional_fields(Elements { user_id: true, ..Elements::default() }).unwrap();
            let barcodes: Vec<_> = fields.user_ids.iter().map(|id| id.user_identifier_type.as_ref().unwrap()).collect();
            assert!(barcodes.iter().all(|t| t.value == "Barcode") && barcodes.len() == 1, "{code}: {barcodes:?}");
        }
    }

    #[test]
    fn a_name_without_a_surname_is_sent_whole() {
        let user = AlmaUser { full_name: Some("Prince".into()), ..AlmaUser::default() };
        let Some(NameInformation::Personal(p)) = name(&user) else { panic!("a name") };
        assert_eq!((p.structured, p.unstructured.as_deref()), (None, Some("Prince")));
        assert_eq!(name(&AlmaUser::default()), None);
    }

    #[test]
    fn active_loans_become_loaned_items() {
        let loans: Vec<Loan> = serde_json::from_value(serde_json::json!([
            {"loan_id": "1", "item_barcode": "39000000001", "due_date": "2026-04-01T22:59:00Z", "loan_status": "ACTIVE", "title": "T"},
            {"loan_id": "2", "item_barcode": "39000000002", "loan_status": "COMPLETE"}
        ]))
        .unwrap();
        let items = loaned_items(&loans, &AgencyId::new("LIB"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].item_id.item_identifier_value.as_str(), "39000000001");
        assert_eq!(items[0].date_due, Some(DueDate::Date("2026-04-01T22:59:00Z".parse().unwrap())));
    }
}
