//! The core of alma-relais-bridge: everything the bridge does, written once and used by two hosts: each
//! Lambda function under `functions/` (a `main` of a few lines that calls [`lambda::run`]) and the local
//! single-process server (the workspace's root package).
//!
//! The modules depend on each other in one direction only (a test in `tests/module_order.rs` keeps it so):
//!
//! ```text
//!  function  config  clock  logging  metrics  alma  idp  store  ncip  openurl   (adapters and codecs)
//!                                   ^
//!                                 flows                                      (what the bridge does)
//!                                   ^
//!                                  app                                       (assembling a Bridge)
//!                                   ^
//!                                 http                                       (one axum Router)
//!                                   ^
//!                                lambda                                      (the Lambda host)
//! ```
//!
//! The two codecs and the store are workspace crates of their own (re-exported here) so that the simulator,
//! fuzzers and benchmarks can use them without the AWS stack.

#![warn(missing_docs, unreachable_pub)]

pub use bridge_store as store;
pub use ncip_codec as ncip;
pub use openurl;

pub mod alma;
pub mod app;
pub mod clock;
pub mod config;
pub mod flows;
pub mod function;
pub mod http;
pub mod idp;
pub mod lambda;
pub mod logging;
pub mod metrics;
pub mod preflight;
pub mod refusal_summary;

pub use flows::Bridge;
pub use function::Function;
