//! A pull cursor over quick-xml events that the typed readers descend with.
//!
//! Elements are matched by local name within the NCIP namespace (default namespace, any prefix such as
//! `ns1:`, or no namespace at all: all three occur in the corpus). An element bound to another namespace is
//! never read as NCIP's: `<e:UserId xmlns:e="urn:x">` is not a `UserId`, or the bridge and a
//! namespace-blind reader downstream could act on different patrons. No DOM is built: typed readers pull children and
//! text straight from the borrowed token stream, so a well-formed identifier costs one allocation.
//! The cursor also enforces the depth and element-count limits and refuses entity references other
//! than the five predefined ones and character references (no DTD is ever read, fetched or expanded).

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::attributes::{AttributeAt, PlainAttribute, Scan, more_attributes_than, plain_attribute, scan};
use super::date::parse_ncip_date;
use super::namespaces::Namespaces;
use crate::error::ReadErrorKind;
use crate::model::ids::SchemeValue;
use crate::patch::{Leaf, Span, Spans};

/// What [`Child::name`] gives for an element in a foreign namespace: not an XML name, so it matches none of
/// NCIP's.
pub(crate) const FOREIGN: &str = "{foreign}";

/// A reading failure on its way up the element tree; `path` collects element names innermost-first.
/// Boxed so that every reader's `Result` stays one pointer wide on the (hot) success path.
#[derive(Debug)]
pub(crate) struct Fault(Box<FaultInner>);

#[derive(Debug)]
pub(crate) struct FaultInner {
    kind: ReadErrorKind,
    path: Vec<String>,
}

impl Fault {
    pub(crate) fn new(kind: ReadErrorKind) -> Self {
        Self(Box::new(FaultInner { kind, path: Vec::new() }))
    }

    /// A content fault found at the element `name`.
    pub(crate) fn at(kind: ReadErrorKind, name: &str) -> Self {
        Self(Box::new(FaultInner { kind, path: vec![name.to_owned()] }))
    }

    /// A required child `name` is absent (or blank where blank is not allowed).
    pub(crate) fn missing(name: &str) -> Self {
        Self::at(ReadErrorKind::NeededDataMissing { element: String::new(), value: None }, name)
    }

    /// A required child is present but blank.
    pub(crate) fn blank(name: &str, received: &str) -> Self {
        Self::at(ReadErrorKind::NeededDataMissing { element: String::new(), value: Some(received.to_owned()) }, name)
    }

    /// Whether this fault is about content (has a path worth reporting) rather than XML syntax.
    fn is_content(&self) -> bool {
        matches!(
            self.0.kind,
            ReadErrorKind::NeededDataMissing { .. }
                | ReadErrorKind::InvalidDate { .. }
                | ReadErrorKind::ElementRuleViolated { .. }
                | ReadErrorKind::IdentifierRuleViolated { .. }
                | ReadErrorKind::ForeignElement { .. }
        )
    }

    /// Adds an enclosing element name while the fault travels up.
    pub(crate) fn within(mut self, name: &str) -> Self {
        if self.is_content() {
            self.0.path.push(name.to_owned());
        }
        self
    }

