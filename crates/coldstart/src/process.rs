//! One function process from exec to kill: the environment Lambda would give it, its cold invocation, its
//! warm invocations and its peak memory.

use crate::runtime_api::{Report, RuntimeApi};
use crate::upstream::{Spent, Upstream};
use bytes::Bytes;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one invocation (or the init before it) may take before the run is abandoned.
const PATIENCE: Duration = Duration::from_secs(60);

/// What one process did.
#[derive(Debug, Clone)]
pub struct Run {
    /// Exec to the first `GET .../invocation/next`.
    pub init: Duration,
    /// Exec to the first invocation's response.
    pub cold: Duration,
    /// What the first invocation spent waiting on Alma and DynamoDB.
    pub cold_upstream: Spent,
    /// The first answer's `statusCode`, and whether its body is an NCIP Problem.
    pub answer: FunctionAnswer,
    /// The first answer as the function posted it (the harness keeps it beside the function's log).
    pub answer_body: Bytes,
    /// Event handed to response posted, for each warm invocation.
    pub warm: Vec<Duration>,
    /// The same less the time spent upstream.
    pub warm_own: Vec<Duration>,
    /// `VmHWM` of the process after its last invocation, in KiB.
    pub peak_rss_kib: u64,
}

/// What a function answered, enough to tell that the measured run did real work rather than fail fast.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionAnswer {
    /// The answer's `statusCode`, when it had one.
    pub status: Option<u64>,
    /// Whether the body is an NCIP Problem.
    pub ncip_problem: bool,
}

impl std::fmt::Display for FunctionAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "{status}")?,
            None => f.write_str("?")?,
        }
        if self.ncip_problem {
            f.write_str(" Problem")?;
        }
        Ok(())
    }
}

/// What to run and how.
pub struct Launch<'a> {
    /// The function's name, as Lambda would set it (and for error messages).
    pub name: &'a str,
    /// The built function binary.
    pub binary: &'a Path,
    /// Everything but `AWS_LAMBDA_RUNTIME_API`, which the harness adds.
    pub env: Vec<(String, String)>,
    /// The event of every invocation, the cold one and the warm ones.
    pub event: Bytes,
    /// How many invocations follow the cold one in the same process.
    pub warm_invocations: usize,
    /// The function's stdout and stderr are appended here.
    pub log: &'a Path,
}

/// Kills the process if a run ends early, so no function outlives the harness' interest in it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Starts the binary, answers its polls and measures it; `upstreams` are the pass-throughs it calls through.
pub async fn measure(launch: Launch<'_>, upstreams: &[&Upstream]) -> Result<Run, String> {
    let spent = || upstreams.iter().map(|u| u.spent()).fold(Spent::default(), |a, b| a + b);
    let mut api = RuntimeApi::start(launch.name).await.map_err(|e| format!("Runtime API: {e}"))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(launch.log)
        .map_err(|e| format!("{}: {e}", launch.log.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;

    // The event is waiting before the process exists, as it is on Lambda when a request causes a cold start.
    api.invoke(launch.event.clone());
    let before = spent();
    let started = Instant::now();
    let child = Command::new(launch.binary)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("{}: {e}", launch.binary.display()))?;
    let mut process = Running(child);

    let first = next_answer(&mut api, &mut process, launch.log).await?;
    let init = first.first_poll.unwrap_or(first.answered).saturating_duration_since(started);
    let cold = first.answered.saturating_duration_since(started);
    let cold_upstream = spent() - before;
    let answer = read_answer(&first.body);
    let answer_body = first.body.clone();

    let mut warm = Vec::with_capacity(launch.warm_invocations);
    let mut warm_own = Vec::with_capacity(launch.warm_invocations);
    for _ in 0..launch.warm_invocations {
        let before = spent();
        api.invoke(launch.event.clone());
        let invocation = next_answer(&mut api, &mut process, launch.log).await?;
        let took = invocation.answered.saturating_duration_since(invocation.handed.unwrap_or(invocation.answered));
        warm.push(took);
        warm_own.push(took.saturating_sub((spent() - before).time));
    }

    // Read before the kill: VmHWM is the process' own high-water mark and goes with it.
    let peak_rss_kib = peak_rss_kib(process.0.id()).ok_or("could not read VmHWM from /proc")?;
    drop(process);
    Ok(Run { init, cold, cold_upstream, answer, answer_body, warm, warm_own, peak_rss_kib })
}

struct Answered {
    first_poll: Option<Instant>,
    handed: Option<Instant>,
    answered: Instant,
    body: Bytes,
}

async fn next_answer(api: &mut RuntimeApi, process: &mut Running, log: &Path) -> Result<Answered, String> {
    let give_up = Instant::now() + PATIENCE;
    let (mut first_poll, mut handed) = (None, None);
    loop {
        match api.report(Duration::from_millis(200)).await {
            Some(Report::Polled { at }) => {
                first_poll.get_or_insert(at);
            }
            Some(Report::Handed { at, .. }) => handed = Some(at),
            Some(Report::Answered { at, body, .. }) => return Ok(Answered { first_poll, handed, answered: at, body }),
            Some(Report::Failed { body, .. }) => {
                return Err(format!("invocation error: {}", String::from_utf8_lossy(&body)));
            }
            Some(Report::InitFailed { body, .. }) => {
                return Err(format!("init error: {}", String::from_utf8_lossy(&body)));
            }
            None => {
                if let Ok(Some(status)) = process.0.try_wait() {
                    return Err(format!("exited ({status}) before answering; see {}", log.display()));
                }
                if Instant::now() > give_up {
                    return Err(format!("no answer within {PATIENCE:?}; see {}", log.display()));
                }
            }
        }
    }
}

fn read_answer(body: &[u8]) -> FunctionAnswer {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else { return FunctionAnswer::default() };
    let text = json.get("body").and_then(|b| b.as_str()).unwrap_or_default();
    FunctionAnswer {
        status: json.get("statusCode").and_then(|s| s.as_u64()),
        ncip_problem: text.contains("Problem>") && text.contains("ProblemType"),
    }
}

/// `VmHWM` from `/proc/<pid>/status`, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}
