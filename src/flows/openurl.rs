//! `GET /openurl`: a patron's ILL link from Primo/Alma's services page becomes a 302 to the Relais request
//! form, pre-filled with the citation. The target comes only from configuration; the citation is parked in
//! the store under a correlation id (logged) so staff can match the Relais request to the discovery session.

use crate::app::App;
use crate::config::{ConfigError, OpenUrlSettings, PatronIdentity, Settings};
use crate::http::respond;
use crate::openurl::identity::{JwtVerifier, RelaisPiEncryptor};
use crate::openurl::{self, PatronTag, RelaisForm};
use lambda_http::{Body, Request, Response};
use std::time::SystemTime;

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
pub struct Identity {
    verifier: JwtVerifier,
    encryptor: Option<RelaisPiEncryptor>,
    token_parameter: String,
}

impl Identity {
    pub fn from_settings(settings: &Settings) -> Result<Option<Identity>, ConfigError> {
        let PatronIdentity::Jwt { issuer, audience, verification_key, relais_public_key, token_parameter } =
            &settings.openurl.patron_identity
        else {
            return Ok(None);
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
        Ok(Some(Identity { verifier, encryptor, token_parameter: token_parameter.clone() }))
    }
}

pub async fn handle(app: &App, request: &Request) -> Response<Body> {
    if request.method() != http::Method::GET {
        return respond::text(405, "Use GET");
    }
    let Some(form) = &app.relais_form else {
        return respond::html(
            501,
            crate::http::pages::page(
                "Not configured",
                "<h1>ILL requests are not set up yet</h1><p>The library has not configured its Relais request form \
             (RELAIS_FORM_URL and RELAIS_LIBRARY_SYMBOL).</p>",
            ),
        );
    };
    let raw_query = request.uri().query().unwrap_or("");
    let citation = match openurl::parse(raw_query) {
        Ok(citation) => citation,
        Err(bad) => {
            tracing::info!(reason = %bad, "bad OpenURL");
            return respond::html(400, openurl::error_page(&bad));
        }
    };
    let patron = match patron_tag(app, request, raw_query) {
        Ok(tag) => tag,
        Err(page) => return *page,
    };
    let correlation_id = correlation_id();
    match serde_json::to_value(&citation) {
        Ok(value) => {
            if let Err(err) = app.store.put_discovery(&correlation_id, &value, app.clock.now()).await {
                // The patron's request matters more than the trace: carry on without it.
                tracing::warn!(error = %err, "could not store the OpenURL citation");
            }
        }
        Err(err) => tracing::warn!(error = %err, "citation not serialisable"),
    }
    tracing::info!(correlation_id, genre = ?citation.genre, "OpenURL redirected to Relais");
    let mut response = respond::redirect(&form.redirect_url(&citation, patron.as_ref()));
    // The same id as in the log line, so a support desk can find the parked citation from a browser trace.
    if let Ok(value) = http::HeaderValue::from_str(&correlation_id) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    response
}

/// The response header naming the correlation id of a redirect.
pub const CORRELATION_HEADER: &str = "x-bridge-correlation-id";

/// The patron's identity for Relais, when `PATRON_IDENTITY=jwt`: verified from the IdP's token, never taken
/// from the link itself (Relais trusts a plain `PI`).
fn patron_tag(app: &App, request: &Request, raw_query: &str) -> Result<Option<PatronTag>, Box<Response<Body>>> {
    let Some(identity) = app.identity.as_ref() else { return Ok(None) };
    let token = crate::http::auth::presented_token(request, None).map(str::to_owned).or_else(|| {
        url::form_urlencoded::parse(raw_query.as_bytes())
            .find(|(k, _)| k == identity.token_parameter.as_str())
            .map(|(_, v)| v.into_owned())
    });
    let unauthorised = |err| Err(Box::new(respond::html(401, openurl::unauthorized_page(&err))));
    let Some(token) = token else { return unauthorised(openurl::identity::TokenError::Missing) };
    let patron = match identity.verifier.verify(&token, SystemTime::now()) {
        Ok(patron) => patron,
        Err(err) => return unauthorised(err),
    };
    match &identity.encryptor {
        None => Ok(Some(patron.plain_tag())),
        Some(encryptor) => match encryptor.encrypt(&patron, SystemTime::now()) {
            Ok(tag) => Ok(Some(tag)),
            Err(err) => {
                tracing::error!(error = %err, "could not encrypt the patron id for Relais");
                Err(Box::new(respond::text(500, "The patron id could not be prepared for Relais")))
            }
        },
    }
}

fn correlation_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
