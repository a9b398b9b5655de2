//! Splitting and decoding a raw KEV query string: the `key=value&...` shape of Z39.88-2004 Part 2
//! (OpenURL 1.0) and of the 0.1 draft before it.
//!
//! The raw string is the input, not API Gateway's parsed map: the gateway joins repeated keys with
//! commas, which would merge `rft.au=Smith, J&rft.au=Jones, K` into nonsense and hide repeated `rft_id`s.
//! This module only decodes; it knows nothing about what the keys mean.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::error::{BadOpenUrl, MAX_QUERY_BYTES};
use crate::relais::is_control_tag;

/// Splits and decodes `raw` (with or without its leading `?`). `classify` sees every key
/// (ASCII-lowercased, since sources disagree on case, e.g. `ISSN=`) and says what it means to the
/// caller; only the values of keys it names are decoded, in link order, as NFC text.
///
/// Every value is still checked for broken escapes and line breaks, read or not, so a malformed link
/// is refused as a whole. Pairs with an empty value and Relais control tags are never handed on, so
/// nothing downstream can read a patron id or a library symbol from the link.
pub(crate) fn decode_query<T>(
    raw: &str,
    mut classify: impl FnMut(&str) -> Option<T>,
) -> Result<Vec<(T, String)>, BadOpenUrl> {
    let raw = raw.strip_prefix('?').unwrap_or(raw);
    if raw.len() > MAX_QUERY_BYTES {
        return Err(BadOpenUrl::TooLong { bytes: raw.len(), max: MAX_QUERY_BYTES });
    }
    let latin1 = declares_latin1(raw)?;
    let mut pairs = Vec::with_capacity(24);
    for segment in raw.split('&') {
        if segment.is_empty() {
            continue;
        }
        let (raw_key, raw_value) = segment.split_once('=').unwrap_or((segment, ""));
        let key = decode_key(raw_key)?;
        let meaning = if key.is_empty() || is_control_tag(&key) { None } else { classify(&key) };
        let Some(meaning) = meaning else {
            check_escapes(raw_value, &key)?;
            continue;
        };
        let bytes = percent_decode(raw_value, &key)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        pairs.push((meaning, to_text(bytes, latin1)));
    }
    Ok(pairs)
}

/// `ctx_enc=info:ofi/enc:ISO-8859-1` (Z39.88-2004 Part 2, the KEV character-encoding key) says every
/// value is Latin-1 even when its bytes happen to be valid UTF-8.
fn declares_latin1(raw: &str) -> Result<bool, BadOpenUrl> {
    for segment in raw.split('&') {
        let Some((key, value)) = segment.split_once('=') else {
            continue;
        };
        if key.eq_ignore_ascii_case("ctx_enc") {
            let value = percent_decode(value, "ctx_enc")?;
            let value = String::from_utf8_lossy(&value).to_ascii_lowercase();
            return Ok(value.contains("iso-8859-1") || value.contains("latin1"));
        }
    }
    Ok(false)
}

fn decode_key(raw_key: &str) -> Result<Cow<'_, str>, BadOpenUrl> {
    let key = raw_key.trim();
    if key.contains(['%', '+']) {
        let bytes = percent_decode(key, key)?;
        let decoded = String::from_utf8_lossy(&bytes).trim().to_ascii_lowercase();
        reject_control_in_key(&decoded)?;
        return Ok(Cow::Owned(decoded));
    }
    reject_control(key.as_bytes(), key)?;
    reject_control_in_key(key)?;
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        Ok(Cow::Owned(key.to_ascii_lowercase()))
    } else {
        Ok(Cow::Borrowed(key))
    }
}

/// The checks of [`percent_decode`] without building the value, for keys nobody reads.
fn check_escapes(raw: &str, key: &str) -> Result<(), BadOpenUrl> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' | b'\n' | 0 => {
                return Err(BadOpenUrl::ControlCharacter { key: key.to_owned() });
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    // Let the full decoder build the error, with the same wording and fragment.
                    return percent_decode(raw, key).map(|_| ());
                };
                if matches!(hi << 4 | lo, b'\r' | b'\n' | 0) {
                    return Err(BadOpenUrl::ControlCharacter { key: key.to_owned() });
                }
                i += 2;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Percent-decodes to bytes, `+` meaning space (HTML form encoding, which every OpenURL source uses).
/// A `%` without two hex digits after it is an error, not a literal: guessing would let a malformed
/// link through with a silently different title.
pub(crate) fn percent_decode<'a>(raw: &'a str, key: &str) -> Result<Cow<'a, [u8]>, BadOpenUrl> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|b| matches!(b, b'%' | b'+')) {
        reject_control(bytes, key)?;
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    let end = floor_char_boundary(raw, (i + 3).min(raw.len()));
                    return Err(BadOpenUrl::InvalidPercentEncoding {
                        key: key.to_owned(),
                        near: raw[i..end].to_owned(),
                    });
                };
                out.push(hi << 4 | lo);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    reject_control(&out, key)?;
    Ok(Cow::Owned(out))
}

/// No OpenURL key holds a control character; one that does (e.g. an ANSI escape aimed at whoever reads the
/// log) is refused, and the key is quoted escaped in the error, which is logged and shown.
fn reject_control_in_key(key: &str) -> Result<(), BadOpenUrl> {
    if key.chars().any(char::is_control) {
        return Err(BadOpenUrl::ControlCharacter { key: key.escape_debug().to_string() });
    }
    Ok(())
}

