//! Strategies for item- and user-side structures.

use super::*;

// ---- item ---------------------------------------------------------------------------------------

pub fn bib_item_id() -> impl Strategy<Value = BibliographicItemId> {
    (ident_text(), of(sv())).prop_map(|(identifier, code)| BibliographicItemId { identifier, code })
}

pub fn bib_record_id() -> impl Strategy<Value = BibliographicRecordId> {
    let source = of(prop_oneof![agency().prop_map(RecordIdSource::Agency), sv().prop_map(RecordIdSource::Code)]);
    (ident_text(), source).prop_map(|(identifier, source)| BibliographicRecordId { identifier, source })
}

pub fn bib_id() -> impl Strategy<Value = BibliographicId> {
    prop_oneof![bib_item_id().prop_map(BibliographicId::Item), bib_record_id().prop_map(BibliographicId::Record)]
}

pub fn bib_description() -> BoxedStrategy<BibliographicDescription> {
    (
        (of(text()), of(text()), of(bib_item_id()), vec(bib_record_id(), 0..2), of(text()), of(text())),
        (of(text()), of(text()), of(text()), of(text()), of(text()), of(text())),
        (of(text()), of(sv()), of(text()), of(sv()), of(sv()), of(sv())),
    )
        .prop_map(|((a, aoc, bii, bri, ed, pag), (pop, pd, pdoc, publ, stn, title), (toc, lvl, sb, edf, lang, mt))| {
            BibliographicDescription {
                author: a,
                author_of_component: aoc,
                bibliographic_item_id: bii,
                bibliographic_record_ids: bri,
                edition: ed,
                pagination: pag,
                place_of_publication: pop,
                publication_date: pd,
                publication_date_of_component: pdoc,
                publisher: publ,
                series_title_number: stn,
                title,
                title_of_component: toc,
                bibliographic_level: lvl,
                sponsoring_body: sb,
                electronic_data_format_type: edf,
                language: lang,
                medium_type: mt,
            }
        })
        .boxed()
}

pub fn item_optional_fields() -> BoxedStrategy<ItemOptionalFields> {
    let description = (of(text()), of(text()), of(sv()), of(any::<u64>())).prop_map(|(cn, copy, lvl, n)| {
        ItemDescription { call_number: cn, copy_number: copy, item_description_level: lvl, number_of_pieces: n }
    });
    let location =
        (sv(), vec((any::<u64>(), text()), 0..3), of(ts()), of(ts())).prop_map(|(t, names, vf, vt)| Location {
            location_type: t,
            location_name: names.into_iter().map(|(level, value)| LocationNameInstance { level, value }).collect(),
            valid_from_date: vf,
            valid_to_date: vt,
        });
    (
        of(bib_description()),
        svs(),
        of(sv()),
        of(any::<u64>()),
        of(description),
        vec(location, 0..2),
        of(sv()),
        any::<bool>(),
        of(ts()),
    )
        .prop_map(|(bd, iur, cs, hql, id, locations, sm, sf, dd)| ItemOptionalFields {
            bibliographic_description: bd,
            item_use_restriction_types: iur,
            circulation_status: cs,
            hold_queue_length: hql,
            item_description: id,
            locations,
            security_marker: sm,
            sensitization_flag: sf,
            date_due: dd,
        })
        .boxed()
}

// ---- user ---------------------------------------------------------------------------------------

pub fn structured_address() -> BoxedStrategy<StructuredAddress> {
    let tail = || (of(text()), of(text()), of(text()), of(text()), of(text()));
    let lines = (text(), of(text()), tail()).prop_map(|(l1, l2, (loc, reg, c, pc, co))| StructuredAddress {
        line1: Some(l1),
        line2: l2,
        locality: loc,
        region: reg,
        country: c,
        postal_code: pc,
        care_of: co,
        ..Default::default()
    });
    let street = ((of(text()), of(text()), of(text()), of(text()), of(text())), tail()).prop_map(
        |((lwb, hn, st, pob, d), (loc, reg, c, pc, co))| StructuredAddress {
            location_within_building: lwb,
            house_name: hn,
            street: st,
            post_office_box: pob,
            district: d,
            locality: loc,
            region: reg,
            country: c,
            postal_code: pc,
            care_of: co,
            ..Default::default()
        },
    );
    prop_oneof![lines, street].boxed()
}

