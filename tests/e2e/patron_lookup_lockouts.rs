//! PIN lockouts end to end: Relais's LookupUser with a PIN, over real HTTP, against the Alma simulator on a
//! manual clock. A lock must tell a patron the truth (locked until a time, never "wrong PIN" for the right
//! one), must not be aimed past one patron, and a flood through the endpoint must slow the endpoint without
//! refusing anyone's correct PIN.

use crate::support::Harness;
use crate::support::lookup::Lookup;
use alma_sim::Seed;
use bridge::clock::Clock as _;
use bridge::ncip::{LookupUserResponse, Message, ReadOptions};
use std::time::{Duration, Instant};

const PERIOD: Duration = Duration::from_secs(15 * 60);

fn response(answer: &str) -> LookupUserResponse {
    match bridge::ncip::read(answer.as_bytes(), &ReadOptions::default()) {
        Ok(Message::LookupUserResponse(r)) => r,
        other => panic!("not a LookupUserResponse ({other:?}): {answer}"),
    }
}

fn found(answer: &str) {
    let r = response(answer);
    assert!(r.problems.is_empty() && r.user_id.is_some(), "the patron was not answered: {answer}");
}

/// The Problem's type and detail; a Problem answer holds no patron data.
fn problem(answer: &str) -> (String, String) {
    let r = response(answer);
    assert!(r.user_id.is_none() && r.user_optional_fields.is_none(), "a Problem answer holds no patron data: {answer}");
    let p = r.problems.first().unwrap_or_else(|| panic!("a Problem: {answer}"));
    (p.problem_type.value.clone(), p.detail.clone().unwrap_or_default())
}

fn by_barcode(barcode: &str, pin: &str) -> String {
    Lookup::auth(&[("Barcode Id", barcode), ("PIN", pin)]).xml()
}

fn patron1(pin: &str) -> String {
    by_barcode("21000000001", pin)
}

const LOCKED: &str = "the account is temporarily locked after too many failed checks; try again after ";
const THROTTLED: &str = "too many failed PIN checks through this endpoint; send the message again after ";

/// The time a Problem's detail states after `prefix`, checked to be of `kind`.
fn stated_time(answer: &str, kind: &str, prefix: &str) -> jiff::Timestamp {
    let (problem_type, detail) = problem(answer);
    assert_eq!(problem_type, kind, "{answer}");
    let time = detail.strip_prefix(prefix).unwrap_or_else(|| panic!("{prefix:?}...: {detail}"));
    time.parse().unwrap_or_else(|e| panic!("a time ({e}): {detail}"))
}

/// The end of the lock a locked patron is told of (User Authentication Failed, saying until when).
fn lock_end(answer: &str) -> jiff::Timestamp {
    stated_time(answer, "User Authentication Failed", LOCKED)
}

/// Asserts `time` is `lock` after an instant between `from` and now (the clock runs with the wall clock, and
/// the store keeps whole seconds).
fn within(b: &Harness, time: jiff::Timestamp, from: jiff::Timestamp, lock: Duration) {
    let earliest = jiff::Timestamp::from_second((from + lock).as_second()).unwrap();
    assert!(earliest <= time && time <= b.clock.now() + lock, "{time} is not {lock:?} after {from}");
}

/// The answer without the time it states: two patrons locked a second apart get the same answer otherwise.
fn without_time(answer: &str) -> String {
    let (kind, detail) = problem(answer);
    (kind + "|" + detail.rsplit_once(' ').map_or(detail.as_str(), |(text, _)| text)).to_owned()
}

// Five wrong PINs locked a chosen patron out for 15 minutes, and the patron's right PIN was then answered
// as a wrong one. Now the right PIN gets the lock's end; an unknown identifier is locked alike, with the same
// answer, after the same Alma lookup, so the lock tells nothing about who exists.
#[tokio::test]
async fn a_victims_correct_pin_after_five_wrong_ones_is_told_the_account_is_locked_until_a_time() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let first = b.clock.now();
    let wrong_pin = problem(&b.ncip(&patron1("guess-0")).await);
    assert_eq!(wrong_pin, ("User Authentication Failed".to_owned(), "authentication input not accepted".to_owned()));
    for n in 1..5 {
        assert_eq!(problem(&b.ncip(&patron1(&format!("guess-{n}"))).await), wrong_pin);
    }
    for n in 0..5 {
        assert_eq!(problem(&b.ncip(&by_barcode("29999999999", &format!("guess-{n}"))).await), wrong_pin);
    }
    let before = b.sim.calls().len();
    let started = Instant::now();
    let right = b.ncip(&patron1("patron1-pass")).await;
    within(&b, lock_end(&right), first, PERIOD);
    assert!(started.elapsed() < Duration::from_secs(5), "answered at once, not after a wait");
    let unknown = b.ncip(&by_barcode("29999999999", "guess-5")).await;
    within(&b, lock_end(&unknown), first, PERIOD);
    assert_eq!(without_time(&unknown), without_time(&right), "an unknown identifier is locked alike");
    let methods: Vec<String> = b.sim.calls()[before..].iter().map(|c| c.method.clone()).collect();
    assert_eq!(methods, ["GET", "GET"], "a locked check only finds the patron; no PIN reaches Alma");
    // Without a PIN, nothing is checked and the lookup is answered.
    found(&b.ncip(&Lookup::user("21000000001").xml()).await);

    b.clock.advance(PERIOD + Duration::from_secs(1));
    found(&b.ncip(&patron1("patron1-pass")).await);
}

