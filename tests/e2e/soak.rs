//! A fault soak: Relais-like senders against an Alma that fails often. Each borrowing pair (AcceptItem, then
//! CheckInItem) is sent the way Relais sends: on "Temporary Processing Failure" it is sent again later (past
//! the claim lease), and one message in five goes out as two copies at once. Alma's NCIP responder fails ~30%
//! of calls (HTTP 500, a dropped connection, or acting and then dropping the answer) and the REST API 10%.
//! Every pair must end with exactly one Alma action per message and no Problem answered to Relais.
//!
//! It runs twice: with the outbox off, Relais' resends drive each message to Alma; with it on, Relais is
//! answered at once and the bridge's deliverer drives the queued messages through the same faults.
//!
//! The suite runs a few pairs; the documented soak (docs/benchmarks.md) runs more:
//! `SOAK_PAIRS=200 cargo test --release --test soak -- --nocapture`.

use crate::support::{Harness, StoreKind, messages as m};
use alma_sim::{AfterCommit, FaultKind, FaultScope, FaultSpec};
use std::time::Duration;

const TEMPORARY: &str = "Temporary Processing Failure";

fn share(kind: FaultKind, share: f64, scope: FaultScope) -> FaultSpec {
    FaultSpec::sometimes(kind, share, scope)
}

/// What the senders did, for the documented run's figures.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    resent: usize,
    twins: usize,
}

/// Sends `message` until Relais would be satisfied: an answer that is not a Temporary Processing Failure.
/// `twin` sends each attempt as two simultaneous copies (Relais' double submissions).
async fn deliver(h: &Harness, message: &str, twin: bool, tally: &mut Tally) -> String {
    for _ in 0..60 {
        tally.sent += 1;
        let answer = if twin {
            tally.twins += 1;
            let (a, b) = tokio::join!(h.ncip(message), h.ncip(message));
            // Relais keeps the first answer it can act on; a temporary one makes it resend.
            if a.contains(TEMPORARY) { b } else { a }
        } else {
            h.ncip(message).await
        };
        if !answer.contains(TEMPORARY) {
            return answer;
        }
        tally.resent += 1;
        // Relais resends later; past the lease a lost answer is reconciled against Alma.
        h.clock.advance(Duration::from_secs(31));
    }
    panic!("still failing after 60 sends: {message}");
}

/// Delivers what the outbox holds, as its worker would over time (the clock moves past each retry's pause
/// and past the claim of an attempt whose answer was lost).
async fn drain(h: &Harness) {
    for _ in 0..200 {
        let round = bridge::flows::outbox::deliver_due(&h.bridge.bridge).await;
        if round.open == 0 {
            return;
        }
        h.clock.advance(Duration::from_secs(31));
    }
    panic!("the outbox did not empty: {:?}", h.store.open_queue(10).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pair_acts_once_in_alma_and_relais_sees_no_problem_under_faults() {
    soak(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pair_acts_once_through_the_outbox_under_faults() {
    soak(true).await;
}

async fn soak(outbox: bool) {
    let pairs: usize = std::env::var("SOAK_PAIRS").ok().and_then(|n| n.parse().ok()).unwrap_or(12);
    let env = [("OUTBOX", if outbox { "on" } else { "off" }), ("LOCAL_OUTBOX_POLL_MS", "0")];
    let h = Harness::start_with(StoreKind::Embedded, &env, |store| store).await;
    let before = h.sim.state().counts();
    let faults = h.sim.faults();
    faults.arm(share(FaultKind::Http500, 0.1, FaultScope::Ncip)).unwrap();
    faults.arm(share(FaultKind::DropConnection, 0.1, FaultScope::Ncip)).unwrap();
    faults.arm(share(FaultKind::FailAfterCommit { then: AfterCommit::Drop }, 0.1, FaultScope::Ncip)).unwrap();
    faults.arm(share(FaultKind::Http500, 0.1, FaultScope::Rest)).unwrap();

    let mut tally = Tally::default();
    for pair in 0..pairs {
        let (request, barcode) = (format!("RL-SOAK-{pair}"), format!("ILL-SOAK-{pair}"));
        let accept = deliver(&h, &m::accept_item(&request, &barcode, "21000000001"), pair % 5 == 0, &mut tally).await;
        assert!(accept.contains("AcceptItemResponse") && !accept.contains("Problem>"), "{request}: {accept}");
        if outbox {
            drain(&h).await;
        }
        assert_eq!(h.sim.state().items_with_barcode(&barcode), 1, "{request}: one temporary item, not two");
        let check_in = deliver(&h, &m::check_in_item(&barcode), pair % 5 == 2, &mut tally).await;
        assert!(check_in.contains("CheckInItemResponse") && !check_in.contains("Problem>"), "{request}: {check_in}");
        if outbox {
            drain(&h).await;
        }
        assert_eq!(h.sim.state().items_with_barcode(&barcode), 0, "{request}: returned, its temporary item gone");
        assert_eq!(h.status_json(&request).await["record"]["status"], "returned", "{request}");
    }
    faults.clear();

    let after = h.sim.state().counts();
    assert_eq!(after.borrowing_requests - before.borrowing_requests, pairs, "one borrowing request per AcceptItem");
    assert_eq!(after.active_holds, before.active_holds, "no hold left behind by a repeated receipt");
    let ncip_calls = h.sim.calls().iter().filter(|c| c.scope == "ncip").count();
    let faulted = h.sim.calls().iter().filter(|c| c.scope == "ncip" && c.fault.is_some()).count();
    let parked = h.store.open_queue(10).await.unwrap();
    assert!(parked.is_empty(), "nothing parked or left waiting: {parked:?}");
    println!(
        "soak (outbox {}): {pairs} pairs, {} messages sent ({} resends, {} as twin copies), {ncip_calls} NCIP calls to Alma, \
         {faulted} of them failed by the simulator",
        if outbox { "on" } else { "off" },
        tally.sent,
        tally.resent,
        tally.twins
    );
    assert!(faulted > 0 || pairs < 5, "the soak met faults");
}
