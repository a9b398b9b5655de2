//! Alma's API-key test calls, one per area of the API: `GET` and `POST` on `/users/operation/test`,
//! `/bibs/test`, `/partners/operation/test` and `/task-lists/test` (the paths of Ex Libris' OpenAPI files for
//! the Users, Bibs and Partners APIs and of the Tasks API reference). GET proves the key may read the area,
//! POST that it may write there; the gate's key check answers a key without the area (or a POST with read-only
//! access) exactly as for any other call of the area, so a handler here is reached only by a key that has it.
//!
//! The answer is documented as "a short XML (no schema available - the output is subject to changes)":
//! `<test>GET - OK - institutionCode: 01ABC_INST</test>`. UNCONFIRMED whether Alma answers JSON when asked
//! for it; the simulator answers the documented XML whatever the `Accept` header says (the stricter reading:
//! a client must not depend on the answer's shape, only on its status).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::App;

pub(crate) async fn get(State(app): State<App>) -> Response {
    answer(&app, "GET")
}

pub(crate) async fn post(State(app): State<App>) -> Response {
    answer(&app, "POST")
}

fn answer(app: &App, method: &str) -> Response {
    let institution = app.store.with(|s| s.institution_code.clone());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<test>{method} - OK - institutionCode: {institution}</test>"
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml;charset=UTF-8")], body).into_response()
}
