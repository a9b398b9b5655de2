//! proptest strategies for every value the codec can write (see `properties.rs` for the rules).

pub mod messages;
pub mod parts;
pub mod responses;

use jiff::Timestamp;
use ncip_codec::model::item::{
    BibliographicDescription, BibliographicId, BibliographicItemId, BibliographicRecordId, ItemDescription,
    ItemOptionalFields, Location, LocationNameInstance, RecordIdSource,
};
use ncip_codec::model::user::{
    AccountDetails, Address, BlockOrTrap, ElectronicAddress, LoanedItem, NameInformation, OrganizationNameInformation,
    PersonalNameInformation, PhysicalAddress, PhysicalAddressForm, RequestedItem, StructuredAddress,
    StructuredPersonalUserName, UnstructuredAddress, UserAddressInformation, UserFiscalAccount, UserOptionalFields,
    UserPrivilege, UserPrivilegeStatus,
};
use ncip_codec::*;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

pub use parts::*;
pub use responses::message;

// ---- leaves -------------------------------------------------------------------------------------

pub fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 &<>\"'.ěščřžýáíé\t\n\r\\]-]{0,12}"
}

pub fn ident_text() -> impl Strategy<Value = String> {
    "[ \t]{0,2}[A-Za-z0-9&<>-]{1,10}( [A-Za-z0-9]{1,4})?[ \n]{0,2}"
}

pub fn scheme() -> impl Strategy<Value = String> {
    "[a-z:/.&\"<>\t\n]{1,20}"
}

pub fn sv() -> impl Strategy<Value = SchemeValue> {
    (of(scheme()), text()).prop_map(|(scheme, value)| SchemeValue { scheme, value })
}

pub fn svs() -> impl Strategy<Value = Vec<SchemeValue>> {
    vec(sv(), 0..3)
}

pub fn ts() -> impl Strategy<Value = Timestamp> {
    (0i64..7_258_118_400, prop_oneof![Just(0i32), 0i32..1_000_000_000])
        .prop_map(|(s, ns)| Timestamp::new(s, ns).unwrap())
}

pub fn agency() -> impl Strategy<Value = AgencyId> {
    (of(scheme()), ident_text()).prop_map(|(scheme, id)| AgencyId { scheme, id: Identifier::new(id) })
}

pub fn user_id() -> impl Strategy<Value = UserId> {
    (of(agency()), of(sv()), ident_text()).prop_map(|(agency_id, t, v)| UserId {
        agency_id,
        user_identifier_type: t,
        user_identifier_value: UserIdentifier::new(v),
    })
}

pub fn item_id() -> impl Strategy<Value = ItemId> {
    (of(agency()), of(sv()), ident_text()).prop_map(|(agency_id, t, v)| ItemId {
        agency_id,
        item_identifier_type: t,
        item_identifier_value: ItemIdentifier::new(v),
    })
}

pub fn request_id() -> impl Strategy<Value = RequestId> {
    (of(agency()), of(sv()), ident_text()).prop_map(|(agency_id, t, v)| RequestId {
        agency_id,
        request_identifier_type: t,
        request_identifier_value: RequestIdentifier::new(v),
    })
}

pub fn initiation_header() -> BoxedStrategy<InitiationHeader> {
    (of(sv()), of(text()), agency(), of(text()), of(agency()), of(sv()), agency(), of(sv()))
        .prop_map(|(fsi, fsa, from, faa, obo, tsi, to, apt)| InitiationHeader {
            from_system_id: fsi,
            from_system_authentication: fsa,
            from_agency_id: from,
            from_agency_authentication: faa,
            on_behalf_of_agency: obo,
            to_system_id: tsi,
            to_agency_id: to,
            application_profile_type: apt,
        })
        .boxed()
}

pub fn response_header() -> BoxedStrategy<ResponseHeader> {
    (of(sv()), of(text()), agency(), of(text()), of(sv()), agency())
        .prop_map(|(fsi, fsa, from, faa, tsi, to)| ResponseHeader {
            from_system_id: fsi,
            from_system_authentication: fsa,
            from_agency_id: from,
            from_agency_authentication: faa,
            to_system_id: tsi,
            to_agency_id: to,
        })
        .boxed()
}

pub fn problem() -> impl Strategy<Value = Problem> {
    (sv(), of(text()), of(text()), of(text())).prop_map(|(problem_type, detail, element, value)| Problem {
        problem_type,
        detail,
        element,
        value,
    })
}

pub fn problems() -> impl Strategy<Value = Vec<Problem>> {
    vec(problem(), 1..3)
}

pub fn amount() -> impl Strategy<Value = Amount> {
    (of(sv()), any::<i64>()).prop_map(|(currency_code, monetary_value)| Amount { currency_code, monetary_value })
}

pub fn auth_input() -> impl Strategy<Value = AuthenticationInput> {
    (text(), of(sv()), sv()).prop_map(|(data, data_format_type, input_type)| AuthenticationInput {
        data,
        data_format_type,
        input_type,
    })
}

/// `UserId | AuthenticationInput+`, as requests require.
pub fn user_or_auth() -> impl Strategy<Value = (Option<UserId>, Vec<AuthenticationInput>)> {
    prop_oneof![
        user_id().prop_map(|u| (Some(u), Vec::new())),
        vec(auth_input(), 1..3).prop_map(|a| (None, a)),
        (user_id(), vec(auth_input(), 1..2)).prop_map(|(u, a)| (Some(u), a)),
    ]
}

pub fn fiscal() -> BoxedStrategy<FiscalTransactionInformation> {
    (
        of(sv()),
        of((agency(), text()).prop_map(|(agency_id, value)| FiscalTransactionReferenceId { agency_id, value })),
        of(sv()),
        of(ts()),
        of(ts()),
        of(amount()),
        of(sv()),
        of(text()),
        of(request_id()),
    )
        .prop_map(|(a, r, t, vf, vt, amount, pm, d, rid)| FiscalTransactionInformation {
            fiscal_action_type: a,
            fiscal_transaction_reference_id: r,
            fiscal_transaction_type: t,
            valid_from_date: vf,
            valid_to_date: vt,
            amount,
            payment_method_type: pm,
            fiscal_transaction_description: d,
            request_id: rid,
        })
        .boxed()
}

pub fn due_date() -> impl Strategy<Value = DueDate> {
    prop_oneof![ts().prop_map(DueDate::Date), Just(DueDate::IndeterminateLoanPeriod), Just(DueDate::NonReturnable)]
}
