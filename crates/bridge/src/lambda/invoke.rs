//! The front door's synchronous invoke of a per-service function.
//!
//! The per-service functions are `lambda_http` functions like the public ones, so the front door hands them the
//! same API Gateway HTTP API (v2) event a direct call would carry: one handler serves both, and `events/` files
//! exercise exactly what the front door sends.
//!
//! Each service function's reserved concurrency keeps the bridge under Alma's 25 calls a second, so a burst
//! (two desks receiving at once) meets Lambda's throttle (`TooManyRequestsException`, HTTP 429). A throttled
//! invoke never started the function, so the front door tries again, within [`throttle_wait`]: short enough
//! that the service's whole deadline still fits in the front door's own timeout, so an answer Alma acted on
//! always reaches Relais. The SDK's own retries are off for this client: they would wait past that bound.

use crate::flows::Bridge;
use crate::flows::front_door::{Endpoint, InvokeError, Invoker};
use crate::function::{Function, SERVICE_INVOKE_PATH};
use base64::Engine as _;
use lambda_http::Body;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
    ApiGatewayV2httpResponse,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// The front door's Lambda timeout (template.yaml's `NcipFunction`, checked by tests/e2e/template.rs).
pub const FRONT_DOOR_TIMEOUT: Duration = Duration::from_secs(28);

/// The longest a throttled invoke is waited out, whatever time is left: Relais's own NCIP client gives up
/// on a slow answer, and a desk scanning an item should hear back within seconds.
pub const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(10);

/// Time kept back beyond the service's deadline for what follows its last Alma call (the store's commit,
/// the way back through the invoke).
const ANSWER_MARGIN: Duration = Duration::from_secs(2);

/// The first pause after a throttle; each next one doubles, up to [`LONGEST_PAUSE`], jittered.
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// How long the front door waits out throttled invokes of a service whose deadline is `service_deadline`:
/// at most [`MAX_THROTTLE_WAIT`], and at most what the front door's timeout leaves once the service's deadline
/// and [`ANSWER_MARGIN`] are kept back (6 s with the default 20 s deadline).
pub fn throttle_wait(service_deadline: Duration) -> Duration {
    FRONT_DOOR_TIMEOUT.saturating_sub(service_deadline).saturating_sub(ANSWER_MARGIN).min(MAX_THROTTLE_WAIT)
}

/// The front door's [`Invoker`] on AWS: a synchronous Lambda invoke of the service's function.
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    /// Service function -> its Lambda function name or ARN (the template's `*_FUNCTION` variables).
    functions: BTreeMap<Function, String>,
}

impl LambdaInvoker {
    /// An invoker over `client`'s configuration that reaches each service's function by the name in
    /// `functions`. The SDK's retries are turned off: the invoker waits out throttles itself, within a bound.
    pub fn new(client: aws_sdk_lambda::Client, functions: BTreeMap<Function, String>) -> Self {
        let config = client.config().to_builder().retry_config(aws_smithy_types::retry::RetryConfig::disabled());
        Self { client: aws_sdk_lambda::Client::from_conf(config.build()), functions }
    }
}

