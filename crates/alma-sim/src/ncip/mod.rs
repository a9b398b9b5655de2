//! Alma's NCIP responder, `POST /view/NCIPServlet`, in broker mode (Ex Libris "NCIP Broker-based Resource
//! Sharing" and the NCIP V.2 application profile): messages are read and written with `ncip_codec` only.
//!
//! Header rules (profile table "InitiationHeader"): `ToAgencyId` must be the institution code, otherwise
//! Unknown Agency; `ApplicationProfileType` must equal the code of an ACTIVE partner whose profile is NCIP,
//! case-sensitive and untrimmed, otherwise Alma's "Unknown partner" (see [`unknown_partner`]). For
//! LookupUser the profile notes the partner code may come in `FromAgencyAuthentication` instead.
//!
//! Every answer is HTTP 200 with the matching `...Response` (or a top-level Problem when the message could
//! not be read), as NCIP requires (NISO Z39.83-1: errors are Problem elements). NCIP calls do not count against the REST thresholds.

mod agencies;
mod services;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ncip_codec::model::common::{InitiationHeader, ServiceKind};
use ncip_codec::problem::{GENERAL_PROCESSING_ERROR_SCHEME, processing_error_scheme};
use ncip_codec::{Message, Problem, ReadOptions};

use crate::http::App;
use crate::http::gate::{NcipService, PatronBusy};
use crate::state::State as SimState;

pub(crate) async fn respond(State(app): State<App>, busy: Option<Extension<PatronBusy>>, body: Bytes) -> Response {
    let (answer, service) = answer(&app, &body, busy.is_some());
    let xml = encode(&answer);
    let mut response = (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml;charset=UTF-8")], xml).into_response();
    if let Some(service) = service {
        response.extensions_mut().insert(NcipService(service));
    }
    response
}

fn encode(message: &Message) -> Vec<u8> {
    ncip_codec::write(message)
}

/// The answer to one message, and the service it named (for the call log). `busy`: the `patron_busy`
/// fault refuses a message whose header passed.
fn answer(app: &App, body: &[u8], busy: bool) -> (Message, Option<String>) {
    let message = match ncip_codec::read(body, &ReadOptions::default()) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "alma-sim ncip: unreadable message");
            return (ncip_codec::error_response(&e, None), e.service().map(|s| s.element_name().to_owned()));
        }
    };
    let service = message.service();
    let name = Some(service.element_name().to_owned());
    let header = message.initiation_header().cloned();
    if message.is_response() || !services::offered(&service) {
        let problem = Problem::unsupported_service(service.element_name());
        return (ncip_codec::problem_response(service, header.as_ref(), vec![problem]), name);
    }
    let Some(header) = header else {
        let problem = Problem::needed_data_missing("InitiationHeader", "Alma requires an InitiationHeader");
        return (ncip_codec::problem_response(service, None, vec![problem]), name);
    };
    let answer = app.store.with(|s| match check_header(s, &service, &header) {
        Ok(_) if busy => ncip_codec::problem_response(service.clone(), Some(&header), vec![patron_busy(&message)]),
        Ok(partner) => services::dispatch(s, &partner, &header, message),
        Err(problem) => ncip_codec::problem_response(service.clone(), Some(&header), vec![problem]),
    });
    (answer, name)
}

/// The partner the message speaks for, or the Problem Alma answers.
fn check_header(s: &SimState, service: &ServiceKind, h: &InitiationHeader) -> Result<String, Problem> {
    // The v2 profile: ToAgencyId is the institution code or its ISIL (alma.md §1.3); Relais' help calls it
    // "Required by ExLibris Alma in the ToAgencyID field". Compared exactly, like the partner code.
    if !s.agency_ids.iter().any(|a| a == h.to_agency_id.as_str()) {
        return Err(Problem::unknown_agency("InitiationHeader/ToAgencyId/AgencyId", h.to_agency_id.as_str()));
    }
    let profile = h.application_profile_type.as_ref().map(|p| p.value.clone());
    let code = match (profile, service) {
        (Some(code), _) => code,
        (None, ServiceKind::LookupUser) => h.from_agency_authentication.clone().unwrap_or_default(),
        (None, _) => String::new(),
    };
    let active_ncip = s.partner(&code).is_some_and(|p| {
        p["partner_details"]["status"] == "ACTIVE" && p["partner_details"]["profile_details"]["profile_type"] == "NCIP"
    });
    if active_ncip { Ok(code) } else { Err(unknown_partner(&code)) }
}

/// Alma's answer for an ApplicationProfileType that is no active NCIP partner. ReShare's NCIP
/// troubleshooting guide names the error "Unknown partner" (Alma-specific); the exact element layout Alma
/// uses was not found in public material, so: ProblemType "Unknown partner" in the general processing
/// error scheme, the offending element and value filled in.
pub(crate) fn unknown_partner(code: &str) -> Problem {
    Problem::new(GENERAL_PROCESSING_ERROR_SCHEME, "Unknown partner", format!("Unknown partner: {code}"))
        .with_element("InitiationHeader/ApplicationProfileType")
        .with_value(code)
}

/// "Patron Record is Busy": OCLC's Relais NCIP pages list it among the Problems Alma answers AcceptItem
/// with (alma.md §1.6); the patron's record is locked by another process, so nothing is done. Its scheme
/// and element are UNCONFIRMED: the service's processing-error scheme, as Alma's other per-service
/// Problems, and the message's UserId when it has one.
fn patron_busy(message: &Message) -> Problem {
    let service = message.service();
    let user = match message {
        Message::AcceptItem(m) => m.user_id.as_ref(),
        Message::CheckOutItem(m) => m.user_id.as_ref(),
        Message::RequestItem(m) => m.user_id.as_ref(),
        Message::CancelRequestItem(m) => m.user_id.as_ref(),
        Message::RenewItem(m) => m.user_id.as_ref(),
        Message::LookupUser(m) => m.user_id.as_ref(),
        _ => None,
    };
    let problem = Problem::new(
        processing_error_scheme(&service),
        "Patron Record is Busy",
        "the patron's record is in use by another process; try again later",
    );
    match user {
        Some(u) => problem.with_element("UserId/UserIdentifierValue").with_value(u.user_identifier_value.as_str()),
        None => problem,
    }
}
