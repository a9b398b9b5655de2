//! Fast scans of a start tag's raw attribute text: the attribute-count limit, and the common `Scheme="..."`
//! shape, so that most elements never go through quick-xml's full attribute parser.

/// What the fast attribute scan found when the start tag had a shape it understands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PlainAttribute<'r> {
    /// No attribute has that local name.
    Absent,
    /// Found with a plain value (no reference, `<` or control character, so no normalisation applies).
    Plain(&'r str),
}

/// Scans `raw` attributes for the one whose local name is `local`; `None` for an unusual shape, which the
/// full parser must read. Byte and memchr based: scheme URIs are long and this runs for every scheme/value
/// element.
pub(super) fn plain_attribute<'r>(raw: &'r str, local: &str) -> Option<PlainAttribute<'r>> {
    let bytes = raw.as_bytes();
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = 0;
    loop {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            return Some(PlainAttribute::Absent);
        }
        let eq = i + raw[i..].find('=')?;
        let name = raw[i..eq].trim_end_matches([' ', '\t', '\n', '\r']);
        let mut j = eq + 1;
        while j < bytes.len() && is_space(bytes[j]) {
            j += 1;
        }
        let quote = *bytes.get(j)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let start = j + 1;
        let end = start + raw[start..].find(char::from(quote))?;
        let name_local = name.rfind(':').map_or(name, |k| &name[k + 1..]);
        if name_local == local && !name.starts_with("xmlns") {
            let value = &raw[start..end];
            return crate::chars::attribute_value_is_plain(value).then_some(PlainAttribute::Plain(value));
        }
        i = end + 1;
        if i < bytes.len() && !is_space(bytes[i]) {
            return None;
        }
    }
}

/// Whether the raw attribute text of a start tag holds more than `limit` attributes. Every run of name
/// bytes outside a quoted value counts as one attribute, so `a=""b=""` (no space, which quick-xml's
/// unchecked iterator tolerates) is two and a bare `a b c` is three: nothing an attacker writes is counted
/// as fewer attributes than the parser would see.
pub(super) fn more_attributes_than(raw: &str, limit: usize) -> bool {
    let bytes = raw.as_bytes();
    let mut count = 0usize;
    let mut in_name = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' || b == b'\'' {
            // A quoted value is skipped whole (a memchr, not a byte loop: scheme URIs are long); unclosed, it runs
            // to the end and holds no name.
            match raw[i + 1..].find(char::from(b)) {
                Some(len) => i += len + 2,
                None => return false,
            }
            in_name = false;
            continue;
        }
        if b == b'=' || b.is_ascii_whitespace() {
            in_name = false;
        } else {
            if !in_name {
                count += 1;
                if count > limit {
                    return true;
                }
            }
            in_name = true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{PlainAttribute, more_attributes_than, plain_attribute};

    #[test]
    fn every_attribute_is_counted_however_it_is_written() {
        assert!(!more_attributes_than(r#" a="1" b='2'"#, 2));
        assert!(more_attributes_than(r#" a="1" b='2'"#, 1));
        assert!(more_attributes_than(r#" a=""b="""#, 1));
        assert!(more_attributes_than(" a b c", 2));
        assert!(!more_attributes_than(r#" a="x y z = w""#, 1));
        assert!(!more_attributes_than(r#" a="unclosed b c d"#, 1));
        assert!(more_attributes_than(r#" a='x"y' b"#, 1));
    }

    #[test]
    fn plain_scheme_attribute_is_found_qualified_or_not() {
        assert_eq!(plain_attribute(r#" ns1:Scheme="urn:x""#, "Scheme"), Some(PlainAttribute::Plain("urn:x")));
        assert_eq!(plain_attribute(r#" a='1' Scheme='s' "#, "Scheme"), Some(PlainAttribute::Plain("s")));
        assert_eq!(plain_attribute(r#" xsi:type="t""#, "Scheme"), Some(PlainAttribute::Absent));
    }

    #[test]
    fn anything_unusual_falls_back_to_the_full_parser() {
        assert_eq!(plain_attribute(" Scheme=\"a\u{1}b\"", "Scheme"), None);
        assert_eq!(plain_attribute(r#" Scheme="a&amp;b""#, "Scheme"), None);
        assert_eq!(plain_attribute(r#" x="1"y="2" Scheme="s""#, "Scheme"), None);
        assert_eq!(plain_attribute(r#" Scheme=s"#, "Scheme"), None);
        assert_eq!(plain_attribute(r#" Scheme="unterminated"#, "Scheme"), None);
    }
}
