//! Every setting the bridge reads, read and validated once at start-up.
//!
//! Settings come from environment variables (on Lambda: the template's parameters; locally: the shell). A
//! missing or malformed setting stops start-up with one line naming the variable, never a panic deep inside
//! a request. Secrets are held in [`Secret`], which never prints its value.

mod parse;
mod secret;

pub use parse::Env;
pub use secret::Secret;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where the bridge runs decides its defaults: locally a missing Alma means "start the simulator" and a
/// missing secret means "make a random one and print it"; on Lambda both are start-up errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// The single-process server (`cargo run`), with the simulator and the embedded store at hand.
    Local,
    /// A Lambda function, configured only by its template.
    Lambda,
}

/// A setting that is missing or malformed, in words a systems librarian can act on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it and what would be right.
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self { variable, problem: problem.into() }
    }
}

/// How to reach Alma: a real institution, or the built-in simulator (local host only).
#[derive(Debug, Clone)]
pub enum AlmaTarget {
    /// An institution's Alma (`ALMA_API_BASE` and its companions).
    Remote(AlmaRemote),
    /// Start `alma-sim` in process; `seed` is `ALMA_SIM_SEED`, `listen` is `ALMA_SIM_LISTEN`.
    Simulator {
        /// The file the simulator's patrons, items and partners are loaded from; unset loads its demo data.
        seed: Option<PathBuf>,
        /// Where the simulator listens (port 0 picks a free one).
        listen: SocketAddr,
    },
    /// A Lambda function that never calls Alma (the front door, the status page) is not given its key.
    Unconfigured,
}

/// An institution's Alma: its REST API, its NCIP responder and the key for both.
#[derive(Debug, Clone)]
pub struct AlmaRemote {
    /// e.g. `https://api-eu.hosted.exlibrisgroup.com/almaws/v1` (or a region name, expanded by the parser).
    pub api_base: String,
    /// `ALMA_API_KEY`: the REST API key, sent in a header and never logged.
    pub api_key: Secret,
    /// Alma's NCIP responder, `https://<institution host>/view/NCIPServlet`.
    pub ncip_url: String,
    /// `ALMA_INSTITUTION_CODE` (e.g. `01UNI_INST`): the institution NCIP messages are addressed to.
    pub institution_code: String,
}

/// Where correlation records live.
#[derive(Debug, Clone)]
pub enum StoreTarget {
    /// A file store on local disk (the local server when no table is named).
    Embedded {
        /// `BRIDGE_DATA_DIR` (`./data` by default).
        data_dir: PathBuf,
    },
    /// A DynamoDB table (always on Lambda).
    DynamoDb {
        /// `DYNAMODB_TABLE`.
        table: String,
    },
}

/// How the NCIP front door maps Relais agencies to Alma partner codes and which agencies it admits.
#[derive(Debug, Clone)]
pub struct NcipPolicy {
    /// `ALMA_PARTNER_CODE`: sent to Alma as ApplicationProfileType when no agency-specific code applies.
    pub default_partner_code: Option<String>,
    /// `ALMA_USER_ID_TYPE`: the partner's User Identifier Type (`BARCODE`, `user_name` or another Alma
    /// identifier type code); unset reads it from the partner record (`GET /partners/{code}`).
    pub user_id_type: Option<String>,
    /// `NCIP_AGENCY_PARTNERS`: FromAgencyId -> Alma partner code.
    pub agency_partners: BTreeMap<String, String>,
    /// `NCIP_ALLOWED_AGENCIES`: when set, only these FromAgencyId values are served.
    pub allowed_agencies: Option<Vec<String>>,
    /// `NCIP_ALLOW_ANY_AGENCY` (off): on AWS, lets the NCIP front door start without an allow-list and a
    /// partner mapping. Off, it refuses to start rather than serve every FromAgencyId with whatever partner
    /// code the caller sends; locally the open policy is only warned about.
    pub allow_any_agency: bool,
    /// `LIBRARY_TIME_ZONE`: zone-less NCIP dates are read in this zone.
    pub time_zone: jiff::tz::TimeZone,
    /// `NCIP_REWRITE_ID_AGENCIES` (on unless set off): Relais's own agency code inside `ItemId` (and, on the
    /// borrowing side, `UserId`) reaches Alma as the institution code, which is the only agency Alma's items
    /// and patrons belong to.
    pub rewrite_id_agencies: bool,
}

