//! Patron lookup end to end: Relais' LookupUser over real HTTP to the bridge, answered from the Alma
//! simulator's Users API. Each test states the patron, the policy and what Relais must read back; the
//! simulator's call log shows what was asked of Alma.
//!
//! The bridge is the shared harness started over a seed of the test's choosing (corpus patrons, a low
//! per-second threshold), on the embedded store whose files a test can read.

use crate::support::Harness;
use crate::support::corpus;
use crate::support::lookup::{self, Lookup, demo_seed_with, seeded_user};
use alma_sim::{FaultKind, FaultScope, FaultSpec, Seed};
use bridge::ncip::model::user::{Address, NameInformation, PhysicalAddressForm};
use bridge::ncip::{LookupUserResponse, Message, ReadOptions};
use std::time::{Duration, Instant};

const ALL_ELEMENTS: [&str; 5] =
    ["Name Information", "User Address Information", "User Privilege", "Block Or Trap", "User Id"];

fn response(answer: &str) -> LookupUserResponse {
    match bridge::ncip::read(answer.as_bytes(), &ReadOptions::default()) {
        Ok(Message::LookupUserResponse(r)) => r,
        other => panic!("not a LookupUserResponse ({other:?}): {answer}"),
    }
}

/// The patron Relais was answered with: no Problem, and the identifier the Alma partner matches (the demo
/// partner's User Identifier Type is Barcode) typed "Primary Key", the id Relais keys its patron record by and
/// sends back in AcceptItem and RequestItem.
fn found(answer: &str) -> LookupUserResponse {
    let r = response(answer);
    assert!(r.problems.is_empty(), "unexpected Problem: {answer}");
    let id = r.user_id.as_ref().unwrap_or_else(|| panic!("a UserId: {answer}"));
    assert_eq!(id.user_identifier_type.as_ref().map(|t| t.value.as_str()), Some("Primary Key"), "{answer}");
    r
}

fn kept_id(r: &LookupUserResponse) -> &str {
    r.user_id.as_ref().unwrap().user_identifier_value.as_str()
}

fn problem_type(answer: &str) -> String {
    let r = response(answer);
    assert!(r.user_id.is_none() && r.user_optional_fields.is_none(), "a Problem answer holds no patron data: {answer}");
    r.problems.first().unwrap_or_else(|| panic!("a Problem: {answer}")).problem_type.value.clone()
}

/// The value of one UserPrivilege (PROFILE or STATUS).
fn privilege(r: &LookupUserResponse, kind: &str) -> String {
    let fields = r.user_optional_fields.as_ref().expect("UserOptionalFields");
    let p = fields.user_privileges.iter().find(|p| p.agency_user_privilege_type.value == kind);
    p.and_then(|p| p.user_privilege_status.as_ref())
        .map(|s| s.status_type.value.clone())
        .unwrap_or_else(|| panic!("{kind} in {r:?}"))
}

fn user_calls(bridge: &Harness) -> Vec<(String, String, Option<u16>)> {
    bridge
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.scope == "rest" && c.path.contains("/users/"))
        .map(|c| (c.method, c.path, c.status))
        .collect()
}

