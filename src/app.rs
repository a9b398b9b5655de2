//! The assembled bridge: settings plus the adapters the flows run against, and the one entry point
//! ([`App::handle`]) that every Lambda function and the local server call with a `lambda_http::Request`.

use crate::alma::{AlmaNcip, AlmaRest, HttpAlmaNcip, HttpAlmaRest, Limiter, Transport};
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, Settings, StoreTarget};
use crate::flows;
use crate::http::{respond, route::Route};
use crate::ncip::ReadOptions;
use crate::store::Store;
use lambda_http::{Body, Request, Response};
use std::sync::Arc;

/// The deployable functions: one crate each under `functions/`, one handler each here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    OpenUrlRedirect,
    NcipFrontDoor,
    PatronLookup,
    AcceptItem,
    CheckOutItem,
    CheckInItem,
    RequestItem,
    CancelRequestItem,
    RenewItem,
    LookupItem,
    RequestStatus,
}

impl Function {
    pub const ALL: [Function; 11] = [
        Function::OpenUrlRedirect,
        Function::NcipFrontDoor,
        Function::PatronLookup,
        Function::AcceptItem,
        Function::CheckOutItem,
        Function::CheckInItem,
        Function::RequestItem,
        Function::CancelRequestItem,
        Function::RenewItem,
        Function::LookupItem,
        Function::RequestStatus,
    ];

    /// The crate (and binary) name under `functions/`.
    pub fn crate_name(self) -> &'static str {
        match self {
            Function::OpenUrlRedirect => "openurl-redirect",
            Function::NcipFrontDoor => "ncip",
            Function::PatronLookup => "patron-lookup",
            Function::AcceptItem => "accept-item",
            Function::CheckOutItem => "check-out-item",
            Function::CheckInItem => "check-in-item",
            Function::RequestItem => "request-item",
            Function::CancelRequestItem => "cancel-request-item",
            Function::RenewItem => "renew-item",
            Function::LookupItem => "lookup-item",
            Function::RequestStatus => "request-status",
        }
    }

    pub fn from_crate_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.crate_name() == name)
    }

    /// The NCIP service a per-service function answers; `None` for the HTTP-only functions.
    pub fn service(self) -> Option<crate::ncip::ServiceKind> {
        use crate::ncip::ServiceKind as S;
        Some(match self {
            Function::PatronLookup => S::LookupUser,
            Function::AcceptItem => S::AcceptItem,
            Function::CheckOutItem => S::CheckOutItem,
            Function::CheckInItem => S::CheckInItem,
            Function::RequestItem => S::RequestItem,
            Function::CancelRequestItem => S::CancelRequestItem,
            Function::RenewItem => S::RenewItem,
            Function::LookupItem => S::LookupItem,
            Function::OpenUrlRedirect | Function::NcipFrontDoor | Function::RequestStatus => return None,
        })
    }

    /// The function that answers an NCIP service, if the bridge offers it.
    pub fn for_service(service: &crate::ncip::ServiceKind) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.service().as_ref() == Some(service))
    }
}

/// Where Alma is, once known: the configured institution, or the simulator the local server started (same
/// fields, so it is the configuration's type).
pub type AlmaEndpoints = crate::config::AlmaRemote;

/// How the NCIP front door reaches the per-service functions.
pub enum Dispatch {
    /// Call the service handler in this process (the local server; a single-function deployment).
    InProcess,
    /// Invoke the service's own Lambda function synchronously.
    Lambda(crate::lambda::invoke::LambdaInvoker),
}

/// Everything a flow may use.
pub struct App {
    pub settings: Settings,
    pub institution_code: String,
    pub rest: Arc<dyn AlmaRest>,
    pub ncip: Arc<dyn AlmaNcip>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub read_options: ReadOptions,
    pub dispatch: Dispatch,
    pub relais_form: Option<crate::openurl::RelaisForm>,
    pub identity: Option<flows::openurl::Identity>,
}

impl App {
    /// Builds the production adapters (HTTP clients for Alma) around a store the host opened.
    pub fn connect(settings: Settings, alma: &AlmaEndpoints, store: Arc<dyn Store>) -> Result<App, ConfigError> {
        let limiter = Arc::new(Limiter::per_second(settings.alma_calls_per_second));
        let transport = Transport::new(limiter, Some(alma.api_key.clone()));
        let read_options = read_options(&settings);
        let rest = HttpAlmaRest::new(transport.clone(), &alma.api_base)
            .map_err(|e| ConfigError::new("ALMA_API_BASE", format!("not a URL ({e})")))?;
        let ncip = HttpAlmaNcip::new(transport.without_key(), &alma.ncip_url, read_options.clone())
            .map_err(|e| ConfigError::new("ALMA_NCIP_URL", format!("not a URL ({e})")))?;
        App::assemble(
            settings,
            alma.institution_code.clone(),
            Arc::new(rest),
            Arc::new(ncip),
            store,
            Arc::new(SystemClock),
        )
    }

    /// Builds an app from ready adapters (tests swap in a manual clock or a failing store here).
    pub fn assemble(
        settings: Settings,
        institution_code: String,
        rest: Arc<dyn AlmaRest>,
        ncip: Arc<dyn AlmaNcip>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<App, ConfigError> {
        let relais_form = flows::openurl::relais_form(&settings)?;
        let identity = flows::openurl::Identity::from_settings(&settings)?;
        Ok(App {
            read_options: read_options(&settings),
            settings,
            institution_code,
            rest,
            ncip,
            store,
            clock,
            dispatch: Dispatch::InProcess,
            relais_form,
            identity,
        })
    }

    /// Answers one HTTP request as `function` would. Never panics on input and never answers 500 for a
    /// caller's mistake: NCIP errors become NCIP Problems, OpenURL errors readable 400 pages.
    pub async fn handle(&self, function: Function, request: Request) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let route = Route::of(&path);
        if route == Route::Health {
            return respond::json(200, &serde_json::json!({"status": "ok", "function": function.crate_name()}));
        }
        match function {
            Function::OpenUrlRedirect => flows::openurl::handle(self, &request).await,
            Function::NcipFrontDoor => {
                let token = match route {
                    Route::Ncip { token } => token,
                    _ => None,
                };
                flows::front_door::handle(self, &request, token).await
            }
            Function::RequestStatus => match route {
                Route::RequestStatus { id } => flows::status::handle(self, &request, id).await,
                _ => respond::text(404, "Not found: use /requests/{relais_request_id}"),
            },
            service => {
                let body = request.body().as_ref();
                respond::xml(flows::dispatch_service(self, service, body).await)
            }
        }
    }

    /// Stores the store target kind for logs at start-up (never the table's contents).
    pub fn describe_store(settings: &Settings) -> String {
        match &settings.store {
            StoreTarget::Embedded { data_dir } => format!("embedded store in {}", data_dir.display()),
            StoreTarget::DynamoDb { table } => format!("DynamoDB table {table}"),
        }
    }
}

fn read_options(settings: &Settings) -> ReadOptions {
    ReadOptions { time_zone: settings.ncip.time_zone.clone(), ..ReadOptions::default() }
}
