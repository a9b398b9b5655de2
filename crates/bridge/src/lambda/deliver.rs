//! The `deliver` function: the outbox's deliverer on AWS, and the doorbell that wakes it.
//!
//! Two triggers, one handler:
//! - the outbox's SQS FIFO queue: each record names a Relais request (`MessageGroupId` = the request, so one
//!   request's doorbells are handled one at a time, in order) and the function delivers that request's
//!   messages oldest first ([`deliver_request`]). A record whose request could not be read from the store is
//!   reported as a partial batch failure, with every later record (FIFO: the rest of the batch waits behind
//!   it), so SQS hands it back; past the queue's receive count it lands in the dead-letter queue, which has
//!   an alarm, and the schedule still delivers the message. A record naming a follow-up (Alma's ids to read
//!   back after a receipt or ship was answered) runs that follow-up instead; the read-backs a batch's own
//!   deliveries left are run after the batch, since this function rings no doorbell.
//! - a person's preflight event (`scripts/preflight`): the go-live preflight ([`crate::preflight`]) against the
//!   Alma this function is configured for, with its key, answered with the report.
//! - an EventBridge schedule (every minute): [`deliver_due`] over the whole open queue, for retries after Alma
//!   came back and for anything whose doorbell was lost, then the read-backs that are due. Each run then
//!   counts what is still open and emits a heartbeat with the counts of waiting and parked messages; the
//!   template's alarms read a missing heartbeat as a deliverer that stopped (or cannot read the table), and a
//!   parked count above zero as staff's work.
//!   A round can outlast the minute (a full outbox, a slow Alma), and EventBridge starts the next one
//!   regardless: each round first takes the schedule's lease in the store ([`SCHEDULED_ROUND_LEASE`]), and a
//!   run that finds it held does nothing, so that scheduled rounds never overlap and the deliverer's share of
//!   Alma's 25 calls a second stays one scheduled round plus the queue mapping's maximum concurrency.
//!
//! A message Alma still cannot take is not a failure here: it waits in the store with its next attempt's
//! time, and the schedule retries it. SQS's own retries are for the bridge's failures only, which keeps the
//! queue's receive count away from Alma's outages (a 72-hour outage would exhaust any receive count).

use super::events::{
    BatchItemFailure, DeliverAnswer, DeliverEvent, DoorbellBody, PreflightAnswer, RoundSummary, SkippedRound,
    SqsBatchResponse,
};
use crate::flows::Bridge;
use crate::flows::follow_up;
use crate::flows::outbox::{Doorbell, Round, deliver_due, deliver_request};
use crate::store::{ClaimOutcome, ClaimToken, FollowUp, IdempotencyKey, QueuedMessage};
use std::sync::OnceLock;
use std::time::Duration;

/// How long a scheduled round holds the schedule's lease: the deliver function's timeout (template.yaml), since
/// Lambda ends any run by then. A run that died holding it (a timeout, a crash) holds back the next rounds no
/// longer than that; a shorter lease would let the next minute's round start beside one still running.
pub const SCHEDULED_ROUND_LEASE: Duration = Duration::from_secs(120);

/// The key of the schedule's lease: an idempotency claim that is never committed, only released, so that the
/// store's conditional claim (taken if absent or if its lease ran out) is the lock.
pub fn scheduled_round_key() -> IdempotencyKey {
    IdempotencyKey::derive("outbox-scheduled-round", None, None, b"")
}

/// Rings by sending one message to the outbox's FIFO queue. Its SQS client is built when it first rings:
/// building an SDK client is a large share of a function's cold start (its endpoint rules; docs/benchmarks.md),
/// while a message waits in the outbox only when Alma failed, which most instances
/// never see.
pub struct SqsDoorbell {
    aws: aws_types::SdkConfig,
    client: OnceLock<aws_sdk_sqs::Client>,
    queue_url: String,
}

impl SqsDoorbell {
    /// A doorbell for `queue_url` whose SQS client waits until the first message is queued.
    pub fn built_on_first_ring(aws: aws_types::SdkConfig, queue_url: String) -> Self {
        Self { aws, client: OnceLock::new(), queue_url }
    }

    fn client(&self) -> &aws_sdk_sqs::Client {
        self.client.get_or_init(|| aws_sdk_sqs::Client::new(&self.aws))
    }
}

#[async_trait::async_trait]
impl Doorbell for SqsDoorbell {
    async fn ring(&self, message: &QueuedMessage, redrive: u32) -> Result<(), String> {
        // SQS drops a second message with the same deduplication id within five minutes: the message's own
        // idempotency key for its queueing, and a numbered variant for each re-drive.
        let dedup = match redrive {
            0 => message.key.to_string(),
            n => format!("{}-redrive-{n}", message.key),
        };
        self.client()
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(message.request.as_str())
            .message_deduplication_id(dedup)
            .message_body(DoorbellBody::new(&message.request).to_json())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
    }

    /// Sent before the function returns, since nothing runs after a Lambda function returns. Grouped by the
    /// request like its queued messages, and deduplicated by the follow-up's own id.
    async fn ring_follow_up(&self, follow_up: &FollowUp) -> Result<(), String> {
        self.client()
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(follow_up.request.as_str())
            .message_deduplication_id(&follow_up.id)
            .message_body(DoorbellBody::follow_up(&follow_up.request, &follow_up.id).to_json())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
    }
}