fn reject_control(bytes: &[u8], key: &str) -> Result<(), BadOpenUrl> {
    if bytes.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(BadOpenUrl::ControlCharacter { key: key.to_owned() });
    }
    Ok(())
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// UTF-8 when the bytes are UTF-8 and no Latin-1 was declared; otherwise Windows-1252, the superset of
/// ISO-8859-1 that browsers and encoding_rs use for that label (older EBSCO and SFX links send `%E9`
/// for "é" without saying so). Then Unicode NFC, so "e" + U+0301 from Primo's decomposed records and
/// a precomposed "é" from elsewhere compare and encode alike.
fn to_text(bytes: Cow<'_, [u8]>, latin1: bool) -> String {
    let text: Cow<'_, str> = if latin1 {
        Cow::Owned(windows_1252(&bytes))
    } else {
        match bytes {
            Cow::Borrowed(b) => match std::str::from_utf8(b) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(windows_1252(b)),
            },
            Cow::Owned(b) => match String::from_utf8(b) {
                Ok(s) => Cow::Owned(s),
                Err(e) => Cow::Owned(windows_1252(e.as_bytes())),
            },
        }
    };
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text.into_owned()
    } else {
        text.nfc().collect()
    }
}

fn windows_1252(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(raw: &str) -> Result<Vec<(String, String)>, BadOpenUrl> {
        decode_query(raw, |key| Some(key.to_owned()))
    }

    fn pairs(raw: &str) -> Vec<(String, String)> {
        decode_all(raw).unwrap()
    }

    #[test]
    fn plus_is_space_and_percent_escapes_are_bytes() {
        assert_eq!(
            pairs("?rft.atitle=Fish+%26+chips%3D%2B1"),
            [("rft.atitle".to_owned(), "Fish & chips=+1".to_owned())]
        );
    }

    #[test]
    fn repeated_keys_are_kept_in_order_and_empty_values_dropped() {
        assert_eq!(
            pairs("rft.au=A&rft.au=&rft.au=B&&rft.issue="),
            [("rft.au".to_owned(), "A".to_owned()), ("rft.au".to_owned(), "B".to_owned())]
        );
    }

    #[test]
    fn invalid_utf8_falls_back_to_windows_1252() {
        assert_eq!(pairs("title=Caf%E9+%93quoted%94")[0].1, "Café “quoted”");
    }

    #[test]
    fn declared_latin1_wins_over_accidental_utf8() {
        // "%C3%A9" is valid UTF-8 for "é", but the link declares Latin-1, so it is two characters.
        let got = pairs("ctx_enc=info%3Aofi%2Fenc%3AISO-8859-1&title=Caf%C3%A9");
        assert_eq!(got[1].1, "CafÃ©");
    }

    #[test]
    fn decomposed_text_is_composed() {
        assert_eq!(pairs("title=Cafe%CC%81")[0].1, "Caf\u{e9}");
    }

    #[test]
    fn broken_escape_names_key_and_fragment() {
        assert_eq!(
            decode_all("title=50%zz").unwrap_err(),
            BadOpenUrl::InvalidPercentEncoding { key: "title".into(), near: "%zz".into() }
        );
        assert!(matches!(decode_all("title=50%"), Err(BadOpenUrl::InvalidPercentEncoding { .. })));
    }

    #[test]
    fn line_breaks_and_nul_are_refused_raw_or_encoded() {
        for raw in ["title=a%0Db", "title=a%0Ab", "title=a%00b", "title=a\r\nb", "ti%0Atle=x"] {
            assert!(matches!(decode_all(raw), Err(BadOpenUrl::ControlCharacter { .. })), "{raw}");
        }
    }

    #[test]
    fn keys_with_control_characters_are_refused_and_quoted_escaped() {
        for raw in ["ti%1B%5B31mtle=x", "ti\u{1b}[31mtle=x", "a%7Fb=x", "a%09b=x"] {
            match decode_all(raw) {
                Err(BadOpenUrl::ControlCharacter { key }) => {
                    assert!(!key.chars().any(char::is_control), "{raw}: the error quotes {key:?} raw")
                }
                other => panic!("{raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn control_tags_never_leave_the_decoder() {
        let got = pairs("PI=123&pi=9&Group=staff&LS=X&base64PI=true&title=T");
        assert_eq!(got, [("title".to_owned(), "T".to_owned())]);
    }

    #[test]
    fn values_nobody_reads_are_still_checked() {
        let read_titles = |raw| decode_query(raw, |key| (key == "title").then_some(()));
        assert_eq!(read_titles("svc_dat=a%0Db&title=T"), Err(BadOpenUrl::ControlCharacter { key: "svc_dat".into() }));
        assert_eq!(
            read_titles("svc_dat=50%zz&title=T"),
            Err(BadOpenUrl::InvalidPercentEncoding { key: "svc_dat".into(), near: "%zz".into() })
        );
        assert_eq!(read_titles("SVC_DAT=x&Title=T").unwrap(), [((), "T".to_owned())]);
    }

    #[test]
    fn over_8_kib_is_refused() {
        let raw = format!("title={}", "a".repeat(MAX_QUERY_BYTES));
        assert!(matches!(decode_all(&raw), Err(BadOpenUrl::TooLong { .. })));
    }
}