    /// Resolves the collected path (relative to the element the caller stopped at) into the kind.
    pub(crate) fn into_kind(self) -> ReadErrorKind {
        let FaultInner { kind, path } = *self.0;
        let element = path.iter().rev().map(String::as_str).collect::<Vec<_>>().join("/");
        match kind {
            ReadErrorKind::NeededDataMissing { value, .. } => ReadErrorKind::NeededDataMissing { element, value },
            ReadErrorKind::InvalidDate { value, .. } => ReadErrorKind::InvalidDate { element, value },
            ReadErrorKind::ElementRuleViolated { value, rule, .. } => {
                ReadErrorKind::ElementRuleViolated { element, value, rule }
            }
            ReadErrorKind::IdentifierRuleViolated { value, rule, .. } => {
                ReadErrorKind::IdentifierRuleViolated { element, value, rule }
            }
            ReadErrorKind::ForeignElement { namespace, .. } => ReadErrorKind::ForeignElement { element, namespace },
            other => other,
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, Fault>;

/// An element the cursor has entered (or an empty element, which has no content to read).
pub(crate) struct Child<'a> {
    start: BytesStart<'a>,
    empty: bool,
    /// Bound to a namespace other than NCIP's.
    foreign: bool,
    /// Where its start tag (or the whole empty element) lies in the text: the forwarding patch edits there.
    tag: Span,
    /// Where the local name starts in the qualified name (after the prefix's colon), found once: readers ask
    /// for the name several times per element.
    local: usize,
    /// Its `Scheme` and `version` attributes, found by the scan of its attributes made on entering it.
    scheme: AttributeAt,
    version: AttributeAt,
}

impl<'a> Child<'a> {
    /// The element's local name (prefix dropped), or [`FOREIGN`] for an element in another namespace.
    #[inline]
    pub(crate) fn name(&self) -> &str {
        if self.foreign { FOREIGN } else { self.local_name() }
    }

    /// The local name whatever the namespace, for a Problem that names a foreign element.
    #[inline]
    pub(crate) fn local_name(&self) -> &str {
        &self.start.name().into_inner()[self.local..]
    }

    /// Where the start tag (or the whole empty element) lies in the text.
    pub(crate) fn tag(&self) -> Span {
        self.tag
    }

    /// Whether the element has no content (`<X/>`).
    pub(crate) fn is_empty(&self) -> bool {
        self.empty
    }

    /// Whether the element is bound to a namespace other than NCIP's.
    pub(crate) fn is_foreign(&self) -> bool {
        self.foreign
    }

    /// The value of the attribute with local name `local` (`Scheme`, `ns1:Scheme`, `version`...).
    pub(crate) fn attribute(&self, local: &str) -> Result<Option<String>> {
        for attr in self.start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| Fault::new(ReadErrorKind::Malformed { position: 0, detail: e.to_string() }))?;
            let key = attr.key.into_inner();
            let key_local = key.rsplit_once(':').map_or(key, |(_, l)| l);
            if key_local == local && !key.starts_with("xmlns") {
                let value = attr
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| entity_fault(&e.to_string()))?;
                check_characters(&value)?;
                return Ok(Some(value.into_owned()));
            }
        }
        Ok(None)
    }

    /// The `Scheme` / `ns1:Scheme` attribute.
    pub(crate) fn scheme_attribute(&self) -> Result<Option<String>> {
        self.scanned(self.scheme, "Scheme")
    }

    /// The root's `version` / `ns1:version` attribute.
    pub(crate) fn version_attribute(&self) -> Result<Option<String>> {
        self.scanned(self.version, "version")
    }

    /// The attribute with local name `local`, which the scan of the element's attributes found at `at`.
    fn scanned(&self, at: AttributeAt, local: &str) -> Result<Option<String>> {
        match at {
            AttributeAt::Absent => Ok(None),
            AttributeAt::Plain(start, end) => {
                Ok(Some(self.start.attributes_raw()[start as usize..end as usize].to_owned()))
            }
            AttributeAt::Ask => self.attribute_fast(local),
        }
    }

    /// [`Child::attribute`], with a fast path for the common shapes (no attributes, or plain `name="value"`
    /// pairs without references or whitespace characters in values); anything else goes through quick-xml's
    /// full attribute parser, which also reports malformed attributes.
    pub(crate) fn attribute_fast(&self, local: &str) -> Result<Option<String>> {
        let raw = self.start.attributes_raw();
        if raw.trim_start().is_empty() {
            return Ok(None);
        }
        match plain_attribute(raw, local) {
            Some(PlainAttribute::Absent) => Ok(None),
            Some(PlainAttribute::Plain(value)) => Ok(Some(value.to_owned())),
            None => self.attribute(local),
        }
    }

    /// Whether an attribute of the element has exactly `value` as its raw value (namespace declarations on the
    /// root), without allocating.
    pub(crate) fn has_attribute_value(&self, value: &str) -> bool {
        self.start.attributes().with_checks(false).flatten().any(|a| *a.value == *value)
    }
}

fn entity_fault(detail: &str) -> Fault {
    Fault::new(ReadErrorKind::UndeclaredEntity { detail: detail.to_owned() })
}

/// Reading limits applied while pulling events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_depth: usize,
    pub(crate) max_elements: usize,
    pub(crate) max_attributes: usize,
}

/// The cursor itself.
pub(crate) struct Cursor<'a> {
    reader: Reader<&'a [u8]>,
    /// The text the reader reads.
    doc: &'a [u8],
    /// The namespace declarations in scope (see [`Namespaces`]).
    namespaces: Namespaces,
    depth: usize,
    elements: usize,
    limits: Limits,
    /// Zone for date-times that carry no offset.
    pub(crate) time_zone: TimeZone,
    /// Requests are held to the XSD's required elements; responses (from Alma, or from vendors whose
    /// samples leave headers empty) are read leniently.
    pub(crate) strict: bool,
    /// Requests read only to be patched (a message that was never read by the bridge) are read leniently too.
    pub(crate) lenient_requests: bool,
    /// Where the event last returned by [`Cursor::event`] began.
    event_start: usize,
    /// Where the values the forwarding patch may replace lie, noted by the readers as they read them.
    pub(crate) spans: Spans,
}

