//! What each function's binary runs, fixed at compile time.
//!
//! A function's `main` names its entry here, and the entry names only that function's code: its routes (and
//! through them its one NCIP flow), and the AWS clients it holds beyond DynamoDB and SSM. Because nothing
//! chooses among the flows at run time, the linker drops every other flow and client from the binary: the
//! front door alone holds the Lambda client, only the functions that queue or re-drive outbox messages hold
//! the SQS client, only the OpenURL hand-off holds the RSA and JWT code of the patron identity, and no
//! per-service function holds another's flow (docs/benchmarks.md has the sizes).
//! Every function reads its secrets from SSM (`*_PARAMETER`), so every one holds the SSM client.

use super::events::{DeliverAnswer, DeliverEvent};
use super::refresh::Refreshing;
use super::{deliver, invoke};
use crate::app::AlmaClients;
use crate::config::{ConfigError, Settings};
use crate::flows::front_door::Invoker;
use crate::flows::openurl::Identity;
use crate::flows::outbox::Doorbell;
use crate::flows::{Bridge, ServiceFlow};
use crate::function::Function;
use crate::http;
use crate::store::{DynamoStore, Store, StoreConfig};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// An event handler's answer under way.
pub type Handling = Pin<Box<dyn Future<Output = DeliverAnswer> + Send>>;

/// Builds the front door's way to the per-service functions from their names.
pub type MakeInvoker = fn(&aws_types::SdkConfig, BTreeMap<Function, String>) -> Arc<dyn Invoker>;

/// Opens the function's DynamoDB table.
pub type OpenStore = fn(&aws_types::SdkConfig, String, StoreConfig) -> Arc<dyn Store>;

/// Builds the outbox's doorbell for a queue URL.
pub type MakeDoorbell = fn(&aws_types::SdkConfig, String) -> Arc<dyn Doorbell>;

/// A function's runtime loop: the Lambda runtime's, serving its events until the runtime stops the process.
pub type RunLoop = fn(Arc<Refreshing>) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>>>>;

/// Builds the Alma clients (REST and NCIP over the function's one HTTPS client).
pub type MakeAlma = fn(&Settings, &crate::config::AlmaRemote, reqwest::Client) -> Result<AlmaClients, ConfigError>;

/// Builds `POST /reconcile`'s way to start the `reconcile` function (the Lambda client).
pub type MakeTrigger = fn(&aws_types::SdkConfig, String) -> Arc<dyn crate::flows::reconcile::Trigger>;

/// Reads the OpenURL hand-off's patron identity (IdP keys, Relais's public key) from the settings.
pub type ReadIdentity = fn(&Settings, &reqwest::Client) -> Result<Option<Identity>, ConfigError>;

/// How a function is reached.
#[derive(Clone, Copy)]
pub enum Serve {
    /// API Gateway's HTTP events: these public routes.
    Http(fn() -> http::Routes),
    /// The front door's invoke (the same HTTP event, `POST /ncip`): answered by this one flow.
    Service(ServiceFlow),
    /// The outbox's queue and schedule: this handler.
    Events(fn(Arc<Bridge>, DeliverEvent) -> Handling),
}

/// One function's binary: what it serves and the clients it builds.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The function this binary is.
    pub function: Function,
    /// How it is reached: public routes, the front door's invoke, or the outbox's events.
    pub serve: Serve,
    /// The table (the DynamoDB client): every function but the front door, whose role has no table access.
    pub store: Option<OpenStore>,
    /// The Alma clients: the functions that call Alma (the NCIP services, the deliverer, and the OpenURL
    /// hand-off's user reads alone), which alone are given Alma's settings; the others link no Alma client.
    pub alma: Option<MakeAlma>,
    /// The front door's way to the per-service functions (the Lambda client).
    pub invoker: Option<MakeInvoker>,
    /// The outbox's doorbell (the SQS client), for a function that queues or re-drives a message.
    pub doorbell: Option<MakeDoorbell>,
    /// The patron identity (the RSA and JWT code): the OpenURL hand-off only.
    pub patron_identity: Option<ReadIdentity>,
    /// How `POST /reconcile` starts the `reconcile` function (the Lambda client): the status function only.
    pub reconcile_trigger: Option<MakeTrigger>,
    /// The runtime loop: `lambda_http`'s for HTTP functions, `lambda_runtime`'s over typed events for the
    /// deliverer. Named here rather than chosen in [`super::run`], so that a binary links only its own.
    pub runs: RunLoop,
    /// Builds the routes from [`Entry::serve`]: one function per kind of serving, named here for the same
    /// reason as `runs`. A `match` over every kind would link the NCIP flows (the per-service routes) into
    /// the binaries that only serve public routes (the hand-off, the status pages).
    pub routes: RoutesOf,
}