/// What patron lookups may reveal and whom they admit (`PATRON_*`).
#[derive(Debug, Clone)]
pub struct PatronPolicy {
    /// `PATRON_ID_TYPE`: Alma `user_id_type` used to find a patron (default `all_unique`).
    pub id_type: String,
    /// `PATRON_GROUP_MAP`: Alma user group code -> profile name sent to Relais.
    pub group_map: BTreeMap<String, String>,
    /// `PATRON_ILL_GROUPS`: Alma user groups allowed to use ILL; unset allows every group.
    pub ill_groups: Option<Vec<String>>,
    /// `PATRON_INELIGIBLE_ANSWER=problem`: answer "User Ineligible" instead of STATUS BLOCKED.
    pub ineligible_as_problem: bool,
    /// `PATRON_BLOCKED_ANSWER=problem`: answer "User Blocked" instead of STATUS BLOCKED.
    pub blocked_as_problem: bool,
    /// `PATRON_AUTH_REQUIRED`: every LookupUser must carry a PIN/password that Alma accepts.
    pub auth_required: bool,
    /// `PATRON_ALLOW_LOANS`: LoanedItemsDesired may be answered (off by default: privacy).
    pub allow_loans: bool,
    /// `PATRON_LOCKOUT_*`: how PIN guessing is slowed.
    pub lockout: PinLockout,
    /// `PATRON_REMEMBER_DAYS`: how long the keyed hash of an id LookupUser answered is kept, so that AcceptItem
    /// forwards that id without reading the user again (default 30 days; zero keeps none).
    pub remember_for: std::time::Duration,
}

/// PIN and password checks refused without asking Alma once too many did not succeed, so that a caller cannot
/// find a patron's PIN by trying every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinLockout {
    /// `PATRON_LOCKOUT_FAILURES`: checks of one patron's secret that may fail before the patron is locked
    /// (default 5; 0 turns the per-patron lockout off).
    pub patron_failures: u32,
    /// `PATRON_LOCKOUT_AGENCY_FAILURES`: failed checks through one NCIP endpoint token within the period
    /// before its further checks are throttled (Temporary Processing Failure with a time to retry; default
    /// 50; 0 turns it off). Named for the calling agency, which the endpoint token stands for.
    pub agency_failures: u32,
    /// `PATRON_LOCKOUT_MINUTES`: a patron's first lock lasts this long (each failure after a lock doubles the
    /// next, up to a day), and counts are forgotten this long after their last failure or lock (default 15).
    pub period: std::time::Duration,
}

impl Default for PinLockout {
    fn default() -> Self {
        Self { patron_failures: 5, agency_failures: 50, period: std::time::Duration::from_secs(15 * 60) }
    }
}

