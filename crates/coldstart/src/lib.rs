//! Cold start, warm latency and peak memory of every function under `functions/`, measured side by side with
//! an empty `lambda_runtime` function (the floor, `src/bin/floor.rs`) through a loopback implementation of the
//! Lambda Runtime API.
//!
//! What is measured is start-up work, not the network: Alma is the simulator (`alma-sim`) in the harness'
//! process, DynamoDB is moto on loopback, secrets are given as plain variables (no SSM call), and every call
//! a function makes to either passes through a timing hop ([`upstream`]) so its own time can be told apart.
//! The targets live in `docs/benchmarks.md`, never in a test: timings on shared machines are not repeatable.
//!
//! Run it with `cargo run --release -p coldstart -- --rounds 5`.

#![warn(missing_docs, unreachable_pub)]

pub mod environment;
pub mod events;
mod loopback;
pub mod process;
pub mod runtime_api;
pub mod table;
pub mod upstream;

/// The functions in the order a Relais request meets them (`bridge::Function::ALL`), so that a round's
/// status page finds the request the round's AcceptItem made.
pub const ORDER: [bridge::Function; 13] = bridge::Function::ALL;
