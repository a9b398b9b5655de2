//! Metrics in CloudWatch Embedded Metric Format: on Lambda, a JSON line on stdout with an `_aws` block becomes
//! CloudWatch metrics without any API call (no latency, no IAM permission, nothing lost when CloudWatch is slow).
//!
//! Two records per NCIP message: `Messages` by message type and outcome (what the alarms watch), and the Alma
//! calls it made with their total latency, by message type. One more for each PIN check refused by a lockout or
//! throttle (`PinLockouts` by `Scope`). The outbox's deliverer adds, on each scheduled run, a heartbeat with the counts
//! of waiting and parked messages, so that its alarms see a value every minute (zero included) and read a
//! missing value as a deliverer that stopped. Locally nothing is printed: the log line `ncip answered` says the
//! same for a person reading the terminal.

use crate::alma::AlmaCall;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// The CloudWatch namespace without `METRICS_NAMESPACE`. The template sets `AlmaRelaisBridge/<stack>`, the
/// namespace its log metric filters and alarms use, so two stacks in one account keep their metrics apart.
pub const NAMESPACE: &str = "AlmaRelaisBridge";

static ENABLED: AtomicBool = AtomicBool::new(false);
static CONFIGURED_NAMESPACE: OnceLock<String> = OnceLock::new();

/// Turns metric records on (Lambda only), under `METRICS_NAMESPACE` when it is set.
pub fn enable() {
    if let Ok(namespace) = std::env::var("METRICS_NAMESPACE")
        && !namespace.trim().is_empty()
    {
        let _ = CONFIGURED_NAMESPACE.set(namespace.trim().to_owned());
    }
    ENABLED.store(true, Ordering::Relaxed);
}

fn namespace() -> &'static str {
    CONFIGURED_NAMESPACE.get().map_or(NAMESPACE, String::as_str)
}

/// One answered NCIP message: `Messages` = 1 under `MessageType` and `Outcome`.
pub fn message_answered(message_type: &str, outcome: &str) {
    emit(|| record(&[("MessageType", message_type), ("Outcome", outcome)], &[("Messages", "Count", 1.0)]));
}

/// The Alma calls one message needed: `AlmaCalls` and `AlmaLatency` (their summed milliseconds).
pub fn alma_calls(message_type: &str, calls: &[AlmaCall]) {
    if calls.is_empty() {
        return;
    }
    let millis: u64 = calls.iter().map(|c| c.millis).sum();
    emit(|| {
        record(
            &[("MessageType", message_type)],
            &[("AlmaCalls", "Count", calls.len() as f64), ("AlmaLatency", "Milliseconds", millis as f64)],
        )
    });
}

/// A PIN or password check refused without asking Alma: `PinLockouts` = 1 under `Scope` (`Patron`: the patron
/// is locked; `Endpoint`: the NCIP endpoint token failed too many checks and is throttled, which the template's
/// `PinGuessingAlarm` watches).
pub fn pin_lockout(scope: &str) {
    emit(|| record(&[("Scope", scope)], &[("PinLockouts", "Count", 1.0)]));
}

/// A queued message changed state: `OutboxMessages` = 1 under `Event` (`queued`, `delivered`, `parked`).
pub fn outbox_event(event: &str) {
    emit(|| record(&[("Event", event)], &[("OutboxMessages", "Count", 1.0)]));
}

/// Alma refused the bridge for a reason in its own settings (the NCIP URL, the API key, the partner):
/// `ConfigurationFaults` = 1. The template's alarm fires on the first one.
pub fn configuration_fault() {
    emit(|| record(&[], &[("ConfigurationFaults", "Count", 1.0)]));
}

/// A step of the hand-off's sign-in (`PATRON_IDENTITY=oidc`): `SignIns` = 1 under `Outcome` (`started`,
/// `signed_in`, `refused`). A count only: the bridge keeps nothing else about a sign-in.
pub fn sign_in(outcome: &str) {
    emit(|| record(&[("Outcome", outcome)], &[("SignIns", "Count", 1.0)]));
}

/// Alma answered a REST call with its daily threshold: `AlmaDailyThreshold` = 1 (once per stop). The template's
/// alarm fires on it: REST calls (patron translations, read-backs) wait for Alma's reset.
pub fn alma_daily_threshold() {
    emit(|| record(&[], &[("AlmaDailyThreshold", "Count", 1.0)]));
}

