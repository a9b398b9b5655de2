//! `GET /openurl`: a patron's ILL link from Primo/Alma's services page becomes a 302 to the Relais request
//! form, pre-filled with the citation. The target comes only from configuration; the citation is parked in
//! the store under a correlation id (logged) so staff can match the Relais request to the discovery session.
//!
//! With `PATRON_IDENTITY=jwt` the form's `PI` names the patron by the id LookupUser answers as the "Primary
//! Key" ([`crate::flows::patron_id::kept_value`]), found from the id the sign-in names through Alma's Users
//! API: Relais keys its patron records by that id, so any other id would make a second record of the same
//! patron. When Alma cannot say which patron the sign-in names, no `PI` is sent at all: the patron sees a
//! page saying so (never a form under an id Relais might not know).

use crate::alma::{AlmaError, CallContext};
use crate::config::{ConfigError, OpenUrlSettings, PatronIdentity, Settings};
use crate::flows::Bridge;
use crate::flows::patron_id;
use crate::flows::sign_in::{SetCookie, SignIn};
use crate::logging::pseudonym;
use crate::openurl::identity::{JwtVerifier, RelaisPiEncryptor, VerifiedPatron};
use crate::openurl::{self, PatronTag, RelaisForm};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

/// The most a link waits for Alma's Users API: the hand-off's function ends at 8 s (template.yaml), and a
/// patron is better served by the "try again" page than by API Gateway's error after a hung call.
pub const PATRON_LOOKUP_BUDGET: Duration = Duration::from_secs(5);

/// The configured Relais form, checked once at start-up.
pub fn relais_form(settings: &Settings) -> Result<Option<RelaisForm>, ConfigError> {
    let OpenUrlSettings { form_url, library_symbol, .. } = &settings.openurl;
    match (form_url, library_symbol) {
        (None, _) => Ok(None),
        (Some(_), None) => Err(ConfigError::new("RELAIS_LIBRARY_SYMBOL", "is required with RELAIS_FORM_URL")),
        (Some(url), Some(symbol)) => {
            RelaisForm::new(url, symbol).map(Some).map_err(|e| ConfigError::new("RELAIS_FORM_URL", e.to_string()))
        }
    }
}

/// The optional patron identity machinery, built once.
pub enum Identity {
    /// `PATRON_IDENTITY=jwt`: a signed token in the link names the patron.
    Jwt(TokenIdentity),
    /// `PATRON_IDENTITY=oidc`: the bridge signs the patron in itself.
    SignIn(Box<SignIn>),
}

/// The checks of a link's signed token (`PATRON_IDENTITY=jwt`).
pub struct TokenIdentity {
    verifier: JwtVerifier,
    encryptor: Option<RelaisPiEncryptor>,
    token_parameter: String,
}

impl Identity {
    /// The verifier (and Relais encryptor) for `PATRON_IDENTITY=jwt`, the sign-in for `oidc` (talking to the
    /// provider over `http`), or `None` when Relais logs patrons in itself; a key that cannot be read stops
    /// start-up with the variable named.
    pub fn from_settings(settings: &Settings, http: &reqwest::Client) -> Result<Option<Identity>, ConfigError> {
        let (issuer, audience, verification_key, relais_public_key, token_parameter) =
            match &settings.openurl.patron_identity {
                PatronIdentity::None => return Ok(None),
                PatronIdentity::Oidc(oidc) => {
                    return SignIn::new(oidc, http.clone()).map(|s| Some(Identity::SignIn(Box::new(s))));
                }
                PatronIdentity::Jwt { issuer, audience, verification_key, relais_public_key, token_parameter } => {
                    (issuer, audience, verification_key, relais_public_key, token_parameter)
                }
            };
        let verifier = if verification_key.trim_start().starts_with('{') {
            JwtVerifier::from_jwks(issuer, audience, verification_key)
        } else {
            JwtVerifier::from_pem(issuer, audience, verification_key)
        }
        .map_err(|e| ConfigError::new("JWT_VERIFICATION_KEY", e.to_string()))?;
        let encryptor = relais_public_key
            .as_deref()
            .map(RelaisPiEncryptor::from_pem)
            .transpose()
            .map_err(|e| ConfigError::new("RELAIS_PUBLIC_KEY", e.to_string()))?;
        Ok(Some(Identity::Jwt(TokenIdentity { verifier, encryptor, token_parameter: token_parameter.clone() })))
    }

    /// The sign-in, under `PATRON_IDENTITY=oidc`.
    pub fn sign_in(&self) -> Option<&SignIn> {
        match self {
            Identity::SignIn(sign_in) => Some(sign_in),
            Identity::Jwt(_) => None,
        }
    }
}

