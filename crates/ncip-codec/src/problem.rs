//! NCIP `Problem` values and constructors for the standard problem types with their scheme URIs.
//!
//! Scheme URIs are the NCIP 1.0 scheme lists that NCIP 2.0x still points to (the NCIP 2 toolkits and
//! the circill samples in the corpus use them):
//! - general processing errors: `.../processingerrortype/generalprocessingerror.scm`
//!   (XC NCIP2 toolkit `Version1GeneralProcessingError`: Agency Authentication Failed, Invalid Date,
//!   Needed Data Missing, Temporary Processing Failure, Unknown Agency, Unsupported Service, ...);
//! - service-specific processing errors: `.../processingerrortype/<service>processingerror.scm`
//!   (corpus: `checkinitemprocessingerror.scm` "Item Not Checked Out", `checkoutitemprocessingerror.scm`
//!   "Unknown User");
//! - messaging errors: `.../messagingerrortype/messagingerrortype.scm` ("Invalid Message Syntax Error";
//!   the OCLC circill toolkit's `Version1MessagingError` uses this file name, not `messagingerror.scm`).

use crate::model::common::ServiceKind;
use crate::model::ids::SchemeValue;

/// Base of the NCIP processing-error scheme URIs.
pub const PROCESSING_ERROR_SCHEME_BASE: &str = "http://www.niso.org/ncip/v1_0/schemes/processingerrortype/";
/// General processing errors.
pub const GENERAL_PROCESSING_ERROR_SCHEME: &str =
    "http://www.niso.org/ncip/v1_0/schemes/processingerrortype/generalprocessingerror.scm";
/// Messaging errors (problems with the message itself rather than its content).
pub const MESSAGING_ERROR_SCHEME: &str =
    "http://www.niso.org/ncip/v1_0/schemes/messagingerrortype/messagingerrortype.scm";

/// Most characters of a value a Problem echoes (`ProblemValue`).
pub const MAX_PROBLEM_VALUE_CHARS: usize = 64;

/// An NCIP `Problem` (XSD: ProblemType, ProblemDetail?, ProblemElement?, ProblemValue?).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problem {
    /// `ProblemType` with its `Scheme`.
    pub problem_type: SchemeValue,
    /// `ProblemDetail`: human-readable explanation.
    pub detail: Option<String>,
    /// `ProblemElement`: the path of the offending element, relative to the service element
    /// (the XC toolkit convention, e.g. `InitiationHeader/FromAgencyId`).
    pub element: Option<String>,
    /// `ProblemValue`: the offending value.
    pub value: Option<String>,
}

/// The service-specific processing-error scheme for `service`, e.g.
/// `.../checkinitemprocessingerror.scm`; the general scheme for services without their own list.
pub fn processing_error_scheme(service: &ServiceKind) -> String {
    let file = match service {
        ServiceKind::LookupUser => "lookupuserprocessingerror.scm",
        ServiceKind::AcceptItem => "acceptitemprocessingerror.scm",
        ServiceKind::CheckOutItem => "checkoutitemprocessingerror.scm",
        ServiceKind::CheckInItem => "checkinitemprocessingerror.scm",
        ServiceKind::RequestItem => "requestitemprocessingerror.scm",
        ServiceKind::CancelRequestItem => "cancelrequestitemprocessingerror.scm",
        ServiceKind::RenewItem => "renewitemprocessingerror.scm",
        ServiceKind::LookupItem => "lookupitemprocessingerror.scm",
        ServiceKind::LookupVersion | ServiceKind::Other(_) => {
            return GENERAL_PROCESSING_ERROR_SCHEME.to_owned();
        }
    };
    format!("{PROCESSING_ERROR_SCHEME_BASE}{file}")
}

