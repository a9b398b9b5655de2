//! Strategies for the response messages (problems or data, as the XSD choice allows), and [`message`]
//! over every message kind.

use super::messages::*;
use super::*;

pub fn lookup_user_response() -> BoxedStrategy<Message> {
    let data = (
        of(user_id()),
        vec(fiscal_account(), 0..2),
        vec(loaned_item(), 0..2),
        vec(requested_item(), 0..2),
        of(user_optional_fields()),
    );
    (of(response_header()), prop_oneof![problems().prop_map(Err), data.prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::LookupUserResponse(match body {
                Err(problems) => LookupUserResponse { header, problems, ..Default::default() },
                Ok((user_id, accounts, loans, requests, fields)) => LookupUserResponse {
                    header,
                    problems: Vec::new(),
                    user_id,
                    user_fiscal_accounts: accounts,
                    loaned_items: loans,
                    requested_items: requests,
                    user_optional_fields: fields,
                },
            })
        })
        .boxed()
}

pub fn accept_item_response() -> BoxedStrategy<Message> {
    (of(response_header()), prop_oneof![problems().prop_map(Err), (of(request_id()), of(item_id())).prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::AcceptItemResponse(match body {
                Err(problems) => AcceptItemResponse { header, problems, ..Default::default() },
                Ok((request_id, item_id)) => AcceptItemResponse { header, problems: vec![], request_id, item_id },
            })
        })
        .boxed()
}

pub fn check_out_item_response() -> BoxedStrategy<Message> {
    let failure = (problems(), of(amount()), svs());
    let success = (
        of(item_id()),
        of(user_id()),
        of(due_date()),
        of(any::<u64>()),
        of(fiscal()),
        of(item_optional_fields()),
        of(user_optional_fields()),
    );
    (of(response_header()), prop_oneof![failure.prop_map(Err), success.prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::CheckOutItemResponse(match body {
                Err((problems, fee, restrictions)) => CheckOutItemResponse {
                    header,
                    problems,
                    required_fee_amount: fee,
                    required_item_use_restriction_types: restrictions,
                    ..Default::default()
                },
                Ok((iid, uid, dd, rc, fti, iof, uof)) => CheckOutItemResponse {
                    header,
                    item_id: iid,
                    user_id: uid,
                    date_due: dd,
                    renewal_count: rc,
                    fiscal_transaction_information: fti,
                    item_optional_fields: iof,
                    user_optional_fields: uof,
                    ..Default::default()
                },
            })
        })
        .boxed()
}

pub fn check_in_item_response() -> BoxedStrategy<Message> {
    let success = (of(item_id()), of(user_id()), of(fiscal()), of(item_optional_fields()), of(user_optional_fields()));
    (of(response_header()), prop_oneof![problems().prop_map(Err), success.prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::CheckInItemResponse(match body {
                Err(problems) => CheckInItemResponse { header, problems, ..Default::default() },
                Ok((iid, uid, fti, iof, uof)) => CheckInItemResponse {
                    header,
                    problems: vec![],
                    item_id: iid,
                    user_id: uid,
                    fiscal_transaction_information: fti,
                    item_optional_fields: iof,
                    user_optional_fields: uof,
                },
            })
        })
        .boxed()
}

pub fn request_item_response() -> BoxedStrategy<Message> {
    let failure = (problems(), of(amount()), svs());
    let success = (
        (of(request_id()), of(item_id()), of(user_id()), of(sv()), of(sv()), of(ts()), of(ts())),
        (of(fiscal()), of(item_optional_fields()), of(user_optional_fields())),
    );
    (of(response_header()), prop_oneof![failure.prop_map(Err), success.prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::RequestItemResponse(match body {
                Err((problems, fee, restrictions)) => RequestItemResponse {
                    header,
                    problems,
                    required_fee_amount: fee,
                    required_item_use_restriction_types: restrictions,
                    ..Default::default()
                },
                Ok(((rid, iid, uid, rt, rst, da, hpd), (fti, iof, uof))) => RequestItemResponse {
                    header,
                    request_id: rid,
                    item_id: iid,
                    user_id: uid,
                    request_type: rt,
                    request_scope_type: rst,
                    date_available: da,
                    hold_pickup_date: hpd,
                    fiscal_transaction_information: fti,
                    item_optional_fields: iof,
                    user_optional_fields: uof,
                    ..Default::default()
                },
            })
        })
        .boxed()
}

