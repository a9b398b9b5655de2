//! Forwarding a request as it was received, changed only where the bridge must change it.
//!
//! The direct Relais-to-Alma link hands Alma Relais's own bytes, so the bridge must not do worse: every
//! element, its order, unknown extensions and the date texts reach Alma as sent. [`patch_as_read`] therefore
//! edits the received text in place instead of writing the message again from the model. It changes only:
//! - `InitiationHeader/ToAgencyId/AgencyId`, `InitiationHeader/FromAgencyId/AgencyId` and
//!   `InitiationHeader/ApplicationProfileType` values, inserting the element (or the whole header) where it is
//!   missing, in the XSD's sequence position and with the service element's namespace prefix;
//! - the service's own `UserId/UserIdentifierValue` (the patron identifier, translated for Alma) and, when
//!   asked, its `UserIdentifierType` (so that the type names the value Alma receives);
//! - the values of the service's own `ItemId/AgencyId` and `UserId/AgencyId` where present (Relais writes its
//!   own agency code there, where Alma expects its own);
//! - the encoding: Alma receives UTF-8, so a message in ISO-8859-1 / windows-1252 is transcoded and its
//!   declaration (or a declaration that lied about UTF-8 bytes) says UTF-8.
//!
//! Where those values lie is noted by the reader itself, as it reads each one ([`PatchSpans`], kept in the
//! request it returns): the patch copies the text between them and never tokenises the message again. So the
//! occurrence the patch edits is by construction the one the bridge read and acted on; a second `UserId` or
//! an element in another namespace cannot be edited in its place.

use std::borrow::Cow;

use crate::error::{ReadError, ReadErrorKind};
use crate::model::messages::Message;
use crate::read::decode;
use quick_xml::escape::escape;

/// The values to put in the forwarded message; `None` leaves that part as received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderEdits<'a> {
    /// `ToAgencyId/AgencyId`: the Alma institution code.
    pub to_agency: Option<&'a str>,
    /// `FromAgencyId/AgencyId`.
    pub from_agency: Option<&'a str>,
    /// `ApplicationProfileType`: the Alma partner code of the sending agency.
    pub application_profile_type: Option<&'a str>,
    /// The service's `UserId/UserIdentifierValue`.
    pub user_identifier: Option<&'a str>,
    /// The service's `UserId/UserIdentifierType`, when one was sent: replaced or removed. A message that sent
    /// no type gets none (NCIP makes it optional).
    pub user_identifier_type: Option<TypeEdit<'a>>,
    /// Every service-level `ItemId/AgencyId` that was sent (none is added).
    pub item_agency: Option<&'a str>,
    /// The service's `UserId/AgencyId`, when one was sent (none is added).
    pub user_agency: Option<&'a str>,
}

/// What becomes of a `UserIdentifierType` that was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeEdit<'a> {
    /// Its text becomes this (its `Scheme` attribute, if any, stays).
    Set(&'a str),
    /// The element goes: the value no longer is of the type it named, and there is no name for its type.
    Remove,
}

/// A byte range of the text a request was read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Where a leaf element's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaf {
    /// Between the start tag's end and the end tag's start.
    Text(Span),
    /// `<X/>`, rewritten whole (with its qualified name, read from the text).
    Empty(Span),
}

/// The header elements the patch may insert, in the XSD's sequence order.
pub(crate) const INSERTABLE: [&str; 3] = ["FromAgencyId", "ToAgencyId", "ApplicationProfileType"];

/// Where the service's `InitiationHeader` is, and where a missing element of [`INSERTABLE`] would go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum HeaderAt {
    /// None was sent (several vendors omit it): one goes right after the service's start tag.
    #[default]
    Absent,
    /// `<InitiationHeader/>`, replaced whole.
    Empty(Span),
    /// An open header: the end of its start tag, and for each [`INSERTABLE`] name the end of the last child
    /// that precedes it in the XSD's sequence, if any (else it goes first).
    Open { open_end: usize, after: [Option<usize>; 3] },
}