impl Problem {
    /// A problem of `problem_type` in `scheme` with a detail text.
    pub fn new(scheme: impl Into<String>, problem_type: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            problem_type: SchemeValue::with_scheme(scheme, problem_type),
            detail: Some(detail.into()),
            element: None,
            value: None,
        }
    }

    /// Sets `ProblemElement`.
    pub fn with_element(mut self, element: impl Into<String>) -> Self {
        self.element = Some(element.into());
        self
    }

    /// Sets `ProblemValue`, keeping at most [`MAX_PROBLEM_VALUE_CHARS`] characters: a Problem names the
    /// offending value for Relais staff, and echoing a 60,000-byte identifier whole would let a sender
    /// amplify whatever it wrote into every answer and log that quotes it.
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        let mut value = value.into();
        if let Some((cut, _)) = value.char_indices().nth(MAX_PROBLEM_VALUE_CHARS) {
            value.truncate(cut);
        }
        self.value = Some(value);
        self
    }

    /// The `ProblemType` value, e.g. `Unknown User`.
    pub fn type_name(&self) -> &str {
        &self.problem_type.value
    }

    fn general(problem_type: &str, detail: impl Into<String>) -> Self {
        Self::new(GENERAL_PROCESSING_ERROR_SCHEME, problem_type, detail)
    }

    fn service_specific(service: &ServiceKind, problem_type: &str, detail: impl Into<String>) -> Self {
        Self::new(processing_error_scheme(service), problem_type, detail)
    }

    // --- messaging errors -------------------------------------------------------------------------

    /// `Invalid Message Syntax Error`: unreadable XML, wrong root, limits exceeded, two services...
    pub fn invalid_message_syntax(detail: impl Into<String>) -> Self {
        Self::new(MESSAGING_ERROR_SCHEME, "Invalid Message Syntax Error", detail)
    }

    /// `Unknown Element` (messaging error): the element at `path` is not one NCIP defines there.
    pub fn unknown_element(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(MESSAGING_ERROR_SCHEME, "Unknown Element", detail).with_element(path)
    }

    /// The answer to an NCIP 1.0 message. No "Unsupported Version" value exists in the NCIP scheme lists
    /// we could verify, so this is an `Invalid Message Syntax Error` whose detail says that version 1.0
    /// is not supported, pointing at the root's `version` attribute.
    pub fn version_not_supported(found_version: Option<&str>) -> Self {
        let problem = Self::invalid_message_syntax(
            "NCIP version 1.0 is not supported; send NCIP 2.0x (namespace http://www.niso.org/2008/ncip)",
        )
        .with_element("NCIPMessage/@version");
        match found_version {
            Some(v) => problem.with_value(v),
            None => problem,
        }
    }

    // --- general processing errors ----------------------------------------------------------------

    /// `Unsupported Service` (general scheme, as in the XC toolkit).
    pub fn unsupported_service(service: &str) -> Self {
        Self::general("Unsupported Service", format!("the {service} service is not offered here")).with_element(service)
    }

    /// `Needed Data Missing` for the element at `path` (relative to the service element).
    pub fn needed_data_missing(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::general("Needed Data Missing", detail).with_element(path)
    }

    /// `Invalid Date`: `value` at `path` is not an xs:dateTime.
    pub fn invalid_date(path: impl Into<String>, value: impl Into<String>) -> Self {
        Self::general("Invalid Date", "not a valid xs:dateTime").with_element(path).with_value(value)
    }

    /// `Element Rule Violated`: `value` at `path` breaks the element's rule (e.g. not an integer).
    pub fn element_rule_violated(path: impl Into<String>, value: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::general("Element Rule Violated", detail).with_element(path).with_value(value)
    }

    /// `Temporary Processing Failure`: Alma unreachable, maintenance window... (the sender may retry).
    pub fn temporary_processing_failure(detail: impl Into<String>) -> Self {
        Self::general("Temporary Processing Failure", detail)
    }

    /// `Unknown Agency` (e.g. an unknown `ToAgencyId` or Alma's "Unknown partner").
    pub fn unknown_agency(path: impl Into<String>, value: impl Into<String>) -> Self {
        Self::general("Unknown Agency", "no such agency").with_element(path).with_value(value)
    }

    /// `Agency Authentication Failed`.
    pub fn agency_authentication_failed(detail: impl Into<String>) -> Self {
        Self::general("Agency Authentication Failed", detail).with_element("InitiationHeader/FromAgencyAuthentication")
    }

    // --- service-specific processing errors -------------------------------------------------------

    /// `Unknown User` in the service's own scheme (e.g. `lookupuserprocessingerror.scm`).
    pub fn unknown_user(service: &ServiceKind, user: &str) -> Self {
        Self::service_specific(service, "Unknown User", "no active user with this identifier")
            .with_element("UserId/UserIdentifierValue")
            .with_value(user)
    }

    /// `User Blocked`.
    pub fn user_blocked(service: &ServiceKind, user: &str) -> Self {
        Self::service_specific(service, "User Blocked", "the user is blocked")
            .with_element("UserId/UserIdentifierValue")
            .with_value(user)
    }

    /// `User Authentication Failed` (LookupUser with AuthenticationInput).
    pub fn user_authentication_failed(service: &ServiceKind) -> Self {
        Self::service_specific(service, "User Authentication Failed", "authentication input not accepted")
            .with_element("AuthenticationInput")
    }

    /// `User Ineligible To Check Out This Item` / `... Request ...` / `... Renew ...` by service.
    pub fn user_ineligible(service: &ServiceKind, detail: impl Into<String>) -> Self {
        let problem_type = match service {
            ServiceKind::RequestItem => "User Ineligible To Request This Item",
            ServiceKind::RenewItem => "User Ineligible To Renew This Item",
            _ => "User Ineligible To Check Out This Item",
        };
        Self::service_specific(service, problem_type, detail)
    }

    /// `Unknown Item`.
    pub fn unknown_item(service: &ServiceKind, item: &str) -> Self {
        Self::service_specific(service, "Unknown Item", "no item with this identifier")
            .with_element("ItemId/ItemIdentifierValue")
            .with_value(item)
    }

    /// `Item Does Not Circulate`.
    pub fn item_does_not_circulate(service: &ServiceKind, item: &str) -> Self {
        Self::service_specific(service, "Item Does Not Circulate", "the item does not circulate")
            .with_element("ItemId/ItemIdentifierValue")
            .with_value(item)
    }

    /// `Item Not Checked Out` (CheckInItem).
    pub fn item_not_checked_out(item: &str) -> Self {
        Self::service_specific(&ServiceKind::CheckInItem, "Item Not Checked Out", "the item is not on loan")
            .with_element("ItemId/ItemIdentifierValue")
            .with_value(item)
    }

    /// `Cannot Accept Item` (AcceptItem).
    pub fn cannot_accept_item(detail: impl Into<String>) -> Self {
        Self::service_specific(&ServiceKind::AcceptItem, "Cannot Accept Item", detail)
    }

    /// `Duplicate Request` (AcceptItem, RequestItem).
    pub fn duplicate_request(service: &ServiceKind, request: &str) -> Self {
        Self::service_specific(service, "Duplicate Request", "a request with this identifier already exists")
            .with_element("RequestId/RequestIdentifierValue")
            .with_value(request)
    }

    /// `Unknown Request` (CancelRequestItem, LookupItem by RequestId...).
    pub fn unknown_request(service: &ServiceKind, request: &str) -> Self {
        Self::service_specific(service, "Unknown Request", "no request with this identifier")
            .with_element("RequestId/RequestIdentifierValue")
            .with_value(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_not_checked_out_uses_the_check_in_scheme_seen_in_the_circill_samples() {
        let p = Problem::item_not_checked_out("ABCDE");
        assert_eq!(
            p.problem_type.scheme.as_deref(),
            Some("http://www.niso.org/ncip/v1_0/schemes/processingerrortype/checkinitemprocessingerror.scm")
        );
        assert_eq!(p.type_name(), "Item Not Checked Out");
        assert_eq!(p.value.as_deref(), Some("ABCDE"));
    }

    #[test]
    fn unknown_user_scheme_follows_the_service() {
        let lookup = Problem::unknown_user(&ServiceKind::LookupUser, "x");
        let checkout = Problem::unknown_user(&ServiceKind::CheckOutItem, "x");
        assert!(lookup.problem_type.scheme.unwrap().ends_with("/lookupuserprocessingerror.scm"));
        assert!(checkout.problem_type.scheme.unwrap().ends_with("/checkoutitemprocessingerror.scm"));
    }

    #[test]
    fn a_problem_echoes_at_most_64_characters_of_a_value() {
        let long = "é".repeat(60_000);
        let p = Problem::unknown_user(&ServiceKind::LookupUser, &long);
        assert_eq!(p.value.as_deref(), Some("é".repeat(MAX_PROBLEM_VALUE_CHARS).as_str()));
        let short = Problem::unknown_item(&ServiceKind::CheckInItem, "B1");
        assert_eq!(short.value.as_deref(), Some("B1"));
    }

    #[test]
    fn unsupported_service_is_a_general_processing_error() {
        let p = Problem::unsupported_service("DeleteItem");
        assert_eq!(p.problem_type.scheme.as_deref(), Some(GENERAL_PROCESSING_ERROR_SCHEME));
        assert_eq!(p.element.as_deref(), Some("DeleteItem"));
    }
}
