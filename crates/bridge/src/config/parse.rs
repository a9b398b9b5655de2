//! Turning environment variables into [`Settings`], one variable at a time, each with a precise error.

use super::{
    AlmaRemote, AlmaTarget, ConfigError, Host, LocalServerLimits, NcipPolicy, OidcSettings, OpenUrlSettings,
    OutboxSettings, PatronClaim, PatronIdentity, PatronPolicy, PinLockout, Secret, Settings, StoreTarget,
};
use crate::function::Function;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The environment as a map, so tests (and the SSM secret loader) can supply or add variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// The process's own environment, as the hosts read it at start-up.
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    /// An environment holding just `pairs`, for tests and harnesses that must not depend on the shell's.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    /// Sets one variable, replacing any value it had (a secret loaded from SSM overrides the template's).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// A variable's value; empty or blank counts as unset (template parameters default to "").
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// Every variable's name, set or blank, for settings known only by a prefix (`AWS_ENDPOINT_URL*`).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

pub(super) fn settings(env: &Env, host: Host) -> Result<Settings, ConfigError> {
    let listen = socket_addr(env, "BRIDGE_LISTEN", "127.0.0.1:3000")?;
    let deadline = Duration::from_millis(u64::from(number(env, "BRIDGE_DEADLINE_MS", 20_000, 1_000..=28_000)?));
    let status_token = secret(env, host, "STATUS_TOKEN")?;
    let status_previous_token = match env.get("STATUS_TOKEN_PREVIOUS") {
        Some(_) => secret(env, host, "STATUS_TOKEN_PREVIOUS")?,
        None => Secret::new(""),
    };
    let staff_token = secret(env, host, "STAFF_ACTION_TOKEN")?;
    let staff_previous_token = match env.get("STAFF_ACTION_TOKEN_PREVIOUS") {
        Some(_) => secret(env, host, "STAFF_ACTION_TOKEN_PREVIOUS")?,
        None => Secret::new(""),
    };
    // The same value in both would let every holder of the read-only token re-drive and discard.
    for (var, staff) in [("STAFF_ACTION_TOKEN", &staff_token), ("STAFF_ACTION_TOKEN_PREVIOUS", &staff_previous_token)] {
        for status in [&status_token, &status_previous_token] {
            if !staff.expose().is_empty() && staff == status {
                return Err(ConfigError::new(var, "must differ from STATUS_TOKEN (the status token is read-only)"));
            }
        }
    }
    Ok(Settings {
        host,
        listen,
        alma: alma_target(env, host)?,
        alma_calls_per_second: number(env, "ALMA_MAX_CALLS_PER_SECOND", 25, 1..=1000)?,
        store: store_target(env, host)?,
        ncip_secret: secret(env, host, "NCIP_SHARED_SECRET")?,
        ncip_previous_secret: match env.get("NCIP_SHARED_SECRET_PREVIOUS") {
            Some(_) => secret(env, host, "NCIP_SHARED_SECRET_PREVIOUS")?,
            None => Secret::new(""),
        },
        status_token,
        status_previous_token,
        staff_token,
        staff_previous_token,
        log_hash_key: env.get("LOG_HASH_KEY").map(Secret::new).unwrap_or_else(Secret::random),
        ncip: ncip_policy(env)?,
        patron: patron_policy(env)?,
        openurl: openurl_settings(env, host)?,
        retention: Duration::from_secs(86_400 * u64::from(number(env, "HISTORY_RETENTION_DAYS", 400, 1..=3650)?)),
        deadline,
        function_names: Function::services()
            .filter_map(|f| Some((f, env.get(f.invoke_variable()?)?.to_owned())))
            .collect(),
        local: local_limits(env, deadline)?,
        outbox: OutboxSettings {
            enabled: match env.get("OUTBOX") {
                None => true,
                Some(_) => flag(env, "OUTBOX")?,
            },
            max_age: Duration::from_secs(3_600 * u64::from(number(env, "OUTBOX_MAX_AGE_HOURS", 72, 1..=24 * 30)?)),
            park_after_attempts: number(env, "OUTBOX_PARK_AFTER_ATTEMPTS", 5, 1..=100)?,
            limits: crate::store::QueueLimits {
                per_request: number(env, "OUTBOX_MAX_OPEN_PER_REQUEST", 10, 1..=1_000)?,
                total: number(env, "OUTBOX_MAX_OPEN", 5_000, 1..=100_000)?,
            },
            queue_url: env.get("OUTBOX_QUEUE_URL").map(str::to_owned),
        },
        reconcile: reconcile_settings(env)?,
        secrets_refresh: Duration::from_secs(number(env, "SECRETS_REFRESH_SECONDS", 300, 1..=86_400)?.into()),
    })
}

