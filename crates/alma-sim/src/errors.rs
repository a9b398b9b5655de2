//! Alma's REST error bodies: `{"errorsExist":true,"errorList":{"error":[{errorCode,errorMessage,trackingId}]},"result":null}`.
//!
//! Shapes and texts verified against captured Alma responses kept as fixtures in public client libraries
//! (scriptotek/php-alma-client `spec/data/*.json`) and the error-code tables of Alma's published OpenAPI
//! (quoted in generated clients). Where no capture was found the text is our best guess and says so.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::json;

/// One Alma REST error, rendered as Alma's JSON error body.
#[derive(Debug, Clone)]
pub(crate) struct AlmaError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// Alma's gateway-level errors (key, threshold) carry no trackingId; application errors do.
    pub tracked: bool,
}

impl AlmaError {
    fn app(code: &str, message: String) -> Self {
        // Alma answers logical errors with HTTP 400, never 404 (captures above; Ex Libris API error documentation).
        AlmaError { status: StatusCode::BAD_REQUEST, code: code.into(), message, tracked: true }
    }

    /// Verified: "User with identifier 1234 was not found." (fixture in a Ruby Alma client's test suite).
    pub(crate) fn user_not_found(id: &str) -> Self {
        Self::app("401861", format!("User with identifier {id} was not found."))
    }

    /// Code from Ex Libris' Users API documentation (swagger); message text not found in any capture (our wording).
    pub(crate) fn user_not_found_of_type(id: &str, id_type: &str) -> Self {
        Self::app("401890", format!("User with identifier {id} of type {id_type} was not found."))
    }

    /// Code from Ex Libris' Users API documentation (swagger); status 400 and the text are unverified (Alma reports logical failures as 400).
    pub(crate) fn authentication_failed() -> Self {
        Self::app("401866", "Failed to authenticate user.".into())
    }

    /// Verified: scriptotek/php-alma-client `spec/data/item_barcode_error_response.json`.
    pub(crate) fn no_items_for_barcode(barcode: &str) -> Self {
        Self::app("401689", format!("No items found for barcode {barcode}."))
    }

    /// Unverified code and text: Alma's answer for an item path whose ids do not match.
    pub(crate) fn item_not_found(pid: &str) -> Self {
        Self::app("401690", format!("No Item found for item id {pid}."))
    }

    /// Verified shape: `{"errorCode":"401664","errorMessage":"Mandatory field is missing: library"}`.
    pub(crate) fn mandatory_missing(field: &str) -> Self {
        Self::app("401664", format!("Mandatory field is missing: {field}"))
    }

    /// Verified in the OpenAPI error table of the resource-sharing endpoints: 401666 'X parameter is not valid.'
    pub(crate) fn parameter_not_valid(param: &str) -> Self {
        Self::app("401666", format!("{param} parameter is not valid."))
    }

    /// Verified in the OpenAPI error table of the resource-sharing endpoints: 402119 'General error.'
    /// Used for unknown request ids, where no specific code was found.
    pub(crate) fn general() -> Self {
        Self::app("402119", "General error.".into())
    }

    /// Code from the users swagger's error table for resource-sharing requests, where it is the general
    /// error (alma.md §2.2, §3.2); the text is unverified.
    pub(crate) fn general_error() -> Self {
        Self::app("401652", "General Error - An error has occurred while processing the request.".into())
    }

    /// Unverified code: a loan id that is not the user's.
    pub(crate) fn loan_not_found(loan_id: &str) -> Self {
        Self::app("401822", format!("Loan with id {loan_id} was not found."))
    }

    /// Unverified code: an unknown partner code.
    pub(crate) fn partner_not_found(code: &str) -> Self {
        Self::app("402880", format!("Partner with code {code} was not found."))
    }

