//! Forwarding a request as it was received, changed only where the bridge must change it.
//!
//! The direct Relais-to-Alma link hands Alma Relais's own bytes, so the bridge must not do worse: every
//! element, its order, unknown extensions and the date texts reach Alma as sent. [`patch`] therefore edits
//! the received text in place instead of writing the message again from the model. It changes only:
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
//! Only a message that [`crate::read()`] accepted is patched, so the input is well-formed here; the walk still
//! refuses what it cannot place rather than guessing.

use crate::error::{ReadError, ReadErrorKind};
use crate::model::common::INITIATION_HEADER_ELEMENTS;
use crate::read::decode;
use quick_xml::NsReader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

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

/// One change to the text: replace `start..end` with `text`.
#[derive(Debug)]
struct Splice {
    start: usize,
    end: usize,
    text: String,
}

/// A leaf element's content: where its text goes (an empty element `<X/>` is rewritten whole).
#[derive(Debug, Clone)]
enum Content {
    /// Between the start tag's end and the end tag's start.
    Between(usize, usize),
    /// `<X/>`: the whole tag, with its qualified name.
    EmptyTag { start: usize, end: usize, qname: String },
}

#[derive(Debug, Default)]
struct Found {
    /// The service element's prefix with its colon (`ns1:`), or empty.
    prefix: String,
    /// The end of the service's start tag: where a missing header goes.
    service_open_end: Option<usize>,
    /// `<InitiationHeader/>`, to be replaced whole.
    empty_header: Option<(usize, usize)>,
    header_open_end: Option<usize>,
    /// Each header child seen: its name and where its end tag ends.
    header_children: Vec<(String, usize)>,
    to_agency: Option<Content>,
    from_agency: Option<Content>,
    application_profile_type: Option<Content>,
    user_identifier: Option<Content>,
    /// The service's `UserId/UserIdentifierType`: its content, and the whole element (start tag to end tag).
    user_identifier_type: Option<(Content, (usize, usize))>,
    user_agency: Option<Content>,
    /// Each service-level `ItemId/AgencyId` (RequestItem may carry several ItemIds).
    item_agencies: Vec<Content>,
}