/// Builds a function's router from how it is reached (`None` for one that serves events).
pub type RoutesOf = fn(Serve, Arc<Bridge>) -> Option<axum::Router>;

/// The public routes of an HTTP function.
fn public_router(serve: Serve, bridge: Arc<Bridge>) -> Option<axum::Router> {
    match serve {
        Serve::Http(routes) => Some(http::serve(bridge, routes())),
        Serve::Service(_) | Serve::Events(_) => None,
    }
}

/// The front door's invoke of a per-service function, answered by its flow.
fn service_router(serve: Serve, bridge: Arc<Bridge>) -> Option<axum::Router> {
    match serve {
        Serve::Service(flow) => Some(http::serve(bridge, http::service_routes(flow))),
        Serve::Http(_) | Serve::Events(_) => None,
    }
}

/// The deliverer serves events, no routes.
fn no_router(_: Serve, _: Arc<Bridge>) -> Option<axum::Router> {
    None
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("function", &self.function)
            .field("store", &self.store.is_some())
            .field("alma", &self.alma.is_some())
            .field("invoker", &self.invoker.is_some())
            .field("doorbell", &self.doorbell.is_some())
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The function's routes over `bridge`; `None` for a function that serves other events.
    pub fn router(&self, bridge: Arc<Bridge>) -> Option<axum::Router> {
        (self.routes)(self.serve, bridge)
    }
}

fn dynamodb_store(aws: &aws_types::SdkConfig, table: String, config: StoreConfig) -> Arc<dyn Store> {
    Arc::new(DynamoStore::with_config(aws_sdk_dynamodb::Client::new(aws), table, config))
}

fn lambda_invoker(aws: &aws_types::SdkConfig, functions: BTreeMap<Function, String>) -> Arc<dyn Invoker> {
    Arc::new(invoke::LambdaInvoker::new(aws_sdk_lambda::Client::new(aws), functions))
}

fn sqs_doorbell(aws: &aws_types::SdkConfig, queue_url: String) -> Arc<dyn Doorbell> {
    Arc::new(deliver::SqsDoorbell::built_on_first_ring(aws.clone(), queue_url))
}

fn deliver_events(bridge: Arc<Bridge>, event: DeliverEvent) -> Handling {
    Box::pin(async move { deliver::handle(&bridge, event).await })
}

/// The span of one Lambda invocation: every line logged while it is answered carries the invocation's
/// `request_id` (in the JSON lines' `spans`), the id of the runtime's own `REPORT` line, so CloudWatch Logs
/// Insights finds all of one request's lines. The runtime opens a span of its own, but the runtime's targets
/// are held at WARN (their DEBUG output holds raw events), which drops it. At ERROR level so that whatever
/// filter lets a line through keeps its span as well.
pub fn invocation_span(request_id: &str) -> tracing::Span {
    tracing::error_span!("invocation", request_id)
}

