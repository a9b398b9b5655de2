//! Accepting connections for the local server within [`LocalServerLimits`]: how many at once, how long a
//! client may take over its headers (or sit idle between requests), and how long one request may last.
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
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::Service;

/// Serves `router` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, router: Router, limits: LocalServerLimits) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refused = RefusalSummary::default();
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
        match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => spawn_connection(stream, peer, router.clone(), limits, permit),
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
    permit: OwnedSemaphorePermit,
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
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "connection ended with an error");
        }
        drop(permit);
    });
}
