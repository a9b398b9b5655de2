//! Contract scenarios for the reconciler's items: its walk through every record a page at a time, its
//! documents written over the revision read, and an Alma id it found written into a record.

use std::collections::BTreeSet;

use bridge_store::{AlmaIds, RequestStatus, Side, StoreConfig};
use serde_json::json;

use super::*;

pub async fn the_reconciler_walks_every_live_record_once_a_page_at_a_time(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, clock) = fresh(open).await;
    for i in 0..25 {
        let status = if i % 5 == 0 { RequestStatus::CheckedIn } else { RequestStatus::Shipped };
        let r = record(&format!("W{i:02}"), Side::Lending, status, &[&format!("B{i}")], t0());
        deliver(&*h.store, &format!("ship W{i}"), &r, None, t0()).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<RelaisRequestId> = None;
    loop {
        let page = h.store.records_after(after.as_ref(), 7).await.unwrap();
        assert!(page.len() <= 7);
        let Some(last) = page.last() else { break };
        after = Some(last.relais_request_id.clone());
        seen.extend(page.into_iter().map(|r| r.relais_request_id.as_str().to_owned()));
    }
    assert_eq!(seen.len(), 25, "every record once: {seen:?}");
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 25);

    // Closed records age out of the walk with their retention.
    clock.set(after_days(400));
    let live = h.store.records_after(None, 100).await.unwrap();
    assert_eq!(live.len(), 20, "the five closed ones expired");
}

fn after_days(days: i64) -> jiff::Timestamp {
    after(days * DAY)
}

pub async fn a_reconcile_document_is_written_over_the_revision_read_only(open: impl AsyncFn(StoreConfig) -> Harness) {
    let (h, clock) = fresh(open).await;
    assert_eq!(h.store.reconcile_doc("progress").await.unwrap(), None);
    assert!(h.store.put_reconcile_doc("progress", &json!({"n": 1}), None, None).await.unwrap());
    assert!(!h.store.put_reconcile_doc("progress", &json!({"n": 9}), None, None).await.unwrap(), "exists already");
    let doc = h.store.reconcile_doc("progress").await.unwrap().unwrap();
    assert_eq!(doc.body, json!({"n": 1}));
    assert!(h.store.put_reconcile_doc("progress", &json!({"n": 2}), Some(doc.revision), None).await.unwrap());
    assert!(
        !h.store.put_reconcile_doc("progress", &json!({"n": 3}), Some(doc.revision), None).await.unwrap(),
        "a second run from the same point loses"
    );
    assert_eq!(h.store.reconcile_doc("progress").await.unwrap().unwrap().body, json!({"n": 2}));

    // A document with an end is gone from then on, and may be written afresh.
    assert!(h.store.put_reconcile_doc("check#R1", &json!({"ok": true}), None, Some(after(60))).await.unwrap());
    assert!(h.store.reconcile_doc("check#R1").await.unwrap().is_some());
    clock.set(after(60));
    assert_eq!(h.store.reconcile_doc("check#R1").await.unwrap(), None);
    assert!(h.store.put_reconcile_doc("check#R1", &json!({"ok": false}), None, None).await.unwrap());
}

pub async fn an_alma_id_found_later_is_written_into_the_record_at_its_version(
    open: impl AsyncFn(StoreConfig) -> Harness,
) {
    let (h, _) = fresh(open).await;
    let shipped = record("L1", Side::Lending, RequestStatus::Shipped, &["B1"], t0());
    deliver(&*h.store, "ship L1", &shipped, None, t0()).await;
    let stored = h.store.get_request(&rid("L1")).await.unwrap().unwrap();
    let found = AlmaIds { request_id: Some("1500001".into()), ..stored.alma.clone() };
    assert!(!h.store.record_alma_ids(&rid("L1"), &found, stored.version + 1).await.unwrap(), "stale version");
    assert!(h.store.record_alma_ids(&rid("L1"), &found, stored.version).await.unwrap());
    let now = h.store.get_request(&rid("L1")).await.unwrap().unwrap();
    assert_eq!(now.alma.request_id.as_deref(), Some("1500001"));
    assert_eq!(now.version, stored.version + 1);
    assert_eq!(now.status, stored.status);
    assert_eq!(now.item_barcodes, stored.item_barcodes);
    assert!(!h.store.record_alma_ids(&rid("NONE"), &found, 1).await.unwrap(), "no such record");
}
