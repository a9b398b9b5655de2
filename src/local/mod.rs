//! The local single-process server: every route of the bridge on one port, the embedded store, and (unless
//! real Alma settings are given) the Alma simulator started in process.
//!
//! Requests are turned into `lambda_http::Request`s and answered by [`App::handle`], the same entry point the
//! Lambda functions use, so local and Lambda behaviour cannot drift apart.

mod convert;

use crate::app::{AlmaEndpoints, App};
use crate::config::{AlmaTarget, ConfigError, Settings, StoreTarget};
use crate::http::route::Route;
use crate::store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

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
    pub app: Arc<App>,
    /// The in-process simulator, when no real Alma was configured.
    pub simulator: Option<alma_sim::AlmaSim>,
    server: tokio::task::JoinHandle<()>,
}

impl LocalBridge {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Stops serving (tests); the process keeps running.
    pub fn stop(&self) {
        self.server.abort();
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
            let endpoints = AlmaEndpoints {
                api_base: sim.base_url(),
                api_key: crate::config::Secret::new(sim.api_key()),
                ncip_url: sim.ncip_url(),
                institution_code,
            };
            (endpoints, Some(sim))
        }
        AlmaTarget::Unconfigured => unreachable!("the local host always has an Alma target"),
    };
    let store = open_store(&settings).await?;
    let listen = settings.listen;
    let app = Arc::new(App::connect(settings, &endpoints, store)?);
    let mut bridge = serve(app, listen).await?;
    bridge.simulator = simulator;
    Ok(bridge)
}

/// Serves an assembled app on `listen` (tests assemble apps with a manual clock or a failing store).
pub async fn serve(app: Arc<App>, listen: SocketAddr) -> Result<LocalBridge, StartError> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|source| StartError::Listen { addr: listen, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: listen, source })?;
    let router = axum::Router::new().fallback(convert::serve).with_state(Arc::clone(&app));
    let server = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, router).await {
            tracing::error!(error = %err, "local server stopped");
        }
    });
    Ok(LocalBridge { addr, app, simulator: None, server })
}

pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    let config = crate::lambda::store_config(settings);
    match &settings.store {
        StoreTarget::Embedded { data_dir } => {
            std::fs::create_dir_all(data_dir).map_err(|e| StartError::Store(format!("{}: {e}", data_dir.display())))?;
            let store = crate::store::EmbeddedStore::open_with_config(data_dir, config)
                .map_err(|e| StartError::Store(e.to_string()))?;
            Ok(Arc::new(store))
        }
        StoreTarget::DynamoDb { table } => {
            // AWS_ENDPOINT_URL (e.g. a local DynamoDB-compatible server) is honoured by the SDK itself.
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Ok(Arc::new(crate::store::DynamoStore::with_config(
                aws_sdk_dynamodb::Client::new(&aws),
                table.clone(),
                config,
            )))
        }
    }
}

/// What the local server prints at start-up: where everything is, and the tokens to use.
pub fn banner(bridge: &LocalBridge) -> String {
    let settings = &bridge.app.settings;
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
        format!("  GET  {}", bridge.url("/health")),
        format!("  store: {}", App::describe_store(settings)),
    ];
    match &bridge.simulator {
        Some(sim) => lines.push(format!(
            "  Alma: built-in simulator at {} (NCIP {}, institution {})",
            sim.base_url(),
            sim.ncip_url(),
            bridge.app.institution_code
        )),
        None => lines.push(format!("  Alma: institution {}", bridge.app.institution_code)),
    }
    // Tokens are printed only when they were generated for this run: configured secrets stay secret.
    let env = crate::config::Env::from_process();
    if env.get("NCIP_SHARED_SECRET").is_none() {
        lines.push(format!("  NCIP_SHARED_SECRET (generated for this run): {}", settings.ncip_secret.expose()));
    }
    if env.get("STATUS_TOKEN").is_none() {
        lines.push(format!("  STATUS_TOKEN (generated for this run): {}", settings.status_token.expose()));
    }
    lines.join("\n")
}

/// The function that serves `path` on the local server.
pub fn function_for(path: &str) -> Option<crate::app::Function> {
    Route::of(path).function()
}
