//! The pages people read: the staff console (status, queue, problems, sign-in) and the OpenURL path's own
//! pages, built with the workspace's HTML builder ([`bridge_html`]), so every value from a request, a record or
//! Alma is escaped and isolated for bidirectional text by construction.
//!
//! The console's pages share one layout ([`console`]): a header linking every staff page, a search box that
//! finds a request by Relais id or item barcode, and the sign-out button. They are server-rendered and carry
//! no script at all; their Content-Security-Policy ([`staff_html`]) forbids scripts, so an injected one could
//! not run either.

pub use bridge_html::{Element, Node, Page, el, table};

use super::auth::StaffCredential;
use super::session::{CSRF_FIELD, Session};
use axum::response::Response;
use std::sync::LazyLock;

/// The staff pages' style: light, readable without colour (state is always written out, never only shown by
/// a colour), with a visible focus ring for keyboard use.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem}\
                     table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;\
                     vertical-align:top}header{border-bottom:2px solid #333;margin-bottom:1rem;padding-bottom:.5rem}\
                     nav ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:1rem}\
                     header form{display:inline-block;margin:.5rem 1rem 0 0}a:focus,button:focus,input:focus,\
                     select:focus{outline:3px solid #000;outline-offset:2px}[aria-current=page]{font-weight:bold}\
                     td form{margin:0 0 .3rem 0}";

/// A page titled `title` in the bridge's style.
pub fn page(title: impl AsRef<str>) -> Page {
    Page::new(title).style(STYLE)
}

/// The console's pages, in the order the header lists them.
const CONSOLE: [(&str, &str); 3] = [("/queue", "Outbox"), ("/problems", "Problems"), ("/reconcile", "Reconciliation")];

/// Who is looking at a staff page, and how they proved it.
#[derive(Debug, Clone)]
pub struct Viewer<'a> {
    /// The token presented (as a bearer header, or through the session cookie).
    pub credential: StaffCredential<'a>,
    /// The browser session, when the page was asked for with the cookie rather than a bearer header: its forms
    /// then carry the session's CSRF token.
    pub session: Option<Session<'a>>,
}

impl Viewer<'_> {
    /// Whether the viewer may re-drive and discard.
    pub fn may_act(&self) -> bool {
        matches!(self.credential, StaffCredential::Staff(_))
    }

    /// A form posting to `action`, carrying the session's CSRF token (a bearer-header viewer has none and
    /// needs none: its own client sends the header).
    pub fn form(&self, action: impl AsRef<str>) -> Element {
        let form = el("form").attr("method", "post").attr("action", action);
        match &self.session {
            Some(session) => form.child(hidden(CSRF_FIELD, &session.csrf)),
            None => form,
        }
    }
}

/// A hidden form field.
pub fn hidden(name: &'static str, value: impl AsRef<str>) -> Element {
    el("input").attr("type", "hidden").attr("name", name).attr("value", value)
}

/// A console page titled `title`: the header (every staff page, the request search, sign-out) is in place;
/// the caller pushes the page's own content after it. `current` is the page's own path in the header, if it
/// is one of them.
pub fn console(title: impl AsRef<str>, current: Option<&str>, viewer: &Viewer<'_>) -> Page {
    let links = CONSOLE.iter().map(|(path, label)| {
        let link = el("a").attr("href", *path).text(label);
        let link = if current == Some(*path) { link.attr("aria-current", "page") } else { link };
        el("li").child(link)
    });
    let nav = el("nav").attr("aria-label", "Staff console").child(el("ul").children(links));
    let search = el("form")
        .attr("method", "get")
        .attr("action", "/requests")
        .attr("role", "search")
        .child(el("label").attr("for", "console-search").text("Relais request id or item barcode "))
        .child(
            el("input")
                .attr("type", "search")
                .attr("id", "console-search")
                .attr("name", "q")
                .attr("required", "required"),
        )
        .text(" ")
        .child(el("button").attr("type", "submit").text("Find"));
    let who = match viewer.credential {
        StaffCredential::Staff(_) => "Signed in with the staff token.",
        StaffCredential::Status => "Signed in with the read-only status token.",
    };
    let mut header = el("header").child(nav).child(search).child(el("span").text(who));
    if viewer.session.is_some() {
        let sign_out = viewer.form("/signout").child(el("button").attr("type", "submit").text("Sign out"));
        header = header.text(" ").child(sign_out);
    }
    page(title).with(header)
}

/// The Content-Security-Policy of the staff pages: nothing loads or runs but the page's own style sheet
/// (allowed by its hash), and forms post only to the bridge itself.
static CSP: LazyLock<String> = LazyLock::new(|| {
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
});

/// A staff page as sent: HTML with the console's Content-Security-Policy, never framed, never cached.
pub fn staff_html(status: u16, page: String) -> Response {
    let mut answer = super::respond::html(status, page);
    let headers = answer.headers_mut();
    if let Ok(csp) = http::HeaderValue::from_str(&CSP) {
        headers.insert("Content-Security-Policy", csp);
    }
    headers.insert("X-Frame-Options", http::HeaderValue::from_static("DENY"));
    headers.insert("Referrer-Policy", http::HeaderValue::from_static("no-referrer"));
    answer
}

/// An instant as staff read it: in the library's time zone, to the minute (`2026-12-07 14:05 CET`).
pub fn local_time(at: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// How long ago `at` was, in words (`just now`, `5 minutes ago`, `3 hours ago`, `2 days ago`).
pub fn age(at: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let seconds = now.as_second() - at.as_second();
    let (count, unit) = match seconds {
        s if s < 60 => return if s < 0 { "in the future".to_owned() } else { "just now".to_owned() },
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{count} {unit}{} ago", if count == 1 { "" } else { "s" })
}

/// An instant in a table cell: local time and age, with the exact instant for machines (`<time datetime>`).
pub fn when(at: jiff::Timestamp, now: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> Node {
    el("time").attr("datetime", at.to_string()).value(local_time(at, zone)).child(el("br")).value(age(at, now)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_local_to_the_minute_and_ages_are_words() {
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let at: jiff::Timestamp = "2026-12-07T13:05:59.123456789Z".parse().unwrap();
        assert_eq!(local_time(at, &zone), "2026-12-07 14:05 CET");
        assert_eq!(local_time(at, &jiff::tz::TimeZone::UTC), "2026-12-07 13:05 UTC");
        let later = |s: i64| at + jiff::SignedDuration::from_secs(s);
        assert_eq!(age(at, later(30)), "just now");
        assert_eq!(age(at, later(60)), "1 minute ago");
        assert_eq!(age(at, later(5 * 60 + 10)), "5 minutes ago");
        assert_eq!(age(at, later(3 * 3600)), "3 hours ago");
        assert_eq!(age(at, later(2 * 86_400 + 5)), "2 days ago");
        assert_eq!(age(later(10), at), "in the future");
    }

    #[test]
    fn the_policy_allows_the_style_sheet_by_its_hash_and_no_script() {
        assert!(CSP.starts_with("default-src 'none'; style-src 'sha256-"), "{}", *CSP);
        assert!(!CSP.contains("script-src") && !CSP.contains("unsafe"));
    }
}
