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

/// Where one of the attributes the readers ask for (`Scheme`, the root's `version`; qualified or not) lies, as
/// [`scan`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AttributeAt {
    /// No attribute has that local name.
    Absent,
    /// A plain value, at this byte range of the raw attribute text.
    Plain(u32, u32),
    /// Not settled by the scan: [`plain_attribute`], then quick-xml's parser, decide.
    Ask,
}

impl AttributeAt {
    /// The first attribute of that local name is at `start..end` of `raw`.
    fn found(raw: &str, start: usize, end: usize) -> Self {
        let plain = crate::chars::attribute_value_is_plain(&raw[start..end]);
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) if plain => AttributeAt::Plain(start, end),
            _ => AttributeAt::Ask,
        }
    }
}

/// What one pass over a start tag's raw attribute text found. Every element entered is scanned for the
/// attribute-count limit; the same pass notes what the namespace scopes and the `Scheme` readers would
/// otherwise each scan the text again for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scan {
    /// More attributes than the limit ([`more_attributes_than`]).
    pub(super) too_many: bool,
    /// Some attribute may declare a namespace: false only when none of the names quick-xml would read as
    /// keys starts with `xmlns`.
    pub(super) may_declare: bool,
    /// The text has the plain shape, so [`plain_pairs`] reads its attributes as quick-xml would.
    pub(super) plain: bool,
    /// The `Scheme` attribute.
    pub(super) scheme: AttributeAt,
    /// The `version` attribute.
    pub(super) version: AttributeAt,
    /// In plain-shaped text, the attributes whose names start with `xmlns`.
    pub(super) declarations: Declarations,
}

/// The attributes of plain-shaped text whose names start with `xmlns`, as byte ranges of the text (name start
/// and end, value start and end): the first two, which is as many as an NCIP message declares on one element,
/// so that the namespace scopes need not walk the attributes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Declarations {
    held: [[u32; 4]; 2],
    len: u8,
    /// More than two, or a range past `u32::MAX`: walk the text for them.
    pub(super) more: bool,
}

impl Declarations {
    fn note(&mut self, name: usize, name_end: usize, start: usize, end: usize) {
        let fits = [name, name_end, start, end].map(u32::try_from);
        match fits {
            [Ok(a), Ok(b), Ok(c), Ok(d)] if usize::from(self.len) < self.held.len() => {
                self.held[usize::from(self.len)] = [a, b, c, d];
                self.len += 1;
            }
            _ => self.more = true,
        }
    }

    /// Each noted attribute: its name's and its value's byte ranges.
    pub(super) fn iter(&self) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        self.held[..usize::from(self.len)].iter().map(|&[a, b, c, d]| (a as usize, b as usize, c as usize, d as usize))
    }
}

impl Scan {
    /// What the scan of a tag without attributes finds; the plain scan starts from it and adds what it meets.
    fn plain_without_attributes() -> Scan {
        Scan {
            too_many: false,
            may_declare: false,
            plain: true,
            scheme: AttributeAt::Absent,
            version: AttributeAt::Absent,
            declarations: Declarations::default(),
        }
    }
}

/// Scans `raw` once for [`Scan`]. The text usually has the plain shape of `name="value"` pairs separated by
/// whitespace, names without whitespace, quotes or `=`; there, the attributes quick-xml and
/// [`plain_attribute`] would read are exactly those pairs, in order, and [`more_attributes_than`] counts one
/// attribute per name. Anything else is left to those readers as before (one more scan of an unusual tag).
pub(super) fn scan(raw: &str, limit: usize) -> Scan {
    if raw.is_empty() {
        return Scan::plain_without_attributes();
    }
    plain_scan(raw, limit).unwrap_or_else(|| Scan {
        too_many: more_attributes_than(raw, limit),
        may_declare: raw.len() > "xmlns".len() && raw.contains("xmlns"),
        plain: false,
        scheme: AttributeAt::Ask,
        version: AttributeAt::Ask,
        declarations: Declarations::default(),
    })
}

/// [`scan`] of plain-shaped text; `None` as soon as the text is not.
fn plain_scan(raw: &str, limit: usize) -> Option<Scan> {
    let mut found = Scan::plain_without_attributes();
    let mut count = 0usize;
    let finished = plain_pairs(raw, |name, start, end| {
        count += 1;
        if count > limit {
            found.too_many = true;
            return false;
        }
        if name.starts_with("xmlns") {
            found.may_declare = true;
            let at = name.as_ptr() as usize - raw.as_ptr() as usize;
            found.declarations.note(at, at + name.len(), start, end);
            return true;
        }
        let slot = if has_local_name(name, "Scheme") {
            &mut found.scheme
        } else if has_local_name(name, "version") {
            &mut found.version
        } else {
            return true;
        };
        if *slot == AttributeAt::Absent {
            *slot = AttributeAt::found(raw, start, end);
        }
        true
    });
    (finished.is_some() || found.too_many).then_some(found)
}

/// Whether `name`'s local part (after its last colon) is `local`, without searching for the colon.
fn has_local_name(name: &str, local: &str) -> bool {
    name.strip_suffix(local).is_some_and(|prefix| prefix.is_empty() || prefix.ends_with(':'))
}

