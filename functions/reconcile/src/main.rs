//! The nightly reconciliation: compares every open record (and those closed in the last week) with Alma,
//! within a call budget, and keeps the report staff read at `GET /reconcile`.
//!
//! A thin entry point: all behaviour lives in the core library so that the local server and every
//! Lambda function run the same code.

fn main() -> std::process::ExitCode {
    bridge::lambda::run(bridge::lambda::entry::RECONCILE)
}