/// What a reading of a request noted for the patch (empty for a message built in code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spans {
    /// The length of the text read, and whether that text was decoded from ISO-8859-1 / windows-1252; `None`
    /// until a reading fills the rest in.
    pub(crate) text: Option<(usize, bool)>,
    /// The service element's start tag, and whether the element is empty (`<CheckInItem/>`).
    pub(crate) service: Span,
    pub(crate) service_empty: bool,
    pub(crate) header: HeaderAt,
    pub(crate) from_agency: Option<Leaf>,
    pub(crate) to_agency: Option<Leaf>,
    pub(crate) application_profile_type: Option<Leaf>,
    pub(crate) user_identifier: Option<Leaf>,
    /// The service's `UserId/UserIdentifierType`: its value, and the whole element.
    pub(crate) user_identifier_type: Option<(Leaf, Span)>,
    pub(crate) user_agency: Option<Leaf>,
    /// Each service-level `ItemId/AgencyId` (RequestItem may carry several ItemIds).
    pub(crate) item_agencies: Leaves,
}

/// A list of leaves that holds the usual one without allocating.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Leaves {
    first: Option<Leaf>,
    more: Vec<Leaf>,
}

impl Leaves {
    pub(crate) fn push(&mut self, leaf: Leaf) {
        if self.first.is_none() {
            self.first = Some(leaf);
        } else {
            self.more.push(leaf);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Leaf> {
        self.first.iter().chain(&self.more)
    }
}

/// Where, in the text a request was read from, the values [`patch_as_read`] may replace lie, and where a
/// missing header part would go: noted by the reader as it read them, so that forwarding copies slices of
/// the received text around the edits instead of tokenising it again. Empty in a message built in code.
///
/// Not part of what the message says: two readings of the same message compare equal whatever text each
/// came from. Boxed, so that a request moves as cheaply as before.
#[derive(Debug, Clone, Default)]
pub struct PatchSpans(pub(crate) Option<Box<Spans>>);

impl PartialEq for PatchSpans {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for PatchSpans {}

/// One change to the text: replace `start..end` with `text` (borrowed from the edits where no escaping or
/// markup is added).
#[derive(Debug)]
struct Splice<'e> {
    start: usize,
    end: usize,
    text: Cow<'e, str>,
}

/// `received`, the bytes `message` was read from, as UTF-8 with `edits` applied at the places the reading
/// noted. A message that was not read from `received` (built in code, or read from other bytes) is patched
/// as [`patch`] does.
pub fn patch_as_read(received: &[u8], message: &Message, edits: &HeaderEdits<'_>) -> Result<Vec<u8>, ReadError> {
    let Some(spans) = message.patch_spans() else { return patch(received, edits) };
    let Some((_, latin1)) = spans.text else { return patch(received, edits) };
    let text: Cow<'_, [u8]> = if latin1 {
        Cow::Owned(decode::latin1_fallback(decode::strip_bom(received)).map_err(ReadError::new)?.into_bytes())
    } else {
        let bytes = decode::strip_bom(received);
        // The reader takes the ignorable text between elements on trust; UTF-8 is what Alma must receive.
        if std::str::from_utf8(bytes).is_err() {
            return patch(received, edits);
        }
        Cow::Borrowed(bytes)
    };
    if !spans.fit(&text) {
        return patch(received, edits);
    }
    splice(&text, spans, edits)
}

/// The received request as UTF-8 with `edits` applied, for a message the bridge has not read: the text is
/// read here (leniently: only where the values lie matters, not whether the request is complete), then
/// patched as [`patch_as_read`] does.
pub fn patch(received: &[u8], edits: &HeaderEdits<'_>) -> Result<Vec<u8>, ReadError> {
    let received = decode::strip_bom(received);
    let text: Cow<'_, str> = match std::str::from_utf8(received) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(decode::latin1_fallback(received).map_err(ReadError::new)?),
    };
    let spans = crate::read::spans_for_patch(text.as_bytes())?;
    splice(text.as_bytes(), &spans, edits)
}

