//! Sending a Relais message on to Alma's NCIP responder as Relais sent it (only the header patched), and sorting
//! Alma's reply into "done", "refused" and "try again".

use super::{NcipAnswer, policy};
use crate::alma::{AlmaError, CallContext};
use crate::flows::Bridge;
use crate::ncip::{self, HeaderEdits, InitiationHeader, Message, ServiceKind};

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
            });
        }
    };
    match bridge.ncip.send(body, ctx).await {
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
