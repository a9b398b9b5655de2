//! The AWS SDK's configuration, read from the Lambda environment alone and sent over the bridge's own HTTPS
//! client.
//!
//! Why not `aws_config::load_defaults`: on Lambda its chains always end where this starts (the runtime puts
//! the role's credentials and the region in the environment), yet they cost a cold start its provider chain
//! and linked an STS, an SSO and an IMDS client into every function. And why not the SDK's own HTTPS client:
//! it parsed the CA bundle a second time at start-up (the Alma client had already parsed it) and brought a
//! second HTTP stack with HTTP/2 into each binary. One `reqwest::Client` now serves Alma, DynamoDB,
//! SSM, SQS and Lambda, with one connection pool and one set of roots (docs/benchmarks.md).
//!
//! The local server keeps `aws_config` (a library running the process by hand may use a profile).

use crate::config::{ConfigError, Env};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_types::SdkConfig;
use aws_types::region::Region;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
use std::time::Duration;

/// The SDK configuration for a function: region, the execution role's credentials and endpoint overrides from
/// `env`, requests through `http`.
pub fn sdk_config(env: &Env, http: reqwest::Client) -> Result<SdkConfig, ConfigError> {
    let region = env
        .get("AWS_REGION")
        .or_else(|| env.get("AWS_DEFAULT_REGION"))
        .ok_or_else(|| ConfigError::new("AWS_REGION", "is not set (the Lambda runtime sets it)"))?;
    let required = |name: &'static str| {
        env.get(name)
            .map(str::to_owned)
            .ok_or_else(|| ConfigError::new(name, "is not set (the Lambda runtime sets it)"))
    };
    // Lambda's credentials live as long as the execution environment, so they are read once.
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        env.get("AWS_SESSION_TOKEN").map(str::to_owned),
        None,
        "lambda-environment",
    );
    Ok(SdkConfig::builder()
        .behavior_version(aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(over_reqwest(http))
        .service_config(EndpointOverrides::from_env(env))
        .build())
}

/// The SDK's HTTP client trait over `client`. Each operation's read timeout becomes the request's timeout
/// (the connect timeout is the client's own).
fn over_reqwest(client: reqwest::Client) -> impl HttpClient + 'static {
    http_client_fn(move |settings: &HttpConnectorSettings, _: &RuntimeComponents| {
        SharedHttpConnector::new(ReqwestConnector { client: client.clone(), timeout: settings.read_timeout() })
    })
}

#[derive(Debug)]
struct ReqwestConnector {
    client: reqwest::Client,
    timeout: Option<Duration>,
}

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        let timeout = self.timeout;
        HttpConnectorFuture::new(async move { send(&client, timeout, request).await })
    }
}

async fn send(
    client: &reqwest::Client,
    timeout: Option<Duration>,
    request: HttpRequest,
) -> Result<HttpResponse, ConnectorError> {
    let method =
        reqwest::Method::from_bytes(request.method().as_bytes()).map_err(|e| ConnectorError::user(Box::new(e)))?;
    // Every operation the bridge calls sends its whole body at once (JSON or a query string).
    let body = request
        .body()
        .bytes()
        .ok_or_else(|| ConnectorError::user("a streaming request body is not supported".into()))?
        .to_vec();
    let mut outgoing = client.request(method, request.uri());
    for (name, value) in request.headers() {
        outgoing = outgoing.header(name, value);
    }
    if let Some(timeout) = timeout {
        outgoing = outgoing.timeout(timeout);
    }
    let answer = outgoing.body(body).send().await.map_err(connector_error)?;
    let status =
        StatusCode::try_from(answer.status().as_u16()).map_err(|e| ConnectorError::other(Box::new(e), None))?;
    let headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = answer.bytes().await.map_err(connector_error)?;
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
    Ok(response)
}

/// Timeouts and broken connections are what the SDK's retry strategy retries; the rest is reported as is.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        ConnectorError::timeout(Box::new(err))
    } else if err.is_connect() || err.is_request() || err.is_body() {
        ConnectorError::io(Box::new(err))
    } else {
        ConnectorError::other(Box::new(err), None)
    }
}

/// `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL`, as the SDK documents them (tests and `sam local` point
/// the functions at local stand-ins this way; a deployed function sets neither).
#[derive(Debug)]
struct EndpointOverrides {
    /// Only the `AWS_ENDPOINT_URL*` variables: the SDK may print its configuration, and the rest of the
    /// environment holds secrets.
    env: Env,
}

impl EndpointOverrides {
    fn from_env(env: &Env) -> Self {
        let overrides = env.keys().filter(|key| key.starts_with("AWS_ENDPOINT_URL"));
        Self { env: Env::from_pairs(overrides.filter_map(|key| Some((key, env.get(key)?)))) }
    }
}

impl LoadServiceConfig for EndpointOverrides {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_uppercase().replace([' ', '-'], "_");
        let specific = format!("{}_{service}", key.env());
        self.env.get(&specific).or_else(|| self.env.get(key.env())).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn a_service_endpoint_wins_over_the_global_one() {
        let overrides = EndpointOverrides::from_env(&env(&[
            ("AWS_ENDPOINT_URL", "http://global"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://dynamo"),
        ]));
        let key = |service| {
            ServiceConfigKey::builder().service_id(service).env("AWS_ENDPOINT_URL").profile("endpoint_url").build()
        };
        assert_eq!(overrides.load_config(key("DynamoDB").unwrap()).as_deref(), Some("http://dynamo"));
        assert_eq!(overrides.load_config(key("SSM").unwrap()).as_deref(), Some("http://global"));
    }

    #[test]
    fn missing_credentials_name_the_variable() {
        let err = sdk_config(&env(&[("AWS_REGION", "eu-west-1")]), crate::alma::https_client()).unwrap_err();
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
        let err = sdk_config(&env(&[]), crate::alma::https_client()).unwrap_err();
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
    }
}