/// Walks plain-shaped attribute text (see [`scan`]), calling `each` with every name and the byte range of its
/// value; `None` when `each` says stop (by returning false) or the text turns out not to be plain.
pub(super) fn plain_pairs(raw: &str, mut each: impl FnMut(&str, usize, usize) -> bool) -> Option<()> {
    let bytes = raw.as_bytes();
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let skip_spaces = |mut i: usize| {
        while i < bytes.len() && is_space(bytes[i]) {
            i += 1;
        }
        i
    };
    let mut i = skip_spaces(0);
    while i < bytes.len() {
        let name_start = i;
        // A form feed is whitespace to the count but a name byte to quick-xml: not plain.
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'=' | b'"' | b'\'' | 0x0C) {
            i += 1;
        }
        if i == name_start {
            return None;
        }
        let name = &raw[name_start..i];
        i = skip_spaces(i);
        if bytes.get(i) != Some(&b'=') {
            return None;
        }
        i = skip_spaces(i + 1);
        let quote = *bytes.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let start = i + 1;
        let end = start + raw[start..].find(char::from(quote))?;
        if !each(name, start, end) {
            return None;
        }
        i = end + 1;
        if i < bytes.len() && !is_space(bytes[i]) {
            return None;
        }
        i = skip_spaces(i);
    }
    Some(())
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
    use super::{AttributeAt, PlainAttribute, more_attributes_than, plain_attribute, scan};

    /// Every text of up to four pieces, each piece a name, a value or a separator of any kind.
    fn odd_attribute_texts() -> Vec<String> {
        const PIECES: [&str; 19] = [
            " ",
            "\t",
            "\u{c}",
            "a",
            "Scheme",
            "ns1:Scheme",
            "xmlns",
            "xmlns:x",
            "=",
            "\"",
            "'",
            "\"v\"",
            "'w'",
            "\"a&amp;b\"",
            "\"x\u{1}\"",
            "xmlns=\"u\"",
            " ns1:Scheme=\"urn:s\"",
            "version",
            " v:version='2'",
        ];
        let mut texts = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..4 {
            texts = texts.iter().flat_map(|t| PIECES.iter().map(move |p| format!("{t}{p}"))).collect();
            all.extend(texts.iter().cloned());
        }
        all
    }

    #[test]
    fn the_one_scan_agrees_with_each_reader_it_stands_for() {
        for raw in odd_attribute_texts() {
            for limit in 0..4 {
                let found = scan(&raw, limit);
                assert_eq!(found.too_many, more_attributes_than(&raw, limit), "{raw:?} limit {limit}");
                if found.too_many {
                    continue;
                }
                let tag = format!("e{raw}");
                let start = quick_xml::events::BytesStart::from_content(tag.as_str(), 1);
                let declarations: Vec<(String, String)> = start
                    .attributes()
                    .with_checks(false)
                    .flatten()
                    .filter(|a| a.key.into_inner().starts_with("xmlns"))
                    .map(|a| (a.key.into_inner().to_owned(), a.value.into_owned()))
                    .collect();
                if !found.may_declare {
                    assert!(declarations.is_empty(), "{raw:?}: {declarations:?}");
                }
                if found.plain && !found.declarations.more {
                    let noted: Vec<(String, String)> = found
                        .declarations
                        .iter()
                        .map(|(name, name_end, start, end)| {
                            (raw[name..name_end].to_owned(), raw[start..end].to_owned())
                        })
                        .collect();
                    assert_eq!(noted, declarations, "{raw:?}");
                }
                for (local, at) in [("Scheme", found.scheme), ("version", found.version)] {
                    match at {
                        AttributeAt::Absent => {
                            assert_eq!(plain_attribute(&raw, local), Some(PlainAttribute::Absent), "{raw:?}");
                        }
                        AttributeAt::Plain(start, end) => assert_eq!(
                            plain_attribute(&raw, local),
                            Some(PlainAttribute::Plain(&raw[start as usize..end as usize])),
                            "{raw:?}"
                        ),
                        AttributeAt::Ask => {}
                    }
                }
            }
        }
    }

    #[test]
    fn the_usual_shapes_are_settled_by_the_one_scan() {
        let uri = "http://www.niso.org/ncip/v1_0/imp1/schemes/visibleuseridentifiertype/visibleuseridentifiertype.scm";
        let raw = format!(" ns1:Scheme=\"{uri}\"");
        let found = scan(&raw, 32);
        assert!(!found.too_many && !found.may_declare);
        assert!(matches!(found.scheme, AttributeAt::Plain(s, e) if &raw[s as usize..e as usize] == uri));
        let root = r#" xmlns:ns1="http://www.niso.org/2008/ncip" ns1:version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd""#;
        let found = scan(root, 32);
        assert!(found.may_declare);
        assert!(matches!(found.version, AttributeAt::Plain(s, e) if root[s as usize..e as usize].ends_with(".xsd")));
        assert_eq!(scan(" a='1'", 32).scheme, AttributeAt::Absent);
    }

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
