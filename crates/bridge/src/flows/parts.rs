//! What a bridge is made of: the [`Parts`] a host gathers (settings, Alma clients, the store it opened, the
//! clock and the optional pieces of its entry) and [`Bridge::new`], the one constructor. Hosts fill the parts in
//! `crate::app` (the production adapters) or in tests (scripted adapters, a manual clock).

use super::Bridge;
use super::front_door::Invoker;
use super::openurl::Identity;
use super::outbox::Doorbell;
use crate::alma::{AlmaNcip, AlmaRest, NotConfigured};
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, Settings};
use crate::ncip::ReadOptions;
use crate::store::Store;
use std::sync::Arc;

/// The Alma a bridge talks to: its institution code and its two APIs.
#[derive(Clone)]
pub struct AlmaClients {
    /// The institution code (`ToAgencyId` of what Alma receives).
    pub institution_code: String,
    /// The REST API (users, items, partners, task lists).
    pub rest: Arc<dyn AlmaRest>,
    /// The broker-mode NCIP responder.
    pub ncip: Arc<dyn AlmaNcip>,
}

impl AlmaClients {
    /// No Alma: every call is refused as unconfigured (a function that never calls Alma, or a test of the
    /// routes alone).
    pub fn unconfigured() -> Self {
        Self { institution_code: String::new(), rest: Arc::new(NotConfigured), ncip: Arc::new(NotConfigured) }
    }
}

/// Everything a bridge is made of. A host fills it in, then [`Bridge::new`] assembles it; the optional pieces
/// are the ones a Lambda function's entry adds only where it needs them (`crate::lambda::entry`).
pub struct Parts {
    /// Every setting, read and checked once.
    pub settings: Settings,
    /// The Alma to act on.
    pub alma: AlmaClients,
    /// The correlation store the host opened.
    pub store: Arc<dyn Store>,
    /// Where record times and deadlines come from (a manual clock in tests).
    pub clock: Arc<dyn Clock>,
    /// How the front door reaches the per-service functions: [`super::front_door::InProcess`] locally, a
    /// Lambda invoke on AWS; `None` where no front door runs.
    pub invoker: Option<Arc<dyn Invoker>>,
    /// How a queued message wakes the deliverer: `None` locally (the worker looks every second); on AWS a
    /// message on the outbox queue.
    pub doorbell: Option<Arc<dyn Doorbell>>,
    /// The OpenURL hand-off's patron identity (IdP keys, Relais's public key). Only the hand-off reads it, and
    /// reading its keys reaches the RSA and JWT code, which no other Lambda function should link.
    pub identity: Option<Identity>,
    /// How `POST /reconcile` starts the reconciler: the `reconcile` function's asynchronous invoke on AWS,
    /// [`super::reconcile::InProcess`] locally; `None` where no one may (`POST /reconcile` answers 503).
    pub reconcile_trigger: Option<Arc<dyn super::reconcile::Trigger>>,
}

impl Parts {
    /// The parts of a process that answers everything itself (the local server, tests of the whole path): the
    /// front door answers each service in process, the patron identity is read from the settings, and the
    /// clock is the system's.
    pub fn in_process(settings: Settings, alma: AlmaClients, store: Arc<dyn Store>) -> Result<Self, ConfigError> {
        let identity = Identity::from_settings(&settings, &crate::alma::https_client())?;
        Ok(Self {
            settings,
            alma,
            store,
            clock: Arc::new(SystemClock),
            invoker: Some(Arc::new(super::front_door::InProcess)),
            doorbell: None,
            identity,
            reconcile_trigger: Some(Arc::new(super::reconcile::InProcess)),
        })
    }

    /// The bare parts: no invoker, doorbell or patron identity, the system clock. A Lambda function starts
    /// from these and adds what its entry names.
    pub fn bare(settings: Settings, alma: AlmaClients, store: Arc<dyn Store>) -> Self {
        Self {
            settings,
            alma,
            store,
            clock: Arc::new(SystemClock),
            invoker: None,
            doorbell: None,
            identity: None,
            reconcile_trigger: None,
        }
    }
}

impl Bridge {
    /// Assembles the bridge from its parts: the one way a bridge is made.
    pub fn new(parts: Parts) -> Result<Bridge, ConfigError> {
        let Parts { settings, alma, store, clock, invoker, doorbell, identity, reconcile_trigger } = parts;
        let relais_form = super::openurl::relais_form(&settings)?;
        if let Some(code) = &settings.ncip.user_id_type {
            super::patron_id::log_type("ALMA_USER_ID_TYPE", Some(code));
        }
        Ok(Bridge {
            read_options: read_options(&settings),
            settings,
            institution_code: alma.institution_code,
            // Alma's daily threshold stops REST calls for the day, process-wide, on the bridge's own clock.
            rest: Arc::new(super::daily_threshold::DailyThresholdGate::new(alma.rest, Arc::clone(&clock))),
            ncip: alma.ncip,
            store,
            clock,
            invoker,
            doorbell,
            relais_form,
            identity,
            anonymous_parking: super::openurl::ParkingMeter::default(),
            refused_tokens: crate::refusal_summary::RefusalSummary::default(),
            partner_profiles: super::patron_id::PartnerProfiles::default(),
            translations: super::patron_id::Translations::default(),
            alma_reached: super::reached::Reached::default(),
            follow_up_wake: tokio::sync::Notify::new(),
            reconcile_trigger,
        })
    }

    /// The settings the bridge was assembled from.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Waits until a commit leaves follow-up work to start (the local worker's wake-up; a wake-up that came
    /// while nobody waited is kept for the next wait).
    pub async fn follow_ups_woken(&self) {
        self.follow_up_wake.notified().await;
    }

    /// The Alma institution code the bridge acts for.
    pub fn institution_code(&self) -> &str {
        &self.institution_code
    }
}

/// The codec's options for reading Relais's messages under these settings.
pub(crate) fn read_options(settings: &Settings) -> ReadOptions {
    ReadOptions { time_zone: settings.ncip.time_zone.clone(), ..ReadOptions::default() }
}

/// A bridge for unit tests of work that never reaches Alma: the settings `env` gives, an Alma that is not
/// configured and an in-memory store.
#[cfg(test)]
pub(crate) fn offline_bridge(env: &crate::config::Env) -> Bridge {
    use crate::config::Host;
    use bridge_store::{EmbeddedStore, StoreConfig};
    let settings = Settings::from_env(env, Host::Local).expect("test settings");
    let store = Arc::new(EmbeddedStore::in_memory(StoreConfig::default()).expect("in-memory store"));
    let alma = AlmaClients {
        institution_code: "01DEMO_INST".into(),
        rest: Arc::new(NotConfigured),
        ncip: Arc::new(NotConfigured),
    };
    Bridge::new(Parts::bare(settings, alma, store)).expect("bridge assembles")
}
