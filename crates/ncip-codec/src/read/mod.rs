//! The tolerant reader: bytes in, a typed [`Message`] or a [`ReadError`] that says what to answer.
//!
//! Order of checks: body size, encoding, prolog (a DOCTYPE is noted, never fetched; one declaring
//! entities is refused), root element and NCIP generation, the service element, the service's content
//! (with depth and element-count limits throughout), then nothing but comments after the service.

mod attributes;
mod common;
mod cursor;
pub(crate) mod date;
pub(crate) mod decode;
mod item;
mod namespaces;
mod responses;
mod services;
mod user;

use jiff::tz::TimeZone;
use quick_xml::events::Event;

use crate::error::{ReadError, ReadErrorKind};
use crate::model::common::{InitiationHeader, NcipVersion, ServiceKind};
use crate::model::messages::{Message, VersionEnvelope};
use cursor::{Child, Cursor, Fault, Limits};

/// Longest identifier a request may carry, in bytes as received. Real ones are short (Relais request numbers,
/// barcodes, agency codes: under 40); the store keys on them with the same bound, and an unbounded one would
/// otherwise reach Alma's URLs and every Problem that quotes it.
pub const MAX_IDENTIFIER_BYTES: usize = 256;

/// The NCIP 2 namespace.
pub const NCIP_NAMESPACE: &str = "http://www.niso.org/2008/ncip";

/// Limits and defaults for [`read`].
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Largest body accepted (default 256 KiB; the largest corpus message is 28 KB).
    pub max_bytes: usize,
    /// Deepest element nesting accepted (default 64; real NCIP nests about 10 deep).
    pub max_depth: usize,
    /// Most elements accepted (default 20,000).
    pub max_elements: usize,
    /// Most attributes on one element (default 32; the corpus's busiest root carries 5). Counted before
    /// any attribute is parsed, so a start tag with a million attributes costs one scan, not a million
    /// allocations.
    pub max_attributes: usize,
    /// Zone for date-times without an offset (default UTC; set the library's zone).
    pub time_zone: TimeZone,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024,
            max_depth: 64,
            max_elements: 20_000,
            max_attributes: 32,
            time_zone: TimeZone::UTC,
        }
    }
}

/// What [`peek`] learns from the start of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peek {
    /// NCIP generation.
    pub version: NcipVersion,
    /// The service (`Other("Problem")` for a top-level Problem message).
    pub service: ServiceKind,
    /// Whether the service element is a `...Response`.
    pub is_response: bool,
}

/// The root element, entered.
struct Root<'a> {
    element: Child<'a>,
    envelope: VersionEnvelope,
    version: NcipVersion,
    version_attribute: Option<String>,
}

fn syntax(fault: Fault) -> ReadError {
    ReadError::new(fault.into_kind())
}

/// Reads the prolog and enters the root element.
fn open_root<'a>(c: &mut Cursor<'a>) -> Result<Root<'a>, ReadError> {
    let mut doctype_says_v1 = false;
    let element = loop {
        let event = c.event().map_err(syntax)?;
        match event {
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::DocType(doctype) => {
                // Internal entity declarations are how billion-laughs and XXE payloads arrive.
                if doctype.contains("<!ENTITY") {
                    return Err(ReadError::new(ReadErrorKind::EntityDeclarations));
                }
                doctype_says_v1 = doctype.contains("NCIP DTD Version 1") || doctype.contains("ncip_v1_0.dtd");
            }
            Event::Text(t) if t.trim().is_empty() => {}
            event @ (Event::Start(_) | Event::Empty(_)) => match c.child_from(event).map_err(syntax)? {
                Some(element) => break element,
                None => unreachable!("start events always make a child"),
            },
            Event::Eof => return Err(syntax(c.malformed("no root element"))),
            _ => return Err(syntax(c.malformed("content before the root element"))),
        }
    };
    let envelope = match element.local_name() {
        "NCIPMessage" => VersionEnvelope::NcipMessage,
        "NCIPVersionMessage" => VersionEnvelope::NcipVersionMessage,
        other => {
            return Err(ReadError::new(ReadErrorKind::WrongRoot { found: other.to_owned() }));
        }
    };
    // A root of NCIP's name in another namespace is another vocabulary that happens to reuse NCIP's names.
    if element.is_foreign() {
        let namespace = c.namespace_of(&element).unwrap_or_default();
        return Err(ReadError::new(ReadErrorKind::ForeignRoot { namespace }));
    }
    let version_attribute = element.version_attribute().map_err(syntax)?;
    let version = match (&envelope, &version_attribute) {
        // The version-lookup exchange is version-independent by design.
        (VersionEnvelope::NcipVersionMessage, _) => NcipVersion::V2,
        (_, Some(v)) if v.contains("/v1_0/") || v.contains("ncip_v1") => NcipVersion::V1,
        (_, Some(_)) => NcipVersion::V2,
        // ncip-server's Koha templates carry the NCIP 1 DOCTYPE on NCIP 2 messages: the namespace decides.
        (_, None) if doctype_says_v1 && !element.has_attribute_value(NCIP_NAMESPACE) => NcipVersion::V1,
        (_, None) => NcipVersion::V2,
    };
    Ok(Root { element, envelope, version, version_attribute })
}

