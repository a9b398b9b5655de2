//! Standard numbers found in links: ISBN and ISSN (check digits per ISO 2108 and ISO 3297), DOI,
//! PubMed id, OCLC number and Alma MMS id. Each function takes one raw field value and returns only
//! what survives validation; a wrong check digit is dropped, since Relais would match the wrong book.

use crate::citation::{Isbn, Issn};
use crate::normalise::{starts_with_ignore_case, strip_prefix_ignore_case};

/// Every valid ISBN in a field. Alma and Primo put several in one field ("0299309304 9780299309305",
/// "9780299309305 (pbk.); 029930930X"), with hyphens and qualifiers.
pub(crate) fn isbns_in(field: &str) -> impl Iterator<Item = Isbn> + '_ {
    candidates(field).filter_map(|digits| match digits.len() {
        10 if isbn10_ok(&digits) => Some(Isbn(digits)),
        13 if isbn13_ok(&digits) => Some(Isbn(digits)),
        _ => None,
    })
}

/// Every valid ISSN in a field, formatted `NNNN-NNNC`.
pub(crate) fn issns_in(field: &str) -> impl Iterator<Item = Issn> + '_ {
    candidates(field).filter_map(|digits| {
        (digits.len() == 8 && issn_ok(&digits)).then(|| Issn(format!("{}-{}", &digits[..4], &digits[4..])))
    })
}

/// Runs of digits, hyphens and a final `X`, with the hyphens removed: the shapes an ISBN or ISSN is
/// written in. Anything else (spaces, `;`, `(pbk.)`, the `urn:ISBN:` prefix) separates candidates.
fn candidates(field: &str) -> impl Iterator<Item = String> + '_ {
    field
        .split(|c: char| !(c.is_ascii_digit() || c == '-' || c == 'X' || c == 'x'))
        .filter(|run| !run.is_empty())
        .map(|run| run.chars().filter(|c| *c != '-').map(|c| c.to_ascii_uppercase()).collect())
        .filter(|digits: &String| {
            // `X` is only ever the check character.
            let body = &digits[..digits.len().saturating_sub(1)];
            !digits.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
        })
}

fn digit_value(c: u8) -> u32 {
    if c == b'X' { 10 } else { u32::from(c - b'0') }
}

fn isbn10_ok(d: &str) -> bool {
    let sum: u32 = d.bytes().zip((1..=10).rev()).map(|(c, w)| digit_value(c) * w).sum();
    sum.is_multiple_of(11)
}

fn isbn13_ok(d: &str) -> bool {
    if d.ends_with('X') {
        return false;
    }
    let sum: u32 = d.bytes().enumerate().map(|(i, c)| digit_value(c) * if i % 2 == 0 { 1 } else { 3 }).sum();
    sum.is_multiple_of(10)
}

fn issn_ok(d: &str) -> bool {
    let sum: u32 = d.bytes().zip((1..=8).rev()).map(|(c, w)| digit_value(c) * w).sum();
    sum.is_multiple_of(11)
}

/// A DOI from `rft_id=info:doi/...`, `id=doi:...`, `rft.doi` or a resolver URL. DOIs always start
/// with the directory indicator "10." and have a suffix after "/" (ISO 26324).
pub(crate) fn doi_in(field: &str) -> Option<String> {
    let start = ["info:doi/", "doi:", "https://doi.org/", "http://dx.doi.org/", "https://dx.doi.org/"]
        .iter()
        .find(|prefix| starts_with_ignore_case(field, prefix))
        .map_or(0, |prefix| prefix.len());
    let doi = field[start..].trim();
    let (prefix, suffix) = doi.split_once('/')?;
    (prefix.starts_with("10.") && !suffix.is_empty() && !doi.contains(char::is_whitespace)).then(|| doi.to_owned())
}

/// A PubMed id from `info:pmid/123`, `pmid:123` or a bare number.
pub(crate) fn pmid_in(field: &str) -> Option<String> {
    let digits = strip_prefix_ignore_case(field, "info:pmid/")
        .or_else(|| strip_prefix_ignore_case(field, "pmid:"))
        .unwrap_or(field);
    number(digits.trim())
}

