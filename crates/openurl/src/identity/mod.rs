//! Who the patron is, as pure building blocks: checking a signed token from the institution's identity
//! provider ([`JwtVerifier`]) and encrypting the patron id the way Relais expects
//! ([`RelaisPiEncryptor`]). Neither does I/O; the caller fetches keys and passes the current time.
//!
//! A plain `PI` in a link is trusted by Relais as it stands (DESIGN §5), so the patron id only ever
//! comes from here, never from the incoming OpenURL.

mod jwt;
mod oidc;
mod pem;
mod relais_pi;
mod ring_provider;
mod sealed;

use thiserror::Error;

use crate::relais::PatronTag;

pub use jwt::JwtVerifier;
pub use oidc::{IdTokenClaims, pkce_challenge, random_value};
pub use relais_pi::{RelaisPiEncryptor, relais_timestamp};
pub use sealed::{CookieKeys, CookiePurpose, MAX_SEALED_LEN};

/// The longest patron id accepted, in bytes. Alma user ids and barcodes are far shorter; the bound
/// keeps the encrypted form inside one RSA-2048 block (245 bytes with PKCS#1 v1.5 padding).
pub const MAX_PATRON_ID_BYTES: usize = 128;

/// A patron id established by the bridge's own authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPatron(String);

impl VerifiedPatron {
    /// Accepts 1 to [`MAX_PATRON_ID_BYTES`] bytes without control characters or `|` (Relais splits the
    /// decrypted text on the first `|`, so an id containing one would be cut short).
    pub fn new(id: &str) -> Result<Self, TokenError> {
        let id = id.trim();
        let ok = !id.is_empty() && id.len() <= MAX_PATRON_ID_BYTES && !id.chars().any(|c| c.is_control() || c == '|');
        if ok { Ok(Self(id.to_owned())) } else { Err(TokenError::BadPatronId) }
    }

    /// The id as Relais receives it, in clear or before encryption.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id sent in clear as `PI`.
    pub fn plain_tag(&self) -> PatronTag {
        PatronTag::Plain(self.0.clone())
    }
}

/// Why a sign-in token is not accepted. Each maps to the 401 page ([`crate::unauthorized_page`]); the
/// messages never echo the token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    /// No token came with the request: the patron has not signed in.
    #[error("the sign-in token is missing")]
    Missing,
    /// Not a JWT, over the size bound, or with claims of the wrong type.
    #[error("the sign-in token is not a well-formed JSON Web Token")]
    Malformed,
    /// Signed other than RS256 or ES256: `none` and HMAC tokens must never pass.
    #[error("the sign-in token is signed with an algorithm this service does not accept")]
    UnsupportedAlgorithm,
    /// No configured key of the token's algorithm (and `kid`, when it names one of ours).
    #[error("the sign-in token was signed with a key this service does not know")]
    UnknownKey,
    /// No candidate key verifies the signature: forged or altered.
    #[error("the sign-in token's signature is not valid")]
    BadSignature,
    /// Past its `exp`, beyond the leeway, or without an `exp` (it would never expire).
    #[error("the sign-in token has expired")]
    Expired,
    /// Before its `nbf`, beyond the leeway.
    #[error("the sign-in token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured identity provider.
    #[error("the sign-in token was issued by an unexpected identity provider")]
    WrongIssuer,
    /// `aud` does not name the bridge: a token meant for another service is not reused here.
    #[error("the sign-in token was issued for a different service")]
    WrongAudience,
    /// The configured patron claim is absent, or neither a string nor a number.
    #[error("the sign-in token does not name the patron")]
    MissingPatronId,
    /// The ID token's `nonce` is not the one this sign-in sent: a token minted for another sign-in.
    #[error("the sign-in answer belongs to another sign-in")]
    WrongNonce,
    /// The identity provider says the patron's e-mail address is not verified.
    #[error("the e-mail address of the sign-in is not verified")]
    UnverifiedEmail,
    /// The patron id fails [`VerifiedPatron::new`]: empty, too long, or holding a control character or `|`.
    #[error("the patron id in the sign-in token cannot be used")]
    BadPatronId,
}

impl TokenError {
    /// The HTTP status the handler answers with.
    pub fn http_status(&self) -> u16 {
        401
    }
}

/// A key or setting for patron identity that cannot be used. Raised once, when configuration is read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentityConfigError {
    /// Without both, any token from any IdP for any service would be accepted.
    #[error("the token issuer and audience must both be set")]
    MissingIssuerOrAudience,
    /// The IdP's key set is not a readable JWKS document (the parser's reason).
    #[error("the JWKS document cannot be read: {0}")]
    BadJwks(String),
    /// Every key was skipped (encryption-only, HMAC, weak RSA), so no token could ever verify.
    #[error("the key set holds no RS256 or ES256 signing key")]
    NoUsableKey,
    /// A configured PEM key is not a public key of a supported kind (the reason).
    #[error("the PEM key cannot be read: {0}")]
    BadPem(String),
    /// The Relais key is under the 2048 bits Relais issues: a wrong or outdated key.
    #[error("the Relais public key is shorter than the 2048 bits Relais uses")]
    KeyTooSmall,
}

/// Why a patron id could not be encrypted for Relais.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncryptError {
    /// The id and timestamp do not fit in one RSA block of the configured key.
    #[error("the patron id is too long to encrypt with the configured Relais key")]
    TooLong,
    /// The RSA library refused (e.g. no randomness for the padding).
    #[error("RSA encryption failed")]
    Crypto,
}
