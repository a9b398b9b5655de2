//! What can go wrong talking to Alma, in words the flows can act on.

use serde::Deserialize;

/// An Alma failure. None of the variants carries a URL, a header or a body excerpt: URLs hold patron ids and
/// requests hold the API key, and both must stay out of logs.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AlmaError {
    /// Alma answered with its error body (`errorsExist`), e.g. 401861 "user not found".
    #[error("Alma error {code} (HTTP {status}): {message}")]
    Api {
        /// The HTTP status (4xx or 5xx).
        status: u16,
        /// Alma's error code, which the flows match on (e.g. `401861`).
        code: String,
        /// Alma's `errorMessage`, as Alma worded it.
        message: String,
        /// Alma's `trackingId`, for support cases with Ex Libris.
        tracking_id: Option<String>,
    },
    /// Alma's per-second threshold (HTTP 429 `PER_SECOND_THRESHOLD`) persisted past the retry budget.
    #[error("Alma's per-second threshold was exceeded beyond the retry budget")]
    RateLimited,
    /// Alma's daily API threshold is used up (HTTP 429 `DAILY_THRESHOLD`): no REST call succeeds until Alma
    /// resets the count at midnight.
    #[error("Alma's daily API threshold is used up")]
    DailyThreshold,
    /// Alma answered 5xx (maintenance windows answer 503) past the retry budget.
    #[error("Alma is unavailable (HTTP {status})")]
    Unavailable {
        /// The last 5xx status.
        status: u16,
        /// The request reached Alma, so it may have acted before failing.
        sent: bool,
    },
    /// No answer within the deadline. `sent` means Alma may have acted.
    #[error("Alma did not answer in time")]
    Timeout {
        /// The request was sent before time ran out.
        sent: bool,
    },
    /// The connection failed. `sent` means the request may have reached Alma.
    #[error("could not reach Alma")]
    Unreachable {
        /// The connection failed after the request was sent.
        sent: bool,
    },
    /// This deployment was given no Alma settings (a function that should never need Alma).
    #[error("Alma is not configured for this function")]
    NotConfigured,
    /// An identifier that cannot be sent as one path segment (empty, `.` or `..`); nothing was sent.
    #[error("an identifier cannot be sent to Alma as a path segment")]
    UnusablePathSegment,
    /// Alma answered something the bridge cannot read.
    #[error("Alma's answer could not be read: {0}")]
    Unreadable(String),
}

impl AlmaError {
    /// True when Alma may have carried out the request although the bridge never saw the answer: the one case
    /// where acting again could act twice, so the flow must read Alma's state before retrying.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            AlmaError::Timeout { sent } | AlmaError::Unreachable { sent } => *sent,
            AlmaError::Unavailable { status, sent } => *sent && *status != 503,
            AlmaError::Unreadable(_) => true,
            AlmaError::Api { .. }
            | AlmaError::RateLimited
            | AlmaError::DailyThreshold
            | AlmaError::NotConfigured
            | AlmaError::UnusablePathSegment => false,
        }
    }

    /// Alma cannot take anything now but will: no connection, no answer in time, a gateway or maintenance
    /// status (500, 502, 503, 504), or its thresholds. Only such a failure is worth waiting out in the
    /// outbox; every other failure is a refusal that waiting would not cure (a wrong URL or key, an unknown
    /// partner, an unreadable answer), and Relais hears it at once.
    pub fn is_outage(&self) -> bool {
        match self {
            AlmaError::Timeout { .. }
            | AlmaError::Unreachable { .. }
            | AlmaError::RateLimited
            | AlmaError::DailyThreshold => true,
            AlmaError::Unavailable { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            AlmaError::Api { .. }
            | AlmaError::NotConfigured
            | AlmaError::UnusablePathSegment
            | AlmaError::Unreadable(_) => false,
        }
    }

    /// A refusal that comes from the bridge's own settings rather than from the message: the NCIP URL
    /// answering anything but NCIP, the API key refused for an area, no Alma configured. Each is counted and
    /// alarmed on its own, since every message fails the same way until someone fixes the setting.
    pub fn is_configuration_fault(&self) -> bool {
        match self {
            AlmaError::Api { status, code, .. } => {
                matches!(*status, 401 | 403)
                    || API_KEY_REFUSALS.contains(&code.as_str())
                    || code == NCIP_HTTP
                    || code == PARTNER_NOT_FOUND
            }
            AlmaError::NotConfigured => true,
            _ => false,
        }
    }

    /// Alma says the thing asked for does not exist (user, item or request).
    pub fn is_not_found(&self) -> bool {
        matches!(self, AlmaError::Api { code, .. } if NOT_FOUND_CODES.contains(&code.as_str()))
    }

    /// Alma rejected a patron's password (401866) or the user behind it.
    pub fn is_auth_failure(&self) -> bool {
        matches!(self, AlmaError::Api { code, .. } if code == "401866" || code == "401861" || code == "401890")
    }

    /// Alma's `trackingId` of an error body, recorded with the call so that a support case can cite it.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            AlmaError::Api { tracking_id, .. } => tracking_id.as_deref(),
            _ => None,
        }
    }
}