fn reconcile_settings(env: &Env) -> Result<super::ReconcileSettings, ConfigError> {
    let local_time = match env.get("RECONCILE_LOCAL_TIME").map(str::trim) {
        None | Some("") => Some(jiff::civil::time(2, 30, 0, 0)),
        Some(off) if off.eq_ignore_ascii_case("off") => None,
        Some(at) => Some(at.parse::<jiff::civil::Time>().map_err(|_| {
            ConfigError::new("RECONCILE_LOCAL_TIME", format!("not a time of day like 02:30, or off (got {at:?})"))
        })?),
    };
    Ok(super::ReconcileSettings {
        call_budget: number(env, "RECONCILE_CALL_BUDGET", 1_000, 10..=100_000)?,
        max_run: Duration::from_secs(60 * u64::from(number(env, "RECONCILE_MAX_MINUTES", 12, 1..=14)?)),
        local_time,
        function_name: env.get("RECONCILE_FUNCTION").map(str::to_owned).filter(|f| !f.trim().is_empty()),
    })
}

fn local_limits(env: &Env, deadline: Duration) -> Result<LocalServerLimits, ConfigError> {
    let millis = |var, default, range| number(env, var, default, range).map(|ms| Duration::from_millis(ms.into()));
    let request_timeout = millis("LOCAL_REQUEST_TIMEOUT_MS", 30_000, 1_000..=300_000)?;
    // Cutting a request before its deadline would drop answers Alma already acted on.
    if request_timeout <= deadline {
        return Err(ConfigError::new("LOCAL_REQUEST_TIMEOUT_MS", "must be longer than BRIDGE_DEADLINE_MS"));
    }
    let max_connections = number(env, "LOCAL_MAX_CONNECTIONS", 256, 1..=65_536)? as usize;
    // Behind a proxy every connection comes from the proxy's address: a per-peer cap would then be the global
    // one, so it is off (the proxy must keep its own clients fair: docs/operations.md).
    let behind_proxy = flag(env, "LOCAL_TRUSTED_PROXY")?;
    let default_per_peer = (max_connections / 4).max(1) as u32;
    let per_peer = number(env, "LOCAL_MAX_CONNECTIONS_PER_PEER", default_per_peer, 1..=65_536)? as usize;
    Ok(LocalServerLimits {
        header_timeout: millis("LOCAL_HEADER_TIMEOUT_MS", 10_000, 100..=120_000)?,
        body_idle_timeout: millis("LOCAL_BODY_IDLE_TIMEOUT_MS", 5_000, 100..=120_000)?,
        request_timeout,
        write_timeout: millis("LOCAL_WRITE_TIMEOUT_MS", 10_000, 100..=120_000)?,
        max_connections,
        max_connections_per_peer: if behind_proxy { max_connections } else { per_peer.min(max_connections) },
        outbox_poll: millis("LOCAL_OUTBOX_POLL_MS", 1_000, 0..=60_000)?,
    })
}

fn socket_addr(env: &Env, var: &'static str, default: &str) -> Result<SocketAddr, ConfigError> {
    let raw = env.get(var).unwrap_or(default);
    raw.parse().map_err(|_| ConfigError::new(var, format!("not a host:port socket address (got {raw:?})")))
}

fn number(
    env: &Env,
    var: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(raw) = env.get(var) else { return Ok(default) };
    let value: u32 = raw.parse().map_err(|_| ConfigError::new(var, format!("not a whole number (got {raw:?})")))?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::new(var, format!("must be between {} and {} (got {value})", range.start(), range.end())))
    }
}

