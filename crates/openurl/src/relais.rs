//! The redirect to the Relais request form: which keys Relais reads, built from an allow-list by an
//! RFC 3986 encoder, with every field capped and the whole URL kept under 2,000 characters.
//!
//! Sources for the keys (OCLC Relais ILL / D2D help, "Relais Portal: OpenURL" and "Relais Portal FAQ"):
//! - `group=patron`, `LS=<library symbol>` and `PI=<patron id>` authenticate the patron; `genre` picks
//!   the request template (Article, Book, Book Chapter, Conference, Thesis; any other value gets the
//!   generic template with every field).
//! - `base64PI=true` says `PI` holds RSA-encrypted, base64-encoded text (OCLC "Encryption" page).
//! - Bibliographic data goes as Z39.88-2004 KEV `rft.*` keys, the shape Alma itself uses for its
//!   resource-sharing-broker link to Relais (`...&dest=discovery&rft.btitle=...&rft.au=...`).
//!
//! Relais also treats `id` as an alias of `PI` and `surname` of `PS`, so the 0.1 habit of sending
//! `id=doi:...` must never reach it: DOIs and PubMed ids go out as 1.0 `rft_id` URIs.

use std::borrow::Cow;
use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::{Host, Url};

use crate::citation::{Citation, Genre};
use crate::error::RelaisFormError;
use crate::normalise::FIELD_CAP;

/// The redirect URL is always shorter than this. Older browsers and some proxies cut URLs at
/// 2,048 characters; staying under 2,000 leaves room for Relais' own redirects.
pub const MAX_REDIRECT_LEN: usize = 2000;

/// The longest form URL the configuration may give; leaves most of the budget for the citation.
pub const MAX_FORM_URL_LEN: usize = 512;

/// A free-text field is shortened no further than this many characters before fields are dropped.
const SHORTEN_FLOOR: usize = 40;

/// RFC 3986 unreserved characters stay as they are; everything else is percent-encoded as UTF-8, as
/// OCLC's Relais pages ask ("all special characters must be percent-encoded as per RFC 3986").
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Keys Relais reads as patron identity or navigation (Relais Portal OpenURL "User tags" and
/// "Navigation tags"), compared case-insensitively. None of them may come from an incoming link:
/// a `PI` written into a Primo link would let anyone request as anyone.
const CONTROL_TAGS: &[&str] =
    &["pi", "ps", "ls", "group", "ut", "ul", "up", "rk", "aid", "authzid", "dest", "reqno", "ft", "pl", "surname"];

/// Whether `key` is a Relais control tag (including every `base64*` flag).
pub fn is_control_tag(key: &str) -> bool {
    let key = key.trim();
    CONTROL_TAGS.iter().any(|tag| tag.eq_ignore_ascii_case(key))
        || (key.len() >= 6 && key.as_bytes()[..6].eq_ignore_ascii_case(b"base64"))
}

/// Who the patron is, as the bridge's own authentication established it. Never taken from the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatronTag {
    /// The patron id in clear, sent as `PI`; Relais trusts it as it stands.
    Plain(String),
    /// Base64 of the RSA-encrypted `id|yyyyMMdd HHmmss`, sent as `PI` with `base64PI=true`.
    /// Made by [`crate::identity::RelaisPiEncryptor`].
    Encrypted(String),
}

/// The configured Relais request form and library. Built once from configuration; the target's
/// scheme, host and path come only from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaisForm {
    form_url: String,
    library_symbol: String,
    /// `form_url?group=patron&LS=...&dest=discovery`, encoded once.
    prefix: String,
}

impl RelaisForm {
    /// Validates the form URL (https, or http only for loopback hosts used in tests; no credentials,
    /// query or fragment) and the library symbol.
    pub fn new(form_url: &str, library_symbol: &str) -> Result<Self, RelaisFormError> {
        let form_url = form_url.trim();
        if form_url.len() > MAX_FORM_URL_LEN {
            return Err(RelaisFormError::FormUrlTooLong(form_url.len(), MAX_FORM_URL_LEN));
        }
        let url = Url::parse(form_url).map_err(|_| RelaisFormError::NotAUrl(form_url.to_owned()))?;
        let loopback = match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => return Err(RelaisFormError::NotAUrl(form_url.to_owned())),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => return Err(RelaisFormError::InsecureScheme(form_url.to_owned())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(RelaisFormError::HasCredentials);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(RelaisFormError::HasQueryOrFragment);
        }
        let symbol = library_symbol.trim();
        let symbol_ok = (1..=32).contains(&symbol.len())
            && symbol.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !symbol_ok {
            return Err(RelaisFormError::BadLibrarySymbol(library_symbol.to_owned()));
        }
        let form_url = url.to_string();
        let prefix = format!("{form_url}?group=patron&LS={}&dest=discovery", utf8_percent_encode(symbol, QUERY_VALUE));
        Ok(Self { form_url, library_symbol: symbol.to_owned(), prefix })
    }

