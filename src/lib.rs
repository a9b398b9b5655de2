//! alma-relais-bridge: the core library.
//!
//! Everything the bridge does lives here, written once and used by two hosts: each Lambda function under
//! `functions/` (a `main` of a few lines that calls [`lambda::run`]) and the local single-process server
//! (`src/main.rs`). Data flows one way: HTTP glue ([`http`]) -> a flow ([`flows`]) -> Alma ([`alma`]) and the
//! correlation store ([`store`]) -> the NCIP codec ([`ncip`]) -> HTTP glue.
//!
//! The two codecs, the store and the Alma simulator are workspace crates of their own (re-exported here) so
//! the simulator, fuzzers and benchmarks can use them without the AWS stack, and so the dependency graph
//! stays acyclic (the simulator speaks NCIP through the same codec).

pub use bridge_store as store;
pub use ncip_codec as ncip;
pub use openurl;

pub mod alma;
pub mod app;
pub mod clock;
pub mod config;
pub mod flows;
pub mod http;
pub mod lambda;
#[cfg(feature = "local")]
pub mod local;
pub mod logging;
pub mod metrics;

pub use app::{App, Function};
