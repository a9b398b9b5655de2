//! A load measurement, not a test: latency under a realistic mix, through the bridge and, as the floor, the same
//! messages sent straight to "Alma" (the simulator's NCIP responder), which is what a bridge adding nothing
//! would cost.
//!
//! The mix is 70% LookupUser, 20% AcceptItem (a receipt) and 10% CheckOutItem (a ship of one of our items),
//! each receipt and ship a new request, sent open-loop at a fixed rate; the simulator answers every call after
//! a fixed delay, like a real round trip to Alma, and holds a copy of a demo book on the shelf for each ship. Everything runs in this
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

/// The kinds of message in the mix, each reported on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    LookupUser,
    AcceptItem,
    CheckOutItem,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::LookupUser, Kind::AcceptItem, Kind::CheckOutItem];

    /// Message `n`'s kind: every fifth a receipt, one in ten a ship, the rest LookupUser.
    fn of(n: usize) -> Kind {
        match n % 10 {
            4 | 9 => Kind::AcceptItem,
            2 => Kind::CheckOutItem,
            _ => Kind::LookupUser,
        }
    }

    /// The NCIP service's name, as the history records it.
    fn service(self) -> &'static str {
        match self {
            Kind::LookupUser => "LookupUser",
            Kind::AcceptItem => "AcceptItem",
            Kind::CheckOutItem => "CheckOutItem",
        }
    }

    /// The name of its figures.
    fn label(self) -> &'static str {
        match self {
            Kind::LookupUser => "lookup_user",
            Kind::AcceptItem => "accept_item",
            Kind::CheckOutItem => "check_out_item",
        }
    }
}

/// The barcode of the copy of a demo book that ship `n` of `run` sends out.
fn shelf_barcode(run: &str, n: usize) -> String {
    format!("{run}-SHELF-{n}")
}

/// Message `n` of the mix; receipts and ships name the request `{run}-{n}`.
fn message(run: &str, n: usize) -> String {
    let service = match Kind::of(n) {
        Kind::AcceptItem => format!(
            "<AcceptItem>{HEADER}<RequestId><RequestIdentifierValue>{run}-{n}</RequestIdentifierValue></RequestId>\
<RequestedActionType>Hold For Pickup</RequestedActionType><UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{run}-ITEM-{n}</ItemIdentifierValue></ItemId><DateForReturn>2027-01-31T23:59:59Z</DateForReturn>\
<ItemOptionalFields><BibliographicDescription><Title>Load</Title></BibliographicDescription></ItemOptionalFields></AcceptItem>"
        ),
        // The borrowing library's generic patron need not exist in Alma: Alma lends to the partner.
        Kind::CheckOutItem => format!(
            "<CheckOutItem>{HEADER}<UserId><UserIdentifierValue>GENERIC-ILL-PATRON</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>{}</ItemIdentifierValue></ItemId>\
<RequestId><RequestIdentifierValue>{run}-{n}</RequestIdentifierValue></RequestId>\
<DesiredDateDue>2027-02-28T23:59:59Z</DesiredDateDue></CheckOutItem>",
            shelf_barcode(run, n)
        ),
        Kind::LookupUser => format!(
            "<LookupUser>{HEADER}<UserId><UserIdentifierValue>21000000001</UserIdentifierValue></UserId>\
<UserElementType>Name Information</UserElementType><UserElementType>User Privilege</UserElementType></LookupUser>"
        ),
    };
    envelope(&service)
}

/// Every latency of a run, with its message number and kind.
type Latencies = Vec<(usize, Kind, Duration)>;

/// The latencies of one kind.
fn of_kind(latencies: &Latencies, kind: Kind) -> Vec<Duration> {
    latencies.iter().filter(|(_, k, _)| *k == kind).map(|(_, _, took)| *took).collect()
}

