//! Accepting connections for the local server within [`LocalServerLimits`]: how many at once, and from one
//! client address; how long a client may take over its headers (or sit idle between requests), how long one
//! request may last, and how long an answer may wait for the client to read it.
//!
//! hyper answers a connection's requests one at a time and reads at most [`READ_AHEAD`] bytes of pipelined
//! requests ahead; a client that never reads its answers is cut off by the write timeout, so pipelining holds a
//! slot no longer than a slow header does.
//!
//! `axum::serve` applies none of these, so 300 connections sending a body a byte at a time all stayed open
//! until they finished. hyper's header-read timer runs from the moment the connection waits for a request
//! head, so it also closes kept-alive connections that stay idle. The body's pause limit is applied where
//! the body is read ([`bridge::http::body`]), after the token check.

use axum::Router;
use bridge::config::LocalServerLimits;
use bridge::http::client::ClientAddress;
use bridge::refusal_summary::RefusalSummary;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

/// The most bytes of a connection's pipelined requests read ahead of the one being answered.
const READ_AHEAD: usize = 64 * 1024;

/// Open connections by client address, so that one address cannot take every slot.
#[derive(Default)]
struct PerPeer(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of a peer, given back when dropped.
struct PeerSlot {
    peers: Arc<PerPeer>,
    peer: IpAddr,
}

impl PerPeer {
    /// A slot for `peer` if it holds fewer than `cap` connections.
    fn take(self: &Arc<Self>, peer: IpAddr, cap: usize) -> Option<PeerSlot> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let held = open.entry(peer).or_default();
        if *held >= cap {
            return None;
        }
        *held += 1;
        Some(PeerSlot { peers: Arc::clone(self), peer })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self.peers.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = open.get_mut(&self.peer) {
            *held -= 1;
            if *held == 0 {
                open.remove(&self.peer);
            }
        }
    }
}

/// Serves `router` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, router: Router, limits: LocalServerLimits) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let peers = Arc::new(PerPeer::default());
    let refused = RefusalSummary::default();
    let refused_peer = RefusalSummary::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Running out of file descriptors is the usual cause; a pause lets connections finish.
                tracing::warn!(error = %err, "accepting a connection failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        // The peer's own cap first, so that a client at its cap takes no slot from the others.
        let Some(peer_slot) = peers.take(peer.ip(), limits.max_connections_per_peer) else {
            if let Some(refused) = refused_peer.count(std::time::Instant::now()) {
                let limit = limits.max_connections_per_peer;
                tracing::warn!(refused, limit, "connection refused: too many open from one client address");
            }
            continue;
        };
        match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => spawn_connection(stream, peer, router.clone(), limits, (permit, peer_slot)),
            // Closed at once rather than queued: a queued client would wait on whoever holds the slots.
            // One line a minute at most, with the count: a flood of connections would otherwise flood the log.
            Err(_) => {
                if let Some(refused) = refused.count(std::time::Instant::now()) {
                    tracing::warn!(refused, limit = limits.max_connections, "connection refused: too many open");
                }
            }
        }
    }
}

fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: LocalServerLimits,
    permit: (OwnedSemaphorePermit, PeerSlot),
) {
    tokio::spawn(async move {
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let mut router = router.clone();
            // The peer, for the budgets kept per client address (on AWS, API Gateway's sourceIp says it).
            req.extensions_mut().insert(ClientAddress(peer.ip()));
            async move {
                let answer = tokio::time::timeout(limits.request_timeout, router.call(req.map(axum::body::Body::new)));
                match answer.await {
                    Ok(result) => result,
                    Err(_) => Ok(bridge::http::respond::text(408, "The request took too long")),
                }
            }
        });
        let stream = super::write_timeout::WriteTimeout::new(stream, limits.write_timeout);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(READ_AHEAD)
            .serve_connection(TokioIo::new(stream), service);
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "connection ended with an error");
        }
        drop(permit);
    });
}
