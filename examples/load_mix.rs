//! A load measurement, not a test: latency under a realistic mix, through the bridge and, as the floor, the same
//! messages sent straight to "Alma" (the simulator's NCIP responder), which is what a bridge adding nothing
//! would cost.
//!
//! The mix is 80% LookupUser and 20% AcceptItem (each a new request), sent open-loop at a fixed rate; the
//! simulator answers every call after a fixed delay, like a real round trip to Alma. Everything runs in this
//! process on loopback: the simulator, the local bridge (embedded store in a temporary folder) and the client.
//!
//! ```sh
//! cargo run --release --example load_mix -- 50 20 50   # messages/s, seconds, Alma's delay in ms
//! ```

use alma_sim::{AlmaSim, FaultKind, FaultScope, FaultSpec, Seed};
use bridge::Bridge;
use bridge::app::{AlmaClients, Parts};
use bridge::config::{AlmaRemote, Env, Host, Secret, Settings};
use bridge::store::{EmbeddedStore, RelaisRequestId, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "load-mix-token-0123456789abcdef";

const HEADER: &str = "<InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId><ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader>";

fn envelope(service: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\" \
         version=\"http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd\">{service}</NCIPMessage>"
    )
}

/// Message `n` of the mix: every fifth an AcceptItem for a request of its own, the rest LookupUser.
fn message(run: &str, n: usize) -> (bool, String) {
    if n % 5 == 4 {
        let body = format!(
            "<AcceptItem>{HEADER}<RequestId><RequestIdentifierValue>{run}-{n}</RequestIdentifierValue></RequestId>\
<RequestedActionType>Hold For Pickup</RequestedActionType><UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{run}-ITEM-{n}</ItemIdentifierValue></ItemId><DateForReturn>2027-01-31T23:59:59Z</DateForReturn>\
<ItemOptionalFields><BibliographicDescription><Title>Load</Title></BibliographicDescription></ItemOptionalFields></AcceptItem>"
        );
        (false, envelope(&body))
    } else {
        let body = format!(
            "<LookupUser>{HEADER}<UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
<UserElementType>Name Information</UserElementType><UserElementType>User Privilege</UserElementType></LookupUser>"
        );
        (true, envelope(&body))
    }
}