pub fn renew_item_response() -> BoxedStrategy<Message> {
    let failure = (problems(), of(amount()), svs());
    let success = (
        of(item_id()),
        of(user_id()),
        of(ts()),
        of(ts()),
        of(any::<u64>()),
        of(fiscal()),
        of(item_optional_fields()),
        of(user_optional_fields()),
    );
    (of(response_header()), prop_oneof![failure.prop_map(Err), success.prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::RenewItemResponse(match body {
                Err((problems, fee, restrictions)) => RenewItemResponse {
                    header,
                    problems,
                    required_fee_amount: fee,
                    required_item_use_restriction_types: restrictions,
                    ..Default::default()
                },
                Ok((iid, uid, dd, dfr, rc, fti, iof, uof)) => RenewItemResponse {
                    header,
                    item_id: iid,
                    user_id: uid,
                    date_due: dd,
                    date_for_return: dfr,
                    renewal_count: rc,
                    fiscal_transaction_information: fti,
                    item_optional_fields: iof,
                    user_optional_fields: uof,
                    ..Default::default()
                },
            })
        })
        .boxed()
}

pub fn lookup_item_response() -> BoxedStrategy<Message> {
    let success = (of(request_id()), of(item_id()), of(ts()), of(ts()), of(item_optional_fields()));
    (of(response_header()), prop_oneof![problems().prop_map(Err), success.prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::LookupItemResponse(match body {
                Err(problems) => LookupItemResponse { header, problems, ..Default::default() },
                Ok((rid, iid, hpd, dr, iof)) => LookupItemResponse {
                    header,
                    problems: vec![],
                    request_id: rid,
                    item_id: iid,
                    hold_pickup_date: hpd,
                    date_recalled: dr,
                    item_optional_fields: iof,
                },
            })
        })
        .boxed()
}

pub fn lookup_version_response() -> BoxedStrategy<Message> {
    let body = prop_oneof![
        problems().prop_map(|p| (p, vec![], vec![])),
        (vec(text(), 0..3), vec(text(), 0..3)).prop_map(|(v, s)| (vec![], v, s)),
    ];
    (envelope(), of(agency()), of(agency()), body)
        .prop_map(|(envelope, from, to, (problems, versions, services))| {
            Message::LookupVersionResponse(LookupVersionResponse {
                envelope,
                from_agency_id: from,
                to_agency_id: to,
                problems,
                versions_supported: versions,
                services_supported: services,
            })
        })
        .boxed()
}

pub fn other_and_top_level() -> BoxedStrategy<Message> {
    prop_oneof![
        (
            prop_oneof![Just("DeleteItem"), Just("CreateUser"), Just("UpdateRequestItem")],
            of(response_header()),
            problems()
        )
            .prop_map(|(service, header, problems)| Message::OtherResponse(OtherResponse {
                service: service.to_owned(),
                header,
                problems
            })),
        problems().prop_map(Message::Problem),
    ]
    .boxed()
}

pub fn message() -> BoxedStrategy<Message> {
    prop_oneof![
        lookup_user(),
        lookup_user_response(),
        accept_item(),
        accept_item_response(),
        check_out_item(),
        check_out_item_response(),
        check_in_item(),
        check_in_item_response(),
        request_item(),
        request_item_response(),
        cancel_request_item(),
        cancel_request_item_response_strategy(),
        renew_item(),
        renew_item_response(),
        lookup_item(),
        lookup_item_response(),
        lookup_version(),
        lookup_version_response(),
        other_and_top_level(),
    ]
    .boxed()
}

pub fn cancel_request_item_response_strategy() -> BoxedStrategy<Message> {
    let success = (of(request_id()), of(item_id()), of(user_id()), of(fiscal()), of(item_optional_fields()));
    (of(response_header()), prop_oneof![problems().prop_map(Err), success.prop_map(Ok)])
        .prop_map(|(header, body)| {
            Message::CancelRequestItemResponse(match body {
                Err(problems) => CancelRequestItemResponse { header, problems, ..Default::default() },
                Ok((rid, iid, uid, fti, iof)) => CancelRequestItemResponse {
                    header,
                    request_id: rid,
                    item_id: iid,
                    user_id: uid,
                    fiscal_transaction_information: fti,
                    item_optional_fields: iof,
                    ..Default::default()
                },
            })
        })
        .boxed()
}