// Each identifier of a patron had its own five tries, fifteen in all. The count is now the patron's,
// whichever identifier Relais sends.
#[tokio::test]
async fn a_patrons_barcode_primary_id_and_university_id_share_one_count() {
    let b = Harness::start_seeded(Seed::demo(), &[]).await;
    let ids = ["21000000001", "patron1", "U1001", "21000000001", "patron1"];
    let mut fifth = b.clock.now();
    for id in ids {
        fifth = b.clock.now();
        let answer = b.ncip(&Lookup::user(id).auth_input("PIN", "wrong").xml()).await;
        assert_eq!(problem(&answer).1, "authentication input not accepted", "{id}");
    }
    for id in ["U1001", "patron1", "21000000001"] {
        let answer = b.ncip(&Lookup::user(id).auth_input("PIN", "patron1-pass").xml()).await;
        within(&b, lock_end(&answer), fifth, PERIOD);
    }
}

// A lock grows as a "not before" time: each failure after a lock doubles the next one.
#[tokio::test]
async fn locks_double_with_each_failure_after_one_and_end_at_the_stated_time() {
    let b = Harness::start_seeded(Seed::demo(), &[("PATRON_LOCKOUT_FAILURES", "2")]).await;
    b.ncip(&patron1("wrong")).await;
    let second = b.clock.now();
    b.ncip(&patron1("wrong")).await;
    let first_lock = lock_end(&b.ncip(&patron1("patron1-pass")).await);
    within(&b, first_lock, second, PERIOD);
    b.clock.advance(PERIOD + Duration::from_secs(1));
    // One more wrong PIN after the lock's end, and the next lock is twice as long.
    let third = b.clock.now();
    assert_eq!(problem(&b.ncip(&patron1("wrong")).await).1, "authentication input not accepted");
    let doubled = lock_end(&b.ncip(&patron1("patron1-pass")).await);
    within(&b, doubled, third, 2 * PERIOD);
    b.clock.advance(PERIOD);
    assert_eq!(lock_end(&b.ncip(&patron1("patron1-pass")).await), doubled, "still locked halfway");
    b.clock.advance(PERIOD + Duration::from_secs(1));
    found(&b.ncip(&patron1("patron1-pass")).await);
}

#[tokio::test]
async fn a_right_pin_clears_the_patrons_failed_checks() {
    let b = Harness::start_seeded(Seed::demo(), &[("PATRON_LOCKOUT_FAILURES", "3")]).await;
    for _ in 0..2 {
        b.ncip(&patron1("wrong")).await;
        b.ncip(&patron1("wrong")).await;
        found(&b.ncip(&patron1("patron1-pass")).await);
    }
    for _ in 0..3 {
        b.ncip(&patron1("wrong")).await;
    }
    lock_end(&b.ncip(&patron1("patron1-pass")).await);
}

/// Posts `xml` to the front door under `token`.
async fn ncip_with_token(b: &Harness, token: &str, xml: &str) -> String {
    let url = b.bridge.url(&format!("/ncip/{token}"));
    let response = b.http.post(url).header("content-type", "application/xml").body(xml.to_owned()).send().await;
    response.expect("bridge answers").text().await.expect("body")
}

// Fifty wrong PINs from the Relais agency in a few seconds locked every patron out of PIN sign-in, each told
// that their correct PIN was wrong; an invented FromAgencyId escaped the count. Now the count is the
// endpoint token's: past it, checks through that token are throttled with a time to send again (Relais
// retries a Temporary Processing Failure), whatever FromAgencyId they carry, and another token is served.
#[tokio::test]
async fn an_endpoint_flood_throttles_with_a_retry_time_and_never_answers_a_correct_pin_as_wrong() {
    const PREVIOUS: &str = "previous-test-token-9876543210";
    let b = Harness::start_seeded(Seed::demo(), &[("NCIP_SHARED_SECRET_PREVIOUS", PREVIOUS)]).await;
    let mut last = b.clock.now();
    for n in 0..50 {
        last = b.clock.now();
        let (kind, _) = problem(&b.ncip(&by_barcode(&format!("2999999{n:04}"), "guess")).await);
        assert_eq!(kind, "User Authentication Failed");
    }
    let before = b.sim.calls().len();
    // A correct PIN is never called wrong: it is asked to come again once the count has aged out.
    let retry = stated_time(&b.ncip(&patron1("patron1-pass")).await, "Temporary Processing Failure", THROTTLED);
    within(&b, retry, last, PERIOD);
    let invented = Lookup::auth(&[("Barcode Id", "21000000001"), ("PIN", "patron1-pass")]).sent_by("Invented");
    let answer = b.ncip(&invented.xml()).await;
    assert_eq!(stated_time(&answer, "Temporary Processing Failure", THROTTLED), retry, "an invented FromAgencyId");
    assert_eq!(b.sim.calls().len(), before, "a throttled check costs Alma nothing");
    // Another endpoint token (here the previous one of a rotation) has its own count.
    found(&ncip_with_token(&b, PREVIOUS, &patron1("patron1-pass")).await);
    // Lookups without a PIN are not checks, and are served.
    found(&b.ncip(&Lookup::user("21000000001").xml()).await);

    b.clock.advance(PERIOD + Duration::from_secs(1));
    found(&b.ncip(&patron1("patron1-pass")).await);
}
