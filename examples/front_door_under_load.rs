//! A measurement, not a test: how much memory the local bridge's front door takes while eight clients each
//! announce a 12 MiB body with a wrong token, and how long it takes to refuse a 10 MiB NCIP body with the
//! right one. Both should be small because nothing is read before the token and size checks.
//!
//! Build the bridge first, then run this against it (release figures are the ones docs/benchmarks.md keeps):
//!
//! ```sh
//! cargo build --release --bin alma-relais-bridge
//! cargo run --release --example front_door_under_load -- target/release/alma-relais-bridge
//! ```
//!
//! It starts the given binary as a child on a loopback port with its embedded store in a temporary folder,
//! reads the child's peak resident set (`VmHWM` in /proc) and prints one line per figure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "front-door-load-token-0123456789";
const MIB: usize = 1024 * 1024;

fn main() {
    let binary = std::env::args().nth(1).unwrap_or_else(|| "target/release/alma-relais-bridge".to_owned());
    let data = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let mut child = Command::new(&binary)
        .env("BRIDGE_LISTEN", format!("127.0.0.1:{port}"))
        .env("BRIDGE_DATA_DIR", data.path())
        .env("NCIP_SHARED_SECRET", TOKEN)
        .env("STATUS_TOKEN", "front-door-load-status-0123456789")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e}"));
    // The banner's first line means the socket is listening.
    let mut banner = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut banner).expect("a banner");
    let pid = child.id();
    let idle_kib = peak_rss_kib(pid);

    // Eight clients announce 12 MiB each with a wrong token and start sending; the bridge should answer
    // before reading the bodies.
    let senders: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
                stream.set_write_timeout(Some(Duration::from_secs(5))).ok();
                let head = format!(
                    "POST /ncip/wrong-token-0000000000000 HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/xml\r\n\
                     Content-Length: {}\r\n\r\n",
                    12 * MIB
                );
                stream.write_all(head.as_bytes()).expect("head sent");
                // Send as much as the server takes; it closes after answering.
                let chunk = vec![b'<'; 64 * 1024];
                for _ in 0..(12 * MIB / chunk.len()) {
                    if stream.write_all(&chunk).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().ok();
    }
    let loaded_kib = peak_rss_kib(pid);

    // A 10 MiB NCIP body with the right token: refused by its declared length, unread.
    let mut times = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        let head = format!(
            "POST /ncip/{TOKEN} HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n",
            10 * MIB
        );
        let started = Instant::now();
        stream.write_all(head.as_bytes()).expect("head sent");
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).expect("an answer");
        times.push(started.elapsed());
    }
    times.sort();
    child.kill().ok();
    child.wait().ok();

    println!("front_door.peak_rss_idle {} KiB", idle_kib);
    println!("front_door.peak_rss_eight_12mib_bodies {} KiB", loaded_kib);
    println!("front_door.refuse_10mib_body_median {} us", times[times.len() / 2].as_micros());
    println!("front_door.refuse_10mib_body_max {} us", times[times.len() - 1].as_micros());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("bound").port()
}

/// The process's peak resident set so far (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status")
}
