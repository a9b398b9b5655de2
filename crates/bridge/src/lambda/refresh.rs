//! Keeping a running function's secrets current. A Lambda instance can live for hours, so secrets read once
//! per cold start would keep a rotated-out token working (and a new one refused) until every instance is
//! recycled. Instead, the first request after `SECRETS_REFRESH_SECONDS` (300 by default) reads the SSM
//! parameters again (one `GetParameters` call), and if any value changed, the bridge is assembled anew from
//! them; requests already under way finish with the bridge they started with.
//!
//! A failed read keeps the current secrets and tries again after the next interval: an SSM hiccup must not
//! stop a function that was working.

use super::Entry;
use super::secrets;
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, Env};
use crate::flows::Bridge;
use std::sync::{Arc, Mutex};

/// The bridge of a function, with the secrets it was built from.
pub struct Refreshing {
    entry: Entry,
    /// The environment as the function was started with (secret variables not yet resolved).
    started_with: Env,
    aws: aws_types::SdkConfig,
    /// The process' HTTPS client, kept across rebuilds (its connections and parsed roots stay).
    http: reqwest::Client,
    /// Whether any `*_PARAMETER` names an SSM parameter: without one there is nothing to read again.
    reads_ssm: bool,
    /// When the interval has passed (the system's clock; a manual one in tests), and the bridge's clock.
    clock: Arc<dyn Clock>,
    current: Mutex<Current>,
}

struct Current {
    bridge: Arc<Bridge>,
    /// The function's routes over `bridge` (an HTTP function's whole request path; none for the deliverer).
    router: Option<axum::Router>,
    /// The resolved environment the bridge was built from, to tell whether a read changed anything.
    resolved: Env,
    checked_at: jiff::Timestamp,
}

impl Refreshing {
    /// Reads the secrets and builds the bridge: a function's cold start.
    pub async fn start(
        entry: Entry,
        env: Env,
        aws: aws_types::SdkConfig,
        http: reqwest::Client,
    ) -> Result<Self, ConfigError> {
        Self::start_with_clock(entry, env, aws, http, Arc::new(SystemClock)).await
    }

    /// [`Refreshing::start`] on `clock`: a test moves it past the interval instead of waiting.
    pub async fn start_with_clock(
        entry: Entry,
        env: Env,
        aws: aws_types::SdkConfig,
        http: reqwest::Client,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let mut resolved = env.clone();
        secrets::resolve(&mut resolved, &aws).await?;
        let bridge = Arc::new(super::build(entry, &resolved, &aws, &http, Arc::clone(&clock))?);
        let router = entry.router(Arc::clone(&bridge));
        let current = Current { bridge, router, resolved, checked_at: clock.now() };
        let reads_ssm = secrets::any_from_ssm(&env);
        Ok(Self { entry, started_with: env, aws, http, reads_ssm, clock, current: Mutex::new(current) })
    }

    /// The router to answer the next HTTP request with (see [`Refreshing::bridge`]); for the deliverer, which
    /// takes no HTTP, a router that answers 404 to anything.
    pub async fn router(&self) -> axum::Router {
        self.refresh_if_due().await;
        self.lock().router.clone().unwrap_or_default()
    }

    /// The bridge to answer the next request with, after reading SSM again if the interval has passed.
    pub async fn bridge(&self) -> Arc<Bridge> {
        self.refresh_if_due().await;
        Arc::clone(&self.lock().bridge)
    }

    /// Reads the SSM parameters again once the interval has passed, and rebuilds the bridge if a value changed.
    async fn refresh_if_due(&self) {
        if !self.reads_ssm {
            return;
        }
        {
            let current = self.lock();
            let elapsed = self.clock.now().duration_since(current.checked_at);
            if elapsed < jiff::SignedDuration::try_from(current.bridge.settings.secrets_refresh).unwrap_or_default() {
                return;
            }
        }
        let mut resolved = self.started_with.clone();
        let read = secrets::resolve(&mut resolved, &self.aws).await;
        let mut current = self.lock();
        current.checked_at = self.clock.now();
        match read {
            Err(err) => tracing::warn!(error = %err, "could not read the secrets again; keeping the current ones"),
            Ok(()) if resolved == current.resolved => {}
            Ok(()) => match super::build(self.entry, &resolved, &self.aws, &self.http, Arc::clone(&self.clock)) {
                Ok(rebuilt) => {
                    let function = self.entry.function.name();
                    tracing::info!(
                        function,
                        "a secret changed in SSM (or a rotation's previous value came or went): using the new values"
                    );
                    current.bridge = Arc::new(rebuilt);
                    current.router = self.entry.router(Arc::clone(&current.bridge));
                    current.resolved = resolved;
                }
                Err(err) => tracing::error!(error = %err, "the new secrets are not usable; keeping the current ones"),
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
