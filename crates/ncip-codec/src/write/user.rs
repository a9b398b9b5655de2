//! Writers for `UserOptionalFields`, loans, requests and fiscal accounts (NCIP 2.02 XSD order).

use super::common::{
    agency_id, amount, opt_amount, opt_due_date, opt_fiscal_transaction_information, opt_item_id, opt_request_id,
    user_id,
};
use super::item::bibliographic_ids;
use super::xml::XmlWriter;
use crate::model::user::{
    Address, LoanedItem, NameInformation, PhysicalAddressForm, RequestedItem, StructuredAddress, UserFiscalAccount,
    UserOptionalFields,
};

/// `UserOptionalFields`.
pub(crate) fn opt_user_optional_fields(w: &mut XmlWriter, f: Option<&UserOptionalFields>) {
    let Some(f) = f else { return };
    w.start("UserOptionalFields");
    match &f.name_information {
        Some(NameInformation::Personal(p)) => {
            w.start("NameInformation");
            w.start("PersonalNameInformation");
            if let Some(s) = &p.structured {
                w.start("StructuredPersonalUserName");
                w.opt_text("Prefix", s.prefix.as_deref());
                w.opt_text("GivenName", s.given_name.as_deref());
                w.opt_text("Initials", s.initials.as_deref());
                w.text("Surname", &s.surname);
                w.opt_text("Suffix", s.suffix.as_deref());
                w.end("StructuredPersonalUserName");
            }
            w.opt_text("UnstructuredPersonalUserName", p.unstructured.as_deref());
            w.end("PersonalNameInformation");
            w.end("NameInformation");
        }
        Some(NameInformation::Organization(orgs)) => {
            w.start("NameInformation");
            for o in orgs {
                w.start("OrganizationNameInformation");
                w.scheme_value("OrganizationNameType", &o.organization_name_type);
                w.text("OrganizationName", &o.organization_name);
                w.end("OrganizationNameInformation");
            }
            w.end("NameInformation");
        }
        None => {}
    }
    for a in &f.user_address_informations {
        w.start("UserAddressInformation");
        w.scheme_value("UserAddressRoleType", &a.role);
        w.opt_date("ValidFromDate", a.valid_from_date);
        w.opt_date("ValidToDate", a.valid_to_date);
        match &a.address {
            Some(Address::Physical(p)) => {
                w.start("PhysicalAddress");
                match &p.form {
                    PhysicalAddressForm::Structured(s) => structured_address(w, s),
                    PhysicalAddressForm::Unstructured(u) => {
                        w.start("UnstructuredAddress");
                        w.scheme_value("UnstructuredAddressType", &u.address_type);
                        w.text("UnstructuredAddressData", &u.data);
                        w.end("UnstructuredAddress");
                    }
                }
                w.scheme_value("PhysicalAddressType", &p.physical_address_type);
                w.end("PhysicalAddress");
            }
            Some(Address::Electronic(e)) => {
                w.start("ElectronicAddress");
                w.scheme_value("ElectronicAddressType", &e.address_type);
                w.text("ElectronicAddressData", &e.data);
                w.end("ElectronicAddress");
            }
            None => {}
        }
        w.end("UserAddressInformation");
    }
    w.opt_date("DateOfBirth", f.date_of_birth);
    w.scheme_values("UserLanguage", &f.user_languages);
    for p in &f.user_privileges {
        w.start("UserPrivilege");
        agency_id(w, "AgencyId", &p.agency_id);
        w.scheme_value("AgencyUserPrivilegeType", &p.agency_user_privilege_type);
        w.opt_date("ValidFromDate", p.valid_from_date);
        w.opt_date("ValidToDate", p.valid_to_date);
        if let Some(s) = &p.user_privilege_status {
            w.start("UserPrivilegeStatus");
            w.scheme_value("UserPrivilegeStatusType", &s.status_type);
            w.opt_date("DateOfUserPrivilegeStatus", s.date);
            w.end("UserPrivilegeStatus");
        }
        w.opt_text("UserPrivilegeDescription", p.description.as_deref());
        w.end("UserPrivilege");
    }
    for b in &f.block_or_traps {
        w.start("BlockOrTrap");
        agency_id(w, "AgencyId", &b.agency_id);
        w.scheme_value("BlockOrTrapType", &b.block_or_trap_type);
        w.opt_date("ValidFromDate", b.valid_from_date);
        w.opt_date("ValidToDate", b.valid_to_date);
        w.end("BlockOrTrap");
    }
    for id in &f.user_ids {
        user_id(w, id);
    }
    w.end("UserOptionalFields");
}

