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

/// JSON lines on Lambda (CloudWatch Logs Insights reads them field by field), with metric records turned on;
/// compact text locally.
/// `RUST_LOG` filters as usual; the default keeps the bridge at `info` and its dependencies at `warn`.
pub fn init(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,bridge=info,alma_relais_bridge=info,alma_sim=info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
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
