//! `cargo run --release -p coldstart -- [--rounds N] [--warm N] [--only a,b] [--no-build] [--bin-dir DIR]`
//!
//! Builds every function of `functions/` with the release profile (unless `--no-build`), starts the Alma
//! simulator, moto and the timing hops, then runs the floor and each function in alternation for N rounds
//! and prints the table for `docs/benchmarks.md`. Function output goes to `target/coldstart/*.log`.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use coldstart::environment::{self, Endpoints};
use coldstart::events::{Event, Tokens};
use coldstart::process::{Launch, Run, measure};
use coldstart::table::{Summary, markdown};
use coldstart::upstream::Upstream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

struct Options {
    rounds: usize,
    warm: usize,
    only: Option<Vec<String>>,
    build: bool,
    /// Where the release binaries are; beside the harness' own binary unless given.
    bin_dir: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut options = Options { rounds: 5, warm: 100, only: None, build: true, bin_dir: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--rounds" => options.rounds = value("--rounds")?.parse().map_err(|_| "--rounds: a number")?,
            "--warm" => options.warm = value("--warm")?.parse().map_err(|_| "--warm: a number")?,
            "--only" => options.only = Some(value("--only")?.split(',').map(str::to_owned).collect()),
            "--no-build" => options.build = false,
            "--bin-dir" => options.bin_dir = Some(PathBuf::from(value("--bin-dir")?)),
            "-h" | "--help" => {
                return Err(
                    "usage: coldstart [--rounds N (5)] [--warm N (100)] [--only fn,fn] [--no-build] [--bin-dir DIR]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    if options.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("coldstart: {message}");
            ExitCode::FAILURE
        }
    }
}

fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The function crates, in [`coldstart::ORDER`] first and any newer ones after it.
fn functions(workspace: &Path, only: Option<&[String]>) -> Result<Vec<String>, String> {
    let dir = workspace.join("functions");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    found.sort_by_key(|name| {
        (coldstart::ORDER.iter().position(|o| o.name() == name).unwrap_or(coldstart::ORDER.len()), name.clone())
    });
    if let Some(only) = only {
        if let Some(unknown) = only.iter().find(|name| !found.contains(name)) {
            return Err(format!("--only: no function {unknown} under functions/"));
        }
        found.retain(|name| only.contains(name));
    }
    Ok(found)
}

fn build(workspace: &Path, functions: &[String], bin_dir: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The functions are built on their own, as a deployment builds them, so that the harness' dependencies
    // cannot add features to theirs.
    let mut steps: Vec<Vec<String>> = vec![functions.iter().flat_map(|f| ["-p".to_owned(), f.clone()]).collect()];
    if !bin_dir.join("floor").is_file() {
        steps.push(vec!["-p".into(), "coldstart".into(), "--bin".into(), "floor".into()]);
    }
    for packages in steps {
        eprintln!("building (release): {}", packages.join(" "));
        let status = Command::new(&cargo)
            .current_dir(workspace)
            .args(["build", "--release"])
            .args(&packages)
            .status()
            .map_err(|e| format!("{cargo}: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build --release {} failed", packages.join(" ")));
        }
    }
    Ok(())
}

