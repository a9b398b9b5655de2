//! Exactly-once actions: claim the message's idempotency key, act on Alma, then store the answer, the
//! correlation record and the history entry together, so that a repeated or concurrent delivery of the same
//! message never acts twice and a crash at any point neither loses nor repeats the action.
//!
//! The cases, in the order a delivery meets them:
//! - the key is done: answer the stored response, without calling Alma;
//! - another delivery holds it: wait briefly for its answer, else "Temporary Processing Failure";
//! - a delivery that died held it (lease ran out): the action first reads Alma's state ([`Attempt::Reconcile`])
//!   and only acts if Alma shows no trace of the earlier attempt;
//! - Alma refused (an NCIP Problem): nothing happened, so the claim is released and a retry may act;
//! - Alma's answer never came (timeout after sending, 5xx): the claim is kept until its lease runs out, and the
//!   retry after that reconciles; answered "Temporary Processing Failure" so Relais retries.
//!
//! When Alma cannot take a circulation message at all (unreachable, maintenance, its answer lost), the
//! message joins the outbox ([`queueing`]) and Relais is answered as Alma would have answered; messages of a
//! request with one already waiting queue behind it, and the outbox delivers them later through this same
//! driver ([`Origin::Outbox`]), under a delivery key of their own.
//!
//! This module is the one driver of those cases. Each NCIP service states only what differs ([`ExactlyOnce`]):
//! the message it forwards, how to read Alma's state after a takeover ([`ExactlyOnce::probe`]), which Alma
//! Problems mean "an earlier attempt did it", and what it answers and changes once Alma holds the action
//! ([`Done`], with a [`RecordChange`] value).

mod change;
mod queueing;
#[cfg(test)]
mod tests;

pub use change::{RecordChange, SideRule, Start, item_ids};
pub use queueing::retry_delay;
pub(crate) use queueing::{retry_later, settle};

use super::forward::{self, FailureKind, Reply};
use super::patron_id::{self, MatchPoint, Translation};
use super::{Bridge, NcipAnswer};
use crate::alma::{AlmaError, CallContext};
use crate::ncip::{self, InitiationHeader, Message, Problem, ServiceKind};
use crate::store::{
    Begin, ClaimOutcome, ClaimToken, Commit, CommitOutcome, Correlation, HistoryEntry, IdempotencyKey, ItemBarcode,
    Outcome, PatronKey, QueuedMessage, RelaisRequestId, StoredResponse,
};
use std::time::Duration;

/// How long a claim protects a delivery: longer than the longest the bridge spends on one message
/// (`BRIDGE_DEADLINE_MS`, at most 28 s), so a live delivery never loses its claim to a retry.
pub const CLAIM_LEASE: Duration = Duration::from_secs(30);

/// How long a concurrent duplicate waits for the first delivery's answer before asking Relais to retry.
const DUPLICATE_WAIT: Duration = Duration::from_secs(5);

/// Whether this attempt may act straight away or must first look for an earlier attempt's effect in Alma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The claim was free: no earlier delivery can have acted.
    Fresh,
    /// A stale claim was taken over: the delivery that held it may have acted, so Alma is read first.
    Reconcile,
}

/// How many times Alma's state may fail to read, in a way that is not an outage, before the bridge stops
/// retrying on its own and puts the message before staff: acting without knowing would risk doing it twice.
pub const PROBES_BEFORE_STAFF: u32 = 3;

/// The answer for Relais and the record change, once Alma holds the action.
#[derive(Debug, Clone)]
pub struct Done {
    /// The NCIP answer Relais gets (and a repeated delivery is given again).
    pub response: Message,
    /// What the action changes in the request's record.
    pub change: RecordChange,
}

/// What reading Alma's state after a takeover showed.
#[derive(Debug)]
pub enum Probe {
    /// The earlier attempt reached Alma: answer without acting again.
    Done(Box<Done>),
    /// Alma shows no trace of it: act.
    NotDone,
    /// Alma could not be read: whether the earlier attempt acted is still unknown.
    Unknown(AlmaError),
}

/// What one NCIP service tells the driver; everything else is the same for every service.
#[async_trait::async_trait]
pub trait ExactlyOnce: Send + Sync {
    /// The message for Alma, as received (header completed).
    fn outgoing(&self) -> &Message;