/// What the hand-off answers; [`crate::http`] turns it into a response.
pub enum Handoff {
    /// The Relais form, filled in; `correlation_id` names the parked citation.
    Redirect {
        /// The Relais form's URL with the citation (and, if configured, the patron) in its query.
        location: String,
        /// The id the citation was parked under, logged so staff can find it.
        correlation_id: String,
        /// The sign-in's cookies to set or remove (none outside `PATRON_IDENTITY=oidc`).
        cookies: Vec<SetCookie>,
    },
    /// `PATRON_IDENTITY=oidc` and no session: the patron goes to the identity provider to sign in.
    SignInStarted {
        /// The provider's authorization endpoint with the request's parameters.
        location: String,
        /// The sealed round trip (and the removal of a session that no longer opens).
        cookies: Vec<SetCookie>,
    },
    /// The provider's answer at the callback could not be accepted (any failed check): no form.
    SignInFailed {
        /// The round trip's cookie, removed.
        cookies: Vec<SetCookie>,
    },
    /// The identity provider could not be reached or answered unusably.
    SignInUnavailable,
    /// The signed-in patron may not use interlibrary loan (or Alma holds no single user for the sign-in).
    PatronRefused {
        /// Why, in the patron's words.
        reason: openurl::PatronRefusal,
        /// Cookies removed with the refusal.
        cookies: Vec<SetCookie>,
    },
    /// `RELAIS_FORM_URL` is not set: no target exists.
    NotConfigured,
    /// The link could not be read as an OpenURL.
    BadLink(openurl::BadOpenUrl),
    /// `PATRON_IDENTITY=jwt` and the patron's token is missing or not valid.
    Unauthorised(openurl::identity::TokenError),
    /// The patron id could not be encrypted for Relais (a configuration fault, logged).
    PatronIdFailed,
    /// The sign-in is valid, but Alma could not say which of its users it names (an outage, the daily
    /// threshold, a refusal): no form is opened rather than one under an id Relais might not know.
    PatronUnconfirmed,
    /// The sign-in is valid, but Alma knows no user by the id it names.
    PatronUnknown,
}

/// Turns a patron's link into the Relais redirect. `raw_query` is the query exactly as received (API Gateway
/// joins repeated keys, so the codec reads the raw string); `bearer` is an `Authorization: Bearer` token;
/// `client` the caller's address, when known, whose budget an anonymous link's parking is counted against.
/// `session` is the sign-in's session cookie, when the browser sent one.
pub async fn hand_off(
    bridge: &Bridge,
    raw_query: &str,
    bearer: Option<&str>,
    client: Option<IpAddr>,
    session: Option<&str>,
) -> Handoff {
    if bridge.relais_form.is_none() {
        return Handoff::NotConfigured;
    }
    let citation = match openurl::parse(raw_query) {
        Ok(citation) => citation,
        Err(bad) => {
            tracing::info!(reason = %bad.to_string().escape_debug(), "bad OpenURL");
            return Handoff::BadLink(bad);
        }
    };
    if let Some(Identity::SignIn(sign_in)) = &bridge.identity {
        return super::sign_in::at_link(bridge, sign_in, raw_query, &citation, session, client).await;
    }
    let patron = match patron_tag(bridge, bearer, raw_query).await {
        Ok(tag) => tag,
        Err(refusal) => return refusal,
    };
    redirect(bridge, &citation, patron, client, Vec::new()).await
}

/// `GET /openurl/callback`: the identity provider's answer to a sign-in (`PATRON_IDENTITY=oidc`);
/// `sign_in_cookie` is the round trip's cookie, when the browser sent one.
pub async fn signed_in(
    bridge: &Bridge,
    raw_query: &str,
    sign_in_cookie: Option<&str>,
    client: Option<IpAddr>,
) -> Handoff {
    if bridge.relais_form.is_none() {
        return Handoff::NotConfigured;
    }
    super::sign_in::callback(bridge, raw_query, sign_in_cookie, client).await
}

/// The redirect to the Relais form for `citation` (and `patron`), the citation parked for staff.
pub(crate) async fn redirect(
    bridge: &Bridge,
    citation: &openurl::Citation,
    patron: Option<PatronTag>,
    client: Option<IpAddr>,
    cookies: Vec<SetCookie>,
) -> Handoff {
    let Some(form) = &bridge.relais_form else { return Handoff::NotConfigured };
    let correlation_id = correlation_id();
    let now = bridge.clock.now();
    // An identified patron's citation is always parked; an anonymous link's only within its address's budget,
    // so anonymous traffic cannot turn into unbounded store writes, nor one client use up the others' budget.
    let park = patron.is_some() || bridge.anonymous_parking.admit(now, client);
    match serde_json::to_value(citation) {
        Ok(value) if park => {
            if let Err(err) = bridge.store.put_discovery(&correlation_id, &value, now).await {
                // The patron's request matters more than the trace: carry on without it.
                tracing::warn!(error = %err, "could not store the OpenURL citation");
            }
        }
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "citation not serialisable"),
    }
    tracing::info!(correlation_id, parked = park, genre = ?citation.genre, "OpenURL redirected to Relais");
    Handoff::Redirect { location: form.redirect_url(citation, patron.as_ref()), correlation_id, cookies }
}