impl Default for PatronPolicy {
    fn default() -> Self {
        Self {
            id_type: "all_unique".into(),
            group_map: BTreeMap::new(),
            ill_groups: None,
            ineligible_as_problem: false,
            blocked_as_problem: false,
            auth_required: false,
            allow_loans: false,
            lockout: PinLockout::default(),
            remember_for: std::time::Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The OpenURL hand-off (`RELAIS_*`, `PATRON_IDENTITY`, `JWT_*`).
#[derive(Debug, Clone)]
pub struct OpenUrlSettings {
    /// `RELAIS_FORM_URL`, e.g. `https://relais.example.edu/user/login.html`.
    pub form_url: Option<String>,
    /// `RELAIS_LIBRARY_SYMBOL`: the `LS` tag.
    pub library_symbol: Option<String>,
    /// How the patron handed to Relais is identified, if at all.
    pub patron_identity: PatronIdentity,
}

/// Whether the OpenURL hand-off names the patron to Relais (`PATRON_IDENTITY`).
#[derive(Debug, Clone)]
pub enum PatronIdentity {
    /// Relais logs the patron in itself (the default and the safest).
    None,
    /// A signed JWT from the institution's IdP names the patron (`PATRON_IDENTITY=jwt`).
    Jwt {
        /// `JWT_ISSUER`: the IdP whose tokens are accepted (the `iss` claim).
        issuer: String,
        /// `JWT_AUDIENCE`: the `aud` claim a token must carry, so tokens meant for other services are refused.
        audience: String,
        /// A JWKS document or a PEM public key.
        verification_key: String,
        /// `RELAIS_PUBLIC_KEY` (PEM): send the id as Relais' encrypted `base64PI` instead of plain `PI`.
        relais_public_key: Option<String>,
        /// `JWT_PARAMETER` (`token` by default): the query parameter carrying the token.
        token_parameter: String,
    },
    /// The bridge signs the patron in at the institution's OpenID Connect provider itself
    /// (`PATRON_IDENTITY=oidc`), and Alma confirms who they are.
    Oidc(Box<OidcSettings>),
}

/// Which claim of the ID token names the patron, and how Alma is asked about it (`OIDC_PATRON_CLAIM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatronClaim {
    /// `email`: found through Alma's user search (`q=email~…`), then compared in full.
    Email,
    /// `eppn` (eduPersonPrincipalName), read as any unique id (`user_id_type=all_unique`).
    Eppn,
    /// `sub`, read as any unique id.
    Sub,
    /// `preferred_username`, read as any unique id.
    PreferredUsername,
}

impl PatronClaim {
    /// The claim's name in the ID token.
    pub fn name(self) -> &'static str {
        match self {
            PatronClaim::Email => "email",
            PatronClaim::Eppn => "eppn",
            PatronClaim::Sub => "sub",
            PatronClaim::PreferredUsername => "preferred_username",
        }
    }
}

/// The OpenID Connect sign-in at the hand-off (`OIDC_*`, `SIGN_IN_*`).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// `OIDC_ISSUER`: the provider's issuer URL; its metadata is read from
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// `OIDC_CLIENT_ID`: the bridge's client registration at the provider (also the ID token's audience).
    pub client_id: String,
    /// `OIDC_CLIENT_SECRET`: the registration's secret (SSM on AWS); unset for a public client, which
    /// PKCE alone protects.
    pub client_secret: Option<Secret>,
    /// `OIDC_REDIRECT_URL`: the callback's public URL as registered at the provider (`…/openurl/callback`).
    pub redirect_url: String,
    /// `OIDC_PATRON_CLAIM` (`email`): the claim that names the patron.
    pub claim: PatronClaim,
    /// `OIDC_SCOPES` (`openid email profile`): what the authorization request asks for.
    pub scopes: String,
    /// `SIGN_IN_COOKIE_SECRET`: seals the sign-in and session cookies (SSM on AWS).
    pub cookie_secret: Secret,
    /// `SIGN_IN_COOKIE_SECRET_PREVIOUS`: during a rotation, the old secret, whose cookies still open.
    pub cookie_secret_previous: Option<Secret>,
    /// `SIGN_IN_SESSION_MINUTES` (30, at most 30): how long a sign-in lasts, however the browser is kept open.
    pub session_max: Duration,
    /// `SIGN_IN_RECHECK_MINUTES` (5): a session older than this has the patron's standing read from Alma again.
    pub recheck_after: Duration,
    /// `RELAIS_PUBLIC_KEY`: the id goes to Relais encrypted, as `base64PI`.
    pub relais_public_key: Option<String>,
    /// `RELAIS_PLAIN_PI`: the site accepts a plain `PI` when no Relais key is configured.
    pub plain_pi: bool,
}

