//! Secrets from SSM Parameter Store, read at a cold start and again every `SECRETS_REFRESH_SECONDS`
//! ([`super::refresh`]), so that a rotated secret reaches running instances without a deploy.
//!
//! For each secret variable `X`, a variable `X_PARAMETER` may name a SecureString parameter instead of holding
//! the value (CloudFormation cannot create SecureStrings, so they are made out of band: docs/deploy.md). All of
//! them are read in one `GetParameters` call with decryption; values go straight into the environment map and
//! are never logged.

use crate::config::{ConfigError, Env};

/// The secrets: they come from SSM only, never as a plain variable of the template.
pub const SECRET_VARIABLES: [&str; 9] = [
    "ALMA_API_KEY",
    "NCIP_SHARED_SECRET",
    "NCIP_SHARED_SECRET_PREVIOUS",
    "STATUS_TOKEN",
    "STATUS_TOKEN_PREVIOUS",
    "STAFF_ACTION_TOKEN",
    "STAFF_ACTION_TOKEN_PREVIOUS",
    "LOG_HASH_KEY",
    "RELAIS_PUBLIC_KEY",
];

/// The previous values of a rotation: their parameters exist only while a rotation is under way, so a
/// missing one is no error (the variable stays unset) and a deleted one is dropped at the next read.
pub const ROTATION_VARIABLES: [&str; 3] =
    ["NCIP_SHARED_SECRET_PREVIOUS", "STATUS_TOKEN_PREVIOUS", "STAFF_ACTION_TOKEN_PREVIOUS"];

/// Public values that may outgrow Lambda's 4 KB of environment (a JWKS of several keys), so they may come
/// from SSM as well as plainly.
pub const LARGE_VARIABLES: [&str; 1] = ["JWT_VERIFICATION_KEY"];

/// Every variable a `*_PARAMETER` may fill from SSM.
fn from_ssm() -> impl Iterator<Item = &'static str> {
    SECRET_VARIABLES.into_iter().chain(LARGE_VARIABLES)
}

/// Whether any secret comes from SSM (and so may change while the function runs).
pub fn any_from_ssm(env: &Env) -> bool {
    from_ssm().any(|var| env.get(var).is_none() && env.get(&format!("{var}_PARAMETER")).is_some())
}

/// Sets each variable that a `*_PARAMETER` names to the parameter's current value.
pub async fn resolve(env: &mut Env, aws: &aws_types::SdkConfig) -> Result<(), ConfigError> {
    let wanted: Vec<(&'static str, String)> = from_ssm()
        .filter(|var| env.get(var).is_none())
        .filter_map(|var| {
            let parameter_var = format!("{var}_PARAMETER");
            env.get(&parameter_var).map(|name| (var, name.to_owned()))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let client = aws_sdk_ssm::Client::new(aws);
    let names: Vec<String> = wanted.iter().map(|(_, name)| name.clone()).collect();
    let answer = client.get_parameters().set_names(Some(names)).with_decryption(true).send().await.map_err(|err| {
        ConfigError::new(
            wanted[0].0,
            format!("could not read SSM parameters ({})", aws_sdk_ssm::error::DisplayErrorContext(&err)),
        )
    })?;
    for (var, name) in &wanted {
        let value = answer
            .parameters()
            .iter()
            .find(|p| {
                p.name() == Some(name.as_str())
                    || p.name().map(|n| n.trim_start_matches('/')) == Some(name.trim_start_matches('/'))
            })
            .and_then(|p| p.value());
        match value {
            Some(value) => env.set(*var, value),
            None if ROTATION_VARIABLES.contains(var) => {}
            None => return Err(ConfigError::new(var, format!("SSM parameter {name} was not found or is empty"))),
        }
    }
    Ok(())
}
