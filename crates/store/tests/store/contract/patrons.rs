//! Contract scenarios for remembered patron ids: what LookupUser answered, kept as a keyed hash until it
//! expires, so that AcceptItem can forward the id without reading the user again.

use bridge_store::PatronKey;

use super::*;

fn key(fill: &str) -> PatronKey {
    PatronKey::new(&fill.repeat(32)).unwrap()
}

pub async fn a_remembered_patron_is_known_until_its_expiry_and_remembering_again_moves_it(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let h = open(StoreConfig::default()).await;
    let (seen, unseen) = (key("0a"), key("0b"));
    assert!(!h.store.knows_patron(&seen, t0()).await.unwrap(), "nothing is known at first");
    h.store.remember_patron(&seen, after(100)).await.unwrap();
    assert!(h.store.knows_patron(&seen, after(99)).await.unwrap());
    assert!(!h.store.knows_patron(&unseen, after(99)).await.unwrap(), "another id is not known");
    assert!(!h.store.knows_patron(&seen, after(100)).await.unwrap(), "gone from its expiry second on");
    h.store.remember_patron(&seen, after(200)).await.unwrap();
    assert!(h.store.knows_patron(&seen, after(150)).await.unwrap(), "a later answer keeps it longer");
}
