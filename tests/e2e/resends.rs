//! A corrected resend: Relais staff fix a refused receive by sending it again with the right patron, and the
//! corrected copy takes the queued one's place, reaching Alma once; a copy that differs only in its header is
//! a plain repeat.

use crate::support::{Harness, StoreKind, messages as m};
use alma_sim::{FaultKind, FaultScope, FaultSpec};
use bridge::flows::outbox::deliver_due;
use bridge::store::{Outcome, QueueState, RelaisRequestId};

#[tokio::test]
async fn a_corrected_resend_replaces_the_parked_original_and_is_delivered_once() {
    let h = Harness::start_with(StoreKind::Embedded, &[("LOCAL_OUTBOX_POLL_MS", "0")], |store| store).await;
    let request = RelaisRequestId::new("RL-FIX-1").unwrap();
    h.sim.faults().arm(FaultSpec::always(FaultKind::Maintenance503, FaultScope::Ncip)).unwrap();
    // Relais sends the receive for the wrong patron: one Alma will refuse (blocked) once it is back.
    let wrong = m::accept_item("RL-FIX-1", "ILL-FIX-1", "21000000006");
    let answer = h.ncip(&wrong).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "queued: {answer}");
    h.sim.faults().clear();
    deliver_due(&h.bridge.bridge).await;
    let queued = h.store.queued_for(&request).await.unwrap();
    assert_eq!(queued[0].state, QueueState::Parked, "Alma refused the blocked patron: {queued:?}");

    // Staff correct the barcode in Relais and send it again: same request, same item, so the same key.
    let corrected = m::accept_item("RL-FIX-1", "ILL-FIX-1", "21000000001");
    let again = h.ncip(&corrected).await;
    assert!(again.contains("AcceptItemResponse") && !again.contains("Problem"), "{again}");
    let queued = h.store.queued_for(&request).await.unwrap();
    assert_eq!(queued.len(), 1, "replaced, not queued twice");
    assert_eq!(queued[0].state, QueueState::Waiting, "back in line");
    deliver_due(&h.bridge.bridge).await;

    assert_eq!(h.sim.state().items_with_barcode("ILL-FIX-1"), 1, "delivered once, with the corrected patron");
    let taken = h
        .sim
        .calls()
        .iter()
        .filter(|c| c.ncip_service.as_deref() == Some("AcceptItem") && c.status == Some(200) && c.fault.is_none())
        .count();
    assert_eq!(taken, 2, "the wrong copy (refused) and the corrected one, each once");
    let outcomes: Vec<Outcome> = h.store.history(&request).await.unwrap().iter().map(|e| e.outcome).collect();
    for expected in [Outcome::Queued, Outcome::Parked, Outcome::Replaced, Outcome::Delivered] {
        assert!(outcomes.contains(&expected), "{expected:?} in the history: {outcomes:?}");
    }

    // Sent once more, unchanged: a plain repeat, answered from the store.
    let before = h.alma_ncip_calls("AcceptItem");
    let repeat = h.ncip(&corrected).await;
    assert!(!repeat.contains("Problem"), "{repeat}");
    assert_eq!(h.alma_ncip_calls("AcceptItem"), before, "nothing more reached Alma");
}
