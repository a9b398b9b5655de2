//! The local server's front door under hostile clients, over real sockets:
//! nothing is read before the token is checked, bodies are capped, and slow or idle clients are cut off by
//! the configured timeouts. Behaviour only: each test shows what the client sees, never how long it took
//! (the guards below only keep a broken build from hanging the suite).

use crate::support::lookup::Lookup;
use crate::support::{Harness, NCIP_TOKEN};
use alma_sim::Seed;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for any answer on a loaded machine; a test that reaches it has failed.
const GUARD: Duration = Duration::from_secs(20);

async fn connect(b: &Harness) -> TcpStream {
    TcpStream::connect(b.bridge.addr).await.expect("connects")
}

/// A connection from the loopback address `source` (127.0.0.2, 127.0.0.3 ...): another client to the server.
async fn connect_from(b: &Harness, source: [u8; 4]) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.bind((std::net::Ipv4Addr::from(source), 0).into()).expect("loopback addresses are all local");
    // A small receive window, so that answers the client never reads fill it quickly.
    socket.set_recv_buffer_size(4096).expect("the buffer size is set");
    socket.connect(b.bridge.addr).await.expect("connects")
}

/// A `/health` check from `source` answers (retried while earlier connections are being closed).
async fn health_answers_from(b: &Harness, source: [u8; 4]) -> bool {
    let checked = tokio::time::timeout(GUARD, async {
        loop {
            let mut check = connect_from(b, source).await;
            check.write_all(b"GET /health HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\n\r\n").await.unwrap();
            let answer = read_until_closed(&mut check).await;
            if answer.starts_with("HTTP/1.1 200") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    checked.await.is_ok()
}

/// Everything the server sends until it closes the connection.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(GUARD, stream.read_to_end(&mut received)).await;
    match read {
        Ok(_) => String::from_utf8_lossy(&received).into_owned(),
        Err(_) => panic!("the server kept the connection open: {}", String::from_utf8_lossy(&received)),
    }
}

fn post_head(path: &str, length: usize) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/xml\r\nContent-Length: {length}\r\n\r\n")
}

#[tokio::test]
async fn a_12_mib_body_with_a_wrong_token_is_answered_before_it_is_sent() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let mut stream = connect(&b).await;
    stream.write_all(post_head("/ncip/wrong-token-0123456789", 12 * 1024 * 1024).as_bytes()).await.unwrap();
    // Not a byte of the body is sent: the answer can only come from the headers.
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Agency Authentication Failed"), "{answer}");
}

#[tokio::test]
async fn a_10_mib_ncip_body_is_refused_without_being_read_or_parsed() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let mut stream = connect(&b).await;
    stream.write_all(post_head(&format!("/ncip/{NCIP_TOKEN}"), 10 * 1024 * 1024).as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.contains("Invalid Message Syntax Error"), "{answer}");
    assert!(answer.contains("message is 10485760 bytes; the limit is 262144"), "{answer}");
    // A chunked body (no declared length) is cut as soon as it passes the cap.
    let mut stream = connect(&b).await;
    let head = format!("POST /ncip/{NCIP_TOKEN} HTTP/1.1\r\nHost: bridge\r\nTransfer-Encoding: chunked\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 300 * 1024, " ".repeat(300 * 1024));
    stream.write_all(chunk.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.contains("the limit is 262144"), "{answer}");
}

#[tokio::test]
async fn a_slow_header_client_is_cut_off() {
    let b = Harness::start_seeded(Seed::demo(), &[("LOCAL_HEADER_TIMEOUT_MS", "300")]).await;
    let mut stream = connect(&b).await;
    stream.write_all(b"POST /ncip/").await.unwrap();
    // The headers never end; the server closes the connection without an answer.
    assert_eq!(read_until_closed(&mut stream).await, "");
    // An idle connection is closed the same way.
    let mut idle = connect(&b).await;
    assert_eq!(read_until_closed(&mut idle).await, "");
}

#[tokio::test]
async fn a_slow_body_client_is_cut_off() {
    let b = Harness::start_seeded(Seed::demo(), &[("LOCAL_BODY_IDLE_TIMEOUT_MS", "300")]).await;
    let mut stream = connect(&b).await;
    stream.write_all(post_head(&format!("/ncip/{NCIP_TOKEN}"), 1000).as_bytes()).await.unwrap();
    stream.write_all(b"<NCIPMessage").await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_unanswered() {
    let b = Harness::start_seeded(Seed::demo(), &[("LOCAL_MAX_CONNECTIONS", "2")]).await;
    let held = [connect(&b).await, connect(&b).await];
    let mut third = connect(&b).await;
    third.write_all(b"GET /health HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\n\r\n").await.unwrap();
    assert_eq!(read_until_closed(&mut third).await, "", "no slot, no answer");
    drop(held);
    // Once the held connections close, their slots serve again (the server notices the close shortly).
    let answered = tokio::time::timeout(GUARD, async {
        loop {
            let mut next = connect(&b).await;
            next.write_all(b"GET /health HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\n\r\n").await.unwrap();
            let answer = read_until_closed(&mut next).await;
            if !answer.is_empty() {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert!(answered.await.expect("a slot frees").starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_dot_dot_patron_id_makes_no_alma_call() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let before = b.sim.calls();
    let answer = b.ncip(&Lookup::user("..").xml()).await;
    assert!(answer.contains("Unknown User"), "{answer}");
    assert_eq!(b.sim.calls(), before);
}

/// Half-sent headers from one client address (a slowloris) take at most that address's share of the slots: the
/// others still get in, while the slow client's headers have not yet timed out.
#[tokio::test]
async fn one_client_address_cannot_hold_every_connection_slot() {
    let env =
        [("LOCAL_MAX_CONNECTIONS", "8"), ("LOCAL_MAX_CONNECTIONS_PER_PEER", "4"), ("LOCAL_HEADER_TIMEOUT_MS", "60000")];
    let b = Harness::start_seeded(Seed::demo(), &env).await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = connect_from(&b, [127, 0, 0, 2]).await;
        let _ = stream.write_all(b"GET /health HTTP/1.1\r\nHost: bri").await;
        slow.push(stream);
    }
    assert!(health_answers_from(&b, [127, 0, 0, 3]).await, "another client is served");
    // The slow client's fifth connection and later ones were closed unanswered.
    let mut refused = 0;
    for stream in &mut slow[4..] {
        if read_until_closed(stream).await.is_empty() {
            refused += 1;
        }
    }
    assert_eq!(refused, 16, "beyond its share, the slow client's connections are closed");
}

/// Pipelined requests whose answers are never read: the answer's write times out and the connection goes, so
/// the client's slot serves again instead of being held for ever.
#[tokio::test]
async fn a_client_that_never_reads_its_answers_loses_its_connection() {
    let env = [("LOCAL_MAX_CONNECTIONS_PER_PEER", "1"), ("LOCAL_WRITE_TIMEOUT_MS", "300")];
    let b = Harness::start_seeded(Seed::demo(), &env).await;
    let mut greedy = connect_from(&b, [127, 0, 0, 2]).await;
    // Enough pipelined requests that their answers fill both sides' buffers; never read.
    let requests = "GET /health HTTP/1.1\r\nHost: bridge\r\n\r\n".repeat(20_000);
    let writer = tokio::spawn(async move {
        let _ = greedy.write_all(requests.as_bytes()).await;
        greedy
    });
    // The same address gets its one slot back once the server gave up on the unread answers.
    assert!(health_answers_from(&b, [127, 0, 0, 2]).await, "the stalled connection was closed");
    drop(writer);
}
