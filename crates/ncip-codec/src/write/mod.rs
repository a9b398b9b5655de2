//! The strict writer: a typed [`Message`] to UTF-8 NCIP 2.02 XML.
//!
//! Always the `ns1:`-prefixed form with `xmlns:ns1="http://www.niso.org/2008/ncip"` and qualified
//! `ns1:version` / `ns1:Scheme` attributes (the NCIP 2 XSD is `attributeFormDefault="qualified"`), elements
//! in XSD sequence order, identifiers echoed exactly as received. `LookupVersion` exchanges that arrived
//! in their own `NCIPVersionMessage` root are answered in that (unqualified) root.

mod common;
mod item;
mod services;
mod user;
mod xml;

use crate::model::messages::{Message, VersionEnvelope};
use xml::XmlWriter;

/// The NCIP 2.02 schema location written in `ns1:version`.
pub const NCIP_VERSION_2_02: &str = "http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd";
/// The `version` written on an `NCIPVersionMessage` root (the version-lookup schema).
pub const NCIP_VERSION_MESSAGE_SCHEMA: &str = "http://www.niso.org/ncip/v1_0/imp1/xsd/ncip_version.xsd";

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Serialises `msg`.
pub fn write(msg: &Message) -> Vec<u8> {
    write_with_date_texts(msg, &[])
}

/// Serialises `msg`, writing each date that is one of `date_texts`' instants in that text instead of in UTC
/// form: an answer then carries a date as its requester wrote it (Relais compares the DateDue it reads back
/// with the one it sent, and a zone-less due date written back in UTC reads as another day).
pub fn write_with_date_texts(msg: &Message, date_texts: &[(jiff::Timestamp, &str)]) -> Vec<u8> {
    let version_root = matches!(
        msg,
        Message::LookupVersion(m) if m.envelope == VersionEnvelope::NcipVersionMessage
    ) || matches!(
        msg,
        Message::LookupVersionResponse(m) if m.envelope == VersionEnvelope::NcipVersionMessage
    );
    if version_root {
        let mut w = XmlWriter::new("", 512).with_date_texts(date_texts);
        w.raw(DECLARATION);
        w.raw("<NCIPVersionMessage version=\"");
        w.raw(NCIP_VERSION_MESSAGE_SCHEMA);
        w.raw("\">");
        services::service(&mut w, msg);
        w.raw("</NCIPVersionMessage>");
        return w.into_bytes();
    }
    let mut w = XmlWriter::new("ns1:", 2048).with_date_texts(date_texts);
    w.raw(DECLARATION);
    w.raw("<ns1:NCIPMessage xmlns:ns1=\"http://www.niso.org/2008/ncip\" ns1:version=\"");
    w.raw(NCIP_VERSION_2_02);
    w.raw("\">");
    services::service(&mut w, msg);
    w.raw("</ns1:NCIPMessage>");
    w.into_bytes()
}
