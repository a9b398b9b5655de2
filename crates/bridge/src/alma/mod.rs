//! The only code that talks to Alma: a REST client (users, items, requests, loans, partners) and an NCIP
//! client (Alma's broker-mode responder), behind the [`AlmaRest`] and [`AlmaNcip`] traits the flows use.
//!
//! Both share one [`transport::Transport`]: deadlines inside the caller's budget, a process-wide limiter under
//! Alma's per-second threshold, jittered retries only where a retry cannot act twice, and Alma's error bodies
//! parsed into [`AlmaError`]. The API key is sent in a header and never appears in logs or error text.

mod call;
mod error;
mod limiter;
pub mod model;
mod ncip_client;
mod rest;
mod tls;
mod transport;

pub use call::{AlmaCall, CallContext};
pub use error::AlmaError;
pub(crate) use error::{NCIP_HTTP, PARTNER_NOT_FOUND};
pub use limiter::Limiter;
pub use ncip_client::HttpAlmaNcip;
pub use rest::HttpAlmaRest;
pub use tls::https_client;
pub use transport::Transport;

use async_trait::async_trait;
use model::{AlmaItem, AlmaUser, LendingRequest, LendingRequests, Loan, Partner, UserRequest};

/// An area of Alma's REST API as an API key's permissions name it (Developer Network, API key management):
/// the four the bridge's calls fall in. Each has Alma's own test call, which answers only a key granted the
/// area, so a site can prove its key before Relais depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiArea {
    /// Patrons, their requests and loans, and `op=auth`.
    Users,
    /// Items by barcode (Bibliographic Records and Inventory).
    Bibs,
    /// The NCIP partner record.
    ResourceSharingPartners,
    /// The lending task list read after a ship.
    TaskLists,
}

impl ApiArea {
    /// Every area the bridge calls, in the order docs/configure-alma.md lists them.
    pub const USED: [ApiArea; 4] =
        [ApiArea::Users, ApiArea::Bibs, ApiArea::ResourceSharingPartners, ApiArea::TaskLists];

    /// The area's name as Alma's key management shows it.
    pub fn name(self) -> &'static str {
        match self {
            ApiArea::Users => "Users",
            ApiArea::Bibs => "Bibs",
            ApiArea::ResourceSharingPartners => "Resource Sharing Partners",
            ApiArea::TaskLists => "Task Lists",
        }
    }

    /// The path of the area's test call under the API base (Ex Libris' OpenAPI files name `operation/test`
    /// under users and partners, so that it is not read as a user or partner called `test`).
    pub fn test_route(self) -> &'static str {
        match self {
            ApiArea::Users => "/users/operation/test",
            ApiArea::Bibs => "/bibs/test",
            ApiArea::ResourceSharingPartners => "/partners/operation/test",
            ApiArea::TaskLists => "/task-lists/test",
        }
    }
}

