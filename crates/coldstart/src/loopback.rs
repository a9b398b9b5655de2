//! The one HTTP/1 accept loop the harness' loopback servers (the Runtime API and the upstream timing hop) share.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Serves every connection on `listener` with `handle`, until the task running this is aborted (which drops
/// the JoinSet and with it every open connection).
pub(crate) async fn serve<S, H, F>(listener: TcpListener, shared: Arc<S>, handle: H)
where
    S: Send + Sync + 'static,
    H: Fn(Arc<S>, Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        // Clients here send small requests and wait for each answer: Nagle would only add delay.
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let handle = handle.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let answer = handle(Arc::clone(&shared), request);
                async move { Ok::<_, std::convert::Infallible>(answer.await) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
        // Reap finished connections so a long run does not accumulate them.
        while connections.try_join_next().is_some() {}
    }
}
