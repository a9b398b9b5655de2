//! Alma's REST API, the parts the bridge uses. Every path is under `/almaws/v1`; handlers answer JSON in
//! Alma's shapes (see `crate::render`) and Alma's error bodies (see `crate::errors`).

pub(crate) mod borrowing;
pub(crate) mod circulation;
pub(crate) mod items;
pub(crate) mod key_test;
pub(crate) mod partners;
pub(crate) mod task_lists;
pub(crate) mod users;

use std::collections::HashMap;

use serde_json::Value;

use crate::errors::AlmaError;
use crate::state::model::Code;

/// Query parameters as Alma reads them (unknown ones are ignored, as Alma does).
pub(crate) type Params = axum::extract::Query<HashMap<String, String>>;

/// A code field in a request body: Alma accepts `{"value": "X"}`; a bare `"X"` is accepted too.
pub(crate) fn code_in(body: &Value, field: &str) -> Option<String> {
    let v = body.get(field)?;
    let s = v.get("value").unwrap_or(v).as_str()?;
    (!s.trim().is_empty()).then(|| s.to_owned())
}

pub(crate) fn str_in(body: &Value, field: &str) -> Option<String> {
    body.get(field).and_then(Value::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned)
}

/// `{value, desc}` from a body field, keeping a desc the client sent.
pub(crate) fn code_pair(body: &Value, field: &str) -> Option<Code> {
    let value = code_in(body, field)?;
    let desc = body.get(field).and_then(|v| v.get("desc")).and_then(Value::as_str).unwrap_or(&value).to_owned();
    Some(Code::new(value, desc))
}

/// A JSON request body; Alma answers malformed input with a general error.
pub(crate) fn json_body(bytes: &[u8]) -> Result<Value, AlmaError> {
    serde_json::from_slice::<Value>(bytes).ok().filter(Value::is_object).ok_or_else(AlmaError::general)
}
