//! NCIP 2.0x codec for the Alma–Relais bridge: typed messages, a tolerant reader and a strict writer.
//!
//! Pure data transformation, no I/O. The reader accepts what Relais and the other dialects in
//! `shared/ncip-corpus` actually send; the writer emits what Alma's responder and Relais validate
//! against (NCIP 2.02 XSD element order, `ns1:` prefix, qualified attributes).
//!
//! # Public API
//! - [`peek`]`(bytes, &`[`ReadOptions`]`) -> Result<`[`Peek`]`, `[`ReadError`]`>`: NCIP generation, [`ServiceKind`]
//!   and request/response, reading only up to the first service element (for the `POST /ncip` front door),
//!   under the same limits as `read` (the size is checked before anything is parsed).
//! - [`read()`]`(bytes, &`[`ReadOptions`]`) -> Result<`[`Message`]`, `[`ReadError`]`>`: the whole message.
//! - [`write()`]`(&Message) -> Vec<u8>`: UTF-8 NCIP 2.02 XML, for the bridge's own answers to Relais;
//!   [`write_with_date_texts`] spells given instants as their sender did, with [`service_date_texts`] reading
//!   those texts from the received message.
//! - [`patch_as_read`]`(bytes, &Message, &`[`HeaderEdits`]`) -> Result<Vec<u8>, ReadError>`: a received request
//!   as UTF-8 with only its header values (and the service's patron identifier, its type and the identifiers'
//!   AgencyIds) changed, for forwarding to Alma, at the places the reading of those bytes noted
//!   ([`PatchSpans`]); [`patch()`]`(bytes, &HeaderEdits)` does the same for bytes not read before.
//! - [`ReadError::problem`] / [`ReadError::service`] / [`ReadError::initiation_header`], and
//!   [`error_response`]`(&ReadError, Option<&InitiationHeader>) -> Message`: what to answer for a
//!   message that could not be read (service-level `...Response` with the Problem when the service is
//!   known, otherwise a top-level `NCIPMessage/Problem`).
//! - [`problem_response`]`(ServiceKind, Option<&InitiationHeader>, Vec<Problem>) -> Message`: a service's
//!   `...Response` carrying problems, its `ResponseHeader` From/To swapped from the request's To/From.
//! - [`Message::service`], [`Message::is_response`], [`Message::initiation_header`],
//!   [`Message::initiation_header_mut`] (the bridge rewrites `ToAgencyId` / `ApplicationProfileType`
//!   before forwarding to Alma), [`Message::problems`]; [`ResponseHeader::answering`] and
//!   [`LookupVersionResponse::answering`] build answers addressed back to the requester.
//! - A service the codec does not model (e.g. `DeleteItem`) is a [`ReadErrorKind::UnsupportedService`]
//!   error whose answer is an [`OtherResponse`] (`DeleteItemResponse` with Unsupported Service).
//! - `LookupVersion` keeps the root it arrived in ([`VersionEnvelope`]): `NCIPVersionMessage` or
//!   `NCIPMessage`; the answer is written in the same root.
//! - Model types (re-exported here): [`SchemeValue`], [`Identifier`], [`AgencyId`], [`UserId`] /
//!   [`UserIdentifier`], [`ItemId`] / [`ItemIdentifier`], [`RequestId`] / [`RequestIdentifier`],
//!   [`InitiationHeader`], [`ResponseHeader`], [`AuthenticationInput`], [`Problem`] (with constructors
//!   for the standard problem types), one struct per service message, and the optional-field structures
//!   in [`model::item`] and [`model::user`].
//!
//! # Reading rules
//! - Elements match by local name in NCIP's namespace: default namespace, any prefix, or none; `version` and
//!   `Scheme` attributes qualified or not; any `version` value or none. A root in another namespace is an
//!   `Invalid Message Syntax Error`; in a request any other element in another namespace (outside `Ext`) is
//!   `Unknown Element`; responses skip them. No element of another namespace is ever read as NCIP's.
//! - NCIP 1 habits inside NCIP 2 (`<Scheme>/<Value>` children, `UniqueAgencyId`, a DOCTYPE line) are read.
//!   A DOCTYPE is never fetched or expanded; one declaring entities is refused.
//! - Valid UTF-8 is read as UTF-8 whatever the prolog says; a declared ISO-8859-1 / windows-1252 is
//!   used only for bytes that are not UTF-8.
//! - Identifiers keep the received text ([`Identifier::original`], echoed by the writer) and a trimmed,
//!   whitespace-collapsed value ([`Identifier::as_str`], used for matching).
//! - Dates: with zone, fractional seconds, zone-less (in [`ReadOptions::time_zone`]), date-only (end of day).
//! - Unknown elements and `Ext` blocks are skipped. Requests must carry the XSD's required elements
//!   (a missing or blank one is `Needed Data Missing` naming the element's path); responses are lenient.
//! - NCIP 1.0 messages are recognised and refused with a Problem saying version 1.0 is not supported.
//! - Limits ([`ReadOptions`]): body size (256 KiB, checked first), depth (64), element count (20,000),
//!   attributes per element (32, counted before any is parsed); exceeding one, malformed XML, a wrong root
//!   or two services is an `Invalid Message Syntax Error` with detail.
//! - CDATA is held to the same character rules as other text; a repeated `InitiationHeader` element is
//!   `Element Rule Violated`.
//! - In requests, an element the XSD allows once is `Element Rule Violated` when repeated: the header, the
//!   service's `UserId`, `ItemId` (RequestItem's stay a list) and `RequestId`, each part inside them, and
//!   LookupVersion's agencies. Identifiers (agency, user, item, request and bibliographic ids) over
//!   [`MAX_IDENTIFIER_BYTES`] or holding a bidirectional control character are `Element Rule Violated`.
//!   A Problem quotes at most [`MAX_PROBLEM_VALUE_CHARS`] characters of a value.
//!
//! # Writing rules
//! UTF-8; `<ns1:NCIPMessage xmlns:ns1="http://www.niso.org/2008/ncip" ns1:version="...v2_02...">`;
//! qualified `ns1:Scheme`; all data escaped; identifiers echoed exactly as received; elements in NCIP 2.02
//! XSD sequence order; answers from [`problem_response`] / [`error_response`] hold only problems (the
//! XSD choice). Every field the reader keeps is written back, so `read(write(m)) == m`.

