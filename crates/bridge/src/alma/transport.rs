//! One HTTP exchange with Alma: paced by the [`Limiter`], bounded by the caller's deadline, retried with
//! jittered backoff only when a retry cannot make Alma act twice, and recorded in the [`CallContext`].

use super::{AlmaCall, AlmaError, CallContext, Limiter};
use crate::config::Secret;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Whether an exchange may be sent again after a failure whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryPolicy {
    /// Reads (and `op=auth`): retry on 429, 5xx, connection failures and timeouts.
    Idempotent,
    /// Writes (NCIP messages): retry only when Alma certainly did not act: the connection was never made,
    /// Alma's threshold refused the call (429), or its maintenance page answered (503).
    OnlyIfNotProcessed,
}

/// A request to Alma, described before it is sent so it can be sent again.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub method: Method,
    pub url: Url,
    /// The route template recorded in history (`/users/{id}`): concrete paths carry patron ids.
    pub route: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<(Bytes, &'static str)>,
    pub retry: RetryPolicy,
}

/// Alma's answer: status, headers and the whole body.
#[derive(Debug)]
pub(crate) struct AlmaResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The shared HTTP machinery of the REST and NCIP clients.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    limiter: Arc<Limiter>,
    api_key: Option<Secret>,
    max_attempts: u32,
    attempt_timeout: Duration,
}

/// The least time an Alma call is worth starting with.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(250);

impl Transport {
    /// `api_key` is sent as `Authorization: apikey ..` (REST); the NCIP responder takes none.
    pub fn new(limiter: Arc<Limiter>, api_key: Option<Secret>) -> Self {
        Self::over(super::https_client(), limiter, api_key)
    }

    /// Over a client the host already holds (a Lambda function shares one with its AWS SDK clients).
    pub fn over(client: reqwest::Client, limiter: Arc<Limiter>, api_key: Option<Secret>) -> Self {
        Self { client, limiter, api_key, max_attempts: 4, attempt_timeout: Duration::from_secs(10) }
    }

    /// Same pacing and client, different key (the NCIP client shares the REST client's limiter).
    pub fn without_key(&self) -> Self {
        Self { api_key: None, ..self.clone() }
    }

    /// Caps each attempt (tests use short ones against a slow simulator).
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Sends `exchange` within the caller's deadline, waiting for the limiter and retrying as its policy allows.
    /// The error is the last attempt's, or an unsent timeout when the deadline left no room for an attempt.
    pub(crate) async fn send(&self, exchange: &Exchange, ctx: &CallContext) -> Result<AlmaResponse, AlmaError> {
        let mut last_error = AlmaError::Timeout { sent: false };
        for attempt in 0..self.max_attempts {
            if attempt > 0 {
                let pause = backoff(attempt, matches!(last_error, AlmaError::RateLimited));
                if pause >= ctx.remaining() {
                    break;
                }
                tokio::time::sleep(pause).await;
            }
            if self.limiter.acquire(ctx.deadline()).await.is_err() {
                break;
            }
            // Too little time left for Alma to answer: not sending keeps the outcome known ("not sent"), where a
            // request cut off in flight would leave the message locked until its lease ends.
            if ctx.remaining() < MIN_ATTEMPT_TIME {
                break;
            }
            match self.attempt(exchange, ctx).await {
                Ok(answer) => return Ok(answer),
                Err(err) => {
                    let retry = match exchange.retry {
                        // The daily threshold lasts until Alma's reset: another try only spends the deadline.
                        _ if err == AlmaError::DailyThreshold => false,
                        RetryPolicy::Idempotent => true,
                        RetryPolicy::OnlyIfNotProcessed => !err.outcome_unknown(),
                    };
                    tracing::warn!(route = exchange.route, attempt, error = %err, "Alma call failed");
                    last_error = err;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }

    async fn attempt(&self, exchange: &Exchange, ctx: &CallContext) -> Result<AlmaResponse, AlmaError> {
        let timeout = ctx.remaining().min(self.attempt_timeout);
        let mut request = self.client.request(exchange.method.clone(), exchange.url.clone()).timeout(timeout);
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", format!("apikey {}", key.expose()));
        }
        for (name, value) in &exchange.headers {
            request = request.header(*name, value);
        }
        if let Some((body, content_type)) = &exchange.body {
            request = request.header("Content-Type", *content_type).body(body.clone());
        }
        let started = Instant::now();
        let outcome = async {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>(AlmaResponse { status, headers, body })
        }
        .await;
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut call = AlmaCall {
            method: method_name(&exchange.method),
            route: exchange.route,
            status: None,
            millis,
            tracking_id: None,
        };
        let result = match outcome {
            Ok(answer) => {
                call.status = Some(answer.status.as_u16());
                classify(answer)
            }
            Err(err) => Err(transport_error(&err)),
        };
        if let Err(err) = &result {
            call.tracking_id = err.tracking_id().map(str::to_owned);
        }
        ctx.record(call);
        result
    }
}

/// Statuses that mean "try again later" become errors; everything else is the caller's to read.
fn classify(answer: AlmaResponse) -> Result<AlmaResponse, AlmaError> {
    let status = answer.status.as_u16();
    match status {
        // Alma names the threshold in the body: the daily one lasts until Alma's reset, so retrying it within
        // the message's deadline is pointless.
        429 if daily_threshold(&answer.body) => Err(AlmaError::DailyThreshold),
        429 => Err(AlmaError::RateLimited),
        500..=599 => Err(AlmaError::Unavailable { status, sent: true }),
        _ => Ok(answer),
    }
}

/// Whether a 429's body is Alma's `DAILY_THRESHOLD` error (JSON or XML; the per-second one is
/// `PER_SECOND_THRESHOLD`).
fn daily_threshold(body: &[u8]) -> bool {
    body.windows(b"DAILY_THRESHOLD".len()).any(|w| w == b"DAILY_THRESHOLD")
}

/// reqwest's error text names the URL, which may hold a patron id: keep only the category.
fn transport_error(err: &reqwest::Error) -> AlmaError {
    if err.is_connect() {
        AlmaError::Unreachable { sent: false }
    } else if err.is_timeout() {
        AlmaError::Timeout { sent: true }
    } else {
        AlmaError::Unreachable { sent: true }
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

/// Exponential backoff with full jitter; Alma's threshold is counted per second, so a 429 waits most of one.
fn backoff(attempt: u32, rate_limited: bool) -> Duration {
    let base = if rate_limited { 600 } else { 100 };
    let ceiling = base * 2u64.pow(attempt.min(5));
    Duration::from_millis(base / 2 + rand::random_range(0..ceiling))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_waits_longer_after_a_threshold_refusal() {
        for _ in 0..50 {
            assert!(backoff(1, false) < Duration::from_millis(300));
            assert!(backoff(1, true) >= Duration::from_millis(300));
            assert!(backoff(3, false) <= Duration::from_millis(850));
        }
    }
}
