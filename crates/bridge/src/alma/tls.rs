//! The process' one HTTPS client: Alma's REST API and NCIP responder, and on Lambda the AWS SDK's clients
//! too (`crate::lambda::aws`), share it, its connection pool and its trust roots.
//!
//! TLS runs on ring's primitives, installed as the process' provider unless the host installed one first:
//! aws-lc-rs (reqwest's own default) carries every algorithm it knows into each binary, making every Lambda
//! function larger (docs/benchmarks.md). Alma and the AWS endpoints offer what ring implements (TLS 1.2 and
//! 1.3 with ECDHE over X25519 or P-256, AES-GCM or ChaCha20-Poly1305, RSA and ECDSA certificates); the
//! post-quantum key exchange aws-lc-rs would add first is not offered.
//!
//! The trust roots are Mozilla's, compiled in as ready trust anchors (`webpki-roots`), unless `SSL_CERT_FILE` or
//! `SSL_CERT_DIR` names the system's: reading and parsing a PEM bundle was most of a Lambda function's start-up
//! (docs/benchmarks.md). A site whose traffic passes a TLS-inspecting proxy sets `SSL_CERT_FILE` to a bundle holding
//! the proxy's CA.

use std::sync::Arc;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The variables that ask for the system's roots instead of the compiled-in ones.
const SYSTEM_ROOTS_VARIABLES: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

/// The process' HTTPS client; build one per process and share it.
pub fn https_client() -> reqwest::Client {
    // `Err` means a provider is already installed (a second client in the process, or the host's own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = reqwest::Client::builder()
        // Alma's item lookup answers with a redirect that must be paced and checked like any call; no AWS
        // service the bridge calls redirects.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("alma-relais-bridge/", env!("CARGO_PKG_VERSION")));
    let system_roots = SYSTEM_ROOTS_VARIABLES.iter().any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    let builder = if system_roots { builder } else { builder.tls_backend_preconfigured(compiled_in_roots()) };
    builder.build().expect("the TLS backend is compiled in")
}

/// A TLS configuration that trusts Mozilla's roots, on the process' provider (ring unless the host chose).
fn compiled_in_roots() -> rustls::ClientConfig {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_configuration_trusts_mozillas_roots_over_tls_1_2_and_1_3() {
        let config = compiled_in_roots();
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100, "Mozilla's list, not a stub");
        assert!(config.crypto_provider().cipher_suites.iter().any(|s| s.version() == &rustls::version::TLS13));
        assert!(config.crypto_provider().cipher_suites.iter().any(|s| s.version() == &rustls::version::TLS12));
        assert!(config.enable_sni, "the server name is sent");
    }
}
