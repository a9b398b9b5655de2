//! The go-live preflight: before Relais is pointed at the bridge, proof that the Alma it is configured for
//! answers it the way every flow needs, checked through the bridge's own Alma clients.
//!
//! Four things must hold, and each is one check with its own verdict, so that one mistake shows as one
//! failure with the setting to change rather than as every message failing once Relais is live:
//! 1. the API key opens each area of Alma's REST API the bridge reads (Alma's own test call per area);
//! 2. each configured partner code names an active NCIP partner in Alma, with the User Identifier Type and the
//!    resource-sharing library the flows read from it;
//! 3. the NCIP URL is Alma's NCIP responder: one LookupUser (read-only in Alma) gets an NCIP answer, which also
//!    records the outbox's go-live marker (`flows::reached`), as the first answer to a flow would;
//! 4. the responder accepts the institution code as ToAgencyId.
//!
//! The [`Report`] is a value: the local server's `cargo run -- preflight` prints it, and on AWS the deliver
//! function answers it to a preflight event (`scripts/preflight`).

mod keys;
mod ncip;
mod partner;

use crate::alma::AlmaError;
use crate::flows::Bridge;
use serde::{Deserialize, Serialize};

/// What the person running the preflight chose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// A real patron's identifier to look up through Alma's NCIP responder; without one a made-up identifier
    /// is sent, and Alma's "Unknown User" answer proves the responder as well.
    #[serde(default)]
    pub patron: Option<String>,
}

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Which check (`api-key Users`, `partner RELAIS`, `ncip-url`, `to-agency-id`).
    pub check: String,
    /// Whether it passed.
    pub passed: bool,
    /// What was found when it passed; what went wrong when it failed.
    pub found: String,
    /// What to change when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn pass(check: impl Into<String>, found: impl Into<String>) -> Check {
        Check { check: check.into(), passed: true, found: found.into(), fix: None }
    }

    fn fail(check: impl Into<String>, found: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { check: check.into(), passed: false, found: found.into(), fix: Some(fix.into()) }
    }
}

impl std::fmt::Display for Check {
    /// The check's one line: `PASS <check>: <found>` or `FAIL <check>: <what went wrong> — fix: <fix>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.passed {
            write!(f, "PASS {}: {}", self.check, self.found)
        } else {
            write!(f, "FAIL {}: {} — fix: {}", self.check, self.found, self.fix.as_deref().unwrap_or("see above"))
        }
    }
}

/// Every check's verdict, in the order they are printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// True when every check passed: Relais may be pointed at the bridge.
    pub passed: bool,
    /// The verdicts.
    pub checks: Vec<Check>,
}

impl Report {
    fn new(checks: Vec<Check>) -> Report {
        Report { passed: checks.iter().all(|c| c.passed), checks }
    }

    /// One line per check, as printed.
    pub fn lines(&self) -> Vec<String> {
        self.checks.iter().map(Check::to_string).collect()
    }
}

/// Runs every check against the Alma `bridge` is configured for. Nothing in Alma changes: the REST calls are
/// reads and Alma's test calls, and the NCIP message is a LookupUser.
pub async fn run(bridge: &Bridge, options: &Options) -> Report {
    let keys = keys::check(bridge).await;
    let round_trip = ncip::round_trip(bridge, options).await;
    let mut checks = keys.checks;
    checks.extend(partner::check(bridge, &round_trip).await);
    checks.extend(ncip::checks(bridge, options, &round_trip, keys.institution.as_deref()));
    Report::new(checks)
}

/// The partner codes the bridge sends Alma as ApplicationProfileType: `ALMA_PARTNER_CODE`, then each of
/// `NCIP_AGENCY_PARTNERS`, once each.
fn partner_codes(bridge: &Bridge) -> Vec<String> {
    let ncip = &bridge.settings.ncip;
    let mut codes: Vec<String> = Vec::new();
    for code in ncip.default_partner_code.iter().chain(ncip.agency_partners.values()) {
        if !codes.contains(code) {
            codes.push(code.clone());
        }
    }
    codes
}

