//! The encoding rule for request bodies.
//!
//! Bytes that are valid UTF-8 are read as UTF-8 whatever the prolog declares: XC's Koha connector sample
//! declares `windows-1252` but holds UTF-8 (Czech text turns into mojibake if the prolog is trusted). The
//! reader therefore parses the bytes as UTF-8 first (quick-xml validates each event as it goes); only
//! when that meets an invalid sequence is a declared ISO-8859-1 / windows-1252 used (WHATWG maps both
//! labels to windows-1252, a superset of Latin-1's printable range). Anything else is refused.

use crate::error::ReadErrorKind;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The body without a UTF-8 byte-order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// The text of a body that is not valid UTF-8: decoded from a declared ISO-8859-1 / windows-1252, or
/// refused.
pub(crate) fn latin1_fallback(bytes: &[u8]) -> Result<String, ReadErrorKind> {
    match declared_encoding(bytes) {
        Some(label) if is_latin1_family(&label) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok(text.into_owned())
        }
        Some(label) => Err(ReadErrorKind::Encoding {
            detail: format!("bytes are not UTF-8 and the declared encoding {label:?} is not supported"),
        }),
        None => Err(ReadErrorKind::Encoding {
            detail: format!(
                "invalid UTF-8 at byte {} and no ISO-8859-1 declaration",
                std::str::from_utf8(bytes).err().map_or(0, |e| e.valid_up_to())
            ),
        }),
    }
}

fn is_latin1_family(label: &str) -> bool {
    encoding_rs::Encoding::for_label(label.as_bytes()) == Some(encoding_rs::WINDOWS_1252)
}

/// The `encoding` pseudo-attribute of a leading `<?xml ...?>` declaration (ASCII-only scan).
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    Some(value[..value.find(quote)?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_latin1_is_used_for_non_utf8_bytes() {
        let doc = b"<?xml version='1.0' encoding = 'ISO-8859-1'?><a>Jos\xe9</a>";
        assert!(latin1_fallback(doc).unwrap().ends_with("<a>Jos\u{e9}</a>"));
    }

    #[test]
    fn non_utf8_without_a_latin1_declaration_is_refused() {
        assert!(matches!(latin1_fallback(b"<a>\xff\xfe</a>"), Err(ReadErrorKind::Encoding { .. })));
        let shift_jis = b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>\x82\xa0</a>";
        assert!(matches!(latin1_fallback(shift_jis), Err(ReadErrorKind::Encoding { .. })));
    }

    #[test]
    fn bom_is_dropped() {
        assert_eq!(strip_bom(b"\xEF\xBB\xBF<a/>"), b"<a/>");
    }
}
