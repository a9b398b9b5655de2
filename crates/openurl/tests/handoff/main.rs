//! The OpenURL hand-off's integration tests, built as one test binary rather than one per file: each binary
//! links the crate and its dependencies (ring, rsa, aws-lc-rs, proptest) anew, so one is the cheaper build
//! after a change to the crate (docs/benchmarks.md). Each module below is one former test file; the test
//! keys stay in `tests/keys/`, which the workspace's own tests read too.
//!
//! proptest files its failure seeds under `tests/proptest-regressions/` (it finds them from this `main.rs`).
//!
//! Run one group with `cargo test -p openurl --test handoff <module>::`, e.g. `patron_identity::`.

mod hostile_links;
mod patron_identity;
mod properties;
mod real_world_links;
