//! Assembling the bridge for production: the HTTP clients for Alma (one pacer for both APIs) that a host puts
//! into [`Parts`] before [`Bridge::new`](crate::Bridge::new). Both hosts ([`crate::lambda`] and the local
//! server) and the tests of the whole path assemble it here.

use crate::alma::{HttpAlmaNcip, HttpAlmaRest, Limiter, Transport};
use crate::config::{AlmaRemote, ConfigError, Settings, StoreTarget};
use crate::flows::Bridge;
use crate::flows::parts::read_options;
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

impl Bridge {
    /// The store target, for logs at start-up (never the table's contents).
    pub fn describe_store(settings: &Settings) -> String {
        match &settings.store {
            StoreTarget::Embedded { data_dir } => format!("embedded store in {}", data_dir.display()),
            StoreTarget::DynamoDb { table } => format!("DynamoDB table {table}"),
        }
    }
}
