//! What can be wrong with an incoming OpenURL or with the Relais settings, in words a patron or an
//! administrator can act on. Every variant maps to one HTTP answer: [`BadOpenUrl`] to a 400 page
//! (see [`crate::error_page`]), [`RelaisFormError`] to a refusal to start.

use thiserror::Error;

/// The longest raw query string accepted. Real Primo and Alma links stay well under 3 KiB; 8 KiB leaves
/// room for long author lists while keeping a single request's work bounded.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;

/// Why an incoming OpenURL cannot be turned into a Relais request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BadOpenUrl {
    /// The raw query string is longer than [`MAX_QUERY_BYTES`].
    #[error("the link is {bytes} bytes long; the most this service accepts is {max} bytes")]
    TooLong {
        /// The query string's length.
        bytes: usize,
        /// [`MAX_QUERY_BYTES`], told to the patron.
        max: usize,
    },

    /// A line break or NUL byte, raw or percent-encoded. Never legitimate in citation data, and the
    /// classic tool for header splitting, so the whole link is refused rather than cleaned.
    #[error("the link contains a line break or NUL character in the field \"{key}\"")]
    ControlCharacter {
        /// The key whose value held it, so the page can say which field is at fault.
        key: String,
    },

    /// A `%` not followed by two hexadecimal digits.
    #[error("the field \"{key}\" has a broken percent-escape near \"{near}\"")]
    InvalidPercentEncoding {
        /// The key whose value (or the raw key itself, when the key holds the escape) is broken.
        key: String,
        /// The few characters around the broken escape, so the fault can be found in a long link.
        near: String,
    },

    /// After clean-up the link names no title and no identifier, so Relais would get an empty form.
    #[error(
        "the link names no title and no identifier (ISBN, ISSN, DOI, PubMed id or OCLC number), \
         so there is nothing to request"
    )]
    NothingToRequest,
}

impl BadOpenUrl {
    /// The HTTP status the handler answers with.
    pub fn http_status(&self) -> u16 {
        400
    }
}

/// A setting for the Relais hand-off that cannot be used. Raised once, when configuration is read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RelaisFormError {
    /// The form URL does not parse as an absolute URL.
    #[error("the Relais form URL \"{0}\" is not a valid absolute URL")]
    NotAUrl(String),
    /// Not `https`: the redirect may carry the patron id, which must not travel in clear.
    #[error("the Relais form URL must use https (plain http is allowed only for loopback test hosts), got \"{0}\"")]
    InsecureScheme(String),
    /// Userinfo in the URL would be sent to every patron's browser.
    #[error("the Relais form URL must not contain a user name or password")]
    HasCredentials,
    /// The bridge writes the whole query itself (`group`, `LS`, `dest`); a configured one would clash.
    #[error("the Relais form URL must not carry a query or fragment; group, LS and dest are added by the bridge")]
    HasQueryOrFragment,
    /// Longer than [`crate::MAX_FORM_URL_LEN`] (length, limit): too little of the redirect would be left
    /// for the citation.
    #[error("the Relais form URL is {0} characters long; at most {1} are allowed")]
    FormUrlTooLong(usize, usize),
    /// The library symbol (`LS`) the patron signs in under is not 1 to 32 letters, digits, `.`, `-` or `_`.
    #[error("the Relais library symbol \"{0}\" is not valid: use 1 to 32 letters, digits, '.', '-' or '_'")]
    BadLibrarySymbol(String),
}