impl Spans {
    /// Whether these spans can be those of `text`: its length, and the markup on either side of each span.
    /// A message read from other bytes of the same length would fail one of these.
    fn fit(&self, text: &[u8]) -> bool {
        let at = |i: usize, b: u8| text.get(i) == Some(&b);
        let before = |i: usize, b: u8| i > 0 && at(i - 1, b);
        let leaf = |leaf: &Leaf| match *leaf {
            Leaf::Text(s) => before(s.start, b'>') && at(s.end, b'<'),
            Leaf::Empty(s) => at(s.start, b'<') && before(s.end, b'>'),
        };
        let header = match self.header {
            HeaderAt::Absent => true,
            HeaderAt::Empty(s) => at(s.start, b'<') && before(s.end, b'>'),
            HeaderAt::Open { open_end, after } => {
                before(open_end, b'>') && after.iter().flatten().all(|&end| before(end, b'>'))
            }
        };
        self.text.is_some_and(|(len, _)| len == text.len())
            && at(self.service.start, b'<')
            && before(self.service.end, b'>')
            && header
            && [self.from_agency, self.to_agency, self.application_profile_type, self.user_identifier, self.user_agency]
                .iter()
                .flatten()
                .chain(self.user_identifier_type.as_ref().map(|(leaf, _)| leaf))
                .chain(self.item_agencies.iter())
                .all(leaf)
    }
}

fn splice(text: &[u8], spans: &Spans, edits: &HeaderEdits<'_>) -> Result<Vec<u8>, ReadError> {
    if spans.service_empty {
        // A service with no content at all: a header goes inside, so it must be opened.
        return Err(unplaceable("the service element is empty"));
    }
    let mut splices = Vec::with_capacity(8);
    if let Some(splice) = declaration_says_utf8(text) {
        splices.push(splice);
    }
    header_splices(text, spans, edits, &mut splices);
    if let (Some(value), Some(leaf)) = (edits.user_identifier, &spans.user_identifier) {
        splices.push(fill(text, leaf, value));
    }
    if let (Some(value), Some(leaf)) = (edits.user_agency, &spans.user_agency) {
        splices.push(fill(text, leaf, value));
    }
    if let Some(value) = edits.item_agency {
        splices.extend(spans.item_agencies.iter().map(|leaf| fill(text, leaf, value)));
    }
    match (edits.user_identifier_type, &spans.user_identifier_type) {
        (Some(TypeEdit::Set(value)), Some((leaf, _))) => splices.push(fill(text, leaf, value)),
        (Some(TypeEdit::Remove), Some((_, whole))) => {
            splices.push(Splice { start: whole.start, end: whole.end, text: Cow::Borrowed("") })
        }
        _ => {}
    }
    splices.sort_by_key(|s| (s.start, s.end));
    let mut out = Vec::with_capacity(text.len() + 256);
    let mut at = 0;
    for splice in splices {
        out.extend_from_slice(&text[at..splice.start]);
        out.extend_from_slice(splice.text.as_bytes());
        at = splice.end;
    }
    out.extend_from_slice(&text[at..]);
    Ok(out)
}

fn header_splices<'e>(text: &[u8], spans: &Spans, edits: &HeaderEdits<'e>, splices: &mut Vec<Splice<'e>>) {
    let p = prefix(text, spans.service);
    let wanted = [
        (edits.from_agency, &spans.from_agency),
        (edits.to_agency, &spans.to_agency),
        (edits.application_profile_type, &spans.application_profile_type),
    ];
    let (open_end, after) = match spans.header {
        HeaderAt::Open { open_end, after } => (open_end, after),
        absent_or_empty => {
            // No header (several vendors omit it), or an empty one: write one holding just the edited values.
            let mut header = format!("<{p}InitiationHeader>");
            for (name, (value, _)) in INSERTABLE.iter().zip(wanted) {
                if let Some(value) = value {
                    header.push_str(&element(p, name, value));
                }
            }
            header.push_str(&format!("</{p}InitiationHeader>"));
            let at = match absent_or_empty {
                HeaderAt::Empty(span) => span,
                _ => Span { start: spans.service.end, end: spans.service.end },
            };
            splices.push(Splice { start: at.start, end: at.end, text: Cow::Owned(header) });
            return;
        }
    };
    for ((name, (value, leaf)), after) in INSERTABLE.iter().zip(wanted).zip(after) {
        let Some(value) = value else { continue };
        match leaf {
            Some(leaf) => splices.push(fill(text, leaf, value)),
            None => {
                let at = after.unwrap_or(open_end);
                splices.push(Splice { start: at, end: at, text: Cow::Owned(element(p, name, value)) });
            }
        }
    }
}

