//! The patron ids LookupUser answered are remembered (as keyed hashes), so that Relais's AcceptItem naming
//! the patron by that id is forwarded without reading the user again: one Alma round trip and one call of the
//! daily quota fewer per receive. An id the bridge has not answered is still translated, and so is a
//! remembered one once it expires or the hash key changes.

use crate::support::lookup::Lookup;
use crate::support::{Harness, StoreKind, messages};
use bridge::store::testing::{FaultyStore, Operation};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The demo patron1: Relais types the university id, the RELAIS partner matches the barcode.
const TYPED: &str = "U1001";
const KEPT: &str = "21000000001";

/// The simulator's Users API reads of a user (the translation) after its first `since` calls, as opposed to
/// the partner or item reads.
fn user_reads(h: &Harness, since: usize) -> usize {
    let calls = h.sim.calls();
    calls.iter().skip(since).filter(|c| c.scope == "rest" && c.path.starts_with("/almaws/v1/users/")).count()
}

/// Receives `barcode` for `patron` and checks that Alma's strict simulator took it.
async fn receive(h: &Harness, request: &str, barcode: &str, patron: &str) {
    let answer = h.ncip(&messages::accept_item(request, barcode, patron)).await;
    assert!(answer.contains("AcceptItemResponse") && !answer.contains("Problem"), "Alma took it: {answer}");
}

async fn an_id_lookup_user_answered_is_forwarded_without_a_user_read(kind: StoreKind) {
    let h = Harness::start(kind).await;
    let answer = h.ncip(&Lookup::user(TYPED).xml()).await;
    assert!(answer.contains(KEPT), "LookupUser answers the partner's id: {answer}");
    // The store holds its keyed hash only: neither the id answered nor the one typed.
    if kind == StoreKind::Embedded {
        for (name, bytes) in h.store_files() {
            for id in [KEPT, TYPED, "patron1"] {
                assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()), "{id} in {name}");
            }
        }
    }
    let since = h.sim.calls().len();
    receive(&h, "REM-1", "RLS-REM-1", KEPT).await;
    assert_eq!(user_reads(&h, since), 0, "a remembered id needs no translation: {:?}", h.sim.calls());
    assert_eq!(h.alma_ncip_calls("AcceptItem"), 1);
}

async fn an_id_the_bridge_never_answered_is_translated(kind: StoreKind) {
    let h = Harness::start(kind).await;
    h.ncip(&Lookup::user(TYPED).xml()).await;
    let since = h.sim.calls().len();
    // The primary id of the same patron: Relais did not get it from LookupUser, so Alma must be asked.
    receive(&h, "REM-2", "RLS-REM-2", "patron1").await;
    assert_eq!(user_reads(&h, since), 1, "{:?}", h.sim.calls());
}

async fn a_remembered_id_is_found_beside_the_claim_without_a_round_trip_of_its_own(kind: StoreKind) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    // No worker: the receipt's read-backs would add their own store calls after the answer.
    let h = Harness::start_with(kind, &[("LOCAL_OUTBOX_POLL_MS", "0")], move |store| {
        Arc::new(FaultyStore::new(store, move |operation| {
            seen.lock().unwrap().push(operation);
            None
        }))
    })
    .await;
    h.ncip(&Lookup::user(TYPED).xml()).await;
    // The partner's record is warm and the process knows Alma's NCIP responder answers (read once a process);
    // the id is older than the process's own memory of it, as on another Lambda instance than the one that
    // answered LookupUser.
    receive(&h, "REM-7-EARLIER", "RLS-REM-7-EARLIER", KEPT).await;
    h.clock.advance(Duration::from_secs(10 * 60));
    calls.lock().unwrap().clear();
    let since = h.sim.calls().len();
    receive(&h, "REM-7", "RLS-REM-7", KEPT).await;
    assert_eq!(user_reads(&h, since), 0, "{:?}", h.sim.calls());
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls, [Operation::Begin, Operation::Commit], "two store round trips before the answer");
}

async fn a_remembered_id_is_translated_again_once_it_expires(kind: StoreKind) {
    let h = Harness::start(kind).await;
    h.ncip(&Lookup::user(TYPED).xml()).await;
    h.clock.advance(Duration::from_secs(30 * 24 * 3600));
    let since = h.sim.calls().len();
    receive(&h, "REM-3", "RLS-REM-3", KEPT).await;
    assert_eq!(user_reads(&h, since), 1, "thirty days on, the id is read again: {:?}", h.sim.calls());
}

async fn a_bridge_with_another_hash_key_does_not_recognise_the_id(kind: StoreKind) {
    let first = Harness::start_with(kind, &[("LOG_HASH_KEY", "the-first-hash-key")], |store| store).await;
    first.ncip(&Lookup::user(TYPED).xml()).await;
    let shared = Arc::clone(&first.store);
    let same = Harness::start_with(kind, &[("LOG_HASH_KEY", "the-first-hash-key")], |_| Arc::clone(&shared)).await;
    receive(&same, "REM-4", "RLS-REM-4", KEPT).await;
    assert_eq!(user_reads(&same, 0), 0, "the same key over the same store: {:?}", same.sim.calls());
    let other = Harness::start_with(kind, &[("LOG_HASH_KEY", "another-hash-key")], |_| shared).await;
    receive(&other, "REM-5", "RLS-REM-5", KEPT).await;
    assert_eq!(user_reads(&other, 0), 1, "another key finds nothing: {:?}", other.sim.calls());
}

async fn remembering_can_be_turned_off(kind: StoreKind) {
    let h = Harness::start_with(kind, &[("PATRON_REMEMBER_DAYS", "0")], |store| store).await;
    h.ncip(&Lookup::user(TYPED).xml()).await;
    let since = h.sim.calls().len();
    receive(&h, "REM-6", "RLS-REM-6", KEPT).await;
    assert_eq!(user_reads(&h, since), 1, "{:?}", h.sim.calls());
}

on_both_stores!(
    an_id_lookup_user_answered_is_forwarded_without_a_user_read,
    a_remembered_id_is_found_beside_the_claim_without_a_round_trip_of_its_own,
    an_id_the_bridge_never_answered_is_translated,
    a_remembered_id_is_translated_again_once_it_expires,
    a_bridge_with_another_hash_key_does_not_recognise_the_id,
    remembering_can_be_turned_off,
);