    /// The form URL as validated (the `url` crate's normal form, e.g. a lower-case host).
    pub fn form_url(&self) -> &str {
        &self.form_url
    }

    /// The library's Relais symbol, sent as `LS` so the patron signs in to the right library.
    pub fn library_symbol(&self) -> &str {
        &self.library_symbol
    }

    /// The `Location` for the 302: the form URL, the fixed patron and navigation keys, the patron tag
    /// when there is one, and the citation. Under [`MAX_REDIRECT_LEN`] characters as long as the form
    /// URL and patron tag leave room (a 512-character form URL and a 4096-bit encrypted id do).
    pub fn redirect_url(&self, citation: &Citation, patron: Option<&PatronTag>) -> String {
        let mut fixed: Vec<(&str, Cow<'_, str>)> = Vec::with_capacity(4);
        match patron {
            Some(PatronTag::Plain(id)) => fixed.push(("PI", Cow::Borrowed(id))),
            Some(PatronTag::Encrypted(text)) => {
                fixed.push(("PI", Cow::Borrowed(text)));
                fixed.push(("base64PI", Cow::Borrowed("true")));
            }
            None => {}
        }
        if let Some(genre) = relais_template(citation.genre) {
            fixed.push(("genre", Cow::Borrowed(genre)));
        }
        if let Some(genre) = kev_genre(citation.genre) {
            fixed.push(("rft.genre", Cow::Borrowed(genre)));
        }
        let mut fields = citation_fields(citation);
        let fixed_len: usize =
            self.prefix.len() + fixed.iter().map(|(k, v)| 2 + k.len() + encoded_len(v)).sum::<usize>();
        fit_budget(&mut fields, MAX_REDIRECT_LEN.saturating_sub(fixed_len + 1));

        let mut out = String::with_capacity(MAX_REDIRECT_LEN);
        out.push_str(&self.prefix);
        let all = fixed.iter().map(|(k, v)| (*k, v.as_ref()));
        for (key, value) in all.chain(fields.iter().map(|f| (f.key, f.value.as_ref()))) {
            out.push('&');
            out.push_str(key);
            out.push('=');
            out.extend(utf8_percent_encode(value, QUERY_VALUE));
        }
        out
    }
}

/// The Relais `genre` value that opens the matching template. Unknown sends none, which gives the
/// generic template with every bibliographic field (Relais Portal "Add requests").
fn relais_template(genre: Genre) -> Option<&'static str> {
    match genre {
        Genre::Article => Some("article"),
        Genre::Book => Some("book"),
        Genre::Chapter => Some("bookitem"),
        Genre::ConferencePaper => Some("conference"),
        Genre::Thesis => Some("thesis"),
        Genre::Report => Some("report"),
        Genre::Unknown => None,
    }
}

/// The Z39.88-2004 `rft.genre` value (journal and book KEV formats) for the same genre.
fn kev_genre(genre: Genre) -> Option<&'static str> {
    match genre {
        Genre::Article => Some("article"),
        Genre::Book => Some("book"),
        Genre::Chapter => Some("bookitem"),
        Genre::ConferencePaper => Some("proceeding"),
        Genre::Report => Some("report"),
        Genre::Thesis | Genre::Unknown => None,
    }
}

/// One outgoing citation key. `keep` orders what is dropped first when the URL would be too long
/// (lowest first); `free_text` fields are shortened before anything is dropped.
struct Field<'a> {
    key: &'static str,
    value: Cow<'a, str>,
    free_text: bool,
    keep: u8,
}