#[tokio::test]
async fn active_patron_by_primary_id_answers_each_element_type_alone_and_all_together() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;

    let r = found(&b.ncip(&Lookup::user("patron1").xml()).await);
    assert_eq!(kept_id(&r), "21000000001");
    assert!(r.user_optional_fields.is_none() && r.loaned_items.is_empty(), "nothing asked, nothing answered: {r:?}");

    let r = found(&b.ncip(&Lookup::user("patron1").elements(&["Name Information"]).xml()).await);
    let fields = r.user_optional_fields.unwrap();
    let Some(NameInformation::Personal(name)) = &fields.name_information else { panic!("a personal name: {fields:?}") };
    let structured = name.structured.as_ref().expect("structured name");
    assert_eq!((structured.given_name.as_deref(), structured.surname.as_str()), (Some("Pat"), "Reader"));
    assert!(fields.user_address_informations.is_empty() && fields.user_privileges.is_empty());
    assert!(fields.block_or_traps.is_empty() && fields.user_ids.is_empty());

    let r = found(&b.ncip(&Lookup::user("patron1").elements(&["User Address Information"]).xml()).await);
    let fields = r.user_optional_fields.unwrap();
    assert!(fields.name_information.is_none() && fields.user_privileges.is_empty());
    let kinds: Vec<String> = fields
        .user_address_informations
        .iter()
        .map(|a| match a.address.as_ref().unwrap() {
            Address::Physical(p) => match &p.form {
                PhysicalAddressForm::Structured(s) => {
                    format!("postal:{}:{}", s.line1.as_deref().unwrap(), s.locality.as_deref().unwrap())
                }
                PhysicalAddressForm::Unstructured(u) => format!("postal:{}", u.data),
            },
            Address::Electronic(e) => format!("{}:{}", e.address_type.value, e.data),
        })
        .collect();
    assert_eq!(kinds, ["postal:12 College Road:Springfield", "mailto:patron1@demo.example.edu", "tel:+1 217 555 0100"]);

    let r = found(&b.ncip(&Lookup::user("patron1").elements(&["User Privilege"]).xml()).await);
    assert_eq!((privilege(&r, "PROFILE"), privilege(&r, "STATUS")), ("UNDERGRAD".to_owned(), "OK".to_owned()));
    let fields = r.user_optional_fields.as_ref().unwrap();
    let expiry: jiff::Timestamp = "2030-01-16T23:59:59Z".parse().unwrap();
    assert!(
        fields.user_privileges.iter().all(|p| p.valid_to_date == Some(expiry)),
        "ValidToDate is the expiry: {fields:?}"
    );
    assert!(
        fields.name_information.is_none() && fields.user_address_informations.is_empty() && fields.user_ids.is_empty()
    );

    let r = found(&b.ncip(&Lookup::user("patron1").elements(&["User Id"]).xml()).await);
    let fields = r.user_optional_fields.unwrap();
    let ids: Vec<(&str, &str)> = fields
        .user_ids
        .iter()
        .map(|id| (id.user_identifier_type.as_ref().unwrap().value.as_str(), id.user_identifier_value.as_str()))
        .collect();
    assert_eq!(ids, [("Barcode", "21000000001")], "the barcode only, not the university id");
    assert!(fields.name_information.is_none() && fields.user_privileges.is_empty());

    // An active patron without blocks asked for blocks only: the element is answered empty.
    let r = found(&b.ncip(&Lookup::user("patron1").elements(&["Block Or Trap"]).xml()).await);
    assert_eq!(r.user_optional_fields.unwrap(), Default::default());

    let all = found(&b.ncip(&Lookup::user("patron1").elements(&ALL_ELEMENTS).xml()).await);
    let fields = all.user_optional_fields.as_ref().unwrap();
    assert!(fields.name_information.is_some());
    assert_eq!(
        (fields.user_address_informations.len(), fields.user_privileges.len(), fields.user_ids.len()),
        (3, 2, 1)
    );
    assert!(fields.block_or_traps.is_empty() && fields.date_of_birth.is_none() && fields.user_languages.is_empty());

    // One Alma call per lookup: the user, by any unique identifier.
    let calls = user_calls(&b);
    assert_eq!(calls.len(), 7, "{calls:?}");
    assert!(calls.iter().all(|(m, p, s)| m == "GET" && p.ends_with("/users/patron1") && *s == Some(200)), "{calls:?}");
    let (user_reads, partner_reads): (Vec<_>, Vec<_>) =
        b.sim.calls().into_iter().filter(|c| c.scope == "rest").partition(|c| c.path.contains("/users/"));
    assert!(user_reads.iter().all(|c| c.query.as_deref().unwrap_or_default().contains("user_id_type=all_unique")));
    // The partner's User Identifier Type is read once, on the first answer, and kept.
    assert_eq!(partner_reads.len(), 1, "{partner_reads:?}");
    assert!(partner_reads[0].path.ends_with("/partners/RELAIS"), "{partner_reads:?}");
}

#[tokio::test]
async fn a_patron_found_by_any_identifier_is_answered_with_the_partners_match_point() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let r = found(&b.ncip(&Lookup::user("U1001").elements(&["Name Information"]).xml()).await);
    assert_eq!(kept_id(&r), "21000000001", "found by university id, answered with the barcode Alma matches");
    let r = found(&b.ncip(&Lookup::auth(&[("Barcode Id", "21000000002")]).elements(&["User Privilege"]).xml()).await);
    assert_eq!((kept_id(&r), privilege(&r, "PROFILE").as_str()), ("21000000002", "FACULTY"));
}

