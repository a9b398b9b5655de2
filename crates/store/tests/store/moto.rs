//! A DynamoDB-compatible server for the tests: `$BRIDGE_TEST_DYNAMODB_ENDPOINT` if set, else moto started once
//! per test process on a free loopback port.
//!
//! moto is started through `tests/support/serial_moto.py` rather than `moto_server` itself: moto_server
//! serves on many threads and moto applies conditional writes without a lock, so two racing conditional
//! writes can both succeed there, which DynamoDB never allows (see the script). The script runs on the Python
//! that `moto_server` on PATH runs on, so "moto_server is on PATH" stays the one requirement.
//!
//! moto never learns that the tests ended, so it runs under a small `sh` watchdog holding the read end of a
//! pipe whose write end only this process has: when the process exits for any reason (even a kill), the pipe
//! closes, `read` returns and the watchdog kills the server. The server does not fork, so `$!` names it.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const ENDPOINT_VARIABLE: &str = "BRIDGE_TEST_DYNAMODB_ENDPOINT";

const WATCHDOG: &str = r#"
exec 3<&0
"$1" "$2" "$3" </dev/null >/dev/null 2>"$4" &
server=$!
{ read -r _ <&3; kill "$server" 2>/dev/null; } &
wait "$server"
"#;

/// Never dropped: its stdin is the pipe that keeps the server alive.
static WATCHDOG_PROCESS: OnceLock<Mutex<Child>> = OnceLock::new();

pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var(ENDPOINT_VARIABLE) {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => start_moto(),
    })
}

fn missing_moto(what: &str) -> ! {
    panic!(
        "the DynamoDB tests need moto_server (moto[server]==5.2.1) on PATH: run the project's test script, \
         which installs it, or set {ENDPOINT_VARIABLE} to a running server started with \
         crates/store/tests/support/serial_moto.py. {what}"
    )
}

/// The Python that runs `moto_server`: the interpreter in its `#!` line when it is a pip console script
/// (virtualenv, pipx), else `python3` from PATH (a pyenv shim, for instance, is a shell script).
fn moto_python() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let Some(script) =
        std::env::split_paths(&path).map(|dir| dir.join("moto_server")).find(|candidate| candidate.is_file())
    else {
        missing_moto("moto_server was not found on PATH.")
    };
    let mut head = [0u8; 256];
    let read = std::fs::File::open(&script).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    let first_line = String::from_utf8_lossy(&head[..read]);
    let first_line = first_line.lines().next().unwrap_or_default();
    match first_line.strip_prefix("#!") {
        Some(interpreter) if interpreter.contains("python") && !interpreter.contains(' ') => {
            PathBuf::from(interpreter.trim())
        }
        _ => PathBuf::from("python3"),
    }
}

fn start_moto() -> String {
    let python = moto_python();
    let serve = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/serial_moto.py");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::env::temp_dir().join(format!("bridge-store-moto-{}-{port}.log", std::process::id()));
    let child = Command::new("sh")
        .args(["-c", WATCHDOG, "moto-watchdog"])
        .arg(&python)
        .arg(&serve)
        .arg(port.to_string())
        .arg(&log)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot run sh to start moto");
    let child = WATCHDOG_PROCESS.get_or_init(|| Mutex::new(child));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok() {
            // The log only matters if the server fails to start; the server keeps writing to it unlinked.
            let _ = std::fs::remove_file(&log);
            return format!("http://127.0.0.1:{port}");
        }
        let exited = child.lock().unwrap().try_wait().unwrap();
        if exited.is_some() || Instant::now() > deadline {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = std::fs::remove_file(&log);
            missing_moto(&format!(
                "moto ({} {}) {}: {}",
                python.display(),
                serve.display(),
                if exited.is_some() { "exited" } else { "did not answer within 60 s" },
                said.trim()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
