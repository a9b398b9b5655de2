//! The accept loop. Hand-rolled rather than `axum::serve` so that each connection carries a
//! [`ConnKill`](crate::http::gate::ConnKill): the `drop_connection` and `fail_after_commit` faults close
//! one connection without an answer, which a normal handler cannot do.

use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tower_service::Service;

use crate::http::gate::ConnKill;

/// Serves until `shutdown` turns true; open connections are closed then too.
pub(crate) async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => spawn_connection(stream, router.clone(), shutdown.clone()),
                Err(e) => tracing::warn!(error = %e, "alma-sim: accept failed"),
            },
            _ = shutdown.changed() => break,
        }
    }
}

fn spawn_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let kill = ConnKill(Arc::new(Notify::new()));
        let handle = kill.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(handle.clone());
            let mut router = router.clone();
            async move { router.call(req.map(axum::body::Body::new)).await }
        });
        let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        tokio::select! {
            result = connection => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "alma-sim: connection ended with an error");
                }
            }
            // Dropping the connection future closes the socket with no answer written.
            _ = kill.0.notified() => {}
            _ = shutdown.changed() => {}
        }
    });
}
