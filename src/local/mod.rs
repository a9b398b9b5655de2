//! Starting the local server: Alma (the simulator, or a configured institution), the store, and the router
//! of the three public functions (the front door answers the service functions in process).

use bridge::Bridge;
use bridge::app::{AlmaClients, Parts};
use bridge::config::{AlmaRemote, AlmaTarget, ConfigError, Settings, StoreTarget};
use bridge::function::Function;
use bridge::store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

mod connections;
mod deliverer;
mod reconciler;
mod write_timeout;

/// The functions the local server serves: the public ones. The per-service functions are reached by the
/// front door in process.
pub const LOCAL_FUNCTIONS: [Function; 3] =
    [Function::OpenUrlRedirect, Function::NcipFrontDoor, Function::RequestStatus];

/// Why the local server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the Alma simulator could not start: {0}")]
    Simulator(String),
    #[error("the store could not be opened: {0}")]
    Store(String),
    #[error("could not listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// A running local bridge.
pub struct LocalBridge {
    pub addr: SocketAddr,
    pub bridge: Arc<Bridge>,
    /// The in-process simulator, when no real Alma was configured.
    pub simulator: Option<alma_sim::AlmaSim>,
    server: tokio::task::JoinHandle<()>,
    /// The outbox worker, when the outbox is on.
    deliverer: Option<tokio::task::JoinHandle<()>>,
    /// The nightly reconciliation, unless `RECONCILE_LOCAL_TIME=off`.
    reconciler: Option<tokio::task::JoinHandle<()>>,
}

impl LocalBridge {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops serving and delivering (tests); the process keeps running.
    pub fn stop(&self) {
        self.server.abort();
        if let Some(deliverer) = &self.deliverer {
            deliverer.abort();
        }
        if let Some(reconciler) = &self.reconciler {
            reconciler.abort();
        }
    }

    /// Serves until the task ends (Ctrl-C ends the process).
    pub async fn wait(self) {
        let _ = self.server.await;
    }
}

/// Starts Alma (simulator or remote), the store and the HTTP server.
pub async fn start(settings: Settings) -> Result<LocalBridge, StartError> {
    let (endpoints, simulator) = match &settings.alma {
        AlmaTarget::Remote(remote) => (remote.clone(), None),
        AlmaTarget::Simulator { seed, listen } => {
            let seed = match seed {
                Some(path) => alma_sim::Seed::from_file(path)
                    .map_err(|e| StartError::Simulator(format!("{}: {e}", path.display())))?,
                None => alma_sim::Seed::demo(),
            };
            let institution_code = seed.institution_code().to_owned();
            let sim =
                alma_sim::AlmaSim::start(*listen, seed).await.map_err(|e| StartError::Simulator(e.to_string()))?;
            let endpoints = AlmaRemote {
                api_base: sim.base_url(),
                api_key: bridge::config::Secret::new(sim.api_key()),
                ncip_url: sim.ncip_url(),
                institution_code,
            };
            (endpoints, Some(sim))
        }
        AlmaTarget::Unconfigured => unreachable!("the local host always has an Alma target"),
    };
    let store = open_store(&settings).await?;
    let listen = settings.listen;
    let alma = AlmaClients::over(&settings, &endpoints, bridge::alma::https_client())?;
    let bridge = Arc::new(Bridge::new(Parts::in_process(settings, alma, store)?)?);
    let mut local = serve(bridge, listen).await?;
    local.simulator = simulator;
    Ok(local)
}

/// Serves an assembled bridge on `listen` (tests assemble bridges with a manual clock or a failing store).
pub async fn serve(bridge: Arc<Bridge>, listen: SocketAddr) -> Result<LocalBridge, StartError> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|source| StartError::Listen { addr: listen, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: listen, source })?;
    let router = bridge::http::router(Arc::clone(&bridge), &LOCAL_FUNCTIONS);
    let server = tokio::spawn(connections::serve(listener, router, bridge.settings().local));
    let deliverer = deliverer::spawn(Arc::clone(&bridge));
    let reconciler = reconciler::spawn(Arc::clone(&bridge));
    Ok(LocalBridge { addr, bridge, simulator: None, server, deliverer, reconciler })
}

pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    let config = settings.store_config();
    match &settings.store {
        StoreTarget::Embedded { data_dir } => {
            std::fs::create_dir_all(data_dir).map_err(|e| StartError::Store(format!("{}: {e}", data_dir.display())))?;
            let store = bridge::store::EmbeddedStore::open_with_config(data_dir, config)
                .map_err(|e| StartError::Store(e.to_string()))?;
            Ok(Arc::new(store))
        }
        StoreTarget::DynamoDb { table } => {
            // AWS_ENDPOINT_URL (e.g. a local DynamoDB-compatible server) is honoured by the SDK itself.
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Ok(Arc::new(bridge::store::DynamoStore::with_config(
                aws_sdk_dynamodb::Client::new(&aws),
                table.clone(),
                config,
            )))
        }
    }
}

/// What the local server prints at start-up: where everything is, and the tokens to use.
pub fn banner(bridge: &LocalBridge) -> String {
    let settings = bridge.bridge.settings();
    let mut lines = vec![
        format!("alma-relais-bridge listening on http://{}", bridge.addr),
        format!("  GET  {}?rft.title=...         OpenURL -> Relais request form", bridge.url("/openurl")),
        format!(
            "  POST {}/<NCIP_SHARED_SECRET>     NCIP from Relais (or POST /ncip with Authorization: Bearer)",
            bridge.url("/ncip")
        ),
        format!(
            "  GET  {}/<relais request id>  request status (Authorization: Bearer <STATUS_TOKEN>)",
            bridge.url("/requests")
        ),
        format!("  GET  {}                  waiting and parked messages (same token)", bridge.url("/queue")),
        format!("  GET  {}", bridge.url("/health")),
        format!("  store: {}", Bridge::describe_store(settings)),
        format!(
            "  outbox: {}",
            if settings.outbox.enabled {
                "on (messages Alma cannot take wait here and are delivered when it is back)"
            } else {
                "off (Relais is told to resend when Alma cannot take a message)"
            }
        ),
    ];
    match &bridge.simulator {
        Some(sim) => lines.push(format!(
            "  Alma: built-in simulator at {} (NCIP {}, institution {})",
            sim.base_url(),
            sim.ncip_url(),
            bridge.bridge.institution_code()
        )),
        None => lines.push(format!("  Alma: institution {}", bridge.bridge.institution_code())),
    }
    for warning in settings.open_policy_warnings() {
        lines.push(format!("  warning: {warning}"));
    }
    // Tokens are printed only when they were generated for this run: configured secrets stay secret.
    let env = bridge::config::Env::from_process();
    if env.get("NCIP_SHARED_SECRET").is_none() {
        lines.push(format!("  NCIP_SHARED_SECRET (generated for this run): {}", settings.ncip_secret.expose()));
    }
    if env.get("STATUS_TOKEN").is_none() {
        lines.push(format!("  STATUS_TOKEN (generated for this run): {}", settings.status_token.expose()));
    }
    if env.get("STAFF_ACTION_TOKEN").is_none() {
        lines.push(format!(
            "  STAFF_ACTION_TOKEN (generated for this run; re-drive and discard): {}",
            settings.staff_token.expose()
        ));
    }
    lines.join("\n")
}
