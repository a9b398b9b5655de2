//! Running one function on AWS Lambda: read settings (secrets from SSM, read again every
//! `SECRETS_REFRESH_SECONDS`: [`refresh`]), open DynamoDB, build the Alma clients, and serve `lambda_http`
//! events through the function's own routes until the runtime stops the process (the runtime's `http-axum`
//! pattern); the deliver function serves its SQS and schedule events instead. What a function runs is fixed
//! by the [`Entry`] its `main` names, so each binary links only its own flow and AWS clients.
//!
//! Start-up does configuration parsing and client construction only; the first TLS handshake happens on
//! first use, so a cold start costs no more than the work every request needs anyway. The one network call at
//! start-up is the SSM read of secrets, and only when a `*_PARAMETER` variable asks for it.

pub mod aws;
pub mod deliver;
pub mod entry;
pub mod events;
pub mod invoke;
pub mod no_store;
pub mod reconcile;
pub mod refresh;
pub mod secrets;
pub mod settings;

use crate::app::{AlmaClients, Parts};
use crate::config::{AlmaTarget, ConfigError, Env, Host, PatronIdentity, Settings, StoreTarget};
use crate::flows::Bridge;
use crate::function::Function;
use crate::store::Store;
pub use entry::{Entry, Serve};
use std::process::ExitCode;
use std::sync::Arc;

/// The `main` of every function crate: `bridge::lambda::run(bridge::lambda::entry::ACCEPT_ITEM)`.
pub fn run(entry: Entry) -> ExitCode {
    crate::logging::init(true);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "could not start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let function = entry.function;
        let env = Env::from_process();
        // One HTTPS client (one parse of the CA roots, one connection pool) for Alma and every AWS client.
        let http = crate::alma::https_client();
        let started = match aws::sdk_config(&env, http.clone()) {
            Ok(aws) => refresh::Refreshing::start(entry, env, aws, http).await,
            Err(err) => Err(err),
        };
        let refreshing = match started {
            Ok(refreshing) => Arc::new(refreshing),
            Err(err) => {
                // One clear line naming the setting; the Lambda runtime reports the exit as an init error.
                tracing::error!(function = function.name(), error = %err, "start-up failed");
                return ExitCode::FAILURE;
            }
        };
        // Through the entry's own loop: an HTTP function's binary then holds no event loop, the deliverer's no
        // HTTP loop.
        let served = (entry.runs)(refreshing).await;
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!(error = %err, "Lambda runtime loop ended");
                ExitCode::FAILURE
            }
        }
    })
}

/// Builds the bridge a Lambda function needs from its environment, secrets already resolved: DynamoDB, the
/// Alma clients over `http`, and the AWS clients its entry names.
pub fn build(
    entry: Entry,
    env: &Env,
    aws: &aws_types::SdkConfig,
    http: &reqwest::Client,
    clock: Arc<dyn crate::clock::Clock>,
) -> Result<Bridge, ConfigError> {
    let function = entry.function;
    let settings = Settings::from_env(env, Host::Lambda)?;
    // The log filter comes with the deployed settings, so that an on-call engineer's LogFilter reaches the
    // running functions with the next refresh, not with the next cold start.
    crate::logging::apply_filter(env.get("RUST_LOG"));
    check_requirements(function, &settings)?;
    if function == Function::NcipFrontDoor {
        for warning in settings.open_policy_warnings() {
            tracing::warn!(warning, "open agency policy");
        }
    }
    let store: Arc<dyn Store> = match (entry.store, &settings.store) {
        (Some(open), StoreTarget::DynamoDb { table }) => open(aws, table.clone(), settings.store_config()),
        (None, _) => Arc::new(no_store::NoStore),
        (Some(_), StoreTarget::Embedded { .. }) => unreachable!("Host::Lambda always selects DynamoDB"),
    };
    let alma = match (entry.alma, &settings.alma) {
        (Some(clients), AlmaTarget::Remote(remote)) => clients(&settings, remote, http.clone())?,
        _ => AlmaClients::unconfigured(),
    };
    let mut parts = Parts::bare(settings.clone(), alma, store);
    parts.clock = clock;
    if let Some(identity) = entry.patron_identity {
        parts.identity = identity(&settings, http)?;
    }
    if let Some(invoker) = entry.invoker {
        parts.invoker = Some(invoker(aws, settings.function_names.clone()));
    }
    if let (Some(doorbell), Some(queue_url)) = (entry.doorbell, &settings.outbox.queue_url) {
        parts.doorbell = Some(doorbell(aws, queue_url.clone()));
    }
    if let (Some(trigger), Some(function)) = (entry.reconcile_trigger, &settings.reconcile.function_name) {
        parts.reconcile_trigger = Some(trigger(aws, function.clone()));
    }
    Bridge::new(parts)
}