/// `RELAIS_PUBLIC_KEY` as `USE_RELAIS_PUBLIC_KEY` says. On Lambda the key's parameter is always read when it
/// exists, and the deployed `UseRelaisPublicKey` decides: `false` ignores a key left in SSM, `true` requires
/// one. Unset (the local server), the key is used when there is one.
fn relais_public_key(env: &Env) -> Result<Option<String>, ConfigError> {
    let key = env.get("RELAIS_PUBLIC_KEY").map(str::to_owned);
    if env.get("USE_RELAIS_PUBLIC_KEY").is_none() {
        return Ok(key);
    }
    if !flag(env, "USE_RELAIS_PUBLIC_KEY")? {
        return Ok(None);
    }
    let missing = "UseRelaisPublicKey is true, but the SSM parameter relais-public-key was not found or is empty";
    key.map(Some).ok_or_else(|| ConfigError::new("RELAIS_PUBLIC_KEY", missing))
}

fn flag(env: &Env, var: &'static str) -> Result<bool, ConfigError> {
    match env.get(var).map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(ConfigError::new(var, format!("expected true or false (got {other:?})"))),
    }
}

fn secret(env: &Env, host: Host, var: &'static str) -> Result<Secret, ConfigError> {
    match (env.get(var), host) {
        (Some(value), _) if value.len() < 16 => {
            Err(ConfigError::new(var, "too short: use at least 16 random characters"))
        }
        (Some(value), _) => Ok(Secret::new(value)),
        // Locally a random token is made and printed at start-up (see `local`).
        (None, Host::Local) => Ok(Secret::random()),
        // Each Lambda function is given only the secrets it uses; `lambda::check_requirements` names the
        // missing one for a function that needs it.
        (None, Host::Lambda) => Ok(Secret::new("")),
    }
}

/// Alma's regional API hosts (developers.exlibrisgroup.com, "API gateway"), so `ALMA_API_BASE=eu` works.
fn expand_region(raw: &str) -> Option<String> {
    let host = match raw {
        "na" | "eu" | "ap" | "aps" | "ca" => format!("api-{raw}.hosted.exlibrisgroup.com"),
        "cn" => "api-cn.hosted.exlibrisgroup.com.cn".to_owned(),
        _ => return None,
    };
    Some(format!("https://{host}/almaws/v1"))
}

/// TLS only in production: plain http is accepted for loopback hosts (the simulator, test harnesses) alone.
pub(crate) fn checked_url(var: &'static str, raw: &str) -> Result<String, ConfigError> {
    let parsed = reqwest::Url::parse(raw).map_err(|e| ConfigError::new(var, format!("not a URL ({e})")))?;
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(ConfigError::new(var, "must be an https:// URL (http is allowed for loopback only)")),
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn alma_target(env: &Env, host: Host) -> Result<AlmaTarget, ConfigError> {
    let Some(base) = env.get("ALMA_API_BASE") else {
        return match host {
            Host::Local => Ok(AlmaTarget::Simulator {
                seed: env.get("ALMA_SIM_SEED").map(PathBuf::from),
                listen: socket_addr(env, "ALMA_SIM_LISTEN", "127.0.0.1:0")?,
            }),
            Host::Lambda => Ok(AlmaTarget::Unconfigured),
        };
    };
    let api_base = match expand_region(base) {
        Some(url) => url,
        None => checked_url("ALMA_API_BASE", base)?,
    };
    let required =
        |var: &'static str| env.get(var).ok_or_else(|| ConfigError::new(var, "is required when ALMA_API_BASE is set"));
    let api_key = Secret::new(required("ALMA_API_KEY")?);
    let ncip_url = checked_url("ALMA_NCIP_URL", required("ALMA_NCIP_URL")?)?;
    let institution_code = required("ALMA_INSTITUTION_CODE")?.to_owned();
    Ok(AlmaTarget::Remote(AlmaRemote { api_base, api_key, ncip_url, institution_code }))
}

fn store_target(env: &Env, host: Host) -> Result<StoreTarget, ConfigError> {
    match (env.get("DYNAMODB_TABLE"), host) {
        (Some(table), _) => Ok(StoreTarget::DynamoDb { table: table.to_owned() }),
        (None, Host::Local) => {
            Ok(StoreTarget::Embedded { data_dir: PathBuf::from(env.get("BRIDGE_DATA_DIR").unwrap_or("./data")) })
        }
        (None, Host::Lambda) => Err(ConfigError::new("DYNAMODB_TABLE", "is required on Lambda")),
    }
}

/// `A=x,B=y` into a map; keys and values are case-sensitive (Alma partner codes are).
fn pairs(env: &Env, var: &'static str) -> Result<BTreeMap<String, String>, ConfigError> {
    let Some(raw) = env.get(var) else { return Ok(BTreeMap::new()) };
    raw.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                Ok((k.trim().to_owned(), v.trim().to_owned()))
            }
            _ => Err(ConfigError::new(var, format!("expected KEY=VALUE pairs separated by commas (got {part:?})"))),
        })
        .collect()
}

