//! The Lambda Runtime API (`2018-06-01`) on a loopback socket: the four paths a function's runtime client
//! uses, and a timestamp for each thing the function does, taken the moment the harness sees it.
//!
//! One [`RuntimeApi`] serves one function process. The harness queues events with [`RuntimeApi::invoke`]; a
//! function's `GET .../invocation/next` waits for the next one, as Lambda's long poll does. Everything the
//! function sends comes back to the harness as a [`Report`].

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";

/// How long a function may run per invocation, as the deadline header tells it (Lambda's default is 3 s; the
/// bridge's functions are deployed with 30 s).
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What a function did, and when the harness saw it.
#[derive(Debug)]
pub enum Report {
    /// A `GET .../invocation/next` arrived (the first one ends the function's init).
    Polled {
        /// When the poll arrived.
        at: Instant,
    },
    /// An event was handed to the function as the answer to its poll.
    Handed {
        /// The invocation's `Lambda-Runtime-Aws-Request-Id`.
        request_id: String,
        /// When the event was handed over.
        at: Instant,
    },
    /// `POST .../invocation/{id}/response`, once its body was read.
    Answered {
        /// The invocation answered.
        request_id: String,
        /// When the whole answer had arrived.
        at: Instant,
        /// The answer, e.g. an API Gateway response.
        body: Bytes,
    },
    /// `POST .../invocation/{id}/error`.
    Failed {
        /// The invocation that failed.
        request_id: String,
        /// When the error arrived.
        at: Instant,
        /// The runtime's error document.
        body: Bytes,
    },
    /// `POST .../init/error`.
    InitFailed {
        /// When the error arrived.
        at: Instant,
        /// The runtime's error document.
        body: Bytes,
    },
}

struct Invocation {
    request_id: String,
    event: Bytes,
}

struct Shared {
    function_arn: String,
    queue: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    reports: mpsc::UnboundedSender<Report>,
}

/// A Runtime API endpoint for one function process; dropping it closes the socket and every connection.
pub struct RuntimeApi {
    addr: SocketAddr,
    queue: mpsc::UnboundedSender<Invocation>,
    reports: mpsc::UnboundedReceiver<Report>,
    next_id: u64,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Listens on a free loopback port for the function `function_name`.
    pub async fn start(function_name: &str) -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let (queue, queued) = mpsc::unbounded_channel();
        let (report, reports) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn: format!("arn:aws:lambda:eu-west-1:000000000000:function:{function_name}"),
            queue: Mutex::new(queued),
            reports: report,
        });
        let server = tokio::spawn(crate::loopback::serve(listener, shared, |shared, request| async move {
            route(&shared, request).await
        }));
        Ok(RuntimeApi { addr, queue, reports, next_id: 0, server })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (host:port, no scheme).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues one event for the function's next poll and returns its request id.
    pub fn invoke(&mut self, event: Bytes) -> String {
        self.next_id += 1;
        let request_id = format!("00000000-0000-4000-8000-{:012x}", self.next_id);
        // The receiver lives as long as the server task, which lives as long as `self`.
        let _ = self.queue.send(Invocation { request_id: request_id.clone(), event });
        request_id
    }

    /// The next thing the function did, or `None` if nothing happened within `wait`.
    pub async fn report(&mut self, wait: Duration) -> Option<Report> {
        tokio::time::timeout(wait, self.reports.recv()).await.ok().flatten()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every open connection with it.
        self.server.abort();
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else { return status(StatusCode::NOT_FOUND) };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match (request.method().clone(), segments.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(shared).await,
        (Method::POST, ["invocation", id, outcome @ ("response" | "error")]) => {
            let request_id = (*id).to_owned();
            let outcome = *outcome;
            let body = read_body(request).await;
            let at = Instant::now();
            let report = if outcome == "response" {
                Report::Answered { request_id, at, body }
            } else {
                Report::Failed { request_id, at, body }
            };
            let _ = shared.reports.send(report);
            accepted()
        }
        (Method::POST, ["init", "error"]) => {
            let body = read_body(request).await;
            let _ = shared.reports.send(Report::InitFailed { at: Instant::now(), body });
            accepted()
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    let _ = shared.reports.send(Report::Polled { at: Instant::now() });
    let invocation = {
        let mut queue = shared.queue.lock().await;
        queue.recv().await
    };
    let Some(Invocation { request_id, event }) = invocation else {
        return status(StatusCode::GONE);
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + INVOCATION_TIMEOUT;
    let trace = format!("Root=1-00000000-{:0>24};Parent=0000000000000000;Sampled=0", &request_id[24..]);
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &request_id)
        .header("lambda-runtime-deadline-ms", deadline.as_millis().to_string())
        .header("lambda-runtime-invoked-function-arn", &shared.function_arn)
        .header("lambda-runtime-trace-id", trace)
        .body(Full::new(event))
        .expect("static header names and valid values");
    let _ = shared.reports.send(Report::Handed { request_id, at: Instant::now() });
    response
}

async fn read_body(request: Request<Incoming>) -> Bytes {
    request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default()
}

fn accepted() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(br#"{"status":"OK"}"#)));
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}