/// The received message as UTF-8 with `edits` applied.
pub fn patch(received: &[u8], edits: &HeaderEdits<'_>) -> Result<Vec<u8>, ReadError> {
    let received = decode::strip_bom(received);
    let text: String = match std::str::from_utf8(received) {
        Ok(text) => text.to_owned(),
        Err(_) => decode::latin1_fallback(received).map_err(ReadError::new)?,
    };
    let found = locate(&text)?;
    let mut splices = Vec::new();
    if let Some(splice) = declaration_says_utf8(&text) {
        splices.push(splice);
    }
    header_splices(&found, edits, &mut splices)?;
    if let (Some(value), Some(content)) = (edits.user_identifier, &found.user_identifier) {
        splices.push(fill(content, value));
    }
    if let (Some(value), Some(content)) = (edits.user_agency, &found.user_agency) {
        splices.push(fill(content, value));
    }
    if let Some(value) = edits.item_agency {
        splices.extend(found.item_agencies.iter().map(|content| fill(content, value)));
    }
    match (edits.user_identifier_type, &found.user_identifier_type) {
        (Some(TypeEdit::Set(value)), Some((content, _))) => splices.push(fill(content, value)),
        (Some(TypeEdit::Remove), Some((_, (start, end)))) => {
            splices.push(Splice { start: *start, end: *end, text: String::new() })
        }
        _ => {}
    }
    splices.sort_by_key(|s| (s.start, s.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for splice in splices {
        out.push_str(&text[at..splice.start]);
        out.push_str(&splice.text);
        at = splice.end;
    }
    out.push_str(&text[at..]);
    Ok(out.into_bytes())
}

fn header_splices(found: &Found, edits: &HeaderEdits<'_>, splices: &mut Vec<Splice>) -> Result<(), ReadError> {
    let p = &found.prefix;
    let wanted = [
        ("FromAgencyId", edits.from_agency, &found.from_agency),
        ("ToAgencyId", edits.to_agency, &found.to_agency),
        ("ApplicationProfileType", edits.application_profile_type, &found.application_profile_type),
    ];
    if found.header_open_end.is_none() {
        // No header (several vendors omit it), or an empty one: write one holding just the edited values.
        let mut header = format!("<{p}InitiationHeader>");
        for (name, value, _) in wanted {
            if let Some(value) = value {
                header.push_str(&element(p, name, value));
            }
        }
        header.push_str(&format!("</{p}InitiationHeader>"));
        let (start, end) = match (found.empty_header, found.service_open_end) {
            (Some((start, end)), _) => (start, end),
            (None, Some(at)) => (at, at),
            (None, None) => return Err(unplaceable("no service element to hold the InitiationHeader")),
        };
        splices.push(Splice { start, end, text: header });
        return Ok(());
    }
    for (name, value, content) in wanted {
        let Some(value) = value else { continue };
        match content {
            Some(content) => splices.push(fill(content, value)),
            None => {
                let at = insertion_point(found, name);
                splices.push(Splice { start: at, end: at, text: element(p, name, value) });
            }
        }
    }
    Ok(())
}

/// After the last header child that precedes `name` in the XSD sequence, else right after the header's start.
fn insertion_point(found: &Found, name: &str) -> usize {
    let rank =
        |n: &str| INITIATION_HEADER_ELEMENTS.iter().position(|o| *o == n).unwrap_or(INITIATION_HEADER_ELEMENTS.len());
    found
        .header_children
        .iter()
        .filter(|(child, _)| rank(child) < rank(name))
        .map(|(_, end)| *end)
        .max()
        .or(found.header_open_end)
        .expect("only called when the header exists")
}

/// `<p:ToAgencyId><p:AgencyId>value</p:AgencyId></p:ToAgencyId>`, or the plain element for the profile type.
fn element(p: &str, name: &str, value: &str) -> String {
    let value = escape(value);
    if name == "ApplicationProfileType" {
        format!("<{p}{name}>{value}</{p}{name}>")
    } else {
        format!("<{p}{name}><{p}AgencyId>{value}</{p}AgencyId></{p}{name}>")
    }
}

fn fill(content: &Content, value: &str) -> Splice {
    let value = escape(value).into_owned();
    match content {
        Content::Between(start, end) => Splice { start: *start, end: *end, text: value },
        Content::EmptyTag { start, end, qname } => {
            Splice { start: *start, end: *end, text: format!("<{qname}>{value}</{qname}>") }
        }
    }
}

/// A declaration naming another encoding is changed to UTF-8, since UTF-8 is what Alma receives.
fn declaration_says_utf8(text: &str) -> Option<Splice> {
    if !text.starts_with("<?xml") {
        return None;
    }
    let end = text.find("?>")?;
    let declaration = &text[..end];
    let key = declaration.find("encoding")?;
    let after = &declaration[key + "encoding".len()..];
    let value_start = key + "encoding".len() + after.find(['"', '\''])? + 1;
    let quote = text[value_start - 1..].chars().next()?;
    let value_end = value_start + text[value_start..end].find(quote)?;
    let label = &text[value_start..value_end];
    (!label.eq_ignore_ascii_case("utf-8")).then(|| Splice { start: value_start, end: value_end, text: "UTF-8".into() })
}

fn unplaceable(detail: &str) -> ReadError {
    ReadError::new(ReadErrorKind::Malformed { position: 0, detail: format!("cannot forward the message: {detail}") })
}

fn local_name(qname: &str) -> &str {
    qname.split_once(':').map_or(qname, |(_, local)| local)
}

/// The name `locate` files an element under: its local name in NCIP's namespace (or none), a name no NCIP
/// element has otherwise. The reader never takes a foreign `<e:UserId>` for NCIP's, so the patch must not
/// either, or it would edit an element the bridge did not read.
fn ncip_name(reader: &NsReader<&[u8]>, tag: &BytesStart<'_>, qname: &str) -> String {
    match reader.resolver().resolve_element(tag.name()).0 {
        ResolveResult::Bound(ns) if ns.0 != crate::read::NCIP_NAMESPACE => "{foreign}".to_owned(),
        _ => local_name(qname).to_owned(),
    }
}

/// Walks the message once, noting where each editable part is.
fn locate(text: &str) -> Result<Found, ReadError> {
    let mut reader = NsReader::from_str(text);
    let mut found = Found::default();
    // The open elements' local names, root first.
    let mut path: Vec<String> = Vec::new();
    // Where the innermost open element's start tag began and ended.
    let mut open_ends: Vec<(usize, usize)> = Vec::new();
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| unplaceable(&e.to_string()))?;
        let end = reader.buffer_position() as usize;
        match event {
            Event::Start(tag) => {
                let qname = tag.name();
                let qname: &str = qname.as_ref();
                let name = ncip_name(&reader, &tag, qname);
                if path.len() == 1 {
                    found.prefix = qname[..qname.len() - local_name(qname).len()].to_owned();
                    found.service_open_end.get_or_insert(end);
                }
                if path.len() == 2 && name == "InitiationHeader" {
                    found.header_open_end = Some(end);
                }
                path.push(name);
                open_ends.push((start, end));
            }
            Event::Empty(tag) => {
                let qname: String = tag.name().as_ref().to_owned();
                let name = ncip_name(&reader, &tag, &qname);
                if path.len() == 1 {
                    // A service with no content at all: a header goes inside, so it must be opened.
                    return Err(unplaceable("the service element is empty"));
                }
                if path.len() == 2 && name == "InitiationHeader" {
                    found.empty_header = Some((start, end));
                    continue;
                }
                let content = Content::EmptyTag { start, end, qname };
                note_leaf(&mut found, &path, &name, content, (start, end));
                if path.len() == 3 && path[2] == "InitiationHeader" {
                    found.header_children.push((name, end));
                }
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let (open_start, open_end) = open_ends.pop().unwrap_or((start, start));
                note_leaf(&mut found, &path, &name, Content::Between(open_end, start), (open_start, end));
                if path.len() == 3 && path[2] == "InitiationHeader" {
                    found.header_children.push((name, end));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(found)
}

/// Records `name`'s content when it is one of the editable leaves (path = its parents, root first; `whole` =
/// the element from its start tag to its end tag).
fn note_leaf(found: &mut Found, path: &[String], name: &str, content: Content, whole: (usize, usize)) {
    let parents: Vec<&str> = path.iter().skip(2).map(String::as_str).collect();
    let slot = match (parents.as_slice(), name) {
        (["InitiationHeader", "ToAgencyId"], "AgencyId") => &mut found.to_agency,
        (["InitiationHeader", "FromAgencyId"], "AgencyId") => &mut found.from_agency,
        (["InitiationHeader"], "ApplicationProfileType") => &mut found.application_profile_type,
        (["UserId"], "UserIdentifierValue") => &mut found.user_identifier,
        (["UserId"], "AgencyId") => &mut found.user_agency,
        (["UserId"], "UserIdentifierType") => {
            found.user_identifier_type.get_or_insert((content, whole));
            return;
        }
        (["ItemId"], "AgencyId") => {
            found.item_agencies.push(content);
            return;
        }
        _ => return,
    };
    slot.get_or_insert(content);
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