/// Answers one HTTP event (from API Gateway, or the front door's invoke) with the function's current routes,
/// within the invocation's span.
pub async fn answer_http(refreshing: &Refreshing, request: lambda_http::Request) -> axum::response::Response {
    use lambda_http::RequestExt;
    use tracing::Instrument;
    let span = invocation_span(request.lambda_context_ref().map_or("", |context| context.request_id.as_str()));
    async move {
        // The refresh is inside the span too: its SSM read belongs to the request that waited for it.
        let router = refreshing.router().await;
        match tower::ServiceExt::oneshot(router, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
    .instrument(span)
    .await
}

/// API Gateway's HTTP events (and the front door's invokes), answered by the function's routes.
fn http_loop(refreshing: Arc<Refreshing>) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>>>> {
    Box::pin(async move {
        let handler = tower::service_fn(move |request: lambda_http::Request| {
            let refreshing = Arc::clone(&refreshing);
            async move { Ok::<_, std::convert::Infallible>(answer_http(&refreshing, request).await) }
        });
        lambda_http::run(handler).await
    })
}

/// Answers one of the deliverer's events (the outbox's queue, its schedule, a preflight) within the
/// invocation's span.
pub async fn answer_event(refreshing: &Refreshing, event: lambda_runtime::LambdaEvent<DeliverEvent>) -> DeliverAnswer {
    use tracing::Instrument;
    let span = invocation_span(&event.context.request_id);
    async move {
        let bridge = refreshing.bridge().await;
        deliver::handle(&bridge, event.payload).await
    }
    .instrument(span)
    .await
}

/// The outbox's queue and schedule events, answered by the deliverer.
fn events_loop(refreshing: Arc<Refreshing>) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>>>> {
    Box::pin(async move {
        let handler = lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<DeliverEvent>| {
            let refreshing = Arc::clone(&refreshing);
            async move { Ok::<_, lambda_runtime::Error>(answer_event(&refreshing, event).await) }
        });
        lambda_runtime::run(handler).await
    })
}

fn reconcile_events(bridge: Arc<Bridge>, _: DeliverEvent) -> Handling {
    Box::pin(async move { DeliverAnswer::Reconciled(Box::new(super::reconcile::handle(&bridge).await)) })
}

/// The reconciler's schedule and invokes: whatever the event, one run, answered with its summary.
fn reconcile_loop(refreshing: Arc<Refreshing>) -> Pin<Box<dyn Future<Output = Result<(), lambda_runtime::Error>>>> {
    Box::pin(async move {
        let handler = lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let refreshing = Arc::clone(&refreshing);
            async move {
                use tracing::Instrument;
                let span = invocation_span(&event.context.request_id);
                let summary =
                    async move { super::reconcile::handle(&*refreshing.bridge().await).await }.instrument(span).await;
                Ok::<_, lambda_runtime::Error>(summary)
            }
        });
        lambda_runtime::run(handler).await
    })
}

impl Entry {
    /// A per-service function: `POST /ncip` answered by `flow`, with the outbox's doorbell when its messages
    /// may wait there.
    pub const fn service(flow: ServiceFlow) -> Entry {
        Entry {
            function: flow.function,
            serve: Serve::Service(flow),
            store: Some(dynamodb_store),
            alma: Some(AlmaClients::over),
            invoker: None,
            doorbell: if flow.queueable { Some(sqs_doorbell) } else { None },
            patron_identity: None,
            reconcile_trigger: None,
            runs: http_loop,
            routes: service_router,
        }
    }
}