/// Alma error codes meaning "no such record" (Alma REST API error code lists for users, items, requests).
/// `401652` is not among them: Alma documents it as a general error, and reading it as "not found" would let
/// a recovery probe act again on a guess.
const NOT_FOUND_CODES: [&str; 5] = ["401861", "401890", "401689", "401683", "402276"];

/// Alma's codes for an API key it will not take for the call: `UNAUTHORIZED` ("API-key not defined or not
/// configured to allow this API") and the API-restricted codes of the error lists (`60340`, `60258`).
const API_KEY_REFUSALS: [&str; 3] = ["UNAUTHORIZED", "60340", "60258"];

/// Alma's code for a partner code it does not know (`GET /partners/{code}`): the bridge's partner setting,
/// since the code is the one it sends as ApplicationProfileType.
pub(crate) const PARTNER_NOT_FOUND: &str = "402880";

/// The code the NCIP client gives a non-2xx answer of Alma's NCIP responder (a wrong path, a login page).
pub(crate) const NCIP_HTTP: &str = "NCIP_HTTP";

/// Alma's error envelope: `{"errorsExist":true,"errorList":{"error":[{"errorCode":..}]},"result":null}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(rename = "errorList")]
    error_list: ErrorList,
}

#[derive(Debug, Deserialize)]
struct ErrorList {
    error: Vec<ErrorEntry>,
}

#[derive(Debug, Deserialize)]
struct ErrorEntry {
    #[serde(rename = "errorCode")]
    error_code: serde_json::Value,
    #[serde(rename = "errorMessage", default)]
    error_message: String,
    #[serde(rename = "trackingId", default)]
    tracking_id: Option<String>,
}

impl ErrorBody {
    /// The first error of Alma's body, or `None` when the body is not Alma's envelope.
    pub(crate) fn parse(status: u16, body: &[u8]) -> Option<AlmaError> {
        let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
        let first = parsed.error_list.error.into_iter().next()?;
        // errorCode is documented as a string; accept a number too rather than lose the code.
        let code = match first.error_code {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        Some(AlmaError::Api { status, code, message: first.error_message, tracking_id: first.tracking_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_alma_error_envelope_with_string_code() {
        let body = br#"{"errorsExist":true,"errorList":{"error":[{"errorCode":"401861","errorMessage":"User with identifier X was not found.","trackingId":"E01-1"}]},"result":null}"#;
        let err = ErrorBody::parse(400, body).unwrap();
        assert!(err.is_not_found());
        assert_eq!(err.tracking_id(), Some("E01-1"));
    }

    #[test]
    fn only_sent_requests_without_answers_have_unknown_outcomes() {
        assert!(AlmaError::Timeout { sent: true }.outcome_unknown());
        assert!(!AlmaError::Timeout { sent: false }.outcome_unknown());
        assert!(!AlmaError::RateLimited.outcome_unknown());
        assert!(!AlmaError::Unavailable { status: 503, sent: true }.outcome_unknown());
        assert!(AlmaError::Unavailable { status: 500, sent: true }.outcome_unknown());
    }

    #[test]
    fn only_what_alma_will_get_over_is_an_outage() {
        let api = |status, code: &str| AlmaError::Api {
            status,
            code: code.into(),
            message: String::new(),
            tracking_id: None,
        };
        for outage in [
            AlmaError::Timeout { sent: true },
            AlmaError::Unreachable { sent: false },
            AlmaError::RateLimited,
            AlmaError::DailyThreshold,
            AlmaError::Unavailable { status: 503, sent: true },
            AlmaError::Unavailable { status: 500, sent: true },
        ] {
            assert!(outage.is_outage(), "{outage:?}");
        }
        for refusal in [
            api(404, NCIP_HTTP),
            api(400, "UNAUTHORIZED"),
            api(400, "401652"),
            AlmaError::Unavailable { status: 501, sent: true },
            AlmaError::UnusablePathSegment,
            AlmaError::Unreadable("HTML".into()),
        ] {
            assert!(!refusal.is_outage(), "{refusal:?}");
        }
        assert!(api(404, NCIP_HTTP).is_configuration_fault());
        assert!(api(400, "UNAUTHORIZED").is_configuration_fault());
        assert!(!api(400, "401652").is_configuration_fault());
        assert!(!api(400, "401652").is_not_found(), "a general error is not 'not found'");
    }
}
