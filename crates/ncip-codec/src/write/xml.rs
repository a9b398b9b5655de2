//! A minimal append-only XML emitter: prefixed element names, escaped text and attributes.
//!
//! Output is always well-formed: `&`, `<`, `>` are escaped in text; attribute values also escape `"` and
//! carry tab/LF/CR as character references so attribute-value normalisation cannot alter them; a CR in
//! text is written as `&#13;` so XML end-of-line handling cannot turn it into LF. C0 control characters
//! (not XML 1.0 characters at all, and refused by the reader) are replaced with U+FFFD.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::model::ids::SchemeValue;

pub(crate) struct XmlWriter {
    out: String,
    /// `ns1:` for NCIPMessage, empty for the unqualified NCIPVersionMessage form.
    prefix: &'static str,
    /// `<` + prefix and `</` + prefix, so a tag costs three appends rather than four.
    open: &'static str,
    close: &'static str,
    /// Instants to write in the text their sender used (see [`crate::write_with_date_texts`]).
    date_texts: Vec<(Timestamp, String)>,
}

impl XmlWriter {
    pub(crate) fn new(prefix: &'static str, capacity: usize) -> Self {
        let (open, close) = match prefix {
            "" => ("<", "</"),
            "ns1:" => ("<ns1:", "</ns1:"),
            other => unreachable!("unsupported prefix {other}"),
        };
        Self { out: String::with_capacity(capacity), prefix, open, close, date_texts: Vec::new() }
    }

    /// Writes each of these instants as its text instead of in UTC form.
    pub(crate) fn with_date_texts(mut self, date_texts: &[(Timestamp, &str)]) -> Self {
        self.date_texts = date_texts.iter().map(|(ts, text)| (*ts, (*text).to_owned())).collect();
        self
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    pub(crate) fn start(&mut self, name: &str) {
        self.out.push_str(self.open);
        self.out.push_str(name);
        self.out.push('>');
    }

    pub(crate) fn end(&mut self, name: &str) {
        self.out.push_str(self.close);
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name/>` for NCIP's empty flag elements.
    pub(crate) fn flag(&mut self, name: &str) {
        self.out.push_str(self.open);
        self.out.push_str(name);
        self.out.push_str("/>");
    }

    pub(crate) fn flag_if(&mut self, name: &str, set: bool) {
        if set {
            self.flag(name);
        }
    }

    pub(crate) fn text(&mut self, name: &str, text: &str) {
        self.start(name);
        escape_text(&mut self.out, text);
        self.end(name);
    }

    pub(crate) fn opt_text(&mut self, name: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.text(name, text);
        }
    }

    /// A `SchemeValuePair`, with the qualified `Scheme` attribute the NCIP 2 XSD declares
    /// (`attributeFormDefault="qualified"`).
    pub(crate) fn scheme_value(&mut self, name: &str, sv: &SchemeValue) {
        self.scheme_value_parts(name, sv.scheme.as_deref(), &sv.value);
    }

    /// [`Self::scheme_value`] from borrowed parts.
    pub(crate) fn scheme_value_parts(&mut self, name: &str, scheme: Option<&str>, value: &str) {
        self.out.push_str(self.open);
        self.out.push_str(name);
        if let Some(scheme) = scheme {
            self.out.push(' ');
            self.out.push_str(self.prefix);
            self.out.push_str("Scheme=\"");
            escape_attribute(&mut self.out, scheme);
            self.out.push('"');
        }
        self.out.push('>');
        escape_text(&mut self.out, value);
        self.end(name);
    }

    pub(crate) fn opt_scheme_value(&mut self, name: &str, sv: Option<&SchemeValue>) {
        if let Some(sv) = sv {
            self.scheme_value(name, sv);
        }
    }

    pub(crate) fn scheme_values(&mut self, name: &str, svs: &[SchemeValue]) {
        for sv in svs {
            self.scheme_value(name, sv);
        }
    }

    /// An xs:dateTime in RFC 3339 UTC form (`2018-02-01T12:34:56Z`, fractional seconds kept), or in the text
    /// given for this very instant.
    pub(crate) fn date(&mut self, name: &str, ts: Timestamp) {
        if let Some(i) = self.date_texts.iter().position(|(at, _)| *at == ts) {
            let text = std::mem::take(&mut self.date_texts[i].1);
            self.text(name, &text);
            self.date_texts[i].1 = text;
            return;
        }
        self.start(name);
        // Writing into a String cannot fail.
        let _ = write!(self.out, "{ts}");
        self.end(name);
    }

    pub(crate) fn opt_date(&mut self, name: &str, ts: Option<Timestamp>) {
        if let Some(ts) = ts {
            self.date(name, ts);
        }
    }

    pub(crate) fn number(&mut self, name: &str, n: impl std::fmt::Display) {
        self.start(name);
        let _ = write!(self.out, "{n}");
        self.end(name);
    }

    pub(crate) fn opt_number(&mut self, name: &str, n: Option<u64>) {
        if let Some(n) = n {
            self.number(name, n);
        }
    }
}

pub(crate) fn escape_text(out: &mut String, text: &str) {
    if !crate::chars::text_needs_escape(text) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

pub(crate) fn escape_attribute(out: &mut String, text: &str) {
    if !crate::chars::attribute_needs_escape(text) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_data_is_escaped() {
        let mut w = XmlWriter::new("ns1:", 64);
        w.scheme_value("AgencyId", &SchemeValue::with_scheme("a\"b&c", "<x> & y\r"));
        assert_eq!(
            String::from_utf8(w.into_bytes()).unwrap(),
            "<ns1:AgencyId ns1:Scheme=\"a&quot;b&amp;c\">&lt;x&gt; &amp; y&#13;</ns1:AgencyId>"
        );
    }
}