/// What a failed REST call in `area` means, and what to do about it.
fn rest_failure(err: &AlmaError, area: &str) -> (String, String) {
    let again = "run the preflight again in a few minutes";
    match err {
        AlmaError::Api { .. } if key_refused(err) => (
            format!("Alma refused the key for {area} ({})", alma_said(err)),
            format!("give the key {area} read access (see the api-key checks)"),
        ),
        AlmaError::Api { status, code, message, .. } => (
            format!("Alma answered HTTP {status} ({code}: {message}) to the {area} call"),
            "check ALMA_API_BASE: a region (na, eu, ap, aps, ca, cn) or a URL ending in /almaws/v1".to_owned(),
        ),
        AlmaError::Unreachable { .. } | AlmaError::Timeout { .. } => (
            format!("Alma's REST API could not be reached for the {area} call"),
            "check ALMA_API_BASE (your Alma's region) and that this machine can reach it over HTTPS".to_owned(),
        ),
        AlmaError::RateLimited => {
            ("Alma answered its per-second threshold (HTTP 429) past the retries".into(), again.into())
        }
        AlmaError::DailyThreshold => (
            "Alma's daily API threshold is used up".into(),
            "run the preflight again after Alma's midnight reset".into(),
        ),
        AlmaError::Unavailable { status, .. } => (
            format!("Alma answered HTTP {status} (maintenance?) to the {area} call"),
            "run the preflight again when Alma is back".into(),
        ),
        AlmaError::Unreadable(why) => (
            format!("Alma's answer to the {area} call could not be read ({why})"),
            "check ALMA_API_BASE: it must name Alma's API host, not the staff UI".into(),
        ),
        AlmaError::NotConfigured => (
            "no Alma is configured".into(),
            "set ALMA_API_BASE, ALMA_API_KEY, ALMA_NCIP_URL and ALMA_INSTITUTION_CODE".into(),
        ),
        AlmaError::UnusablePathSegment => (
            format!("the {area} call could not be made: a code in it is empty or `.`/`..`"),
            "check the partner codes in ALMA_PARTNER_CODE and NCIP_AGENCY_PARTNERS".into(),
        ),
    }
}

/// Alma refused the API key for the call (unknown, or without the call's area or access); a partner code Alma
/// does not know and the NCIP URL's answers are configuration faults of other settings.
fn key_refused(err: &AlmaError) -> bool {
    matches!(err, AlmaError::Api { code, .. }
        if err.is_configuration_fault() && code != crate::alma::PARTNER_NOT_FOUND && code != crate::alma::NCIP_HTTP)
}

/// Alma's words for a refusal, as its error body gives them.
fn alma_said(err: &AlmaError) -> String {
    match err {
        AlmaError::Api { status, code, message, .. } => format!("HTTP {status}, {code}: {message}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_is_one_line_and_one_failure_fails_the_report() {
        let report = Report::new(vec![
            Check::pass("api-key Users", "GET /users/operation/test answered \"GET - OK\""),
            Check::fail("ncip-url", "it answered HTTP 404, not NCIP", "check ALMA_NCIP_URL"),
        ]);
        assert!(!report.passed);
        assert_eq!(
            report.lines(),
            [
                "PASS api-key Users: GET /users/operation/test answered \"GET - OK\"",
                "FAIL ncip-url: it answered HTTP 404, not NCIP — fix: check ALMA_NCIP_URL",
            ]
        );
        assert!(Report::new(vec![Check::pass("to-agency-id", "accepted")]).passed);
    }

    #[test]
    fn only_a_refused_key_is_read_as_the_keys_fault() {
        let api = |status, code: &str| AlmaError::Api {
            status,
            code: code.into(),
            message: String::new(),
            tracking_id: None,
        };
        assert!(key_refused(&api(400, "UNAUTHORIZED")));
        assert!(key_refused(&api(401, "X")));
        assert!(!key_refused(&api(400, crate::alma::PARTNER_NOT_FOUND)));
        assert!(!key_refused(&api(404, crate::alma::NCIP_HTTP)));
        assert!(!key_refused(&api(400, "401652")));
    }
}
