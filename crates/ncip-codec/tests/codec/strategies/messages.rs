//! Strategies for the request messages.

use super::*;

pub fn lookup_user() -> BoxedStrategy<Message> {
    (of(initiation_header()), user_or_auth(), svs(), any::<(bool, bool, bool)>())
        .prop_map(|(header, (u, a), uet, f)| {
            Message::LookupUser(LookupUser {
                header,
                user_id: u,
                authentication_inputs: a,
                user_element_types: uet,
                loaned_items_desired: f.0,
                requested_items_desired: f.1,
                user_fiscal_account_desired: f.2,
                patch_spans: Default::default(),
            })
        })
        .boxed()
}

pub fn accept_item() -> BoxedStrategy<Message> {
    (
        (of(initiation_header()), of(ts()), request_id(), sv(), of(user_id()), of(item_id())),
        (of(due_date()), any::<bool>(), of(fiscal()), of(item_optional_fields()), of(user_optional_fields())),
        (of(sv()), of(ts())),
    )
        .prop_map(|((header, ma, rid, rat, uid, iid), (dfr, rnp, fti, iof, uof), (pl, ped))| {
            Message::AcceptItem(AcceptItem {
                header,
                mandated_action: ma.map(|date_event_occurred| MandatedAction { date_event_occurred }),
                request_id: rid,
                requested_action_type: rat,
                user_id: uid,
                item_id: iid,
                date_for_return: dfr,
                renewal_not_permitted: rnp,
                fiscal_transaction_information: fti,
                item_optional_fields: iof,
                user_optional_fields: uof,
                pickup_location: pl,
                pickup_expiry_date: ped,
                patch_spans: Default::default(),
            })
        })
        .boxed()
}

pub fn check_out_item() -> BoxedStrategy<Message> {
    (
        (of(initiation_header()), of(ts()), user_or_auth(), item_id(), of(request_id())),
        (of(amount()), of(amount()), svs(), any::<bool>(), of(ts()), svs(), svs()),
    )
        .prop_map(|((header, ma, (u, a), iid, rid), (afa, pfa, aiur, rd, ddd, iet, uet))| {
            Message::CheckOutItem(CheckOutItem {
                header,
                mandated_action: ma.map(|date_event_occurred| MandatedAction { date_event_occurred }),
                user_id: u,
                authentication_inputs: a,
                item_id: iid,
                request_id: rid,
                acknowledged_fee_amount: afa,
                paid_fee_amount: pfa,
                acknowledged_item_use_restriction_types: aiur,
                resource_desired: rd,
                desired_date_due: ddd,
                item_element_types: iet,
                user_element_types: uet,
                patch_spans: Default::default(),
            })
        })
        .boxed()
}

pub fn check_in_item() -> BoxedStrategy<Message> {
    (of(initiation_header()), of(ts()), item_id(), svs(), svs())
        .prop_map(|(header, ma, item_id, iet, uet)| {
            Message::CheckInItem(CheckInItem {
                header,
                mandated_action: ma.map(|date_event_occurred| MandatedAction { date_event_occurred }),
                item_id,
                item_element_types: iet,
                user_element_types: uet,
                patch_spans: Default::default(),
            })
        })
        .boxed()
}

pub fn request_item() -> BoxedStrategy<Message> {
    let targets =
        prop_oneof![vec(item_id(), 1..3).prop_map(|i| (i, Vec::new())), (vec(item_id(), 0..2), vec(bib_id(), 1..3)),];
    (
        (of(initiation_header()), of(ts()), user_or_auth(), targets, of(request_id()), sv(), sv()),
        (of(item_optional_fields()), of(ts()), of(ts()), of(sv()), of(ts()), of(amount()), of(amount())),
        (svs(), svs(), svs()),
    )
        .prop_map(
            |(
                (header, ma, (u, a), (items, bibs), rid, rt, rst),
                (iof, edn, nbd, pl, ped, afa, pfa),
                (aiur, iet, uet),
            )| {
                Message::RequestItem(RequestItem {
                    header,
                    mandated_action: ma.map(|date_event_occurred| MandatedAction { date_event_occurred }),
                    user_id: u,
                    authentication_inputs: a,
                    item_ids: items,
                    bibliographic_ids: bibs,
                    request_id: rid,
                    request_type: rt,
                    request_scope_type: rst,
                    item_optional_fields: iof,
                    earliest_date_needed: edn,
                    need_before_date: nbd,
                    pickup_location: pl,
                    pickup_expiry_date: ped,
                    acknowledged_fee_amount: afa,
                    paid_fee_amount: pfa,
                    acknowledged_item_use_restriction_types: aiur,
                    item_element_types: iet,
                    user_element_types: uet,
                    patch_spans: Default::default(),
                })
            },
        )
        .boxed()
}

