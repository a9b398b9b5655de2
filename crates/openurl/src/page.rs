//! The small HTML pages a patron sees instead of the Relais form: 400 when the link cannot be used,
//! 401 when the sign-in token is not accepted, 503 and 403 when the library system cannot confirm or does not
//! know the signed-in patron. Built with `bridge_html`: everything echoed from the request is
//! escaped and isolated for bidirectional text by construction.

use crate::error::BadOpenUrl;
use crate::identity::TokenError;
use bridge_html::{Page, el};

/// The 400 page for a link that cannot be turned into a request.
pub fn error_page(err: &BadOpenUrl) -> String {
    render(
        "This interlibrary loan link cannot be used",
        format!("The request could not be started because {err}."),
        "Go back to the search results and try the request link again. If it keeps failing, \
         ask the library's interlibrary loan staff and mention this message.",
    )
}

/// The 401 page for a missing, invalid or expired sign-in token.
pub fn unauthorized_page(err: &TokenError) -> String {
    render(
        "Please sign in again",
        format!("Your sign-in could not be confirmed: {err}."),
        "Sign in to the library search again and then repeat the request.",
    )
}

/// The 503 page when the patron is signed in but the library system could not say which of its patrons the
/// sign-in names (an outage or maintenance): the request form is not opened under an id Relais might not know.
pub fn patron_unconfirmed_page() -> String {
    render(
        "Your library account could not be checked just now",
        "Your sign-in is valid, but the library system did not answer in time, so the request form was not \
         opened."
            .to_owned(),
        "Try the request link again in a few minutes. If it keeps failing, ask the library's interlibrary loan \
         staff.",
    )
}

/// The 403 page when the sign-in names no patron the library system knows (a new account not loaded yet, or
/// a sign-in that is not a library borrower's).
pub fn patron_unknown_page() -> String {
    render(
        "No library account was found for your sign-in",
        "Your sign-in is valid, but the library system has no borrower record for it, so interlibrary loan \
         requests cannot be made under it."
            .to_owned(),
        "If you have just joined, try again tomorrow; otherwise ask the library's interlibrary loan staff.",
    )
}

/// Why a signed-in patron is not sent to the request form, in the patron's words: never Alma's own details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatronRefusal {
    /// The library account is not active (or under a block).
    NotActive,
    /// The library account has expired.
    Expired,
    /// The account's patron group may not use interlibrary loan.
    NotEligible,
    /// No library account carries the sign-in's identity.
    NoAccount,
    /// More than one library account carries it, so the bridge cannot tell which is the patron's.
    Ambiguous,
}

/// The 403 page for a signed-in patron who may not request through interlibrary loan.
pub fn patron_refused_page(reason: PatronRefusal) -> String {
    let (heading, problem, advice) = match reason {
        PatronRefusal::NotActive => (
            "Your library account cannot be used for interlibrary loan just now",
            "Your library account is not active, or has a block on it.",
            "Ask the library's circulation or interlibrary loan staff; once your account is in order, repeat \
             the request.",
        ),
        PatronRefusal::Expired => (
            "Your library account has expired",
            "Your library account is past its expiry date, so interlibrary loan requests cannot be made under it.",
            "Ask the library's circulation staff to renew your account, then repeat the request.",
        ),
        PatronRefusal::NotEligible => (
            "Interlibrary loan is not available to your account",
            "Your library account belongs to a group of borrowers the library does not offer interlibrary loan \
             to.",
            "If you think this is wrong, ask the library's interlibrary loan staff.",
        ),
        PatronRefusal::NoAccount => (
            "No library account was found for your sign-in",
            "You signed in, but the library system has no borrower record for that sign-in.",
            "If you have just joined, try again tomorrow; otherwise ask the library's interlibrary loan staff.",
        ),
        PatronRefusal::Ambiguous => (
            "Your sign-in matches more than one library account",
            "You signed in, but more than one borrower record carries that sign-in, so the library cannot tell \
             which is yours.",
            "Ask the library's interlibrary loan staff to correct the records, then repeat the request.",
        ),
    };
    render(heading, problem.to_owned(), advice)
}

/// The 400 page when a sign-in's return cannot be accepted: an old or altered link, a sign-in started in
/// another browser, or an answer from the identity provider that fails its checks.
pub fn sign_in_failed_page() -> String {
    render(
        "The sign-in could not be completed",
        "The answer from the sign-in service could not be accepted (it may be old, used already, or from \
         another browser window)."
            .to_owned(),
        "Go back to the search results and follow the request link again.",
    )
}

/// The page after signing out of the request form's session.
pub fn signed_out_page() -> String {
    render(
        "You are signed out of interlibrary loan requests",
        "The next request link will ask you to sign in again.".to_owned(),
        "On a shared computer, also close the browser so that the library search signs you out too.",
    )
}

fn render(heading: &'static str, problem: String, advice: &'static str) -> String {
    Page::new(heading)
        .head(el("meta").attr("name", "robots").attr("content", "noindex"))
        .with(el("h1").text(heading))
        .with(el("p").value(problem))
        .with(el("p").text(advice))
        .render()
}

/// Escapes the five characters that matter in HTML text and attribute values (OWASP XSS rule #1), for a
/// caller that writes no page of its own; pages are built with `bridge_html`, which escapes by construction.
pub fn escape_html(text: &str) -> String {
    bridge_html::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_values_are_escaped() {
        let err = BadOpenUrl::InvalidPercentEncoding { key: "<script>alert('x')</script>".into(), near: "%\"<".into() };
        let page = error_page(&err);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(page.contains("%&quot;&lt;"));
    }

    #[test]
    fn markup_and_both_quotes_are_escaped() {
        assert_eq!(escape_html(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }

    #[test]
    fn the_page_says_what_is_wrong() {
        let page = error_page(&BadOpenUrl::NothingToRequest);
        assert!(page.contains("names no title and no identifier"), "{page}");
    }
}
