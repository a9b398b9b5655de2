//! One reading of every message, over real HTTP: a message the bridge and Alma could read two ways is refused
//! before Alma hears of it. Repeated identifiers, elements and roots in a foreign namespace, identifiers
//! beyond 256 bytes or carrying bidirectional controls, and patron ids shaped like the store's pseudonyms each
//! get their Problem, and the simulator's call log shows Alma was not asked; the same message without the
//! trick is served, so each refusal is the trick's doing.

use crate::support::lookup::Lookup;
use crate::support::{Harness, StoreKind, messages as m};
use bridge::clock::Clock;
use bridge::ncip::{Message, Problem, ReadOptions, read};
use bridge::store::{HistoryEntry, Outcome, ProblemSummary, RelaisRequestId};

const PATRON: &str = "21000000001";

fn answer_of(answer: &str) -> Message {
    read(answer.as_bytes(), &ReadOptions::default()).unwrap_or_else(|e| panic!("the answer reads ({e}): {answer}"))
}

/// Sends `xml`, checks that Alma was asked nothing at all, and returns the answer's one Problem.
async fn refused_unheard(h: &Harness, xml: &str) -> (Message, Problem) {
    let before = h.sim.calls().len();
    let answer = h.ncip(xml).await;
    assert_eq!(h.sim.calls().len(), before, "Alma was asked about a refused message: {answer}");
    let message = answer_of(&answer);
    let problems = message.problems().to_vec();
    assert_eq!(problems.len(), 1, "{answer}");
    (message, problems.into_iter().next().expect("one"))
}

#[tokio::test]
async fn a_receipt_naming_two_patrons_is_refused_before_alma_hears_of_either() {
    let h = Harness::start(StoreKind::Embedded).await;
    let clean = m::accept_item("RL-OR-1", "ILL-OR-1", PATRON);
    let user = format!("<UserId><UserIdentifierValue>{PATRON}</UserIdentifierValue></UserId>");
    let two =
        clean.replace(&user, &format!("{user}<UserId><UserIdentifierValue>patron1</UserIdentifierValue></UserId>"));
    let (_, problem) = refused_unheard(&h, &two).await;
    assert_eq!(problem.type_name(), "Element Rule Violated");
    assert_eq!(problem.element.as_deref(), Some("UserId"));
    // Two ItemIds the same way.
    let item = "<ItemId><ItemIdentifierValue>ILL-OR-1</ItemIdentifierValue></ItemId>";
    let (_, problem) = refused_unheard(&h, &clean.replace(item, &format!("{item}{item}"))).await;
    assert_eq!(problem.element.as_deref(), Some("ItemId"));
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 0);
    let answer = h.ncip(&clean).await;
    assert!(!answer.contains("Problem"), "{answer}");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1, "the message without the second patron reaches Alma");
}

#[tokio::test]
async fn a_lookup_version_with_an_unlisted_agency_first_is_refused_under_the_allow_list() {
    let h = Harness::start_with(StoreKind::Embedded, &[("NCIP_ALLOWED_AGENCIES", "Relais")], |store| store).await;
    let listed = "<FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>";
    let two = m::lookup_version()
        .replace(listed, &format!("<FromAgencyId><AgencyId>Unlisted</AgencyId></FromAgencyId>{listed}"));
    let (message, problem) = refused_unheard(&h, &two).await;
    assert_eq!(problem.type_name(), "Element Rule Violated");
    assert_eq!(problem.element.as_deref(), Some("FromAgencyId"));
    let Message::LookupVersionResponse(response) = message else { panic!("{message:?}") };
    assert!(response.versions_supported.is_empty(), "nothing is served: {response:?}");
    assert!(h.ncip(&m::lookup_version()).await.contains("VersionSupported"), "one agency is answered");
}

#[tokio::test]
async fn a_patron_in_a_foreign_namespace_is_not_ncips_and_a_foreign_root_is_refused() {
    let h = Harness::start(StoreKind::Embedded).await;
    let clean = Lookup::user("patron1").xml();
    let evil = r#"<e:UserId xmlns:e="urn:evil"><e:UserIdentifierValue>21000000002</e:UserIdentifierValue></e:UserId>"#;
    let foreign = clean.replacen("<UserId>", &format!("{evil}<UserId>"), 1);
    assert_ne!(foreign, clean);
    let (_, problem) = refused_unheard(&h, &foreign).await;
    assert_eq!(problem.type_name(), "Unknown Element");
    assert_eq!(problem.element.as_deref(), Some("UserId"));
    assert_eq!(problem.value.as_deref(), Some("urn:evil"));

    let ncip = "xmlns=\"http://www.niso.org/2008/ncip\"";
    let receipt = m::accept_item("RL-OR-2", "ILL-OR-2", PATRON);
    assert!(receipt.contains(ncip));
    let (message, problem) = refused_unheard(&h, &receipt.replace(ncip, "xmlns=\"urn:evil\"")).await;
    assert!(matches!(message, Message::Problem(_)), "answered at top level: {message:?}");
    assert_eq!(problem.type_name(), "Invalid Message Syntax Error");

    let before = h.sim.calls().len();
    assert!(h.ncip(&clean).await.contains("LookupUserResponse"));
    assert!(h.sim.calls().len() > before, "the patron in NCIP's namespace is looked up in Alma");
}