/// `GET /openurl`: the hand-off to the Relais request form.
pub const OPENURL_REDIRECT: Entry = Entry {
    function: Function::OpenUrlRedirect,
    serve: Serve::Http(http::openurl_routes),
    // Parks the patron's citation for staff.
    store: Some(dynamodb_store),
    // Reads the signed-in patron's Alma user for the id Relais keys them by: users and partners only.
    alma: Some(AlmaClients::users_only),
    invoker: None,
    doorbell: None,
    patron_identity: Some(Identity::from_settings),
    reconcile_trigger: None,
    runs: http_loop,
    routes: public_router,
};
/// `POST /ncip`: the front door Relais calls, which invokes the per-service functions.
pub const NCIP: Entry = Entry {
    function: Function::NcipFrontDoor,
    serve: Serve::Http(http::front_door_routes),
    store: None,
    alma: None,
    invoker: Some(lambda_invoker),
    doorbell: None,
    patron_identity: None,
    reconcile_trigger: None,
    runs: http_loop,
    routes: public_router,
};
/// The staff pages, the outbox's queue and the health check.
pub const REQUEST_STATUS: Entry = Entry {
    function: Function::RequestStatus,
    serve: Serve::Http(http::status_routes),
    store: Some(dynamodb_store),
    alma: None,
    invoker: None,
    // Staff re-drive a parked message from the status pages.
    doorbell: Some(sqs_doorbell),
    patron_identity: None,
    // Staff run the reconciler from its report page.
    reconcile_trigger: Some(super::reconcile::lambda_trigger),
    runs: http_loop,
    routes: public_router,
};
/// The outbox's deliverer.
pub const DELIVER: Entry = Entry {
    function: Function::Deliver,
    serve: Serve::Events(deliver_events),
    store: Some(dynamodb_store),
    alma: Some(AlmaClients::over),
    invoker: None,
    doorbell: None,
    patron_identity: None,
    reconcile_trigger: None,
    runs: events_loop,
    routes: no_router,
};
/// The nightly reconciliation with Alma.
pub const RECONCILE: Entry = Entry {
    function: Function::Reconcile,
    serve: Serve::Events(reconcile_events),
    store: Some(dynamodb_store),
    alma: Some(AlmaClients::over),
    invoker: None,
    doorbell: None,
    patron_identity: None,
    reconcile_trigger: None,
    runs: reconcile_loop,
    routes: no_router,
};
/// NCIP LookupUser.
pub const PATRON_LOOKUP: Entry = Entry::service(ServiceFlow::LOOKUP_USER);
/// NCIP AcceptItem.
pub const ACCEPT_ITEM: Entry = Entry::service(ServiceFlow::ACCEPT_ITEM);
/// NCIP CheckOutItem.
pub const CHECK_OUT_ITEM: Entry = Entry::service(ServiceFlow::CHECK_OUT_ITEM);
/// NCIP CheckInItem.
pub const CHECK_IN_ITEM: Entry = Entry::service(ServiceFlow::CHECK_IN_ITEM);
/// NCIP RequestItem.
pub const REQUEST_ITEM: Entry = Entry::service(ServiceFlow::REQUEST_ITEM);
/// NCIP CancelRequestItem.
pub const CANCEL_REQUEST_ITEM: Entry = Entry::service(ServiceFlow::CANCEL_REQUEST_ITEM);
/// NCIP RenewItem.
pub const RENEW_ITEM: Entry = Entry::service(ServiceFlow::RENEW_ITEM);
/// NCIP LookupItem.
pub const LOOKUP_ITEM: Entry = Entry::service(ServiceFlow::LOOKUP_ITEM);

/// Every entry, in [`Function::ALL`]'s order: for the tests that compare them with the template and the
/// function crates (a binary names one entry, never this list).
pub const ALL: [Entry; 13] = [
    OPENURL_REDIRECT,
    NCIP,
    PATRON_LOOKUP,
    ACCEPT_ITEM,
    CHECK_OUT_ITEM,
    CHECK_IN_ITEM,
    REQUEST_ITEM,
    CANCEL_REQUEST_ITEM,
    RENEW_ITEM,
    LOOKUP_ITEM,
    REQUEST_STATUS,
    DELIVER,
    RECONCILE,
];

/// The entry of `function`.
pub fn of(function: Function) -> Entry {
    ALL.into_iter().find(|entry| entry.function == function).expect("every function has an entry")
}

