//! Relais's own message shapes, end to end, against the strict simulator over real HTTP: the default
//! namespace, tabs and trailing spaces, Relais's agency code inside `UserId` and `ItemId` (`Relais` inside
//! `RequestId`), a library's name as `ToAgencyId`, and the D2D hub's AcceptItem with the lender's symbol in
//! `ItemId` (fixtures in `tests/fixtures/relais/`, written from those shapes). Each step must change Alma as the
//! direct link would; with the bridge's AgencyId rewrite switched off the simulator, which takes the stricter
//! reading of Alma, refuses them as "Unknown Agency".

use crate::support::{Harness, StoreKind};
use bridge::alma::AlmaRest;
use bridge::ncip::{Message, ReadOptions};

/// A fixture with its `{PLACEHOLDERS}` filled.
fn fixture(name: &str, fill: &[(&str, &str)]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/relais").join(name);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (key, value) in fill {
        text = text.replace(&format!("{{{key}}}"), value);
    }
    assert!(!text.contains("{"), "every placeholder of {name} is filled: {text}");
    text
}

fn problem_type(answer: &str) -> Option<String> {
    let message = bridge::ncip::read(answer.as_bytes(), &ReadOptions::default()).expect("an NCIP answer");
    message.problems().first().map(|p| p.type_name().to_owned())
}

/// The UserId LookupUser answered (type, value): what Relais keeps and sends back in AcceptItem.
fn looked_up_user_id(answer: &str) -> (String, String) {
    match bridge::ncip::read(answer.as_bytes(), &ReadOptions::default()).expect("an NCIP answer") {
        Message::LookupUserResponse(r) => {
            let id = r.user_id.unwrap_or_else(|| panic!("a UserId in {answer}"));
            let kind = id.user_identifier_type.map(|t| t.value).unwrap_or_default();
            (kind, id.user_identifier_value.as_str().to_owned())
        }
        other => panic!("a LookupUserResponse, not {other:?}"),
    }
}

/// The borrowing side: LookupUser, AcceptItem with the UserId it gave (the D2D hub's shape: the lender's
/// symbol in ItemId), then the return. Answers each step's Problem type, or `None` and Alma changed.
async fn borrowing(h: &Harness, request: &str, item: &str) -> Result<(), (String, String)> {
    let answer = h.ncip(&fixture("lookup-user.xml", &[("PATRON", "21000000001")])).await;
    assert_eq!(problem_type(&answer), None, "LookupUser is answered from Alma's REST API: {answer}");
    let (kind, patron) = looked_up_user_id(&answer);
    let accept = fixture(
        "accept-item.xml",
        &[("REQUEST", request), ("ITEM", item), ("PATRON", &patron), ("PATRON_TYPE", &kind), ("LENDER", "PUL")],
    );
    let answer = h.ncip(&accept).await;
    if let Some(problem) = problem_type(&answer) {
        return Err(("AcceptItem".into(), problem));
    }
    assert!(answer.contains("AcceptItemResponse"), "{answer}");
    // As the direct link would: a temporary item under Relais's barcode, held for the patron.
    assert_eq!(h.sim.state().items_with_barcode(item), 1, "Alma made the temporary item");
    let on_shelf = |requests: &[bridge::alma::model::UserRequest]| {
        requests.iter().any(|r| r.item_barcode.as_deref() == Some(item) && r.request_status == "ON_HOLD_SHELF")
    };
    assert!(on_shelf(&h.user_requests("patron1").await), "the item waits on the hold shelf for the patron");

    let answer = h.ncip(&fixture("check-in-item.xml", &[("ITEM", item), ("AGENCY", "LEH")])).await;
    if let Some(problem) = problem_type(&answer) {
        return Err(("CheckInItem".into(), problem));
    }
    assert_eq!(h.sim.state().items_with_barcode(item), 0, "the return removed the temporary item");
    assert!(!on_shelf(&h.user_requests("patron1").await), "nothing left on the hold shelf");
    Ok(())
}

/// "Resource Sharing in Practice", the seeded title our item 39000000003 belongs to, and its OCLC number.
const LENT_ITEM: (&str, &str) = ("39000000003", "1000000035");

