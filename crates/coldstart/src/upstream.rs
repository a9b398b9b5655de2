//! A timing pass-through in front of the functions' upstreams (the Alma simulator, the DynamoDB server), so
//! the harness can tell a function's own time from the time it spent waiting on them.
//!
//! Each call is timed from the moment its request has been read to the moment the upstream's whole answer is
//! in hand; the sum is what [`Upstream::spent`] reports. The extra loopback hop this adds is counted as
//! upstream time, which is where it belongs.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Headers that describe one hop, not the message.
const HOP_HEADERS: [&str; 5] = ["host", "connection", "content-length", "transfer-encoding", "keep-alive"];

struct Shared {
    origin: String,
    own_origin: String,
    client: reqwest::Client,
    spent_nanos: AtomicU64,
    calls: AtomicU64,
}

/// A running pass-through; dropping it stops it.
pub struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// Time and calls spent upstream so far; subtract two to get one invocation's share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    /// Time spent relaying each call upstream and reading its answer, summed.
    pub time: Duration,
    /// Calls passed through.
    pub calls: u64,
}

impl std::ops::Sub for Spent {
    type Output = Spent;
    fn sub(self, earlier: Spent) -> Spent {
        Spent { time: self.time.saturating_sub(earlier.time), calls: self.calls.saturating_sub(earlier.calls) }
    }
}

impl std::ops::Add for Spent {
    type Output = Spent;
    fn add(self, other: Spent) -> Spent {
        Spent { time: self.time + other.time, calls: self.calls + other.calls }
    }
}

impl Upstream {
    /// Forwards everything that reaches a new loopback port to `origin` (`http://host:port`, no path).
    pub async fn start(origin: &str) -> std::io::Result<Upstream> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let client = reqwest::Client::builder()
            // A redirect is the function's to follow (Alma's GET /items answers 302), through this hop again.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            origin: origin.trim_end_matches('/').to_owned(),
            own_origin: format!("http://{addr}"),
            client,
            spent_nanos: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        });
        let server =
            tokio::spawn(crate::loopback::serve(listener, Arc::clone(&shared), |shared, request| async move {
                forward(&shared, request).await
            }));
        Ok(Upstream { addr, shared, server })
    }

    /// `http://127.0.0.1:PORT`: use it where the function would use the upstream's origin.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything spent upstream since start.
    pub fn spent(&self) -> Spent {
        Spent {
            time: Duration::from_nanos(self.shared.spent_nanos.load(Ordering::SeqCst)),
            calls: self.shared.calls.load(Ordering::SeqCst),
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let started = Instant::now();
    let answer = relay(shared, parts, body).await;
    shared.spent_nanos.fetch_add(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX), Ordering::SeqCst);
    shared.calls.fetch_add(1, Ordering::SeqCst);
    answer.unwrap_or_else(|_| {
        // The upstream dropped the connection: answer as a gateway would.
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        response
    })
}

async fn relay(shared: &Shared, parts: http::request::Parts, body: Bytes) -> reqwest::Result<Response<Full<Bytes>>> {
    let target = format!("{}{}", shared.origin, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut outgoing = shared.client.request(parts.method, target).body(body);
    for (name, value) in &parts.headers {
        if !HOP_HEADERS.contains(&name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if HOP_HEADERS.contains(&name.as_str()) {
            continue;
        }
        // Links the upstream makes to itself must lead back through this hop.
        let value = match value.to_str() {
            Ok(text) if name == "location" && text.starts_with(&shared.origin) => {
                HeaderValue::from_str(&text.replacen(&shared.origin, &shared.own_origin, 1)).unwrap_or(value.clone())
            }
            _ => value.clone(),
        };
        response = response.header(name, value);
    }
    let body = answer.bytes().await?;
    Ok(response.body(Full::new(body)).expect("status and headers come from a valid response"))
}
