//! The outside NCIP corpus (`../shared/ncip-corpus` beside the checkout, or `$NCIP_CORPUS_DIR`): an extra check
//! that only some machines have. The repository's own fixtures (`tests/fixtures/ncip/`) cover every dialect
//! without it, so when it is absent a test skips with one line saying so and never fails a fresh clone.
//! `NCIP_CORPUS_REQUIRED=1` turns the skip into a failure. (The codec crate's tests keep the same rule in
//! `crates/ncip-codec/tests/codec/common.rs`; the two test crates cannot share a module.)

use std::io::Write;
use std::path::PathBuf;

/// The corpus directory, or None (after printing why) when it is absent or holds no `*.xml` file.
pub fn dir() -> Option<PathBuf> {
    let (dir, how) = match std::env::var_os("NCIP_CORPUS_DIR") {
        Some(dir) => (PathBuf::from(dir), "NCIP_CORPUS_DIR"),
        None => (PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/ncip-corpus"), "the default path"),
    };
    let has_xml = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().any(|e| e.path().extension().is_some_and(|x| x == "xml")))
        .unwrap_or(false);
    if has_xml {
        return Some(dir);
    }
    let reason = format!("no NCIP corpus at {} ({how})", dir.display());
    assert!(std::env::var_os("NCIP_CORPUS_REQUIRED").is_none_or(|v| v != "1"), "{reason}; NCIP_CORPUS_REQUIRED=1");
    // Straight to stderr, past the test harness' capture of print!/eprint!, so the skip is seen.
    let line = format!(
        "SKIPPED {}: {reason}; the outside corpus is an extra check, tests/fixtures/ncip covers the dialects \
         (set NCIP_CORPUS_DIR to run it)\n",
        std::thread::current().name().unwrap_or("corpus test")
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
    None
}
