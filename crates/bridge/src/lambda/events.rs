//! The deliver function's events and answers as typed values.
//!
//! Two things wake the deliverer: the outbox's SQS FIFO queue (an [`SqsEvent`] of doorbells, answered with an
//! [`SqsBatchResponse`] naming the records SQS should hand back) and an EventBridge schedule
//! ([`ScheduleEvent`], answered with a [`RoundSummary`], or a [`SkippedRound`] while the previous round runs).
//! A person may invoke it too, with a [`PreflightEvent`] (`scripts/preflight`): the go-live preflight runs with
//! the function's own Alma clients and key, and the answer is its [`Report`]. All three are read as one
//! [`DeliverEvent`].
//!
//! These are small local types rather than `aws_lambda_events`' `sqs` and `eventbridge` modules: those bring
//! `chrono` and `serde_with` into the deliver function for the two fields it reads (measured lighter this way;
//! docs/benchmarks.md). The field names are AWS's own, as documented for Lambda's SQS and EventBridge events.

use crate::preflight::{Options, Report};
use crate::store::RelaisRequestId;
use serde::{Deserialize, Serialize};

/// What one invocation of the deliver function carries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DeliverEvent {
    /// Doorbells from the outbox queue, one record per queued message or follow-up.
    Queue(SqsEvent),
    /// The schedule's tick: deliver whatever is due.
    Schedule(ScheduleEvent),
    /// A person's request for the go-live preflight, `{"preflight": {"patron": "..."}}`.
    Preflight(PreflightEvent),
}

/// The preflight's invocation: `{"preflight": {}}`, or with a patron to look up in Alma,
/// `{"preflight": {"patron": "21000000001"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PreflightEvent {
    /// What the person running it chose.
    pub preflight: Options,
}

/// A batch of SQS records, as Lambda's event source mapping hands it over.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SqsEvent {
    /// The records, in the queue's order (a FIFO group's records stay in order within a batch).
    #[serde(rename = "Records")]
    pub records: Vec<SqsRecord>,
}

/// One SQS record: the two fields the deliverer reads (the rest of AWS's record is ignored).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsRecord {
    /// SQS's id of the record, which a partial batch failure names.
    #[serde(default)]
    pub message_id: String,
    /// The doorbell's body ([`DoorbellBody`] as JSON).
    #[serde(default)]
    pub body: String,
}

/// The partial-batch answer (`ReportBatchItemFailures`): the records SQS should hand back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsBatchResponse {
    /// Every record not taken as done; empty when the whole batch was handled.
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// One record SQS should hand back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    /// The record's [`SqsRecord::message_id`].
    pub item_identifier: String,
}

/// An EventBridge scheduled event. Only its kind is read: a tick carries nothing else the deliverer needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleEvent {
    /// `Scheduled Event` for a rule's schedule.
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    /// `aws.events` for a rule's schedule.
    pub source: String,
}

impl ScheduleEvent {
    /// The tick EventBridge sends for a `rate(...)` or `cron(...)` rule.
    pub fn tick() -> Self {
        Self { detail_type: "Scheduled Event".to_owned(), source: "aws.events".to_owned() }
    }
}

/// What a scheduled round did, logged and returned to the invoker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSummary {
    /// Messages whose delivery was tried in this round.
    pub tried: usize,
    /// Messages still open (waiting or parked) after it.
    pub open: usize,
}

/// What a scheduled run answers when the previous round still holds the schedule's lease: it did nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRound {
    /// When the running round's lease runs out (RFC 3339): a run after it goes ahead even if that round died.
    pub running_until: String,
}

/// The deliver function's answer to a [`DeliverEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DeliverAnswer {
    /// To a queue batch.
    Batch(SqsBatchResponse),
    /// To a schedule tick.
    Round(RoundSummary),
    /// To a schedule tick while the previous round still runs.
    Skipped(SkippedRound),
    /// To a preflight event: `{"preflight": {"passed": .., "checks": [..]}}`.
    Preflight(PreflightAnswer),
    /// The reconcile function's answer to its schedule or an invoke: the run's summary.
    Reconciled(Box<crate::flows::reconcile::RunSummary>),
}

/// The preflight's report, under the key that names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightAnswer {
    /// Every check's verdict.
    pub preflight: Report,
}

/// The doorbell's body: which request to deliver, never the message itself (it names the patron). The sender
/// (the functions that queue) and the receiver (the deliverer) share this one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorbellBody {
    /// The Relais request whose queued messages are to be delivered, oldest first.
    pub relais_request_id: String,
    /// The request's follow-up to do instead (Alma's ids to read back after the answer), by its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<String>,
}

impl DoorbellBody {
    /// The doorbell for `request`.
    pub fn new(request: &RelaisRequestId) -> Self {
        Self { relais_request_id: request.as_str().to_owned(), follow_up: None }
    }

    /// The doorbell for the follow-up `id` of `request`.
    pub fn follow_up(request: &RelaisRequestId, id: &str) -> Self {
        Self { relais_request_id: request.as_str().to_owned(), follow_up: Some(id.to_owned()) }
    }

    /// The follow-up a record's body names, if it names one.
    pub fn follow_up_of(body: &str) -> Option<String> {
        let doorbell: DoorbellBody = serde_json::from_str(body).ok()?;
        doorbell.follow_up.filter(|id| !id.is_empty())
    }