/// The first child of the root that is not an `Ext`.
fn first_service<'a>(c: &mut Cursor<'a>, root: &Child<'a>) -> Result<Child<'a>, ReadError> {
    loop {
        match c.next_child(root).map_err(syntax)? {
            Some(ch) if ch.name() == "Ext" => c.skip(&ch).map_err(syntax)?,
            Some(ch) => return Ok(ch),
            None => return Err(ReadError::new(ReadErrorKind::NoService)),
        }
    }
}

/// Runs `parse` on the body as UTF-8; if that meets invalid UTF-8, on the text of a declared
/// ISO-8859-1 / windows-1252 (see `decode`), telling `parse` it reads decoded text. Encoding failures are
/// always answered at top level.
fn with_encoding_rule<T>(bytes: &[u8], parse: impl Fn(&[u8], bool) -> Result<T, ReadError>) -> Result<T, ReadError> {
    let bytes = decode::strip_bom(bytes);
    // Matched by reference and returned whole: a message is a large value, and each move of it is a copy.
    let first = parse(bytes, false);
    if let Err(e) = &first
        && matches!(e.kind(), ReadErrorKind::Encoding { .. })
    {
        let text = decode::latin1_fallback(bytes).map_err(ReadError::new)?;
        return parse(text.as_bytes(), true);
    }
    first
}

/// Cheaply classifies a message: reads only up to the first service element (no content parsing), under
/// the same limits as [`read`]. The size is checked before a byte is parsed: the front door peeks at
/// whatever an authenticated caller sends, and a 10 MiB run of `Ext` before the service would otherwise
/// be scanned in full.
pub fn peek(bytes: &[u8], opts: &ReadOptions) -> Result<Peek, ReadError> {
    check_size(bytes, opts)?;
    with_encoding_rule(bytes, |utf8, _| peek_utf8(utf8, opts))
}

fn check_size(bytes: &[u8], opts: &ReadOptions) -> Result<(), ReadError> {
    if bytes.len() > opts.max_bytes {
        return Err(ReadError::new(ReadErrorKind::TooLarge { size: bytes.len(), limit: opts.max_bytes }));
    }
    Ok(())
}

fn limits(opts: &ReadOptions) -> Limits {
    Limits { max_depth: opts.max_depth, max_elements: opts.max_elements, max_attributes: opts.max_attributes }
}

fn peek_utf8(bytes: &[u8], opts: &ReadOptions) -> Result<Peek, ReadError> {
    let limits = limits(opts);
    let mut c = Cursor::new(bytes, limits, TimeZone::UTC);
    let root = open_root(&mut c)?;
    let service = first_service(&mut c, &root.element)?;
    if service.name() == "Problem" {
        return Ok(Peek {
            version: root.version,
            service: ServiceKind::Other("Problem".to_owned()),
            is_response: true,
        });
    }
    if !ServiceKind::is_plain_element_name(service.name()) {
        return Err(syntax(c.malformed("the service element name is not an NCIP element name")));
    }
    let (service, is_response) = ServiceKind::from_element_name(service.name());
    Ok(Peek { version: root.version, service, is_response })
}

/// Reads a whole message.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<Message, ReadError> {
    check_size(bytes, opts)?;
    with_encoding_rule(bytes, |utf8, decoded| {
        let mut c = Cursor::new(utf8, limits(opts), opts.time_zone.clone());
        read_utf8(&mut c, utf8.len(), decoded)
    })
}