/// The qualified name of the tag starting at `start`.
fn qualified_name(text: &[u8], start: usize) -> &str {
    let name = &text[start + 1..];
    let len = name.iter().position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')).unwrap_or(name.len());
    // Names are ASCII or whole UTF-8 sequences, ending at an ASCII delimiter.
    std::str::from_utf8(&name[..len]).unwrap_or_default()
}

/// The service element's prefix with its colon (`ns1:`), or empty: inserted elements take it.
fn prefix(text: &[u8], service: Span) -> &str {
    let name = qualified_name(text, service.start);
    name.rfind(':').map_or("", |colon| &name[..=colon])
}

/// `<p:ToAgencyId><p:AgencyId>value</p:AgencyId></p:ToAgencyId>`, or the plain element for the profile type.
fn element(p: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(4 * p.len() + 2 * name.len() + value.len() + 40);
    let open = |out: &mut String, name: &str| {
        out.extend(["<", p, name, ">"]);
    };
    let close = |out: &mut String, name: &str| {
        out.extend(["</", p, name, ">"]);
    };
    open(&mut out, name);
    if name == "ApplicationProfileType" {
        out.push_str(&escape(value));
    } else {
        open(&mut out, "AgencyId");
        out.push_str(&escape(value));
        close(&mut out, "AgencyId");
    }
    close(&mut out, name);
    out
}

fn fill<'e>(text: &[u8], leaf: &Leaf, value: &'e str) -> Splice<'e> {
    let value = escape(value);
    match *leaf {
        Leaf::Text(s) => Splice { start: s.start, end: s.end, text: value },
        Leaf::Empty(s) => {
            let qname = qualified_name(text, s.start);
            Splice { start: s.start, end: s.end, text: Cow::Owned(format!("<{qname}>{value}</{qname}>")) }
        }
    }
}

/// A declaration naming another encoding is changed to UTF-8, since UTF-8 is what Alma receives.
fn declaration_says_utf8(text: &[u8]) -> Option<Splice<'static>> {
    if !text.starts_with(b"<?xml") {
        return None;
    }
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let end = find(text, b"?>")?;
    let declaration = &text[..end];
    let key = find(declaration, b"encoding")?;
    let after = &declaration[key + "encoding".len()..];
    let value_start = key + "encoding".len() + after.iter().position(|b| matches!(b, b'"' | b'\''))? + 1;
    let quote = text[value_start - 1];
    let value_end = value_start + text[value_start..end].iter().position(|&b| b == quote)?;
    let label = &text[value_start..value_end];
    (!label.eq_ignore_ascii_case(b"utf-8")).then_some(Splice {
        start: value_start,
        end: value_end,
        text: "UTF-8".into(),
    })
}

