//! Routing: Alma's REST paths under `/almaws/v1`, the NCIP responder, and the admin paths for tests.

pub(crate) mod admin;
pub(crate) mod gate;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get, post};

use crate::calls::CallLog;
use crate::errors::AlmaError;
use crate::faults::FaultSwitch;
use crate::keys::KeyRing;
use crate::limiter::Limiter;
use crate::seed::Seed;
use crate::state::Store;
use crate::{ncip, rest};

/// Where Alma's REST API lives on its host.
pub(crate) const REST_ROOT: &str = "/almaws/v1";

/// Everything a handler may touch.
#[derive(Clone)]
pub(crate) struct App {
    pub store: Arc<Store>,
    pub faults: FaultSwitch,
    pub limiter: Arc<Limiter>,
    pub calls: Arc<CallLog>,
    /// The seed's `api_key`, for [`crate::AlmaSim::api_key`].
    pub api_key: Arc<str>,
    /// Every accepted key and the areas it opens.
    pub keys: Arc<KeyRing>,
    /// `http://host:port/almaws/v1`, for the `link` fields Alma puts in its answers.
    pub base_url: Arc<str>,
}

impl App {
    pub(crate) fn new(seed: Seed, base_url: String) -> App {
        App {
            limiter: Arc::new(Limiter::new(seed.per_second_threshold, seed.daily_api_limit)),
            api_key: Arc::from(seed.api_key.as_str()),
            keys: Arc::new(KeyRing::new(&seed.api_key, &seed.api_keys)),
            store: Arc::new(Store::new(seed)),
            faults: FaultSwitch::default(),
            calls: Arc::new(CallLog::default()),
            base_url: Arc::from(base_url),
        }
    }
}

pub(crate) fn router(app: App) -> Router {
    let rest = Router::new()
        .route("/users", get(rest::users::search))
        .route("/users/{user_id}", get(rest::users::get_user).post(rest::users::post_user))
        .route("/users/{user_id}/resource-sharing-requests", post(rest::borrowing::create))
        .route(
            "/users/{user_id}/resource-sharing-requests/{request_id}",
            get(rest::borrowing::get_one).delete(rest::borrowing::cancel),
        )
        .route("/users/{user_id}/requests", get(rest::circulation::user_requests))
        .route("/users/{user_id}/loans", get(rest::circulation::user_loans))
        .route("/users/{user_id}/loans/{loan_id}", get(rest::circulation::get_loan).post(rest::circulation::renew_loan))
        .route("/items", get(rest::items::by_barcode))
        .route(
            "/bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}",
            get(rest::items::get_item).post(rest::items::scan_in),
        )
        .route("/bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}/requests", get(rest::items::item_requests))
        .route("/bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}/loans", get(rest::items::item_loans))
        .route("/partners", get(rest::partners::list))
        .route("/partners/{code}", get(rest::partners::get_one))
        .route("/partners/{code}/lending-requests", post(rest::partners::create_lending))
        .route("/partners/{code}/lending-requests/{request_id}", get(rest::partners::get_lending))
        .route("/task-lists/rs/lending-requests", get(rest::task_lists::lending_requests))
        // Each area's API-key test call (static paths win over `/users/{user_id}` and `/partners/{code}`).
        .route("/users/operation/test", get(rest::key_test::get).post(rest::key_test::post))
        .route("/bibs/test", get(rest::key_test::get).post(rest::key_test::post))
        .route("/partners/operation/test", get(rest::key_test::get).post(rest::key_test::post))
        .route("/task-lists/test", get(rest::key_test::get).post(rest::key_test::post))
        .fallback(|uri: axum::http::Uri| async move { AlmaError::unknown_path(uri.path()) })
        .layer(from_fn_with_state(app.clone(), gate::rest_gate));
    // Any other path under /view/ (a mistyped servlet, the NCIP 1 servlet we do not serve) is a 404 with
    // an HTML page; it goes through the NCIP gate so it is logged as the bridge's NCIP call.
    let ncip = Router::new()
        .route("/view/NCIPServlet", post(ncip::respond))
        .route("/view/{*elsewhere}", any(|| async { gate::html_not_found() }))
        .layer(from_fn_with_state(app.clone(), gate::ncip_gate));
    Router::new().nest(REST_ROOT, rest).merge(ncip).merge(admin::router()).with_state(app)
}
