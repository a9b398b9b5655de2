//! Assembling the bridge for production: the HTTP clients for Alma (one pacer for both APIs) that a host puts
//! into [`Parts`] before [`Bridge::new`](crate::Bridge::new). Both hosts ([`crate::lambda`] and the local
//! server) and the tests of the whole path assemble it here.

use crate::alma::model::{AlmaItem, AlmaUser, LendingRequest, LendingRequests, Loan, Partner, UserRequest, UserSearch};
use crate::alma::{
    AlmaError, AlmaRest, ApiArea, CallContext, HttpAlmaNcip, HttpAlmaRest, ItemPath, Limiter, NotConfigured, Transport,
};
use crate::config::{AlmaRemote, ConfigError, Settings, StoreTarget};
use crate::flows::Bridge;
use crate::flows::parts::read_options;
use async_trait::async_trait;
use std::sync::Arc;

pub use crate::flows::parts::{AlmaClients, Parts};

impl AlmaClients {
    /// The production clients over `http` (a Lambda function shares one client with its AWS SDK clients), with
    /// one pacer for both APIs.
    pub fn over(settings: &Settings, alma: &AlmaRemote, http: reqwest::Client) -> Result<Self, ConfigError> {
        let limiter = Arc::new(Limiter::per_second(settings.alma_calls_per_second));
        let transport = Transport::over(http, limiter, Some(alma.api_key.clone()));
        let rest = HttpAlmaRest::new(transport.clone(), &alma.api_base)
            .map_err(|e| ConfigError::new("ALMA_API_BASE", format!("not a URL ({e})")))?;
        let ncip = HttpAlmaNcip::new(transport.without_key(), &alma.ncip_url, read_options(settings))
            .map_err(|e| ConfigError::new("ALMA_NCIP_URL", format!("not a URL ({e})")))?;
        Ok(Self { institution_code: alma.institution_code.clone(), rest: Arc::new(rest), ncip: Arc::new(ncip) })
    }
}

impl AlmaClients {
    /// The OpenURL hand-off's clients: the REST API's user and partner reads only, paced like every other
    /// function's, and no NCIP responder. The hand-off looks up the signed-in patron's Relais id and nothing
    /// else, and through this narrow client its binary links none of the other REST calls' code (it has the
    /// least room under the 6 MB a function may weigh).
    pub fn users_only(settings: &Settings, alma: &AlmaRemote, http: reqwest::Client) -> Result<Self, ConfigError> {
        let limiter = Arc::new(Limiter::per_second(settings.alma_calls_per_second));
        let transport = Transport::over(http, limiter, Some(alma.api_key.clone()));
        let rest = HttpAlmaRest::new(transport, &alma.api_base)
            .map_err(|e| ConfigError::new("ALMA_API_BASE", format!("not a URL ({e})")))?;
        Ok(Self {
            institution_code: alma.institution_code.clone(),
            rest: Arc::new(UsersOnly(rest)),
            ncip: Arc::new(NotConfigured),
        })
    }
}

/// Alma's REST API limited to reading and searching users and reading partners: every other call is refused
/// as not configured, as in a function given no Alma at all. A user is read for its ids and standing only
/// (what the hand-off sends as `PI`, and what the sign-in checks).
struct UsersOnly(HttpAlmaRest);

#[async_trait]
impl AlmaRest for UsersOnly {
    async fn user(&self, id: &str, id_type: &str, ctx: &CallContext) -> Result<AlmaUser, AlmaError> {
        self.0.user_ids(id, id_type, ctx).await
    }
    async fn partner(&self, code: &str, ctx: &CallContext) -> Result<Partner, AlmaError> {
        self.0.partner(code, ctx).await
    }
    async fn search_users(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
        ctx: &CallContext,
    ) -> Result<UserSearch, AlmaError> {
        self.0.search(query, limit, offset, ctx).await
    }
    async fn authenticate(&self, id: &str, password: &str, ctx: &CallContext) -> Result<(), AlmaError> {
        NotConfigured.authenticate(id, password, ctx).await
    }
    async fn item_by_barcode(&self, barcode: &str, ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        NotConfigured.item_by_barcode(barcode, ctx).await
    }
    async fn user_requests(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        NotConfigured.user_requests(user_id, ctx).await
    }
    async fn item_requests(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        NotConfigured.item_requests(item, ctx).await
    }
    async fn user_loans(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        NotConfigured.user_loans(user_id, ctx).await
    }
    async fn item(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        NotConfigured.item(item, ctx).await
    }
    async fn item_loans(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        NotConfigured.item_loans(item, ctx).await
    }
    async fn lending_request(&self, partner: &str, id: &str, ctx: &CallContext) -> Result<LendingRequest, AlmaError> {
        NotConfigured.lending_request(partner, id, ctx).await
    }
    async fn lending_requests(
        &self,
        library: &str,
        partner: &str,
        status: &str,
        ctx: &CallContext,
    ) -> Result<LendingRequests, AlmaError> {
        NotConfigured.lending_requests(library, partner, status, ctx).await
    }
    async fn test_api_key(&self, area: ApiArea, ctx: &CallContext) -> Result<String, AlmaError> {
        NotConfigured.test_api_key(area, ctx).await
    }
}

impl Bridge {
    /// The store target, for logs at start-up (never the table's contents).
    pub fn describe_store(settings: &Settings) -> String {
        match &settings.store {
            StoreTarget::Embedded { data_dir } => format!("embedded store in {}", data_dir.display()),
            StoreTarget::DynamoDb { table } => format!("DynamoDB table {table}"),
        }
    }
}