#[async_trait::async_trait]
impl Invoker for LambdaInvoker {
    /// Sends the NCIP message to the service's function and returns its NCIP answer.
    async fn invoke(
        &self,
        bridge: &Bridge,
        target: Function,
        endpoint: &Endpoint,
        ncip_message: &[u8],
    ) -> Result<Vec<u8>, InvokeError> {
        let function = self.functions.get(&target).ok_or(InvokeError::NoFunction(target))?;
        let failed = |reason: String| InvokeError::Failed { function: function.clone(), reason };
        let headers = [("content-type", "application/xml"), (Endpoint::HEADER, endpoint.as_str())];
        let event = http_api_event("POST", SERVICE_INVOKE_PATH, "", &headers, ncip_message);
        let payload =
            aws_sdk_lambda::primitives::Blob::new(serde_json::to_vec(&event).map_err(|e| failed(e.to_string()))?);
        let give_up_at = tokio::time::Instant::now() + throttle_wait(bridge.settings.deadline);
        let (mut pause, mut refused) = (FIRST_PAUSE, 0u32);
        let output = loop {
            let sent = self.client.invoke().function_name(function).payload(payload.clone()).send().await;
            let err = match sent {
                Ok(output) => break output,
                Err(err) => err,
            };
            let reason = aws_sdk_lambda::error::DisplayErrorContext(&err).to_string();
            if !never_started(&err) {
                return Err(failed(reason));
            }
            refused += 1;
            let left = give_up_at.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(failed(format!("not started after {refused} tries (throttled or unreachable): {reason}")));
            }
            tokio::time::sleep(jittered(pause).min(left)).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        };
        if refused > 0 {
            tracing::info!(function = target.name(), refused, "the service function started after throttled invokes");
        }
        if let Some(error) = output.function_error() {
            return Err(failed(format!("function error {error}")));
        }
        let answer: ApiGatewayV2httpResponse = output
            .payload()
            .map(|blob| serde_json::from_slice(blob.as_ref()))
            .transpose()
            .map_err(|e| failed(format!("unreadable answer: {e}")))?
            .ok_or_else(|| failed("empty answer".into()))?;
        response_body(answer).map_err(failed)
    }
}

/// Whether Lambda certainly did not start the function: its throttle (the function's reserved concurrency
/// or the account's is in use), or no connection to Lambda at all. Anything else may have run the function,
/// and Alma may have acted: that is never sent again from here (Relais's resend meets the stored answer).
fn never_started(err: &aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::invoke::InvokeError>) -> bool {
    use aws_sdk_lambda::error::SdkError;
    match err {
        SdkError::ServiceError(service) => service.err().is_too_many_requests_exception(),
        SdkError::DispatchFailure(failure) => failure.is_io() && !failure.is_timeout(),
        _ => false,
    }
}

/// `pause` scaled by a random factor between one half and one, so that front doors throttled together do not
/// come back together.
fn jittered(pause: Duration) -> Duration {
    pause.mul_f64(0.5 + rand::random::<f64>() / 2.0)
}

/// The bytes of a function's answer: `lambda_http` sends a binary body base64-encoded and says so.
fn response_body(answer: ApiGatewayV2httpResponse) -> Result<Vec<u8>, String> {
    let body = match answer.body {
        None | Some(Body::Empty) => return Ok(Vec::new()),
        Some(Body::Text(text)) => text.into_bytes(),
        Some(Body::Binary(bytes)) => bytes,
        Some(other) => return Err(format!("an answer body of an unknown kind: {other:?}")),
    };
    if answer.is_base64_encoded {
        base64::engine::general_purpose::STANDARD.decode(&body).map_err(|e| format!("bad base64: {e}"))
    } else {
        Ok(body)
    }
}