/// Alma's REST API, as much of it as the bridge needs.
#[async_trait]
pub trait AlmaRest: Send + Sync {
    /// `GET /users/{id}?user_id_type=..&view=full`.
    async fn user(&self, id: &str, id_type: &str, ctx: &CallContext) -> Result<AlmaUser, AlmaError>;
    /// `POST /users/{id}?op=auth` with `Exl-User-Pw`; `Ok(())` means Alma accepted the password.
    async fn authenticate(&self, id: &str, password: &str, ctx: &CallContext) -> Result<(), AlmaError>;
    /// `GET /items?item_barcode=..`, following Alma's redirect to the item.
    async fn item_by_barcode(&self, barcode: &str, ctx: &CallContext) -> Result<AlmaItem, AlmaError>;
    /// `GET /users/{id}/requests`.
    async fn user_requests(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError>;
    /// `GET /users/{id}/loans`.
    async fn user_loans(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError>;
    /// `GET /bibs/{mms}/holdings/{holding}/items/{pid}/requests`: the item's requests, found through the item
    /// alone, so the bridge never needs (or keeps) the patron's id to read them.
    async fn item_requests(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError>;
    /// `GET /bibs/{mms}/holdings/{holding}/items/{pid}`: the item by the ids a record keeps, one call where the
    /// barcode's redirect costs two.
    async fn item(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<AlmaItem, AlmaError>;
    /// `GET /bibs/{mms}/holdings/{holding}/items/{pid}/loans`: the item's active loan, to a patron or a partner.
    async fn item_loans(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError>;
    /// `GET /partners/{code}/lending-requests/{id}`: one lending request by Alma's id, with its status.
    async fn lending_request(&self, partner: &str, id: &str, ctx: &CallContext) -> Result<LendingRequest, AlmaError>;
    /// `GET /partners/{code}`: the NCIP partner, for the User Identifier Type its messages are matched by.
    async fn partner(&self, code: &str, ctx: &CallContext) -> Result<Partner, AlmaError>;
    /// The lending requests of `library` for `partner` in `status` (the lending task list).
    async fn lending_requests(
        &self,
        library: &str,
        partner: &str,
        status: &str,
        ctx: &CallContext,
    ) -> Result<LendingRequests, AlmaError>;
    /// `GET /users?q=<query>&limit=&offset=`: one page of Alma's user search (brief records). Only the sign-in
    /// at the hand-off searches; a client without it answers "not configured".
    async fn search_users(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
        ctx: &CallContext,
    ) -> Result<model::UserSearch, AlmaError> {
        let _ = (query, limit, offset, ctx);
        Err(AlmaError::NotConfigured)
    }
    /// `GET` the area's test call ([`ApiArea::test_route`]): `Ok` with Alma's words (`GET - OK -
    /// institutionCode: …`) when the key may read the area, Alma's refusal (`UNAUTHORIZED`) when it may not.
    async fn test_api_key(&self, area: ApiArea, ctx: &CallContext) -> Result<String, AlmaError>;
}

/// The three ids that name an item in Alma's item paths (`/bibs/{mms}/holdings/{holding}/items/{pid}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemPath<'a> {
    /// The bibliographic record's MMS id.
    pub mms_id: &'a str,
    /// The holding under it.
    pub holding_id: &'a str,
    /// The item's pid.
    pub item_pid: &'a str,
}

/// Alma's NCIP responder (`/view/NCIPServlet`).
#[async_trait]
pub trait AlmaNcip: Send + Sync {
    /// Sends one NCIP request (UTF-8 XML bytes) and returns Alma's parsed answer (which may carry Problems).
    async fn send(&self, body: Vec<u8>, ctx: &CallContext) -> Result<crate::ncip::Message, AlmaError>;

    /// The responder's URL, which names the outbox's go-live marker (`flows::reached`); `None` for a
    /// responder that is not reached over HTTP (a test's scripted Alma), which never counts as reached.
    fn endpoint(&self) -> Option<&str> {
        None
    }
}

/// The Alma of a function that was deliberately given no Alma settings: every call fails as "not configured".
/// Functions that need Alma refuse to start without it (`lambda::check_requirements`), so this only answers
/// for code paths that should never reach Alma.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotConfigured;

#[async_trait]
impl AlmaRest for NotConfigured {
    async fn user(&self, _: &str, _: &str, _: &CallContext) -> Result<AlmaUser, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn authenticate(&self, _: &str, _: &str, _: &CallContext) -> Result<(), AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn item_by_barcode(&self, _: &str, _: &CallContext) -> Result<AlmaItem, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn user_requests(&self, _: &str, _: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn user_loans(&self, _: &str, _: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn item_requests(&self, _: &ItemPath<'_>, _: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn item(&self, _: &ItemPath<'_>, _: &CallContext) -> Result<AlmaItem, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn item_loans(&self, _: &ItemPath<'_>, _: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn lending_request(&self, _: &str, _: &str, _: &CallContext) -> Result<LendingRequest, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn partner(&self, _: &str, _: &CallContext) -> Result<Partner, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn lending_requests(&self, _: &str, _: &str, _: &str, _: &CallContext) -> Result<LendingRequests, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
    async fn test_api_key(&self, _: ApiArea, _: &CallContext) -> Result<String, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
}

#[async_trait]
impl AlmaNcip for NotConfigured {
    async fn send(&self, _: Vec<u8>, _: &CallContext) -> Result<crate::ncip::Message, AlmaError> {
        Err(AlmaError::NotConfigured)
    }
}
