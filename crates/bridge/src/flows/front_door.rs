//! The NCIP front door (`POST /ncip/{token}`, `POST /ncip` with a bearer token): once [`crate::http`] has
//! authenticated Relais, it reads only the message type, answers LookupVersion itself and hands everything
//! else to the function for that type through the bridge's [`Invoker`]: [`InProcess`] locally, a Lambda
//! invoke on AWS (so the front door's binary holds none of the flows).

use crate::flows::{Bridge, ServiceFlow};
use crate::function::Function;
use crate::ncip::{self, LookupVersionResponse, Message, NcipVersion, Problem, ServiceKind};
use crate::store::Outcome;

/// The NCIP versions the bridge reads and writes (NCIP 2.0x are compatible for the services used).
pub const VERSIONS_SUPPORTED: [&str; 3] = [
    "http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd",
    "http://www.niso.org/schemas/ncip/v2_01/ncip_v2_01.xsd",
    "http://www.niso.org/schemas/ncip/v2_0/imp1/xsd/ncip_v2_0.xsd",
];

/// Which NCIP endpoint token a message came through: a short keyed hash of the token the front door accepted,
/// passed to the service function in the invoke (the [`Endpoint::HEADER`] header), so that PIN failures are
/// counted per endpoint rather than per the FromAgencyId a caller writes, which costs nothing to invent. It
/// tells which token (the current or the previous one during a rotation) without being one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(String);

impl Endpoint {
    /// The invoke event's header carrying the endpoint (IAM authorises the invoke, so a caller cannot set it).
    pub const HEADER: &'static str = "x-bridge-endpoint";

    /// The endpoint of `token`, under the bridge's `LOG_HASH_KEY`: the first 16 hex digits of a keyed hash,
    /// enough to keep a handful of tokens apart and too few to test guesses of a token against.
    pub fn of_token(key: &crate::config::Secret, token: &str) -> Endpoint {
        let mut digest = crate::logging::keyed_digest(key, "endpoint-token", token);
        digest.truncate(16);
        Endpoint(digest)
    }

    /// An endpoint read back from the invoke event; `None` for anything but 16 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Endpoint> {
        let valid = text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| Endpoint(text.to_owned()))
    }

    /// The 16 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the front door reaches the per-service function of a message (on AWS: a synchronous Lambda invoke,
/// implemented in [`crate::lambda`]; locally [`InProcess`]). Given the message's bytes as Relais sent them, it
/// returns the function's NCIP answer.
#[async_trait::async_trait]
pub trait Invoker: Send + Sync {
    /// Sends the message, which came through `endpoint`, to `function` and returns its NCIP answer.
    async fn invoke(
        &self,
        bridge: &Bridge,
        function: Function,
        endpoint: &Endpoint,
        ncip_message: &[u8],
    ) -> Result<Vec<u8>, InvokeError>;
}

/// Every service answered in this process, by its flow (the local server, and tests of the whole path).
pub struct InProcess;

#[async_trait::async_trait]
impl Invoker for InProcess {
    async fn invoke(
        &self,
        bridge: &Bridge,
        function: Function,
        endpoint: &Endpoint,
        ncip_message: &[u8],
    ) -> Result<Vec<u8>, InvokeError> {
        let flow = ServiceFlow::of(function).ok_or(InvokeError::NoFunction(function))?;
        Ok(crate::flows::dispatch_service(bridge, flow, ncip_message, Some(endpoint)).await)
    }
}

/// Why the front door could not get an answer from a service function.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// No function name was configured for the service (a missing `*_FUNCTION` variable).
    #[error("no function is configured for {0:?}")]
    NoFunction(Function),
    /// The invoke itself failed, or the function's answer could not be read.
    #[error("invoking {function} failed: {reason}")]
    Failed {
        /// The function's name or ARN.
        function: String,
        /// What went wrong, for the log.
        reason: String,
    },
}

/// The NCIP answer to a message authenticated as having come through `endpoint`.
pub async fn answer(bridge: &Bridge, endpoint: &Endpoint, body: &[u8]) -> Vec<u8> {
    let peek = match crate::flows::parse::peek(body, &bridge.read_options).await {
        Ok(peek) => peek,
        Err(err) => return ncip::write(&ncip::error_response(&err, None)),
    };
    if peek.version == NcipVersion::V1 || peek.is_response {
        // The full reader gives NCIP 1.0 and misdirected responses their precise Problem.
        return match crate::flows::parse::read(body, &bridge.read_options).await {
            Err(err) => ncip::write(&ncip::error_response(&err, None)),
            Ok(message) => {
                let problem = Problem::unsupported_service(&format!("{}Response", message.service().element_name()));
                ncip::write(&ncip::problem_response(message.service(), None, vec![problem]))
            }
        };
    }
    if peek.service == ServiceKind::LookupVersion {
        return lookup_version(bridge, body).await;
    }
    let Some(function) = Function::for_service(&peek.service) else {
        let problem = Problem::unsupported_service(peek.service.element_name());
        return ncip::write(&ncip::problem_response(peek.service, None, vec![problem]));
    };
    let invoked = match &bridge.invoker {
        Some(invoker) => invoker.invoke(bridge, function, endpoint, body).await,
        None => Err(InvokeError::NoFunction(function)),
    };
    match invoked {
        Ok(answer) => answer,
        Err(err) => {
            tracing::error!(error = %err, "invoking the service function failed");
            let problem =
                Problem::temporary_processing_failure("the bridge could not process the message; send it again");
            crate::flows::log_answer(&peek.service, Outcome::TemporaryFailure);
            ncip::write(&ncip::problem_response(peek.service, None, vec![problem]))
        }
    }
}

async fn lookup_version(bridge: &Bridge, body: &[u8]) -> Vec<u8> {
    match crate::flows::parse::read(body, &bridge.read_options).await {
        Ok(Message::LookupVersion(request)) => {
            let services = Function::ALL.iter().filter_map(|f| f.service()).map(|s| s.element_name().to_owned());
            let services: Vec<String> = std::iter::once("LookupVersion".to_owned()).chain(services).collect();
            let versions = VERSIONS_SUPPORTED.iter().map(|v| (*v).to_owned()).collect();
            crate::flows::log_answer(&ServiceKind::LookupVersion, Outcome::Success);
            ncip::write(&Message::LookupVersionResponse(LookupVersionResponse::answering(&request, versions, services)))
        }
        Ok(other) => {
            let problem = Problem::unsupported_service(other.service().element_name());
            ncip::write(&ncip::problem_response(other.service(), None, vec![problem]))
        }
        Err(err) => ncip::write(&ncip::error_response(&err, None)),
    }
}
