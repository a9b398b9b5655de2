//! OpenURL hand-off from Primo/Alma to the Relais request form: pure functions, no I/O.
//!
//! A patron finds an item in Primo and follows the interlibrary-loan link on Alma's services page to the
//! bridge's `GET /openurl?...`. The handler (in the core library, not here) calls:
//!
//! 1. [`parse`] on the raw query string: OpenURL 0.1 or 1.0 KEV, decoded (UTF-8 or Windows-1252,
//!    Unicode NFC) and cleaned into a typed, serialisable [`Citation`]; or a [`BadOpenUrl`] whose
//!    [`error_page`] is the 400 answer.
//! 2. Optionally [`identity::JwtVerifier::verify`] on the IdP's token for the patron id (a
//!    [`identity::TokenError`] renders as the 401 [`unauthorized_page`]), then either
//!    [`identity::VerifiedPatron::plain_tag`] or [`identity::RelaisPiEncryptor::encrypt`] for the
//!    [`PatronTag`].
//! 3. [`RelaisForm::redirect_url`] for the `Location` of the 302 (send it with
//!    `Cache-Control: no-store`: it may carry the patron id).
//!
//! ```
//! let form = openurl::RelaisForm::new("https://relais.example.edu/user/login.html", "EXU").unwrap();
//! let citation = openurl::parse("genre=article&atitle=On+fish&title=Nature&issn=0028-0836").unwrap();
//! assert_eq!(
//!     form.redirect_url(&citation, None),
//!     "https://relais.example.edu/user/login.html?group=patron&LS=EXU&dest=discovery&genre=article\
//!      &rft.genre=article&rft.title=Nature&rft.atitle=On%20fish&rft.jtitle=Nature&rft.issn=0028-0836"
//! );
//! ```
//!
//! What this crate is not: it reads no configuration files or environment, keeps no state, fetches no
//! JWKS and looks at no clock; the caller passes settings, keys and the current time.

#![warn(missing_docs, unreachable_pub)]

mod authors;
mod citation;
mod error;
mod identifiers;
pub mod identity;
mod kev;
mod normalise;
mod page;
mod parse;
mod relais;

pub use citation::{Author, Citation, Genre, Isbn, Issn, OpenUrlVersion};
pub use error::{BadOpenUrl, MAX_QUERY_BYTES, RelaisFormError};
pub use normalise::FIELD_CAP;
pub use page::{
    PatronRefusal, error_page, escape_html, patron_refused_page, patron_unconfirmed_page, patron_unknown_page,
    sign_in_failed_page, signed_out_page, unauthorized_page,
};
pub use parse::parse;
pub use relais::{MAX_FORM_URL_LEN, MAX_REDIRECT_LEN, PatronTag, RelaisForm, is_control_tag};