#![warn(missing_docs, unreachable_pub)]

mod chars;
pub mod error;
pub mod model;
pub mod patch;
pub mod problem;
pub mod read;
pub mod write;

pub use error::{ReadError, ReadErrorKind, error_response, problem_response};
pub use model::common::{
    Amount, AuthenticationInput, DueDate, FiscalTransactionInformation, FiscalTransactionReferenceId, InitiationHeader,
    MandatedAction, NcipVersion, ResponseHeader, ServiceKind,
};
pub use model::ids::{
    AgencyId, Identifier, ItemId, ItemIdentifier, RequestId, RequestIdentifier, SchemeValue, UserId, UserIdentifier,
};
pub use model::messages::{
    AcceptItem, AcceptItemResponse, CancelRequestItem, CancelRequestItemResponse, CheckInItem, CheckInItemResponse,
    CheckOutItem, CheckOutItemResponse, LookupItem, LookupItemResponse, LookupUser, LookupUserResponse, LookupVersion,
    LookupVersionResponse, Message, OtherResponse, RenewItem, RenewItemResponse, RequestItem, RequestItemResponse,
    VersionEnvelope,
};
pub use patch::{HeaderEdits, PatchSpans, TypeEdit, patch, patch_as_read};
pub use problem::{MAX_PROBLEM_VALUE_CHARS, Problem};
pub use read::date::service_date_texts;
pub use read::{MAX_IDENTIFIER_BYTES, NCIP_NAMESPACE, Peek, ReadOptions, peek, read};
pub use write::{write, write_with_date_texts};
