//! Checking the signed token (JWT, RFC 7519) that the institution's identity provider issues after
//! sign-in: signature (RS256 or ES256 only, RFC 7518 §3), issuer, audience, and the validity window
//! with a small leeway for clock skew. The clock is passed in, so the check is pure and testable.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};

use super::{IdentityConfigError, TokenError, VerifiedPatron, ring_provider};

/// Tokens longer than this are refused before any parsing; IdP tokens are a few KiB at most.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Default allowance for clock skew between the IdP and the bridge.
const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// Verifies IdP tokens against configured keys and returns the patron id they carry.
pub struct JwtVerifier {
    issuer: String,
    audience: String,
    keys: Vec<VerifyingKey>,
    leeway: Duration,
    patron_claim: String,
}

struct VerifyingKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("keys", &self.keys.iter().map(|k| (&k.kid, k.algorithm)).collect::<Vec<_>>())
            .field("leeway", &self.leeway)
            .field("patron_claim", &self.patron_claim)
            .finish()
    }
}

impl JwtVerifier {
    /// Keys from a JWKS document (RFC 7517 §5), as an IdP publishes at its `jwks_uri`. RSA keys of 2048 to
    /// 8192 bits and P-256 EC keys meant for signatures are used; others (encryption keys, HMAC, weak RSA
    /// keys) are skipped.
    pub fn from_jwks(issuer: &str, audience: &str, jwks_json: &str) -> Result<Self, IdentityConfigError> {
        let set: JwkSet = serde_json::from_str(jwks_json).map_err(|e| IdentityConfigError::BadJwks(e.to_string()))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
                continue;
            }
            let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
                (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
                (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                    if ec.curve == EllipticCurve::P256 =>
                {
                    Algorithm::ES256
                }
                _ => continue,
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| IdentityConfigError::BadJwks(e.to_string()))?;
            // A key ring cannot use (an RSA key under 2048 bits, a compressed point) is skipped like the
            // encryption keys: an IdP's set may carry old keys beside the current one.
            if ring_provider::unusable(algorithm, &key).is_some() {
                continue;
            }
            keys.push(VerifyingKey { kid: jwk.common.key_id.clone(), algorithm, key });
        }
        Self::with_keys(issuer, audience, keys)
    }

    /// One PEM public key: RSA (`PUBLIC KEY` or `RSA PUBLIC KEY`) for RS256, or P-256 EC for ES256.
    pub fn from_pem(issuer: &str, audience: &str, pem: &str) -> Result<Self, IdentityConfigError> {
        let bytes = pem.as_bytes();
        let (algorithm, key) = match DecodingKey::from_rsa_pem(bytes) {
            Ok(key) => (Algorithm::RS256, key),
            Err(_) => match DecodingKey::from_ec_pem(bytes) {
                Ok(key) => (Algorithm::ES256, key),
                Err(e) => return Err(IdentityConfigError::BadPem(e.to_string())),
            },
        };
        if let Some(problem) = ring_provider::unusable(algorithm, &key) {
            return Err(IdentityConfigError::BadPem(problem));
        }
        Self::with_keys(issuer, audience, vec![VerifyingKey { kid: None, algorithm, key }])
    }

    fn with_keys(issuer: &str, audience: &str, keys: Vec<VerifyingKey>) -> Result<Self, IdentityConfigError> {
        ring_provider::install();
        if issuer.trim().is_empty() || audience.trim().is_empty() {
            return Err(IdentityConfigError::MissingIssuerOrAudience);
        }
        if keys.is_empty() {
            return Err(IdentityConfigError::NoUsableKey);
        }
        Ok(Self {
            issuer: issuer.trim().to_owned(),
            audience: audience.trim().to_owned(),
            keys,
            leeway: DEFAULT_LEEWAY,
            patron_claim: "sub".to_owned(),
        })
    }

    /// The claim that holds the patron id (default `sub`); e.g. an Alma primary id released by the IdP
    /// as `employeeNumber`.
    pub fn with_patron_claim(mut self, claim: &str) -> Self {
        self.patron_claim = claim.to_owned();
        self
    }

    /// Allowance for clock skew on `exp` and `nbf` (default 60 seconds).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Checks `token` at time `now` and returns the patron id it names.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<VerifiedPatron, TokenError> {
        let token = self.checked_size(token)?;
        let claims = self.verified_claims(token)?;
        self.check_claims(&claims, now)?;
        let id = match claims.get(&self.patron_claim) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(TokenError::MissingPatronId),
        };
        VerifiedPatron::new(&id)
    }

    /// `token` trimmed, refused when empty or over the size bound before anything parses it.
    pub(super) fn checked_size<'t>(&self, token: &'t str) -> Result<&'t str, TokenError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        Ok(token)
    }

    /// Whether the key set holds a key named `kid`.
    pub(super) fn knows_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The claims, once the signature is known to be good. Claim checks are done by
    /// [`Self::check_claims`] against the caller's clock, so the library's own are switched off.
    pub(super) fn verified_claims(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        let same_alg = self.keys.iter().filter(|k| k.algorithm == header.alg);
        let candidates: Vec<&VerifyingKey> = match &header.kid {
            Some(kid) if self.keys.iter().any(|k| k.kid.as_ref() == Some(kid)) => {
                same_alg.filter(|k| k.kid.as_ref() == Some(kid)).collect()
            }
            _ => same_alg.collect(),
        };
        if candidates.is_empty() {
            return Err(TokenError::UnknownKey);
        }
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        for candidate in candidates {
            match decode::<Map<String, Value>>(token, &candidate.key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_)
                    ) => {}
                Err(_) => return Err(TokenError::Malformed),
            }
        }
        Err(TokenError::BadSignature)
    }

    pub(super) fn check_claims(&self, claims: &Map<String, Value>, now: SystemTime) -> Result<(), TokenError> {
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(TokenError::WrongIssuer);
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(aud)) => *aud == self.audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(self.audience.as_str())),
            _ => false,
        };
        if !audience_ok {
            return Err(TokenError::WrongAudience);
        }
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let leeway = self.leeway.as_secs();
        // `exp` is required: a token without an end date would be a permanent patron credential.
        let exp = claims.get("exp").and_then(Value::as_u64).ok_or(TokenError::Expired)?;
        if now > exp.saturating_add(leeway) {
            return Err(TokenError::Expired);
        }
        if let Some(nbf) = claims.get("nbf") {
            let nbf = nbf.as_u64().ok_or(TokenError::Malformed)?;
            if now.saturating_add(leeway) < nbf {
                return Err(TokenError::NotYetValid);
            }
        }
        Ok(())
    }
}
