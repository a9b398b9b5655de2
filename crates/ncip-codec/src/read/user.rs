//! Readers for `UserOptionalFields`, loans, requests and the fiscal account of `LookupUserResponse`.

use super::common::{
    agency_id, amount, due_date_choice, fiscal_transaction_information, item_id, request_id, required_element, user_id,
};
use super::cursor::{Child, Cursor, Result};
use super::item::bibliographic_id;
use crate::model::user::{
    AccountDetails, Address, BlockOrTrap, ElectronicAddress, LoanedItem, NameInformation, OrganizationNameInformation,
    PersonalNameInformation, PhysicalAddress, PhysicalAddressForm, RequestedItem, StructuredAddress,
    StructuredPersonalUserName, UnstructuredAddress, UserAddressInformation, UserFiscalAccount, UserOptionalFields,
    UserPrivilege, UserPrivilegeStatus,
};

/// `UserOptionalFields`.
pub(crate) fn user_optional_fields<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UserOptionalFields> {
    let mut f = UserOptionalFields::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "NameInformation" => f.name_information = c.within(&ch, name_information)?,
            "UserAddressInformation" => f.user_address_informations.push(c.within(&ch, user_address_information)?),
            "DateOfBirth" => f.date_of_birth = Some(c.date(&ch)?),
            "UserLanguage" => f.user_languages.push(c.scheme_value(&ch)?),
            "UserPrivilege" => f.user_privileges.push(c.within(&ch, user_privilege)?),
            "BlockOrTrap" => f.block_or_traps.push(c.within(&ch, block_or_trap)?),
            "UserId" => f.user_ids.push(c.within(&ch, user_id)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(f)
}

fn name_information<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Option<NameInformation>> {
    let mut personal = None;
    let mut organizations = Vec::new();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "PersonalNameInformation" => personal = Some(c.within(&ch, personal_name)?),
            "OrganizationNameInformation" => organizations.push(c.within(&ch, organization_name)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(match personal {
        Some(p) => Some(NameInformation::Personal(p)),
        None if !organizations.is_empty() => Some(NameInformation::Organization(organizations)),
        None => None,
    })
}

fn personal_name<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<PersonalNameInformation> {
    let mut p = PersonalNameInformation::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "StructuredPersonalUserName" => p.structured = Some(c.within(&ch, structured_name)?),
            "UnstructuredPersonalUserName" => p.unstructured = Some(c.string(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(p)
}

fn structured_name<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<StructuredPersonalUserName> {
    let mut n = StructuredPersonalUserName::default();
    let mut surname = None;
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "Prefix" => n.prefix = Some(c.string(&ch)?),
            "GivenName" => n.given_name = Some(c.string(&ch)?),
            "Initials" => n.initials = Some(c.string(&ch)?),
            "Surname" => surname = Some(c.string(&ch)?),
            "Suffix" => n.suffix = Some(c.string(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    n.surname = required_element(c, surname, "Surname")?;
    Ok(n)
}

fn organization_name<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<OrganizationNameInformation> {
    let mut o = OrganizationNameInformation::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "OrganizationNameType" => o.organization_name_type = c.scheme_value(&ch)?,
            "OrganizationName" => o.organization_name = c.string(&ch)?,
            _ => c.skip(&ch)?,
        }
    }
    Ok(o)
}

fn user_address_information<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UserAddressInformation> {
    let mut a =
        UserAddressInformation { role: Default::default(), valid_from_date: None, valid_to_date: None, address: None };
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "UserAddressRoleType" => a.role = c.scheme_value(&ch)?,
            "ValidFromDate" => a.valid_from_date = Some(c.date(&ch)?),
            "ValidToDate" => a.valid_to_date = Some(c.date(&ch)?),
            "PhysicalAddress" if a.address.is_none() => {
                a.address = c.within(&ch, physical_address)?.map(Address::Physical);
            }
            "ElectronicAddress" if a.address.is_none() => {
                a.address = Some(Address::Electronic(c.within(&ch, electronic_address)?));
            }
            _ => c.skip(&ch)?,
        }
    }
    Ok(a)
}

fn physical_address<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<Option<PhysicalAddress>> {
    let mut form = None;
    let mut physical_address_type = Default::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "StructuredAddress" if form.is_none() => {
                let address = c.within(&ch, structured_address)?;
                form = Some(PhysicalAddressForm::Structured(Box::new(address)));
            }
            "UnstructuredAddress" if form.is_none() => {
                form = Some(PhysicalAddressForm::Unstructured(c.within(&ch, unstructured_address)?));
            }
            "PhysicalAddressType" => physical_address_type = c.scheme_value(&ch)?,
            _ => c.skip(&ch)?,
        }
    }
    Ok(form.map(|form| PhysicalAddress { form, physical_address_type }))
}

fn structured_address<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<StructuredAddress> {
    let mut s = StructuredAddress::default();
    while let Some(ch) = c.next_child(el)? {
        let slot = match ch.name() {
            "LocationWithinBuilding" => &mut s.location_within_building,
            "HouseName" => &mut s.house_name,
            "Street" => &mut s.street,
            "PostOfficeBox" => &mut s.post_office_box,
            "District" => &mut s.district,
            "Line1" => &mut s.line1,
            "Line2" => &mut s.line2,
            "Locality" => &mut s.locality,
            "Region" => &mut s.region,
            "Country" => &mut s.country,
            "PostalCode" => &mut s.postal_code,
            "CareOf" => &mut s.care_of,
            _ => {
                c.skip(&ch)?;
                continue;
            }
        };
        *slot = Some(c.string(&ch)?);
    }
    Ok(s)
}

