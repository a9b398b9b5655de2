//! The NCIP front door (`POST /ncip/{token}`, `POST /ncip` with a bearer token): authenticates Relais, reads
//! only the message type, answers LookupVersion itself and hands everything else to the function for that
//! type, in process (local) or by a synchronous Lambda invoke (AWS).

use crate::app::{App, Dispatch, Function};
use crate::http::{auth, respond};
use crate::ncip::{self, LookupVersionResponse, Message, NcipVersion, Problem, ServiceKind};
use lambda_http::{Body, Request, Response};

/// The NCIP versions the bridge reads and writes (NCIP 2.0x are compatible for the services used).
pub const VERSIONS_SUPPORTED: [&str; 3] = [
    "http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd",
    "http://www.niso.org/schemas/ncip/v2_01/ncip_v2_01.xsd",
    "http://www.niso.org/schemas/ncip/v2_0/imp1/xsd/ncip_v2_0.xsd",
];

pub async fn handle(app: &App, request: &Request, path_token: Option<&str>) -> Response<Body> {
    if request.method() != http::Method::POST {
        return respond::text(405, "NCIP messages are sent with POST");
    }
    if !auth::authorised(request, path_token, &app.settings.ncip_secret) {
        // No hint of which part was wrong, and nothing of the message is read.
        tracing::warn!("NCIP request with a missing or wrong token");
        let problem = Problem::agency_authentication_failed("the NCIP endpoint token is missing or wrong");
        return respond::xml(ncip::write(&Message::Problem(vec![problem])));
    }
    respond::xml(answer(app, request.body().as_ref()).await)
}

/// The NCIP answer to an authenticated message.
pub async fn answer(app: &App, body: &[u8]) -> Vec<u8> {
    let peek = match ncip::peek(body) {
        Ok(peek) => peek,
        Err(err) => return ncip::write(&ncip::error_response(&err, None)),
    };
    if peek.version == NcipVersion::V1 || peek.is_response {
        // The full reader gives NCIP 1.0 and misdirected responses their precise Problem.
        return match ncip::read(body, &app.read_options) {
            Err(err) => ncip::write(&ncip::error_response(&err, None)),
            Ok(message) => {
                let problem = Problem::unsupported_service(&format!("{}Response", message.service().element_name()));
                ncip::write(&ncip::problem_response(message.service(), None, vec![problem]))
            }
        };
    }
    if peek.service == ServiceKind::LookupVersion {
        return lookup_version(app, body);
    }
    let Some(function) = Function::for_service(&peek.service) else {
        let problem = Problem::unsupported_service(peek.service.element_name());
        return ncip::write(&ncip::problem_response(peek.service, None, vec![problem]));
    };
    match &app.dispatch {
        Dispatch::InProcess => crate::flows::dispatch_service(app, function, body).await,
        Dispatch::Lambda(invoker) => match invoker.invoke(&peek.service, body).await {
            Ok(answer) => answer,
            Err(err) => {
                tracing::error!(error = %err, "invoking the service function failed");
                let problem =
                    Problem::temporary_processing_failure("the bridge could not process the message; send it again");
                crate::flows::log_answer(&peek.service, "TemporaryFailure");
                ncip::write(&ncip::problem_response(peek.service, None, vec![problem]))
            }
        },
    }
}

fn lookup_version(app: &App, body: &[u8]) -> Vec<u8> {
    match ncip::read(body, &app.read_options) {
        Ok(Message::LookupVersion(request)) => {
            let services = Function::ALL.iter().filter_map(|f| f.service()).map(|s| s.element_name().to_owned());
            let services: Vec<String> = std::iter::once("LookupVersion".to_owned()).chain(services).collect();
            let versions = VERSIONS_SUPPORTED.iter().map(|v| (*v).to_owned()).collect();
            crate::flows::log_answer(&ServiceKind::LookupVersion, "success");
            ncip::write(&Message::LookupVersionResponse(LookupVersionResponse::answering(&request, versions, services)))
        }
        Ok(other) => {
            let problem = Problem::unsupported_service(other.service().element_name());
            ncip::write(&ncip::problem_response(other.service(), None, vec![problem]))
        }
        Err(err) => ncip::write(&ncip::error_response(&err, None)),
    }
}