/// Answers one event: an SQS batch (the partial-batch-failure response), the schedule's tick, or a preflight.
pub async fn handle(bridge: &Bridge, event: DeliverEvent) -> DeliverAnswer {
    let batch = match event {
        DeliverEvent::Preflight(event) => {
            let report = crate::preflight::run(bridge, &event.preflight).await;
            let failed = report.checks.iter().filter(|c| !c.passed).count();
            tracing::info!(passed = report.passed, failed, "go-live preflight");
            return DeliverAnswer::Preflight(PreflightAnswer { preflight: report });
        }
        DeliverEvent::Schedule(_) => return scheduled_round(bridge).await,
        DeliverEvent::Queue(batch) => batch,
    };
    let mut answer = SqsBatchResponse::default();
    let mut delivered = false;
    for record in batch.records {
        let failed = BatchItemFailure { item_identifier: record.message_id };
        // After one failure the rest of the batch is handed back too: SQS FIFO keeps a group's order only if
        // nothing after a failed record is taken as done.
        if !answer.batch_item_failures.is_empty() {
            answer.batch_item_failures.push(failed);
            continue;
        }
        let Some(request) = DoorbellBody::request_of(&record.body) else {
            // Not one of ours: handing it back would only send it round again until the dead-letter queue.
            tracing::warn!(sqs_message = %failed.item_identifier, "outbox queue record without a Relais request id: dropped");
            continue;
        };
        let done = match DoorbellBody::follow_up_of(&record.body) {
            Some(id) => follow_up::run_by_id(bridge, &id).await,
            None => {
                delivered = true;
                deliver_request(bridge, &request).await.map(drop)
            }
        };
        if let Err(err) = done {
            tracing::error!(error = %err, "store unavailable while delivering; SQS will hand the record back");
            answer.batch_item_failures.push(failed);
        }
    }
    // A delivery's commit may have left read-backs, and this function rings no doorbell: they are done now.
    if delivered {
        run_follow_ups(bridge).await;
    }
    DeliverAnswer::Batch(answer)
}

/// One scheduled round, unless the previous one still holds the schedule's lease.
async fn scheduled_round(bridge: &Bridge) -> DeliverAnswer {
    let key = scheduled_round_key();
    let owner = round_token();
    match bridge.store.claim(&key, &owner, bridge.clock.now(), SCHEDULED_ROUND_LEASE).await {
        Ok(ClaimOutcome::InFlight { lease_until }) => {
            // The running round sends the heartbeat; a second one for a round that never ran would hide a
            // deliverer stuck on its lease from the heartbeat alarm.
            tracing::info!(%lease_until, "the previous scheduled outbox round is still running; this one does nothing");
            return DeliverAnswer::Skipped(SkippedRound { running_until: lease_until.to_string() });
        }
        Ok(ClaimOutcome::TookOverStale { previous_attempts }) => {
            tracing::warn!(previous_attempts, "a scheduled outbox round ended without its release (timed out?)");
        }
        // Never committed, so never done; should it ever read so, a round beside another beats no round at all.
        Ok(ClaimOutcome::Claimed | ClaimOutcome::Done(_)) => {}
        Err(err) => {
            // The round could not read the queue either: no heartbeat, as for a round whose walk failed.
            tracing::error!(error = %err, "store unavailable while taking the scheduled round's lease; no heartbeat");
            return DeliverAnswer::Round(RoundSummary { tried: 0, open: 0 });
        }
    }
    let round = deliver_due(bridge).await;
    tracing::info!(tried = round.tried, open = round.open, "scheduled outbox round");
    // Read-backs due for a retry, those the round's deliveries left, and any whose doorbell was lost.
    run_follow_ups(bridge).await;
    heartbeat(&round);
    if let Err(err) = bridge.store.release(&key, &owner).await {
        tracing::warn!(error = %err, "could not release the scheduled round's lease; it runs out by itself");
    }
    DeliverAnswer::Round(RoundSummary { tried: round.tried, open: round.open })
}

/// Runs the read-backs that are due; they never count as the outbox's and never fail the run.
async fn run_follow_ups(bridge: &Bridge) {
    match follow_up::run_due(bridge).await {
        Ok(round) if round != follow_up::FollowUpRound::default() => tracing::info!(
            finished = round.finished,
            retrying = round.retrying,
            given_up = round.given_up,
            "read-backs"
        ),
        Ok(_) => {}
        Err(err) => tracing::error!(error = %err, "store unavailable while reading back Alma's ids"),
    }
}

/// One token per scheduled run: random, so two instances of the deliverer never share one.
fn round_token() -> ClaimToken {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    ClaimToken::new(hex).expect("hex is a valid token")
}

/// The scheduled run's heartbeat, with the outbox's counts after the round. A run that cannot read the table
/// sends none: for the alarms, a deliverer that cannot see the queue is as good as stopped.
fn heartbeat(round: &Round) {
    if round.counted {
        crate::metrics::deliverer_heartbeat(round.open - round.parked, round.parked);
    } else {
        tracing::error!("store unavailable while counting the outbox; no heartbeat");
    }
}