/// The XSD's choice: building/street/box/district form, or `Line1`/`Line2`; then the common tail.
fn structured_address(w: &mut XmlWriter, s: &StructuredAddress) {
    w.start("StructuredAddress");
    if s.line1.is_some() {
        w.opt_text("Line1", s.line1.as_deref());
        w.opt_text("Line2", s.line2.as_deref());
    } else {
        w.opt_text("LocationWithinBuilding", s.location_within_building.as_deref());
        w.opt_text("HouseName", s.house_name.as_deref());
        w.opt_text("Street", s.street.as_deref());
        w.opt_text("PostOfficeBox", s.post_office_box.as_deref());
        w.opt_text("District", s.district.as_deref());
    }
    w.opt_text("Locality", s.locality.as_deref());
    w.opt_text("Region", s.region.as_deref());
    w.opt_text("Country", s.country.as_deref());
    w.opt_text("PostalCode", s.postal_code.as_deref());
    w.opt_text("CareOf", s.care_of.as_deref());
    w.end("StructuredAddress");
}

/// `UserFiscalAccount` elements.
pub(crate) fn user_fiscal_accounts(w: &mut XmlWriter, accounts: &[UserFiscalAccount]) {
    for a in accounts {
        w.start("UserFiscalAccount");
        amount(w, "AccountBalance", &a.account_balance);
        for d in &a.account_details {
            w.start("AccountDetails");
            w.opt_date("AccrualDate", d.accrual_date);
            opt_fiscal_transaction_information(w, d.fiscal_transaction_information.as_ref());
            w.end("AccountDetails");
        }
        w.end("UserFiscalAccount");
    }
}

/// `LoanedItem` elements.
pub(crate) fn loaned_items(w: &mut XmlWriter, items: &[LoanedItem]) {
    for l in items {
        w.start("LoanedItem");
        super::common::item_id(w, &l.item_id);
        bibliographic_ids(w, &l.bibliographic_ids);
        w.opt_number("ReminderLevel", l.reminder_level);
        opt_due_date(w, "DateDue", l.date_due.as_ref());
        opt_amount(w, "Amount", l.amount.as_ref());
        w.opt_text("Title", l.title.as_deref());
        w.opt_scheme_value("MediumType", l.medium_type.as_ref());
        w.end("LoanedItem");
    }
}

/// `RequestedItem` elements.
pub(crate) fn requested_items(w: &mut XmlWriter, items: &[RequestedItem]) {
    for r in items {
        w.start("RequestedItem");
        opt_request_id(w, r.request_id.as_ref());
        opt_item_id(w, r.item_id.as_ref());
        bibliographic_ids(w, &r.bibliographic_ids);
        w.opt_scheme_value("RequestType", r.request_type.as_ref());
        w.opt_scheme_value("RequestStatusType", r.request_status_type.as_ref());
        w.opt_date("DatePlaced", r.date_placed);
        w.opt_date("PickupDate", r.pickup_date);
        w.opt_scheme_value("PickupLocation", r.pickup_location.as_ref());
        w.opt_date("PickupExpiryDate", r.pickup_expiry_date);
        w.opt_number("ReminderLevel", r.reminder_level);
        w.opt_number("HoldQueuePosition", r.hold_queue_position);
        w.opt_text("Title", r.title.as_deref());
        w.opt_scheme_value("MediumType", r.medium_type.as_ref());
        w.end("RequestedItem");
    }
}
