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

/// What is logged without `RUST_LOG`: the bridge at `info`, its dependencies at `warn`.
const DEFAULT_FILTER: &str = "warn,bridge=info,alma_relais_bridge=info,alma_sim=info";

/// The Lambda runtime crates log each raw event at DEBUG/TRACE: the `/ncip/<secret>` path, the authorization
/// header, PINs in LookupUser bodies. They are held at WARN whatever `RUST_LOG` says.
const RAW_EVENT_TARGETS: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// The log filter for `spec` (`RUST_LOG`), or the default, with the raw-event targets pinned to WARN.
pub fn filter(spec: Option<&str>) -> tracing_subscriber::EnvFilter {
    let mut filter = spec
        .and_then(|spec| tracing_subscriber::EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(DEFAULT_FILTER));
    for target in RAW_EVENT_TARGETS {
        filter = filter.add_directive(format!("{target}=warn").parse().expect("a valid directive"));
    }
    filter
}

/// JSON lines on Lambda (CloudWatch Logs Insights reads them field by field), with metric records turned on;
/// compact text locally.
pub fn init(json: bool) {
    let spec = std::env::var("RUST_LOG").ok();
    let builder = tracing_subscriber::fmt().with_env_filter(filter(spec.as_deref())).with_target(false);
    if json {
        crate::metrics::enable();
    }
    let result = if json {
        builder.json().flatten_event(true).with_current_span(true).without_time().try_init()
    } else {
        builder.compact().try_init()
    };
    // A second init (tests, or a host that set one up) keeps the first subscriber.
    drop(result);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What a subscriber with `filter(spec)` writes for a TRACE event from `lambda_runtime` and from the bridge.
    fn written(spec: &str) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter(Some(spec)))
            .with_writer(move || SinkWriter(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime", "raw event /ncip/the-secret");
            tracing::trace!(target: "bridge::flows", "bridge detail");
        });
        String::from_utf8(buffer.lock().unwrap().clone()).unwrap()
    }

    struct SinkWriter(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for SinkWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_runtime_never_logs_raw_events_whatever_the_filter_says() {
        for spec in ["trace", "lambda_runtime=trace,bridge=trace", "warn,lambda_runtime=debug,bridge=trace"] {
            let out = written(spec);
            assert!(!out.contains("the-secret"), "{spec}: {out}");
            assert!(out.contains("bridge detail"), "{spec}: the filter still applies to the bridge: {out}");
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
}
