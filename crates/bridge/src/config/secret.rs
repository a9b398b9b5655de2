//! A secret value that cannot leak through `Debug`/`Display` and is compared in constant time.

use subtle::ConstantTimeEq;

/// A shared secret, token or API key (the NCIP shared secret, the status token, Alma's API key ...); an empty
/// one stands for "not given to this function" and matches nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value read from the environment or SSM.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// A random URL-safe token (256 bits), for local runs without a configured secret.
    pub fn random() -> Self {
        use base64::Engine as _;
        let bytes: [u8; 32] = rand::random();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The value, for the one place that must send it (an HTTP header to Alma) or print it (local start-up).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison: how long it takes says nothing about how much of the guess was right.
    /// Length differences are still observable, which reveals nothing useful for random tokens.
    pub fn matches(&self, candidate: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes())) && !self.0.is_empty()
    }

    /// A short name for the value that does not reveal it: `sha256:` and the first 8 hex digits of its SHA-256.
    /// The outbox's history records it for each staff action, so that it says which token acted (the new or
    /// the previous one during a rotation) without anyone who reads the history learning a token. Staff
    /// compute the same from their own token: `printf %s "$TOKEN" | sha256sum | cut -c1-8`.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(self.0.as_bytes());
        let hex: String = digest.iter().take(4).map(|byte| format!("{byte:02x}")).collect();
        format!("sha256:{hex}")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn matches_only_the_exact_value_and_never_an_empty_secret() {
        let secret = Secret::new("abc123");
        assert!(secret.matches("abc123"));
        assert!(!secret.matches("abc124"));
        assert!(!secret.matches("abc12"));
        assert!(!Secret::new("").matches(""));
    }

    #[test]
    fn a_fingerprint_names_the_value_without_revealing_it() {
        let token = Secret::new("staff-token-0123456789");
        let fingerprint = token.fingerprint();
        // `printf %s staff-token-0123456789 | sha256sum | cut -c1-8`
        assert_eq!(fingerprint, "sha256:db3b10af");
        assert!(!fingerprint.contains(token.expose()));
        assert_ne!(Secret::new("staff-token-0123456780").fingerprint(), fingerprint);
    }

    #[test]
    fn random_tokens_differ_and_are_url_safe() {
        let a = Secret::random();
        let b = Secret::random();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(a.expose().len(), 43);
    }
}
