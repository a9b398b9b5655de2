//! The local single-process bridge: `cargo run`.
//!
//! Every setting comes from the environment (README, "Configuration"); with none set it serves on
//! 127.0.0.1:3000 with the embedded store under ./data and the built-in Alma simulator.
//!
//! `cargo run -- preflight [--patron <id>]` runs the go-live preflight instead (`bridge::preflight`): the same
//! settings, the same Alma clients and store, one line per check, and a non-zero exit when any fails.

use alma_relais_bridge::local::{self, StartError};
use bridge::Bridge;
use bridge::app::{AlmaClients, Parts};
use bridge::config::{AlmaRemote, AlmaTarget, Env, Host, Secret, Settings};
use std::process::ExitCode;

const USAGE: &str = "usage: alma-relais-bridge                         serve (the local bridge)
       alma-relais-bridge preflight [--patron <id>]  check the configured Alma before Relais is pointed at the bridge";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => serve().await,
        Some("preflight") => match preflight_options(&args[1..]) {
            Ok(options) => preflight(options).await,
            Err(problem) => {
                eprintln!("{problem}\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown command {other}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn settings() -> Result<Settings, ExitCode> {
    Settings::from_env(&Env::from_process(), Host::Local).map_err(|err| {
        eprintln!("configuration error: {err}");
        ExitCode::from(2)
    })
}

async fn serve() -> ExitCode {
    bridge::logging::init(false);
    let settings = match settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let bridge = match local::start(settings).await {
        Ok(bridge) => bridge,
        Err(err) => {
            eprintln!("start-up failed: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", local::banner(&bridge));
    tokio::select! {
        () = bridge.wait() => ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}

fn preflight_options(args: &[String]) -> Result<bridge::preflight::Options, String> {
    let mut options = bridge::preflight::Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--patron" => {
                let patron = args.next().filter(|p| !p.trim().is_empty()).ok_or("--patron needs a patron's id")?;
                options.patron = Some(patron.trim().to_owned());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

/// The preflight against the Alma the server would use: the check lines on stdout, what was checked on
/// stderr.
async fn preflight(options: bridge::preflight::Options) -> ExitCode {
    // The report says everything; the bridge's log lines would only interleave with it unless asked for.
    if std::env::var_os("RUST_LOG").is_some() {
        bridge::logging::init(false);
    }
    let mut settings = match settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let (endpoints, simulator) = match alma(&mut settings).await {
        Ok(alma) => alma,
        Err(err) => {
            eprintln!("preflight could not start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let bridge = match assemble(settings, &endpoints).await {
        Ok(bridge) => bridge,
        Err(err) => {
            eprintln!("preflight could not start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = bridge::preflight::run(&bridge, &options).await;
    for line in report.lines() {
        println!("{line}");
    }
    if let Some(sim) = simulator {
        sim.shutdown().await;
    }
    if report.passed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The Alma to check: the configured one, or (with no `ALMA_API_BASE`, as `cargo run` does) the built-in
/// simulator, whose first active NCIP partner stands in for an unset `ALMA_PARTNER_CODE`.
async fn alma(settings: &mut Settings) -> Result<(AlmaRemote, Option<alma_sim::AlmaSim>), StartError> {
    match &settings.alma {
        AlmaTarget::Remote(remote) => {
            eprintln!(
                "preflight: Alma at {} (NCIP {}), institution {}",
                remote.api_base, remote.ncip_url, remote.institution_code
            );
            Ok((remote.clone(), None))
        }
        AlmaTarget::Simulator { seed, listen } => {
            let seed = match seed {
                Some(path) => alma_sim::Seed::from_file(path)
                    .map_err(|e| StartError::Simulator(format!("{}: {e}", path.display())))?,
                None => alma_sim::Seed::demo(),
            };
            let ncip = &mut settings.ncip;
            if ncip.default_partner_code.is_none() && ncip.agency_partners.is_empty() {
                ncip.default_partner_code = seed
                    .partners()
                    .iter()
                    .map(|p| &p["partner_details"])
                    .find(|d| d["status"] == "ACTIVE" && d["profile_details"]["profile_type"] == "NCIP")
                    .and_then(|d| d["code"].as_str())
                    .map(str::to_owned);
            }
            let institution_code = seed.institution_code().to_owned();
            let sim =
                alma_sim::AlmaSim::start(*listen, seed).await.map_err(|e| StartError::Simulator(e.to_string()))?;
            eprintln!(
                "preflight: the built-in Alma simulator at {} (no ALMA_API_BASE set), institution {institution_code}, \
                 partner {}",
                sim.base_url(),
                settings.ncip.default_partner_code.as_deref().unwrap_or("(none)")
            );
            let endpoints = AlmaRemote {
                api_base: sim.base_url(),
                api_key: Secret::new(sim.api_key()),
                ncip_url: sim.ncip_url(),
                institution_code,
            };
            Ok((endpoints, Some(sim)))
        }
        AlmaTarget::Unconfigured => unreachable!("the local host always has an Alma target"),
    }
}

/// A bridge as the server assembles it (the production Alma clients, the configured store, where the go-live
/// marker is recorded), without serving anything.
async fn assemble(settings: Settings, endpoints: &AlmaRemote) -> Result<Bridge, StartError> {
    let store = local::open_store(&settings).await.map_err(|err| match err {
        StartError::Store(why) => StartError::Store(format!(
            "{why} (a running `cargo run` holds the embedded store: stop it, then run the preflight again)"
        )),
        other => other,
    })?;
    let alma = AlmaClients::over(&settings, endpoints, bridge::alma::https_client())?;
    Ok(Bridge::new(Parts::bare(settings, alma, store))?)
}