    /// The request's record as read beside the claim, before anything else is asked of the service on a delivery
    /// that may act: a service whose message alone does not say what to do learns it here, so that the record is
    /// read once per message. Not called for a repeat answered from the store.
    fn read_beside(&self, _record: Option<&Correlation>) {}

    /// The store already shows this very action done, so it is answered without Alma (AcceptItem resent with
    /// other details after the item was received). `record` is the request's record, read beside the claim.
    fn recorded_done(&self, _record: Option<&Correlation>) -> bool {
        false
    }

    /// The store shows the request already past this step, so Alma refusing the message with one of
    /// [`ExactlyOnce::done_problems`] confirms it rather than refuses it (a repeated check-in or cancel).
    fn repeat_expected(&self) -> bool {
        false
    }

    /// The patron identifier of the message when it names one of our patrons for Alma to match (borrowing
    /// side): translated into the partner's User Identifier Type before forwarding (`flows::patron_id`).
    fn patron_for_alma(&self) -> Option<&str> {
        None
    }

    /// The message's UserId, if any, names one of this institution's patrons (the borrowing side), so its
    /// AgencyId is the institution's. By default: when the patron is translated for Alma.
    fn names_our_patron(&self) -> bool {
        self.patron_for_alma().is_some()
    }

    /// The answer Relais gets when Alma cannot take the message now and it waits in the outbox. Only a message
    /// whose answer needs nothing from Alma can wait (its ids are echoed, its due date is the one Relais
    /// sent); `None`, the default, keeps answering "Temporary Processing Failure".
    fn queued_answer(&self) -> Option<Message> {
        None
    }

    /// The item the message names: a queued message carries it, so that a later CheckInItem of the item finds
    /// the request it must wait behind.
    fn item_barcode(&self) -> Option<&ItemBarcode> {
        None
    }

    /// Alma Problem types that mean "done before" when a repeat is expected or after a takeover.
    fn done_problems(&self) -> &'static [&'static str] {
        &[]
    }

    /// After a takeover: reads Alma's state to see whether the earlier attempt acted. The default reads
    /// nothing and acts; a service whose repeat would do harm in Alma reads first.
    async fn probe(&self, _bridge: &Bridge, _ctx: &CallContext) -> Probe {
        Probe::NotDone
    }

    /// The answer and record change once Alma holds the action: `reply` is Alma's answer when this attempt
    /// forwarded the message, `None` when the action was proven done before.
    async fn done(&self, bridge: &Bridge, reply: Option<&Message>, ctx: &CallContext) -> Done;
}

/// One message to carry out exactly once.
#[derive(Clone)]
pub struct Action<'a> {
    /// The NCIP service the message calls, named in its history and in any answer the bridge writes itself.
    pub service: ServiceKind,
    /// The key every delivery of this same message shares: what makes a repeat recognisable.
    pub key: IdempotencyKey,
    /// Whose history the message joins.
    pub request: RelaisRequestId,
    /// The message's initiation header, echoed in an answer the bridge writes itself (a Problem).
    pub header: Option<&'a InitiationHeader>,
    /// The message's bytes and who waits for the answer.
    pub inbound: Inbound<'a>,
}

/// A message as it reached a flow: its bytes, and from where.
#[derive(Clone, Copy)]
pub struct Inbound<'a> {
    /// The message's bytes as Relais sent them: what Alma receives, with only the header patched.
    pub received: &'a [u8],
    /// Whether Relais waits for the answer now or the outbox is delivering the message later.
    pub origin: Origin<'a>,
    /// The NCIP endpoint the front door accepted the message through (`None` from the outbox).
    pub endpoint: Option<&'a crate::flows::front_door::Endpoint>,
}

impl<'a> Inbound<'a> {
    /// A message Relais is sending now.
    pub fn from_relais(received: &'a [u8]) -> Self {
        Self { received, origin: Origin::Relais, endpoint: None }
    }
}

/// Who is waiting for the answer.
#[derive(Clone, Copy)]
pub enum Origin<'a> {
    /// Relais, now.
    Relais,
    /// Nobody: the outbox is delivering a message Relais was answered for earlier.
    Outbox(&'a QueuedMessage),
}