/// Sends `rate` messages a second for `seconds` to `url`, each on its own task (open loop: a slow answer does
/// not hold the next message back), and returns every latency.
async fn drive(url: &str, run: &str, rate: usize, seconds: usize) -> Latencies {
    let client = reqwest::Client::new();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for n in 0..rate * seconds {
        tokio::time::sleep_until(start + interval * n as u32).await;
        let body = message(run, n);
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let answer = client.post(url).header("content-type", "application/xml").body(body).send().await;
            let text = answer.expect("an answer").text().await.expect("a body");
            assert!(!text.contains("Problem"), "message {n} was refused: {text}");
            (n, Kind::of(n), sent.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.expect("the task ran"));
    }
    latencies
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
    let ships = (0..rate * seconds).filter(|n| Kind::of(*n) == Kind::CheckOutItem);
    let shelf = ships.flat_map(|n| ["FLOOR", "BRIDGE"].map(|run| shelf_barcode(run, n)));
    let seed = Seed::demo()
        .with_per_second_threshold(10_000)
        .with_copies_of("39000000002", shelf)
        .expect("the demo seed holds the book the ships copy");
    let sim = AlmaSim::start("127.0.0.1:0".parse().unwrap(), seed).await.expect("the simulator starts");
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
    let floor = drive(&sim.ncip_url(), "FLOOR", rate, seconds).await;
    let through = drive(&local.url(&format!("/ncip/{TOKEN}")), "BRIDGE", rate, seconds).await;
    for kind in Kind::ALL {
        report(&format!("floor.{}", kind.label()), of_kind(&floor, kind));
    }
    let floor_p99 = report("floor.all", floor.iter().map(|(_, _, took)| *took).collect());
    for kind in Kind::ALL {
        report(&format!("bridge.{}", kind.label()), of_kind(&through, kind));
    }
    let bridge_p99 = report("bridge.all", through.iter().map(|(_, _, took)| *took).collect());
    println!("bridge_over_floor.p99 {:.2} x", bridge_p99.as_secs_f64() / floor_p99.as_secs_f64());
    for kind in [Kind::AcceptItem, Kind::CheckOutItem] {
        let requests: Vec<(usize, Duration)> =
            through.iter().filter(|(_, k, _)| *k == kind).map(|(n, _, took)| (*n, *took)).collect();
        where_requests_waited(store.as_ref(), "BRIDGE", kind, &requests).await;
    }
}

/// Splits each receipt's or ship's latency into the Alma calls made before its answer (as the bridge timed
/// them, from the request's history) and the rest: the bridge's own work, its store and waiting for a worker.
/// The slowest ones are listed too, since the p99 of a few hundred messages is decided by two or three of them.
async fn where_requests_waited(store: &dyn Store, run: &str, kind: Kind, requests: &[(usize, Duration)]) {
    let mut split = Vec::new();
    for (n, took) in requests {
        let id = RelaisRequestId::new(format!("{run}-{n}")).expect("a request id");
        let history = store.history(&id).await.expect("the history reads");
        let Some(entry) = history.iter().find(|entry| entry.message_type == kind.service()) else { continue };
        let alma = Duration::from_millis(entry.alma_calls.iter().map(|call| call.elapsed_ms).sum());
        split.push((*took, alma, took.saturating_sub(alma), entry.alma_calls.len()));
    }
    if split.is_empty() {
        return;
    }
    let label = kind.label();
    report(&format!("bridge.{label}.alma_before_answer"), split.iter().map(|s| s.1).collect());
    report(&format!("bridge.{label}.rest"), split.iter().map(|s| s.2).collect());
    split.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (took, alma, rest, calls) in split.iter().take(3) {
        println!(
            "bridge.{label}.slowest {:.1} ms = Alma {:.1} ms ({calls} calls) + rest {:.1} ms",
            took.as_secs_f64() * 1000.0,
            alma.as_secs_f64() * 1000.0,
            rest.as_secs_f64() * 1000.0
        );
    }
}