/// Where the patch would edit `text` (UTF-8, without a byte-order mark), for a request the bridge has not
/// read: the same reading as [`read`]'s, so the same occurrences, without its limits and without holding the
/// request to the XSD's required elements.
pub(crate) fn spans_for_patch(text: &[u8]) -> Result<crate::patch::Spans, ReadError> {
    let unlimited = Limits { max_depth: usize::MAX, max_elements: usize::MAX, max_attributes: usize::MAX };
    let mut c = Cursor::new(text, unlimited, TimeZone::UTC);
    c.lenient_requests = true;
    let message = read_utf8(&mut c, text.len(), false)?;
    match message.patch_spans() {
        Some(spans) => Ok(spans.clone()),
        None => Err(crate::patch::unplaceable("only a request is forwarded")),
    }
}

/// Reads a whole message of `len` bytes from `c`; `decoded` says the text was decoded from ISO-8859-1 /
/// windows-1252 (so the patch decodes it the same way before using the spans noted).
fn read_utf8(c: &mut Cursor<'_>, len: usize, decoded: bool) -> Result<Message, ReadError> {
    let root = open_root(c)?;
    let first = first_service(c, &root.element)?;
    if first.name() == "Problem" {
        return read_top_level_problems(c, &root.element, first);
    }
    if !ServiceKind::is_plain_element_name(first.name()) {
        return Err(syntax(c.malformed("the service element name is not an NCIP element name")));
    }
    let (service, is_response) = ServiceKind::from_element_name(first.name());
    let in_service = |kind: ReadErrorKind, header: Option<InitiationHeader>| {
        ReadError::in_service(kind, service.clone(), is_response, header)
    };
    if root.version == NcipVersion::V1 {
        return Err(in_service(ReadErrorKind::Version1 { version: root.version_attribute }, None));
    }
    let mut seen = None;
    let mut message = match services::read_service(c, &first, &service, is_response, root.envelope, &mut seen) {
        Ok(message) => message,
        Err(fault) => return Err(in_service(fault.into_kind(), seen.take())),
    };
    let mut spans = std::mem::take(&mut c.spans);
    spans.text = Some((len, decoded));
    spans.service = first.tag();
    spans.service_empty = first.is_empty();
    message.set_patch_spans(spans);
    finish(c, &root.element, first.name()).map_err(|e| match e.kind() {
        ReadErrorKind::MultipleServices { .. } => e,
        _ => in_service(e.kind().clone(), message.initiation_header().cloned()),
    })?;
    Ok(message)
}

/// `NCIPMessage` holding `Problem` elements instead of a service.
fn read_top_level_problems<'a>(c: &mut Cursor<'a>, root: &Child<'a>, first: Child<'a>) -> Result<Message, ReadError> {
    let mut problems = vec![responses::top_level_problem(c, &first).map_err(syntax)?];
    while let Some(ch) = c.next_child(root).map_err(syntax)? {
        match ch.name() {
            "Problem" => problems.push(responses::top_level_problem(c, &ch).map_err(syntax)?),
            "Ext" => c.skip(&ch).map_err(syntax)?,
            other => {
                return Err(ReadError::new(ReadErrorKind::MultipleServices {
                    first: "Problem".to_owned(),
                    second: other.to_owned(),
                }));
            }
        }
    }
    trailing(c)?;
    Ok(Message::Problem(problems))
}

/// After the service: only `Ext` may follow inside the root, and only comments after it.
fn finish<'a>(c: &mut Cursor<'a>, root: &Child<'a>, first: &str) -> Result<(), ReadError> {
    while let Some(ch) = c.next_child(root).map_err(syntax)? {
        if ch.name() == "Ext" {
            c.skip(&ch).map_err(syntax)?;
        } else {
            return Err(ReadError::new(ReadErrorKind::MultipleServices {
                first: first.to_owned(),
                second: ch.name().to_owned(),
            }));
        }
    }
    trailing(c)
}

fn trailing(c: &mut Cursor<'_>) -> Result<(), ReadError> {
    loop {
        match c.event().map_err(syntax)? {
            Event::Eof => return Ok(()),
            Event::Comment(_) | Event::PI(_) => {}
            Event::Text(t) if t.trim().is_empty() => {}
            _ => return Err(syntax(c.malformed("content after the root element"))),
        }
    }
}
