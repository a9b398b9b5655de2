//! LookupUser: Relais asks who a patron is, and may ask the bridge to check the patron's PIN or password.
//!
//! Answered from Alma's REST Users API rather than Alma's NCIP responder, which finds active users only and
//! offers no control over what it reveals. One `GET /users/{id}` finds the patron (by any unique identifier,
//! or the `PATRON_ID_TYPE` configured); a PIN or password is checked with `POST /users/{primary id}?op=auth`;
//! loans are read only when the client asks and `PATRON_ALLOW_LOANS` allows it.
//!
//! Privacy: nothing here writes to the store but attempt counts under keyed hashes ([`lockout`]) and the keyed
//! hash of the id answered ([`crate::flows::patron_id::remember`]), and logs carry only a keyed pseudonym of the patron
//! ([`crate::logging::pseudonym`]) and the kind of outcome; never a name, e-mail, barcode or secret. An unknown
//! patron and a wrong secret get the same answer (User Authentication Failed) when a secret was offered, after
//! the same Alma calls (an unknown patron's secret is checked against an id no one has), so neither the answer
//! nor its timing tells which identifiers exist. Secrets that cannot travel in a header are refused first.
//!
//! PIN guessing is slowed by a lockout per patron and a throttle per NCIP endpoint ([`lockout`]): a locked
//! patron is answered User Authentication Failed with the time the lock ends (a known and an unknown
//! identifier alike, after the same Alma lookup), a throttled endpoint Temporary Processing Failure with the
//! time to send again.

mod answer;
mod lockout;
mod request;
pub(crate) mod standing;

use answer::{KeptId, PatronRecord};
use request::PatronQuery;
use standing::Standing;

use crate::alma::{AlmaError, CallContext};
use crate::flows::Bridge;
use crate::flows::front_door::Endpoint;
use crate::logging::pseudonym;
use crate::ncip::problem::processing_error_scheme;
use crate::ncip::{self, AgencyId, LookupUser, LookupUserResponse, Message, Problem, ResponseHeader, ServiceKind};
use crate::store::Outcome;

const SERVICE: ServiceKind = ServiceKind::LookupUser;

/// The primary id checked when the patron asked about is unknown (see `look_up`): one no Alma institution
/// uses, so the check fails without touching a real account's record.
const NO_SUCH_PATRON: &str = "alma-relais-bridge-no-such-patron";

pub(crate) async fn handle(
    bridge: &Bridge,
    message: LookupUser,
    inbound: crate::flows::once::Inbound<'_>,
    ctx: &CallContext,
) -> Vec<u8> {
    let header = message.header.as_ref();
    let outcome = look_up(bridge, &message, inbound.endpoint, ctx).await;
    let (label, patron) = match &outcome {
        Ok(found) => ("found", Some(found.patron.as_str())),
        Err(refusal) => (refusal.kind.label(), refusal.patron.as_deref()),
    };
    // The one line that lets staff follow a patron's lookups without the logs naming the patron.
    let patron = patron.map(|id| pseudonym(&bridge.settings.log_hash_key, id));
    tracing::info!(patron = patron.as_deref().unwrap_or("-"), result = label, "patron lookup");
    match outcome {
        Ok(Found { mut response, .. }) => {
            super::log_answer(&SERVICE, Outcome::Success);
            response.header = header.map(ResponseHeader::answering);
            ncip::write(&Message::LookupUserResponse(response))
        }
        Err(refusal) => {
            let outcome = if matches!(refusal.kind, RefusalKind::Temporary | RefusalKind::Throttled) {
                Outcome::TemporaryFailure
            } else {
                Outcome::Problem
            };
            super::log_answer(&SERVICE, outcome);
            ncip::write(&ncip::problem_response(SERVICE, header, vec![refusal.problem]))
        }
    }
}

/// A patron found and answered.
struct Found {
    response: LookupUserResponse,
    /// Alma's primary id, for the log pseudonym only.
    patron: String,
}

/// Why the lookup is answered with a Problem.
struct Refusal {
    kind: RefusalKind,
    problem: Problem,
    /// The identifier asked about (or Alma's primary id once known), for the log pseudonym only.
    patron: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefusalKind {
    Unreadable,
    UnknownUser,
    AuthenticationFailed,
    Blocked,
    Ineligible,
    Temporary,
    /// Too many failed checks of this patron's secret: answered as a failed check that says until when.
    LockedOut,
    /// Too many failed checks through this endpoint: answered as a temporary failure with a time to retry.
    Throttled,
}

impl RefusalKind {
    fn label(self) -> &'static str {
        match self {
            RefusalKind::Unreadable => "unreadable",
            RefusalKind::UnknownUser => "unknown user",
            RefusalKind::AuthenticationFailed => "authentication failed",
            RefusalKind::Blocked => "blocked",
            RefusalKind::Ineligible => "ineligible",
            RefusalKind::Temporary => "Alma unavailable",
            RefusalKind::LockedOut => "locked out",
            RefusalKind::Throttled => "throttled",
        }
    }
}

impl Refusal {
    fn new(kind: RefusalKind, problem: Problem, patron: Option<&str>) -> Refusal {
        Refusal { kind, problem, patron: patron.map(str::to_owned) }
    }

