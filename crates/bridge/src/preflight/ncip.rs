//! Checks 3 and 4: one LookupUser sent to `ALMA_NCIP_URL` as the flows send their messages (the partner code as
//! ApplicationProfileType, the institution code as ToAgencyId). Any NCIP answer, a Problem included, proves the
//! URL is Alma's responder, and records the outbox's go-live marker as the first answer to a flow would; an
//! "Unknown Agency" Problem says the institution code is not Alma's.

use super::{Check, Options, partner_codes};
use crate::alma::{AlmaError, CallContext, NCIP_HTTP};
use crate::flows::Bridge;
use crate::flows::reached::{has_answered, note_answer};
use crate::ncip::{
    self, AgencyId, InitiationHeader, LookupUser, Message, Problem, SchemeValue, UserId, UserIdentifier,
};

/// The patron looked up when none is given: no library issues it, so Alma answers Unknown User.
const MADE_UP_PATRON: &str = "alma-relais-bridge-preflight-no-such-patron";

/// What the round trip found.
pub(super) struct RoundTrip {
    /// The partner code sent as ApplicationProfileType (the first configured one).
    partner: Option<String>,
    outcome: Result<Answered, AlmaError>,
}

/// Alma's NCIP answer.
struct Answered {
    problems: Vec<Problem>,
    /// The go-live marker is in the store now.
    marker: bool,
}

impl RoundTrip {
    /// Alma's responder refused `code` as ApplicationProfileType.
    pub(super) fn refused_partner(&self, code: &str) -> bool {
        self.partner.as_deref() == Some(code)
            && self.outcome.as_ref().is_ok_and(|a| a.problems.iter().any(refuses_partner))
    }
}

pub(super) async fn round_trip(bridge: &Bridge, options: &Options) -> RoundTrip {
    let partner = partner_codes(bridge).into_iter().next();
    let patron = options.patron.clone().unwrap_or_else(|| MADE_UP_PATRON.to_owned());
    let header = InitiationHeader {
        // A message without a header of its own gets the partner code here from the flows too.
        from_agency_id: AgencyId::new(partner.clone().unwrap_or_else(|| "alma-relais-bridge".to_owned())),
        to_agency_id: AgencyId::new(bridge.institution_code.clone()),
        application_profile_type: partner.as_deref().map(SchemeValue::new),
        ..InitiationHeader::default()
    };
    let message = Message::LookupUser(LookupUser {
        header: Some(header),
        user_id: Some(UserId { user_identifier_value: UserIdentifier::new(patron), ..UserId::default() }),
        ..LookupUser::default()
    });
    let ctx = CallContext::new(bridge.settings.deadline);
    let outcome = match bridge.ncip.send(ncip::write(&message), &ctx).await {
        Ok(reply) => {
            note_answer(bridge).await;
            Ok(Answered { problems: reply.problems().to_vec(), marker: has_answered(bridge).await })
        }
        Err(err) => Err(err),
    };
    RoundTrip { partner, outcome }
}

/// The `ncip-url` and `to-agency-id` verdicts. `institution` is the code Alma's API-key test answered with.
pub(super) fn checks(
    bridge: &Bridge,
    options: &Options,
    round_trip: &RoundTrip,
    institution: Option<&str>,
) -> Vec<Check> {
    let url = bridge.ncip.endpoint().unwrap_or("Alma's NCIP responder");
    let ncip_fix = "check ALMA_NCIP_URL (it ends in /view/NCIPServlet, on your Alma host: \
                    https://<yourinst>.alma.exlibrisgroup.com/view/NCIPServlet)";
    let answered = match &round_trip.outcome {
        Ok(answered) => answered,
        Err(err) => {
            let (what, fix) = match err {
                AlmaError::Api { status, code, .. } if code == NCIP_HTTP => {
                    (format!("{url} answered HTTP {status}, not NCIP"), ncip_fix.to_owned())
                }
                AlmaError::Unreadable(_) => (
                    format!("{url} answered something that is not NCIP (an HTML page, such as a sign-in form?)"),
                    ncip_fix.to_owned(),
                ),
                AlmaError::Unreachable { .. } | AlmaError::Timeout { .. } => (
                    format!("{url} could not be reached"),
                    format!("{ncip_fix}, and that this machine can reach your Alma host over HTTPS"),
                ),
                AlmaError::Unavailable { status, .. } => (
                    format!("{url} answered HTTP {status} (Alma's maintenance?)"),
                    format!("run the preflight again when Alma is back; if it persists, {ncip_fix}"),
                ),
                other => (format!("{url} gave no NCIP answer ({other})"), ncip_fix.to_owned()),
            };
            return vec![
                Check::fail("ncip-url", what, fix),
                Check::fail(
                    "to-agency-id",
                    "not checked: Alma's NCIP responder gave no NCIP answer (see ncip-url)",
                    "correct ALMA_NCIP_URL, then run the preflight again",
                ),
            ];
        }
    };
    let code = bridge.institution_code.as_str();
    let mut found = format!("{url} answered LookupUser in NCIP: {}", what_alma_said(options, &answered.problems));
    found.push_str(if answered.marker {
        "; the go-live marker is recorded, so the outbox now holds messages through Alma's outages at this URL"
    } else {
        "; the go-live marker could not be recorded in the store (the first message Alma answers records it)"
    });
    let to_agency = if answered.problems.iter().any(refuses_to_agency) {
        let known = institution
            .filter(|i| *i != code)
            .map(|i| format!(" (Alma's API-key test answered institutionCode: {i})"))
            .unwrap_or_default();
        Check::fail(
            "to-agency-id",
            format!("Alma's NCIP responder answered Unknown Agency for ToAgencyId {code}"),
            format!(
                "ALMA_INSTITUTION_CODE (the stack's AlmaInstitutionCode) must be Alma's institution code, e.g. \
                 01UNIV_INST{known}"
            ),
        )
    } else if answered.problems.iter().any(refuses_partner) {
        Check::pass(
            "to-agency-id",
            format!(
                "Alma did not answer Unknown Agency for {code} (it refused the partner code; run the preflight again \
                 once the partner check passes)"
            ),
        )
    } else {
        Check::pass("to-agency-id", format!("Alma's NCIP responder accepted {code} as ToAgencyId"))
    };
    vec![Check::pass("ncip-url", found), to_agency]
}