#[tokio::test]
async fn a_right_pin_is_answered_and_a_wrong_pin_or_unknown_patron_get_the_same_refusal() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let right = b
        .ncip(&Lookup::auth(&[("Barcode Id", "21000000001"), ("PIN", "patron1-pass")]).elements(&["User Id"]).xml())
        .await;
    assert_eq!(kept_id(&found(&right)), "21000000001");
    // UserId plus PIN, as FOLIO's Relais sample sends it.
    let right = b.ncip(&Lookup::user("21000000001").auth_input("PIN", "patron1-pass").xml()).await;
    assert_eq!(kept_id(&found(&right)), "21000000001");

    let wrong_pin = b.ncip(&Lookup::auth(&[("Barcode Id", "21000000001"), ("PIN", "not-the-pin")]).xml()).await;
    let unknown = b.ncip(&Lookup::auth(&[("Barcode Id", "29999999999"), ("PIN", "not-the-pin")]).xml()).await;
    let no_password = b.ncip(&Lookup::auth(&[("Barcode Id", "21000000003"), ("Password", "anything")]).xml()).await;
    assert_eq!(problem_type(&wrong_pin), "User Authentication Failed");
    assert_eq!(wrong_pin, unknown, "the answer does not tell a wrong PIN from an unknown patron");
    assert_eq!(wrong_pin, no_password, "nor from a patron without a password");
    let unknown_by_user_id = b.ncip(&Lookup::user("29999999999").auth_input("PIN", "not-the-pin").xml()).await;
    assert_eq!(wrong_pin, unknown_by_user_id);

    // The secret went to Alma in the header, never in a URL; the check used the primary id.
    let auth: Vec<_> = b.sim.calls().into_iter().filter(|c| c.method == "POST").collect();
    // Six checks: the two unknown patrons' secrets are checked too (against an id no one has), so that they
    // cost Alma what a wrong PIN costs.
    assert_eq!(auth.len(), 6, "{auth:?}");
    assert!(auth.iter().all(|c| !c.query.as_deref().unwrap_or_default().contains("pass")), "{auth:?}");
    assert!(auth.iter().any(|c| c.path.ends_with("/users/patron1") && c.status == Some(204)));
}

// A PIN holding a control character made the header sent to Alma invalid, and only a
// known patron's lookup sent it: Temporary Processing Failure for a known patron, User Authentication Failed
// for an unknown one. Such a PIN is now refused before Alma is asked, for both alike.
#[tokio::test]
async fn a_pin_with_a_control_character_is_refused_alike_for_known_and_unknown_patrons() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let before = b.sim.calls();
    for pin in ["patron1&#10;pass", "patron1-pass&#13;", "&#127;patron1-pass", "a&#133;b"] {
        let known = b.ncip(&Lookup::auth(&[("Barcode Id", "21000000001"), ("PIN", pin)]).xml()).await;
        let unknown = b.ncip(&Lookup::auth(&[("Barcode Id", "29999999999"), ("PIN", pin)]).xml()).await;
        assert_eq!(problem_type(&known), "User Authentication Failed", "{pin}: {known}");
        assert_eq!(known, unknown, "{pin}");
    }
    assert_eq!(b.sim.calls(), before, "no such PIN reached Alma");
}

// An unknown patron cost one Alma call and a known one with a wrong PIN two, which
// timing showed. The work is now the same; shown by counting Alma's calls, not by a clock.
#[tokio::test]
async fn an_unknown_patron_and_a_wrong_pin_cost_alma_the_same_calls() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let calls_for = |lookup: Lookup| {
        let b = &b;
        async move {
            let before = b.sim.calls().len();
            let answer = b.ncip(&lookup.xml()).await;
            let calls: Vec<String> = b.sim.calls()[before..].iter().map(|c| c.method.clone()).collect();
            (answer, calls)
        }
    };
    let (wrong_pin, known_calls) = calls_for(Lookup::auth(&[("Barcode Id", "21000000001"), ("PIN", "x")])).await;
    let (unknown, unknown_calls) = calls_for(Lookup::auth(&[("Barcode Id", "29999999999"), ("PIN", "x")])).await;
    assert_eq!(wrong_pin, unknown);
    assert_eq!(known_calls, ["GET", "POST"]);
    assert_eq!(unknown_calls, known_calls, "the same Alma calls for an unknown patron");
}

