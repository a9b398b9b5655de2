//! Token checks for the NCIP endpoint and the staff status page.
//!
//! Relais can only be given a URL (and, in newer versions, a bearer header), so the NCIP token may arrive as
//! the last path segment (`/ncip/{token}`) or as `Authorization: Bearer`. Either way it is compared in
//! constant time ([`Secret::matches`]).

use crate::config::Secret;
use lambda_http::Request;

/// The token the caller presented: a bearer header wins over a path segment.
pub fn presented_token<'a>(request: &'a Request, path_token: Option<&'a str>) -> Option<&'a str> {
    request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .or(path_token)
}

/// True when the caller presented `secret`.
pub fn authorised(request: &Request, path_token: Option<&str>, secret: &Secret) -> bool {
    presented_token(request, path_token).is_some_and(|token| secret.matches(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(auth: Option<&str>) -> Request {
        let mut builder = http::Request::builder().uri("/ncip");
        if let Some(value) = auth {
            builder = builder.header("authorization", value);
        }
        builder.body(lambda_http::Body::Empty).unwrap()
    }

    #[test]
    fn accepts_the_secret_in_the_path_or_as_a_bearer_token() {
        let secret = Secret::new("0123456789abcdef");
        assert!(authorised(&request(None), Some("0123456789abcdef"), &secret));
        assert!(authorised(&request(Some("Bearer 0123456789abcdef")), None, &secret));
        assert!(!authorised(&request(None), None, &secret));
        assert!(!authorised(&request(Some("Bearer wrong")), Some("0123456789abcdef"), &secret));
        assert!(!authorised(&request(Some("Basic 0123456789abcdef")), None, &secret));
    }
}