/// Every setting, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the bridge runs, which decided the defaults below.
    pub host: Host,
    /// `BRIDGE_LISTEN` (`127.0.0.1:3000`): the local server's address.
    pub listen: SocketAddr,
    /// Which Alma the bridge talks to.
    pub alma: AlmaTarget,
    /// `ALMA_MAX_CALLS_PER_SECOND` (25): the pace kept under Alma's per-second threshold.
    pub alma_calls_per_second: u32,
    /// Where correlation records, history and the outbox live.
    pub store: StoreTarget,
    /// `NCIP_SHARED_SECRET`: the token Relais puts in its NCIP URL or bearer header. On Lambda only the front
    /// door is given it; elsewhere it is empty, and an empty secret matches nothing.
    pub ncip_secret: Secret,
    /// `NCIP_SHARED_SECRET_PREVIOUS`: during a rotation, the secret Relais still uses, accepted beside the new
    /// one until Relais is switched (docs/operations.md, "Rotating secrets"); empty otherwise.
    pub ncip_previous_secret: Secret,
    /// `STATUS_TOKEN`: the read-only token staff tools use for `GET /requests/{id}` and `GET /queue`; it
    /// cannot re-drive or discard a queued message.
    pub status_token: Secret,
    /// `STATUS_TOKEN_PREVIOUS`: during a rotation, the status token dashboards and scripts still use, accepted
    /// beside the new one until they are switched; empty otherwise.
    pub status_previous_token: Secret,
    /// `STAFF_ACTION_TOKEN`: the token that may re-drive or discard a queued message (and read what the status
    /// token reads). Kept apart from the status token so that a dashboard or script holding the read-only
    /// token cannot change what reaches Alma. On Lambda only the status function is given it.
    pub staff_token: Secret,
    /// `STAFF_ACTION_TOKEN_PREVIOUS`: during a rotation, the staff token still in staff scripts, accepted beside
    /// the new one until they are switched; empty otherwise.
    pub staff_previous_token: Secret,
    /// `LOG_HASH_KEY`: key for the keyed hash that stands in for patron ids in logs.
    pub log_hash_key: Secret,
    /// Which agencies are served and which Alma partner each stands for.
    pub ncip: NcipPolicy,
    /// What patron lookups reveal and whom they admit.
    pub patron: PatronPolicy,
    /// The OpenURL hand-off to Relais.
    pub openurl: OpenUrlSettings,
    /// `HISTORY_RETENTION_DAYS`: how long closed requests and their history are kept.
    pub retention: Duration,
    /// `BRIDGE_DEADLINE_MS`: the whole budget for answering one message (API Gateway cuts at 29 s).
    pub deadline: Duration,
    /// Lambda function names per service function, for the front door's invoke (`*_FUNCTION`).
    pub function_names: BTreeMap<crate::function::Function, String>,
    /// The local server's connection bounds (on Lambda, API Gateway bounds connections).
    pub local: LocalServerLimits,
    /// Holding circulation messages while Alma cannot take them.
    pub outbox: OutboxSettings,
    /// Comparing the bridge's records with Alma every night (docs/operations.md, "Reconciliation").
    pub reconcile: ReconcileSettings,
    /// `SECRETS_REFRESH_SECONDS` (Lambda, 300 by default): how often a running function reads its SSM secrets
    /// again, so that a rotation reaches it without a deploy.
    pub secrets_refresh: Duration,
}

/// Comparing the bridge's records with Alma (docs/operations.md, "Reconciliation").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// `RECONCILE_CALL_BUDGET` (1,000 by default): the most Alma calls one run makes, well inside the daily
    /// quota; a pass that needs more resumes the next night.
    pub call_budget: u32,
    /// `RECONCILE_MAX_MINUTES` (12 by default): the longest one run takes (a Lambda function stops at 15).
    pub max_run: Duration,
    /// `RECONCILE_LOCAL_TIME` (`02:30` by default, in `LIBRARY_TIME_ZONE`; `off` for none): when the local
    /// server's worker runs it each night. On AWS the template's schedule decides.
    pub local_time: Option<jiff::civil::Time>,
    /// `RECONCILE_FUNCTION` (AWS): the function `POST /reconcile` invokes asynchronously.
    pub function_name: Option<String>,
}