// Path tricks: `..` turned `GET /users/{id}` into Alma's list-users call, and a tab or LF inside an
// identifier named another path; all were sent with the API key. Now none of them reaches Alma, and each is
// answered exactly as an unknown patron.
#[tokio::test]
async fn a_patron_identifier_alma_would_read_as_another_path_makes_no_alma_call() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let unknown_with_pin = b.ncip(&Lookup::auth(&[("Barcode Id", "29999999999"), ("PIN", "1234")]).xml()).await;
    let before = b.sim.calls();
    for id in ["..", ".", "2100&#9;0000001", "2100000&#10;0001", "patron1&#127;", "a&#133;b", "patron1 x"] {
        let answer = b.ncip(&Lookup::user(id).xml()).await;
        assert_eq!(problem_type(&answer), "Unknown User", "{id}: {answer}");
        let answer = b.ncip(&Lookup::auth(&[("Barcode Id", id), ("PIN", "1234")]).xml()).await;
        assert_eq!(answer, unknown_with_pin, "{id}: answered as an unknown patron with a PIN");
    }
    assert_eq!(b.sim.calls(), before, "no identifier reached Alma");
}

#[tokio::test]
async fn an_unknown_patron_without_a_pin_is_unknown_user() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let answer = b.ncip(&Lookup::user("nobody-here").elements(&ALL_ELEMENTS).xml()).await;
    assert_eq!(problem_type(&answer), "Unknown User");
    assert!(answer.contains("lookupuserprocessingerror.scm"), "{answer}");
}

#[tokio::test]
async fn expired_inactive_and_blocked_patrons_are_answered_with_status_blocked() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    for (patron, reason) in
        [("expired1", "expired"), ("inactive1", "inactive in Alma"), ("blocked1", "blocked in Alma")]
    {
        let r = found(&b.ncip(&Lookup::user(patron).elements(&ALL_ELEMENTS).xml()).await);
        assert_eq!(privilege(&r, "STATUS"), "BLOCKED", "{patron}");
        let fields = r.user_optional_fields.as_ref().unwrap();
        let status = fields.user_privileges.iter().find(|p| p.agency_user_privilege_type.value == "STATUS").unwrap();
        assert_eq!(status.description.as_deref(), Some(reason), "{patron}");
        let blocks: Vec<&str> = fields.block_or_traps.iter().map(|b| b.block_or_trap_type.value.as_str()).collect();
        if patron == "blocked1" {
            assert_eq!(blocks, ["Patron has overdue items"]);
            assert_eq!(fields.block_or_traps[0].valid_to_date, Some("2030-03-01T23:59:59Z".parse().unwrap()));
        } else {
            assert!(blocks.is_empty(), "{patron}: only active blocks are BlockOrTrap: {blocks:?}");
        }
    }
    let r = found(&b.ncip(&Lookup::user("expired1").elements(&["User Privilege"]).xml()).await);
    let expired: jiff::Timestamp = "2020-01-31T23:59:59Z".parse().unwrap();
    assert_eq!(r.user_optional_fields.unwrap().user_privileges[0].valid_to_date, Some(expired));
}

#[tokio::test]
async fn blocked_patrons_get_user_blocked_when_configured() {
    let b = Harness::start_seeded(Seed::demo(), &[("PATRON_BLOCKED_ANSWER", "problem")]).await;
    for patron in ["expired1", "inactive1", "blocked1"] {
        let answer = b.ncip(&Lookup::user(patron).elements(&ALL_ELEMENTS).xml()).await;
        assert_eq!(problem_type(&answer), "User Blocked", "{patron}");
    }
    let r = found(&b.ncip(&Lookup::user("patron1").elements(&["User Privilege"]).xml()).await);
    assert_eq!(privilege(&r, "STATUS"), "OK");
}

