//! Assembling the bridge: the production adapters (HTTP clients for Alma, with one pacer) around a store the
//! host opened, into the [`Bridge`] every flow runs against. Both hosts ([`crate::lambda`] and the local
//! server) and the tests assemble it here.

use crate::alma::{AlmaNcip, AlmaRest, HttpAlmaNcip, HttpAlmaRest, Limiter, Transport};
use crate::clock::{Clock, SystemClock};
use crate::config::{AlmaRemote, ConfigError, Settings, StoreTarget};
use crate::flows::{self, Bridge};
use crate::ncip::ReadOptions;
use crate::store::Store;
use std::sync::Arc;

impl Bridge {
    /// Builds the production adapters (HTTP clients for Alma) around a store the host opened, for a process
    /// that answers every NCIP service itself (the local server, tests of the whole path).
    pub fn connect(settings: Settings, alma: &AlmaRemote, store: Arc<dyn Store>) -> Result<Bridge, ConfigError> {
        let mut bridge = Self::connect_over(settings, alma, store, crate::alma::https_client())?;
        bridge.identity = flows::openurl::Identity::from_settings(&bridge.settings)?;
        bridge.invoker = Some(Arc::new(flows::front_door::InProcess));
        Ok(bridge)
    }

    /// Builds the Alma clients over `http` (a Lambda function shares one client with its AWS SDK clients),
    /// without the patron identity of the OpenURL hand-off (see [`Bridge::assemble_core`]).
    pub fn connect_over(
        settings: Settings,
        alma: &AlmaRemote,
        store: Arc<dyn Store>,
        http: reqwest::Client,
    ) -> Result<Bridge, ConfigError> {
        let limiter = Arc::new(Limiter::per_second(settings.alma_calls_per_second));
        let transport = Transport::over(http, limiter, Some(alma.api_key.clone()));
        let read_options = read_options(&settings);
        let rest = HttpAlmaRest::new(transport.clone(), &alma.api_base)
            .map_err(|e| ConfigError::new("ALMA_API_BASE", format!("not a URL ({e})")))?;
        let ncip = HttpAlmaNcip::new(transport.without_key(), &alma.ncip_url, read_options)
            .map_err(|e| ConfigError::new("ALMA_NCIP_URL", format!("not a URL ({e})")))?;
        Bridge::assemble_core(
            settings,
            alma.institution_code.clone(),
            Arc::new(rest),
            Arc::new(ncip),
            store,
            Arc::new(SystemClock),
        )
    }

    /// Builds a bridge from ready adapters (tests swap in a manual clock or a failing store here).
    pub fn assemble(
        settings: Settings,
        institution_code: String,
        rest: Arc<dyn AlmaRest>,
        ncip: Arc<dyn AlmaNcip>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Bridge, ConfigError> {
        let mut bridge = Self::assemble_core(settings, institution_code, rest, ncip, store, clock)?;
        bridge.identity = flows::openurl::Identity::from_settings(&bridge.settings)?;
        Ok(bridge)
    }

    /// [`Bridge::assemble`] without the patron identity (IdP keys, Relais's public key): only the OpenURL
    /// hand-off uses it, and reading its keys reaches the RSA and JWT code, which a Lambda function that does
    /// not hand off should not link (its entry adds the identity: `crate::lambda::entry`).
    pub fn assemble_core(
        settings: Settings,
        institution_code: String,
        rest: Arc<dyn AlmaRest>,
        ncip: Arc<dyn AlmaNcip>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<Bridge, ConfigError> {
        let relais_form = flows::openurl::relais_form(&settings)?;
        let identity = None;
        Ok(Bridge {
            read_options: read_options(&settings),
            settings,
            institution_code,
            rest,
            ncip,
            store,
            clock,
            invoker: None,
            doorbell: None,
            relais_form,
            identity,
            anonymous_parking: flows::openurl::ParkingMeter::default(),
            partner_profiles: flows::patron_id::PartnerProfiles::default(),
            translations: flows::patron_id::Translations::default(),
        })
    }

    /// The store target, for logs at start-up (never the table's contents).
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