fn list(env: &Env, var: &'static str) -> Option<Vec<String>> {
    env.get(var).map(|raw| raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
}

fn ncip_policy(env: &Env) -> Result<NcipPolicy, ConfigError> {
    let time_zone = match env.get("LIBRARY_TIME_ZONE") {
        None => jiff::tz::TimeZone::UTC,
        Some(name) => jiff::tz::TimeZone::get(name)
            .map_err(|_| ConfigError::new("LIBRARY_TIME_ZONE", format!("not an IANA time zone name (got {name:?})")))?,
    };
    Ok(NcipPolicy {
        default_partner_code: env.get("ALMA_PARTNER_CODE").map(str::to_owned),
        user_id_type: env.get("ALMA_USER_ID_TYPE").map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned),
        agency_partners: pairs(env, "NCIP_AGENCY_PARTNERS")?,
        allowed_agencies: list(env, "NCIP_ALLOWED_AGENCIES"),
        allow_any_agency: flag(env, "NCIP_ALLOW_ANY_AGENCY")?,
        time_zone,
        rewrite_id_agencies: match env.get("NCIP_REWRITE_ID_AGENCIES") {
            None => true,
            Some(_) => flag(env, "NCIP_REWRITE_ID_AGENCIES")?,
        },
    })
}

fn patron_policy(env: &Env) -> Result<PatronPolicy, ConfigError> {
    let answer = |var: &'static str| match env.get(var).map(str::to_ascii_lowercase).as_deref() {
        None | Some("status") => Ok(false),
        Some("problem") => Ok(true),
        Some(other) => Err(ConfigError::new(var, format!("expected status or problem (got {other:?})"))),
    };
    Ok(PatronPolicy {
        id_type: env.get("PATRON_ID_TYPE").unwrap_or("all_unique").to_owned(),
        group_map: pairs(env, "PATRON_GROUP_MAP")?,
        ill_groups: list(env, "PATRON_ILL_GROUPS"),
        ineligible_as_problem: answer("PATRON_INELIGIBLE_ANSWER")?,
        blocked_as_problem: answer("PATRON_BLOCKED_ANSWER")?,
        auth_required: flag(env, "PATRON_AUTH_REQUIRED")?,
        allow_loans: flag(env, "PATRON_ALLOW_LOANS")?,
        lockout: PinLockout {
            patron_failures: number(env, "PATRON_LOCKOUT_FAILURES", 5, 0..=100)?,
            agency_failures: number(env, "PATRON_LOCKOUT_AGENCY_FAILURES", 50, 0..=100_000)?,
            period: Duration::from_secs(60 * u64::from(number(env, "PATRON_LOCKOUT_MINUTES", 15, 1..=1440)?)),
        },
        remember_for: Duration::from_secs(24 * 3600 * u64::from(number(env, "PATRON_REMEMBER_DAYS", 30, 0..=3650)?)),
    })
}

/// Where the local server sends OpenURL patrons when no Relais is configured: a reserved example domain, so a
/// demo redirect shows its shape without reaching anyone's Relais.
const LOCAL_DEMO_RELAIS_FORM: &str = "https://relais.example.org/user/login.html";