#[tokio::test]
async fn a_60000_byte_patron_id_never_reaches_alma_nor_comes_back_whole() {
    let h = Harness::start(StoreKind::Embedded).await;
    let long = "9".repeat(60_000);
    let before = h.sim.calls().len();
    let answer = h.ncip(&Lookup::user(&long).xml()).await;
    assert_eq!(h.sim.calls().len(), before, "Alma's URLs never see it");
    assert!(answer.len() < 4_000, "the answer quotes {} bytes", answer.len());
    let problem = answer_of(&answer).problems()[0].clone();
    assert_eq!(problem.type_name(), "Element Rule Violated");
    assert_eq!(problem.value.as_deref(), Some(&long[..64]));
    // Every identifier: a barcode one byte over the bound is refused too, one at the bound is served.
    let over = "B".repeat(257);
    let (_, problem) = refused_unheard(&h, &m::accept_item("RL-OR-3", &over, PATRON)).await;
    assert_eq!(problem.element.as_deref(), Some("ItemId/ItemIdentifierValue"));
    let answer = h.ncip(&m::accept_item("RL-OR-3", &"B".repeat(256), PATRON)).await;
    assert!(!answer.contains("Element Rule Violated"), "{answer}");
}

#[tokio::test]
async fn bidi_controls_in_ids_are_refused_and_the_staff_page_isolates_what_it_shows() {
    let h = Harness::start(StoreKind::Embedded).await;
    // Displayed, "RL-\u{202E}4321" reads "RL-1234": another request's number.
    let (_, problem) = refused_unheard(&h, &m::accept_item("RL-\u{202E}4321", "ILL-OR-4", PATRON)).await;
    assert_eq!(problem.type_name(), "Element Rule Violated");
    assert_eq!(problem.element.as_deref(), Some("RequestId/RequestIdentifierValue"));
    let (_, problem) = refused_unheard(&h, &m::check_in_item("ILL-\u{2067}OR-4")).await;
    assert_eq!(problem.element.as_deref(), Some("ItemId/ItemIdentifierValue"));
    let (_, problem) = refused_unheard(&h, &m::accept_item("RL-OR-4", "ILL-OR-4", "2100\u{200F}0000001")).await;
    assert_eq!(problem.element.as_deref(), Some("UserId/UserIdentifierValue"));
    // History written before ids were held to the rule (and Alma's own words) may still carry one: the staff
    // page shows every such value isolated, in the body and in the title.
    let id = RelaisRequestId::new("RL-\u{202E}4321").expect("the store's own rules admit it");
    let mut entry = HistoryEntry::new("AcceptItem", h.clock.now(), Outcome::Problem);
    entry.problem = Some(ProblemSummary {
        problem_type: "Unknown User".into(),
        detail: Some("no user \u{202E}10000000012".into()),
    });
    h.store.append_history(&id, &entry).await.expect("stored");
    let page = h.status_html("RL-\u{202E}4321").await;
    assert!(page.contains("<h1>Relais request <bdi>RL-\u{202E}4321</bdi></h1>"), "{page}");
    assert!(page.contains("<bdi>Unknown User: no user \u{202E}10000000012</bdi>"), "{page}");
    assert!(page.contains("<title>\u{2068}Relais request RL-\u{202E}4321\u{2069}</title>"), "{page}");
}

#[tokio::test]
async fn a_patron_id_shaped_like_a_pseudonym_is_refused_and_a_real_one_is_hashed() {
    let h = Harness::start(StoreKind::Embedded).await;
    let forged = "hmac:0123456789abcdef";
    let (_, problem) = refused_unheard(&h, &m::accept_item("RL-OR-5", "ILL-OR-5", forged)).await;
    assert_eq!(problem.type_name(), "Element Rule Violated");
    assert_eq!(problem.element.as_deref(), Some("UserId/UserIdentifierValue"));
    let (_, problem) = refused_unheard(&h, &m::accept_item("RL-OR-5", "ILL-OR-5", &format!("HMAC:{PATRON}"))).await;
    assert_eq!(problem.element.as_deref(), Some("UserId/UserIdentifierValue"));
    assert!(!h.ncip(&m::accept_item("RL-OR-5", "ILL-OR-5", PATRON)).await.contains("Problem"));
    let status = h.status_json("RL-OR-5").await;
    let stored = status["record"]["patron"].as_str().expect("the record names the patron");
    assert!(stored.starts_with("hmac:") && stored != forged && !stored.contains(PATRON), "{stored}");
}
