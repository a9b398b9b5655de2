//! The institution's OpenID Connect provider, over HTTPS: its metadata (OpenID Connect Discovery 1.0), its
//! signing keys (the JWKS at `jwks_uri`) and its token endpoint. The only code that talks to the provider.
//!
//! Metadata and keys are kept for [`CACHE_TTL`]. A token naming a key id the kept set lacks (the provider
//! rotated its keys) has the keys read again, but at most once per [`KEY_REREAD_INTERVAL`]: a stream of
//! forged tokens with made-up key ids must not turn the bridge into a fetch amplifier against the provider.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use jiff::Timestamp;
use openurl::identity::{IdTokenClaims, JwtVerifier, TokenError};
use serde::Deserialize;

use crate::config::Secret;

/// How long the provider's metadata and keys are used before they are read again.
pub const CACHE_TTL: Duration = Duration::from_secs(3600);

/// The least time between two reads of the keys prompted by an unknown key id.
pub const KEY_REREAD_INTERVAL: Duration = Duration::from_secs(60);

/// The most one call to the provider may take: the hand-off's function ends at 8 s.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);

/// The largest answer read from the provider (metadata, keys, tokens are a few KiB).
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Why the provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// No answer: the provider is down or unreachable.
    #[error("the identity provider could not be reached ({0})")]
    Unreachable(String),
    /// An answer the bridge cannot use (not JSON, missing fields, another issuer's metadata).
    #[error("the identity provider's answer cannot be used ({0})")]
    Unusable(String),
    /// The token endpoint refused the code (OAuth error code, e.g. `invalid_grant` for a code used twice).
    #[error("the identity provider refused the sign-in ({0})")]
    Refused(String),
    /// The ID token failed its checks.
    #[error("{0}")]
    Token(TokenError),
}

/// The provider's endpoints, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// Must equal the configured issuer exactly (Discovery §4.3).
    pub issuer: String,
    /// Where the patron's browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where the bridge exchanges the code for tokens.
    pub token_endpoint: String,
    /// The provider's signing keys.
    pub jwks_uri: String,
    /// Where the patron's claims may be read with the access token, when the ID token lacks them.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

/// What the token endpoint answers: the ID token, and the access token for the UserInfo endpoint.
#[derive(Debug, Deserialize)]
pub struct Tokens {
    /// The ID token (checked by [`Provider::verify_id_token`]).
    pub id_token: String,
    /// The access token, used only to read the claims the ID token lacks.
    #[serde(default)]
    pub access_token: Option<String>,
}

#[derive(Default)]
struct Cache {
    metadata: Option<(Arc<Metadata>, Timestamp)>,
    keys: Option<(Arc<JwtVerifier>, Timestamp)>,
}

/// One provider, as the bridge's client registration sees it.
pub struct Provider {
    http: reqwest::Client,
    issuer: String,
    client_id: String,
    client_secret: Option<Secret>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("issuer", &self.issuer).field("client_id", &self.client_id).finish()
    }
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
}

