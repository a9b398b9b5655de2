//! The pure parts of an OpenID Connect sign-in (authorization code flow with PKCE, OIDC Core 1.0 §3.1):
//! the random values a round trip carries, the PKCE challenge (RFC 7636 §4.2, `S256`), the checks on the ID
//! token the provider returns (§3.1.3.7: signature, issuer, audience, expiry, and the nonce this sign-in
//! sent), and the claim that names the patron. The caller fetches the provider's keys and passes the time.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Map, Value};

use super::{JwtVerifier, TokenError};

/// A fresh random value for `state`, `nonce` or the PKCE verifier: 32 bytes, base64url without padding (43
/// characters, inside RFC 7636's 43–128 for the verifier).
pub fn random_value() -> String {
    let mut bytes = [0u8; 32];
    // ring's system generator fails only where the platform has no randomness at all, where no sign-in can
    // be made safely: a panic is the honest answer there.
    SystemRandom::new().fill(&mut bytes).expect("the system random generator");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `code_challenge` for `verifier` under the `S256` method: base64url(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

/// The claims of an ID token that passed every check.
#[derive(Debug)]
pub struct IdTokenClaims(Map<String, Value>);

impl IdTokenClaims {
    /// The text of `claim` (a string, or a number as its digits); `None` when absent or of another type.
    pub fn text(&self, claim: &str) -> Option<String> {
        match self.0.get(claim) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Whether the token names `claim` itself.
    pub fn has(&self, claim: &str) -> bool {
        self.0.contains_key(claim)
    }

    /// The claims completed from the provider's UserInfo answer (OIDC Core §5.3): a provider that issues an
    /// access token may release the scope's claims (`email`) there rather than in the ID token (§5.4). The
    /// answer must be about the token's subject (§5.3.2); claims the ID token already has are kept.
    pub fn completed_by(mut self, userinfo: Map<String, Value>) -> Result<Self, TokenError> {
        let subject = |claims: &Map<String, Value>| claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        if subject(&self.0).is_none() || subject(&self.0) != subject(&userinfo) {
            return Err(TokenError::MissingPatronId);
        }
        for (claim, value) in userinfo {
            self.0.entry(claim).or_insert(value);
        }
        Ok(self)
    }

    /// The patron's `email`, refused when the provider says it is not verified (`email_verified: false`): an
    /// address anyone could have typed into their own account must not borrow as its Alma owner.
    pub fn verified_email(&self) -> Result<String, TokenError> {
        if self.0.get("email_verified").is_some_and(|v| v == &Value::Bool(false) || v == "false") {
            return Err(TokenError::UnverifiedEmail);
        }
        self.text("email").ok_or(TokenError::MissingPatronId)
    }
}

impl JwtVerifier {
    /// Checks an ID token from the token endpoint: the signature under the provider's keys (a `kid` the set
    /// does not hold is [`TokenError::UnknownKey`], so the caller may read the provider's keys once more),
    /// `iss`, `aud`, `exp` and `nbf` against `now`, and that `nonce` is the one this sign-in sent.
    pub fn verify_id_token(&self, token: &str, nonce: &str, now: SystemTime) -> Result<IdTokenClaims, TokenError> {
        let token = self.checked_size(token)?;
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.kid.as_ref().is_some_and(|kid| !self.knows_kid(kid)) {
            return Err(TokenError::UnknownKey);
        }
        let claims = self.verified_claims(token)?;
        self.check_claims(&claims, now)?;
        // OIDC Core §3.1.3.7 item 11: the nonce must be the one sent in the authentication request.
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) || nonce.is_empty() {
            return Err(TokenError::WrongNonce);
        }
        Ok(IdTokenClaims(claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_example() {
        // RFC 7636 Appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_values_are_long_enough_and_differ() {
        let (a, b) = (random_value(), random_value());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