pub fn address() -> BoxedStrategy<Address> {
    let form = prop_oneof![
        structured_address().prop_map(|s| PhysicalAddressForm::Structured(Box::new(s))),
        (sv(), text()).prop_map(|(address_type, data)| PhysicalAddressForm::Unstructured(UnstructuredAddress {
            address_type,
            data
        })),
    ];
    prop_oneof![
        (form, sv()).prop_map(|(form, t)| Address::Physical(PhysicalAddress { form, physical_address_type: t })),
        (sv(), text()).prop_map(|(address_type, data)| Address::Electronic(ElectronicAddress { address_type, data })),
    ]
    .boxed()
}

pub fn name_information() -> impl Strategy<Value = NameInformation> {
    let structured = (of(text()), of(text()), of(text()), text(), of(text())).prop_map(|(p, g, i, s, x)| {
        StructuredPersonalUserName { prefix: p, given_name: g, initials: i, surname: s, suffix: x }
    });
    prop_oneof![
        (of(structured), of(text())).prop_map(|(structured, unstructured)| {
            NameInformation::Personal(PersonalNameInformation { structured, unstructured })
        }),
        vec(
            (sv(), text()).prop_map(|(organization_name_type, organization_name)| {
                OrganizationNameInformation { organization_name_type, organization_name }
            }),
            1..3
        )
        .prop_map(NameInformation::Organization),
    ]
}

pub fn user_optional_fields() -> BoxedStrategy<UserOptionalFields> {
    let address_info = (sv(), of(ts()), of(ts()), of(address())).prop_map(|(role, vf, vt, address)| {
        UserAddressInformation { role, valid_from_date: vf, valid_to_date: vt, address }
    });
    let privilege = (
        agency(),
        sv(),
        of(ts()),
        of(ts()),
        of((sv(), of(ts())).prop_map(|(status_type, date)| UserPrivilegeStatus { status_type, date })),
        of(text()),
    )
        .prop_map(|(agency_id, t, vf, vt, status, description)| UserPrivilege {
            agency_id,
            agency_user_privilege_type: t,
            valid_from_date: vf,
            valid_to_date: vt,
            user_privilege_status: status,
            description,
        });
    let block = (agency(), sv(), of(ts()), of(ts())).prop_map(|(agency_id, t, vf, vt)| BlockOrTrap {
        agency_id,
        block_or_trap_type: t,
        valid_from_date: vf,
        valid_to_date: vt,
    });
    (
        of(name_information()),
        vec(address_info, 0..3),
        of(ts()),
        svs(),
        vec(privilege, 0..2),
        vec(block, 0..2),
        vec(user_id(), 0..2),
    )
        .prop_map(|(ni, addrs, dob, langs, privs, blocks, ids)| UserOptionalFields {
            name_information: ni,
            user_address_informations: addrs,
            date_of_birth: dob,
            user_languages: langs,
            user_privileges: privs,
            block_or_traps: blocks,
            user_ids: ids,
        })
        .boxed()
}

pub fn loaned_item() -> BoxedStrategy<LoanedItem> {
    (item_id(), vec(bib_id(), 0..2), of(any::<u64>()), of(due_date()), of(amount()), of(text()), of(sv()))
        .prop_map(|(item_id, bibliographic_ids, reminder_level, date_due, amount, title, medium_type)| LoanedItem {
            item_id,
            bibliographic_ids,
            reminder_level,
            date_due,
            amount,
            title,
            medium_type,
        })
        .boxed()
}

pub fn requested_item() -> BoxedStrategy<RequestedItem> {
    (
        (of(request_id()), of(item_id()), vec(bib_id(), 0..2), of(sv()), of(sv()), of(ts())),
        (of(ts()), of(sv()), of(ts()), of(any::<u64>()), of(any::<u64>()), of(text()), of(sv())),
    )
        .prop_map(|((rid, iid, bibs, rt, rst, dp), (pd, pl, ped, rl, hqp, title, mt))| RequestedItem {
            request_id: rid,
            item_id: iid,
            bibliographic_ids: bibs,
            request_type: rt,
            request_status_type: rst,
            date_placed: dp,
            pickup_date: pd,
            pickup_location: pl,
            pickup_expiry_date: ped,
            reminder_level: rl,
            hold_queue_position: hqp,
            title,
            medium_type: mt,
        })
        .boxed()
}

pub fn fiscal_account() -> BoxedStrategy<UserFiscalAccount> {
    let details = (of(ts()), of(fiscal())).prop_map(|(accrual_date, fiscal_transaction_information)| AccountDetails {
        accrual_date,
        fiscal_transaction_information,
    });
    (amount(), vec(details, 0..2))
        .prop_map(|(account_balance, account_details)| UserFiscalAccount { account_balance, account_details })
        .boxed()
}
