//! Logging set-up and the pseudonyms that stand in for patron identifiers in logs.
//!
//! One subscriber for every function and the local server ([`subscriber`]): `RUST_LOG`'s target filter, which a
//! running function may replace ([`apply_filter`]), under fixed [`caps`] that keep the Lambda runtime's and the
//! dependencies' verbose output (raw events, request and response bodies) out of the logs whatever it says.
//!
//! Logs never carry names, emails, barcodes or PINs. Where a log line must let staff correlate events for one
//! patron, it carries [`pseudonym`]: a keyed hash (HMAC-SHA-256 under `LOG_HASH_KEY`) that cannot be reversed
//! or recomputed by someone who only sees the logs.

use crate::config::Secret;
use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// A short keyed hash of a personal identifier, safe to log.
pub fn pseudonym(key: &Secret, identifier: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(identifier.trim().as_bytes());
    let digest = mac.finalize().into_bytes();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The full keyed hash (HMAC-SHA-256 under `LOG_HASH_KEY`, 64 hex digits) of an identifier within a
/// `domain`, for store keys that must name a patron without holding the identifier (attempt counts).
pub fn keyed_digest(key: &Secret, domain: &str, identifier: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(domain.as_bytes());
    mac.update(&[0]);
    mac.update(identifier.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Targets that log the raw Lambda event at DEBUG/TRACE: the `/ncip/<secret>` path, the authorization header,
/// PINs in the body. They log at WARN at most, whatever `RUST_LOG` says.
pub const RUNTIME_TARGETS: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// The bridge's own crates (library names), which alone may log at TRACE: their log lines are written to hold
/// no secret and no patron data (pseudonyms instead), whereas a dependency's TRACE output is whatever helps
/// its authors, and for the AWS SDK that is whole request and response bodies (PINs in the front door's
/// invoke payloads, queued NCIP messages, the decrypted SSM parameters).
pub const OWN_TARGETS: [&str; 7] =
    ["bridge", "alma_relais_bridge", "bridge_store", "bridge_html", "ncip_codec", "openurl", "alma_sim"];

/// Whether `target` is `krate` or one of its modules (`bridge::flows`, but not `bridge_store`).
fn within(target: &str, krate: &str) -> bool {
    target.strip_prefix(krate).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// The most any target may log, whatever `RUST_LOG` says: the Lambda runtime WARN, other dependencies DEBUG,
/// the bridge's own crates anything.
fn within_caps(metadata: &tracing::Metadata<'_>) -> bool {
    let target = metadata.target();
    let level = *metadata.level();
    if RUNTIME_TARGETS.iter().any(|krate| within(target, krate)) {
        level <= tracing::Level::WARN
    } else if OWN_TARGETS.iter().any(|krate| within(target, krate)) {
        true
    } else {
        level <= tracing::Level::DEBUG
    }
}

/// The caps applied beside `RUST_LOG`'s filter (and never reloaded with it): the Lambda runtime's targets at
/// WARN, every other target outside [`OWN_TARGETS`] at DEBUG.
pub fn caps() -> tracing_subscriber::filter::FilterFn<fn(&tracing::Metadata<'_>) -> bool> {
    tracing_subscriber::filter::filter_fn(within_caps as fn(&tracing::Metadata<'_>) -> bool)
}

type Reloadable = tracing_subscriber::reload::Handle<tracing_subscriber::filter::Targets, tracing_subscriber::Registry>;

/// The `RUST_LOG`-style filter of a running subscriber, which a function replaces when its settings change
/// without a restart (an on-call engineer raising the log level of a live stack).
#[derive(Clone)]
pub struct LogFilter(Reloadable);

impl std::fmt::Debug for LogFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogFilter").finish_non_exhaustive()
    }
}

impl LogFilter {
    /// Filters by `rust_log` from now on (the default when it is absent or unreadable); [`caps`] still apply.
    pub fn apply(&self, rust_log: Option<&str>) {
        // Fails only once the subscriber is gone, when there is nothing left to filter.
        let _ = self.0.reload(log_filter(rust_log));
    }
}

/// The subscriber every function (and the local server) logs through, writing to `writer`: `RUST_LOG`'s
/// target filter (reloadable through the [`LogFilter`]), the [`caps`], then JSON lines carrying the current
/// span (the invocation's `request_id`) or compact text. Tests install it over a buffer, so that what they
/// check is what a function prints.
pub fn subscriber<W>(json: bool, rust_log: Option<&str>, writer: W) -> (tracing::Dispatch, LogFilter)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(log_filter(rust_log));
    let registry = tracing_subscriber::registry().with(filter).with(caps());
    let layer = tracing_subscriber::fmt::layer().with_target(false).with_writer(writer);
    let dispatch = if json {
        tracing::Dispatch::new(registry.with(layer.json().flatten_event(true).with_current_span(true).without_time()))
    } else {
        tracing::Dispatch::new(registry.with(layer.compact()))
    };
    (dispatch, LogFilter(handle))
}

/// The filter of the subscriber [`init`] installed, for [`apply_filter`].
static INSTALLED: std::sync::OnceLock<LogFilter> = std::sync::OnceLock::new();

/// JSON lines on Lambda (CloudWatch Logs Insights reads them field by field), with metric records turned on;
/// compact text locally.
/// `RUST_LOG` filters by target and level (`warn,bridge=info`; span and field directives are not read); the
/// default keeps the bridge at `info` and its dependencies at `warn`. Whatever it says, the [`caps`] hold, on
/// Lambda and locally alike (a local run holds the same secrets).
pub fn init(json: bool) {
    use tracing_subscriber::util::SubscriberInitExt;
    let rust_log = std::env::var("RUST_LOG").ok();
    if json {
        crate::metrics::enable();
    }
    let (dispatch, filter) = subscriber(json, rust_log.as_deref(), std::io::stdout);
    // A second init (tests, or a host that set one up) keeps the first subscriber, and its filter.
    if dispatch.try_init().is_ok() {
        let _ = INSTALLED.set(filter);
        warn_if_unreadable(rust_log.as_deref());
    }
}

/// Replaces the filter of the subscriber [`init`] installed with the one `rust_log` describes (the default
/// when it is absent or unreadable), for a function whose log filter setting changed while it runs. The
/// [`caps`] hold whatever it says. Without [`init`] (tests), nothing changes.
pub fn apply_filter(rust_log: Option<&str>) {
    if let Some(filter) = INSTALLED.get() {
        filter.apply(rust_log);
        warn_if_unreadable(rust_log);
    }
}

/// A filter that does not parse falls back to the default; the line says so rather than leaving someone
/// wondering why their `trace` shows nothing.
fn warn_if_unreadable(rust_log: Option<&str>) {
    if let Some(value) = rust_log.filter(|value| !value.trim().is_empty())
        && value.parse::<tracing_subscriber::filter::Targets>().is_err()
    {
        tracing::warn!(rust_log = value, "the log filter is not understood; the default applies");
    }
}

/// The filter `RUST_LOG` asks for, or the default when it is unset or unreadable. A target filter rather than
/// `EnvFilter`: the latter's span and field directives bring a regex engine into every function binary that no
/// deployment uses (docs/benchmarks.md).
fn log_filter(rust_log: Option<&str>) -> tracing_subscriber::filter::Targets {
    const DEFAULT: &str = "warn,bridge=info,alma_relais_bridge=info,alma_sim=info";
    rust_log
        .filter(|value| !value.trim().is_empty())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| DEFAULT.parse().expect("the default filter is well formed"))
}

/// The functions' subscriber over a buffer the test reads back.
#[cfg(test)]
pub(crate) mod capture {
    use super::{LogFilter, subscriber};

    /// What the subscriber wrote.
    #[derive(Clone, Default)]
    pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// The subscriber a function installs (JSON lines when `json`), filtered by `rust_log`, into a buffer.
    pub(crate) fn capturing(json: bool, rust_log: &str) -> (tracing::Dispatch, LogFilter, Captured) {
        let captured = Captured::default();
        let writer = captured.clone();
        let (dispatch, filter) = subscriber(json, Some(rust_log), move || writer.clone());
        (dispatch, filter, captured)
    }
}

#[cfg(test)]
mod tests {
    use super::capture::capturing;
    use super::*;

    #[test]
    fn rust_log_sets_levels_per_target_and_a_bad_value_keeps_the_default() {
        use tracing::Level;
        let filter = log_filter(Some("warn,bridge=debug"));
        assert!(filter.would_enable("bridge::flows", &Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::INFO));
        for default in [log_filter(None), log_filter(Some("bridge=[nonsense")), log_filter(Some(" "))] {
            assert!(default.would_enable("bridge", &Level::INFO), "{default:?}");
            assert!(!default.would_enable("bridge", &Level::DEBUG), "{default:?}");
            assert!(!default.would_enable("hyper", &Level::INFO), "{default:?}");
        }
    }

    #[test]
    fn pseudonyms_are_stable_per_key_and_hide_the_identifier() {
        let key = Secret::new("a-key-of-enough-length");
        let p = pseudonym(&key, "21234000123456");
        assert_eq!(p, pseudonym(&key, " 21234000123456 "));
        assert_ne!(p, pseudonym(&Secret::new("another-key-entirely"), "21234000123456"));
        assert_eq!(p.len(), 16);
        assert!(!p.contains("1234000"));
    }

    #[test]
    fn the_lambda_runtime_logs_at_warn_at_most_even_when_rust_log_says_trace() {
        let (dispatch, _, captured) = capturing(true, "trace");
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::trace!(target: "lambda_runtime", "raw event /ncip/the-shared-secret");
            tracing::debug!(target: "lambda_runtime::layers::trace", "raw event Authorization: Bearer x");
            tracing::trace!(target: "lambda_http", "request body with a PIN");
            tracing::warn!(target: "lambda_runtime", "runtime warning kept");
            tracing::debug!(target: "lambda_runtime_ext", "another crate entirely");
            tracing::trace!(target: "bridge", "the bridge's own trace kept");
        });
        let text = captured.text();
        assert!(!text.contains("raw event") && !text.contains("PIN"), "{text}");
        assert!(text.contains("runtime warning kept") && text.contains("the bridge's own trace kept"), "{text}");
        assert!(text.contains("another crate entirely"), "{text}");
    }

    #[test]
    fn dependencies_never_log_at_trace_on_lambda_or_locally_while_the_bridges_crates_may() {
        for json in [true, false] {
            let (dispatch, _, captured) = capturing(json, "trace");
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::trace!(target: "aws_smithy_runtime::client::orchestrator", "response body SecureString");
                tracing::trace!(target: "reqwest::connect", "read: the wire bytes");
                tracing::trace!(target: "hyper_util", "h1 body");
                tracing::trace!(target: "bridge_storage", "a crate that only starts with the bridge's name");
                tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "sdk debug kept");
                tracing::trace!(target: "bridge_store::dynamo", "store trace kept");
                tracing::trace!(target: "ncip_codec", "codec trace kept");
                tracing::trace!(target: "openurl::identity", "openurl trace kept");
            });
            let text = captured.text();
            for hidden in ["SecureString", "wire bytes", "h1 body", "only starts with"] {
                assert!(!text.contains(hidden), "json={json}: {text}");
            }
            for kept in ["sdk debug kept", "store trace kept", "codec trace kept", "openurl trace kept"] {
                assert!(text.contains(kept), "json={json}: {kept}: {text}");
            }
        }
    }

    #[test]
    fn a_reloaded_filter_changes_what_is_emitted_and_keeps_the_caps() {
        let (dispatch, filter, captured) = capturing(true, "warn");
        // One callsite each, logged before and after each reload: a callsite's interest is cached, so this is
        // what shows that a reload reaches sites that were already filtered out.
        let log_all = |round: &str| {
            tracing::info!(target: "bridge::flows", round, "bridge info");
            tracing::debug!(target: "bridge::flows", round, "bridge debug");
            tracing::trace!(target: "aws_smithy_runtime", round, "sdk trace");
            tracing::info!(target: "lambda_runtime", round, "runtime info");
        };
        let lines = |round: &str| -> Vec<String> {
            let round = format!("\"round\":\"{round}\"");
            captured.text().lines().filter(|line| line.contains(&round)).map(str::to_owned).collect()
        };
        tracing::dispatcher::with_default(&dispatch, || {
            log_all("warn");
            filter.apply(Some("warn,bridge=debug"));
            log_all("debug");
            filter.apply(Some("trace"));
            log_all("trace");
            filter.apply(Some("bridge=[unreadable"));
            log_all("default");
        });
        let says = |round: &str, what: &str| lines(round).iter().any(|line| line.contains(what));
        assert!(lines("warn").is_empty(), "{:?}", lines("warn"));
        assert!(says("debug", "bridge info") && says("debug", "bridge debug"), "{:?}", lines("debug"));
        assert!(!says("debug", "sdk trace"), "{:?}", lines("debug"));
        assert_eq!(lines("trace").len(), 2, "the caps still hold: {:?}", lines("trace"));
        assert!(says("default", "bridge info") && !says("default", "bridge debug"), "{:?}", lines("default"));
        assert_eq!(lines("default").len(), 1, "{:?}", lines("default"));
    }
}