fn citation_fields<'a>(c: &'a Citation) -> Vec<Field<'a>> {
    let mut fields = Vec::with_capacity(24);
    let mut push = |key: &'static str, value: Option<Cow<'a, str>>, free_text: bool, keep: u8| {
        if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
            fields.push(Field { key, value: capped(value), free_text, keep });
        }
    };
    fn borrowed(v: &Option<String>) -> Option<Cow<'_, str>> {
        v.as_deref().map(Cow::Borrowed)
    }
    let author = c.first_author.as_ref();
    let structured = author.filter(|a| a.given.is_some());

    push("rft.title", c.container_title().or(c.display_title()).map(Cow::Borrowed), true, 9);
    push("rft.atitle", borrowed(&c.article_title), true, 9);
    push("rft.jtitle", borrowed(&c.journal_title), true, 4);
    push("rft.btitle", borrowed(&c.book_title), true, 4);
    push("rft.au", author.map(|a| Cow::Owned(a.display_name())), true, 8);
    push("rft.aulast", structured.map(|a| Cow::Borrowed(a.family.as_str())), true, 2);
    push("rft.aufirst", structured.and_then(|a| a.given.as_deref()).map(Cow::Borrowed), true, 2);
    let issn = c.issn.as_ref().or(c.eissn.as_ref());
    push("rft.issn", issn.map(|i| Cow::Borrowed(i.as_str())), false, 9);
    let eissn = c.eissn.as_ref().filter(|_| c.issn.is_some());
    push("rft.eissn", eissn.map(|i| Cow::Borrowed(i.as_str())), false, 3);
    push("rft.isbn", c.isbn.as_ref().map(|i| Cow::Borrowed(i.as_str())), false, 9);
    push("rft.volume", borrowed(&c.volume), false, 7);
    push("rft.issue", borrowed(&c.issue), false, 7);
    push("rft.spage", borrowed(&c.start_page), false, 3);
    push("rft.epage", borrowed(&c.end_page), false, 3);
    push("rft.pages", borrowed(&c.pages), false, 6);
    push("rft.date", c.year.map(|y| Cow::Owned(y.to_string())), false, 8);
    push("rft.pub", borrowed(&c.publisher), true, 3);
    push("rft.place", borrowed(&c.place), true, 2);
    push("rft.edition", borrowed(&c.edition), true, 3);
    push("rft_id", c.doi.as_deref().map(|d| Cow::Owned(format!("info:doi/{d}"))), false, 6);
    push("rft_id", c.pmid.as_deref().map(|p| Cow::Owned(format!("info:pmid/{p}"))), false, 5);
    push("rft.oclcnum", borrowed(&c.oclc_number), false, 5);
    fields
}