/// Alma's answer in words, naming Problems by type only (their details and values may carry the patron's id).
fn what_alma_said(options: &Options, problems: &[Problem]) -> String {
    let asked = options.patron.is_some();
    match problems {
        [] if asked => "Alma found the patron asked for".to_owned(),
        [] => "Alma answered without a Problem".to_owned(),
        [only] if is(only, "Unknown User") && asked => {
            "Unknown User for the patron asked for (is it their identifier of the partner's User Identifier Type?)"
                .to_owned()
        }
        [only] if is(only, "Unknown User") => "Unknown User for a made-up patron, as expected".to_owned(),
        _ if problems.iter().any(refuses_partner) => {
            "Alma refused the partner code with Unknown partner (see the partner check)".to_owned()
        }
        _ if problems.iter().any(refuses_to_agency) => {
            "Alma refused the institution code with Unknown Agency (see the to-agency-id check)".to_owned()
        }
        _ => {
            let types: Vec<&str> = problems.iter().map(Problem::type_name).collect();
            format!("Alma answered with the Problem {}", types.join(", "))
        }
    }
}

fn is(problem: &Problem, problem_type: &str) -> bool {
    problem.type_name().eq_ignore_ascii_case(problem_type)
}

/// Alma's "Unknown partner", or any Problem naming the ApplicationProfileType.
fn refuses_partner(problem: &Problem) -> bool {
    is(problem, "Unknown partner") || problem.element.as_deref().is_some_and(|e| e.contains("ApplicationProfileType"))
}

/// "Unknown Agency" for the message's ToAgencyId (or for no element in particular).
fn refuses_to_agency(problem: &Problem) -> bool {
    is(problem, "Unknown Agency")
        && !refuses_partner(problem)
        && problem.element.as_deref().is_none_or(|e| e.contains("ToAgencyId"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_agency_for_the_to_agency_is_told_apart_from_a_refused_partner() {
        let to_agency = Problem::unknown_agency("InitiationHeader/ToAgencyId/AgencyId", "01WRONG_INST");
        assert!(refuses_to_agency(&to_agency) && !refuses_partner(&to_agency));
        let profile = Problem::unknown_agency("InitiationHeader/ApplicationProfileType", "relais");
        assert!(refuses_partner(&profile) && !refuses_to_agency(&profile));
        let partner = Problem::new(crate::ncip::problem::GENERAL_PROCESSING_ERROR_SCHEME, "Unknown partner", "x");
        assert!(refuses_partner(&partner) && !refuses_to_agency(&partner));
        let patron = Problem::unknown_agency("UserId/AgencyId", "OTHER");
        assert!(!refuses_to_agency(&patron), "an identifier's agency is not the header's");
    }

    #[test]
    fn problems_are_named_by_type_never_by_their_values() {
        let unknown = Problem::unknown_user(&crate::ncip::ServiceKind::LookupUser, "21000000001");
        let asked = Options { patron: Some("21000000001".into()) };
        assert!(!what_alma_said(&asked, std::slice::from_ref(&unknown)).contains("21000000001"));
        assert!(what_alma_said(&Options::default(), &[unknown]).contains("as expected"));
        let busy = Problem::new("s", "Patron Record is Busy", "the record of 21000000001 is locked");
        assert_eq!(what_alma_said(&asked, &[busy]), "Alma answered with the Problem Patron Record is Busy");
    }
}