fn unstructured_address<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UnstructuredAddress> {
    let mut u = UnstructuredAddress::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "UnstructuredAddressType" => u.address_type = c.scheme_value(&ch)?,
            "UnstructuredAddressData" => u.data = c.string(&ch)?,
            _ => c.skip(&ch)?,
        }
    }
    Ok(u)
}

fn electronic_address<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<ElectronicAddress> {
    let mut e = ElectronicAddress::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "ElectronicAddressType" => e.address_type = c.scheme_value(&ch)?,
            "ElectronicAddressData" => e.data = c.string(&ch)?,
            _ => c.skip(&ch)?,
        }
    }
    Ok(e)
}

fn user_privilege<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UserPrivilege> {
    let mut p = UserPrivilege::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "AgencyId" => p.agency_id = agency_id(c, &ch)?,
            "AgencyUserPrivilegeType" => p.agency_user_privilege_type = c.scheme_value(&ch)?,
            "ValidFromDate" => p.valid_from_date = Some(c.date(&ch)?),
            "ValidToDate" => p.valid_to_date = Some(c.date(&ch)?),
            "UserPrivilegeStatus" => p.user_privilege_status = Some(c.within(&ch, user_privilege_status)?),
            "UserPrivilegeDescription" => p.description = Some(c.string(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(p)
}

fn user_privilege_status<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UserPrivilegeStatus> {
    let mut s = UserPrivilegeStatus::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "UserPrivilegeStatusType" => s.status_type = c.scheme_value(&ch)?,
            "DateOfUserPrivilegeStatus" => s.date = Some(c.date(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(s)
}

fn block_or_trap<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<BlockOrTrap> {
    let mut b = BlockOrTrap::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "AgencyId" => b.agency_id = agency_id(c, &ch)?,
            "BlockOrTrapType" => b.block_or_trap_type = c.scheme_value(&ch)?,
            "ValidFromDate" => b.valid_from_date = Some(c.date(&ch)?),
            "ValidToDate" => b.valid_to_date = Some(c.date(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(b)
}

/// `LoanedItem`.
pub(crate) fn loaned_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<LoanedItem> {
    let mut l = LoanedItem::default();
    while let Some(ch) = c.next_child(el)? {
        if due_date_choice(c, &ch, "DateDue", &mut l.date_due)? {
            continue;
        }
        match ch.name() {
            "ItemId" => l.item_id = c.within(&ch, item_id)?,
            "BibliographicId" => l.bibliographic_ids.extend(c.within(&ch, bibliographic_id)?),
            "ReminderLevel" => l.reminder_level = Some(c.unsigned(&ch)?),
            "Amount" => l.amount = Some(c.within(&ch, amount)?),
            "Title" => l.title = Some(c.string(&ch)?),
            "MediumType" => l.medium_type = Some(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(l)
}

/// `RequestedItem`.
pub(crate) fn requested_item<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<RequestedItem> {
    let mut r = RequestedItem::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "RequestId" => r.request_id = Some(c.within(&ch, request_id)?),
            "ItemId" => r.item_id = Some(c.within(&ch, item_id)?),
            "BibliographicId" => r.bibliographic_ids.extend(c.within(&ch, bibliographic_id)?),
            "RequestType" => r.request_type = Some(c.scheme_value(&ch)?),
            "RequestStatusType" => r.request_status_type = Some(c.scheme_value(&ch)?),
            "DatePlaced" => r.date_placed = Some(c.date(&ch)?),
            "PickupDate" => r.pickup_date = Some(c.date(&ch)?),
            "PickupLocation" => r.pickup_location = Some(c.scheme_value(&ch)?),
            "PickupExpiryDate" => r.pickup_expiry_date = Some(c.date(&ch)?),
            "ReminderLevel" => r.reminder_level = Some(c.unsigned(&ch)?),
            "HoldQueuePosition" => r.hold_queue_position = Some(c.unsigned(&ch)?),
            "Title" => r.title = Some(c.string(&ch)?),
            "MediumType" => r.medium_type = Some(c.scheme_value(&ch)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(r)
}

/// `UserFiscalAccount`.
pub(crate) fn user_fiscal_account<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<UserFiscalAccount> {
    let mut a = UserFiscalAccount::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "AccountBalance" => a.account_balance = c.within(&ch, amount)?,
            "AccountDetails" => a.account_details.push(c.within(&ch, account_details)?),
            _ => c.skip(&ch)?,
        }
    }
    Ok(a)
}

fn account_details<'a>(c: &mut Cursor<'a>, el: &Child<'a>) -> Result<AccountDetails> {
    let mut d = AccountDetails::default();
    while let Some(ch) = c.next_child(el)? {
        match ch.name() {
            "AccrualDate" => d.accrual_date = Some(c.date(&ch)?),
            "FiscalTransactionInformation" => {
                d.fiscal_transaction_information = Some(c.within(&ch, fiscal_transaction_information)?);
            }
            _ => c.skip(&ch)?,
        }
    }
    Ok(d)
}