/// Each function is given only the settings it uses (least privilege); this names what one lacks.
pub fn check_requirements(function: Function, settings: &Settings) -> Result<(), ConfigError> {
    let needs_alma = function.service().is_some() || matches!(function, Function::Deliver | Function::Reconcile);
    if needs_alma && matches!(settings.alma, AlmaTarget::Unconfigured) {
        return Err(ConfigError::new("ALMA_API_BASE", format!("is required by the {} function", function.name())));
    }
    if function == Function::NcipFrontDoor {
        // A production front door that serves every FromAgencyId, with whatever partner code the caller
        // writes, is one forgotten setting away from serving anyone who holds the token: it does not start
        // unless the open policy is chosen in so many words.
        if let Some(open) = settings.open_policy_warnings().first()
            && !settings.ncip.allow_any_agency
        {
            return Err(ConfigError::new(
                "NCIP_ALLOWED_AGENCIES",
                format!(
                    "the ncip function does not start with an open agency policy ({open}); set the stack's \
                     NcipAllowedAgencies and AlmaPartnerCode or NcipAgencyPartners, or AllowAnyAgency=true"
                ),
            ));
        }
        // The front door reaches each service only through its function (its binary holds no flow).
        let missing = Function::services().find(|service| !settings.function_names.contains_key(service));
        if let Some(variable) = missing.and_then(Function::invoke_variable) {
            return Err(ConfigError::new(variable, "is required by the ncip function (the function it invokes)"));
        }
    }
    let names_patrons =
        matches!(settings.openurl.patron_identity, PatronIdentity::Jwt { .. } | PatronIdentity::Oidc(_));
    match function {
        Function::NcipFrontDoor if settings.ncip_secret.expose().is_empty() => Err(ConfigError::new(
            "NCIP_SHARED_SECRET",
            "is required by the ncip function (or NCIP_SHARED_SECRET_PARAMETER)",
        )),
        Function::RequestStatus if settings.status_token.expose().is_empty() => Err(ConfigError::new(
            "STATUS_TOKEN",
            "is required by the request-status function (or STATUS_TOKEN_PARAMETER)",
        )),
        // Without it every staff action would be refused, silently.
        Function::RequestStatus if settings.staff_token.expose().is_empty() => Err(ConfigError::new(
            "STAFF_ACTION_TOKEN",
            "is required by the request-status function (or STAFF_ACTION_TOKEN_PARAMETER)",
        )),
        Function::OpenUrlRedirect if settings.openurl.form_url.is_none() => {
            Err(ConfigError::new("RELAIS_FORM_URL", "is required by the openurl-redirect function"))
        }
        // A signed-in patron is sent to Relais under the id LookupUser answers, which only Alma can tell.
        Function::OpenUrlRedirect if names_patrons && matches!(settings.alma, AlmaTarget::Unconfigured) => Err(
            ConfigError::new("ALMA_API_BASE", "is required by the openurl-redirect function with PATRON_IDENTITY=jwt"),
        ),
        // Without a partner or a type the link's patron would be keyed by the primary id while LookupUser, told
        // the partner by Relais's FromAgencyId, may answer a barcode: one patron, two ids in Relais.
        Function::OpenUrlRedirect
            if names_patrons
                && settings.ncip.user_id_type.is_none()
                && crate::flows::openurl::link_partner(settings).is_none() =>
        {
            Err(ConfigError::new(
                "ALMA_PARTNER_CODE",
                "or ALMA_USER_ID_TYPE is required by the openurl-redirect function with PATRON_IDENTITY=jwt: a \
                 link names no partner, and NCIP_AGENCY_PARTNERS does not name exactly one",
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hand_off(extra: &[(&'static str, &'static str)]) -> Result<(), ConfigError> {
        let mut pairs = vec![
            ("DYNAMODB_TABLE", "bridge"),
            ("RELAIS_FORM_URL", "https://relais.example.org/user/login.html"),
            ("RELAIS_LIBRARY_SYMBOL", "DEMO"),
            ("PATRON_IDENTITY", "jwt"),
            ("JWT_ISSUER", "https://idp.example.edu/realms/library"),
            ("JWT_AUDIENCE", "alma-relais-bridge"),
            ("JWT_VERIFICATION_KEY", "read by the identity, not here"),
        ];
        pairs.extend_from_slice(extra);
        let settings = Settings::from_env(&Env::from_pairs(pairs), Host::Lambda).expect("valid settings");
        check_requirements(Function::OpenUrlRedirect, &settings)
    }

    const ALMA: [(&str, &str); 4] = [
        ("ALMA_API_BASE", "eu"),
        ("ALMA_API_KEY", "k"),
        ("ALMA_NCIP_URL", "https://eu.alma.exlibrisgroup.com/view/NCIPServlet"),
        ("ALMA_INSTITUTION_CODE", "01UNI_INST"),
    ];

    #[test]
    fn a_hand_off_that_names_patrons_needs_alma_and_one_user_identifier_type() {
        assert_eq!(hand_off(&[]).unwrap_err().variable, "ALMA_API_BASE");
        assert_eq!(hand_off(&ALMA).unwrap_err().variable, "ALMA_PARTNER_CODE");
        let two_partners = [ALMA.as_slice(), &[("NCIP_AGENCY_PARTNERS", "A=RELAIS,B=OTHER")]].concat();
        assert_eq!(hand_off(&two_partners).unwrap_err().variable, "ALMA_PARTNER_CODE");
        for enough in
            [("ALMA_PARTNER_CODE", "RELAIS"), ("ALMA_USER_ID_TYPE", "BARCODE"), ("NCIP_AGENCY_PARTNERS", "A=RELAIS")]
        {
            let settings = [ALMA.as_slice(), &[enough]].concat();
            assert!(hand_off(&settings).is_ok(), "{enough:?}");
        }
    }

    fn front_door(extra: &[(&'static str, &'static str)]) -> Result<(), ConfigError> {
        let mut pairs = vec![("DYNAMODB_TABLE", "bridge"), ("NCIP_SHARED_SECRET", "a-token-of-sixteen-chars")];
        let names: Vec<(&str, &str)> =
            Function::services().filter_map(|f| f.invoke_variable().map(|v| (v, f.name()))).collect();
        pairs.extend(names);
        pairs.extend_from_slice(extra);
        let settings = Settings::from_env(&Env::from_pairs(pairs), Host::Lambda).expect("valid settings");
        check_requirements(Function::NcipFrontDoor, &settings)
    }

    #[test]
    fn the_front_door_on_aws_does_not_start_with_an_open_agency_policy_unless_told_to() {
        let refused = front_door(&[]).unwrap_err();
        assert_eq!(refused.variable, "NCIP_ALLOWED_AGENCIES");
        assert!(refused.problem.contains("AllowAnyAgency=true"), "{refused}");
        // An allow-list alone still takes the partner code from the caller; a partner code alone serves anyone.
        assert!(front_door(&[("NCIP_ALLOWED_AGENCIES", "Relais")]).is_err());
        assert!(front_door(&[("ALMA_PARTNER_CODE", "RELAIS")]).is_err());
        assert_eq!(front_door(&[("NCIP_ALLOWED_AGENCIES", "Relais"), ("ALMA_PARTNER_CODE", "RELAIS")]), Ok(()));
        assert_eq!(
            front_door(&[("NCIP_ALLOWED_AGENCIES", "Relais"), ("NCIP_AGENCY_PARTNERS", "Relais=RELAIS")]),
            Ok(())
        );
        assert_eq!(front_door(&[("NCIP_ALLOW_ANY_AGENCY", "true")]), Ok(()));
        assert!(front_door(&[("NCIP_ALLOW_ANY_AGENCY", "false")]).is_err());
    }
}