/// What the attempt did.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one value per message, moved once: boxing buys nothing")]
pub enum Effect {
    /// Alma holds the action (now or from an earlier attempt): store the record and answer.
    Done(Box<Done>),
    /// Alma refused: nothing changed anywhere.
    Refused(NcipAnswer),
    /// Alma will not act on it (a refusal that is not one of Alma's Problems: a wrong URL or key, an unknown
    /// partner, an answer that is not NCIP): Relais hears a Problem now. Its claim is kept when Alma may have
    /// acted all the same.
    Rejected(forward::Failure),
    /// Alma could not be asked, or its answer was lost, in an outage it will get over.
    Temporary {
        /// What went wrong, for the Temporary Processing Failure's text and the history.
        detail: String,
        /// Alma may have acted: the claim is kept, so that a retry after the lease reads Alma before acting.
        outcome_unknown: bool,
        /// Alma's `trackingId`, for the history.
        tracking_id: Option<String>,
    },
}

impl From<forward::Failure> for Effect {
    fn from(f: forward::Failure) -> Effect {
        match f.kind {
            FailureKind::Outage => {
                Effect::Temporary { detail: f.detail, outcome_unknown: f.outcome_unknown, tracking_id: f.tracking_id }
            }
            FailureKind::Refusal { .. } => Effect::Rejected(f),
        }
    }
}

/// Carries out `service`'s action at most once per key and answers with the NCIP bytes for Relais.
pub async fn carry_out(bridge: &Bridge, action: Action<'_>, service: &dyn ExactlyOnce, ctx: &CallContext) -> Vec<u8> {
    // From here on every log line of the message names the Relais request (the span was opened without it).
    tracing::Span::current().record("relais_request_id", action.request.as_str());
    if let Origin::Outbox(queued) = action.inbound.origin {
        return queueing::deliver(bridge, action.clone(), service, queued, ctx).await;
    }
    let owner = claim_token();
    let patron = patron_beside_claim(bridge, service);
    let (attempt, earlier, before) = match claim(bridge, &action, &owner, patron.as_ref(), ctx).await {
        Claimed::Act(attempt, earlier, before) => (attempt, earlier, before),
        Claimed::Replay(stored, open) => return replay(bridge, &action, service, stored, open, ctx).await,
        Claimed::Busy(problem) => {
            record_history(bridge, &action, Outcome::TemporaryFailure, Some(&problem), ctx, None).await;
            return ncip::write(&problem_answer(&action, problem));
        }
    };
    service.read_beside(before.record.as_ref());
    let queued_answer = service.queued_answer().filter(|_| bridge.settings.outbox.enabled);
    // Messages of a request reach Alma in the order Relais sent them: behind one still waiting, a message waits
    // too, even though Alma may be back.
    if !before.open_queue.is_empty() {
        return match queued_answer {
            Some(answer) => {
                let why = "waiting behind an earlier message for the same request";
                queueing::enqueue(bridge, &action, service, &owner, answer, (why, false, None), ctx).await
            }
            None => {
                let _ = bridge.store.release(&action.key, &owner).await;
                let problem = Problem::temporary_processing_failure(
                    "an earlier message for this request is still waiting for Alma; send this one again later",
                );
                record_history(bridge, &action, Outcome::TemporaryFailure, Some(&problem), ctx, None).await;
                ncip::write(&problem_answer(&action, problem))
            }
        };
    }
    match act(bridge, service, (attempt, earlier, &before), &action, ctx).await {
        Effect::Done(done) => commit(bridge, &action, &owner, ctx, (*done, before.record), Outcome::Success).await.body,
        Effect::Rejected(failure) => {
            failure.count_if_configuration_fault();
            if !failure.outcome_unknown {
                let _ = bridge.store.release(&action.key, &owner).await;
            }
            let problem = failure.refusal_problem();
            record_history(bridge, &action, Outcome::Problem, Some(&problem), ctx, failure.tracking_id).await;
            ncip::write(&problem_answer(&action, problem))
        }
        // Only for an Alma that has answered this bridge before: until then the outage may be a wrong URL,
        // and the answer is Temporary Processing Failure, never a success Alma will not see.
        Effect::Temporary { detail, outcome_unknown, tracking_id }
            if queued_answer.is_some() && super::reached::has_answered(bridge).await =>
        {
            let answer = queued_answer.expect("checked by the guard");
            let why = (detail.as_str(), outcome_unknown, tracking_id);
            queueing::enqueue(bridge, &action, service, &owner, answer, why, ctx).await
        }
        Effect::Refused(answer) => {
            if let Err(err) = bridge.store.release(&action.key, &owner).await {
                // The claim then simply expires; a retry will reconcile instead of acting blindly.
                tracing::warn!(error = %err, "could not release an idempotency claim");
            }
            let problem = answer.message.problems().first().cloned();
            let outcome = if problem.is_some() { Outcome::Problem } else { Outcome::Success };
            record_history(bridge, &action, outcome, problem.as_ref(), ctx, answer.tracking_id.clone()).await;
            ncip::write(&answer.message)
        }
        Effect::Temporary { detail, outcome_unknown, tracking_id } => {
            if !outcome_unknown {
                let _ = bridge.store.release(&action.key, &owner).await;
            }
            let detail = if queued_answer.is_some() {
                format!("{detail} (Alma has not answered the bridge at ALMA_NCIP_URL yet, so nothing was queued)")
            } else {
                detail
            };
            let problem = Problem::temporary_processing_failure(detail);
            record_history(bridge, &action, Outcome::TemporaryFailure, Some(&problem), ctx, tracking_id).await;
            ncip::write(&problem_answer(&action, problem))
        }
    }
}