/// How long the oldest waiting message has waited, each time the deliverer looks: `OutboxOldestAge`.
pub fn outbox_oldest_age(seconds: f64) {
    emit(|| record(&[], &[("OutboxOldestAge", "Seconds", seconds)]));
}

/// A scheduled run of the deliverer that read the outbox: `DelivererHeartbeat` = 1, with `OutboxWaiting` and
/// `OutboxParked`, the messages open after the run (zero included: a gauge, not an event, so an alarm on it
/// stays raised while a message stays parked).
pub fn deliverer_heartbeat(waiting: usize, parked: usize) {
    emit(|| heartbeat_record(waiting, parked));
}

/// One reconciliation run: `ReconcileRuns` = 1, `ReconcileCompleted` (1 when it ended without error, at its
/// budget, time cap or the end of the records; 0 otherwise), `RecordsChecked`, and `Drifts` in all (what
/// `ReconcileDriftAlarm` watches), then `Drifts` under each `Kind` (zero included, so a kind's graph reads
/// zero rather than nothing). `ReconcileIncompleteAlarm` watches `ReconcileCompleted`.
pub fn reconciliation(completed: bool, checked: usize, drifts: &[(&str, u64)]) {
    let total: u64 = drifts.iter().map(|(_, n)| n).sum();
    emit(|| {
        record(
            &[],
            &[
                ("ReconcileRuns", "Count", 1.0),
                ("ReconcileCompleted", "Count", if completed { 1.0 } else { 0.0 }),
                ("RecordsChecked", "Count", checked as f64),
                ("Drifts", "Count", total as f64),
            ],
        )
    });
    for (kind, count) in drifts {
        emit(|| record(&[("Kind", kind)], &[("Drifts", "Count", *count as f64)]));
    }
}

fn heartbeat_record(waiting: usize, parked: usize) -> Value {
    record(
        &[],
        &[
            ("DelivererHeartbeat", "Count", 1.0),
            ("OutboxWaiting", "Count", waiting as f64),
            ("OutboxParked", "Count", parked as f64),
        ],
    )
}

fn emit(line: impl FnOnce() -> Value) {
    if ENABLED.load(Ordering::Relaxed) {
        // stdout, not the tracing subscriber: EMF needs `_aws` as a JSON object at the top level of the line.
        println!("{}", line());
    }
}

/// One EMF record: the dimensions and metric values as top-level members, described by the `_aws` block.
fn record(dimensions: &[(&str, &str)], metrics: &[(&str, &str, f64)]) -> Value {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": [dimensions.iter().map(|(name, _)| *name).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value) in dimensions {
        line.insert((*name).into(), json!(value));
    }
    for (name, _, value) in metrics {
        line.insert((*name).into(), json!(value));
    }
    Value::Object(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_declares_its_metrics_and_carries_their_values_at_the_top_level() {
        let line =
            record(&[("MessageType", "AcceptItem"), ("Outcome", "TemporaryFailure")], &[("Messages", "Count", 1.0)]);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["MessageType", "Outcome"]]));
        assert_eq!(directive["Metrics"], json!([{"Name": "Messages", "Unit": "Count"}]));
        assert!(line["_aws"]["Timestamp"].as_u64().unwrap() > 1_700_000_000_000, "milliseconds since the epoch");
        assert_eq!(line["MessageType"], "AcceptItem");
        assert_eq!(line["Outcome"], "TemporaryFailure");
        assert_eq!(line["Messages"], 1.0);
    }

    #[test]
    fn the_heartbeat_carries_the_outbox_counts_zero_included_without_dimensions() {
        let line = heartbeat_record(0, 0);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Dimensions"], json!([[]]), "one series per stack, as the alarms watch it");
        let names: Vec<&str> =
            directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["DelivererHeartbeat", "OutboxWaiting", "OutboxParked"]);
        assert_eq!((line["DelivererHeartbeat"].as_f64(), line["OutboxParked"].as_f64()), (Some(1.0), Some(0.0)));
        let busy = heartbeat_record(7, 2);
        assert_eq!((busy["OutboxWaiting"].as_f64(), busy["OutboxParked"].as_f64()), (Some(7.0), Some(2.0)));
    }
}
