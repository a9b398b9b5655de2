//! Keeping a running function's secrets current. A Lambda instance can live for hours, so secrets read once
//! per cold start would keep a rotated-out token working (and a new one refused) until every instance is
//! recycled. Instead, the first request after `SECRETS_REFRESH_SECONDS` (300 by default) reads the SSM
//! parameters again (one `GetParameters` call), and if any value changed, the bridge is assembled anew from
//! them; requests already under way finish with the bridge they started with.
//!
//! A failed read keeps the current secrets and tries again after the next interval: an SSM hiccup must not
//! stop a function that was working.

use super::secrets;
use crate::config::{ConfigError, Env};
use crate::flows::Bridge;
use crate::function::Function;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The bridge of a function, with the secrets it was built from.
pub struct Refreshing {
    function: Function,
    /// The environment as the function was started with (secret variables not yet resolved).
    started_with: Env,
    aws: aws_config::SdkConfig,
    /// Whether any `*_PARAMETER` names an SSM parameter: without one there is nothing to read again.
    reads_ssm: bool,
    current: Mutex<Current>,
}

struct Current {
    bridge: Arc<Bridge>,
    /// The function's routes over `bridge` (an HTTP function's whole request path).
    router: axum::Router,
    /// The resolved environment the bridge was built from, to tell whether a read changed anything.
    resolved: Env,
    checked_at: Instant,
}

impl Refreshing {
    /// Reads the secrets and builds the bridge: a function's cold start.
    pub async fn start(function: Function, env: Env, aws: aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let mut resolved = env.clone();
        secrets::resolve(&mut resolved, &aws).await?;
        let bridge = Arc::new(super::build(function, &resolved, &aws)?);
        let router = crate::http::router(Arc::clone(&bridge), &[function]);
        let current = Current { bridge, router, resolved, checked_at: Instant::now() };
        let reads_ssm = secrets::any_from_ssm(&env);
        Ok(Self { function, started_with: env, aws, reads_ssm, current: Mutex::new(current) })
    }

    /// The router to answer the next HTTP request with (see [`Refreshing::bridge`]).
    pub async fn router(&self) -> axum::Router {
        self.refresh_if_due().await;
        self.lock().router.clone()
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
            if current.checked_at.elapsed() < current.bridge.settings.secrets_refresh {
                return;
            }
        }
        let mut resolved = self.started_with.clone();
        let read = secrets::resolve(&mut resolved, &self.aws).await;
        let mut current = self.lock();
        current.checked_at = Instant::now();
        match read {
            Err(err) => tracing::warn!(error = %err, "could not read the secrets again; keeping the current ones"),
            Ok(()) if resolved == current.resolved => {}
            Ok(()) => match super::build(self.function, &resolved, &self.aws) {
                Ok(rebuilt) => {
                    tracing::info!(function = self.function.name(), "a secret changed in SSM: using the new value");
                    current.bridge = Arc::new(rebuilt);
                    current.router = crate::http::router(Arc::clone(&current.bridge), &[self.function]);
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