/// One attempt at the action, under a claim: answer from the store's knowledge, from Alma's state after a
/// takeover, or by forwarding the message.
/// `earlier` counts the attempts before this one that left Alma's state unknown; `before` is what was read
/// beside the claim.
async fn act(
    bridge: &Bridge,
    service: &dyn ExactlyOnce,
    (attempt, earlier, before): (Attempt, u32, &ReadBeside),
    action: &Action<'_>,
    ctx: &CallContext,
) -> Effect {
    if service.recorded_done(before.record.as_ref()) {
        return Effect::Done(Box::new(service.done(bridge, None, ctx).await));
    }
    if attempt == Attempt::Reconcile {
        match service.probe(bridge, ctx).await {
            Probe::Done(done) => return Effect::Done(done),
            Probe::NotDone => {}
            // Only Alma saying "not there" proves the earlier attempt did not act; anything else leaves the
            // question open, so the claim is kept for the next retry to ask again. An outage is waited out;
            // an error the bridge does not recognise is asked again a few times, then put before staff.
            Probe::Unknown(err) => {
                let failure = forward::Failure::of(&err, "REST");
                if failure.kind == FailureKind::Outage || earlier < PROBES_BEFORE_STAFF {
                    return Effect::Temporary {
                        detail: failure.detail,
                        outcome_unknown: true,
                        tracking_id: failure.tracking_id,
                    };
                }
                let item = service.item_barcode().map_or("the item", |b| b.as_str());
                return Effect::Rejected(forward::Failure {
                    detail: format!(
                        "Alma could not show whether an earlier attempt already acted ({}); check {item} in Alma \
                         before sending the message again",
                        failure.detail
                    ),
                    outcome_unknown: true,
                    for_staff: true,
                    ..failure
                });
            }
        }
    }
    let patron = match patron_for_alma(bridge, service, action, before.patron_known, ctx).await {
        Ok(patron) => patron,
        Err(effect) => return effect,
    };
    let received = action.inbound.received;
    let (translated, point) =
        patron.as_ref().map_or((None, None), |(value, point)| (Some(value.as_str()), point.as_ref()));
    let patron = forward::PatronForAlma { translated, point, ours: service.names_our_patron() };
    match forward::to_alma(bridge, service.outgoing(), received, patron, action.header, ctx).await {
        Reply::Accepted(reply) => Effect::Done(Box::new(service.done(bridge, Some(&reply), ctx).await)),
        Reply::Refused(refusal)
            if (attempt == Attempt::Reconcile || service.repeat_expected())
                && refusal.message.problems().iter().any(|p| service.done_problems().contains(&p.type_name())) =>
        {
            Effect::Done(Box::new(service.done(bridge, None, ctx).await))
        }
        Reply::Refused(refusal) => Effect::Refused(refusal),
        Reply::Failed(failure) => failure.into(),
    }
}

/// The remembered-patron key to read beside the claim, for a message whose patron id may need translating.
fn patron_beside_claim(bridge: &Bridge, service: &dyn ExactlyOnce) -> Option<PatronKey> {
    let id = service.patron_for_alma()?;
    let partner = super::policy::partner_code(bridge, service.outgoing().initiation_header());
    patron_id::key_beside_claim(bridge, partner.as_deref(), id)
}

