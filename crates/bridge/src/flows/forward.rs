//! Sending a Relais message on to Alma's NCIP responder, normalised the way Alma needs it, and sorting
//! Alma's reply into "done", "refused" and "try again".

use super::{NcipAnswer, policy};
use crate::alma::{AlmaError, CallContext};
use crate::flows::Bridge;
use crate::ncip::{AgencyId, InitiationHeader, Message, SchemeValue, ServiceKind};

/// Alma's reply to a forwarded message.
pub(crate) enum Reply {
    /// Alma did it; its response message.
    Accepted(Message),
    /// Alma answered with Problems; nothing changed in Alma.
    Refused(NcipAnswer),
    /// No usable answer.
    Failed(Failure),
}

/// Alma could not be asked, or its answer was lost.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub detail: String,
    pub outcome_unknown: bool,
    pub tracking_id: Option<String>,
}

/// Rewrites the header for Alma: ApplicationProfileType = the Alma partner code for the sending agency,
/// ToAgencyId = the institution code. Relais sends its own agency codes in both places, and a wrong partner
/// code is Alma's opaque "Unknown partner".
pub(crate) fn normalise_for_alma(bridge: &Bridge, message: &mut Message) {
    let partner = policy::partner_code(bridge, message.initiation_header());
    let institution = bridge.institution_code.clone();
    let Some(header) = message.initiation_header_mut() else { return };
    if let Some(code) = partner {
        let scheme = header.application_profile_type.as_ref().and_then(|p| p.scheme.clone());
        header.application_profile_type = Some(SchemeValue { scheme, value: code });
    }
    if !institution.is_empty() {
        header.to_agency_id = AgencyId::new(institution);
    }
}

/// A header for messages that arrived without one (several vendors omit it): Alma needs the partner code.
pub(crate) fn ensure_header(header: &mut Option<InitiationHeader>) {
    header.get_or_insert_with(InitiationHeader::default);
}

pub(crate) async fn to_alma(
    bridge: &Bridge,
    message: &Message,
    relais_header: Option<&InitiationHeader>,
    ctx: &CallContext,
) -> Reply {
    let mut message = message.clone();
    normalise_for_alma(bridge, &mut message);
    let service = message.service();
    match bridge.ncip.send(&message, ctx).await {
        Ok(reply) => classify(service, reply, relais_header),
        Err(err) => Reply::Failed(temporary(&err)),
    }
}

fn classify(service: ServiceKind, reply: Message, relais_header: Option<&InitiationHeader>) -> Reply {
    let problems = reply.problems();
    if problems.is_empty() {
        return Reply::Accepted(reply);
    }
    // Alma's own "Temporary Processing Failure" means it did nothing and wants the message again.
    if problems.iter().all(|p| p.type_name() == "Temporary Processing Failure") {
        return Reply::Failed(Failure {
            detail: problems[0].detail.clone().unwrap_or_else(|| "Alma reported a temporary failure".into()),
            outcome_unknown: false,
            tracking_id: None,
        });
    }
    // Alma's Problems go back to Relais with their text, under the bridge's answer header.
    let answer = crate::ncip::problem_response(service, relais_header, problems.to_vec());
    Reply::Refused(NcipAnswer::new(answer))
}

/// An Alma transport failure, in words for Relais staff.
pub(crate) fn temporary(err: &AlmaError) -> Failure {
    Failure {
        detail: match err {
            AlmaError::RateLimited => "Alma is over its per-second threshold; send the message again shortly".into(),
            AlmaError::Unavailable { status: 503, .. } => {
                "Alma is unavailable (maintenance?); send the message again later".into()
            }
            AlmaError::Timeout { .. } => "Alma did not answer in time; send the message again later".into(),
            _ => "Alma could not be reached; send the message again later".into(),
        },
        outcome_unknown: err.outcome_unknown(),
        tracking_id: err.tracking_id().map(str::to_owned),
    }
}
