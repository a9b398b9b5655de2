//! The settings a deploy gives the functions, read from one SSM parameter rather than from each function's
//! environment.
//!
//! Every route reaches a function through its `live` alias, and SAM publishes a new version (which the alias
//! then points at) only when the code or the *unresolved* environment changes: a deploy that changes only a
//! parameter's value would update `$LATEST` and leave `live` running the old value. So the template writes
//! every value that comes from a parameter into one String parameter (`SETTINGS_PARAMETER`, which CloudFormation
//! updates on every deploy), and each function reads it with its secrets at a cold start and again every
//! `SECRETS_REFRESH_SECONDS` (`super::refresh`): whatever version `live` runs, it runs the deployed settings.
//!
//! The text is `KEY=value` lines in sections (`[alma]`); a function applies the sections its
//! `SETTINGS_SECTIONS` names (its own environment, so least privilege holds: the front door never sees the
//! Alma URLs). Secrets never appear here: they stay SecureStrings of their own.

use super::secrets::{LARGE_VARIABLES, SECRET_VARIABLES};
use crate::config::{ConfigError, Env};

/// The variable naming the settings parameter.
pub const SETTINGS_PARAMETER: &str = "SETTINGS_PARAMETER";
/// The variable listing the sections of the settings a function applies (space or comma separated).
pub const SETTINGS_SECTIONS: &str = "SETTINGS_SECTIONS";

/// Applies to `env` the variables of the sections `env`'s `SETTINGS_SECTIONS` names, from the settings
/// parameter's `text`. A value set here wins over the function's environment: it is the one the last deploy
/// wrote. An empty value unsets the variable, as an empty template parameter does.
pub fn apply(env: &mut Env, text: &str) -> Result<(), ConfigError> {
    let wanted: Vec<String> = env
        .get(SETTINGS_SECTIONS)
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut section: Option<&str> = None;
    let mut seen = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            section = Some(name.trim());
            seen.push(name.trim().to_owned());
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(malformed(number, "is not KEY=value"));
        };
        let key = key.trim();
        let Some(current) = section else { return Err(malformed(number, "comes before any [section]")) };
        if !is_plain_setting(key) {
            return Err(malformed(number, "names a secret or an SSM parameter, which never come from the settings"));
        }
        if wanted.iter().any(|w| w == current) {
            env.set(key, value.trim());
        }
    }
    if let Some(missing) = wanted.iter().find(|w| !seen.contains(w)) {
        return Err(ConfigError::new(
            SETTINGS_PARAMETER,
            format!("has no [{missing}] section, which {SETTINGS_SECTIONS} names"),
        ));
    }
    Ok(())
}

/// Only ordinary settings may come from the settings parameter: not a secret (those are SecureStrings of their
/// own), not the name of another parameter, not the settings' own variables.
fn is_plain_setting(key: &str) -> bool {
    let names_a_parameter = key.strip_suffix("_PARAMETER").is_some_and(|variable| {
        SECRET_VARIABLES.contains(&variable) || LARGE_VARIABLES.contains(&variable) || variable == "SETTINGS"
    });
    !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && !SECRET_VARIABLES.contains(&key)
        && !names_a_parameter
        && key != SETTINGS_SECTIONS
}

fn malformed(line: usize, why: &str) -> ConfigError {
    // The line's number, never its text: a misplaced secret must not reach the log.
    ConfigError::new(SETTINGS_PARAMETER, format!("line {} {why}", line + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[common]\nRUST_LOG=warn,bridge=debug\nOUTBOX=on\n\n[alma]\nALMA_API_BASE=https://api-eu.example\n\
                        ALMA_MAX_CALLS_PER_SECOND=2\n[openurl]\nRELAIS_FORM_URL=https://relais.example/form?a=b\n";

    fn env_with(sections: &str) -> Env {
        Env::from_pairs([(SETTINGS_SECTIONS, sections), ("DYNAMODB_TABLE", "t"), ("OUTBOX", "off")])
    }

    #[test]
    fn a_function_takes_only_the_sections_it_names_and_the_deployed_value_wins() {
        let mut env = env_with("common alma");
        apply(&mut env, TEXT).unwrap();
        assert_eq!(env.get("RUST_LOG"), Some("warn,bridge=debug"));
        assert_eq!(env.get("OUTBOX"), Some("on"), "the deployed value wins over the environment's");
        assert_eq!(env.get("ALMA_MAX_CALLS_PER_SECOND"), Some("2"));
        assert_eq!(env.get("RELAIS_FORM_URL"), None, "not a section this function reads");
        assert_eq!(env.get("DYNAMODB_TABLE"), Some("t"), "the environment's own variables stay");
        let mut openurl = env_with("openurl");
        apply(&mut openurl, TEXT).unwrap();
        assert_eq!(openurl.get("RELAIS_FORM_URL"), Some("https://relais.example/form?a=b"), "a value may hold '='");
        assert_eq!(openurl.get("ALMA_API_BASE"), None);
        // The name of the link's token parameter is an ordinary setting, whatever its suffix.
        let mut jwt = env_with("openurl");
        apply(&mut jwt, "[openurl]\nJWT_PARAMETER=token\n").unwrap();
        assert_eq!(jwt.get("JWT_PARAMETER"), Some("token"));
    }

    #[test]
    fn an_empty_value_unsets_like_an_empty_parameter() {
        let mut env = env_with("common");
        apply(&mut env, "[common]\nOUTBOX=\n").unwrap();
        assert_eq!(env.get("OUTBOX"), None);
    }

    #[test]
    fn secrets_parameter_names_and_malformed_lines_are_refused_without_quoting_them() {
        for (text, line) in [
            ("[common]\nSTATUS_TOKEN=hunter2-hunter2-hunter2\n", "line 2"),
            ("[common]\nALMA_API_KEY_PARAMETER=/elsewhere\n", "line 2"),
            ("[common]\nSETTINGS_SECTIONS=alma\n", "line 2"),
            ("[common]\nSETTINGS_PARAMETER=/elsewhere\n", "line 2"),
            ("[common]\nnot a setting\n", "line 2"),
            ("RUST_LOG=trace\n", "line 1"),
        ] {
            let err = apply(&mut env_with("common"), text).unwrap_err();
            assert_eq!(err.variable, SETTINGS_PARAMETER);
            let message = err.to_string();
            assert!(message.contains(line) && !message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn a_section_the_function_names_must_exist() {
        let err = apply(&mut env_with("common patron"), TEXT).unwrap_err();
        assert!(err.to_string().contains("[patron]"), "{err}");
    }
}