pub(crate) fn unplaceable(detail: &str) -> ReadError {
    ReadError::new(ReadErrorKind::Malformed { position: 0, detail: format!("cannot forward the message: {detail}") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReadOptions, read};

    fn patched(xml: &str, edits: HeaderEdits<'_>) -> String {
        String::from_utf8(patch(xml.as_bytes(), &edits).unwrap()).unwrap()
    }

    const ALMA: HeaderEdits<'static> = HeaderEdits {
        to_agency: Some("01DEMO_INST"),
        from_agency: None,
        application_profile_type: Some("RELAIS"),
        user_identifier: None,
        user_identifier_type: None,
        item_agency: None,
        user_agency: None,
    };

    #[test]
    fn only_the_edited_values_change() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ns1:NCIPMessage xmlns:ns1="http://www.niso.org/2008/ncip" ns1:version="2.02"><ns1:CheckInItem>
  <ns1:InitiationHeader><ns1:FromAgencyId><ns1:AgencyId ns1:Scheme="x">RELAIS_SYM</ns1:AgencyId></ns1:FromAgencyId>
  <ns1:ToAgencyId><ns1:AgencyId>abc</ns1:AgencyId></ns1:ToAgencyId><ns1:ApplicationProfileType>relais</ns1:ApplicationProfileType></ns1:InitiationHeader>
  <ns1:UserId><ns1:UserIdentifierValue>P1</ns1:UserIdentifierValue></ns1:UserId>
  <ns1:ItemId><ns1:ItemIdentifierValue> B1 </ns1:ItemIdentifierValue></ns1:ItemId>
  <ns1:RequestId><ns1:RequestIdentifierValue>R1</ns1:RequestIdentifierValue></ns1:RequestId>
  <ns1:Ext><x:Local xmlns:x="urn:x">kept</x:Local></ns1:Ext></ns1:CheckInItem></ns1:NCIPMessage>"#;
        let out = patched(xml, HeaderEdits { user_identifier: Some("BARCODE-9"), ..ALMA });
        let expected =
            xml.replace(">abc<", ">01DEMO_INST<").replace(">relais<", ">RELAIS<").replace(">P1<", ">BARCODE-9<");
        assert_eq!(out, expected);
    }

    #[test]
    fn missing_header_parts_are_inserted_in_sequence_order_with_the_prefix() {
        let xml = "<n:NCIPMessage xmlns:n=\"http://www.niso.org/2008/ncip\"><n:AcceptItem><n:InitiationHeader>\
<n:FromAgencyId><n:AgencyId>R</n:AgencyId></n:FromAgencyId><n:Ext/></n:InitiationHeader>\
<n:RequestId><n:RequestIdentifierValue>R1</n:RequestIdentifierValue></n:RequestId></n:AcceptItem></n:NCIPMessage>";
        let out = patched(xml, ALMA);
        assert!(
            out.contains(
                "</n:FromAgencyId><n:ToAgencyId><n:AgencyId>01DEMO_INST</n:AgencyId></n:ToAgencyId>\
<n:ApplicationProfileType>RELAIS</n:ApplicationProfileType><n:Ext/>"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_message_without_a_header_gets_one_first_in_its_service() {
        let xml = "<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\"><CheckInItem>\
<ItemId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>";
        let out = patched(xml, HeaderEdits { from_agency: Some("RELAIS"), ..ALMA });
        assert!(out.contains(
            "<CheckInItem><InitiationHeader><FromAgencyId><AgencyId>RELAIS</AgencyId></FromAgencyId><ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId>\
<ApplicationProfileType>RELAIS</ApplicationProfileType></InitiationHeader><ItemId>"
        ), "{out}");
        read(out.as_bytes(), &ReadOptions::default()).expect("the patched message reads");
    }

    #[test]
    fn an_empty_value_element_and_an_empty_header_are_filled() {
        let xml = "<NCIPMessage><CheckInItem><InitiationHeader><FromAgencyId><AgencyId/></FromAgencyId>\
<ToAgencyId><AgencyId/></ToAgencyId></InitiationHeader><ItemId><ItemIdentifierValue>B</ItemIdentifierValue></ItemId>\
</CheckInItem></NCIPMessage>";
        assert!(patched(xml, ALMA).contains("<ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId>"));
        let empty = "<NCIPMessage><CheckInItem><InitiationHeader/><ItemId/></CheckInItem></NCIPMessage>";
        assert!(patched(empty, ALMA).starts_with("<NCIPMessage><CheckInItem><InitiationHeader><ToAgencyId>"));
    }

    #[test]
    fn dates_and_unknown_elements_pass_untouched() {
        let xml = "<NCIPMessage><RenewItem><InitiationHeader><ToAgencyId><AgencyId>X</AgencyId></ToAgencyId>\
</InitiationHeader><ItemId><ItemIdentifierValue>B</ItemIdentifierValue></ItemId>\
<DesiredDateDue>2027-03-15T23:59:00</DesiredDateDue><ShippingInformation><x>y</x></ShippingInformation></RenewItem></NCIPMessage>";
        let out = patched(xml, ALMA);
        assert!(out.contains("<DesiredDateDue>2027-03-15T23:59:00</DesiredDateDue><ShippingInformation><x>y</x>"));
    }

    #[test]
    fn latin1_is_transcoded_and_its_declaration_says_utf8() {
        let mut xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><NCIPMessage><CheckInItem><InitiationHeader>\
<ToAgencyId><AgencyId>X</AgencyId></ToAgencyId></InitiationHeader><ItemId><ItemIdentifierValue>"
            .to_vec();
        xml.extend_from_slice(b"Bj\xF6rk</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>");
        let out = String::from_utf8(patch(&xml, &ALMA).unwrap()).unwrap();
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{out}");
        assert!(out.contains("Björk"));
    }

    #[test]
    fn values_are_escaped() {
        let xml = "<NCIPMessage><CheckInItem><InitiationHeader><ToAgencyId><AgencyId>X</AgencyId></ToAgencyId>\
</InitiationHeader></CheckInItem></NCIPMessage>";
        let out = patched(xml, HeaderEdits { to_agency: Some("A&B<"), ..HeaderEdits::default() });
        assert!(out.contains("<AgencyId>A&amp;B&lt;</AgencyId>"), "{out}");
    }

    #[test]
    fn a_user_id_outside_the_service_level_is_left_alone() {
        // AuthenticationInput or a nested UserId is not the patron identifier the service acts on.
        let xml = "<NCIPMessage><AcceptItem><InitiationHeader><ToAgencyId><AgencyId>X</AgencyId></ToAgencyId>\
</InitiationHeader><ItemOptionalFields><UserId><UserIdentifierValue>keep</UserIdentifierValue></UserId>\
</ItemOptionalFields><UserId><UserIdentifierValue>P1</UserIdentifierValue></UserId></AcceptItem></NCIPMessage>";
        let out = patched(xml, HeaderEdits { user_identifier: Some("P2"), ..HeaderEdits::default() });
        assert!(out.contains(">keep<") && out.contains(">P2<") && !out.contains(">P1<"), "{out}");
    }

    #[test]
    fn an_identifier_in_a_foreign_namespace_is_never_the_one_edited() {
        // The reader refuses such a request; the patch, walking on its own, still passes the element by rather
        // than editing one the bridge did not read.
        let xml = "<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\"><LookupUser>\
<e:UserId xmlns:e=\"urn:evil\"><e:UserIdentifierValue>VICTIM</e:UserIdentifierValue></e:UserId>\
<UserId xmlns=\"urn:evil\"><UserIdentifierValue>VICTIM</UserIdentifierValue></UserId>\
<UserId><UserIdentifierValue>P1</UserIdentifierValue></UserId></LookupUser></NCIPMessage>";
        let out = patched(xml, HeaderEdits { user_identifier: Some("P2"), ..HeaderEdits::default() });
        assert_eq!(out.matches(">VICTIM<").count(), 2, "{out}");
        assert!(out.contains("<UserId><UserIdentifierValue>P2</UserIdentifierValue></UserId>"), "{out}");
    }

    /// Relais's D2D shape: its own agency code inside each identifier, a Scheme on one, and whitespace kept.
    const RELAIS_IDS: &str = "<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\"><RequestItem>\
<InitiationHeader><FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId>\
<ToAgencyId><AgencyId>Main Library</AgencyId></ToAgencyId></InitiationHeader>\
<UserId>\n\t<AgencyId>Relais </AgencyId>\n\t<UserIdentifierType>Barcode</UserIdentifierType>\n\t<UserIdentifierValue>U-1</UserIdentifierValue></UserId>\
<ItemId><AgencyId Scheme=\"x\">LEH</AgencyId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId>\
<ItemId><AgencyId/><ItemIdentifierValue>B2</ItemIdentifierValue></ItemId>\
<RequestId><AgencyId>Relais</AgencyId><RequestIdentifierValue>R1</RequestIdentifierValue></RequestId>\
<RequestType>Loan</RequestType><RequestScopeType>Item</RequestScopeType>\
<ItemOptionalFields><ItemId><AgencyId>NESTED</AgencyId></ItemId></ItemOptionalFields></RequestItem></NCIPMessage>";

    #[test]
    fn agency_ids_inside_the_services_identifiers_become_the_institutions_and_the_request_ids_stay() {
        let edits = HeaderEdits { item_agency: Some("01DEMO_INST"), user_agency: Some("01DEMO_INST"), ..ALMA };
        let out = patched(RELAIS_IDS, edits);
        assert!(out.contains("<UserId>\n\t<AgencyId>01DEMO_INST</AgencyId>\n\t<UserIdentifierType>"), "{out}");
        assert!(out.contains("<ItemId><AgencyId Scheme=\"x\">01DEMO_INST</AgencyId><ItemIdentifierValue>B1<"), "{out}");
        assert!(out.contains("<ItemId><AgencyId>01DEMO_INST</AgencyId><ItemIdentifierValue>B2<"), "{out}");
        // The request number is Relais's own; a nested ItemId is not the item the service acts on.
        assert!(out.contains("<RequestId><AgencyId>Relais</AgencyId>"), "{out}");
        assert!(out.contains("<ItemOptionalFields><ItemId><AgencyId>NESTED<"), "{out}");
        read(out.as_bytes(), &ReadOptions::default()).expect("the patched message reads");
    }

    #[test]
    fn the_user_agency_is_left_when_not_asked_and_none_is_added_where_none_was_sent() {
        let out = patched(RELAIS_IDS, HeaderEdits { item_agency: Some("01DEMO_INST"), ..ALMA });
        assert!(out.contains("<AgencyId>Relais </AgencyId>"), "{out}");
        let bare = "<NCIPMessage><CheckInItem><InitiationHeader><ToAgencyId><AgencyId>X</AgencyId></ToAgencyId>\
</InitiationHeader><UserId><UserIdentifierValue>P</UserIdentifierValue></UserId>\
<ItemId><ItemIdentifierValue>B</ItemIdentifierValue></ItemId></CheckInItem></NCIPMessage>";
        let edits = HeaderEdits { item_agency: Some("I"), user_agency: Some("I"), ..HeaderEdits::default() };
        assert_eq!(patched(bare, edits), bare);
    }

    #[test]
    fn the_identifier_type_is_replaced_or_removed_with_the_value() {
        let set = HeaderEdits {
            user_identifier: Some("21000000001"),
            user_identifier_type: Some(TypeEdit::Set("Barcode")),
            ..HeaderEdits::default()
        };
        let typed = RELAIS_IDS.replace(">Barcode<", ">User Id<");
        let out = patched(&typed, set);
        assert!(out.contains("<UserIdentifierType>Barcode</UserIdentifierType>\n\t<UserIdentifierValue>21000000001<"));
        let removed = HeaderEdits { user_identifier_type: Some(TypeEdit::Remove), ..set };
        let out = patched(RELAIS_IDS, removed);
        assert!(out.contains("<AgencyId>Relais </AgencyId>\n\t\n\t<UserIdentifierValue>21000000001<"), "{out}");
        read(out.as_bytes(), &ReadOptions::default()).expect("the patched message reads");
        // A message that named no type gets none.
        let untyped = RELAIS_IDS.replace("<UserIdentifierType>Barcode</UserIdentifierType>", "");
        assert!(!patched(&untyped, set).contains("UserIdentifierType"));
    }
}
