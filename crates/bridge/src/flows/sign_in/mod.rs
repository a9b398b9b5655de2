//! `PATRON_IDENTITY=oidc`: the bridge signs the patron in at the institution's OpenID Connect provider
//! itself (authorization code flow with PKCE, `state` and `nonce`; OIDC Core 1.0 §3.1, RFC 7636), finds the
//! patron among Alma's users, checks their standing, and sends them to the Relais form under the id
//! LookupUser answers for them (encrypted as `base64PI` when Relais's key is configured).
//!
//! Nothing about the sign-in is stored: the citation, the PKCE verifier and the nonce ride across the round
//! trip in a sealed cookie scoped to the callback, `state` carries only a digest of that cookie, and the
//! session is a sealed cookie too. That a code is used once is the provider's to enforce (it refuses a code
//! it has already exchanged), so the bridge keeps no replay state of its own. Logs carry no claim, address
//! or token: only what happened, and the keyed pseudonym of the Alma user the other flows log.

mod patron;

use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Bridge;
use super::openurl::{Handoff, link_partner};
use super::patron_id;
use crate::alma::{AlmaError, CallContext};
use crate::config::{ConfigError, OidcSettings, PatronClaim};
use crate::idp::{IdpError, Provider};
use crate::logging::pseudonym;
use crate::openurl::identity::{
    CookieKeys, CookiePurpose, MAX_SEALED_LEN, RelaisPiEncryptor, VerifiedPatron, pkce_challenge, random_value,
};
use crate::openurl::{self, PatronRefusal, PatronTag};
use patron::Found;

pub use patron::MAX_SEARCH_CANDIDATES;

/// How long a patron may take at the provider's login page before the callback refuses the round trip.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The sign-in cookie (the round trip's citation, verifier and nonce), scoped to the callback's path.
pub const SIGN_IN_COOKIE: &str = "bridge_sign_in";
/// The session cookie, scoped to the hand-off's paths.
pub const SESSION_COOKIE: &str = "bridge_session";

/// A cookie the answer sets or removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetCookie {
    /// The sealed round trip, until the callback.
    SignIn(String),
    /// The round trip is over.
    ClearSignIn,
    /// The sealed session.
    Session(String),
    /// The session is over (signed out, expired, refused).
    ClearSession,
}

/// The sign-in machinery, built once from the settings.
pub struct SignIn {
    settings: OidcSettings,
    provider: Provider,
    keys: CookieKeys,
    encryptor: Option<RelaisPiEncryptor>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// Where the cookies live and whether they are sent over TLS only.
#[derive(Debug, Clone)]
pub struct CookieScope {
    /// The callback's path: the sign-in cookie goes nowhere else.
    pub callback_path: String,
    /// The hand-off's paths (the link, the callback, the sign-out): the session cookie's scope.
    pub session_path: String,
    /// `Secure` (the callback is https; a loopback test runs over http).
    pub secure: bool,
}

impl SignIn {
    /// The sign-in for `settings`, talking to the provider over `http`; a Relais key that cannot be read stops
    /// start-up with the variable named.
    pub fn new(settings: &OidcSettings, http: reqwest::Client) -> Result<Self, ConfigError> {
        let encryptor = settings
            .relais_public_key
            .as_deref()
            .map(RelaisPiEncryptor::from_pem)
            .transpose()
            .map_err(|e| ConfigError::new("RELAIS_PUBLIC_KEY", e.to_string()))?;
        let keys = CookieKeys::new(
            settings.cookie_secret.expose(),
            settings.cookie_secret_previous.as_ref().map(|s| s.expose()),
        );
        let provider = Provider::new(http, &settings.issuer, &settings.client_id, settings.client_secret.clone());
        Ok(Self { settings: settings.clone(), provider, keys, encryptor })
    }

    /// The cookies' paths, from the registered callback URL.
    pub fn cookie_scope(&self) -> CookieScope {
        let url = url::Url::parse(&self.settings.redirect_url).ok();
        let callback_path = url.as_ref().map_or_else(|| "/openurl/callback".to_owned(), |u| u.path().to_owned());
        let session_path = callback_path.rsplit_once('/').map_or("/", |(parent, _)| parent).to_owned();
        CookieScope {
            session_path: if session_path.is_empty() { "/".to_owned() } else { session_path },
            callback_path,
            secure: url.is_some_and(|u| u.scheme() == "https"),
        }
    }

