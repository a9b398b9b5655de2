//! The bridge's own work per NCIP message: everything between the HTTP request arriving and the answer
//! leaving, minus the time spent waiting for Alma and for disk. Alma answers instantly from memory here and the
//! store is the embedded store held in memory, so what is measured is the codec, the authentication, the
//! exactly-once bookkeeping (claim, record, history, stored response) and the dispatch.
//!
//! Targets: a first delivery under 100 microseconds in two sequential store round trips (the claim, with the
//! record read beside it, and the commit); a replay under 30 microseconds, from one store read and no write.
//! Results: docs/benchmarks.md.

use criterion::{Criterion, criterion_group, criterion_main};
use instant_alma::{answer, front_door};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

#[path = "support/instant_alma.rs"]
#[allow(dead_code)]
mod instant_alma;

#[path = "../tests/e2e/support/messages.rs"]
#[allow(dead_code)]
mod messages;

fn bridge_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let router = front_door();
    let serial = AtomicU64::new(0);
    let mut group = c.benchmark_group("bridge overhead per NCIP message");

    // A new request each time: claim, forward, read the item back, record, history, stored response.
    group.bench_function("AcceptItem, first delivery", |b| {
        b.iter(|| {
            let n = serial.fetch_add(1, Ordering::Relaxed);
            let body = messages::accept_item(&format!("RL-{n}"), &format!("ILL-{n}"), "21000000001");
            runtime.block_on(async { black_box(answer(&router, body).await) })
        })
    });

    // Relais retrying: the stored answer, without Alma (the warm-up's first replay is the one the history keeps;
    // every measured one is a read alone).
    let replay = messages::accept_item("RL-replayed", "ILL-replayed", "21000000001");
    runtime.block_on(answer(&router, replay.clone()));
    runtime.block_on(answer(&router, replay.clone()));
    group.bench_function("AcceptItem, replayed", |b| {
        b.iter(|| runtime.block_on(async { black_box(answer(&router, replay.clone()).await) }))
    });

    group.bench_function("LookupVersion", |b| {
        let body = messages::lookup_version();
        b.iter(|| runtime.block_on(async { black_box(answer(&router, body.clone()).await) }))
    });
    group.finish();
}

criterion_group!(benches, bridge_overhead);
criterion_main!(benches);
