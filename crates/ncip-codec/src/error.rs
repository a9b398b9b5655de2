//! Why a message could not be read, and the NCIP answer to send back for it.
//!
//! Per NCIP 2.02, a problem found once the service element is known is answered inside that service's
//! `...Response`; a message whose service cannot be established (unreadable bytes, wrong root, two
//! services) is answered with a top-level `NCIPMessage/Problem`. The HTTP status stays 200 either way.

use crate::model::common::{InitiationHeader, ResponseHeader, ServiceKind};
use crate::model::messages::{
    AcceptItemResponse, CancelRequestItemResponse, CheckInItemResponse, CheckOutItemResponse, LookupItemResponse,
    LookupUserResponse, LookupVersionResponse, Message, OtherResponse, RenewItemResponse, RequestItemResponse,
};
use crate::problem::Problem;

/// What went wrong, in NCIP's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// The body exceeds `ReadOptions::max_bytes`.
    #[error("message is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// The body's length in bytes.
        size: usize,
        /// The configured limit it exceeds.
        limit: usize,
    },
    /// Nesting exceeds `ReadOptions::max_depth`.
    #[error("elements nest deeper than {limit}")]
    TooDeep {
        /// The configured depth limit.
        limit: usize,
    },
    /// More elements than `ReadOptions::max_elements`.
    #[error("more than {limit} elements")]
    TooManyElements {
        /// The configured element-count limit.
        limit: usize,
    },
    /// An element carrying more attributes than `ReadOptions::max_attributes`.
    #[error("an element carries more than {limit} attributes")]
    TooManyAttributes {
        /// The configured per-element attribute limit.
        limit: usize,
    },
    /// Bytes are neither UTF-8 nor a declared ISO-8859-1 / windows-1252.
    #[error("undecodable bytes: {detail}")]
    Encoding {
        /// Which bytes failed to decode, for the Problem's detail.
        detail: String,
    },
    /// Not well-formed XML.
    #[error("malformed XML near byte {position}: {detail}")]
    Malformed {
        /// Byte offset in the body where the parser stopped, so the sender can find the fault.
        position: u64,
        /// The parser's description of the fault.
        detail: String,
    },
    /// A DOCTYPE internal subset declares entities (billion laughs, XXE): refused, never expanded.
    #[error("DOCTYPE with entity declarations refused")]
    EntityDeclarations,
    /// A reference to an entity other than the five predefined ones, or a bad character reference.
    #[error("{detail}")]
    UndeclaredEntity {
        /// The offending reference and why it is refused.
        detail: String,
    },
    /// The root is neither `NCIPMessage` nor `NCIPVersionMessage`.
    #[error("root element is {found}, expected NCIPMessage or NCIPVersionMessage")]
    WrongRoot {
        /// The root element's name as received.
        found: String,
    },
    /// `NCIPMessage` without a service element.
    #[error("NCIPMessage holds no service element")]
    NoService,
    /// Two service elements in one message.
    #[error("two service elements in one message: {first} and {second}")]
    MultipleServices {
        /// The first service element's name.
        first: String,
        /// The second service element's name, named as the Problem's element.
        second: String,
    },
    /// An NCIP 1.0 message.
    #[error("NCIP 1.0 message (version {version:?})")]
    Version1 {
        /// The `version` attribute as received, if any, echoed in the Version Not Supported Problem.
        version: Option<String>,
    },
    /// A service the codec does not model (e.g. `DeleteItem`).
    #[error("unsupported service")]
    UnsupportedService,
    /// A required element is missing or blank. `element` is relative to the service element.
    #[error("needed data missing: {element}")]
    NeededDataMissing {
        /// Path of the missing element, relative to the service element.
        element: String,
        /// The blank text received, when the element was present but empty; `None` when it was absent.
        value: Option<String>,
    },
    /// A date that is not an xs:dateTime.
    #[error("invalid date in {element}: {value:?}")]
    InvalidDate {
        /// Path of the element holding the date.
        element: String,
        /// The text received.
        value: String,
    },
    /// A value breaking its element's rule (e.g. a non-integer `MonetaryValue`).
    #[error("{element}: {value:?} is {rule}")]
    ElementRuleViolated {
        /// Path of the offending element.
        element: String,
        /// The text received.
        value: String,
        /// What the value is, in words completing "value is ..." (e.g. "not an integer").
        rule: &'static str,
    },
    /// An identifier breaking the rules every identifier in a request shares (too long, a bidirectional
    /// control). Its text says which rule without quoting the value: identifiers such as patron barcodes are
    /// personal data, and this text is what the bridge logs. The Problem still echoes the value's head.
    #[error("{element} is {rule}")]
    IdentifierRuleViolated {
        /// Path of the identifier.
        element: String,
        /// The value's first 64 characters, for the Problem only.
        value: String,
        /// What the value is, in words completing "value is ...".
        rule: &'static str,
    },
    /// An element bound to a namespace other than NCIP's, where a request may hold only NCIP elements
    /// (everywhere but inside `Ext`).
    #[error("{element} is in the namespace {namespace:?}, not NCIP's")]
    ForeignElement {
        /// Path of the element (its local name last).
        element: String,
        /// The namespace it is bound to.
        namespace: String,
    },
    /// The root element is bound to a namespace other than NCIP's (`<NCIPMessage xmlns="urn:x">`).
    #[error("the root element is in the namespace {namespace:?}, not NCIP's")]
    ForeignRoot {
        /// The namespace it is bound to.
        namespace: String,
    },
}