/// An OCLC number from `info:oclcnum/123`, `(OCoLC)ocm00012345`, `ocn123`, `on123`, or WorldCat's
/// `<accessionnumber>123</accessionnumber>` in `rfe_dat`. Leading zeros go: OCLC numbers are integers.
pub(crate) fn oclc_number_in(field: &str) -> Option<String> {
    let mut rest = field.trim();
    if let Some(inner) = between(rest, "<accessionnumber>", "</accessionnumber>") {
        rest = inner.trim();
    }
    let lower = rest.to_ascii_lowercase();
    let mut s = lower.as_str();
    for prefix in ["info:oclcnum/", "oclcnum:", "(ocolc)"] {
        if let Some(stripped) = s.strip_prefix(prefix) {
            s = stripped.trim_start();
        }
    }
    for prefix in ["ocm", "ocn", "on"] {
        if let Some(stripped) = s.strip_prefix(prefix) {
            s = stripped;
            break;
        }
    }
    let n = number(s)?;
    let n = n.trim_start_matches('0');
    (!n.is_empty()).then(|| n.to_owned())
}

/// An Alma MMS id: all digits (Alma's ids start with 99 and end with the institution's four-digit code).
pub(crate) fn mms_id_in(field: &str) -> Option<String> {
    number(field.trim())
}

fn number(s: &str) -> Option<String> {
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_owned())
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let lower = s.to_ascii_lowercase();
    let start = lower.find(open)? + open.len();
    let end = start + lower[start..].find(close)?;
    Some(&s[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isbns(field: &str) -> Vec<String> {
        isbns_in(field).map(|i| i.0).collect()
    }

    #[test]
    fn several_isbns_in_one_field_with_qualifiers_and_hyphens() {
        assert_eq!(
            isbns("0-299-30930-4 (pbk.); 978-0-299-30930-5 urn:ISBN:155860832x"),
            ["0299309304", "9780299309305", "155860832X"]
        );
    }

    #[test]
    fn bad_check_digits_are_dropped() {
        assert_eq!(isbns("0299309305 9780299309306 9780299309305"), ["9780299309305"]);
    }

    #[test]
    fn issn_is_formatted_and_checked() {
        let got: Vec<_> = issns_in("0028-0836, 1476-4687 ; 0028-0837").map(|i| i.0).collect();
        assert_eq!(got, ["0028-0836", "1476-4687"]);
        assert_eq!(issns_in("2434-561x").next().unwrap().0, "2434-561X");
    }

    #[test]
    fn doi_prefixes_are_removed_and_shape_checked() {
        assert_eq!(doi_in("info:doi/10.1038/nature12373").as_deref(), Some("10.1038/nature12373"));
        assert_eq!(doi_in("doi:10.1000/xyz").as_deref(), Some("10.1000/xyz"));
        assert_eq!(doi_in("https://doi.org/10.1000/ABC").as_deref(), Some("10.1000/ABC"));
        assert_eq!(doi_in("info:doi/11.1/x"), None);
    }

    #[test]
    fn oclc_numbers_in_every_costume() {
        for raw in [
            "info:oclcnum/946770187",
            "(OCoLC)946770187",
            "(OCoLC)ocm0946770187",
            "ocn946770187",
            "<accessionnumber>946770187</accessionnumber>",
        ] {
            assert_eq!(oclc_number_in(raw).as_deref(), Some("946770187"), "{raw}");
        }
        assert_eq!(oclc_number_in("(DLC)2001012345x"), None);
    }

    #[test]
    fn pmid_accepts_prefixes_and_refuses_text() {
        assert_eq!(pmid_in("info:pmid/23902234").as_deref(), Some("23902234"));
        assert_eq!(pmid_in("pmid:23902234").as_deref(), Some("23902234"));
        assert_eq!(pmid_in("none"), None);
    }
}
