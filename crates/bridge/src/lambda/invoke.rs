//! The front door's synchronous invoke of a per-service function.
//!
//! The per-service functions are `lambda_http` functions like the public ones, so the front door hands them the
//! same API Gateway HTTP API (v2) event a direct call would carry: one handler serves both, and `events/` files
//! exercise exactly what the front door sends.

use crate::flows::Bridge;
use crate::flows::front_door::{InvokeError, Invoker};
use crate::function::{Function, SERVICE_INVOKE_PATH};
use base64::Engine as _;
use std::collections::BTreeMap;

pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    /// Service function -> its Lambda function name or ARN (the template's `*_FUNCTION` variables).
    functions: BTreeMap<Function, String>,
}

impl LambdaInvoker {
    pub fn new(client: aws_sdk_lambda::Client, functions: BTreeMap<Function, String>) -> Self {
        Self { client, functions }
    }
}

#[async_trait::async_trait]
impl Invoker for LambdaInvoker {
    /// Sends the NCIP message to the service's function and returns its NCIP answer.
    async fn invoke(&self, _: &Bridge, target: Function, ncip_message: &[u8]) -> Result<Vec<u8>, InvokeError> {
        let function = self.functions.get(&target).ok_or(InvokeError::NoFunction(target))?;
        let failed = |reason: String| InvokeError::Failed { function: function.clone(), reason };
        let headers = [("content-type", "application/xml")];
        let event = http_api_event("POST", SERVICE_INVOKE_PATH, "", &headers, ncip_message);
        let payload = serde_json::to_vec(&event).map_err(|e| failed(e.to_string()))?;
        let output = self
            .client
            .invoke()
            .function_name(function)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await
            .map_err(|e| failed(aws_sdk_lambda::error::DisplayErrorContext(&e).to_string()))?;
        if let Some(error) = output.function_error() {
            return Err(failed(format!("function error {error}")));
        }
        let answer: serde_json::Value = output
            .payload()
            .map(|blob| serde_json::from_slice(blob.as_ref()))
            .transpose()
            .map_err(|e| failed(format!("unreadable answer: {e}")))?
            .ok_or_else(|| failed("empty answer".into()))?;
        let body = answer.get("body").and_then(|b| b.as_str()).unwrap_or_default();
        if answer.get("isBase64Encoded").and_then(|b| b.as_bool()).unwrap_or(false) {
            base64::engine::general_purpose::STANDARD.decode(body).map_err(|e| failed(format!("bad base64: {e}")))
        } else {
            Ok(body.as_bytes().to_vec())
        }
    }
}

/// An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it to a function.
pub fn http_api_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> serde_json::Value {
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let headers: serde_json::Map<String, serde_json::Value> =
        headers.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned()))).collect();
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "bridge",
            "domainName": "bridge.internal",
            "domainPrefix": "bridge",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "alma-relais-bridge" },
            "requestId": "front-door",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": encoded
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;

    #[test]
    fn the_event_reads_back_as_the_request_a_function_sees() {
        let event = http_api_event("POST", "/ncip", "a=1&a=2", &[("content-type", "application/xml")], b"<x/>");
        let request = lambda_http::request::from_str(&event.to_string()).expect("valid HTTP API event");
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), "/ncip");
        assert_eq!(request.uri().query(), Some("a=1&a=2"));
        assert_eq!(request.body().as_ref(), b"<x/>");
        assert!(request.query_string_parameters_ref().is_some());
    }
}
