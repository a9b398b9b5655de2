//! Logging set-up and the pseudonyms that stand in for patron identifiers in logs.
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

fn runtime_quiet_enough(metadata: &tracing::Metadata<'_>) -> bool {
    let target = metadata.target();
    let runtime = RUNTIME_TARGETS
        .iter()
        .any(|t| target.strip_prefix(t).is_some_and(|rest| rest.is_empty() || rest.starts_with("::")));
    !runtime || *metadata.level() <= tracing::Level::WARN
}

/// The filter that holds the Lambda runtime's own targets at WARN, applied beside `RUST_LOG`'s.
pub fn runtime_quiet() -> tracing_subscriber::filter::FilterFn<fn(&tracing::Metadata<'_>) -> bool> {
    tracing_subscriber::filter::filter_fn(runtime_quiet_enough as fn(&tracing::Metadata<'_>) -> bool)
}

/// JSON lines on Lambda (CloudWatch Logs Insights reads them field by field), with metric records turned on;
/// compact text locally.
/// `RUST_LOG` filters by target and level (`warn,bridge=info`; span and field directives are not read); the
/// default keeps the bridge at `info` and its dependencies at `warn`, and the Lambda runtime's targets never
/// log below WARN ([`runtime_quiet`]).
pub fn init(json: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    if json {
        crate::metrics::enable();
    }
    let registry = tracing_subscriber::registry().with(filter).with(runtime_quiet());
    let layer = tracing_subscriber::fmt::layer().with_target(false);
    let result = if json {
        registry.with(layer.json().flatten_event(true).with_current_span(true).without_time()).try_init()
    } else {
        registry.with(layer.compact()).try_init()
    };
    // A second init (tests, or a host that set one up) keeps the first subscriber.
    drop(result);
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

#[cfg(test)]
mod tests {
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

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_lambda_runtime_logs_at_warn_at_most_even_when_rust_log_says_trace() {
        use tracing_subscriber::layer::SubscriberExt;
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry()
            .with(log_filter(Some("trace")))
            .with(runtime_quiet())
            .with(tracing_subscriber::fmt::layer().with_writer(move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime", "raw event /ncip/the-shared-secret");
            tracing::debug!(target: "lambda_runtime::layers::trace", "raw event Authorization: Bearer x");
            tracing::trace!(target: "lambda_http", "request body with a PIN");
            tracing::warn!(target: "lambda_runtime", "runtime warning kept");
            tracing::trace!(target: "lambda_runtime_ext", "another crate entirely");
            tracing::trace!(target: "bridge", "the bridge's own trace kept");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("raw event") && !text.contains("PIN"), "{text}");
        assert!(text.contains("runtime warning kept") && text.contains("the bridge's own trace kept"), "{text}");
        assert!(text.contains("another crate entirely"), "{text}");
    }
}
