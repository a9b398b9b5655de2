//! Reading NCIP bodies without stalling the async workers.
//!
//! Reading is pure CPU. A body at the 256 KiB limit costs milliseconds, and a handful of them at once on a two-worker
//! runtime would hold up every other request, `/health` included. Bodies above [`INLINE_LIMIT`] are therefore read on
//! tokio's blocking pool; the small messages Relais really sends (the corpus's largest is 28 KB, most are under 2 KB)
//! stay inline, where a thread hop would cost more than the read.

use crate::ncip::{self, Message, Peek, ReadError, ReadOptions};

/// Bodies up to this size are read on the calling worker.
pub const INLINE_LIMIT: usize = 32 * 1024;

/// [`ncip::peek`], off the async workers when the body is large.
pub async fn peek(body: &[u8], opts: &ReadOptions) -> Result<Peek, ReadError> {
    off_worker(body, opts, ncip::peek).await
}

/// [`ncip::read`], off the async workers when the body is large.
pub async fn read(body: &[u8], opts: &ReadOptions) -> Result<Message, ReadError> {
    off_worker(body, opts, ncip::read).await
}

async fn off_worker<T: Send + 'static>(
    body: &[u8],
    opts: &ReadOptions,
    parse: fn(&[u8], &ReadOptions) -> Result<T, ReadError>,
) -> Result<T, ReadError> {
    // Oversized bodies are refused by the codec's first check, before any parsing: no hop needed.
    if body.len() <= INLINE_LIMIT || body.len() > opts.max_bytes {
        return parse(body, opts);
    }
    let (bytes, owned_opts) = (body.to_vec(), opts.clone());
    match tokio::task::spawn_blocking(move || parse(&bytes, &owned_opts)).await {
        Ok(result) => result,
        // The blocking pool is gone only while the runtime shuts down; reading inline is still correct.
        Err(_) => parse(body, opts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_version_padded(padding: usize) -> Vec<u8> {
        format!(
            r#"<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"><LookupVersion><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId><ToAgencyId><AgencyId>ALMA</AgencyId></ToAgencyId><VersionSupported>http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd</VersionSupported></LookupVersion><!--{}--></NCIPMessage>"#,
            "x".repeat(padding)
        )
        .into_bytes()
    }

    // A current-thread runtime, as in the Lambda functions: the blocking pool still answers.
    #[tokio::test]
    async fn a_large_body_read_on_the_blocking_pool_gives_the_same_message_as_inline() {
        let opts = ReadOptions::default();
        let large = lookup_version_padded(100 * 1024);
        assert!(large.len() > INLINE_LIMIT);
        assert_eq!(read(&large, &opts).await.unwrap(), ncip::read(&large, &opts).unwrap());
        assert_eq!(peek(&large, &opts).await.unwrap(), ncip::peek(&large, &opts).unwrap());
    }
}
