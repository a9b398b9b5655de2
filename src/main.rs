//! The local single-process bridge: `cargo run`.
//!
//! Every setting comes from the environment (README, "Configuration"); with none set it serves on
//! 127.0.0.1:3000 with the embedded store under ./data and the built-in Alma simulator.

use bridge::config::{Env, Host, Settings};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    bridge::logging::init(false);
    let settings = match Settings::from_env(&Env::from_process(), Host::Local) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let bridge = match alma_relais_bridge::local::start(settings).await {
        Ok(bridge) => bridge,
        Err(err) => {
            eprintln!("start-up failed: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", alma_relais_bridge::local::banner(&bridge));
    tokio::select! {
        () = bridge.wait() => ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}
