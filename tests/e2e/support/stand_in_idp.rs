//! A small OpenID Provider in the test process, for the sign-in's refusals: a real provider will not issue a
//! token with a wrong audience, a wrong nonce or a forged signature, so this one does on request. It
//! serves discovery, its keys (the test JWKS), an authorization endpoint that signs the patron in at once
//! (redirecting to the callback with a code), and a token endpoint that checks PKCE and refuses a code it
//! has already exchanged, as OAuth 2.0 §4.1.2 requires of every provider.

use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub const CLIENT_ID: &str = "alma-relais-bridge-test";
pub const CLIENT_SECRET: &str = "stand-in-client-secret-0123456789";
const IDP_RSA_PRIVATE: &str = include_str!("../../../crates/openurl/tests/keys/idp_rsa_private.pem");
const IMPOSTOR_RSA_PRIVATE: &str = include_str!("../../../crates/openurl/tests/keys/impostor_rsa_private.pem");
const JWKS: &str = include_str!("../../../crates/openurl/tests/keys/idp_jwks.json");

/// What the next ID tokens say and how they are signed.
#[derive(Debug, Clone)]
pub struct Issue {
    /// The claims naming the patron (`email`, `eppn` ...), merged into the token.
    pub patron: Value,
    /// `aud`; the registered client id unless a test says otherwise.
    pub audience: String,
    /// `nonce`; the one the bridge sent unless a test says otherwise.
    pub nonce: Option<String>,
    /// Seconds from now to `exp` (on the real clock: the bridge's manual clock moves past it).
    pub lifetime: i64,
    /// Signed with the impostor's key under the provider's key id.
    pub forged: bool,
    /// The header's `kid`.
    pub kid: String,
}

impl Issue {
    pub fn email(address: &str) -> Issue {
        Issue {
            patron: json!({ "email": address, "email_verified": true }),
            audience: CLIENT_ID.to_owned(),
            nonce: None,
            lifetime: 300,
            forged: false,
            kid: "idp-rsa-2024".to_owned(),
        }
    }
}

#[derive(Default)]
struct Grant {
    nonce: String,
    challenge: String,
    used: bool,
}

struct Inner {
    issuer: String,
    issue: Mutex<Issue>,
    grants: Mutex<HashMap<String, Grant>>,
    /// How many times the keys were read, and the authorization endpoint visited.
    jwks_reads: Mutex<u32>,
    authorizations: Mutex<u32>,
    last_authorization: Mutex<HashMap<String, String>>,
    /// Every ID token issued, and every code.
    issued: Mutex<Vec<String>>,
}

#[derive(Clone)]
pub struct StandInIdp(Arc<Inner>);

impl StandInIdp {
    pub async fn start(issue: Issue) -> StandInIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let idp = StandInIdp(Arc::new(Inner {
            issuer,
            issue: Mutex::new(issue),
            grants: Mutex::default(),
            jwks_reads: Mutex::new(0),
            authorizations: Mutex::new(0),
            last_authorization: Mutex::default(),
            issued: Mutex::default(),
        }));
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(idp.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        idp
    }

    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    pub fn set_issue(&self, issue: Issue) {
        *self.0.issue.lock().unwrap() = issue;
    }

    pub fn jwks_reads(&self) -> u32 {
        *self.0.jwks_reads.lock().unwrap()
    }

    pub fn authorizations(&self) -> u32 {
        *self.0.authorizations.lock().unwrap()
    }

    /// The parameters of the last authorization request.
    pub fn last_authorization(&self) -> HashMap<String, String> {
        self.0.last_authorization.lock().unwrap().clone()
    }

    /// The ID tokens and codes issued so far.
    pub fn issued(&self) -> Vec<String> {
        self.0.issued.lock().unwrap().clone()
    }

    /// The bridge's settings for this provider, its callback at `callback`.
    pub fn settings(&self, callback: &str) -> Vec<(String, String)> {
        [
            ("PATRON_IDENTITY", "oidc"),
            ("OIDC_ISSUER", self.issuer()),
            ("OIDC_CLIENT_ID", CLIENT_ID),
            ("OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("OIDC_REDIRECT_URL", callback),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn sign(&self, grant: &Grant) -> String {
        let issue = self.0.issue.lock().unwrap().clone();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let mut claims = json!({
            "iss": self.0.issuer, "aud": issue.audience, "sub": "stand-in-subject",
            "nonce": issue.nonce.unwrap_or_else(|| grant.nonce.clone()),
            "iat": now, "exp": now + issue.lifetime,
        });
        for (key, value) in issue.patron.as_object().unwrap() {
            claims[key] = value.clone();
        }
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": issue.kid });
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let pem = if issue.forged { IMPOSTOR_RSA_PRIVATE } else { IDP_RSA_PRIVATE };
        let key = RsaKeyPair::from_pkcs8(&pem_der(pem)).expect("a test key");
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("a PEM body")
}

async fn discovery(State(idp): State<StandInIdp>) -> Response {
    let issuer = &idp.0.issuer;
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }))
    .into_response()
}

async fn jwks(State(idp): State<StandInIdp>) -> Response {
    *idp.0.jwks_reads.lock().unwrap() += 1;
    ([("content-type", "application/json")], JWKS).into_response()
}

/// Signs the patron in at once and sends the browser back to the callback with a fresh code.
async fn authorize(State(idp): State<StandInIdp>, Query(params): Query<HashMap<String, String>>) -> Response {
    *idp.0.authorizations.lock().unwrap() += 1;
    *idp.0.last_authorization.lock().unwrap() = params.clone();
    let code = format!("code-{}", rand::random::<u64>());
    let grant = Grant {
        nonce: params.get("nonce").cloned().unwrap_or_default(),
        challenge: params.get("code_challenge").cloned().unwrap_or_default(),
        used: false,
    };
    idp.0.grants.lock().unwrap().insert(code.clone(), grant);
    idp.0.issued.lock().unwrap().push(code.clone());
    let mut back = url::Url::parse(&params["redirect_uri"]).unwrap();
    back.query_pairs_mut().append_pair("code", &code).append_pair("state", &params["state"]);
    (axum::http::StatusCode::FOUND, [("location", back.to_string())]).into_response()
}

async fn token(State(idp): State<StandInIdp>, headers: axum::http::HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let refuse =
        |error: &str| (axum::http::StatusCode::BAD_REQUEST, axum::Json(json!({ "error": error }))).into_response();
    let basic = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(basic.as_str()) {
        return refuse("invalid_client");
    }
    let mut grants = idp.0.grants.lock().unwrap();
    let Some(grant) = grants.get_mut(form.get("code").map(String::as_str).unwrap_or_default()) else {
        return refuse("invalid_grant");
    };
    // A code is good once (RFC 6749 §4.1.2).
    if grant.used {
        return refuse("invalid_grant");
    }
    grant.used = true;
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()));
    if challenge != grant.challenge {
        return refuse("invalid_grant");
    }
    let grant = Grant { nonce: grant.nonce.clone(), ..Grant::default() };
    drop(grants);
    let id_token = idp.sign(&grant);
    idp.0.issued.lock().unwrap().push(id_token.clone());
    axum::Json(json!({ "access_token": "stand-in", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }))
        .into_response()
}