/// Holding circulation messages while Alma cannot take them (docs/operations.md, "The outbox").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSettings {
    /// `OUTBOX` (`on` by default): when off, a message Alma cannot take is answered "Temporary Processing
    /// Failure" and Relais staff must send it again.
    pub enabled: bool,
    /// `OUTBOX_MAX_AGE_HOURS` (72 by default): how long delivery keeps trying before it parks a message.
    pub max_age: Duration,
    /// `OUTBOX_PARK_AFTER_ATTEMPTS` (5 by default): a message that keeps failing for its own reasons (not an
    /// Alma outage: an unreadable answer, a REST refusal while translating its patron) is parked on this
    /// attempt, so that it costs neither Alma's quota nor other messages' turns.
    pub park_after_attempts: u32,
    /// `OUTBOX_MAX_OPEN_PER_REQUEST` (10) and `OUTBOX_MAX_OPEN` (5,000): the most open messages the outbox
    /// holds for one request and in all; past either, Relais hears Temporary Processing Failure.
    pub limits: crate::store::QueueLimits,
    /// `OUTBOX_QUEUE_URL` (Lambda): the SQS FIFO queue whose messages wake the `deliver` function.
    pub queue_url: Option<String>,
}

/// What one client may hold of the local server before it is authenticated: a connection that sends nothing,
/// sends its headers or body a byte at a time, or never closes is cut, so that a few such clients cannot hold
/// every connection the server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalServerLimits {
    /// `LOCAL_HEADER_TIMEOUT_MS`: a request's headers must be complete within this of the connection opening
    /// or of its previous answer, so it is also how long a kept-alive connection may sit idle.
    pub header_timeout: Duration,
    /// `LOCAL_BODY_IDLE_TIMEOUT_MS`: the longest pause between two pieces of a request body.
    pub body_idle_timeout: Duration,
    /// `LOCAL_REQUEST_TIMEOUT_MS`: reading a request's body and answering it (longer than the deadline).
    pub request_timeout: Duration,
    /// `LOCAL_WRITE_TIMEOUT_MS`: the longest an answer may wait for the client to read it; a connection whose
    /// client does not read (pipelined requests whose answers pile up) is closed rather than held.
    pub write_timeout: Duration,
    /// `LOCAL_MAX_CONNECTIONS`: connections served at once; more are closed as they arrive.
    pub max_connections: usize,
    /// `LOCAL_MAX_CONNECTIONS_PER_PEER` (a quarter of `LOCAL_MAX_CONNECTIONS`): connections one client
    /// address may hold, so that one client cannot take every slot; the global cap when `LOCAL_TRUSTED_PROXY`
    /// says every connection comes from a proxy.
    pub max_connections_per_peer: usize,
    /// `LOCAL_OUTBOX_POLL_MS` (1000): how often the outbox worker looks for messages due; 0 runs no worker.
    pub outbox_poll: Duration,
}

impl Settings {
    /// Reads every setting from `env` for the given host.
    pub fn from_env(env: &Env, host: Host) -> Result<Self, ConfigError> {
        parse::settings(env, host)
    }

    /// What the agency policy leaves open, in words for the start-up log and the status page. The open
    /// default suits a first run; production should name its agencies and partners (docs/deploy.md).
    pub fn open_policy_warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.ncip.allowed_agencies.is_none() {
            warnings.push("NCIP_ALLOWED_AGENCIES is not set: messages from every FromAgencyId are served");
        }
        if self.ncip.default_partner_code.is_none() && self.ncip.agency_partners.is_empty() {
            warnings.push(
                "neither ALMA_PARTNER_CODE nor NCIP_AGENCY_PARTNERS is set: the Alma partner is whatever \
                 ApplicationProfileType the caller sends",
            );
        }
        warnings
    }

    /// The partner code Alma should see for a message from `from_agency`.
    pub fn partner_code_for(&self, from_agency: Option<&str>) -> Option<&str> {
        from_agency
            .and_then(|agency| self.ncip.agency_partners.get(agency))
            .or(self.ncip.default_partner_code.as_ref())
            .map(String::as_str)
    }

    /// The store's settings derived from the bridge's.
    pub fn store_config(&self) -> crate::store::StoreConfig {
        let mut config = crate::store::StoreConfig::default();
        config.retention = self.retention;
        config
    }
}