    /// The one answer for an unknown patron, a wrong secret and an inactive patron's secret: nothing in it
    /// depends on which it was.
    fn authentication_failed(patron: Option<&str>) -> Refusal {
        Refusal::new(RefusalKind::AuthenticationFailed, Problem::user_authentication_failed(&SERVICE), patron)
    }

    /// A locked patron, known or not: the failed-check answer, with a detail that says the account is locked
    /// until `until`, so a patron who typed the right PIN is not told it is wrong.
    fn locked_out(patron: Option<&str>, until: jiff::Timestamp) -> Refusal {
        let mut refusal = Refusal::authentication_failed(patron);
        refusal.kind = RefusalKind::LockedOut;
        refusal.problem.detail =
            Some(format!("the account is temporarily locked after too many failed checks; try again after {until}"));
        refusal
    }

    /// The endpoint failed too many checks lately: Relais is asked to send the message again after `until`.
    fn throttled(until: jiff::Timestamp) -> Refusal {
        let detail = format!("too many failed PIN checks through this endpoint; send the message again after {until}");
        Refusal::new(RefusalKind::Throttled, Problem::temporary_processing_failure(detail), None)
    }

    /// Alma could not answer in time (timeouts, 429 past the retry budget, 5xx) or answered something else
    /// than the user or "not found". Only Alma's error code goes into the detail: its message text names the
    /// identifier asked for.
    fn alma_failed(err: &AlmaError, patron: Option<&str>) -> Refusal {
        let detail = match err {
            AlmaError::Api { code, .. } => {
                format!("Alma refused the patron lookup (error {code}); send the message again later")
            }
            other => super::forward::temporary(other).detail,
        };
        if let AlmaError::Api { code, tracking_id, .. } = err {
            tracing::warn!(alma_error = %code, tracking_id = tracking_id.as_deref().unwrap_or("-"), "Alma refused a patron lookup");
        }
        Refusal::new(RefusalKind::Temporary, Problem::temporary_processing_failure(detail), patron)
    }
}

async fn look_up(
    bridge: &Bridge,
    message: &LookupUser,
    endpoint: Option<&Endpoint>,
    ctx: &CallContext,
) -> Result<Found, Refusal> {
    let policy = &bridge.settings.patron;
    let query = PatronQuery::read(message).map_err(|err| match err {
        request::QueryError::NoIdentifier => Refusal::new(RefusalKind::Unreadable, err.problem(), None),
        request::QueryError::ConflictingIdentifiers => {
            Refusal::new(RefusalKind::AuthenticationFailed, err.problem(), None)
        }
        // Answered exactly as an identifier Alma does not know.
        request::QueryError::UnusableIdentifier { identifier, secret_offered } => {
            unknown_patron(message, &identifier, secret_offered)
        }
    })?;
    let asked = Some(query.identifier.as_str());
    if policy.auth_required && query.credential.is_none() {
        return Err(Refusal::authentication_failed(asked));
    }
    // Before anything is asked of Alma: an endpoint that failed too many checks waits.
    let endpoint = query.credential.as_ref().and_then(|_| lockout::endpoint_key(bridge, endpoint));
    if query.credential.is_some()
        && let Err(until) = lockout::throttled(bridge, endpoint.as_ref()).await
    {
        return Err(Refusal::throttled(until));
    }
    if query.credential.as_ref().is_some_and(|c| !request::usable_secret(c.expose())) {
        lockout::failed_without_patron(bridge, endpoint).await;
        return Err(Refusal::authentication_failed(asked));
    }
    let user = match bridge.rest.user(&query.identifier, &policy.id_type, ctx).await {
        Ok(user) => user,
        Err(err) if err.is_not_found() => {
            if let Some(credential) = &query.credential {
                // Counted under the identifier as sent, and locked like a known patron's (the same answer
                // after the same Alma lookup), so a lock tells nothing about which identifiers exist.
                let patron = lockout::patron_key(bridge, None, &query.identifier);
                let admitted = lockout::admit(bridge, patron, endpoint)
                    .await
                    .map_err(|until| Refusal::locked_out(asked, until))?;
                // The same work as a known patron with a wrong secret: without this call an unknown patron
                // was answered after one Alma round trip and a known one after two, so the answer's timing told
                // whether the patron exists.
                // The answer does not depend on the result.
                let _ = bridge.rest.authenticate(NO_SUCH_PATRON, credential.expose(), ctx).await;
                admitted.failed(bridge).await;
            }
            return Err(unknown_patron(message, &query.identifier, query.credential.is_some()));
        }
        // Not a check: nothing is counted.
        Err(err) => return Err(Refusal::alma_failed(&err, asked)),
    };
    let primary = Some(user.primary_id.as_str());
    if let Some(credential) = &query.credential {
        // Under the patron Alma found, whichever of its identifiers was sent: each identifier used to have
        // its own tries.
        let patron = lockout::patron_key(bridge, primary, &query.identifier);
        let admitted =
            lockout::admit(bridge, patron, endpoint).await.map_err(|until| Refusal::locked_out(primary, until))?;
        // By primary id: the identifier that found the user may be of a type op=auth is not asked to search.
        if let Err(err) = bridge.rest.authenticate(&user.primary_id, credential.expose(), ctx).await {
            // Every failure of the check is answered as an unknown patron would be: a Temporary Processing
            // Failure here (Alma refusing the header, a timeout) would tell that the patron exists.
            if !err.is_auth_failure() {
                tracing::warn!(error = %err, "Alma could not check a patron's secret; answered as a failed authentication");
            }
            admitted.failed(bridge).await;
            return Err(Refusal::authentication_failed(primary));
        }
        admitted.succeeded(bridge).await;
    }
    let standing = Standing::of(&user, policy, bridge.clock.now(), &bridge.settings.ncip.time_zone);
    if let Some(refusal) = policy_refusal(bridge, &standing, &query, message) {
        return Err(Refusal { patron: primary.map(str::to_owned), ..refusal });
    }
    // Relais keeps the UserId answered here and sends it back in AcceptItem and RequestItem, where Alma
    // matches only the partner's User Identifier Type.
    let partner = super::policy::partner_code(bridge, message.header.as_ref());
    let point = match super::patron_id::match_point(bridge, partner.as_deref(), ctx).await {
        Ok(point) => point,
        Err(err) => return Err(Refusal::alma_failed(&err, primary)),
    };
    let record = PatronRecord {
        user: &user,
        standing: &standing,
        policy,
        agency: answering_agency(bridge, message),
        zone: &bridge.settings.ncip.time_zone,
        kept_id: KeptId::of(&user, point.as_ref()),
    };
    let mut response = LookupUserResponse {
        user_id: Some(record.user_id()),
        user_optional_fields: record.optional_fields(query.elements),
        ..LookupUserResponse::default()
    };
    // Loans reveal reading habits: only when asked for and allowed (RequestedItems and fiscal accounts never).
    if query.loans_desired && policy.allow_loans {
        match bridge.rest.user_loans(&user.primary_id, ctx).await {
            Ok(loans) => response.loaned_items = answer::loaned_items(&loans, &record.agency),
            Err(err) => return Err(Refusal::alma_failed(&err, primary)),
        }
    }
    // Relais sends this id back in AcceptItem: remembered (as a keyed hash), it is forwarded without a read.
    if let Some(point) = &point {
        super::patron_id::remember(bridge, point, record.kept_id.value).await;
    }
    Ok(Found { response, patron: user.primary_id.clone() })
}