/// The lending side: the borrowing library's request for a title of ours named by its OCLC number, the ship to
/// that library (its symbol on its generic patron) and the item's return home.
async fn lending(h: &Harness, request: &str, item: &str, due: &str) -> Result<String, (String, String)> {
    if item == LENT_ITEM.0 {
        let fill = [("REQUEST", request), ("BORROWER", "PUL"), ("OCLC", LENT_ITEM.1), ("TITLE", "A title")];
        let answer = h.ncip(&fixture("request-item.xml", &fill)).await;
        if let Some(problem) = problem_type(&answer) {
            return Err(("RequestItem".into(), problem));
        }
        let alma = h.sim.state().snapshot();
        let requested = alma["lending_requests"].as_array().and_then(|all| {
            all.iter().find(|r| r["external_id"] == request && r["status"]["value"] == "REQUEST_CREATED_LEND")
        });
        assert!(requested.is_some(), "Alma made a lending request for the title: {alma}");
    }
    let ship =
        fixture("check-out-item.xml", &[("REQUEST", request), ("ITEM", item), ("BORROWER", "PUL"), ("DUE", due)]);
    let shipped = h.ncip(&ship).await;
    if let Some(problem) = problem_type(&shipped) {
        return Err(("CheckOutItem".into(), problem));
    }
    let ctx = Harness::ctx();
    let alma_item = h.alma.item_by_barcode(item, &ctx).await.expect("our item");
    assert_eq!(alma_item.item_data.base_status.value, "0", "the item left the shelf");
    let alma = h.sim.state().snapshot();
    let lent = alma["lending_requests"].as_array().and_then(|all| all.iter().find(|r| r["external_id"] == request));
    assert_eq!(lent.map(|r| r["status"]["value"].clone()), Some("SHIPPED_PHYSICALLY".into()), "{alma}");

    let answer = h.ncip(&fixture("check-in-item.xml", &[("ITEM", item), ("AGENCY", "LEH")])).await;
    if let Some(problem) = problem_type(&answer) {
        return Err(("CheckInItem".into(), problem));
    }
    let alma_item = h.alma.item_by_barcode(item, &ctx).await.expect("our item");
    assert_ne!(alma_item.item_data.process_type.value, "LOAN", "the loan to the partner ended");
    Ok(shipped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relais_borrowing_messages_as_sent_receive_and_return_in_alma() {
    let h = Harness::start(StoreKind::Embedded).await;
    borrowing(&h, "LEH-20270101001", "LEH-20270101001").await.unwrap_or_else(|(step, p)| panic!("{step}: {p}"));
    // The history keeps what Relais wrote where Alma got the institution code.
    let status = h.status_json("LEH-20270101001").await;
    let accept = status["history"]
        .as_array()
        .and_then(|h| h.iter().find(|e| e["message_type"] == "AcceptItem"))
        .unwrap_or_else(|| panic!("an AcceptItem entry: {status}"));
    let replaced: Vec<(&str, &str)> = accept["replaced_agency_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("replaced AgencyIds kept: {accept}"))
        .iter()
        .map(|r| (r["element"].as_str().unwrap(), r["sent"].as_str().unwrap()))
        .collect();
    assert_eq!(replaced, [("UserId/AgencyId", "LEH"), ("ItemId/AgencyId", "PUL")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relais_lending_messages_as_sent_ship_and_return_in_alma() {
    let h = Harness::start(StoreKind::Embedded).await;
    lending(&h, "PUL-20270101002", LENT_ITEM.0, "2027-06-30T23:59:00Z")
        .await
        .unwrap_or_else(|(step, p)| panic!("{step}: {p}"));
    let status = h.status_json("PUL-20270101002").await;
    assert_eq!(status["record"]["side"], "lending");
    assert_eq!(status["record"]["status"], "checked_in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_rewrite_off_the_strict_simulator_refuses_relais_agencies() {
    let h = Harness::start_with(StoreKind::Embedded, &[("NCIP_REWRITE_ID_AGENCIES", "off")], |store| store).await;
    let refused = borrowing(&h, "LEH-20270101003", "LEH-20270101003").await;
    assert_eq!(refused, Err(("AcceptItem".into(), "Unknown Agency".into())));
    assert_eq!(h.sim.state().items_with_barcode("LEH-20270101003"), 0, "nothing changed in Alma");
    let refused = lending(&h, "PUL-20270101004", "39000000002", "2027-06-30T23:59:00Z").await;
    assert_eq!(refused.err(), Some(("CheckOutItem".into(), "Unknown Agency".into())));
}

/// The DateDue text of an answer.
fn date_due(answer: &str) -> &str {
    let after = answer.split("<ns1:DateDue>").nth(1).unwrap_or_else(|| panic!("a DateDue in {answer}"));
    after.split('<').next().expect("its text")
}

/// Relais reads back the due date it sent. Written back in UTC form, a zone-less date no longer reads as the
/// text Relais sent (a Sydney midnight would read as the day before); so the answer spells Alma's due date as
/// Relais did when it is the same instant, whether the ship reached Alma at once or waits in the outbox for
/// Alma to come back. The simulator reads zone-less dates in UTC, so the library's zone is UTC here; the codec's
/// own tests cover another zone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zone_less_due_date_comes_back_as_relais_wrote_it_live_and_from_the_queue() {
    use alma_sim::{FaultKind, FaultScope, FaultSpec};
    let env = [("LIBRARY_TIME_ZONE", "UTC"), ("LOCAL_OUTBOX_POLL_MS", "0")];
    let h = Harness::start_with(StoreKind::Embedded, &env, |store| store).await;
    let due = "2027-03-15T00:00:00";
    let ship = |request: &str, item: &str| {
        fixture("check-out-item.xml", &[("REQUEST", request), ("ITEM", item), ("BORROWER", "PUL"), ("DUE", due)])
    };
    let live = h.ncip(&ship("PUL-20270101005", "39000000002")).await;
    assert_eq!(problem_type(&live), None, "{live}");
    assert_eq!(date_due(&live), due, "Alma's due date is Relais's instant, so it is spelled as Relais did");
    assert_eq!(h.ncip(&ship("PUL-20270101005", "39000000002")).await, live, "a resend is answered the same");
    let renewal = crate::support::messages::renew_item("39000000002", "PUL-ILL", "2027-04-15T00:00:00");
    let renewed = h.ncip(&renewal).await;
    assert_eq!(problem_type(&renewed), None, "{renewed}");
    assert_eq!(date_due(&renewed), "2027-04-15T00:00:00", "a live renewal too");

    // Alma in its maintenance window: the ship waits in the outbox and is answered at once.
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    let queued = h.ncip(&ship("PUL-20270101006", "39000000001")).await;
    assert_eq!(problem_type(&queued), None, "{queued}");
    assert_eq!(h.alma_ncip_calls("CheckOutItem"), 1, "only the live ship reached Alma");
    assert_eq!(date_due(&queued), due, "the queued answer carries Relais's text");
}
