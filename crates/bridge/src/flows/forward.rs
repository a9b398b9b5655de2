//! Sending a Relais message on to Alma's NCIP responder as Relais sent it (only the header patched), and sorting
//! Alma's reply into "done", "refused" and "try again".

use super::{NcipAnswer, policy};
use crate::alma::{AlmaError, CallContext};
use crate::flows::Bridge;
use crate::ncip::problem::GENERAL_PROCESSING_ERROR_SCHEME;
use crate::ncip::{self, HeaderEdits, InitiationHeader, Message, Problem, ServiceKind};

/// Alma's reply to a forwarded message.
pub(crate) enum Reply {
    /// Alma did it; its response message.
    Accepted(Message),
    /// Alma answered with Problems; nothing changed in Alma.
    Refused(NcipAnswer),
    /// No usable answer.
    Failed(Failure),
}

/// Alma gave no usable answer.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong, in words Relais staff can act on.
    pub detail: String,
    /// Alma may have acted: the claim is kept so that the next attempt reads Alma before acting.
    pub outcome_unknown: bool,
    /// Alma's `trackingId`, for the history.
    pub tracking_id: Option<String>,
    /// Whether waiting would help.
    pub kind: FailureKind,
    /// The bridge stops retrying on its own: whether Alma acted could not be read, so staff decide.
    pub for_staff: bool,
}

/// The two kinds of failure (and the third, an answer that is neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Alma is down or busy and will come back ([`AlmaError::is_outage`]): a queueable message waits in the
    /// outbox, any other is answered Temporary Processing Failure.
    Outage,
    /// Alma will not act on this, whatever the wait: Relais hears a Problem at once. `configuration` when the
    /// bridge's own settings are at fault (every message fails alike until they are fixed).
    Refusal {
        /// The fault is in the bridge's settings (URL, key, partner), not in the message.
        configuration: bool,
    },
}

/// The ProblemType of a refusal that is the bridge's own (Alma's Problems pass through as they are): from
/// the general processing-error scheme, and not temporary, so that Relais shows it to staff instead of
/// retrying. The bridge is the system between Relais and Alma, and Alma did not let it carry out the service;
/// the ProblemDetail says why and what to fix.
pub const REFUSAL_PROBLEM_TYPE: &str = "Unauthorized Service For System";

impl Failure {
    /// The failure of a call that could not be made or answered. `area` names what the call was for, in the
    /// words of Alma's API-key areas ("Users", "Resource Sharing Partners"), for a refused key.
    pub(crate) fn of(err: &AlmaError, area: &str) -> Failure {
        let kind = if err.is_outage() {
            FailureKind::Outage
        } else {
            FailureKind::Refusal { configuration: err.is_configuration_fault() }
        };
        Failure {
            detail: describe(err, area),
            outcome_unknown: err.outcome_unknown(),
            tracking_id: err.tracking_id().map(str::to_owned),
            kind,
            for_staff: false,
        }
    }

    /// The Problem Relais gets for a refusal: Alma's outage is answered elsewhere (queued, or Temporary
    /// Processing Failure).
    pub(crate) fn refusal_problem(&self) -> Problem {
        Problem::new(GENERAL_PROCESSING_ERROR_SCHEME, REFUSAL_PROBLEM_TYPE, self.detail.clone())
    }

    /// Counts a refusal that is a configuration fault on its own metric (alarmed on the first one).
    pub(crate) fn count_if_configuration_fault(&self) {
        if self.kind == (FailureKind::Refusal { configuration: true }) {
            tracing::error!(detail = %self.detail, "Alma refused the bridge: a configuration fault");
            crate::metrics::configuration_fault();
        }
    }
}

/// A failure in words for Relais staff: what Alma did and, for a setting, which one to check. Never Alma's
/// message text (it may name the patron asked for), only its code.
fn describe(err: &AlmaError, area: &str) -> String {
    match err {
        AlmaError::RateLimited => "Alma is over its per-second threshold; send the message again shortly".into(),
        AlmaError::DailyThreshold => {
            "Alma's daily API threshold is used up; send the message again after Alma's midnight reset".into()
        }
        AlmaError::Unavailable { status: 503, .. } => {
            "Alma is unavailable (maintenance?); send the message again later".into()
        }
        AlmaError::Unavailable { status, .. } if err.is_outage() => {
            format!("Alma answered HTTP {status}; send the message again later")
        }
        AlmaError::Unavailable { status, .. } => format!("Alma answered HTTP {status} to the {area} call"),
        AlmaError::Timeout { .. } => "Alma did not answer in time; send the message again later".into(),
        AlmaError::Unreachable { .. } => "Alma could not be reached; send the message again later".into(),
        AlmaError::Api { status, code, .. } if code == crate::alma::NCIP_HTTP => format!(
            "Alma's NCIP URL answered HTTP {status} instead of NCIP: check ALMA_NCIP_URL (it ends in /view/NCIPServlet)"
        ),
        AlmaError::Api { code, .. } if code == crate::alma::PARTNER_NOT_FOUND => format!(
            "Alma knows no resource-sharing partner with the code the bridge sent (error {code}): check \
             ALMA_PARTNER_CODE or NCIP_AGENCY_PARTNERS against Alma's partner codes (they are case-sensitive)"
        ),
        AlmaError::Api { code, .. } if err.is_configuration_fault() => format!(
            "Alma refused the bridge's API key for {area} (error {code}): give the key {area} access (docs/configure-alma.md)"
        ),
        AlmaError::Api { code, .. } => format!("Alma refused the {area} call (error {code}); check the record in Alma"),
        AlmaError::NotConfigured => "Alma is not configured for this function (ALMA_API_BASE)".into(),
        AlmaError::UnusablePathSegment => format!("an identifier in the message cannot be used in Alma's {area} API"),
        AlmaError::Unreadable(_) => format!(
            "Alma's answer to the {area} call could not be read (a login page? check ALMA_NCIP_URL and ALMA_API_BASE)"
        ),
    }
}