/// The name of the constant a function's `main` names (`ACCEPT_ITEM`), for the test that reads the crates.
pub fn constant_name(function: Function) -> String {
    match function {
        Function::NcipFrontDoor => "NCIP".to_owned(),
        other => other.name().to_uppercase().replace('-', "_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entries_follow_the_function_list() {
        let functions: Vec<Function> = ALL.iter().map(|entry| entry.function).collect();
        assert_eq!(functions, Function::ALL);
        for entry in ALL {
            assert_eq!(entry.invoker.is_some(), entry.function == Function::NcipFrontDoor, "{entry:?}");
            assert_eq!(matches!(entry.serve, Serve::Events(_)), !entry.function.is_http(), "{entry:?}");
            let answers_a_service = matches!(entry.serve, Serve::Service(flow) if flow.function == entry.function);
            assert_eq!(answers_a_service, entry.function.service().is_some(), "{entry:?}");
            let hands_off = entry.function == Function::OpenUrlRedirect;
            assert_eq!(entry.patron_identity.is_some(), hands_off, "{entry:?}");
        }
    }

    /// The front door over a configuration that reaches no network: refusals and LookupVersion are answered
    /// without invoking a service function.
    async fn front_door() -> Refreshing {
        let mut env = crate::config::Env::from_pairs([
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "ASIAREQUESTIDTEST000"),
            ("AWS_SECRET_ACCESS_KEY", "request-id-test-secret-access-key"),
            ("NCIP_SHARED_SECRET", "the-front-door-secret-0123456789"),
            // The template's globals give every function the table's name; the front door opens no table.
            ("DYNAMODB_TABLE", "bridge-request-id-test"),
            // The front door on AWS does not start with an open agency policy.
            ("NCIP_ALLOWED_AGENCIES", "Relais"),
            ("ALMA_PARTNER_CODE", "RELAIS"),
        ]);
        for service in Function::services() {
            env.set(service.invoke_variable().expect("a service"), service.name());
        }
        let http = crate::alma::https_client();
        let aws = super::super::aws::sdk_config(&env, http.clone()).expect("a complete Lambda environment");
        Refreshing::start(NCIP, env, aws, http).await.expect("the front door starts")
    }

    /// The HTTP event of Relais's POST to `path`, as the runtime hands it over for invocation `request_id`.
    fn invocation(request_id: &str, path: &str) -> lambda_http::Request {
        use lambda_http::RequestExt;
        let headers = [("content-type", "application/xml")];
        let body = "<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\" version=\"2.02\"><LookupVersion>\
                    <FromAgencyId><AgencyId>Relais</AgencyId></FromAgencyId><ToAgencyId><AgencyId>X</AgencyId>\
                    </ToAgencyId><VersionSupported>2.02</VersionSupported></LookupVersion></NCIPMessage>";
        let event = invoke::http_api_event("POST", path, "", &headers, body.as_bytes());
        let json = serde_json::to_string(&event).expect("the event serialises");
        let mut context = lambda_runtime::Context::default();
        context.request_id = request_id.to_owned();
        lambda_http::request::from_str(&json).expect("an HTTP API event").with_lambda_context(context)
    }

    /// Set on the process [`every_line_logged_while_answering_an_invocation_carries_its_request_id`] starts.
    const REQUEST_ID_CHILD: &str = "BRIDGE_TEST_REQUEST_ID_CHILD";

    /// The check runs in a process of its own (the test binary, started again on the one test below). Tracing
    /// caches whether each log line's callsite is enabled for the whole process, and while a single subscriber
    /// exists it asks only the subscriber of the thread that reaches the callsite first: another test's thread,
    /// with none, reaching the front door's code first would have it cached as never enabled, and this test's
    /// subscriber would see nothing.
    #[test]
    fn every_line_logged_while_answering_an_invocation_carries_its_request_id() {
        let name = "lambda::entry::tests::the_lines_of_each_invocation_carry_its_request_id_alone_in_a_process";
        let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
            .args(["--exact", name, "--ignored", "--nocapture", "--test-threads=1"])
            .env(REQUEST_ID_CHILD, "1")
            .output()
            .expect("the test binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "the check failed: {stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "the check ran: {stdout}\n{stderr}");
    }

    #[tokio::test]
    #[ignore = "run by every_line_logged_while_answering_an_invocation_carries_its_request_id, alone in a process"]
    async fn the_lines_of_each_invocation_carry_its_request_id_alone_in_a_process() {
        assert_eq!(std::env::var(REQUEST_ID_CHILD).as_deref(), Ok("1"), "started by the test that reads its result");
        let (dispatch, _, captured) = crate::logging::capture::capturing(true, "trace");
        let _installed = tracing::dispatcher::set_default(&dispatch);
        let function = front_door().await;
        let invocations = [
            // A refused token (logged at once: the first refusal of a minute) and a LookupVersion answered.
            ("3c5e0d1a-0000-4000-8000-000000000001", "/ncip/not-the-secret"),
            ("3c5e0d1a-0000-4000-8000-000000000002", "/ncip/the-front-door-secret-0123456789"),
        ];
        for (request_id, path) in invocations {
            let before = captured.text().len();
            answer_http(&function, invocation(request_id, path)).await;
            let text = captured.text();
            let lines: Vec<&str> = text[before..].lines().collect();
            assert!(!lines.is_empty(), "the invocation logs something: {path}");
            for line in lines {
                let line: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                assert_eq!(line["span"]["request_id"], request_id, "{line}");
            }
        }
    }
}
