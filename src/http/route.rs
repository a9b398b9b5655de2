//! Which function serves a request path. API Gateway routes by itself on AWS; the local server and each
//! function use this to read the path parameters the same way.

use crate::app::Function;

/// A request path, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    OpenUrl,
    /// `/ncip` or `/ncip/{token}`.
    Ncip {
        token: Option<&'a str>,
    },
    /// `/requests/{relais_request_id}`.
    RequestStatus {
        id: &'a str,
    },
    NotFound,
}

impl<'a> Route<'a> {
    /// Reads a path such as `/ncip/abc` (an API Gateway stage prefix, `/prod/ncip/abc`, is tolerated).
    pub fn of(path: &'a str) -> Route<'a> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [.., "health"] => Route::Health,
            [.., "openurl"] => Route::OpenUrl,
            [.., "ncip"] => Route::Ncip { token: None },
            [.., "ncip", token] => Route::Ncip { token: Some(token) },
            [.., "requests", id] => Route::RequestStatus { id },
            _ => Route::NotFound,
        }
    }

    /// The function that serves this route on the local server.
    pub fn function(&self) -> Option<Function> {
        match self {
            Route::Health => Some(Function::RequestStatus),
            Route::OpenUrl => Some(Function::OpenUrlRedirect),
            Route::Ncip { .. } => Some(Function::NcipFrontDoor),
            Route::RequestStatus { .. } => Some(Function::RequestStatus),
            Route::NotFound => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_public_route() {
        assert_eq!(Route::of("/health"), Route::Health);
        assert_eq!(Route::of("/openurl"), Route::OpenUrl);
        assert_eq!(Route::of("/ncip"), Route::Ncip { token: None });
        assert_eq!(Route::of("/ncip/s3cret"), Route::Ncip { token: Some("s3cret") });
        assert_eq!(Route::of("/prod/ncip/s3cret"), Route::Ncip { token: Some("s3cret") });
        assert_eq!(Route::of("/requests/RL-42"), Route::RequestStatus { id: "RL-42" });
        assert_eq!(Route::of("/admin"), Route::NotFound);
    }
}