    /// How long a session lasts at most.
    pub fn session_max(&self) -> Duration {
        self.settings.session_max
    }
}

/// The round trip, as sealed in the sign-in cookie.
#[derive(Serialize, Deserialize)]
struct Trip {
    /// The link's query (or, for a very long link, the cleaned citation's own), re-read at the callback.
    q: String,
    /// The PKCE verifier.
    v: String,
    /// The nonce the ID token must carry.
    n: String,
    /// When the sign-in started (Unix seconds).
    t: i64,
}

/// The signed-in patron, as sealed in the session cookie.
#[derive(Serialize, Deserialize)]
struct Session {
    /// The Alma user's primary id, for the standing's re-check.
    u: String,
    /// The id Relais knows the patron by.
    r: String,
    /// When the patron signed in (Unix seconds): the session ends `SIGN_IN_SESSION_MINUTES` later.
    s: i64,
    /// When Alma last confirmed the patron's standing.
    c: i64,
}

/// A link under `PATRON_IDENTITY=oidc`: straight to Relais within a session, else to the provider.
pub(crate) async fn at_link(
    bridge: &Bridge,
    sign_in: &SignIn,
    raw_query: &str,
    citation: &openurl::Citation,
    session: Option<&str>,
    client: Option<std::net::IpAddr>,
) -> Handoff {
    let now = bridge.clock.now();
    let mut cookies = Vec::new();
    if let Some(value) = session {
        match open_session(sign_in, value, now) {
            Some(session) => return within_session(bridge, sign_in, citation, session, client).await,
            // Expired, altered, or sealed under a secret since deleted: sign in again.
            None => cookies.push(SetCookie::ClearSession),
        }
    }
    start(bridge, sign_in, raw_query, citation, cookies).await
}

fn open_session(sign_in: &SignIn, value: &str, now: Timestamp) -> Option<Session> {
    let plain = sign_in.keys.open(CookiePurpose::Session, value)?;
    let session: Session = serde_json::from_slice(&plain).ok()?;
    let age = now.as_second() - session.s;
    (0..=sign_in.settings.session_max.as_secs() as i64).contains(&age).then_some(session)
}

/// A patron within a session: their standing is read from Alma again when Alma last confirmed it longer than
/// `SIGN_IN_RECHECK_MINUTES` ago (a block or expiry takes effect within minutes, not at the session's end).
async fn within_session(
    bridge: &Bridge,
    sign_in: &SignIn,
    citation: &openurl::Citation,
    mut session: Session,
    client: Option<std::net::IpAddr>,
) -> Handoff {
    let now = bridge.clock.now();
    let mut cookies = Vec::new();
    if now.as_second() - session.c > sign_in.settings.recheck_after.as_secs() as i64 {
        let ctx = CallContext::new(bridge.settings.deadline.min(super::openurl::PATRON_LOOKUP_BUDGET));
        let user = match bridge.rest.user(&session.u, "all_unique", &ctx).await {
            Ok(user) => user,
            Err(err) if err.is_not_found() => {
                return refused(bridge, &session.u, PatronRefusal::NoAccount, vec![SetCookie::ClearSession]);
            }
            Err(err) => return unconfirmed(bridge, &session.u, &err),
        };
        if let Some(reason) = patron::refusal(bridge, &user) {
            return refused(bridge, &session.u, reason, vec![SetCookie::ClearSession]);
        }
        session.c = now.as_second();
        cookies.push(SetCookie::Session(seal_json(sign_in, CookiePurpose::Session, &session)));
    }
    let Ok(patron) = VerifiedPatron::new(&session.r) else { return Handoff::PatronIdFailed };
    match tag(sign_in, &patron) {
        Ok(tag) => super::openurl::redirect(bridge, citation, Some(tag), client, cookies).await,
        Err(failed) => failed,
    }
}

/// The redirect to the provider's authorization endpoint, with the round trip sealed in the sign-in cookie.
async fn start(
    bridge: &Bridge,
    sign_in: &SignIn,
    raw_query: &str,
    citation: &openurl::Citation,
    mut cookies: Vec<SetCookie>,
) -> Handoff {
    let now = bridge.clock.now();
    let metadata = match sign_in.provider.metadata(now).await {
        Ok(metadata) => metadata,
        Err(err) => return provider_down(&err),
    };
    let mut trip = Trip { q: raw_query.to_owned(), v: random_value(), n: random_value(), t: now.as_second() };
    let mut sealed = seal_json(sign_in, CookiePurpose::SignIn, &trip);
    if sealed.len() > MAX_SEALED_LEN {
        // A link too long for a cookie travels as the cleaned citation's own query, which the Relais
        // redirect's budget already holds under 2,000 characters.
        trip.q = bridge.relais_form.as_ref().map(|form| citation_query(form, citation)).unwrap_or_default();
        sealed = seal_json(sign_in, CookiePurpose::SignIn, &trip);
    }
    let state = state_of(&sealed);
    let mut location = url::Url::parse(&metadata.authorization_endpoint).expect("checked when the metadata was read");
    location
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &sign_in.settings.client_id)
        .append_pair("redirect_uri", &sign_in.settings.redirect_url)
        .append_pair("scope", &sign_in.settings.scopes)
        .append_pair("state", &state)
        .append_pair("nonce", &trip.n)
        .append_pair("code_challenge", &pkce_challenge(&trip.v))
        .append_pair("code_challenge_method", "S256");
    cookies.push(SetCookie::SignIn(sealed));
    tracing::info!("patron sent to the identity provider to sign in");
    crate::metrics::sign_in("started");
    Handoff::SignInStarted { location: location.into(), cookies }
}