/// The citation may have been built by hand rather than by [`crate::parse`]; cap it here as well.
fn capped(value: Cow<'_, str>) -> Cow<'_, str> {
    match value.char_indices().nth(FIELD_CAP) {
        Some((cut, _)) => Cow::Owned(value[..cut].trim_end().to_owned()),
        None => value,
    }
}

/// Length after [`QUERY_VALUE`] encoding: unreserved bytes stay, every other byte becomes `%XX`.
fn encoded_len(value: &str) -> usize {
    value.bytes().map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') { 1 } else { 3 }).sum()
}

fn field_len(f: &Field<'_>) -> usize {
    2 + f.key.len() + encoded_len(&f.value)
}

/// Makes the fields fit in `budget` encoded characters. First the free-text fields are cut down to a
/// common level, so the longest lose the most and short ones are untouched (water-filling), but none
/// below [`SHORTEN_FLOOR`] characters; if that is not enough, whole fields go, least useful first.
fn fit_budget(fields: &mut Vec<Field<'_>>, budget: usize) {
    let total: usize = fields.iter().map(field_len).sum();
    if total <= budget {
        return;
    }
    let encoded: Vec<usize> = fields.iter().map(|f| encoded_len(&f.value)).collect();
    let floors: Vec<usize> = fields
        .iter()
        .map(|f| match f.value.char_indices().nth(SHORTEN_FLOOR) {
            Some((cut, _)) if f.free_text => encoded_len(&f.value[..cut]),
            _ => encoded_len(&f.value),
        })
        .collect();
    let size_at = |level: usize| -> usize {
        (0..fields.len())
            .map(|i| {
                let value = if fields[i].free_text { encoded[i].min(level.max(floors[i])) } else { encoded[i] };
                2 + fields[i].key.len() + value
            })
            .sum()
    };
    // The highest level that fits; size_at grows with the level, so a binary search finds it.
    let (mut low, mut high) = (0, encoded.iter().copied().max().unwrap_or(0));
    while low < high {
        let mid = (low + high).div_ceil(2);
        if size_at(mid) <= budget { low = mid } else { high = mid - 1 }
    }
    for (i, field) in fields.iter_mut().enumerate() {
        let target = low.max(floors[i]);
        if field.free_text && encoded[i] > target {
            field.value = Cow::Owned(shorten(&field.value, target));
        }
    }
    let mut total: usize = fields.iter().map(field_len).sum();
    while total > budget {
        let Some(weakest) = (0..fields.len()).min_by_key(|&i| (fields[i].keep, std::cmp::Reverse(i))) else {
            break;
        };
        total -= field_len(&fields[weakest]);
        fields.remove(weakest);
    }
}

/// The longest prefix whose encoded length is at most `target`, but never fewer than
/// [`SHORTEN_FLOOR`] characters, without trailing spaces.
fn shorten(value: &str, target: usize) -> String {
    let mut used = 0;
    let mut cut = value.len();
    for (count, (index, c)) in value.char_indices().enumerate() {
        let mut buf = [0; 4];
        used += encoded_len(c.encode_utf8(&mut buf));
        if used > target && count >= SHORTEN_FLOOR {
            cut = index;
            break;
        }
    }
    value[..cut].trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_url_must_be_https_or_loopback_http() {
        assert!(RelaisForm::new("https://relais.example.edu/user/login.html", "ABC").is_ok());
        assert!(RelaisForm::new("http://127.0.0.1:8080/user/login.html", "ABC").is_ok());
        assert!(RelaisForm::new("http://localhost/user/login.html", "ABC").is_ok());
        assert!(RelaisForm::new("http://[::1]/user/login.html", "ABC").is_ok());
        assert_eq!(
            RelaisForm::new("http://relais.example.edu/user/login.html", "ABC"),
            Err(RelaisFormError::InsecureScheme("http://relais.example.edu/user/login.html".into()))
        );
        assert!(matches!(
            RelaisForm::new("javascript:alert(1)", "ABC"),
            Err(RelaisFormError::NotAUrl(_) | RelaisFormError::InsecureScheme(_))
        ));
        assert_eq!(RelaisForm::new("https://u:p@relais.example.edu/", "ABC"), Err(RelaisFormError::HasCredentials));
        assert_eq!(
            RelaisForm::new("https://relais.example.edu/user/login.html?group=staff", "ABC"),
            Err(RelaisFormError::HasQueryOrFragment)
        );
        assert!(matches!(
            RelaisForm::new("https://relais.example.edu/", "A&PI=1"),
            Err(RelaisFormError::BadLibrarySymbol(_))
        ));
    }

    #[test]
    fn control_tags_are_recognised_in_any_case() {
        for key in ["PI", "pi", "Group", "LS", "base64PI", "BASE64ps", "authzid", "dest", "FT", "surname"] {
            assert!(is_control_tag(key), "{key}");
        }
        for key in ["rft.title", "id", "genre", "title"] {
            assert!(!is_control_tag(key), "{key}");
        }
    }

    #[test]
    fn budget_shortens_the_longest_free_text_first() {
        let mut fields = vec![
            Field { key: "rft.atitle", value: Cow::Owned("a".repeat(200)), free_text: true, keep: 9 },
            Field { key: "rft.jtitle", value: Cow::Owned("b".repeat(100)), free_text: true, keep: 4 },
            Field { key: "rft.volume", value: Cow::Borrowed("12"), free_text: false, keep: 7 },
        ];
        let before: usize = fields.iter().map(field_len).sum();
        fit_budget(&mut fields, before - 50);
        assert_eq!(fields[0].value.len(), 150);
        assert_eq!(fields[1].value.len(), 100);
        fit_budget(&mut fields, before - 150);
        assert_eq!((fields[0].value.len(), fields[1].value.len()), (75, 75));
        fit_budget(&mut fields, 70);
        let keys: Vec<_> = fields.iter().map(|f| f.key).collect();
        assert_eq!(keys, ["rft.atitle", "rft.volume"]);
        assert_eq!(fields[0].value.len(), SHORTEN_FLOOR);
    }
}
