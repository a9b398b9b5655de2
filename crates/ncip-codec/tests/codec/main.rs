//! The codec's integration tests, built as one test binary rather than one per file: each binary links the
//! codec and its dependencies anew, so one is the cheaper build after a change to the codec
//! (docs/benchmarks.md). Each module below is one former test file; the shared helpers are `common`
//! (also the bench's) and `strategies` (the property tests' value generators).
//!
//! proptest files its failure seeds under `tests/proptest-regressions/` (it finds them from this `main.rs`).
//!
//! Run one group with `cargo test -p ncip-codec --test codec <module>::`, e.g. `hostile::`.

mod common;
mod corpus;
mod dialects;
mod hostile;
mod one_reading;
mod properties;
mod reading;
mod strategies;