/// The Relais form's query for `citation` alone, without the form's own address.
fn citation_query(form: &openurl::RelaisForm, citation: &openurl::Citation) -> String {
    let url = form.redirect_url(citation, None);
    url.split_once('?').map_or(String::new(), |(_, query)| query.to_owned())
}

/// `state`: a digest of the sealed round trip, so the callback knows the provider's answer belongs to the
/// cookie this browser holds (RFC 6749 §10.12), in 22 characters whatever the citation's length.
fn state_of(sealed: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(sealed.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn seal_json<T: Serialize>(sign_in: &SignIn, purpose: CookiePurpose, value: &T) -> String {
    sign_in.keys.seal(purpose, &serde_json::to_vec(value).expect("plain fields serialise"))
}

/// `GET /openurl/callback`: the provider's answer. Every check that fails gives the same page and no form.
pub(crate) async fn callback(
    bridge: &Bridge,
    raw_query: &str,
    trip_cookie: Option<&str>,
    client: Option<std::net::IpAddr>,
) -> Handoff {
    let Some(super::openurl::Identity::SignIn(sign_in)) = bridge.identity.as_ref() else {
        return Handoff::NotConfigured;
    };
    let now = bridge.clock.now();
    let failed = |why: &str| {
        tracing::info!(why, "sign-in callback refused");
        crate::metrics::sign_in("refused");
        Handoff::SignInFailed { cookies: vec![SetCookie::ClearSignIn] }
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if param("error").is_some() {
        return failed("the provider answered with an error");
    }
    let (Some(code), Some(state)) = (param("code"), param("state")) else { return failed("no code or state") };
    let Some(sealed) = trip_cookie else { return failed("no sign-in cookie") };
    let Some(plain) = sign_in.keys.open(CookiePurpose::SignIn, sealed) else {
        return failed("sign-in cookie not ours");
    };
    let Ok(trip) = serde_json::from_slice::<Trip>(&plain) else { return failed("sign-in cookie unreadable") };
    let age = now.as_second() - trip.t;
    if !(0..=SIGN_IN_WINDOW.as_secs() as i64).contains(&age) {
        return failed("the sign-in took too long");
    }
    if !constant_time_eq(state.as_bytes(), state_of(sealed).as_bytes()) {
        return failed("state does not match the sign-in cookie");
    }
    let tokens = match sign_in.provider.exchange_code(code, &trip.v, &sign_in.settings.redirect_url, now).await {
        Ok(tokens) => tokens,
        Err(IdpError::Refused(_)) => return failed("the provider refused the code"),
        Err(err) => return provider_down(&err),
    };
    let mut claims = match sign_in.provider.verify_id_token(&tokens.id_token, &trip.n, now).await {
        Ok(claims) => claims,
        Err(IdpError::Token(err)) => {
            tracing::info!(reason = %err, "ID token refused");
            return failed("the ID token failed its checks");
        }
        Err(err) => return provider_down(&err),
    };
    let claim = sign_in.settings.claim;
    // A provider that issues an access token may release the scope's claims at UserInfo only (OIDC Core §5.4).
    if !claims.has(claim.name())
        && let Some(access_token) = &tokens.access_token
    {
        let userinfo = match sign_in.provider.userinfo(access_token, now).await {
            Ok(userinfo) => userinfo,
            Err(err) => return provider_down(&err),
        };
        claims = match claims.completed_by(userinfo) {
            Ok(claims) => claims,
            Err(_) => return failed("the UserInfo answer is about another subject"),
        };
    }
    let identity = match claim {
        PatronClaim::Email => claims.verified_email(),
        other => claims.text(other.name()).ok_or(openurl::identity::TokenError::MissingPatronId),
    };
    let Ok(identity) = identity else { return failed("the ID token does not name the patron as configured") };
    let Ok(citation) = openurl::parse(&trip.q) else { return failed("the parked link cannot be read") };
    let ctx = CallContext::new(bridge.settings.deadline.min(super::openurl::PATRON_LOOKUP_BUDGET));
    let user = match patron::find(bridge, claim, &identity, &ctx).await {
        Ok(Found::One(user)) => user,
        Ok(Found::Refused(reason)) => {
            tracing::info!(refusal = ?reason, claim = claim.name(), "the sign-in names no single Alma user");
            crate::metrics::sign_in("refused");
            return Handoff::PatronRefused { reason, cookies: vec![SetCookie::ClearSignIn] };
        }
        Err(err) => return unconfirmed(bridge, &identity, &err),
    };
    if let Some(reason) = patron::refusal(bridge, &user) {
        return refused(bridge, &user.primary_id, reason, vec![SetCookie::ClearSignIn]);
    }
    let point = match patron_id::match_point(bridge, link_partner(&bridge.settings), &ctx).await {
        Ok(point) => point,
        Err(err) => return unconfirmed(bridge, &user.primary_id, &err),
    };
    let Ok(patron) = VerifiedPatron::new(patron_id::kept_value(&user, point.as_ref())) else {
        tracing::error!(
            patron = pseudonym(&bridge.settings.log_hash_key, &user.primary_id),
            "the patron's Relais id cannot be sent in PI"
        );
        return Handoff::PatronIdFailed;
    };
    let session =
        Session { u: user.primary_id.clone(), r: patron.as_str().to_owned(), s: now.as_second(), c: now.as_second() };
    let cookies =
        vec![SetCookie::ClearSignIn, SetCookie::Session(seal_json(sign_in, CookiePurpose::Session, &session))];
    tracing::info!(patron = pseudonym(&bridge.settings.log_hash_key, &user.primary_id), "patron signed in");
    crate::metrics::sign_in("signed_in");
    match tag(sign_in, &patron) {
        Ok(tag) => super::openurl::redirect(bridge, &citation, Some(tag), client, cookies).await,
        Err(failed) => failed,
    }
}

/// The patron id as Relais receives it: encrypted under Relais's key, else in clear (the site said so).
fn tag(sign_in: &SignIn, patron: &VerifiedPatron) -> Result<PatronTag, Handoff> {
    match &sign_in.encryptor {
        Some(encryptor) => encryptor.encrypt(patron, SystemTime::now()).map_err(|err| {
            tracing::error!(error = %err, "could not encrypt the patron id for Relais");
            Handoff::PatronIdFailed
        }),
        None => Ok(patron.plain_tag()),
    }
}

fn refused(bridge: &Bridge, primary_id: &str, reason: PatronRefusal, cookies: Vec<SetCookie>) -> Handoff {
    let patron = pseudonym(&bridge.settings.log_hash_key, primary_id);
    tracing::info!(patron, refusal = ?reason, "signed-in patron may not use interlibrary loan; no form opened");
    crate::metrics::sign_in("refused");
    Handoff::PatronRefused { reason, cookies }
}

fn unconfirmed(bridge: &Bridge, who: &str, err: &AlmaError) -> Handoff {
    let patron = pseudonym(&bridge.settings.log_hash_key, who);
    tracing::warn!(patron, error = %err, "Alma could not confirm the signed-in patron; no form opened");
    Handoff::PatronUnconfirmed
}

fn provider_down(err: &IdpError) -> Handoff {
    tracing::warn!(error = %err, "the identity provider could not be used");
    Handoff::SignInUnavailable
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(a.ct_eq(b))
}