/// The patron identifier to put in the forwarded message, if it must change, with the match point it is of;
/// a patron Alma does not know in any form is refused here, as Alma would refuse them, without a forward.
/// `known`: whether the store remembers the id, when that was read beside the claim.
async fn patron_for_alma(
    bridge: &Bridge,
    service: &dyn ExactlyOnce,
    action: &Action<'_>,
    known: Option<bool>,
    ctx: &CallContext,
) -> Result<Option<(String, Option<MatchPoint>)>, Effect> {
    let Some(id) = service.patron_for_alma() else { return Ok(None) };
    let partner = super::policy::partner_code(bridge, service.outgoing().initiation_header());
    match patron_id::translate(bridge, partner.as_deref(), id, known, ctx).await {
        Ok(Translation::Use(value)) => {
            // Read by the translation just made, so no second partner read: the type follows the value.
            let point = patron_id::match_point(bridge, partner.as_deref(), ctx).await.ok().flatten();
            Ok(Some((value, point)))
        }
        Ok(Translation::Keep) => Ok(None),
        Ok(Translation::Unknown) => {
            let problem = Problem::unknown_user(&action.service, id);
            Err(Effect::Refused(NcipAnswer::new(ncip::problem_response(
                action.service.clone(),
                action.header,
                vec![problem],
            ))))
        }
        // A refused lookup is a Problem now; an outage waits (queued) or asks Relais to retry.
        Err(err) => {
            let mut failure = forward::Failure::of(&err, area_of_translation(&err));
            if let (AlmaError::Api { code, .. }, Some(partner)) = (&err, partner.as_deref())
                && code == crate::alma::PARTNER_NOT_FOUND
            {
                failure.detail = format!("Unknown partner {partner}: {}", failure.detail);
            }
            Err(failure.into())
        }
    }
}

/// The API-key area a failed translation called: the partner record when no user was read yet.
fn area_of_translation(err: &AlmaError) -> &'static str {
    match err {
        AlmaError::Api { code, .. } if code == crate::alma::PARTNER_NOT_FOUND => "Resource Sharing Partners",
        _ => "Users",
    }
}

#[expect(clippy::large_enum_variant, reason = "one value per message, moved once: boxing buys nothing")]
enum Claimed {
    /// Act, with the number of earlier attempts that left Alma's state unknown and what was read beside the
    /// claim.
    Act(Attempt, u32, ReadBeside),
    /// The message was done: its stored answer, and the request's open outbox messages (empty when the outbox
    /// is off).
    Replay(StoredResponse, Vec<QueuedMessage>),
    Busy(Problem),
}

/// What the store read beside a claim that was taken, for the attempt to decide on and commit against.
struct ReadBeside {
    /// The request's record; the commit starts from it and reads it again only on a version conflict.
    record: Option<Correlation>,
    /// The request's open outbox messages (empty when the outbox is off): a new message queues behind them.
    open_queue: Vec<QueuedMessage>,
    /// Whether the patron id the message names is remembered, when its key was read beside the claim.
    patron_known: Option<bool>,
}

