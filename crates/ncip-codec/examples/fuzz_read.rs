//! Long-run mutation fuzzer for the NCIP reader, runnable on stable without cargo-fuzz.
//!
//! Usage: `cargo run -p ncip-codec --profile bench --example fuzz_read -- <iterations|Ns> [seed]`
//! (e.g. `300s` runs for five minutes). Inputs are corpus files mutated by byte edits, splices between
//! files and insertion of XML-significant tokens (entities, DOCTYPEs, CDATA, invalid UTF-8, deep nesting).
//!
//! Checked on every input: no panic; `peek` and `read` return; a message that reads writes back to the
//! same value deterministically; a failure yields an answer that is itself readable with the same
//! Problem. A panicking input is saved to `$NCIP_FUZZ_OUT` (default `/tmp/ncip-fuzz-findings`) by the
//! panic hook before the process dies, so release builds with `panic = "abort"` still report it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ncip_codec::{ReadOptions, error_response, peek, read, write};

thread_local! {
    static CURRENT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// xorshift64*: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&lt;",
    b"&#x0;",
    b"&#1;",
    b"&#x10FFFF;",
    b"&#xD800;",
    b"&lol;",
    b"]]>",
    b"<![CDATA[x]]>",
    b"<!-- c -->",
    b"<?pi x?>",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\r\n",
    b"\0",
    b"\x01",
    b"<!DOCTYPE x [<!ENTITY a \"b\">]>",
    b"<!DOCTYPE NCIPMessage SYSTEM \"http://x/d.dtd\">",
    b"ns1:",
    b"xmlns=\"\"",
    b" Scheme=\"&quot;\"",
    b" ns1:Scheme=\"s\"",
    b"</a>",
    b"<a>",
    b"<Ext>",
    b"</Ext>",
    b"<Problem/>",
    b"<CheckOutItem/>",
    b"<LookupVersion/>",
    b"<UserIdentifierValue> </UserIdentifierValue>",
    b"<DateDue>2020-02-30T00:00:00Z</DateDue>",
    b"<MonetaryValue>1e9</MonetaryValue>",
    b"version=\"v1_0\"",
    b"<UniqueAgencyId><Scheme>s</Scheme><Value>v</Value></UniqueAgencyId>",
];

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = corpus[rng.below(corpus.len())].clone();
    let edits = 1 + rng.below(8);
    for _ in 0..edits {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => bytes[at.min(len - 1)] = rng.next() as u8,
            1 => bytes.insert(at, rng.next() as u8),
            2 if at < len => {
                let end = (at + 1 + rng.below(16)).min(len);
                bytes.drain(at..end);
            }
            3 => bytes.truncate(at),
            4 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                bytes.splice(at..at, token.iter().copied());
            }
            5 => {
                // Splice a slice of another corpus file in.
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(256)).min(other.len());
                bytes.splice(at..at, other[from..to].iter().copied());
            }
            6 if len > 0 => {
                // Duplicate a range (repeated elements, two services, ...).
                let from = rng.below(len);
                let to = (from + rng.below(512)).min(len);
                let copy = bytes[from..to].to_vec();
                bytes.splice(at..at, copy);
            }
            7 => {
                let depth = rng.below(200);
                let nest: Vec<u8> = b"<a>".repeat(depth).into_iter().chain(b"</a>".repeat(depth)).collect();
                bytes.splice(at..at, nest);
            }
            _ => {
                // Swap two bytes (reorders tags and quotes).
                if len > 1 {
                    let other = rng.below(len);
                    bytes.swap(at.min(len - 1), other);
                }
            }
        }
    }
    bytes
}

/// Seed inputs: the outside corpus when present, else the repository's own fixtures (every dialect).
fn seed_dirs() -> Vec<PathBuf> {
    let corpus = std::env::var_os("NCIP_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ncip-corpus"));
    if corpus.is_dir() {
        return vec![corpus];
    }
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ncip");
    eprintln!("no NCIP corpus at {}: fuzzing from {}", corpus.display(), fixtures.display());
    vec![fixtures.join("alma"), fixtures.join("dialects")]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let budget = args.get(1).map(String::as_str).unwrap_or("100000");
    let (max_iterations, deadline) = match budget.strip_suffix('s') {
        Some(secs) => (u64::MAX, Some(Duration::from_secs(secs.parse().expect("seconds")))),
        None => (budget.parse().expect("iteration count"), None),
    };
    let seed: u64 = args.get(2).map(|s| s.parse().expect("seed")).unwrap_or(0x5EED_1234_ABCD_0001);
    let out_dir = std::env::var_os("NCIP_FUZZ_OUT").map(PathBuf::from).unwrap_or("/tmp/ncip-fuzz-findings".into());

    let corpus: Vec<Vec<u8>> = seed_dirs()
        .into_iter()
        .flat_map(|dir| std::fs::read_dir(dir).expect("seed directory"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| std::fs::read(p).expect("corpus file"))
        .collect();
    assert!(!corpus.is_empty(), "empty corpus");

    let hook_dir = out_dir.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = std::fs::create_dir_all(&hook_dir);
        CURRENT.with(|c| {
            let path = hook_dir.join(format!("panic-{}.xml", std::process::id()));
            let _ = std::fs::write(&path, &*c.borrow());
            eprintln!("PANIC on input saved to {}", path.display());
        });
        default_hook(info);
    }));

    let opts = ReadOptions::default();
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let (mut iterations, mut parsed, mut bytes_total) = (0u64, 0u64, 0u64);
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut violations = 0u64;
    while iterations < max_iterations && deadline.is_none_or(|d| started.elapsed() < d) {
        let input = mutate(&mut rng, &corpus);
        CURRENT.with(|c| c.borrow_mut().clone_from(&input));
        bytes_total += input.len() as u64;
        let _ = peek(&input, &ncip_codec::ReadOptions::default());
        match read(&input, &opts) {
            Ok(msg) => {
                parsed += 1;
                let written = write(&msg);
                let stable = matches!(read(&written, &opts), Ok(ref again) if *again == msg) && write(&msg) == written;
                if !stable {
                    violations += 1;
                    let _ = std::fs::create_dir_all(&out_dir);
                    let _ = std::fs::write(out_dir.join(format!("unstable-{iterations}.xml")), &input);
                }
            }
            Err(err) => {
                let kind = format!("{:?}", err.kind());
                let kind = kind.split([' ', '{', '(']).next().unwrap_or("").to_owned();
                *failures.entry(kind).or_default() += 1;
                let answer = write(&error_response(&err, None));
                let ok = matches!(read(&answer, &opts), Ok(ref m) if m.problems() == [err.problem()]);
                if !ok {
                    violations += 1;
                    let _ = std::fs::create_dir_all(&out_dir);
                    let _ = std::fs::write(out_dir.join(format!("bad-answer-{iterations}.xml")), &input);
                }
            }
        }
        iterations += 1;
    }
    let elapsed = started.elapsed();
    println!(
        "fuzz_read: {iterations} inputs ({:.1} MB) in {:.1?} ({:.0}/s), seed {seed:#x}",
        bytes_total as f64 / 1e6,
        elapsed,
        iterations as f64 / elapsed.as_secs_f64()
    );
    println!("  parsed and round-tripped: {parsed}");
    for (kind, count) in &failures {
        println!("  refused {kind}: {count}");
    }
    println!("  invariant violations: {violations} (inputs saved under {})", out_dir.display());
    if violations > 0 {
        std::process::exit(1);
    }
}