/// A message that could not be read: the cause plus what is known about the service it belonged to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ReadError {
    kind: ReadErrorKind,
    service: Option<ServiceKind>,
    is_response: bool,
    header: Option<Box<InitiationHeader>>,
}

impl ReadError {
    /// A body of `size` bytes refused for exceeding `limit` before it was read (the HTTP layer stops reading
    /// at the limit; this is the answer it sends).
    pub fn too_large(size: usize, limit: usize) -> Self {
        Self::new(ReadErrorKind::TooLarge { size, limit })
    }

    pub(crate) fn new(kind: ReadErrorKind) -> Self {
        Self { kind, service: None, is_response: false, header: None }
    }

    pub(crate) fn in_service(
        kind: ReadErrorKind,
        service: ServiceKind,
        is_response: bool,
        header: Option<InitiationHeader>,
    ) -> Self {
        Self { kind, service: Some(service), is_response, header: header.map(Box::new) }
    }

    /// The cause.
    pub fn kind(&self) -> &ReadErrorKind {
        &self.kind
    }

    /// The service element that was being read, if its name was readable (request or response).
    pub fn service_element(&self) -> Option<&ServiceKind> {
        self.service.as_ref()
    }

    /// The service whose `...Response` should carry the problem: known when the failing message was a
    /// request whose service element was readable. `None` means: answer with a top-level Problem.
    pub fn service(&self) -> Option<ServiceKind> {
        if self.is_response { None } else { self.service.clone() }
    }

    /// The request's `InitiationHeader` when it was read before the failure (to address the answer).
    pub fn initiation_header(&self) -> Option<&InitiationHeader> {
        self.header.as_deref()
    }

    /// The NCIP Problem describing this failure. Text quoted from the input is made writable (C0 control
    /// characters, which XML 1.0 cannot carry, become U+FFFD) so the answer reads back unchanged, and
    /// bounded: a sender's 60,000-byte value is not worth echoing, and whatever it holds should not be
    /// amplified back ([`Problem::with_value`] keeps 64 characters; details and paths keep
    /// [`MAX_ECHOED_TEXT`]).
    pub fn problem(&self) -> Problem {
        let mut problem = self.describe();
        for text in [&mut problem.detail, &mut problem.element].into_iter().flatten() {
            if text.chars().nth(MAX_ECHOED_TEXT).is_some() {
                *text = text.chars().take(MAX_ECHOED_TEXT).chain(['…']).collect();
            }
        }
        for text in [&mut problem.detail, &mut problem.element, &mut problem.value].into_iter().flatten() {
            if text.chars().any(is_unwritable) {
                *text = text.chars().map(|c| if is_unwritable(c) { '\u{FFFD}' } else { c }).collect();
            }
        }
        problem
    }

