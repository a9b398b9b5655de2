//! Token checks for the NCIP endpoint and the staff routes.
//!
//! Relais can only be given a URL (and, in newer versions, a bearer header), so the NCIP token may arrive as
//! the last path segment (`/ncip/{token}`) or as `Authorization: Bearer`. Staff present one of two tokens as a
//! bearer header: the read-only status token (`STATUS_TOKEN`), or the staff token (`STAFF_ACTION_TOKEN`,
//! with `STAFF_ACTION_TOKEN_PREVIOUS` during a rotation) that may also re-drive and discard queued messages.
//! Every token is compared in constant time ([`Secret::matches`]).

use crate::config::{Secret, Settings};
use http::HeaderMap;

/// The `Authorization: Bearer` token, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
}

/// True when the caller presented `secret`: a bearer header wins over a token from the path or query.
pub fn authorised(headers: &HeaderMap, other_token: Option<&str>, secret: &Secret) -> bool {
    bearer(headers).or(other_token).is_some_and(|token| secret.matches(token))
}

/// The staff token a request carries, from its bearer header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffCredential<'a> {
    /// The read-only status token: pages and the queue, no staff action.
    Status,
    /// The staff token (or its previous value during a rotation): staff actions too. The token it matched,
    /// so that the action's history can name it by its [`Secret::fingerprint`].
    Staff(&'a Secret),
}

/// Which staff token the bearer header holds, if any. Every candidate is compared, each in constant time.
pub fn staff_credential<'a>(headers: &HeaderMap, settings: &'a Settings) -> Option<StaffCredential<'a>> {
    let token = bearer(headers)?;
    let staff = [&settings.staff_token, &settings.staff_previous_token].map(|secret| (secret, secret.matches(token)));
    // Both status tokens are compared whatever the first gives, so the time taken says nothing about which.
    let status = [&settings.status_token, &settings.status_previous_token].map(|secret| secret.matches(token));
    let status = status.into_iter().fold(false, |any, matched| any | matched);
    match staff.into_iter().find(|(_, matched)| *matched) {
        Some((secret, _)) => Some(StaffCredential::Staff(secret)),
        None if status => Some(StaffCredential::Status),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = auth {
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn accepts_the_secret_in_the_path_or_as_a_bearer_token() {
        let secret = Secret::new("0123456789abcdef");
        assert!(authorised(&headers(None), Some("0123456789abcdef"), &secret));
        assert!(authorised(&headers(Some("Bearer 0123456789abcdef")), None, &secret));
        assert!(!authorised(&headers(None), None, &secret));
        assert!(!authorised(&headers(Some("Bearer wrong")), Some("0123456789abcdef"), &secret));
        assert!(!authorised(&headers(Some("Basic 0123456789abcdef")), None, &secret));
    }

    #[test]
    fn tells_the_staff_token_and_its_previous_value_from_the_read_only_status_token() {
        let env = crate::config::Env::from_pairs([
            ("STATUS_TOKEN", "status-token-0123456789"),
            ("STAFF_ACTION_TOKEN", "staff-token-0123456789"),
            ("STAFF_ACTION_TOKEN_PREVIOUS", "old-staff-token-0123456789"),
            ("STATUS_TOKEN_PREVIOUS", "old-status-token-0123456789"),
        ]);
        let settings = Settings::from_env(&env, crate::config::Host::Local).unwrap();
        let credential = |auth| staff_credential(&headers(auth), &settings);
        assert_eq!(credential(Some("Bearer status-token-0123456789")), Some(StaffCredential::Status));
        assert_eq!(credential(Some("Bearer old-status-token-0123456789")), Some(StaffCredential::Status));
        assert_eq!(
            credential(Some("Bearer staff-token-0123456789")),
            Some(StaffCredential::Staff(&settings.staff_token))
        );
        assert_eq!(
            credential(Some("Bearer old-staff-token-0123456789")),
            Some(StaffCredential::Staff(&settings.staff_previous_token))
        );
        assert_eq!(credential(Some("Bearer wrong-token-0123456789")), None);
        assert_eq!(credential(None), None);
        // Not given (Lambda functions other than the status one): an empty token matches nothing.
        let lambda = crate::config::Env::from_pairs([("DYNAMODB_TABLE", "t")]);
        let bare = Settings::from_env(&lambda, crate::config::Host::Lambda).unwrap();
        assert_eq!(staff_credential(&headers(Some("Bearer ")), &bare), None);
    }
}
