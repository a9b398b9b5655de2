//! The deployable functions: the one list every other list is derived from.
//!
//! Each function is a crate under `functions/<name>`, a Lambda function in `template.yaml` and a set of routes
//! in [`crate::http::router`]. The per-function environment variable the front door reads, the cold-start
//! harness' list, the events/ and template tests all come from [`Function::ALL`], so a new function is added
//! here once.

use crate::ncip::ServiceKind;

/// One deployable function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    /// `GET /openurl`: Primo's link becomes a redirect to the Relais request form.
    OpenUrlRedirect,
    /// `POST /ncip`: the one URL Relais sends NCIP to; checks the token and hands the message on.
    NcipFrontDoor,
    /// NCIP LookupUser, answered from Alma's Users API.
    PatronLookup,
    /// NCIP AcceptItem: the borrowing library received an item.
    AcceptItem,
    /// NCIP CheckOutItem: the lending library shipped an item.
    CheckOutItem,
    /// NCIP CheckInItem: an item went back to its lender, or came home.
    CheckInItem,
    /// NCIP RequestItem.
    RequestItem,
    /// NCIP CancelRequestItem.
    CancelRequestItem,
    /// NCIP RenewItem.
    RenewItem,
    /// NCIP LookupItem, answered from Alma's items API.
    LookupItem,
    /// The staff console: a request's record and history, the outbox's queue, the answered Problems, the
    /// sign-in; and the health check.
    RequestStatus,
    /// The outbox's deliverer: no route and no NCIP service; woken by the outbox queue and a schedule.
    Deliver,
    /// The nightly reconciliation of the records with Alma: no route; woken by its schedule, and by the
    /// status function's asynchronous invoke when staff ask for a run (`POST /reconcile`).
    Reconcile,
}

/// An HTTP method a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

impl Method {
    /// The method as HTTP and the template write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A route as API Gateway declares it: method and path template (`{name}` for a path parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// The method the route answers.
    pub method: Method,
    /// The path template, e.g. `/requests/{id}`.
    pub path: &'static str,
}

const fn route(method: Method, path: &'static str) -> Route {
    Route { method, path }
}

/// The path the front door's synchronous invoke carries to a per-service function (not a public route).
pub const SERVICE_INVOKE_PATH: &str = "/ncip";

impl Function {
    /// Every function, in the order a Relais request meets them (the cold-start table keeps this order).
    pub const ALL: [Function; 13] = [
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
        Function::Deliver,
        Function::Reconcile,
    ];

    /// The crate, binary and `events/<name>.json` name.
    pub fn name(self) -> &'static str {
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
            Function::Deliver => "deliver",
            Function::Reconcile => "reconcile",
        }
    }

    /// The function of a crate or binary name.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The NCIP service a per-service function answers; `None` for the HTTP-facing functions.
    pub fn service(self) -> Option<ServiceKind> {
        use ServiceKind as S;
        Some(match self {
            Function::PatronLookup => S::LookupUser,
            Function::AcceptItem => S::AcceptItem,
            Function::CheckOutItem => S::CheckOutItem,
            Function::CheckInItem => S::CheckInItem,
            Function::RequestItem => S::RequestItem,
            Function::CancelRequestItem => S::CancelRequestItem,
            Function::RenewItem => S::RenewItem,
            Function::LookupItem => S::LookupItem,
            Function::OpenUrlRedirect
            | Function::NcipFrontDoor
            | Function::RequestStatus
            | Function::Deliver
            | Function::Reconcile => {
                return None;
            }
        })
    }

    /// Whether the function answers HTTP (API Gateway's or the front door's invoke); the deliverer answers
    /// queue and schedule events, the reconciler its schedule and invokes.
    pub fn is_http(self) -> bool {
        !matches!(self, Function::Deliver | Function::Reconcile)
    }

    /// The function that answers an NCIP service, if the bridge offers it.
    pub fn for_service(service: &ServiceKind) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.service().as_ref() == Some(service))
    }

    /// The per-service functions, which only the front door reaches.
    pub fn services() -> impl Iterator<Item = Function> {
        Function::ALL.into_iter().filter(|f| f.service().is_some())
    }

    /// The public routes this function serves behind API Gateway (`template.yaml` declares exactly these).
    pub fn public_routes(self) -> &'static [Route] {
        // The sign-in's callback and sign-out answer 404 unless PATRON_IDENTITY=oidc.
        const OPENURL: [Route; 3] = [
            route(Method::Get, "/openurl"),
            route(Method::Get, "/openurl/callback"),
            route(Method::Get, "/openurl/sign-out"),
        ];
        const NCIP: [Route; 2] = [route(Method::Post, "/ncip/{token}"), route(Method::Post, "/ncip")];
        const STATUS: [Route; 14] = [
            route(Method::Get, "/requests/{id}"),
            route(Method::Get, "/requests"),
            route(Method::Get, "/health"),
            route(Method::Get, "/queue"),
            route(Method::Post, "/queue/{id}/redrive"),
            route(Method::Post, "/queue/{id}/discard"),
            route(Method::Get, "/queue/bulk"),
            route(Method::Post, "/queue/bulk"),
            route(Method::Get, "/problems"),
            route(Method::Get, "/signin"),
            route(Method::Post, "/signin"),
            route(Method::Post, "/signout"),
            route(Method::Get, "/reconcile"),
            route(Method::Post, "/reconcile"),
        ];
        match self {
            Function::OpenUrlRedirect => &OPENURL,
            Function::NcipFrontDoor => &NCIP,
            Function::RequestStatus => &STATUS,
            _ => &[],
        }
    }

    /// The environment variable that names this per-service function for the front door's invoke
    /// (`ACCEPT_ITEM_FUNCTION`); `None` for the public functions.
    pub fn invoke_variable(self) -> Option<&'static str> {
        Some(match self {
            Function::PatronLookup => "PATRON_LOOKUP_FUNCTION",
            Function::AcceptItem => "ACCEPT_ITEM_FUNCTION",
            Function::CheckOutItem => "CHECK_OUT_ITEM_FUNCTION",
            Function::CheckInItem => "CHECK_IN_ITEM_FUNCTION",
            Function::RequestItem => "REQUEST_ITEM_FUNCTION",
            Function::CancelRequestItem => "CANCEL_REQUEST_ITEM_FUNCTION",
            Function::RenewItem => "RENEW_ITEM_FUNCTION",
            Function::LookupItem => "LOOKUP_ITEM_FUNCTION",
            Function::OpenUrlRedirect
            | Function::NcipFrontDoor
            | Function::RequestStatus
            | Function::Deliver
            | Function::Reconcile => {
                return None;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_services_and_variables_are_one_to_one() {
        for function in Function::ALL {
            assert_eq!(Function::from_name(function.name()), Some(function));
            assert_eq!(function.service().is_some(), function.invoke_variable().is_some(), "{function:?}");
            // A function is reached one way: public routes, the front door (a service), or events (the deliverer).
            let ways = [!function.public_routes().is_empty(), function.service().is_some(), !function.is_http()];
            assert_eq!(ways.iter().filter(|w| **w).count(), 1, "{function:?}");
            if let Some(service) = function.service() {
                assert_eq!(Function::for_service(&service), Some(function));
                let expected = format!("{}_FUNCTION", function.name().to_uppercase().replace('-', "_"));
                assert_eq!(function.invoke_variable(), Some(expected.as_str()));
            }
        }
    }
}