#[tokio::test]
async fn user_groups_are_mapped_for_relais() {
    let b =
        Harness::start_seeded(Seed::demo(), &[("PATRON_GROUP_MAP", "UNDERGRAD=Student, FACULTY=Faculty member")]).await;
    for (patron, profile) in [("patron1", "Student"), ("faculty1", "Faculty member"), ("guest1", "GUEST")] {
        let r = found(&b.ncip(&Lookup::user(patron).elements(&["User Privilege"]).xml()).await);
        assert_eq!(privilege(&r, "PROFILE"), profile, "{patron}");
        assert_eq!(privilege(&r, "STATUS"), "OK", "{patron}");
    }
}

#[tokio::test]
async fn a_group_not_allowed_to_use_ill_is_blocked_or_ineligible_as_configured() {
    let groups = ("PATRON_ILL_GROUPS", "UNDERGRAD,FACULTY");
    let b = Harness::start_seeded(Seed::demo(), &[groups]).await;
    let r = found(&b.ncip(&Lookup::user("guest1").elements(&["User Privilege"]).xml()).await);
    assert_eq!(privilege(&r, "STATUS"), "BLOCKED");
    let r = found(&b.ncip(&Lookup::user("faculty1").elements(&["User Privilege"]).xml()).await);
    assert_eq!(privilege(&r, "STATUS"), "OK");

    let b = Harness::start_seeded(Seed::demo(), &[groups, ("PATRON_INELIGIBLE_ANSWER", "problem")]).await;
    assert_eq!(problem_type(&b.ncip(&Lookup::user("guest1").xml()).await), "User Ineligible");
    found(&b.ncip(&Lookup::user("patron1").xml()).await);
}

#[tokio::test]
async fn authentication_required_refuses_a_lookup_without_a_pin() {
    let b = Harness::start_seeded(Seed::demo(), &[("PATRON_AUTH_REQUIRED", "true")]).await;
    assert_eq!(problem_type(&b.ncip(&Lookup::user("patron1").xml()).await), "User Authentication Failed");
    assert!(user_calls(&b).is_empty(), "refused before asking Alma");
    found(&b.ncip(&Lookup::user("patron1").auth_input("Password", "patron1-pass").xml()).await);
}

#[tokio::test]
async fn loans_are_answered_only_when_configuration_allows() {
    for allow in ["false", "true"] {
        let b = Harness::start_seeded(Seed::demo(), &[("PATRON_ALLOW_LOANS", allow)]).await;
        b.desk_loan("patron1", "39000000001").await;
        let r = found(&b.ncip(&Lookup::user("patron1").loans().xml()).await);
        let barcodes: Vec<&str> = r.loaned_items.iter().map(|l| l.item_id.item_identifier_value.as_str()).collect();
        let loan_reads = user_calls(&b).iter().filter(|(_, p, _)| p.ends_with("/loans")).count();
        if allow == "true" {
            assert_eq!((barcodes, loan_reads), (vec!["39000000001"], 1));
            assert!(r.loaned_items[0].date_due.is_some());
        } else {
            assert_eq!((barcodes.len(), loan_reads), (0, 0), "loans are neither read nor answered");
        }
    }
}

#[tokio::test]
async fn alma_answering_429_and_then_success_is_a_normal_answer() {
    // One call a second: a call made just before the lookup fills the second, so Alma answers the bridge's
    // first attempt 429 PER_SECOND_THRESHOLD and a later attempt succeeds.
    let b = Harness::start_seeded(Seed::demo().with_per_second_threshold(1), &[]).await;
    b.direct_alma_get("/users/guest1").await;
    let r = found(&b.ncip(&Lookup::user("patron1").elements(&["User Privilege"]).xml()).await);
    assert_eq!(kept_id(&r), "21000000001");
    let statuses: Vec<Option<u16>> =
        user_calls(&b).into_iter().filter(|(_, p, _)| p.ends_with("/patron1")).map(|c| c.2).collect();
    assert_eq!(statuses.first(), Some(&Some(429)), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&Some(200)), "{statuses:?}");
}

