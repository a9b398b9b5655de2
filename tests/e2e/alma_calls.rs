//! Alma API calls per message type, as the simulator's call log counts them: before the answer reaches Relais
//! and in all (read-backs done after the answer included), beside a direct Relais-to-Alma link's one NCIP call.
//! The daily API quota (docs/configure-alma.md) and the latency of a scan at a desk follow from these counts.
//!
//! Re-run it to refresh docs/benchmarks.md ("Alma calls per message type"):
//! `ALMA_CALLS_TABLE=/tmp/alma-calls.md cargo test --test e2e alma_calls -- --nocapture` prints the table
//! and writes it to that file. One bridge on the embedded store, with the partner record already read (its one
//! read per process is counted on the first message, shown on its own row).

use crate::support::lookup::Lookup;
use crate::support::{Harness, StoreKind, messages as m};
use std::time::Duration;

/// Calls the simulator received, split by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Calls {
    ncip: usize,
    rest: usize,
}

impl Calls {
    fn of(h: &Harness, from: usize, to: usize) -> Calls {
        let log = h.sim.calls();
        let taken = log.iter().skip(from).take(to.saturating_sub(from));
        taken.fold(Calls::default(), |c, call| match call.scope {
            "ncip" => Calls { ncip: c.ncip + 1, ..c },
            _ => Calls { rest: c.rest + 1, ..c },
        })
    }

    fn total(self) -> usize {
        self.ncip + self.rest
    }

    fn cell(self) -> String {
        format!("{} ({} NCIP + {} REST)", self.total(), self.ncip, self.rest)
    }
}

/// One message sent, with what it cost.
struct Row {
    message: &'static str,
    case: &'static str,
    before: Calls,
    all: Calls,
    /// The REST calls in all, in order, with their ids left out.
    rest: Vec<String>,
}

/// A REST call's method and path under the API base, each id (a segment holding a digit or a capital, as the
/// seed's ids all do) shown as `{id}`, and the names of its query parameters.
fn shape(call: &alma_sim::CallRecord) -> String {
    let path = call.path.strip_prefix("/almaws/v1/").unwrap_or(&call.path);
    let segments: Vec<&str> = path
        .split('/')
        .map(|s| if s.chars().any(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) { "{id}" } else { s })
        .collect();
    let query: Vec<&str> =
        call.query.as_deref().unwrap_or_default().split('&').filter_map(|p| p.split('=').next()).collect();
    let query = query.into_iter().filter(|q| !q.is_empty()).collect::<Vec<_>>().join("&");
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    format!("{} {}{query}", call.method, segments.join("/"))
}

/// Waits until the simulator has received no call for a while: work the bridge does after answering (the
/// read-backs) is started at once by the local server, so it shows within this.
async fn settled(h: &Harness) -> usize {
    let mut seen = h.sim.calls().len();
    let mut quiet = Duration::ZERO;
    while quiet < Duration::from_millis(700) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = h.sim.calls().len();
        if now == seen {
            quiet += Duration::from_millis(100);
        } else {
            (seen, quiet) = (now, Duration::ZERO);
        }
    }
    seen
}

