//! A faithful stand-in for Ex Libris Alma, for tests and local runs of the bridge; never used in production.
//!
//! One process serves, from one shared state:
//! - Alma's REST API under `/almaws/v1` (users and `op=auth`, items by barcode, borrowing requests, user
//!   requests, loans and renewals, partners and lending requests), with Alma's JSON shapes, error bodies,
//!   `Authorization: apikey` check (each key granted areas, read or read/write), 25 calls/s threshold
//!   (HTTP 429 `PER_SECOND_THRESHOLD`) and `X-Exl-Api-Remaining` daily countdown;
//! - Alma's NCIP responder at `/view/NCIPServlet` in broker mode (AcceptItem, CheckOutItem, CheckInItem,
//!   RequestItem, CancelRequestItem, RenewItem, LookupUser), written and read with `ncip_codec`;
//! - admin paths for tests: `/admin/faults`, `/admin/state`, `/admin/calls`, `/admin/reset`, `/admin/loan`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = alma_sim::AlmaSim::start("127.0.0.1:0".parse().unwrap(), alma_sim::Seed::demo()).await?;
//! println!("{} {} {}", sim.base_url(), sim.ncip_url(), sim.api_key());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//! Where a behaviour or text could not be checked against Alma's documentation or a captured answer, the
//! code says so next to it.

#![warn(missing_docs, unreachable_pub)]

mod calls;
mod errors;
mod faults;
mod http;
mod keys;
mod limiter;
mod ncip;
mod render;
mod rest;
mod seed;
mod server;
mod state;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use calls::CallRecord;
pub use faults::{AfterCommit, ArmedFault, FaultKind, FaultScope, FaultSpec, FaultSwitch};
pub use keys::{ApiAccess, ApiArea};
pub use seed::{DEFAULT_API_KEY, DEFAULT_DAILY_API_LIMIT, DEFAULT_PER_SECOND_THRESHOLD, Seed, SeedError};
pub use state::{Counts, StateView};

/// A running simulator.
pub struct AlmaSim {
    addr: SocketAddr,
    /// `scheme://host:port` clients reach the simulator at: its own address, or the proxy in front of it.
    origin: String,
    app: http::App,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl AlmaSim {
    /// Binds `listen` (port 0 picks a free port) and serves in a tokio task until [`AlmaSim::shutdown`].
    pub async fn start(listen: SocketAddr, seed: Seed) -> std::io::Result<AlmaSim> {
        Self::start_behind(listen, seed, None).await
    }

    /// [`AlmaSim::start`] for a simulator that clients reach through a proxy at `public_origin`
    /// (`https://host:port`, e.g. a TLS terminator): its links and redirects name that origin, as Alma's name
    /// its own API host, so a client that stays on its configured host follows them.
    pub async fn start_behind(listen: SocketAddr, seed: Seed, public_origin: Option<&str>) -> std::io::Result<AlmaSim> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let mut addr = listener.local_addr()?;
        if addr.ip().is_unspecified() {
            // Links in answers must be reachable: a wildcard bind is reached through loopback.
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        let origin = public_origin.map_or_else(|| format!("http://{addr}"), |o| o.trim_end_matches('/').to_owned());
        let app = http::App::new(seed, format!("{origin}/almaws/v1"));
        let (shutdown, rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, http::router(app.clone()), rx));
        Ok(AlmaSim { addr, origin, app, shutdown, task })
    }

    /// The REST base URL, e.g. `http://127.0.0.1:PORT/almaws/v1`.
    pub fn base_url(&self) -> String {
        self.app.base_url.to_string()
    }

    /// The NCIP responder, `http://127.0.0.1:PORT/view/NCIPServlet`.
    pub fn ncip_url(&self) -> String {
        format!("{}/view/NCIPServlet", self.origin)
    }

    /// The root of the admin paths, `http://127.0.0.1:PORT/admin`.
    pub fn admin_url(&self) -> String {
        format!("{}/admin", self.origin)
    }

    /// The address the simulator listens on, for a client that must bypass the proxy of
    /// [`AlmaSim::start_behind`] (a wildcard bind reads as loopback).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key the REST API accepts in every area (the seed's `api_key`, else `sim-api-key`), unless the
    /// seed narrowed it with [`Seed::with_api_key_for_areas`].
    pub fn api_key(&self) -> &str {
        &self.app.api_key
    }

    /// Read access to the state, the same data as `GET /admin/state`.
    pub fn state(&self) -> StateView {
        StateView { store: self.app.store.clone(), base_url: self.app.base_url.clone() }
    }

    /// The fault switchboard, the same one `POST /admin/faults` arms.
    pub fn faults(&self) -> FaultSwitch {
        self.app.faults.clone()
    }

    /// The calls received so far, the same list as `GET /admin/calls`.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.app.calls.all()
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}