    fn describe(&self) -> Problem {
        use ReadErrorKind as K;
        match &self.kind {
            K::TooLarge { .. }
            | K::TooDeep { .. }
            | K::TooManyElements { .. }
            | K::TooManyAttributes { .. }
            | K::Encoding { .. } => Problem::invalid_message_syntax(self.kind.to_string()),
            K::Malformed { .. } | K::NoService => Problem::invalid_message_syntax(self.kind.to_string()),
            K::EntityDeclarations => Problem::invalid_message_syntax(
                "a DOCTYPE declaring entities is refused (entities are never expanded or fetched)",
            )
            .with_element("!DOCTYPE"),
            K::UndeclaredEntity { detail } => Problem::invalid_message_syntax(detail.clone()),
            K::WrongRoot { found } => {
                Problem::invalid_message_syntax(self.kind.to_string()).with_element(found.clone())
            }
            K::MultipleServices { second, .. } => {
                Problem::invalid_message_syntax(self.kind.to_string()).with_element(second.clone())
            }
            K::Version1 { version } => Problem::version_not_supported(version.as_deref()),
            K::UnsupportedService => {
                let name = self.service.as_ref().map_or("?", ServiceKind::element_name);
                Problem::unsupported_service(name)
            }
            K::NeededDataMissing { element, value } => {
                let detail = match value {
                    Some(_) => format!("{element} is empty"),
                    None => format!("{element} is required"),
                };
                let problem = Problem::needed_data_missing(element.clone(), detail);
                match value {
                    Some(v) => problem.with_value(v.clone()),
                    None => problem,
                }
            }
            K::InvalidDate { element, value } => Problem::invalid_date(element.clone(), value.clone()),
            K::ElementRuleViolated { element, value, rule } => {
                Problem::element_rule_violated(element.clone(), value.clone(), format!("value is {rule}"))
            }
            K::IdentifierRuleViolated { element, value, rule } => {
                Problem::element_rule_violated(element.clone(), value.clone(), format!("value is {rule}"))
            }
            // NCIP's messaging errors name this case: "Unknown Element" (research notes §1.3, the
            // messagingerrortype scheme), as the element is none of NCIP's.
            K::ForeignElement { element, namespace } => Problem::unknown_element(
                element.clone(),
                "an element in another namespace than NCIP's is allowed only inside Ext",
            )
            .with_value(namespace.clone()),
            K::ForeignRoot { namespace } => Problem::invalid_message_syntax(self.kind.to_string())
                .with_element("NCIPMessage")
                .with_value(namespace.clone()),
        }
    }
}

/// Most characters of a Problem's detail or element path that quote the input (quick-xml's messages name
/// elements, a wrong root is named as received).
pub const MAX_ECHOED_TEXT: usize = 256;

fn is_unwritable(c: char) -> bool {
    (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')
}

/// The message to send back for `err`: the service's `...Response` carrying the problem when the service
/// is known (addressed from `header`, or from the header read before the failure), else a top-level Problem.
pub fn error_response(err: &ReadError, header: Option<&InitiationHeader>) -> Message {
    let problems = vec![err.problem()];
    match err.service() {
        Some(service) => problem_response(service, header.or(err.initiation_header()), problems),
        None => Message::Problem(problems),
    }
}

/// The `...Response` for `service` carrying `problems`, with a `ResponseHeader` whose From/To are the
/// request's To/From.
pub fn problem_response(
    service: ServiceKind,
    request_header: Option<&InitiationHeader>,
    problems: Vec<Problem>,
) -> Message {
    let header = request_header.map(ResponseHeader::answering);
    match service {
        ServiceKind::LookupUser => {
            Message::LookupUserResponse(LookupUserResponse { header, problems, ..Default::default() })
        }
        ServiceKind::AcceptItem => {
            Message::AcceptItemResponse(AcceptItemResponse { header, problems, ..Default::default() })
        }
        ServiceKind::CheckOutItem => {
            Message::CheckOutItemResponse(CheckOutItemResponse { header, problems, ..Default::default() })
        }
        ServiceKind::CheckInItem => {
            Message::CheckInItemResponse(CheckInItemResponse { header, problems, ..Default::default() })
        }
        ServiceKind::RequestItem => {
            Message::RequestItemResponse(RequestItemResponse { header, problems, ..Default::default() })
        }
        ServiceKind::CancelRequestItem => {
            Message::CancelRequestItemResponse(CancelRequestItemResponse { header, problems, ..Default::default() })
        }
        ServiceKind::RenewItem => {
            Message::RenewItemResponse(RenewItemResponse { header, problems, ..Default::default() })
        }
        ServiceKind::LookupItem => {
            Message::LookupItemResponse(LookupItemResponse { header, problems, ..Default::default() })
        }
        ServiceKind::LookupVersion => Message::LookupVersionResponse(LookupVersionResponse {
            from_agency_id: request_header.map(|h| h.to_agency_id.clone()),
            to_agency_id: request_header.map(|h| h.from_agency_id.clone()),
            problems,
            ..Default::default()
        }),
        ServiceKind::Other(service) if ServiceKind::is_plain_element_name(&service) => {
            Message::OtherResponse(OtherResponse { service, header, problems })
        }
        // A name that cannot be written as an element: answer at top level instead.
        ServiceKind::Other(_) => Message::Problem(problems),
    }
}