/// The patron's identity for Relais, when `PATRON_IDENTITY=jwt`: verified from the IdP's token, never taken
/// from the link itself (Relais trusts a plain `PI`), and turned into the id Relais keys the patron by.
async fn patron_tag(bridge: &Bridge, bearer: Option<&str>, raw_query: &str) -> Result<Option<PatronTag>, Handoff> {
    let Some(Identity::Jwt(identity)) = bridge.identity.as_ref() else { return Ok(None) };
    let token = bearer.map(str::to_owned).or_else(|| {
        url::form_urlencoded::parse(raw_query.as_bytes())
            .find(|(k, _)| k == identity.token_parameter.as_str())
            .map(|(_, v)| v.into_owned())
    });
    let Some(token) = token else { return Err(Handoff::Unauthorised(openurl::identity::TokenError::Missing)) };
    let signed_in = identity.verifier.verify(&token, SystemTime::now()).map_err(Handoff::Unauthorised)?;
    let patron = relais_patron(bridge, &signed_in).await?;
    match &identity.encryptor {
        None => Ok(Some(patron.plain_tag())),
        Some(encryptor) => encryptor.encrypt(&patron, SystemTime::now()).map(Some).map_err(|err| {
            tracing::error!(error = %err, "could not encrypt the patron id for Relais");
            Handoff::PatronIdFailed
        }),
    }
}

/// The Alma partner whose User Identifier Type names a link's patron: `ALMA_PARTNER_CODE`, else the one partner
/// `NCIP_AGENCY_PARTNERS` names (a link carries no FromAgencyId to choose by). `ALMA_USER_ID_TYPE`, when set,
/// overrides the partner's type as it does for every message.
pub fn link_partner(settings: &Settings) -> Option<&str> {
    settings.ncip.default_partner_code.as_deref().or_else(|| {
        let mut codes = settings.ncip.agency_partners.values();
        let first = codes.next()?;
        codes.all(|code| code == first).then_some(first.as_str())
    })
}

/// The id LookupUser would answer for the patron the sign-in names: one `GET /users/{id}?user_id_type=all_unique`
/// (the IdP may release a primary id, a university id or a barcode) and, the first time, the partner's record.
async fn relais_patron(bridge: &Bridge, signed_in: &VerifiedPatron) -> Result<VerifiedPatron, Handoff> {
    let ctx = CallContext::new(bridge.settings.deadline.min(PATRON_LOOKUP_BUDGET));
    let patron = pseudonym(&bridge.settings.log_hash_key, signed_in.as_str());
    let unconfirmed = |err: &AlmaError| {
        tracing::warn!(patron, error = %err, "Alma could not confirm the signed-in patron; no form opened");
        Handoff::PatronUnconfirmed
    };
    let point =
        patron_id::match_point(bridge, link_partner(&bridge.settings), &ctx).await.map_err(|e| unconfirmed(&e))?;
    let user = match bridge.rest.user(signed_in.as_str(), "all_unique", &ctx).await {
        Ok(user) => user,
        Err(err) if err.is_not_found() => {
            tracing::info!(patron, "the signed-in patron is not an Alma user; no form opened");
            return Err(Handoff::PatronUnknown);
        }
        Err(err) => return Err(unconfirmed(&err)),
    };
    VerifiedPatron::new(patron_id::kept_value(&user, point.as_ref())).map_err(|_| {
        // Alma's id holds a `|` or a control character, or is over the length one RSA block carries.
        tracing::error!(patron, "the patron's Relais id cannot be sent in PI");
        Handoff::PatronIdFailed
    })
}

/// How many anonymous citations one instance parks per minute for one client address: enough for a library's real ILL traffic
/// (a busy site sees a few links a minute), far below what a script could send. Each parked citation is one
/// store write of up to a few kilobytes, kept 30 minutes.
pub const ANONYMOUS_PARKS_PER_MINUTE: u32 = 30;

/// Client addresses given a budget of their own in one minute; links from further addresses in that minute are
/// not parked. Bounds the meter's memory whatever the number of addresses a flood comes from.
pub const PARKING_ADDRESSES_PER_MINUTE: usize = 1024;

/// A fixed-window budget for parking anonymous citations, per client address and per process (on AWS, per
/// Lambda instance): one client flooding anonymous links used to use up the budget every patron shared.
/// Links whose address is unknown share one budget.
#[derive(Debug, Default)]
pub struct ParkingMeter {
    window: std::sync::Mutex<(i64, HashMap<Option<IpAddr>, u32>)>,
}

impl ParkingMeter {
    /// Whether one more anonymous citation from `client` may be parked in the minute holding `now`.
    pub fn admit(&self, now: jiff::Timestamp, client: Option<IpAddr>) -> bool {
        let minute = now.as_second().div_euclid(60);
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        if window.0 != minute {
            *window = (minute, HashMap::new());
        }
        let counts = &mut window.1;
        if !counts.contains_key(&client) && counts.len() >= PARKING_ADDRESSES_PER_MINUTE {
            return false;
        }
        let count = counts.entry(client).or_insert(0);
        if *count >= ANONYMOUS_PARKS_PER_MINUTE {
            return false;
        }
        *count += 1;
        true
    }
}

fn correlation_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
