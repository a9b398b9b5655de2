//! Token checks for the NCIP endpoint and the staff status page.
//!
//! Relais can only be given a URL (and, in newer versions, a bearer header), so the NCIP token may arrive as
//! the last path segment (`/ncip/{token}`) or as `Authorization: Bearer`. Either way it is compared in
//! constant time ([`Secret::matches`]).

use crate::config::Secret;
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
}
