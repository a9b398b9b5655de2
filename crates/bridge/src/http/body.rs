//! Reading a request body under a size cap and a pause limit, only after the caller is authenticated.
//!
//! A router that takes the whole body before any handler runs lets unauthenticated clients hold memory and
//! connections (docs/benchmarks.md, "The front door under hostile bodies"). Handlers that take a body check
//! the token first and then read it here: a declared length over the cap is refused without reading a byte, a body that grows past the cap is refused as soon as it
//! does, and a pause longer than the limit ends the read. On Lambda the body is already in memory, so only
//! the cap applies.

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt;
use std::time::Duration;

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyRefusal {
    /// Declared or found to exceed the cap; `size` is what was declared or seen so far.
    TooLarge {
        /// Bytes declared or read before the refusal.
        size: usize,
    },
    /// No byte arrived for the pause limit.
    Stalled,
    /// The connection broke while the body was read.
    Broken,
}

/// The body, at most `cap` bytes, with no pause longer than `pause`.
pub async fn read_capped(headers: &HeaderMap, body: Body, cap: usize, pause: Duration) -> Result<Bytes, BodyRefusal> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(declared) = declared
        && declared > cap as u64
    {
        return Err(BodyRefusal::TooLarge { size: usize::try_from(declared).unwrap_or(usize::MAX) });
    }
    let mut body = body;
    let mut read = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(pause, body.frame()).await {
            Err(_) => return Err(BodyRefusal::Stalled),
            Ok(None) => return Ok(read.freeze()),
            Ok(Some(Err(_))) => return Err(BodyRefusal::Broken),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if read.len() + data.len() > cap {
                return Err(BodyRefusal::TooLarge { size: read.len() + data.len() });
            }
            read.extend_from_slice(&data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_without_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, "12582912".parse().unwrap());
        // The body is empty: had it been read, the answer would be the empty body, not a refusal.
        let refusal = read_capped(&headers, Body::empty(), 1024, Duration::from_secs(5)).await;
        assert_eq!(refusal, Err(BodyRefusal::TooLarge { size: 12_582_912 }));
    }

    #[tokio::test]
    async fn an_undeclared_body_is_cut_at_the_cap() {
        let body = Body::from(vec![b'x'; 2048]);
        let refusal = read_capped(&HeaderMap::new(), body, 1024, Duration::from_secs(5)).await;
        assert_eq!(refusal, Err(BodyRefusal::TooLarge { size: 2048 }));
        let ok = read_capped(&HeaderMap::new(), Body::from("abc"), 1024, Duration::from_secs(5)).await;
        assert_eq!(ok.unwrap(), Bytes::from_static(b"abc"));
    }
}
