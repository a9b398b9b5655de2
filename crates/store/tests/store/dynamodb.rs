//! The contract suite on the DynamoDB store against moto's server on loopback, plus the table layout itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::contract::{DAY, Harness, TestClock, after, deliver, record, t0};
use crate::moto;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{AttributeValue, KeyType, ProjectionType, TimeToLiveStatus};
use bridge_store::{DynamoStore, RequestStatus, Side, StoreConfig, create_table, schema};

fn client() -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(moto::endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "bridge-store-tests"))
        .build();
    Client::from_conf(config)
}

/// A table of its own for every test, so tests run in parallel on one server.
async fn new_table(client: &Client) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let table = format!("bridge-store-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    create_table(client, &table).await.unwrap();
    table
}

async fn open(config: StoreConfig) -> Harness {
    let client = client();
    let table = new_table(&client).await;
    Harness { store: Arc::new(DynamoStore::with_config(client, table, config)), _keep_alive: Box::new(()) }
}

contract_suite!(open);

#[tokio::test]
async fn created_table_has_the_layout_the_schema_constants_describe() {
    let client = client();
    let table = new_table(&client).await;
    let described = client.describe_table().table_name(&table).send().await.unwrap();
    let description = described.table().unwrap();
    let keys: Vec<_> =
        description.key_schema().iter().map(|k| (k.attribute_name().to_owned(), k.key_type().clone())).collect();
    assert_eq!(
        keys,
        [(schema::PARTITION_KEY.to_owned(), KeyType::Hash), (schema::SORT_KEY.to_owned(), KeyType::Range)]
    );
    let billing = description.billing_mode_summary().and_then(|b| b.billing_mode()).map(|b| b.as_str());
    assert_eq!(billing, Some(schema::BILLING_MODE));
    let [index] = description.global_secondary_indexes() else {
        panic!("one GSI expected: {:?}", description.global_secondary_indexes())
    };
    assert_eq!(index.index_name(), Some(schema::BARCODE_INDEX));
    let index_keys: Vec<_> = index.key_schema().iter().map(|k| k.attribute_name()).collect();
    assert_eq!(index_keys, [schema::BARCODE_INDEX_PARTITION_KEY, schema::BARCODE_INDEX_SORT_KEY]);
    assert_eq!(
        index.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::from(schema::BARCODE_INDEX_PROJECTION))
    );
    let ttl = client.describe_time_to_live().table_name(&table).send().await.unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some(schema::TTL_ATTRIBUTE));
}

#[tokio::test]
async fn ttl_attribute_holds_epoch_seconds_on_closed_records_and_their_pointers_only() {
    let client = client();
    let table = new_table(&client).await;
    let clock = TestClock::at(t0());
    let store = DynamoStore::with_config(client.clone(), table.clone(), clock.config(StoreConfig::default()));
    let open_one = record("L-ttl", Side::Lending, RequestStatus::Shipped, &["B-open"], t0());
    let closed = record("R-ttl", Side::Borrowing, RequestStatus::Cancelled, &["B-closed"], t0());
    deliver(&store, "ship L-ttl", &open_one, None, t0()).await;
    deliver(&store, "cancel R-ttl", &closed, None, after(DAY)).await;

    let expires_at = |pk: &str, sk: &str| {
        let client = client.clone();
        let table = table.clone();
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        async move {
            let item = client
                .get_item()
                .table_name(table)
                .key(schema::PARTITION_KEY, AttributeValue::S(pk))
                .key(schema::SORT_KEY, AttributeValue::S(sk))
                .send()
                .await
                .unwrap()
                .item()
                .cloned()
                .expect("item exists");
            item.get(schema::TTL_ATTRIBUTE).map(|v| v.as_n().unwrap().parse::<i64>().unwrap())
        }
    };
    let retention = 400 * DAY;
    let closed_expiry = Some(after(DAY).as_second() + retention);
    assert_eq!(expires_at("REQ#R-ttl", "REQ").await, closed_expiry);
    assert_eq!(expires_at("REQ#R-ttl", "BARCODE#B-closed").await, closed_expiry);
    assert_eq!(expires_at("REQ#L-ttl", "REQ").await, None);
    assert_eq!(expires_at("REQ#L-ttl", "BARCODE#B-open").await, None);
}