/// The answer for a patron Alma does not know: User Authentication Failed when a secret was offered (so it
/// matches a wrong secret), otherwise Unknown User echoing the identifier as written.
fn unknown_patron(message: &LookupUser, identifier: &str, secret_offered: bool) -> Refusal {
    if secret_offered {
        return Refusal::authentication_failed(Some(identifier));
    }
    let problem = Problem::unknown_user(&SERVICE, echoed(message, identifier));
    Refusal::new(RefusalKind::UnknownUser, problem, Some(identifier))
}

/// The configured refusals: a blocked patron answered as "User Blocked" (`PATRON_BLOCKED_ANSWER=problem`), a
/// user group outside `PATRON_ILL_GROUPS` as "User Ineligible" (`PATRON_INELIGIBLE_ANSWER=problem`). Otherwise
/// both are answered as STATUS BLOCKED in the patron record.
fn policy_refusal(
    bridge: &Bridge,
    standing: &Standing<'_>,
    query: &PatronQuery,
    message: &LookupUser,
) -> Option<Refusal> {
    let policy = &bridge.settings.patron;
    if policy.blocked_as_problem && standing.blocked() {
        let problem = Problem::user_blocked(&SERVICE, echoed(message, &query.identifier));
        return Some(Refusal::new(RefusalKind::Blocked, problem, None));
    }
    if policy.ineligible_as_problem && !standing.eligible {
        return Some(Refusal::new(RefusalKind::Ineligible, user_ineligible(), None));
    }
    None
}

/// The identifier as the client wrote it, for a Problem's value (NCIP responders echo ids byte for byte).
fn echoed<'a>(message: &'a LookupUser, identifier: &'a str) -> &'a str {
    message.user_id.as_ref().map_or(identifier, |u| u.user_identifier_value.original())
}

/// "User Ineligible" in LookupUser's processing-error scheme. NCIP's list for LookupUser has no eligibility
/// value; this is the bridge's own, chosen to read like the ineligibility types of the other services.
fn user_ineligible() -> Problem {
    Problem::new(
        processing_error_scheme(&SERVICE),
        "User Ineligible",
        "the patron's user group may not use interlibrary loan",
    )
}

/// The agency the patron is answered as belonging to: the agency Relais addressed (so the answer agrees with
/// its own ResponseHeader), else the Alma institution code.
fn answering_agency(bridge: &Bridge, message: &LookupUser) -> AgencyId {
    message
        .header
        .as_ref()
        .map(|h| h.to_agency_id.clone())
        .filter(|agency| !agency.as_str().is_empty())
        .unwrap_or_else(|| AgencyId::new(bridge.institution_code.as_str()))
}
