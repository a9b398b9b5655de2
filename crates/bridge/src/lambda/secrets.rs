//! Secrets from SSM Parameter Store, read at a cold start and again every `SECRETS_REFRESH_SECONDS`
//! ([`super::refresh`]), so that a rotated secret reaches running instances without a deploy.
//!
//! For each secret variable `X`, a variable `X_PARAMETER` may name a SecureString parameter instead of holding
//! the value (CloudFormation cannot create SecureStrings, so they are made out of band: docs/deploy.md). All of
//! them are read in one `GetParameters` call with decryption; values go straight into the environment map and
//! are never logged.

use super::settings::SETTINGS_PARAMETER;
use crate::config::{ConfigError, Env};

/// The secrets: they come from SSM only, never as a plain variable of the template.
pub const SECRET_VARIABLES: [&str; 12] = [
    "ALMA_API_KEY",
    "NCIP_SHARED_SECRET",
    "NCIP_SHARED_SECRET_PREVIOUS",
    "STATUS_TOKEN",
    "STATUS_TOKEN_PREVIOUS",
    "STAFF_ACTION_TOKEN",
    "STAFF_ACTION_TOKEN_PREVIOUS",
    "LOG_HASH_KEY",
    "RELAIS_PUBLIC_KEY",
    "OIDC_CLIENT_SECRET",
    "SIGN_IN_COOKIE_SECRET",
    "SIGN_IN_COOKIE_SECRET_PREVIOUS",
];

/// Parameters that may be absent, so that a missing one is no error (the variable stays unset) and a deleted
/// one is dropped at the next read: the previous values of a rotation, which exist only while it is under way,
/// and the OpenURL hand-off's keys and sign-in secrets, whose use the settings decide (an inline JWKS,
/// `UseRelaisPublicKey`, `PatronIdentity=oidc`, a public client without a secret).
pub const OPTIONAL_VARIABLES: [&str; 8] = [
    "NCIP_SHARED_SECRET_PREVIOUS",
    "STATUS_TOKEN_PREVIOUS",
    "STAFF_ACTION_TOKEN_PREVIOUS",
    "RELAIS_PUBLIC_KEY",
    "JWT_VERIFICATION_KEY",
    "OIDC_CLIENT_SECRET",
    "SIGN_IN_COOKIE_SECRET",
    "SIGN_IN_COOKIE_SECRET_PREVIOUS",
];

/// Public values that may outgrow Lambda's 4 KB of environment (a JWKS of several keys), so they may come
/// from SSM as well as plainly.
pub const LARGE_VARIABLES: [&str; 1] = ["JWT_VERIFICATION_KEY"];

/// Every variable a `*_PARAMETER` may fill from SSM.
fn from_ssm() -> impl Iterator<Item = &'static str> {
    SECRET_VARIABLES.into_iter().chain(LARGE_VARIABLES)
}

/// Whether any secret or the settings come from SSM (and so may change while the function runs).
pub fn any_from_ssm(env: &Env) -> bool {
    env.get(SETTINGS_PARAMETER).is_some()
        || from_ssm().any(|var| env.get(var).is_none() && env.get(&format!("{var}_PARAMETER")).is_some())
}

/// Applies the deployed settings (`SETTINGS_PARAMETER`, see [`super::settings`]) and sets each variable that
/// a `*_PARAMETER` names to the parameter's current value: one `GetParameters` call, and a second one only
/// when the deployed `SECRETS_PATH` has moved the secrets away from where this version's environment names
/// them (a deploy that changed only `SecretsPath` publishes no new version, while the role already reads
/// only the new path).
pub async fn resolve(env: &mut Env, aws: &aws_types::SdkConfig) -> Result<(), ConfigError> {
    // A variable set directly wins over its parameter: looked at before the settings, which set none.
    let mut wanted: Vec<(&'static str, String)> = from_ssm()
        .filter(|var| env.get(var).is_none())
        .filter_map(|var| {
            let parameter_var = format!("{var}_PARAMETER");
            env.get(&parameter_var).map(|name| (var, name.to_owned()))
        })
        .collect();
    let settings = env.get(SETTINGS_PARAMETER).map(str::to_owned);
    if wanted.is_empty() && settings.is_none() {
        return Ok(());
    }
    let client = aws_sdk_ssm::Client::new(aws);
    let mut names: Vec<String> = wanted.iter().map(|(_, name)| name.clone()).collect();
    names.extend(settings.clone());
    let mut values = read(&client, names).await?;
    if let Some(name) = &settings {
        let text = values.remove(&normalised(name)).ok_or_else(|| {
            ConfigError::new(SETTINGS_PARAMETER, format!("SSM parameter {name} was not found or is empty"))
        })?;
        super::settings::apply(env, &text)?;
        // Settings may give a value a secret parameter stands for (an inline JWKS): the direct value wins.
        wanted.retain(|(var, _)| env.get(var).is_none());
        if let Some(path) = env.get("SECRETS_PATH") {
            let moved: Vec<(&'static str, String)> = wanted
                .iter()
                .filter_map(|(var, name)| {
                    let base = name.rsplit('/').next().unwrap_or(name);
                    let deployed = format!("/{}/{base}", path.trim_matches('/'));
                    (normalised(&deployed) != normalised(name)).then_some((*var, deployed))
                })
                .collect();
            if !moved.is_empty() {
                values.extend(read(&client, moved.iter().map(|(_, name)| name.clone()).collect()).await?);
                for (var, deployed) in moved {
                    if let Some(entry) = wanted.iter_mut().find(|(v, _)| *v == var) {
                        entry.1 = deployed;
                    }
                }
            }
        }
    }
    for (var, name) in &wanted {
        match values.get(&normalised(name)) {
            Some(value) => env.set(*var, value),
            None if OPTIONAL_VARIABLES.contains(var) => {}
            None => return Err(ConfigError::new(var, format!("SSM parameter {name} was not found or is empty"))),
        }
    }
    Ok(())
}

/// A parameter's name as SSM answers it (with its leading slash).
fn normalised(name: &str) -> String {
    format!("/{}", name.trim_start_matches('/'))
}

/// The values of the parameters `names` (SecureStrings decrypted), by [`normalised`] name; a name SSM does not
/// know is simply absent (`GetParameters` lists it as invalid instead of failing).
async fn read(
    client: &aws_sdk_ssm::Client,
    names: Vec<String>,
) -> Result<std::collections::HashMap<String, String>, ConfigError> {
    let mut values = std::collections::HashMap::new();
    // GetParameters takes at most ten names a call.
    for chunk in names.chunks(10) {
        let answer =
            client.get_parameters().set_names(Some(chunk.to_vec())).with_decryption(true).send().await.map_err(
                |err| {
                    ConfigError::new(
                        "SSM",
                        format!("could not read SSM parameters ({})", aws_sdk_ssm::error::DisplayErrorContext(&err)),
                    )
                },
            )?;
        for parameter in answer.parameters() {
            if let (Some(name), Some(value)) = (parameter.name(), parameter.value()) {
                values.insert(normalised(name), value.to_owned());
            }
        }
    }
    Ok(values)
}