fn openurl_settings(env: &Env, host: Host) -> Result<OpenUrlSettings, ConfigError> {
    let mut form_url = env.get("RELAIS_FORM_URL").map(|raw| checked_url("RELAIS_FORM_URL", raw)).transpose()?;
    let mut library_symbol = env.get("RELAIS_LIBRARY_SYMBOL").map(str::to_owned);
    if host == Host::Local && form_url.is_none() {
        form_url = Some(LOCAL_DEMO_RELAIS_FORM.to_owned());
        library_symbol = library_symbol.or(Some("DEMO".to_owned()));
    }
    let patron_identity = match env.get("PATRON_IDENTITY").map(str::to_ascii_lowercase).as_deref() {
        None | Some("none") => PatronIdentity::None,
        Some("jwt") => {
            let required = |var: &'static str| {
                env.get(var)
                    .map(str::to_owned)
                    .ok_or_else(|| ConfigError::new(var, "is required when PATRON_IDENTITY=jwt"))
            };
            PatronIdentity::Jwt {
                issuer: required("JWT_ISSUER")?,
                audience: required("JWT_AUDIENCE")?,
                verification_key: required("JWT_VERIFICATION_KEY")?,
                relais_public_key: relais_public_key(env)?,
                token_parameter: env.get("JWT_PARAMETER").unwrap_or("token").to_owned(),
            }
        }
        Some("oidc") => PatronIdentity::Oidc(Box::new(oidc_settings(env, host)?)),
        Some(other) => {
            return Err(ConfigError::new("PATRON_IDENTITY", format!("expected none, jwt or oidc (got {other:?})")));
        }
    };
    Ok(OpenUrlSettings { form_url, library_symbol, patron_identity })
}