/// moto's DynamoDB, one request at a time (crates/store/tests/support/serial_moto.py says why).
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_moto(workspace: &Path, log: &Path) -> Result<Moto, String> {
    let venv = workspace.join(".venv/bin/python");
    let python = if venv.is_file() { venv } else { PathBuf::from("python3") };
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let child = Command::new(&python)
        .arg(workspace.join("crates/store/tests/support/serial_moto.py"))
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e} (moto[server] is installed by ./scripts/test)", python.display()))?;
    let moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    let give_up = Instant::now() + Duration::from_secs(30);
    while Instant::now() < give_up {
        if client.get(format!("{}/moto-api/", moto.endpoint)).send().await.is_ok() {
            return Ok(moto);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("moto did not start within 30 s; see target/coldstart/moto.log".into())
}

async fn run(options: Options) -> Result<(), String> {
    let workspace = workspace();
    let bin_dir = match options.bin_dir.clone() {
        Some(dir) => dir,
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .parent()
            .map(Path::to_path_buf)
            .ok_or("no directory for the harness binary")?,
    };
    let functions = functions(&workspace, options.only.as_deref())?;
    if options.build {
        build(&workspace, &functions, &bin_dir)?;
    }
    let logs = workspace.join("target/coldstart");
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;

    let moto = start_moto(&workspace, &logs.join("moto.log")).await?;
    // The harness's own clients of moto: the table and the outbox's queue are made there.
    let moto_config = aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(Credentials::new(
            "test",
            "test",
            None,
            None,
            "coldstart",
        )))
        .endpoint_url(&moto.endpoint)
        .build();
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto_config);
    // The outbox's queue, made like template.yaml's OutboxQueue.
    let sqs = aws_sdk_sqs::Client::new(&moto_config);
    let outbox_queue_url = sqs
        .create_queue()
        .queue_name("coldstart-outbox.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .map_err(|e| format!("creating the outbox queue: {e}"))?
        .queue_url()
        .ok_or("moto made the outbox queue without a URL")?
        .to_owned();
    // Alma's 25 calls/s threshold is lifted: back-to-back warm invocations would otherwise measure the
    // bridge's backoff after HTTP 429, not its work.
    let seed = alma_sim::Seed::demo().with_per_second_threshold(100_000);
    let sim = alma_sim::AlmaSim::start("127.0.0.1:0".parse().expect("an address"), seed)
        .await
        .map_err(|e| format!("Alma simulator: {e}"))?;
    let sim_origin = format!("http://{}", sim.addr());
    let alma = Upstream::start(&sim_origin).await.map_err(|e| e.to_string())?;
    let dynamo = Upstream::start(&moto.endpoint).await.map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();

    let floor_binary = bin_dir.join("floor");
    let mut floor_runs: Vec<Run> = Vec::new();
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); functions.len()];
    let mut events = Vec::new();
    for function in &functions {
        events.push(Event::for_function(&workspace, function)?);
    }

    for round in 1..=options.rounds {
        eprintln!("round {round}/{}", options.rounds);
        // A fresh Alma and table each round, so every round's cold invocation does the same work.
        http.post(format!("{sim_origin}/admin/reset")).send().await.map_err(|e| format!("resetting Alma: {e}"))?;
        let table = format!("coldstart-round-{round}");
        bridge_store::create_table(&dynamodb, &table).await.map_err(|e| format!("creating {table}: {e}"))?;
        let endpoints = Endpoints {
            alma_api_base: sim.base_url().replacen(&sim_origin, &alma.origin(), 1),
            alma_ncip_url: sim.ncip_url().replacen(&sim_origin, &alma.origin(), 1),
            alma_api_key: sim.api_key().to_owned(),
            institution_code: alma_sim::Seed::demo().institution_code().to_owned(),
            dynamodb: dynamo.origin(),
            table,
            sqs: dynamo.origin(),
            outbox_queue_url: outbox_queue_url.clone(),
        };
        for (index, function) in functions.iter().enumerate() {
            // The floor before every function: both see the same machine at nearly the same moment.
            let floor = Launch {
                name: "floor",
                binary: &floor_binary,
                env: environment::lambda("floor"),
                event: events[index].bytes(),
                warm_invocations: options.warm,
                log: &logs.join("floor.log"),
            };
            floor_runs.push(measure(floor, &[]).await.map_err(|e| format!("floor: {e}"))?);

            let event = &events[index];
            let launch = Launch {
                name: function,
                binary: &bin_dir.join(function),
                env: environment::bridge(function, &endpoints, &Tokens::of(&event.json)),
                event: event.bytes(),
                warm_invocations: options.warm,
                log: &logs.join(format!("{function}.log")),
            };
            let run = measure(launch, &[&alma, &dynamo]).await.map_err(|e| format!("{function}: {e}"))?;
            eprintln!(
                "  {function:<20} init {:>6.2} ms  cold {:>7.2} ms  answer {}",
                run.init.as_secs_f64() * 1e3,
                run.cold.as_secs_f64() * 1e3,
                run.answer
            );
            let _ = std::fs::write(logs.join(format!("{function}.answer.json")), &run.answer_body);
            runs[index].push(run);
        }
    }

    let floor = Summary::of("lambda_runtime, empty", "the same event", &floor_runs).ok_or("no floor runs")?;
    let summaries: Vec<Summary> = functions
        .iter()
        .zip(&events)
        .zip(&runs)
        .filter_map(|((name, event), runs)| Summary::of(name, event.file.as_deref().unwrap_or("built in"), runs))
        .collect();
    println!(
        "\n{} rounds, {} warm invocations per process, {} ({} CPUs), {}\n",
        options.rounds,
        options.warm,
        cpu_model(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M UTC"),
    );
    print!("{}", markdown(&floor, &summaries));
    println!(
        "\nEvents: {}",
        summaries.iter().map(|s| format!("{} = {}", s.name, s.event)).collect::<Vec<_>>().join("; ")
    );
    drop(sim);
    drop(moto);
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}