/// What the bridge changes in Relais's message for Alma: ApplicationProfileType = the Alma partner code for
/// the sending agency, ToAgencyId = the institution code, and the patron identifier translated into the
/// partner's User Identifier Type. Relais sends its own agency codes in both places,
/// and a wrong partner code is Alma's opaque "Unknown partner". A message that came without a header (several
/// vendors omit it) also gets the partner code as its FromAgencyId, which the XSD requires.
fn edits_for_alma<'a>(
    bridge: &'a Bridge,
    partner: Option<&'a str>,
    had_header: bool,
    patron: Option<&'a str>,
) -> HeaderEdits<'a> {
    HeaderEdits {
        to_agency: Some(bridge.institution_code.as_str()).filter(|code| !code.is_empty()),
        from_agency: partner.filter(|_| !had_header),
        application_profile_type: partner,
        user_identifier: patron,
    }
}

/// A header for messages that arrived without one, so the model the flows keep has one to answer from.
pub(crate) fn ensure_header(header: &mut Option<InitiationHeader>) {
    header.get_or_insert_with(InitiationHeader::default);
}

/// Sends Relais's message on to Alma: `received` as it arrived, patched only as [`edits_for_alma`] says, and
/// with `patron` (the translated patron identifier) as its UserId when given. `message` is its reading, for
/// the partner code; `relais_header` is the header as Relais sent it.
pub(crate) async fn to_alma(
    bridge: &Bridge,
    message: &Message,
    received: &[u8],
    patron: Option<&str>,
    relais_header: Option<&InitiationHeader>,
    ctx: &CallContext,
) -> Reply {
    let service = message.service();
    let partner = policy::partner_code(bridge, message.initiation_header());
    let edits = edits_for_alma(bridge, partner.as_deref(), relais_header.is_some(), patron);
    let body = match ncip::patch(received, &edits) {
        Ok(body) => body,
        Err(err) => {
            // The message read cleanly, so this is the bridge's failing, not Relais's: nothing was sent.
            tracing::error!(error = %err, "could not prepare the message for Alma");
            return Reply::Failed(Failure {
                detail: "the bridge could not prepare the message for Alma".into(),
                outcome_unknown: false,
                tracking_id: None,
                kind: FailureKind::Refusal { configuration: false },
                for_staff: false,
            });
        }
    };
    match bridge.ncip.send(body, ctx).await {
        Ok(reply) => {
            super::reached::note_answer(bridge).await;
            classify(service, reply, relais_header)
        }
        Err(err) => Reply::Failed(Failure::of(&err, "NCIP")),
    }
}

fn classify(service: ServiceKind, reply: Message, relais_header: Option<&InitiationHeader>) -> Reply {
    let problems = reply.problems();
    if problems.is_empty() {
        return Reply::Accepted(reply);
    }
    // Alma's own "Temporary Processing Failure" means it did nothing and wants the message again; so does
    // "Patron Record is Busy" (another process holds the patron's record in Alma, OCLC's Relais pages): both
    // are waited out like an outage, never parked for that answer alone.
    if problems.iter().all(|p| matches!(p.type_name(), "Temporary Processing Failure" | PATRON_RECORD_BUSY)) {
        return Reply::Failed(Failure {
            detail: problems[0].detail.clone().unwrap_or_else(|| problems[0].type_name().to_owned()),
            outcome_unknown: false,
            tracking_id: None,
            kind: FailureKind::Outage,
            for_staff: false,
        });
    }
    // Alma's Problems go back to Relais with their text, under the bridge's answer header.
    let answer = crate::ncip::problem_response(service, relais_header, problems.to_vec());
    Reply::Refused(NcipAnswer::new(answer))
}

/// Alma's Problem when another process holds the patron's record (seen on AcceptItem).
pub(crate) const PATRON_RECORD_BUSY: &str = "Patron Record is Busy";

/// An Alma failure, in words for Relais staff, for the flows that answer it themselves.
pub(crate) fn temporary(err: &AlmaError) -> Failure {
    Failure::of(err, "REST")
}