#[tokio::test]
async fn an_attempt_count_is_keyed_by_the_hash_under_the_attempt_prefix_and_expires_by_ttl() {
    use bridge_store::{AttemptKey, AttemptRule, AttemptScope, Store};
    let client = client();
    let table = new_table(&client).await;
    let store = DynamoStore::new(client.clone(), table.clone());
    let digest = "0f".repeat(32);
    let key = AttemptKey::new(AttemptScope::Patron, &digest).unwrap();
    let keep = std::time::Duration::from_secs(900);
    let rule = AttemptRule { limit: 2, lock: keep, keep };
    store.count_attempt(&key, rule, t0()).await.unwrap();
    store.count_attempt(&key, rule, after(60)).await.unwrap();
    let scanned = client.scan().table_name(&table).send().await.unwrap();
    let [item] = scanned.items() else { panic!("one item expected: {:?}", scanned.items()) };
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    assert_eq!(text(schema::PARTITION_KEY), Some(format!("{}P#{digest}", schema::ATTEMPT_KEY_PREFIX)));
    assert_eq!(text(schema::SORT_KEY).as_deref(), Some("ATTEMPT"));
    assert_eq!(number("count"), Some(2));
    // Locked by the second attempt until 900 s after it, and kept 900 s past the lock.
    assert_eq!(number("not_before"), Some(after(60).as_second() + 900));
    assert_eq!(number(schema::TTL_ATTRIBUTE), Some(after(60).as_second() + 1800));
}

#[tokio::test]
async fn a_remembered_patron_is_keyed_by_the_hash_under_the_patron_prefix_and_holds_only_its_ttl() {
    use bridge_store::{PatronKey, Store};
    let client = client();
    let table = new_table(&client).await;
    let store = DynamoStore::new(client.clone(), table.clone());
    let digest = "1e".repeat(32);
    store.remember_patron(&PatronKey::new(&digest).unwrap(), after(60)).await.unwrap();
    let scanned = client.scan().table_name(&table).send().await.unwrap();
    let [item] = scanned.items() else { panic!("one item expected: {:?}", scanned.items()) };
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(text(schema::PARTITION_KEY), Some(format!("{}{digest}", schema::PATRON_KEY_PREFIX)));
    assert_eq!(text(schema::SORT_KEY).as_deref(), Some("PATRON"));
    let number = item.get(schema::TTL_ATTRIBUTE).and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok());
    assert_eq!(number, Some(after(60).as_second()));
    assert_eq!(item.len(), 3, "the key and the expiry, nothing about the patron: {item:?}");
}

/// The DynamoDB requests a client sent, by name (`PutItem`, `GetItem`, ...), read from each request's target
/// header as it leaves.
#[derive(Debug, Clone, Default)]
struct SentRequests(Arc<std::sync::Mutex<Vec<String>>>);

impl SentRequests {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl aws_sdk_dynamodb::config::Intercept for SentRequests {
    fn name(&self) -> &'static str {
        "SentRequests"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_dynamodb::config::RuntimeComponents,
        _: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or_default();
        let name = target.rsplit('.').next().unwrap_or_default().to_owned();
        self.0.lock().unwrap().push(name);
        Ok(())
    }
}

#[tokio::test]
async fn a_replay_after_the_first_sends_reads_only() {
    use crate::contract::{message_key, rid, token};
    use bridge_store::{Begin, ClaimOutcome, HistoryEntry, Outcome, Store};
    let sent = SentRequests::default();
    let config = client().config().to_builder().interceptor(sent.clone()).build();
    let client = Client::from_conf(config);
    let table = new_table(&client).await;
    let clock = TestClock::at(t0());
    let store = DynamoStore::with_config(client, table, clock.config(StoreConfig::default()));
    let rec = record("R-replayed", Side::Borrowing, RequestStatus::OnHoldShelf, &["B-replayed"], t0());
    deliver(&store, "accept R-replayed", &rec, None, t0()).await;
    let (key, request) = (message_key("accept R-replayed"), rid("R-replayed"));
    let resend = token("resend");
    let begin = |now| Begin {
        key: &key,
        owner: &resend,
        request: &request,
        now,
        lease: std::time::Duration::from_secs(30),
        open_queue: true,
        patron: None,
    };
    // The first replay this instance sees: the claim's conditional put is refused (DynamoDB still charges it as
    // a write), and the replay is recorded.
    assert!(matches!(store.begin(begin(after(1))).await.unwrap().claim, ClaimOutcome::Done(_)));
    let entry = HistoryEntry::new("AcceptItem", after(1), Outcome::Replayed);
    assert!(store.record_replay(&key, &request, &entry).await.unwrap());
    sent.take();
    for second in 2..5 {
        let begun = store.begin(begin(after(second))).await.unwrap();
        assert!(matches!(begun.claim, ClaimOutcome::Done(ref s) if s.replay_recorded), "{begun:?}");
    }
    let mut requests = sent.take();
    requests.sort();
    assert_eq!(requests, ["GetItem", "GetItem", "GetItem", "Query", "Query", "Query"], "one claim read and the queue");
}