impl<'a> Cursor<'a> {
    /// A cursor over UTF-8 `bytes`. quick-xml checks UTF-8 event by event, so the document is not
    /// validated twice; an invalid sequence surfaces as [`ReadErrorKind::Encoding`].
    pub(crate) fn new(bytes: &'a [u8], limits: Limits, time_zone: TimeZone) -> Self {
        let mut reader = Reader::from_reader(bytes);
        // Defaults already check end-tag names; comments are checked so `--` inside one is refused.
        reader.config_mut().check_comments = true;
        Self {
            reader,
            doc: bytes,
            namespaces: Namespaces::default(),
            depth: 0,
            elements: 0,
            limits,
            time_zone,
            strict: false,
            lenient_requests: false,
            event_start: 0,
            spans: Spans::default(),
        }
    }

    /// Where the reader stands: the end of the last event read.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.reader.buffer_position() as usize
    }

    /// Where `el`'s value lies, asked right after its content was read (its end tag is the last event).
    #[inline]
    pub(crate) fn leaf(&self, el: &Child<'_>) -> Leaf {
        if el.empty { Leaf::Empty(el.tag) } else { Leaf::Text(Span { start: el.tag.end, end: self.event_start }) }
    }

    /// `el` from its start tag to its end tag, asked right after its content was read.
    #[inline]
    pub(crate) fn whole(&self, el: &Child<'_>) -> Span {
        Span { start: el.tag.start, end: self.position() }
    }

    /// The next raw event, with XML errors turned into faults. Inlined into its few callers: it runs for every
    /// event, and as a call of its own its set-up and the copy of the event it returns cost as much as its work.
    #[inline(always)]
    pub(crate) fn event(&mut self) -> Result<Event<'a>> {
        self.event_start = self.reader.buffer_position() as usize;
        match self.reader.read_event() {
            Ok(event) => Ok(event),
            Err(e) => Err(self.fault(e)),
        }
    }

    #[cold]
    #[inline(never)]
    fn fault(&self, e: quick_xml::Error) -> Fault {
        Fault::new(match e {
            quick_xml::Error::Encoding(e) => ReadErrorKind::Encoding { detail: e.to_string() },
            e => ReadErrorKind::Malformed { position: self.reader.error_position(), detail: e.to_string() },
        })
    }

    /// Accounts for an element start: depth, element-count and attribute-count limits.
    #[inline]
    pub(crate) fn enter(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<()> {
        let too_many = more_attributes_than(start.attributes_raw(), self.limits.max_attributes);
        self.count(too_many, empty)
    }

    /// [`Cursor::enter`] for an element that is read: the one scan of its attributes also says whether it may
    /// declare a namespace and where its `Scheme` is.
    #[inline]
    fn enter_read(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<Scan> {
        let found = scan(start.attributes_raw(), self.limits.max_attributes);
        self.count(found.too_many, empty)?;
        Ok(found)
    }

    #[inline]
    fn count(&mut self, too_many_attributes: bool, empty: bool) -> Result<()> {
        if too_many_attributes {
            return Err(Fault::new(ReadErrorKind::TooManyAttributes { limit: self.limits.max_attributes }));
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(Fault::new(ReadErrorKind::TooManyElements { limit: self.limits.max_elements }));
        }
        if !empty {
            self.depth += 1;
            if self.depth > self.limits.max_depth {
                return Err(Fault::new(ReadErrorKind::TooDeep { limit: self.limits.max_depth }));
            }
        }
        Ok(())
    }

    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.namespaces.close(self.depth);
    }

    /// Wraps a start event as an entered child. In a request, an element bound to a foreign namespace is
    /// refused: the XSD admits other vocabularies only inside `Ext` (whose content is skipped, never walked
    /// here), and Alma, reading the forwarded bytes, might not tell the namespaces apart as the bridge does.
    #[inline]
    pub(crate) fn child_from(&mut self, event: Event<'a>) -> Result<Option<Child<'a>>> {
        let (start, empty) = match event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            _ => return Ok(None),
        };
        let found = self.enter_read(&start, empty)?;
        let name = start.name().into_inner();
        let local = crate::chars::find_byte(name.as_bytes(), b':').map_or(0, |colon| colon + 1);
        let prefix = local.checked_sub(1).map(|colon| &name.as_bytes()[..colon]);
        let foreign_namespace = self.namespaces.open(self.doc, &start, &found, prefix, self.depth, empty);
        let tag = Span { start: self.event_start, end: self.reader.buffer_position() as usize };
        let child = Child {
            start,
            empty,
            foreign: foreign_namespace.is_some(),
            tag,
            local,
            scheme: found.scheme,
            version: found.version,
        };
        if let Some(namespace) = foreign_namespace.filter(|_| self.strict) {
            return Err(Fault::at(
                ReadErrorKind::ForeignElement { element: String::new(), namespace },
                child.local_name(),
            ));
        }
        Ok(Some(child))
    }

    /// The namespace `el` is bound to, asked right after `el` was read (the bindings in scope change as
    /// the cursor moves on).
    pub(crate) fn namespace_of(&self, el: &Child<'a>) -> Option<String> {
        self.namespaces.foreign(self.doc, el.start.name().prefix().map(|p| p.into_inner().as_bytes()))
    }

    /// The next child element of `parent`, or `None` once `parent`'s end tag is consumed.
    /// Text between children is ignored (mod-ncip's malformed-root sample has stray text in the root).
    pub(crate) fn next_child(&mut self, parent: &Child<'a>) -> Result<Option<Child<'a>>> {
        if parent.empty {
            return Ok(None);
        }
        loop {
            match self.event()? {
                event @ (Event::Start(_) | Event::Empty(_)) => return self.child_from(event),
                Event::End(_) => {
                    self.leave();
                    return Ok(None);
                }
                Event::GeneralRef(r) => {
                    resolve_reference(&r)?;
                }
                // Text between elements is ignorable (never kept), so it is not scanned.
                Event::Text(_) => {}
                Event::CData(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(self.malformed("XML declaration or DOCTYPE inside an element"));
                }
                Event::Eof => return Err(self.malformed("document ends inside an element")),
            }
        }
    }

    pub(crate) fn malformed(&self, detail: &str) -> Fault {
        Fault::new(ReadErrorKind::Malformed { position: self.reader.buffer_position(), detail: detail.to_owned() })
    }

    /// Skips `el` and everything inside it, still enforcing limits and entity rules.
    pub(crate) fn skip(&mut self, el: &Child<'a>) -> Result<()> {
        if el.empty {
            return Ok(());
        }
        let mut open = 1usize;
        while open > 0 {
            match self.event()? {
                Event::Start(start) => {
                    self.enter(&start, false)?;
                    open += 1;
                }
                Event::Empty(start) => self.enter(&start, true)?,
                Event::End(_) => {
                    self.leave();
                    open -= 1;
                }
                Event::GeneralRef(r) => {
                    resolve_reference(&r)?;
                }
                // Text between elements is ignorable (never kept), so it is not scanned.
                Event::Text(_) => {}
                Event::CData(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(self.malformed("XML declaration or DOCTYPE inside an element"));
                }
                Event::Eof => return Err(self.malformed("document ends inside an element")),
            }
        }
        Ok(())
    }

    /// The text content of a leaf element. Child elements inside it are skipped.
    pub(crate) fn text(&mut self, el: &Child<'a>) -> Result<Cow<'a, str>> {
        Ok(self.text_and_v1_pair(el)?.0)
    }

    /// Text plus NCIP 1 `<Scheme>`/`<Value>` children (Auto-Graphics / Koha hybrids put them inside
    /// NCIP 2 elements): returns (text, scheme child, value child).
    fn text_and_v1_pair(&mut self, el: &Child<'a>) -> Result<(Cow<'a, str>, Option<String>, Option<String>)> {
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        let (mut v1_scheme, mut v1_value) = (None, None);
        if el.empty {
            return Ok((text, None, None));
        }
        loop {
            match self.event()? {
                Event::Text(t) => {
                    let content = match crate::chars::text_controls(&t) {
                        Some(false) => t.into_inner(),
                        Some(true) => t.xml10_content(),
                        None => return Err(control_character()),
                    };
                    if text.is_empty() {
                        text = content;
                    } else {
                        text.to_mut().push_str(&content);
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = resolve_reference(&r)?;
                    text.to_mut().push(resolved);
                }
                Event::CData(c) => {
                    // CDATA is kept text like any other: the same character rules apply, or an ESC byte
                    // inside `<![CDATA[...]]>` would reach an Alma path.
                    let content = c.xml10_content();
                    check_characters(&content)?;
                    text.to_mut().push_str(&content);
                }
                event @ (Event::Start(_) | Event::Empty(_)) => {
                    if let Some(child) = self.child_from(event)? {
                        match child.name() {
                            "Scheme" => v1_scheme = Some(self.text(&child)?.into_owned()),
                            "Value" => v1_value = Some(self.text(&child)?.into_owned()),
                            _ => self.skip(&child)?,
                        }
                    }
                }
                Event::End(_) => {
                    self.leave();
                    return Ok((text, v1_scheme, v1_value));
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Decl(_) | Event::DocType(_) => {
                    return Err(self.malformed("XML declaration or DOCTYPE inside an element"));
                }
                Event::Eof => return Err(self.malformed("document ends inside an element")),
            }
        }
    }

    /// An owned text value.
    pub(crate) fn string(&mut self, el: &Child<'a>) -> Result<String> {
        Ok(self.text(el)?.into_owned())
    }

    /// A `SchemeValuePair`: `Scheme` attribute (qualified or not) or NCIP 1 `<Scheme>/<Value>` children.
    pub(crate) fn scheme_value(&mut self, el: &Child<'a>) -> Result<SchemeValue> {
        let attribute_scheme = el.scheme_attribute()?;
        let (text, v1_scheme, v1_value) = self.text_and_v1_pair(el)?;
        let value = match v1_value {
            Some(v) => v,
            None => text.into_owned(),
        };
        Ok(SchemeValue { scheme: attribute_scheme.or(v1_scheme), value })
    }

    /// An xs:dateTime (see [`parse_ncip_date`] for the accepted shapes) or `Invalid Date`.
    pub(crate) fn date(&mut self, el: &Child<'a>) -> Result<Timestamp> {
        let text = self.text(el)?;
        parse_ncip_date(&text, &self.time_zone).ok_or_else(|| {
            Fault::at(ReadErrorKind::InvalidDate { element: String::new(), value: text.into_owned() }, el.name())
        })
    }

    /// A non-negative integer or `Element Rule Violated`.
    pub(crate) fn unsigned(&mut self, el: &Child<'a>) -> Result<u64> {
        let text = self.text(el)?;
        text.trim().parse::<u64>().map_err(|_| {
            Fault::at(
                ReadErrorKind::ElementRuleViolated {
                    element: String::new(),
                    value: text.to_string(),
                    rule: "not a non-negative integer",
                },
                el.name(),
            )
        })
    }

    /// An xs:integer or `Element Rule Violated`.
    pub(crate) fn integer(&mut self, el: &Child<'a>) -> Result<i64> {
        let text = self.text(el)?;
        text.trim().parse::<i64>().map_err(|_| {
            Fault::at(
                ReadErrorKind::ElementRuleViolated {
                    element: String::new(),
                    value: text.to_string(),
                    rule: "not an integer",
                },
                el.name(),
            )
        })
    }

    /// Runs `read` on `el`, adding `el`'s name to the path of any content fault.
    pub(crate) fn within<T>(
        &mut self,
        el: &Child<'a>,
        read: impl FnOnce(&mut Self, &Child<'a>) -> Result<T>,
    ) -> Result<T> {
        read(self, el).map_err(|f| f.within(el.name()))
    }
}

/// Resolves one of the five predefined entities or a character reference; anything else is refused
/// (no DTD is honoured, so any other name is undeclared: this also stops XXE and billion laughs).
pub(crate) fn resolve_reference(r: &BytesRef<'_>) -> Result<char> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(c),
            _ => Err(entity_fault(&format!("character reference &{};", &**r))),
        };
    }
    match &**r {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(entity_fault(&format!("reference to undeclared entity &{other};"))),
    }
}

/// XML 1.0 `Char` production (minus the surrogates Rust cannot hold anyway).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Refuses C0 control characters in text (not XML 1.0 `Char`s; they could not be written back).
#[inline]
fn check_characters(text: &str) -> Result<()> {
    if crate::chars::has_forbidden_control(text) {
        return Err(control_character());
    }
    Ok(())
}

#[cold]
fn control_character() -> Fault {
    Fault::new(ReadErrorKind::Malformed {
        position: 0,
        detail: "control character in text (not allowed in XML 1.0)".to_owned(),
    })
}
