//! The contract suite on the embedded (redb) store, plus what only a file-backed store has: restarts.

use std::sync::Arc;

use crate::contract::{Harness, TestClock, after, barcode, deliver, message_key, record, rid, t0, token};
use bridge_store::{ClaimOutcome, EmbeddedStore, RequestStatus, Side, Store, StoreConfig, StoredResponse};

async fn open(config: StoreConfig) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open_with_config(dir.path().join("data"), config).unwrap();
    Harness { store: Arc::new(store), _keep_alive: Box::new(dir) }
}

contract_suite!(open);

#[tokio::test]
async fn records_history_and_claims_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(t0());
    let rec = record("R-restart", Side::Borrowing, RequestStatus::OnHoldShelf, &["B-restart"], t0());
    {
        let store = EmbeddedStore::open_with_config(dir.path(), clock.config(StoreConfig::default())).unwrap();
        deliver(&store, "accept R-restart", &rec, None, t0()).await;
        store
            .claim(&message_key("in flight"), &token("before"), t0(), std::time::Duration::from_secs(30))
            .await
            .unwrap();
    }
    let store = EmbeddedStore::open_with_config(dir.path(), clock.config(StoreConfig::default())).unwrap();
    let stored = store.get_request(&rid("R-restart")).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(store.find_by_barcode(&barcode("B-restart")).await.unwrap(), vec![stored]);
    assert_eq!(store.history(&rid("R-restart")).await.unwrap().len(), 1);
    let replay = store
        .claim(&message_key("accept R-restart"), &token("after"), after(1), std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(replay, ClaimOutcome::Done(StoredResponse::new(b"<accept R-restartResponse/>".to_vec())));
    let held = store
        .claim(&message_key("in flight"), &token("after"), after(1), std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert!(matches!(held, ClaimOutcome::InFlight { .. }), "{held:?}");
}

#[tokio::test]
async fn opening_drops_what_expired_while_closed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(t0());
    let config = || {
        let mut config = StoreConfig::default();
        config.retention = std::time::Duration::from_secs(86_400);
        config
    };
    let closed = record("R-gone", Side::Borrowing, RequestStatus::Returned, &["B-gone"], t0());
    let open_one = record("L-kept", Side::Lending, RequestStatus::Shipped, &["B-kept"], t0());
    let rows_before = {
        let store = EmbeddedStore::open_with_config(dir.path(), clock.config(config())).unwrap();
        deliver(&store, "return R-gone", &closed, None, t0()).await;
        deliver(&store, "ship L-kept", &open_one, None, t0()).await;
        store.row_count().await.unwrap()
    };
    // Two of everything: record, barcode, history entry, claim, response.
    assert_eq!(rows_before, 10);
    clock.set(after(2 * 86_400));
    let store = EmbeddedStore::open_with_config(dir.path(), clock.config(config())).unwrap();
    // The closed record, its barcode and both history entries (a day old) went; the claims stay 30 days.
    assert_eq!(store.row_count().await.unwrap(), 10 - 4);
    assert!(store.get_request(&rid("L-kept")).await.unwrap().is_some());
    clock.set(after(31 * 86_400));
    assert_eq!(store.purge_expired().await.unwrap(), 2);
    assert_eq!(store.row_count().await.unwrap(), 2);
}

// Every anonymous `GET /openurl` parks a citation: were expired ones deleted only when the store opens, a
// flood of links would grow the file until a restart. Writing a citation also purges, once a citation's
// lifetime (30 minutes) has passed since the last purge.
#[tokio::test]
async fn expired_citations_are_purged_while_the_store_runs() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(t0());
    let store = EmbeddedStore::open_with_config(dir.path(), clock.config(StoreConfig::default())).unwrap();
    let citation = serde_json::json!({"genre": "book", "title": "x".repeat(7000)});
    for (i, at) in [0, 60, 120].into_iter().enumerate() {
        store.put_discovery(&format!("early{i}"), &citation, after(at)).await.unwrap();
    }
    assert_eq!(store.row_count().await.unwrap(), 3);
    // Past the first three's lifetime: the next write takes them with it.
    store.put_discovery("later", &citation, after(31 * 60 + 120)).await.unwrap();
    assert_eq!(store.row_count().await.unwrap(), 1);
    assert!(store.get_discovery("later", after(31 * 60 + 120)).await.unwrap().is_some());
}

#[tokio::test]
async fn a_replay_after_the_first_leaves_the_file_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(t0());
    let store = EmbeddedStore::open_with_config(dir.path(), clock.config(StoreConfig::default())).unwrap();
    let rec = record("R-replayed", Side::Borrowing, RequestStatus::OnHoldShelf, &["B-replayed"], t0());
    deliver(&store, "accept R-replayed", &rec, None, t0()).await;
    let (key, request) = (message_key("accept R-replayed"), rid("R-replayed"));
    let resend = token("resend");
    let begin = |now| bridge_store::Begin {
        key: &key,
        owner: &resend,
        request: &request,
        now,
        lease: std::time::Duration::from_secs(30),
        open_queue: true,
        patron: None,
    };
    assert!(matches!(store.begin(begin(after(1))).await.unwrap().claim, ClaimOutcome::Done(_)));
    let entry = bridge_store::HistoryEntry::new("AcceptItem", after(1), bridge_store::Outcome::Replayed);
    assert!(store.record_replay(&key, &request, &entry).await.unwrap());
    let file = dir.path().join(bridge_store::EMBEDDED_DATABASE_FILE);
    let before = std::fs::read(&file).unwrap();
    for second in 2..5 {
        let begun = store.begin(begin(after(second))).await.unwrap();
        assert!(matches!(begun.claim, ClaimOutcome::Done(ref s) if s.replay_recorded), "{begun:?}");
        // A plain claim of a done key reads it too.
        let claimed = store.claim(&key, &token("plain"), after(second), std::time::Duration::from_secs(30)).await;
        assert!(matches!(claimed.unwrap(), ClaimOutcome::Done(_)));
    }
    assert!(std::fs::read(&file).unwrap() == before, "a replay wrote to the database file");
}
