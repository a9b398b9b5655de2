//! The small HTML pages a patron sees instead of the Relais form: 400 when the link cannot be used,
//! 401 when the sign-in token is not accepted. Everything echoed from the request is HTML-escaped.

use crate::error::BadOpenUrl;
use crate::identity::TokenError;

/// The 400 page for a link that cannot be turned into a request.
pub fn error_page(err: &BadOpenUrl) -> String {
    render(
        "This interlibrary loan link cannot be used",
        &format!("The request could not be started because {err}."),
        "Go back to the search results and try the request link again. If it keeps failing, \
         ask the library's interlibrary loan staff and mention this message.",
    )
}

/// The 401 page for a missing, invalid or expired sign-in token.
pub fn unauthorized_page(err: &TokenError) -> String {
    render(
        "Please sign in again",
        &format!("Your sign-in could not be confirmed: {err}."),
        "Sign in to the library search again and then repeat the request.",
    )
}

fn render(heading: &str, problem: &str, advice: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <meta name=\"robots\" content=\"noindex\"><title>{h}</title></head>\n\
         <body>\n<h1>{h}</h1>\n<p>{p}</p>\n<p>{a}</p>\n</body>\n</html>\n",
        h = escape_html(heading),
        p = escape_html(problem),
        a = escape_html(advice),
    )
}

/// Escapes the five characters that matter in HTML text and attribute values (OWASP XSS rule #1). The one
/// escaper of the workspace: the bridge's staff pages use it too.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