async fn send(h: &Harness, rows: &mut Vec<Row>, message: &'static str, case: &'static str, xml: &str) {
    let start = settled(h).await;
    let answer = h.ncip(xml).await;
    let answered = h.sim.calls().len();
    assert!(!answer.contains("Problem"), "{message} ({case}) is answered without a Problem: {answer}");
    let end = settled(h).await;
    let log = h.sim.calls();
    let rest = log.iter().skip(start).take(end - start).filter(|c| c.scope == "rest").map(shape).collect();
    rows.push(Row { message, case, before: Calls::of(h, start, answered), all: Calls::of(h, start, end), rest });
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| message | case | direct link | bridge, before the answer | bridge, in all | the REST calls |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in rows {
        // A direct link sends every message to Alma's NCIP responder, LookupVersion included.
        out.push_str(&format!(
            "| {} | {} | 1 (1 NCIP) | {} | {} | {} |\n",
            row.message,
            row.case,
            row.before.cell(),
            row.all.cell(),
            row.rest.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alma_calls_per_message_type() {
    let h = Harness::start(StoreKind::Embedded).await;
    let mut rows = Vec::new();
    let r = &mut rows;
    send(&h, r, "LookupUser", "first of the process (+ the partner record)", &Lookup::user("U1001").xml()).await;
    send(&h, r, "LookupUser", "by any id", &Lookup::user("U1001").xml()).await;
    let with_pin = Lookup::auth(&[("Barcode Id", "21000000001"), ("PIN", "patron1-pass")]).xml();
    send(&h, r, "LookupUser", "with a PIN", &with_pin).await;
    let borrowing = m::request_item("RL-CALLS-1", "21000000001", "A Book From Afar");
    send(&h, r, "RequestItem", "borrowing", &borrowing).await;
    let remembered = m::accept_item("RL-CALLS-1", "ILL-CALLS-1", "21000000001");
    send(&h, r, "AcceptItem", "patron by the id LookupUser answered", &remembered).await;
    send(&h, r, "AcceptItem", "a resend (replayed)", &remembered).await;
    send(&h, r, "CheckInItem", "borrowing: item returned to the lender", &m::check_in_item("ILL-CALLS-1")).await;
    let unseen = m::accept_item("RL-CALLS-2", "ILL-CALLS-2", "patron1");
    send(&h, r, "AcceptItem", "patron by an id the bridge never answered", &unseen).await;
    send(&h, r, "LookupItem", "", &m::lookup_item("39000000002")).await;
    let ship = m::check_out_item("RL-CALLS-3", "39000000002", "GENERIC-ILL-PATRON", "2027-02-28T23:59:59Z");
    send(&h, r, "CheckOutItem", "lending: item shipped", &ship).await;
    let renew = m::renew_item("39000000002", "GENERIC-ILL-PATRON", "2027-03-31T23:59:59Z");
    send(&h, r, "RenewItem", "", &renew).await;
    send(&h, r, "CheckInItem", "lending: item back home", &m::check_in_item("39000000002")).await;
    let lending = m::request_item_for_our_item("RL-CALLS-4", "39000000001", "PARTNER-PATRON-7");
    send(&h, r, "RequestItem", "lending (our item)", &lending).await;
    send(&h, r, "CancelRequestItem", "lending", &m::cancel_request_item("RL-CALLS-4", "PARTNER-PATRON-7")).await;
    send(&h, r, "LookupVersion", "answered by the bridge", &m::lookup_version()).await;

    let table = table(&rows);
    println!("{table}");
    if let Ok(path) = std::env::var("ALMA_CALLS_TABLE") {
        std::fs::write(&path, &table).expect("the table is written");
    }

    let row = |message: &str, case: &str| {
        rows.iter().find(|r| r.message == message && r.case.starts_with(case)).expect("a row")
    };
    // What holds whatever is done before or after the answer: one NCIP call per circulation message, none
    // for a replay or for what the bridge answers itself, and no user read for an id the bridge answered.
    for r in rows.iter().filter(|r| !matches!(r.message, "LookupUser" | "LookupItem" | "LookupVersion")) {
        let expected = usize::from(!r.case.contains("replayed"));
        assert_eq!(r.all.ncip, expected, "{} ({}): {:?}", r.message, r.case, r.all);
    }
    assert_eq!(row("AcceptItem", "a resend").all.total(), 0);
    assert_eq!(row("LookupVersion", "").all.total(), 0);
    assert_eq!(row("LookupUser", "by any id").all, Calls { ncip: 0, rest: 1 });
    let remembered = row("AcceptItem", "patron by the id");
    let unseen = row("AcceptItem", "patron by an id the bridge never");
    assert_eq!(unseen.before.rest, remembered.before.rest + 1, "the translation is the one difference");
}