/// Sends `rate` messages a second for `seconds` to `url`, each on its own task (open loop: a slow answer does
/// not hold the next message back), and returns every latency by kind: LookupUser, and AcceptItem with its
/// message number (its request id is `{run}-{n}`).
async fn drive(url: &str, run: &str, rate: usize, seconds: usize) -> (Vec<Duration>, Vec<(usize, Duration)>) {
    let client = reqwest::Client::new();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for n in 0..rate * seconds {
        tokio::time::sleep_until(start + interval * n as u32).await;
        let (lookup, body) = message(run, n);
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let answer = client.post(url).header("content-type", "application/xml").body(body).send().await;
            let text = answer.expect("an answer").text().await.expect("a body");
            assert!(!text.contains("Problem"), "message {n} was refused: {text}");
            (n, lookup, sent.elapsed())
        }));
    }
    let (mut lookups, mut accepts) = (Vec::new(), Vec::new());
    for task in tasks {
        let (n, lookup, took) = task.await.expect("the task ran");
        if lookup { lookups.push(took) } else { accepts.push((n, took)) }
    }
    (lookups, accepts)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn report(name: &str, mut latencies: Vec<Duration>) -> Duration {
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!("{name}.p50 {:.1} ms", p50.as_secs_f64() * 1000.0);
    println!("{name}.p99 {:.1} ms", p99.as_secs_f64() * 1000.0);
    p99
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (rate, seconds, delay) =
        (args.first().copied().unwrap_or(50), args.get(1).copied().unwrap_or(20), args.get(2).copied().unwrap_or(50));
    let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), Seed::demo().with_per_second_threshold(10_000))
        .await
        .expect("the simulator starts");
    let slow = FaultSpec::sometimes(FaultKind::Slow { millis: delay as u64 }, 1.0, FaultScope::All);
    sim.faults().arm(slow).expect("a delay on every call");

    let data = tempfile::tempdir().expect("a temporary folder");
    let data_dir = data.path().display().to_string();
    let env = Env::from_pairs([
        ("NCIP_SHARED_SECRET", TOKEN),
        ("STATUS_TOKEN", "load-mix-status-0123456789"),
        ("ALMA_PARTNER_CODE", "RELAIS"),
        ("ALMA_MAX_CALLS_PER_SECOND", "1000"),
        ("BRIDGE_DATA_DIR", data_dir.as_str()),
    ]);
    let settings = Settings::from_env(&env, Host::Local).expect("valid settings");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open_with_config(data.path(), settings.store_config()).expect("the store opens"));
    let alma = AlmaRemote {
        api_base: sim.base_url(),
        api_key: Secret::new(sim.api_key()),
        ncip_url: sim.ncip_url(),
        institution_code: "01DEMO_INST".into(),
    };
    let alma = AlmaClients::over(&settings, &alma, bridge::alma::https_client()).expect("Alma's URLs");
    let parts = Parts::in_process(settings, alma, Arc::clone(&store)).expect("the parts");
    let bridge = Bridge::new(parts).expect("the bridge assembles");
    let local = alma_relais_bridge::local::serve(Arc::new(bridge), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("the bridge serves");

    println!("load_mix.rate {rate} messages/s");
    println!("load_mix.alma_delay {delay} ms");
    let (floor_lookups, floor_accepts) = drive(&sim.ncip_url(), "FLOOR", rate, seconds).await;
    let (lookups, accepts) = drive(&local.url(&format!("/ncip/{TOKEN}")), "BRIDGE", rate, seconds).await;
    let accept_times: Vec<Duration> = accepts.iter().map(|(_, took)| *took).collect();
    let floor_accepts: Vec<Duration> = floor_accepts.into_iter().map(|(_, took)| took).collect();
    let floor = [floor_lookups.clone(), floor_accepts.clone()].concat();
    let through = [lookups.clone(), accept_times.clone()].concat();
    report("floor.lookup_user", floor_lookups);
    report("floor.accept_item", floor_accepts);
    let floor_p99 = report("floor.all", floor);
    report("bridge.lookup_user", lookups);
    report("bridge.accept_item", accept_times);
    let bridge_p99 = report("bridge.all", through);
    println!("bridge_over_floor.p99 {:.2} x", bridge_p99.as_secs_f64() / floor_p99.as_secs_f64());
    where_accept_items_waited(store.as_ref(), "BRIDGE", &accepts).await;
}

/// Splits each AcceptItem's latency into the Alma calls made before its answer (as the bridge timed them,
/// from the request's history) and the rest: the bridge's own work, its store and waiting for a worker. The
/// slowest ones are listed too, since the p99 of a few hundred AcceptItems is decided by two or three of them.
async fn where_accept_items_waited(store: &dyn Store, run: &str, accepts: &[(usize, Duration)]) {
    let mut split = Vec::new();
    for (n, took) in accepts {
        let id = RelaisRequestId::new(format!("{run}-{n}")).expect("a request id");
        let history = store.history(&id).await.expect("the history reads");
        let Some(entry) = history.iter().find(|entry| entry.message_type == "AcceptItem") else { continue };
        let alma = Duration::from_millis(entry.alma_calls.iter().map(|call| call.elapsed_ms).sum());
        split.push((*took, alma, took.saturating_sub(alma), entry.alma_calls.len()));
    }
    if split.is_empty() {
        return;
    }
    report("bridge.accept_item.alma_before_answer", split.iter().map(|s| s.1).collect());
    report("bridge.accept_item.rest", split.iter().map(|s| s.2).collect());
    split.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (took, alma, rest, calls) in split.iter().take(3) {
        println!(
            "bridge.accept_item.slowest {:.1} ms = Alma {:.1} ms ({calls} calls) + rest {:.1} ms",
            took.as_secs_f64() * 1000.0,
            alma.as_secs_f64() * 1000.0,
            rest.as_secs_f64() * 1000.0
        );
    }
}