    /// The body as SQS carries it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a struct of one string always serialises")
    }

    /// The request a record's body names; `None` for a body that is not one of the bridge's doorbells.
    pub fn request_of(body: &str) -> Option<RelaisRequestId> {
        let doorbell: DoorbellBody = serde_json::from_str(body).ok()?;
        RelaisRequestId::new(doorbell.relais_request_id).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sqs_batch_and_a_schedule_tick_read_as_their_own_kinds() {
        let batch = r#"{"Records":[{"messageId":"m-1","receiptHandle":"h","body":"{\"relais_request_id\":\"RL-1\"}",
            "attributes":{"MessageGroupId":"RL-1"},"eventSource":"aws:sqs"}]}"#;
        let DeliverEvent::Queue(event) = serde_json::from_str(batch).expect("an SQS event") else {
            panic!("an SQS batch read as a schedule tick");
        };
        assert_eq!(event.records[0].message_id, "m-1");
        assert_eq!(DoorbellBody::request_of(&event.records[0].body).map(|r| r.to_string()), Some("RL-1".to_owned()));

        let tick = r#"{"version":"0","id":"e","detail-type":"Scheduled Event","source":"aws.events",
            "account":"000000000000","time":"2026-01-01T00:00:00Z","region":"eu-west-1","resources":[],"detail":{}}"#;
        assert_eq!(
            serde_json::from_str::<DeliverEvent>(tick).expect("a tick"),
            DeliverEvent::Schedule(ScheduleEvent::tick())
        );
    }

    #[test]
    fn an_event_of_no_kind_is_refused_rather_than_taken_as_a_tick() {
        assert!(serde_json::from_str::<DeliverEvent>("{}").is_err());
        assert!(serde_json::from_str::<DeliverEvent>(r#"{"detail":{}}"#).is_err());
        assert!(serde_json::from_str::<DeliverEvent>(r#"{"preflight":"yes"}"#).is_err());
    }

    #[test]
    fn a_preflight_event_reads_as_one_and_the_others_keep_their_kinds() {
        let asked = r#"{"preflight":{"patron":"21000000001"}}"#;
        assert_eq!(
            serde_json::from_str::<DeliverEvent>(asked).expect("a preflight"),
            DeliverEvent::Preflight(PreflightEvent { preflight: Options { patron: Some("21000000001".into()) } })
        );
        let bare = serde_json::from_str::<DeliverEvent>(r#"{"preflight":{}}"#).expect("a preflight");
        assert_eq!(bare, DeliverEvent::Preflight(PreflightEvent::default()));
        // A batch or a tick that happened to carry a `preflight` field is still a batch or a tick.
        let batch = r#"{"Records":[{"messageId":"m-1","body":"{}"}],"preflight":{}}"#;
        assert!(matches!(serde_json::from_str::<DeliverEvent>(batch), Ok(DeliverEvent::Queue(_))));
        let tick = r#"{"detail-type":"Scheduled Event","source":"aws.events","preflight":{}}"#;
        assert_eq!(serde_json::from_str::<DeliverEvent>(tick).unwrap(), DeliverEvent::Schedule(ScheduleEvent::tick()));
    }

    #[test]
    fn the_preflight_answer_is_the_report_under_its_name() {
        let json =
            r#"{"preflight":{"passed":false,"checks":[{"check":"ncip-url","passed":false,"found":"x","fix":"y"}]}}"#;
        let DeliverAnswer::Preflight(answer) = serde_json::from_str(json).expect("an answer") else {
            panic!("a preflight answer read as another kind");
        };
        assert_eq!(answer.preflight.checks[0].fix.as_deref(), Some("y"));
        assert_eq!(serde_json::to_string(&DeliverAnswer::Preflight(answer)).unwrap(), json);
    }

    #[test]
    fn the_doorbell_round_trips_and_refuses_strangers() {
        let request = RelaisRequestId::new("RL-42").expect("an id");
        let body = DoorbellBody::new(&request).to_json();
        assert_eq!(body, r#"{"relais_request_id":"RL-42"}"#);
        assert_eq!(DoorbellBody::request_of(&body), Some(request.clone()));
        assert_eq!(DoorbellBody::request_of("not json"), None);
        assert_eq!(DoorbellBody::follow_up_of(&body), None, "an outbox doorbell names no follow-up");
        let read_back = DoorbellBody::follow_up(&request, "0f0f").to_json();
        assert_eq!(DoorbellBody::request_of(&read_back), Some(request.clone()));
        assert_eq!(DoorbellBody::follow_up_of(&read_back).as_deref(), Some("0f0f"));
        assert_eq!(DoorbellBody::request_of(r#"{"relais_request_id":""}"#), None);
    }

    #[test]
    fn the_batch_answer_uses_aws_field_names() {
        let answer = DeliverAnswer::Batch(SqsBatchResponse {
            batch_item_failures: vec![BatchItemFailure { item_identifier: "m-2".to_owned() }],
        });
        assert_eq!(serde_json::to_string(&answer).unwrap(), r#"{"batchItemFailures":[{"itemIdentifier":"m-2"}]}"#);
    }
}