impl Provider {
    /// The provider at `issuer` (exactly as its tokens name it), for the client `client_id`.
    pub fn new(http: reqwest::Client, issuer: &str, client_id: &str, client_secret: Option<Secret>) -> Self {
        Self {
            http,
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            cache: Mutex::new(Cache::default()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The provider's endpoints, read at most once per [`CACHE_TTL`].
    pub async fn metadata(&self, now: Timestamp) -> Result<Arc<Metadata>, IdpError> {
        if let Some((metadata, read)) = &self.cache().metadata
            && fresh(*read, now, CACHE_TTL)
        {
            return Ok(Arc::clone(metadata));
        }
        // OpenID Connect Discovery §4: the issuer's path, a trailing slash of its own removed, then the
        // well-known suffix; the document's `issuer` must be the configured one exactly (§4.3).
        let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let metadata: Metadata = serde_json::from_slice(&self.get(&url).await?)
            .map_err(|e| IdpError::Unusable(format!("discovery document: {e}")))?;
        if metadata.issuer != self.issuer {
            return Err(IdpError::Unusable("the discovery document names another issuer".into()));
        }
        for endpoint in [&metadata.authorization_endpoint, &metadata.token_endpoint, &metadata.jwks_uri] {
            if !secure(endpoint) {
                return Err(IdpError::Unusable("an endpoint is not https".into()));
            }
        }
        let metadata = Arc::new(metadata);
        self.cache().metadata = Some((Arc::clone(&metadata), now));
        Ok(metadata)
    }

    /// Checks an ID token against the provider's keys; an unknown key id has the keys read again, at most
    /// once a minute.
    pub async fn verify_id_token(&self, token: &str, nonce: &str, now: Timestamp) -> Result<IdTokenClaims, IdpError> {
        let at = SystemTime::from(now);
        let keys = self.keys(now, false).await?;
        match keys.verify_id_token(token, nonce, at) {
            Err(TokenError::UnknownKey) => {
                let reread = self.keys(now, true).await?;
                if Arc::ptr_eq(&reread, &keys) {
                    return Err(IdpError::Token(TokenError::UnknownKey));
                }
                reread.verify_id_token(token, nonce, at).map_err(IdpError::Token)
            }
            other => other.map_err(IdpError::Token),
        }
    }

    /// The keys: the kept ones while fresh; read again when stale, or when `unknown_kid` and the last read is
    /// older than [`KEY_REREAD_INTERVAL`].
    async fn keys(&self, now: Timestamp, unknown_kid: bool) -> Result<Arc<JwtVerifier>, IdpError> {
        if let Some((keys, read)) = &self.cache().keys {
            let wanted = if unknown_kid { KEY_REREAD_INTERVAL } else { CACHE_TTL };
            if fresh(*read, now, wanted) {
                return Ok(Arc::clone(keys));
            }
        }
        let metadata = self.metadata(now).await?;
        let jwks = self.get(&metadata.jwks_uri).await?;
        let jwks = String::from_utf8(jwks).map_err(|_| IdpError::Unusable("the key set is not UTF-8".into()))?;
        let keys = JwtVerifier::from_jwks(&self.issuer, &self.client_id, &jwks)
            .map_err(|e| IdpError::Unusable(e.to_string()))?;
        let keys = Arc::new(keys);
        self.cache().keys = Some((Arc::clone(&keys), now));
        Ok(keys)
    }

    /// Exchanges an authorization code (with its PKCE verifier) for the ID token (OIDC Core §3.1.3.1). The
    /// client authenticates with HTTP Basic when it has a secret (`client_secret_basic`, the default method),
    /// and by its id alone otherwise (a public client).
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
        now: Timestamp,
    ) -> Result<Tokens, IdpError> {
        let metadata = self.metadata(now).await?;
        // The serializer is not `Send`: it is finished before any await.
        let mut body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", verifier)
            .finish();
        let mut request = self
            .http
            .post(&metadata.token_endpoint)
            .timeout(CALL_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.client_secret {
            Some(secret) => {
                // RFC 6749 §2.3.1: both parts are form-encoded before they are joined and base64-encoded.
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", encode(&self.client_id), encode(secret.expose()));
                let basic = base64::engine::general_purpose::STANDARD.encode(pair);
                request = request.header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"));
            }
            None => {
                let id: String = url::form_urlencoded::byte_serialize(self.client_id.as_bytes()).collect();
                body = format!("{body}&client_id={id}");
            }
        }
        let response = request.body(body).send().await.map_err(|e| IdpError::Unreachable(e.to_string()))?;
        let status = response.status();
        let body = read_capped(response).await?;
        if !status.is_success() {
            let error =
                serde_json::from_slice::<OAuthError>(&body).map_or_else(|_| format!("HTTP {status}"), |e| e.error);
            return Err(if status.is_server_error() { IdpError::Unreachable(error) } else { IdpError::Refused(error) });
        }
        serde_json::from_slice(&body).map_err(|e| IdpError::Unusable(format!("token answer (no ID token?): {e}")))
    }

    /// The patron's claims from the UserInfo endpoint (OIDC Core §5.3), read with the access token.
    pub async fn userinfo(
        &self,
        access_token: &str,
        now: Timestamp,
    ) -> Result<serde_json::Map<String, serde_json::Value>, IdpError> {
        let metadata = self.metadata(now).await?;
        let Some(endpoint) = metadata.userinfo_endpoint.as_deref().filter(|e| secure(e)) else {
            return Err(IdpError::Unusable("no https UserInfo endpoint".into()));
        };
        let response = self
            .http
            .get(endpoint)
            .timeout(CALL_TIMEOUT)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::AUTHORIZATION, format!("Bearer {access_token}"))
            .send()
            .await
            .map_err(|e| IdpError::Unreachable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(IdpError::Unreachable(format!("UserInfo HTTP {status}")));
        }
        serde_json::from_slice(&read_capped(response).await?)
            .map_err(|e| IdpError::Unusable(format!("UserInfo answer: {e}")))
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, IdpError> {
        let response = self
            .http
            .get(url)
            .timeout(CALL_TIMEOUT)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| IdpError::Unreachable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(IdpError::Unreachable(format!("HTTP {status}")));
        }
        read_capped(response).await
    }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, IdpError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| IdpError::Unreachable(e.to_string()))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(IdpError::Unusable("the answer is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Whether something read at `read` is still usable at `now` for `ttl` (a clock that went back counts as
/// stale).
fn fresh(read: Timestamp, now: Timestamp, ttl: Duration) -> bool {
    let age = now.duration_since(read);
    !age.is_negative() && age.unsigned_abs() < ttl
}

/// An endpoint the bridge may send the patron or a code to: https, or http on loopback (tests).
fn secure(endpoint: &str) -> bool {
    url::Url::parse(endpoint).is_ok_and(|url| match url.scheme() {
        "https" => true,
        "http" => matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")),
        _ => false,
    })
}
