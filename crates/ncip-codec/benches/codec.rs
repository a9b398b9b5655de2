//! Parse + write of every readable corpus message against the floor: a bare quick-xml token pass over
//! the same bytes (target in docs/benchmarks.md: within 2x of the floor).
//!
//! Run: `cargo bench -p ncip-codec --bench codec -- --warm-up-time 1 --measurement-time 2`.
//! Benchmarks are named `floor/<file>` and `codec/<file>`, plus `floor/ALL` and `codec/ALL` over the
//! whole corpus, `parts/read-ALL` / `parts/write-ALL` splitting the codec time, and `forward/read-patch-ALL` (beside `forward/floor-ALL`):
//! what the bridge does to a message it forwards to Alma (read it, patch its header: the forward path the 2x
//! target also covers, counted in instructions by `scripts/bench-instructions`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use floor::token_pass;
use ncip_codec::{HeaderEdits, ReadOptions, ServiceKind, patch, read, write};

#[path = "../tests/codec/common.rs"]
mod common;
mod floor;

/// The outside corpus when present; otherwise (after the one-line notice `common` prints) the repository's own
/// fixtures, which hold every dialect the corpus exercises, so the bench runs on a fresh clone too.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let files = common::corpus_or_fixtures();
    files.into_iter().map(|(name, bytes)| (name.trim_end_matches(".xml").to_owned(), bytes)).collect()
}

fn parse_and_write(bytes: &[u8], opts: &ReadOptions) -> Vec<u8> {
    write(&read(bytes, opts).expect("readable corpus file"))
}

fn bench(c: &mut Criterion) {
    let opts = ReadOptions::default();
    let readable: Vec<(String, Vec<u8>)> =
        corpus().into_iter().filter(|(_, bytes)| read(bytes, &opts).is_ok()).collect();
    let mut floor = c.benchmark_group("floor");
    for (name, bytes) in &readable {
        floor.throughput(Throughput::Bytes(bytes.len() as u64));
        floor.bench_function(name.as_str(), |b| b.iter(|| token_pass(black_box(bytes))));
    }
    let total: u64 = readable.iter().map(|(_, b)| b.len() as u64).sum();
    floor.throughput(Throughput::Bytes(total));
    floor.bench_function("ALL", |b| {
        b.iter(|| readable.iter().map(|(_, bytes)| token_pass(black_box(bytes))).sum::<usize>())
    });
    floor.finish();

    let mut codec = c.benchmark_group("codec");
    for (name, bytes) in &readable {
        codec.throughput(Throughput::Bytes(bytes.len() as u64));
        codec.bench_function(name.as_str(), |b| b.iter(|| parse_and_write(black_box(bytes), &opts)));
    }
    codec.throughput(Throughput::Bytes(total));
    codec.bench_function("ALL", |b| {
        b.iter(|| readable.iter().map(|(_, bytes)| parse_and_write(black_box(bytes), &opts).len()).sum::<usize>())
    });
    codec.finish();

    // Where the codec's time goes: reading alone and writing alone, over the whole corpus.
    let parsed: Vec<_> = readable.iter().map(|(_, bytes)| read(bytes, &opts).unwrap()).collect();
    let mut parts = c.benchmark_group("parts");
    parts.throughput(Throughput::Bytes(total));
    parts.bench_function("read-ALL", |b| {
        b.iter(|| readable.iter().map(|(_, bytes)| read(black_box(bytes), &opts).is_ok() as usize).sum::<usize>())
    });
    parts.bench_function("write-ALL", |b| b.iter(|| parsed.iter().map(|m| write(black_box(m)).len()).sum::<usize>()));
    parts.finish();

    // The forward path since transparent forwarding: read, then patch the received bytes.
    let edits = HeaderEdits {
        to_agency: Some("01DEMO_INST"),
        from_agency: None,
        application_profile_type: Some("RELAIS"),
        user_identifier: Some("21000000001"),
        user_identifier_type: None,
        item_agency: Some("01DEMO_INST"),
        user_agency: Some("01DEMO_INST"),
    };
    // Only what the bridge forwards: requests (a response is read, never patched; LookupVersion is answered
    // by the bridge), beside the floor over the same files.
    let forwarded: Vec<&Vec<u8>> = readable
        .iter()
        .map(|(_, bytes)| bytes)
        .filter(|bytes| read(bytes, &opts).is_ok_and(|m| !m.is_response() && m.service() != ServiceKind::LookupVersion))
        .filter(|bytes| patch(bytes, &edits).is_ok())
        .collect();
    let mut forward = c.benchmark_group("forward");
    forward.throughput(Throughput::Bytes(forwarded.iter().map(|b| b.len() as u64).sum()));
    forward.bench_function("floor-ALL", |b| {
        b.iter(|| forwarded.iter().map(|bytes| token_pass(black_box(bytes))).sum::<usize>())
    });
    forward.bench_function("read-patch-ALL", |b| {
        b.iter(|| {
            forwarded
                .iter()
                .map(|bytes| {
                    let message = read(black_box(bytes), &opts).unwrap();
                    black_box(&message);
                    patch(bytes, &edits).unwrap().len()
                })
                .sum::<usize>()
        })
    });
    forward.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