#[tokio::test]
async fn alma_answering_429_throughout_is_a_temporary_processing_failure() {
    let b = Harness::start_seeded(Seed::demo().with_per_second_threshold(0), &[("BRIDGE_DEADLINE_MS", "2000")]).await;
    let started = Instant::now();
    let answer = b.ncip(&Lookup::user("patron1").elements(&ALL_ELEMENTS).xml()).await;
    assert_eq!(problem_type(&answer), "Temporary Processing Failure");
    assert!(answer.contains("per-second threshold"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(4), "answered within the deadline");
    let calls = user_calls(&b);
    assert!(calls.len() >= 2 && calls.iter().all(|c| c.2 == Some(429)), "retried, and refused each time: {calls:?}");
}

#[tokio::test]
async fn alma_timing_out_is_a_temporary_processing_failure_within_the_deadline() {
    let b = Harness::start_seeded(Seed::demo(), &[("BRIDGE_DEADLINE_MS", "1500")]).await;
    let slow = FaultSpec::always(FaultKind::Slow { millis: 6_000 }, FaultScope::Rest);
    b.sim.faults().arm(slow).unwrap();
    let started = Instant::now();
    let answer = b.ncip(&Lookup::auth(&[("Barcode Id", "21000000001"), ("PIN", "patron1-pass")]).xml()).await;
    assert_eq!(problem_type(&answer), "Temporary Processing Failure");
    assert!(answer.contains("did not answer in time"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(4), "the deadline, not Alma, decided: {:?}", started.elapsed());
}

/// What a corpus message must be answered with.
enum CorpusAnswer {
    /// This patron (by the barcode the partner matches), with these parts of UserOptionalFields: [name, address, privilege, user id].
    Patron(&'static str, [bool; 4]),
    /// This Problem type.
    Problem(&'static str),
}

#[tokio::test]
async fn the_corpus_lookup_user_dialects_are_answered_correctly() {
    let Some(corpus) = corpus::dir() else { return };
    // Patrons matching the identifiers and PINs the corpus messages carry.
    let seed = demo_seed_with(vec![
        seeded_user("corpus-relais", &[("BARCODE", "8377630")], Some("1234")),
        seeded_user("corpus-folio-user", &[("OTHER_ID_1", "myluid"), ("BARCODE", "29000000004")], None),
        seeded_user("corpus-xc", &[("BARCODE", "98765432")], Some("password")),
        seeded_user("corpus-koha", &[("UNIV_ID", "3"), ("BARCODE", "29000000003")], None),
        seeded_user("corpus-wms", &[("BARCODE", "12093123")], None),
    ]);
    let b = Harness::start_seeded(seed, &[]).await;
    let expected: &[(&str, CorpusAnswer)] = &[
        ("mod-ncip-relais-LookupUser.xml", CorpusAnswer::Patron("8377630", [true, true, true, true])),
        ("mod-ncip-LookupUser-UserId-plus-PIN.xml", CorpusAnswer::Patron("8377630", [false, false, false, true])),
        (
            "mod-ncip-relais-LookupUser-AuthInput-username.xml",
            CorpusAnswer::Patron("29000000004", [true, true, true, true]),
        ),
        ("NCIP2-Toolkit-LookupUser-AuthInput-barcode-password.xml", CorpusAnswer::Patron("98765432", [false; 4])),
        (
            "NCIP2-Toolkit-LookupUser-all-UserElementTypes.xml",
            CorpusAnswer::Patron("29000000003", [true, true, true, true]),
        ),
        ("circill-toolkit-LookupUser-WMS-Ext.xml", CorpusAnswer::Patron("12093123", [false; 4])),
        // A template placeholder for a barcode, no PIN: nobody has it.
        ("ncip-server-LookupUser-DOCTYPE-AuthInput.xml", CorpusAnswer::Problem("Unknown User")),
        ("NCIPServer-v1-LookupUser-AutoGraphics.xml", CorpusAnswer::Problem("Invalid Message Syntax Error")),
    ];
    let mut on_disk: Vec<String> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("LookupUser") && !n.contains("LookupUserResponse") && n.ends_with(".xml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = expected.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every LookupUser message of the corpus has an expected answer here");

    for (file, expect) in expected {
        let body = std::fs::read(corpus.join(file)).unwrap();
        let answer = b.ncip_bytes(body).await;
        match expect {
            CorpusAnswer::Patron(patron, [name, address, privilege, user_id]) => {
                let r = found(&answer);
                assert_eq!(kept_id(&r), *patron, "{file}");
                assert!(
                    r.loaned_items.is_empty() && r.requested_items.is_empty() && r.user_fiscal_accounts.is_empty(),
                    "{file}"
                );
                let fields = r.user_optional_fields.clone().unwrap_or_default();
                let answered = [
                    fields.name_information.is_some(),
                    !fields.user_address_informations.is_empty(),
                    !fields.user_privileges.is_empty(),
                    !fields.user_ids.is_empty(),
                ];
                assert_eq!(answered, [*name, *address, *privilege, *user_id], "{file}: {answer}");
                assert!(fields.date_of_birth.is_none() && fields.user_languages.is_empty(), "{file}");
            }
            CorpusAnswer::Problem(problem) => {
                let r = response(&answer);
                let types: Vec<&str> = r.problems.iter().map(|p| p.problem_type.value.as_str()).collect();
                assert_eq!(types, [*problem], "{file}: {answer}");
            }
        }
    }
}

#[tokio::test]
async fn logs_and_store_of_full_lookups_hold_no_name_email_barcode_or_pin() {
    let logs = lookup::capture_logs();
    let private = [
        "Zenobia",
        "Quillfeather",
        "zq.private@demo.example.edu",
        "27755500011",
        "+1 555 0199 777",
        "zq-primary-7",
        "zq-secret-pin",
        "wrong-zq-pin",
    ];
    let mut zq = seeded_user("zq-primary-7", &[("BARCODE", "27755500011")], Some("zq-secret-pin"));
    zq["first_name"] = "Zenobia".into();
    zq["last_name"] = "Quillfeather".into();
    zq["full_name"] = "Zenobia Quillfeather".into();
    zq["contact_info"]["email"][0]["email_address"] = "zq.private@demo.example.edu".into();
    zq["contact_info"]["phone"][0]["phone_number"] = "+1 555 0199 777".into();
    zq["user_block"] =
        serde_json::json!([{"block_type": {"value": "GENERAL", "desc": "General"}, "block_status": "ACTIVE"}]);
    let key = "log-hash-key-for-the-privacy-test";
    let b = Harness::start_seeded(demo_seed_with(vec![zq]), &[("LOG_HASH_KEY", key)]).await;

    let full = Lookup::auth(&[("Barcode Id", "27755500011"), ("PIN", "zq-secret-pin")]).elements(&ALL_ELEMENTS);
    let answer = b.ncip(&full.xml()).await;
    assert!(
        answer.contains("Quillfeather") && answer.contains("zq.private@demo.example.edu"),
        "Relais gets the record: {answer}"
    );
    b.ncip(&Lookup::auth(&[("Barcode Id", "27755500011"), ("PIN", "wrong-zq-pin")]).xml()).await;
    b.ncip(&Lookup::user("27755500011").elements(&ALL_ELEMENTS).xml()).await;
    b.ncip(&Lookup::user("zq-primary-7-unknown").xml()).await;
    // Alma failing: the failure paths log too.
    let failing = FaultSpec::next(FaultKind::Http500, 10, FaultScope::Rest);
    b.sim.faults().arm(failing).unwrap();
    let answer = b.ncip(&Lookup::user("27755500011").xml()).await;
    assert_eq!(problem_type(&answer), "Temporary Processing Failure");

    let text = logs.text();
    let pseudonym = bridge::logging::pseudonym(&bridge::config::Secret::new(key), "zq-primary-7");
    assert!(text.contains(&pseudonym), "the lookups are logged under the patron's pseudonym: {text}");
    assert!(text.contains("patron lookup") && text.contains("LookupUser"), "{text}");
    // The partner's type as Alma spells it, and the bridge's reading of it, once the record is first read.
    assert!(
        text.contains("User Identifier Type") && text.contains("BARCODE") && text.contains("partner RELAIS"),
        "{text}"
    );
    for value in private {
        assert!(!text.contains(value), "the logs hold {value:?}: {text}");
    }
    for (file, bytes) in b.store_files() {
        for value in private {
            let found = bytes.windows(value.len()).any(|w| w == value.as_bytes());
            assert!(!found, "the store file {file} holds {value:?}");
        }
    }
}