/// Claims the message's key, reading the request's record, its open outbox messages and whether the `patron`
/// key is remembered in the same round trip ([`crate::store::Store::begin`]); a key found done is answered from
/// one read, with nothing written.
async fn claim(
    bridge: &Bridge,
    action: &Action<'_>,
    owner: &ClaimToken,
    patron: Option<&PatronKey>,
    ctx: &CallContext,
) -> Claimed {
    let waited_since = tokio::time::Instant::now();
    // Each poll is a conditional write (a failed one still costs DynamoDB a write unit): poll often at first,
    // when the other delivery is most likely about to finish, then back off.
    let mut pause = Duration::from_millis(50);
    // A message the outbox delivers neither queues behind others nor is compared with a queued copy.
    let open_queue = bridge.settings.outbox.enabled && matches!(action.inbound.origin, Origin::Relais);
    loop {
        let begin = Begin {
            key: &action.key,
            owner,
            request: &action.request,
            now: bridge.clock.now(),
            lease: CLAIM_LEASE,
            open_queue,
            patron,
        };
        let outcome = bridge.store.begin(begin).await;
        let (outcome, before) = match outcome {
            Ok(begun) => {
                let before = ReadBeside {
                    record: begun.record,
                    open_queue: begun.open_queue.unwrap_or_default(),
                    patron_known: begun.patron_known,
                };
                (begun.claim, before)
            }
            // Without the store the bridge cannot promise exactly-once, so it does not act at all.
            Err(err) => {
                tracing::error!(error = %err, "store unavailable while claiming");
                return Claimed::Busy(Problem::temporary_processing_failure("the bridge's store is unavailable"));
            }
        };
        match outcome {
            ClaimOutcome::Claimed => return Claimed::Act(Attempt::Fresh, 0, before),
            ClaimOutcome::TookOverStale { previous_attempts } => {
                tracing::info!(previous_attempts, "taking over a stale claim: reading Alma before acting");
                return Claimed::Act(Attempt::Reconcile, previous_attempts, before);
            }
            ClaimOutcome::Done(stored) => return Claimed::Replay(stored, before.open_queue),
            ClaimOutcome::InFlight { .. } => {
                let waited = waited_since.elapsed();
                if waited >= DUPLICATE_WAIT || ctx.remaining() < Duration::from_secs(1) {
                    return Claimed::Busy(Problem::temporary_processing_failure(
                        "the same message is being processed; send it again shortly",
                    ));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// A repeat of a message that was done: the stored answer, without Alma. Counted as replayed every time; the
/// history keeps the first replay only, so a later one writes nothing (the stored answer says whether the first
/// was recorded, so knowing it costs no extra read).
async fn replay(
    bridge: &Bridge,
    action: &Action<'_>,
    service: &dyn ExactlyOnce,
    stored: StoredResponse,
    open: Vec<QueuedMessage>,
    ctx: &CallContext,
) -> Vec<u8> {
    let open = if service.queued_answer().is_some() { open } else { Vec::new() };
    match queueing::resend_of_queued(bridge, action, open, ctx).await {
        queueing::Resend::Same => {
            super::history::log_outcome(&action.service, Outcome::Replayed);
            if !stored.replay_recorded {
                let entry = history_entry(bridge, action, Outcome::Replayed, None, ctx, None);
                if let Err(err) = bridge.store.record_replay(&action.key, &action.request, &entry).await {
                    tracing::warn!(error = %err, "could not record a replay in the history");
                }
            }
        }
        // Answered from the store as well; its history entry notes how it differed.
        queueing::Resend::Differed => super::history::log_outcome(&action.service, Outcome::Replayed),
        queueing::Resend::Replaced => {}
    }
    stored.body
}

/// What [`commit`] answers, and whether the record now holds the action (or a delivery that took over the
/// claim will make it hold it).
struct Committed {
    body: Vec<u8>,
    stored: bool,
}

/// The answer's bytes, with a due date that is the very instant Relais asked for (its DesiredDateDue read in
/// LIBRARY_TIME_ZONE) written in Relais's own text: Relais compares the DateDue it reads back with the one it
/// sent, and a zone-less midnight written back in UTC reads as the day before. Another due date Alma answered
/// goes in Alma's own text; one read through REST is written in UTC form. The idempotency keys still hash the
/// parsed instant, so keys stored before answers were written this way still match.
pub(super) fn answer_as_sent(bridge: &Bridge, action: &Action<'_>, answer: &Message, ctx: &CallContext) -> Vec<u8> {
    let zone = &bridge.settings.ncip.time_zone;
    // Relais's first: the writer takes the first text given for an instant.
    let mut sent = ncip::service_date_texts(action.inbound.received, &["DesiredDateDue"], zone);
    sent.extend(ctx.alma_date_texts());
    let texts: Vec<(jiff::Timestamp, &str)> = sent.iter().map(|(at, text)| (*at, text.as_str())).collect();
    ncip::write_with_date_texts(answer, &texts)
}

/// Stores the record, the answer and the history together; re-reads and re-applies on a version conflict
/// (another message for the same request committed in between). `outcome` is the history's word for it:
/// success, or delivered for a message from the outbox. `read` is the action's record as read beside the
/// claim, which the first try commits against without reading it again.
async fn commit(
    bridge: &Bridge,
    action: &Action<'_>,
    owner: &ClaimToken,
    ctx: &CallContext,
    (done, read): (Done, Option<Correlation>),
    outcome: Outcome,
) -> Committed {
    let body = answer_as_sent(bridge, action, &done.response, ctx);
    let failed = |body| Committed { body, stored: false };
    // Alma's ids are read after the answer: the work is recorded with the commit, so it is never lost once
    // Relais heard back, and started as soon as the commit holds.
    let follow_up = done.change.read_back.as_ref().map(|read_back| {
        super::follow_up::for_message(&action.key, &done.change.request, read_back, bridge.clock.now())
    });
    // The change's request, which a RequestItem without a RequestId renames to Alma's id once Alma answers:
    // the record read beside the claim is that request's only when the name stayed.
    let mut read = Some(read).filter(|_| done.change.request == action.request);
    for _ in 0..3 {
        let current = match read.take() {
            Some(current) => current,
            None => match bridge.store.get_request(&done.change.request).await {
                Ok(current) => current,
                Err(err) => return failed(store_failed_after_alma(bridge, action, ctx, &err).await),
            },
        };
        let expected_version = current.as_ref().map(|c| c.version);
        let now = bridge.clock.now();
        let mut record = done.change.clone().apply(current, now);
        record.updated_at = now;
        let mut history = history_entry(bridge, action, outcome, None, ctx, None);
        history.note = done.change.history_note.clone();
        let stored = bridge
            .store
            .commit(Commit {
                key: &action.key,
                owner,
                response: &body,
                record: &record,
                expected_version,
                history: &history,
                now: bridge.clock.now(),
                follow_up: follow_up.as_ref(),
            })
            .await;
        match stored {
            Ok(CommitOutcome::Committed { .. }) => {
                super::history::log_outcome(&action.service, outcome);
                if let Some(follow_up) = &follow_up {
                    super::follow_up::start(bridge, follow_up).await;
                }
                return Committed { body, stored: true };
            }
            // Another message for the same request committed in between: read the record again.
            Ok(CommitOutcome::VersionConflict) => {}
            Ok(CommitOutcome::ClaimLost) => {
                // A later delivery took over and will reconcile against Alma; this answer is still true.
                tracing::warn!("claim lost before commit; the delivery that took over completes the record");
                super::history::log_outcome(&action.service, outcome);
                return Committed { body, stored: true };
            }
            Err(err) => return failed(store_failed_after_alma(bridge, action, ctx, &err).await),
        }
    }
    tracing::error!("correlation record kept changing underneath; leaving the claim to expire and reconcile");
    super::history::log_outcome(&action.service, Outcome::TemporaryFailure);
    failed(ncip::write(&problem_answer(
        action,
        Problem::temporary_processing_failure("the request record is busy; send the message again"),
    )))
}

/// Alma acted but the record could not be written. The claim stays in flight so that Relais' retry, after the
/// lease, reads Alma's state and completes the record without acting again.
async fn store_failed_after_alma(
    bridge: &Bridge,
    action: &Action<'_>,
    ctx: &CallContext,
    err: &crate::store::StoreError,
) -> Vec<u8> {
    tracing::error!(error = %err, "store failed after Alma acted; the retry will reconcile");
    let problem =
        Problem::temporary_processing_failure("the bridge could not record Alma's answer; send the message again");
    record_history(bridge, action, Outcome::TemporaryFailure, Some(&problem), ctx, None).await;
    ncip::write(&problem_answer(action, problem))
}

fn problem_answer(action: &Action<'_>, problem: Problem) -> Message {
    ncip::problem_response(action.service.clone(), action.header, vec![problem])
}

async fn record_history(
    bridge: &Bridge,
    action: &Action<'_>,
    outcome: Outcome,
    problem: Option<&Problem>,
    ctx: &CallContext,
    tracking_id: Option<String>,
) {
    super::history::log_outcome(&action.service, outcome);
    let entry = history_entry(bridge, action, outcome, problem, ctx, tracking_id);
    if let Err(err) = bridge.store.append_history(&action.request, &entry).await {
        tracing::warn!(error = %err, "could not append history");
    }
    if matches!(action.inbound.origin, Origin::Relais) {
        super::history::list_problem(bridge, &action.request, action.header, &entry).await;
    }
}

pub(crate) fn history_entry(
    bridge: &Bridge,
    action: &Action<'_>,
    outcome: Outcome,
    problem: Option<&Problem>,
    ctx: &CallContext,
    tracking_id: Option<String>,
) -> HistoryEntry {
    super::history::entry(bridge, &action.service, outcome, problem, ctx, tracking_id)
}

/// One token per delivery attempt: random, so two Lambda instances never share one.
fn claim_token() -> ClaimToken {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    ClaimToken::new(hex).expect("hex is a valid token")
}