pub fn cancel_request_item() -> BoxedStrategy<Message> {
    let target = prop_oneof![
        request_id().prop_map(|r| (Some(r), None)),
        item_id().prop_map(|i| (None, Some(i))),
        (request_id(), item_id()).prop_map(|(r, i)| (Some(r), Some(i))),
    ];
    (
        (of(initiation_header()), of(ts()), user_or_auth(), target),
        (of(sv()), of(sv()), of(amount()), of(amount()), svs(), svs()),
    )
        .prop_map(|((header, ma, (u, a), (rid, iid)), (rt, rst, afa, pfa, iet, uet))| {
            Message::CancelRequestItem(CancelRequestItem {
                header,
                mandated_action: ma.map(|date_event_occurred| MandatedAction { date_event_occurred }),
                user_id: u,
                authentication_inputs: a,
                request_id: rid,
                item_id: iid,
                request_type: rt,
                request_scope_type: rst,
                acknowledged_fee_amount: afa,
                paid_fee_amount: pfa,
                item_element_types: iet,
                user_element_types: uet,
                patch_spans: Default::default(),
            })
        })
        .boxed()
}

pub fn renew_item() -> BoxedStrategy<Message> {
    (
        (of(initiation_header()), of(ts()), user_or_auth(), item_id(), svs(), svs()),
        (of(ts()), of(ts()), of(amount()), of(amount()), svs()),
    )
        .prop_map(|((header, ma, (u, a), iid, iet, uet), (ddd, ddfr, afa, pfa, aiur))| {
            Message::RenewItem(RenewItem {
                header,
                mandated_action: ma.map(|date_event_occurred| MandatedAction { date_event_occurred }),
                user_id: u,
                authentication_inputs: a,
                item_id: iid,
                item_element_types: iet,
                user_element_types: uet,
                desired_date_due: ddd,
                desired_date_for_return: ddfr,
                acknowledged_fee_amount: afa,
                paid_fee_amount: pfa,
                acknowledged_item_use_restriction_types: aiur,
                patch_spans: Default::default(),
            })
        })
        .boxed()
}

pub fn lookup_item() -> BoxedStrategy<Message> {
    let target = prop_oneof![item_id().prop_map(|i| (Some(i), None)), request_id().prop_map(|r| (None, Some(r)))];
    (of(initiation_header()), target, svs(), any::<(bool, bool)>())
        .prop_map(|(header, (iid, rid), iet, f)| {
            Message::LookupItem(LookupItem {
                header,
                item_id: iid,
                request_id: rid,
                item_element_types: iet,
                current_borrower_desired: f.0,
                current_requesters_desired: f.1,
                patch_spans: Default::default(),
            })
        })
        .boxed()
}

pub fn envelope() -> impl Strategy<Value = VersionEnvelope> {
    prop_oneof![Just(VersionEnvelope::NcipMessage), Just(VersionEnvelope::NcipVersionMessage)]
}

pub fn lookup_version() -> BoxedStrategy<Message> {
    (envelope(), of(agency()), of(agency()))
        .prop_map(|(envelope, from, to)| {
            Message::LookupVersion(LookupVersion { envelope, from_agency_id: from, to_agency_id: to })
        })
        .boxed()
}
