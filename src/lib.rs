//! The local single-process server: every public route of the bridge on one port, the embedded store, and
//! (unless real Alma settings are given) the Alma simulator started in process. `cargo run` runs it; the
//! end-to-end tests under `tests/` start it on a free port.
//!
//! The behaviour is the core library's ([`bridge`]): this package only chooses the local adapters and serves
//! [`bridge::http::router`] with `axum::serve`, the same router each Lambda function runs.

pub mod local;
