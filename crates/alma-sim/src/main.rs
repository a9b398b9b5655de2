//! `alma-sim --listen 127.0.0.1:PORT [--seed FILE] [--public-origin https://HOST:PORT]`: runs the simulator
//! until Ctrl-C. `--public-origin` is for a simulator behind a proxy (scripts/sam-local-check puts it behind
//! TLS): the origin its links and redirects name.
//! `ALMA_SIM_SEED` names a seed file when `--seed` is not given; otherwise the built-in demo seed is used.

use std::net::SocketAddr;
use std::process::ExitCode;

use alma_sim::{AlmaSim, Seed};

const USAGE: &str =
    "usage: alma-sim [--listen ADDR:PORT] [--seed FILE] [--public-origin URL]   (default listen 127.0.0.1:8900)";

/// Where to listen, the seed file, and the public origin when behind a proxy.
type Args = (SocketAddr, Option<String>, Option<String>);

fn parse_args() -> Result<Args, String> {
    let mut listen: SocketAddr = "127.0.0.1:8900".parse().expect("valid default");
    let mut seed = std::env::var("ALMA_SIM_SEED").ok().filter(|s| !s.is_empty());
    let mut public_origin = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                let v = args.next().ok_or("--listen needs ADDR:PORT")?;
                listen = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
            }
            "--seed" => seed = Some(args.next().ok_or("--seed needs a file")?),
            "--public-origin" => public_origin = Some(args.next().ok_or("--public-origin needs a URL")?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok((listen, seed, public_origin))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (listen, seed_path, public_origin) = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let seed = match seed_path.as_deref().map(Seed::from_file).unwrap_or_else(|| Ok(Seed::demo())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("alma-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sim = match AlmaSim::start_behind(listen, seed, public_origin.as_deref()).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("alma-sim: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("alma-sim base URL: {}", sim.base_url());
    println!("alma-sim NCIP URL: {}", sim.ncip_url());
    println!("alma-sim API key:  {}", sim.api_key());
    println!("alma-sim admin:    {}", sim.admin_url());
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
