//! A loopback stand-in for Lambda's `Invoke` API (`POST /2015-03-31/functions/{name}/invocations`), which the
//! front door's SDK client reaches through `AWS_ENDPOINT_URL_LAMBDA`: each payload, an API Gateway HTTP event,
//! goes to the named function's handler with a Lambda context of its own (`service-invocation-N`), as the
//! Lambda runtime would hand it over. It can also refuse invokes as Lambda's throttle does, or answer for a
//! function with fixed bytes, so the front door's handling of a throttle can be seen without the services.

use axum::extract::{Path, State};
use bridge::lambda::entry;
use bridge::lambda::refresh::Refreshing;
use lambda_http::RequestExt;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What answers an invoke of one function name.
pub enum Answerer {
    /// The function's own handler.
    Function(Arc<Refreshing>),
    /// These bytes, as the function's NCIP answer.
    Fixed(String),
}

struct LambdaService {
    functions: BTreeMap<String, Answerer>,
    /// Invokes received, refused ones included.
    invocations: AtomicUsize,
    /// How many of the next invokes are refused as throttled.
    to_refuse: AtomicUsize,
}

/// The running stand-in.
pub struct InvokeStandIn {
    url: String,
    lambda: Arc<LambdaService>,
}

impl InvokeStandIn {
    /// Starts the stand-in on loopback, serving `functions` by name.
    pub async fn start(functions: BTreeMap<String, Answerer>) -> InvokeStandIn {
        let lambda =
            Arc::new(LambdaService { functions, invocations: AtomicUsize::new(0), to_refuse: AtomicUsize::new(0) });
        let app = axum::Router::new()
            .route("/2015-03-31/functions/{name}/invocations", axum::routing::post(invoke))
            .with_state(Arc::clone(&lambda));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        InvokeStandIn { url, lambda }
    }

    /// The endpoint, for `AWS_ENDPOINT_URL_LAMBDA`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Refuses the next `count` invokes as Lambda does when the function's reserved concurrency is in use
    /// (`usize::MAX`: every one from now on).
    pub fn refuse_next(&self, count: usize) {
        self.lambda.to_refuse.store(count, Ordering::SeqCst);
    }

    /// Invokes received so far, refused ones included.
    pub fn invocations(&self) -> usize {
        self.lambda.invocations.load(Ordering::SeqCst)
    }
}

/// The Lambda context a function's handler is given.
pub fn context(request_id: &str) -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    context.request_id = request_id.to_owned();
    context
}

async fn invoke(
    State(lambda): State<Arc<LambdaService>>,
    Path(name): Path<String>,
    payload: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let n = lambda.invocations.fetch_add(1, Ordering::SeqCst) + 1;
    let refused = lambda.to_refuse.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| match left {
        0 => None,
        usize::MAX => Some(usize::MAX),
        left => Some(left - 1),
    });
    if refused.is_ok() {
        // As Lambda answers a synchronous invoke past the function's reserved concurrency.
        let body = serde_json::json!({
            "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            "Type": "User",
            "message": "Rate Exceeded."
        });
        let headers = [("x-amzn-errortype", "TooManyRequestsException"), ("content-type", "application/json")];
        return (http::StatusCode::TOO_MANY_REQUESTS, headers, body.to_string()).into_response();
    }
    let mut response = ApiGatewayV2httpResponse::default();
    match lambda.functions.get(&name).unwrap_or_else(|| panic!("no function {name}")) {
        Answerer::Fixed(answer) => {
            response.status_code = 200;
            response.body = Some(lambda_http::Body::Text(answer.clone()));
        }
        Answerer::Function(function) => {
            let request = lambda_http::request::from_str(std::str::from_utf8(&payload).expect("a JSON event"))
                .expect("an HTTP API event");
            let context = context(&format!("service-invocation-{n}"));
            let answer = entry::answer_http(function, request.with_lambda_context(context)).await;
            response.status_code = i64::from(answer.status().as_u16());
            let body = http_body_util::BodyExt::collect(answer.into_body()).await.expect("the answer").to_bytes();
            response.body = Some(lambda_http::Body::Text(String::from_utf8(body.to_vec()).expect("an NCIP answer")));
        }
    }
    axum::Json(response).into_response()
}