/// An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it to a function.
pub fn http_api_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> ApiGatewayV2httpRequest {
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method.parse().unwrap_or(http::Method::POST);
    http.path = Some(path.to_owned());
    http.protocol = Some("HTTP/1.1".to_owned());
    http.source_ip = Some("127.0.0.1".to_owned());
    http.user_agent = Some("alma-relais-bridge".to_owned());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some("$default".to_owned());
    context.account_id = Some("000000000000".to_owned());
    context.stage = Some("$default".to_owned());
    context.request_id = Some("front-door".to_owned());
    context.apiid = Some("bridge".to_owned());
    context.domain_name = Some("bridge.internal".to_owned());
    context.domain_prefix = Some("bridge".to_owned());
    context.time = Some("01/Jan/2026:00:00:00 +0000".to_owned());
    context.http = http;
    let mut event = ApiGatewayV2httpRequest::default();
    // The type still carries payload 1.0's top-level method (deprecated, and ignored by `lambda_http`, which
    // reads the request context's); it is sent all the same, so it says the same thing rather than GET.
    #[allow(deprecated)]
    {
        event.http_method = context.http.method.clone();
    }
    event.version = Some("2.0".to_owned());
    event.route_key = Some("$default".to_owned());
    event.raw_path = Some(path.to_owned());
    event.raw_query_string = Some(query.to_owned());
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
        {
            event.headers.append(name, value);
        }
    }
    event.request_context = context;
    event.body = Some(body);
    event.is_base64_encoded = encoded;
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;

    #[test]
    fn a_throttle_is_waited_out_only_while_the_services_deadline_still_fits() {
        assert_eq!(throttle_wait(Duration::from_secs(20)), Duration::from_secs(6));
        assert_eq!(throttle_wait(Duration::from_secs(22)), Duration::from_secs(4));
        assert_eq!(throttle_wait(Duration::from_secs(5)), MAX_THROTTLE_WAIT);
        assert_eq!(throttle_wait(Duration::from_secs(28)), Duration::ZERO);
        for pause in [FIRST_PAUSE, LONGEST_PAUSE] {
            let jittered = jittered(pause);
            assert!(jittered >= pause / 2 && jittered <= pause, "{jittered:?}");
        }
    }

    #[test]
    fn the_event_reads_back_as_the_request_a_function_sees() {
        let event = http_api_event("POST", "/ncip", "a=1&a=2", &[("content-type", "application/xml")], b"<x/>");
        let json = serde_json::to_string(&event).expect("the event serialises");
        let request = lambda_http::request::from_str(&json).expect("valid HTTP API event");
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), "/ncip");
        assert_eq!(request.uri().query(), Some("a=1&a=2"));
        assert_eq!(request.body().as_ref(), b"<x/>");
        assert!(request.query_string_parameters_ref().is_some());
    }

    #[test]
    fn the_endpoint_travels_as_a_header_the_service_reads_back() {
        let key = crate::config::Secret::new("log-hash-key".to_owned());
        let endpoint = Endpoint::of_token(&key, "the-ncip-token");
        assert_eq!(endpoint.as_str().len(), 16);
        assert_ne!(endpoint, Endpoint::of_token(&key, "another-ncip-token"), "tokens are kept apart");
        let event = http_api_event("POST", "/ncip", "", &[(Endpoint::HEADER, endpoint.as_str())], b"<x/>");
        let request = lambda_http::request::from_str(&serde_json::to_string(&event).unwrap()).expect("event");
        let header = request.headers().get(Endpoint::HEADER).and_then(|v| v.to_str().ok());
        assert_eq!(header.and_then(Endpoint::parse), Some(endpoint));
        for forged in ["the-ncip-token", "", "0123456789ABCDEF", "0123456789abcdef0"] {
            assert_eq!(Endpoint::parse(forged), None, "{forged:?}");
        }
    }

    #[test]
    fn a_binary_body_travels_base64_encoded_both_ways() {
        let bytes = b"<x>\xff\xfe</x>".iter().map(|b| b ^ 0x80).collect::<Vec<u8>>();
        let event = http_api_event("POST", "/ncip", "", &[], &bytes);
        assert!(event.is_base64_encoded);
        let request = lambda_http::request::from_str(&serde_json::to_string(&event).unwrap()).expect("event");
        assert_eq!(request.body().as_ref(), bytes.as_slice());

        let mut answer = ApiGatewayV2httpResponse::default();
        answer.status_code = 200;
        answer.body = Some(Body::Text(base64::engine::general_purpose::STANDARD.encode(&bytes)));
        answer.is_base64_encoded = true;
        let read: ApiGatewayV2httpResponse = serde_json::from_slice(&serde_json::to_vec(&answer).unwrap()).unwrap();
        assert_eq!(response_body(read), Ok(bytes));
    }
}