/// The sign-in's settings (`PATRON_IDENTITY=oidc`). The cookie secret is made at random locally, like the
/// other secrets; on Lambda it comes from SSM and the function does not start without it.
fn oidc_settings(env: &Env, host: Host) -> Result<OidcSettings, ConfigError> {
    let required = |var: &'static str| {
        env.get(var).map(str::to_owned).ok_or_else(|| ConfigError::new(var, "is required when PATRON_IDENTITY=oidc"))
    };
    let claim = match env.get("OIDC_PATRON_CLAIM").map(str::to_ascii_lowercase).as_deref() {
        None | Some("email") => PatronClaim::Email,
        Some("eppn") => PatronClaim::Eppn,
        Some("sub") => PatronClaim::Sub,
        Some("preferred_username") => PatronClaim::PreferredUsername,
        Some(other) => {
            return Err(ConfigError::new(
                "OIDC_PATRON_CLAIM",
                format!("expected email, eppn, sub or preferred_username (got {other:?})"),
            ));
        }
    };
    let cookie_secret = match (env.get("SIGN_IN_COOKIE_SECRET"), host) {
        (Some(value), _) if value.len() < 32 => {
            return Err(ConfigError::new("SIGN_IN_COOKIE_SECRET", "too short: use at least 32 random characters"));
        }
        (Some(value), _) => Secret::new(value),
        (None, Host::Local) => Secret::random(),
        (None, Host::Lambda) => {
            return Err(ConfigError::new(
                "SIGN_IN_COOKIE_SECRET",
                "is required when PATRON_IDENTITY=oidc (or SIGN_IN_COOKIE_SECRET_PARAMETER)",
            ));
        }
    };
    let relais_public_key = relais_public_key(env)?;
    let plain_pi = flag(env, "RELAIS_PLAIN_PI")?;
    // Relais trusts a plain PI as it stands: it goes out in clear only when the site says so in so many words.
    if relais_public_key.is_none() && !plain_pi {
        return Err(ConfigError::new(
            "RELAIS_PUBLIC_KEY",
            "is required when PATRON_IDENTITY=oidc, unless RELAIS_PLAIN_PI=true says Relais takes a plain PI",
        ));
    }
    let minutes =
        |var, default, range| number(env, var, default, range).map(|m| Duration::from_secs(60 * u64::from(m)));
    Ok(OidcSettings {
        // Kept exactly as given: the ID token's `iss` must equal it character for character (OIDC Core
        // §3.1.3.7), trailing slash included where the provider writes one.
        issuer: {
            let issuer = required("OIDC_ISSUER")?.trim().to_owned();
            checked_url("OIDC_ISSUER", &issuer)?;
            issuer
        },
        client_id: required("OIDC_CLIENT_ID")?,
        client_secret: env.get("OIDC_CLIENT_SECRET").filter(|s| !s.is_empty()).map(Secret::new),
        redirect_url: checked_url("OIDC_REDIRECT_URL", &required("OIDC_REDIRECT_URL")?)?,
        claim,
        scopes: env.get("OIDC_SCOPES").unwrap_or("openid email profile").to_owned(),
        cookie_secret,
        cookie_secret_previous: env.get("SIGN_IN_COOKIE_SECRET_PREVIOUS").filter(|s| !s.is_empty()).map(Secret::new),
        session_max: minutes("SIGN_IN_SESSION_MINUTES", 30, 1..=30)?,
        recheck_after: minutes("SIGN_IN_RECHECK_MINUTES", 5, 1..=30)?,
        relais_public_key,
        plain_pi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployed_switch_decides_whether_a_relais_key_left_in_ssm_is_used() {
        let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().copied());
        let key = ("RELAIS_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----");
        assert_eq!(relais_public_key(&env(&[key])).unwrap().as_deref(), Some(key.1), "locally: when there is one");
        assert_eq!(relais_public_key(&env(&[key, ("USE_RELAIS_PUBLIC_KEY", "false")])).unwrap(), None);
        assert_eq!(relais_public_key(&env(&[key, ("USE_RELAIS_PUBLIC_KEY", "true")])).unwrap().as_deref(), Some(key.1));
        let missing = relais_public_key(&env(&[("USE_RELAIS_PUBLIC_KEY", "true")])).unwrap_err();
        assert_eq!(missing.variable, "RELAIS_PUBLIC_KEY");
    }

    #[test]
    fn the_sign_in_needs_its_provider_a_relais_key_or_plain_pi_and_on_lambda_its_cookie_secret() {
        let base = [
            ("PATRON_IDENTITY", "oidc"),
            ("OIDC_ISSUER", "https://idp.example.edu/"),
            ("OIDC_CLIENT_ID", "bridge"),
            ("OIDC_REDIRECT_URL", "https://bridge.example.edu/openurl/callback"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| Env::from_pairs(base.iter().chain(extra).copied());
        let no_key = oidc_settings(&with(&[]), Host::Local).unwrap_err();
        assert_eq!(no_key.variable, "RELAIS_PUBLIC_KEY", "a plain PI only when the site says so");
        let plain = oidc_settings(&with(&[("RELAIS_PLAIN_PI", "true")]), Host::Local).unwrap();
        assert_eq!(plain.issuer, "https://idp.example.edu/", "the issuer exactly as the ID token must name it");
        assert_eq!(
            (plain.claim, plain.session_max.as_secs(), plain.recheck_after.as_secs()),
            (PatronClaim::Email, 1800, 300)
        );
        assert_eq!(plain.cookie_secret.expose().len(), 43, "locally a random cookie secret");
        let lambda = oidc_settings(&with(&[("RELAIS_PLAIN_PI", "true")]), Host::Lambda).unwrap_err();
        assert_eq!(lambda.variable, "SIGN_IN_COOKIE_SECRET");
        let short =
            oidc_settings(&with(&[("RELAIS_PLAIN_PI", "true"), ("SIGN_IN_COOKIE_SECRET", "short")]), Host::Local);
        assert_eq!(short.unwrap_err().variable, "SIGN_IN_COOKIE_SECRET");
        let long = oidc_settings(&with(&[("RELAIS_PLAIN_PI", "true"), ("SIGN_IN_SESSION_MINUTES", "31")]), Host::Local);
        assert_eq!(long.unwrap_err().variable, "SIGN_IN_SESSION_MINUTES", "30 minutes at most: shared PCs");
        let claim = oidc_settings(&with(&[("RELAIS_PLAIN_PI", "true"), ("OIDC_PATRON_CLAIM", "name")]), Host::Local);
        assert_eq!(claim.unwrap_err().variable, "OIDC_PATRON_CLAIM");
        let http = oidc_settings(
            &Env::from_pairs([
                ("OIDC_ISSUER", "http://idp.example.edu"),
                ("OIDC_CLIENT_ID", "b"),
                ("RELAIS_PLAIN_PI", "true"),
            ]),
            Host::Local,
        );
        assert_eq!(http.unwrap_err().variable, "OIDC_ISSUER", "TLS to the provider, except on loopback");
    }

    #[test]
    fn local_defaults_start_the_simulator_and_the_embedded_store() {
        let settings = settings(&Env::default(), Host::Local).unwrap();
        assert!(matches!(settings.alma, AlmaTarget::Simulator { .. }));
        assert!(matches!(settings.store, StoreTarget::Embedded { .. }));
        assert_eq!(settings.listen.to_string(), "127.0.0.1:3000");
        assert!(!settings.ncip_secret.expose().is_empty());
    }

    #[test]
    fn lambda_requires_the_store_and_complete_alma_settings() {
        let err = settings(&Env::default(), Host::Lambda).unwrap_err();
        assert_eq!(err.variable, "DYNAMODB_TABLE");
        let env = Env::from_pairs([("ALMA_API_BASE", "eu"), ("DYNAMODB_TABLE", "bridge")]);
        assert_eq!(settings(&env, Host::Lambda).unwrap_err().variable, "ALMA_API_KEY");
        let env = Env::from_pairs([
            ("ALMA_API_BASE", "eu"),
            ("ALMA_API_KEY", "k"),
            ("ALMA_NCIP_URL", "https://eu.alma.exlibrisgroup.com/view/NCIPServlet"),
            ("ALMA_INSTITUTION_CODE", "01UNI_INST"),
        ]);
        assert_eq!(settings(&env, Host::Lambda).unwrap_err().variable, "DYNAMODB_TABLE");
        let mut env = env;
        env.set("DYNAMODB_TABLE", "bridge");
        let lambda = settings(&env, Host::Lambda).unwrap();
        // Not given to this function: an empty secret that matches nothing.
        assert!(!lambda.ncip_secret.matches(""));
        assert!(matches!(lambda.alma, AlmaTarget::Remote(_)));
    }

    #[test]
    fn region_names_expand_to_alma_api_hosts() {
        let env = Env::from_pairs([
            ("ALMA_API_BASE", "cn"),
            ("ALMA_API_KEY", "k"),
            ("ALMA_NCIP_URL", "https://x/view/NCIPServlet"),
            ("ALMA_INSTITUTION_CODE", "I"),
        ]);
        let AlmaTarget::Remote(remote) = settings(&env, Host::Local).unwrap().alma else { panic!("remote expected") };
        assert_eq!(remote.api_base, "https://api-cn.hosted.exlibrisgroup.com.cn/almaws/v1");
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        assert!(checked_url("ALMA_NCIP_URL", "http://alma.example.edu/view/NCIPServlet").is_err());
        assert!(checked_url("ALMA_NCIP_URL", "http://127.0.0.1:9000/view/NCIPServlet").is_ok());
        assert!(checked_url("ALMA_NCIP_URL", "ftp://alma.example.edu").is_err());
    }

    #[test]
    fn malformed_settings_name_the_variable() {
        let cases = [
            ("BRIDGE_LISTEN", "localhost"),
            ("LIBRARY_TIME_ZONE", "Mars/Olympus"),
            ("NCIP_AGENCY_PARTNERS", "RELAIS"),
            ("ALMA_MAX_CALLS_PER_SECOND", "0"),
            ("PATRON_AUTH_REQUIRED", "maybe"),
            ("NCIP_SHARED_SECRET", "short"),
            ("STAFF_ACTION_TOKEN", "short"),
            ("STAFF_ACTION_TOKEN_PREVIOUS", "short"),
            ("PATRON_LOCKOUT_FAILURES", "101"),
            ("PATRON_LOCKOUT_MINUTES", "0"),
            ("PATRON_LOCKOUT_AGENCY_FAILURES", "many"),
            ("PATRON_REMEMBER_DAYS", "3651"),
        ];
        for (var, value) in cases {
            let err = settings(&Env::from_pairs([(var, value)]), Host::Local).unwrap_err();
            assert_eq!(err.variable, var, "{err}");
        }
    }

    #[test]
    fn the_staff_token_is_made_locally_and_may_not_be_the_status_token() {
        let local = settings(&Env::default(), Host::Local).unwrap();
        assert!(!local.staff_token.expose().is_empty(), "generated for a local run");
        assert_ne!(local.staff_token, local.status_token);
        assert!(local.staff_previous_token.expose().is_empty());
        let lambda = settings(&Env::from_pairs([("DYNAMODB_TABLE", "bridge")]), Host::Lambda).unwrap();
        assert!(lambda.staff_token.expose().is_empty(), "not given to this function: matches nothing");
        let same = [("STATUS_TOKEN", "status-token-0123456789"), ("STAFF_ACTION_TOKEN", "status-token-0123456789")];
        assert_eq!(settings(&Env::from_pairs(same), Host::Local).unwrap_err().variable, "STAFF_ACTION_TOKEN");
        let previous = [
            ("STATUS_TOKEN", "status-token-0123456789"),
            ("STAFF_ACTION_TOKEN", "staff-token-0123456789"),
            ("STAFF_ACTION_TOKEN_PREVIOUS", "status-token-0123456789"),
        ];
        let err = settings(&Env::from_pairs(previous), Host::Local).unwrap_err();
        assert_eq!(err.variable, "STAFF_ACTION_TOKEN_PREVIOUS");
        let rotating =
            [("STAFF_ACTION_TOKEN", "staff-token-0123456789"), ("STAFF_ACTION_TOKEN_PREVIOUS", "old-staff-0123456789")];
        let rotating = settings(&Env::from_pairs(rotating), Host::Local).unwrap();
        assert!(rotating.staff_previous_token.matches("old-staff-0123456789"));
    }

    #[test]
    fn agency_partner_map_picks_the_code_per_agency_with_a_default() {
        let env = Env::from_pairs([
            ("ALMA_PARTNER_CODE", "RELAIS"),
            ("NCIP_AGENCY_PARTNERS", "Relais=RELAIS_D2D, ZZZ=Other"),
        ]);
        let s = settings(&env, Host::Local).unwrap();
        assert_eq!(s.partner_code_for(Some("Relais")), Some("RELAIS_D2D"));
        assert_eq!(s.partner_code_for(Some("unknown")), Some("RELAIS"));
        assert_eq!(s.partner_code_for(None), Some("RELAIS"));
    }

    #[test]
    fn identifier_agencies_are_rewritten_unless_switched_off() {
        let rewrite = |pairs: &[(&str, &str)]| settings(&Env::from_pairs(pairs.iter().copied()), Host::Local);
        assert!(rewrite(&[]).unwrap().ncip.rewrite_id_agencies);
        assert!(
            rewrite(&[("NCIP_REWRITE_ID_AGENCIES", "")]).unwrap().ncip.rewrite_id_agencies,
            "a blank template value"
        );
        assert!(!rewrite(&[("NCIP_REWRITE_ID_AGENCIES", "off")]).unwrap().ncip.rewrite_id_agencies);
        assert_eq!(rewrite(&[("NCIP_REWRITE_ID_AGENCIES", "maybe")]).unwrap_err().variable, "NCIP_REWRITE_ID_AGENCIES");
    }

    #[test]
    fn pin_lockout_defaults_to_five_per_patron_fifty_per_agency_for_fifteen_minutes() {
        let lockout = settings(&Env::default(), Host::Local).unwrap().patron.lockout;
        assert_eq!(lockout, PinLockout::default());
        assert_eq!((lockout.patron_failures, lockout.agency_failures), (5, 50));
        assert_eq!(lockout.period, Duration::from_secs(15 * 60));
        let env = Env::from_pairs([("PATRON_LOCKOUT_FAILURES", "0"), ("PATRON_LOCKOUT_MINUTES", "60")]);
        let lockout = settings(&env, Host::Local).unwrap().patron.lockout;
        assert_eq!((lockout.patron_failures, lockout.period), (0, Duration::from_secs(3600)));
    }

    #[test]
    fn an_open_agency_policy_is_warned_about_and_an_allow_list_is_not() {
        let open = settings(&Env::default(), Host::Local).unwrap();
        let warnings = open.open_policy_warnings();
        assert!(warnings.iter().any(|w| w.contains("NCIP_ALLOWED_AGENCIES")), "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("ALMA_PARTNER_CODE")), "{warnings:?}");
        let named = [("NCIP_ALLOWED_AGENCIES", "Relais"), ("ALMA_PARTNER_CODE", "RELAIS")];
        let closed = settings(&Env::from_pairs(named), Host::Local).unwrap();
        assert!(closed.open_policy_warnings().is_empty());
    }
}