    /// Verified text and code (UNAUTHORIZED, HTTP 400) from several clients' recorded Alma answers for a
    /// missing key or a key without the API's permission.
    pub(crate) fn unauthorized() -> Self {
        AlmaError {
            status: StatusCode::BAD_REQUEST,
            code: "UNAUTHORIZED".into(),
            message: "API-key not defined or not configured to allow this API.".into(),
            tracked: false,
        }
    }

    /// Verified: scriptotek/php-alma-client `spec/data/per_second_threshold_error_response.json`
    /// (the trailing space is Alma's own).
    pub(crate) fn per_second_threshold() -> Self {
        AlmaError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "PER_SECOND_THRESHOLD".into(),
            message: "HTTP requests are more than allowed per second. See https://goo.gl/2x1c1M ".into(),
            tracked: false,
        }
    }

    /// Unverified text: the daily cap (1,000 calls x named users, Ex Libris knowledge article
    /// "API call limitation Sandbox") says "an error is returned"; code modelled on PER_SECOND_THRESHOLD.
    /// The used-up cap and the `daily_threshold` fault both answer this.
    pub(crate) fn daily_threshold() -> Self {
        AlmaError {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "DAILY_THRESHOLD".into(),
            message: "Daily API Request Threshold has been reached. For details see: \
                      https://developers.exlibrisgroup.com/alma/apis/#threshold"
                .into(),
            tracked: false,
        }
    }

    /// Alma's 500 body as recalled from production logs (unverified): errorCode INTERNAL_SERVER_ERROR.
    pub(crate) fn internal() -> Self {
        AlmaError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL_SERVER_ERROR".into(),
            message: "The web server encountered an unexpected condition that prevented it from fulfilling \
                      the request."
                .into(),
            tracked: true,
        }
    }

    /// Not Alma: the simulator serves JSON only, so a client that forgot `Accept: application/json` hears it.
    pub(crate) fn json_only() -> Self {
        AlmaError {
            status: StatusCode::NOT_ACCEPTABLE,
            code: "SIM_JSON_ONLY".into(),
            message: "alma-sim answers JSON only: send Accept: application/json or format=json.".into(),
            tracked: false,
        }
    }

    /// Unverified: an unknown path under /almaws/v1.
    pub(crate) fn unknown_path(path: &str) -> Self {
        AlmaError {
            status: StatusCode::NOT_FOUND,
            code: "NOT_FOUND".into(),
            message: format!("No API matches {path}."),
            tracked: false,
        }
    }

    pub(crate) fn body(&self) -> serde_json::Value {
        let mut error = json!({ "errorCode": self.code, "errorMessage": self.message });
        if self.tracked {
            error["trackingId"] = json!(tracking_id());
        }
        json!({ "errorsExist": true, "errorList": { "error": [error] }, "result": null })
    }
}

impl IntoResponse for AlmaError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// Alma's tracking ids look like `E01-2807130310-LFIHK-AWAE210516550` (captures above); only the shape matters.
fn tracking_id() -> String {
    let mut rng = rand::rng();
    let letters: String = (0..5).map(|_| rng.random_range(b'A'..=b'Z') as char).collect();
    let now = jiff::Timestamp::now();
    format!("E01-{}-{letters}-AWAE{}", now.strftime("%d%m%H%M%S"), rng.random_range(100_000_000u64..1_000_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_alma_shape_with_string_code() {
        let body = AlmaError::user_not_found("x1").body();
        assert_eq!(body["errorsExist"], true);
        assert!(body["result"].is_null());
        let e = &body["errorList"]["error"][0];
        assert_eq!(e["errorCode"], "401861");
        assert_eq!(e["errorMessage"], "User with identifier x1 was not found.");
        assert!(e["trackingId"].as_str().unwrap().starts_with("E01-"));
    }

    #[test]
    fn gateway_errors_have_no_tracking_id() {
        let body = AlmaError::per_second_threshold().body();
        assert!(body["errorList"]["error"][0].get("trackingId").is_none());
    }
}
