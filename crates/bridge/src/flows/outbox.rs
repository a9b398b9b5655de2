//! The outbox seen from outside the driver: delivering what waits (the local server's worker calls
//! [`deliver_due`]), and what staff see and do (`GET /queue`, re-drive, discard).
//!
//! Order: a request's messages are delivered oldest first, and only the oldest open one of a request is ever
//! tried; a parked message holds back the request's later messages until staff re-drive or discard it.
//!
//! Who delivers: locally the server's worker calls [`deliver_due`] every second. On AWS the `deliver` function
//! does, woken two ways: a [`Doorbell`] rung when a message is queued or re-driven (a message on the outbox's
//! FIFO queue, grouped by request: [`deliver_request`]), and a schedule every minute for retries
//! ([`deliver_due`]).

use std::collections::HashSet;

use super::once::{self, Inbound, Origin};
use super::{Bridge, parse};
use crate::alma::CallContext;
use crate::ncip::{self, InitiationHeader, Problem};
use crate::store::{
    Correlation, HistoryEntry, ItemBarcode, Outcome, QueueState, QueuedMessage, RelaisRequestId, RequestStatus, Side,
    StoreError,
};
use tracing::Instrument;

/// Wakes the deliverer for a request as soon as one of its messages is queued or re-driven. Ringing is only a
/// shortcut: the scheduled look at the queue finds the message anyway, so a failed ring loses nothing.
#[async_trait::async_trait]
pub trait Doorbell: Send + Sync {
    /// `message` joined the queue (or was re-driven, the `redrive`-th time): deliver its request now.
    async fn ring(&self, message: &QueuedMessage, redrive: u32) -> Result<(), String>;

    /// A commit left follow-up work (Alma's ids to read back): do it now. By default nobody is woken, and the
    /// deliverer's schedule does it.
    async fn ring_follow_up(&self, _follow_up: &crate::store::FollowUp) -> Result<(), String> {
        Ok(())
    }
}

/// Rings the bridge's doorbell, if it has one.
pub(crate) async fn ring(bridge: &Bridge, message: &QueuedMessage, redrive: u32) {
    if let Some(doorbell) = &bridge.doorbell
        && let Err(err) = doorbell.ring(message, redrive).await
    {
        tracing::warn!(error = %err, queued_message = %message.id, "could not wake the deliverer; the schedule will");
    }
}

/// Delivers the request's messages, oldest first, while Alma takes them: what a doorbell asks for. A head
/// that waits for its next retry is tried at once all the same (a new message or a re-drive is news).
pub async fn deliver_request(bridge: &Bridge, request: &RelaisRequestId) -> Result<Round, StoreError> {
    let mut round = Round::default();
    loop {
        let open: Vec<QueuedMessage> =
            bridge.store.queued_for(request).await?.into_iter().filter(|m| m.state.is_open()).collect();
        round.open = open.len();
        let Some(head) = open.first().filter(|m| m.state == QueueState::Waiting) else { return Ok(round) };
        round.tried += 1;
        if deliver_one(bridge, head).await.state != Some(QueueState::Delivered) {
            round.open = bridge.store.queued_for(request).await?.iter().filter(|m| m.state.is_open()).count();
            return Ok(round);
        }
    }
}

/// The most open messages one look at the queue reads.
pub const QUEUE_PAGE: usize = 500;

/// What one round of delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Messages tried.
    pub tried: usize,
    /// Messages still open after the round (waiting or parked, including ones not yet due).
    pub open: usize,
    /// Of those, the parked ones (the rest wait): the deliverer's gauges, counted on the round's own walk of
    /// the queue rather than on a second one.
    pub parked: usize,
    /// Whether the queue could be read at all: without it the counts say nothing.
    pub counted: bool,
}

/// How long one round may go on starting deliveries: well inside the deliver function's 120 s timeout with a
/// message's own deadline on top; what is left waits for the next round.
const ROUND_BUDGET: std::time::Duration = std::time::Duration::from_secs(60);

/// Carries out staff's pending bulk actions, then tries every request's oldest open message that is due,
/// once, the longest-due first. A message that fails
/// for its own reasons (a poison message) costs only its own turn; the round stops early only when Alma itself
/// is down, since every other message would fail the same way and is tried in the next round.
pub async fn deliver_due(bridge: &Bridge) -> Round {
    let started = tokio::time::Instant::now();
    // Staff's bulk actions first: what they re-drove is then due in this very round.
    super::bulk::carry_out_pending(bridge).await;
    let now = bridge.clock.now();
    // A first pass over every page keeps only what ordering needs; each due head is read again when its turn
    // comes, so a full outbox never sits in memory at once.
    let mut seen = HashSet::new();
    let mut due: Vec<(jiff::Timestamp, String)> = Vec::new();
    let mut oldest_waiting: Option<jiff::Timestamp> = None;
    let mut round = Round::default();
    let walked = walk_open_queue(bridge, |page| {
        round.open += page.len();
        round.parked += page.iter().filter(|m| m.state == QueueState::Parked).count();
        for m in page {
            if m.state == QueueState::Waiting {
                oldest_waiting = Some(oldest_waiting.map_or(m.queued_at, |o| o.min(m.queued_at)));
            }
            // Pages come oldest first, so the first message seen of a request is its head; a parked head holds
            // its request back.
            if seen.insert(m.request.clone()) && m.state == QueueState::Waiting && m.next_attempt_at <= now {
                due.push((m.next_attempt_at, m.id.clone()));
            }
        }
        true
    })
    .await;
    if let Err(err) = walked {
        tracing::error!(error = %err, "store unavailable while reading the outbox");
        return Round::default();
    }
    round.counted = true;
    if let Some(oldest) = oldest_waiting {
        crate::metrics::outbox_oldest_age(now.duration_since(oldest).as_secs_f64());
    }
    due.sort();
    for (_, id) in due {
        if started.elapsed() > ROUND_BUDGET {
            break;
        }
        // Read again: staff or another deliverer may have acted on it since the walk.
        let Ok(Some(message)) = bridge.store.open_message(&id).await else { continue };
        if message.state != QueueState::Waiting {
            continue;
        }
        round.tried += 1;
        let delivery = deliver_one(bridge, &message).await;
        match delivery.state {
            Some(QueueState::Delivered) => round.open -= 1,
            Some(QueueState::Parked) => round.parked += 1,
            _ => {}
        }
        if delivery.alma_down {
            break;
        }
    }
    round
}

/// Hands every open message to `visit`, oldest first, a page at a time, until `visit` says stop (`false`) or
/// the queue ends: the outbox's bound keeps the walk finite, and no open message is ever beyond reach.
pub(crate) async fn walk_open_queue(
    bridge: &Bridge,
    mut visit: impl FnMut(&[QueuedMessage]) -> bool,
) -> Result<(), StoreError> {
    let mut page = bridge.store.open_queue(QUEUE_PAGE).await?;
    loop {
        if !visit(&page) || page.len() < QUEUE_PAGE {
            return Ok(());
        }
        let Some(last) = page.last() else { return Ok(()) };
        page = bridge.store.open_queue_after(&last.id, QUEUE_PAGE).await?;
    }
}

/// What one delivery attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The state the message is in afterwards (`None` when it could not be read back).
    pub state: Option<QueueState>,
    /// The attempt ended on an Alma-wide outage (no answer, a gateway or maintenance status, the threshold):
    /// the messages after it would fail the same way.
    pub alma_down: bool,
}

/// One delivery attempt of `message`.
pub async fn deliver_one(bridge: &Bridge, message: &QueuedMessage) -> Delivery {
    let span = tracing::info_span!(
        "outbox",
        message_type = %message.message_type,
        queued_message = %message.id,
        relais_request_id = tracing::field::Empty
    );
    let (answer, alma_down) = redeliver(bridge, message).instrument(span).await;
    Delivery { state: state_after(bridge, message, &answer).await, alma_down }
}

/// The message's state after an attempt that answered `answer`.
async fn state_after(bridge: &Bridge, message: &QueuedMessage, answer: &[u8]) -> Option<QueueState> {
    let after = bridge.store.queued_for(&message.request).await.ok()?.into_iter().find(|m| m.id == message.id)?;
    if after.updated_at != message.updated_at || after.state != message.state {
        return Some(after.state);
    }
    // The flow answered without reaching the driver (the message no longer reads as one the driver takes, or
    // the store failed first): settle from the answer itself.
    let problem = ncip::read(answer, &bridge.read_options).ok().and_then(|m| m.problems().first().cloned());
    match problem {
        None => once::settle(bridge, message, QueueState::Delivered, None).await,
        Some(p) if p.type_name() == "Temporary Processing Failure" => {
            once::retry_later(bridge, message, p.detail.unwrap_or_default(), false).await;
        }
        Some(p) => once::settle(bridge, message, QueueState::Parked, Some(p.type_name().to_owned())).await,
    }
    bridge.store.queued_for(&message.request).await.ok()?.into_iter().find(|m| m.id == message.id).map(|m| m.state)
}

/// Reads the queued message again and hands it to its flow as a delivery; the answer, and whether the last
/// Alma call of the attempt met an outage.
async fn redeliver(bridge: &Bridge, queued: &QueuedMessage) -> (Vec<u8>, bool) {
    let message = match parse::read(&queued.body, &bridge.read_options).await {
        Ok(message) => message,
        Err(err) => return (ncip::write(&ncip::error_response(&err, None)), false),
    };
    let inbound = Inbound { received: &queued.body, origin: Origin::Outbox(queued), endpoint: None };
    let ctx = CallContext::new(bridge.settings.deadline);
    let service = message.service();
    let answer = match super::ServiceFlow::among(&super::ServiceFlow::QUEUEABLE, &service) {
        Some(flow) => flow.answer(bridge, message, inbound, &ctx).await,
        None => {
            let problem = Problem::unsupported_service(service.element_name());
            ncip::write(&ncip::problem_response(service.clone(), message.initiation_header(), vec![problem]))
        }
    };
    let calls = ctx.calls();
    crate::metrics::alma_calls(service.element_name(), &calls);
    let alma_down = calls.last().is_some_and(|call| match call.status {
        None => true,
        Some(status) => matches!(status, 429 | 500 | 502 | 503 | 504),
    });
    (answer, alma_down)
}

/// The oldest open receive or ship of `barcode`, which a check-in of the item must wait behind: one
/// lookup of the item's open messages, however long the queue.
pub(crate) async fn waiting_for_item(bridge: &Bridge, barcode: &ItemBarcode) -> Option<QueuedMessage> {
    if !bridge.settings.outbox.enabled {
        return None;
    }
    let open = match bridge.store.open_for_barcode(barcode).await {
        Ok(open) => open,
        Err(err) => {
            tracing::warn!(error = %err, "store unavailable while looking for a waiting receive");
            return None;
        }
    };
    open.into_iter().find(|m| matches!(m.message_type.as_str(), "AcceptItem" | "CheckOutItem"))
}

/// The record `head` will make once Alma takes it: what a check-in queued behind it starts from.
pub(crate) fn expected_record(
    bridge: &Bridge,
    head: &QueuedMessage,
    barcode: &ItemBarcode,
    header: Option<&InitiationHeader>,
) -> Correlation {
    let (side, status) = match head.message_type.as_str() {
        "CheckOutItem" => (Side::Lending, RequestStatus::Shipped),
        _ => (Side::Borrowing, RequestStatus::OnHoldShelf),
    };
    let partner = super::ids::partner(bridge, header);
    let mut record = Correlation::new(head.request.clone(), side, partner, status, head.queued_at);
    record.item_barcodes.push(barcode.clone());
    record
}

/// Why a staff action on a queued message was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum QueueRefusal {
    /// No open message has that id.
    Unknown,
    /// The message is not in a state the action applies to.
    NotApplicable(&'static str),
    /// A discard needs a note saying why.
    NoteRequired,
    /// The message is still waiting for Alma (not parked): discarding it needs staff to say so explicitly.
    ForceRequired,
    /// The store could not be read or written.
    StoreUnavailable,
}

/// How many open messages one page of the staff's queue view shows.
pub const STAFF_PAGE: usize = 100;

/// One page of the open queue for staff: the messages after `after` (a message id), the total of open
/// messages, and the id to ask for the next page from (none on the last page).
#[derive(Debug, Clone)]
pub struct QueuePage {
    /// The page's messages, oldest first.
    pub messages: Vec<QueuedMessage>,
    /// Every open message, on any page.
    pub total: u64,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
}

/// The page of the open queue after the message `after` (the first page without one).
pub async fn open_page(bridge: &Bridge, after: Option<&str>) -> Result<QueuePage, QueueRefusal> {
    let unavailable = |err: StoreError| {
        tracing::error!(error = %err, "store unavailable for the queue view");
        QueueRefusal::StoreUnavailable
    };
    // One more than the page, to know whether a next page exists.
    let mut messages = match after {
        Some(after) if crate::store::is_queue_id(after) => bridge.store.open_queue_after(after, STAFF_PAGE + 1).await,
        Some(_) => return Err(QueueRefusal::Unknown),
        None => bridge.store.open_queue(STAFF_PAGE + 1).await,
    }
    .map_err(unavailable)?;
    let more = messages.len() > STAFF_PAGE;
    messages.truncate(STAFF_PAGE);
    let next = more.then(|| messages.last().map(|m| m.id.clone())).flatten();
    let total = bridge.store.open_count().await.map_err(unavailable)?;
    Ok(QueuePage { messages, total, next })
}

/// A staff decision on a queued message, as the request's history keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffAction {
    /// The acting token's fingerprint (`Secret::fingerprint`), never the token: which credential acted.
    pub acted_by: String,
    /// What staff wrote (why they re-drove or discarded); a discard must have one.
    pub note: Option<String>,
    /// For a discard: staff confirm giving up a message that is still waiting for Alma rather than parked (it
    /// may yet be delivered, so giving it up is a decision to make on purpose). A re-drive ignores it.
    pub force: bool,
}

/// Staff fixed the cause in Alma: the parked message (or a waiting one, now) is tried again at once.
pub async fn redrive(bridge: &Bridge, id: &str, action: StaffAction) -> Result<QueuedMessage, QueueRefusal> {
    let message = open_message(bridge, id).await?;
    let redriven = redrive_in_round(bridge, &message, action).await?;
    ring(bridge, &redriven, redriven.attempts.max(1)).await;
    Ok(redriven)
}

/// Re-drives `message` as read, without waking the deliverer: for a bulk action, which the deliverer itself
/// carries out just before it delivers what is due.
pub(crate) async fn redrive_in_round(
    bridge: &Bridge,
    message: &QueuedMessage,
    action: StaffAction,
) -> Result<QueuedMessage, QueueRefusal> {
    let now = bridge.clock.now();
    let redriven = QueuedMessage {
        state: QueueState::Waiting,
        next_attempt_at: now,
        note: action.note.clone().or_else(|| message.note.clone()),
        updated_at: now,
        ..message.clone()
    };
    change(bridge, message, &redriven, Outcome::Redriven, action).await?;
    Ok(redriven)
}

/// Staff give the message up (they did it in Alma by hand, or it should never happen): it leaves the queue
/// and the request's later messages go ahead. A message still waiting for Alma is given up only with
/// `force`: the deliverer would otherwise take it to Alma as soon as Alma is back.
pub async fn discard(bridge: &Bridge, id: &str, action: StaffAction) -> Result<QueuedMessage, QueueRefusal> {
    if action.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(QueueRefusal::NoteRequired);
    }
    let message = open_message(bridge, id).await?;
    discard_message(bridge, &message, action).await
}

/// Discards `message` as read (see [`discard`]).
pub(crate) async fn discard_message(
    bridge: &Bridge,
    message: &QueuedMessage,
    action: StaffAction,
) -> Result<QueuedMessage, QueueRefusal> {
    let note = action.note.clone().filter(|n| !n.trim().is_empty()).ok_or(QueueRefusal::NoteRequired)?;
    if message.state == QueueState::Waiting && !action.force {
        return Err(QueueRefusal::ForceRequired);
    }
    let now = bridge.clock.now();
    // Given up: the body (which names the patron) goes, its digest (the key) and the history stay.
    let discarded = QueuedMessage {
        state: QueueState::Discarded,
        note: Some(note),
        updated_at: now,
        body: Vec::new(),
        ..message.clone()
    };
    change(bridge, message, &discarded, Outcome::Discarded, action).await?;
    Ok(discarded)
}

async fn open_message(bridge: &Bridge, id: &str) -> Result<QueuedMessage, QueueRefusal> {
    if !crate::store::is_queue_id(id) {
        return Err(QueueRefusal::Unknown);
    }
    match bridge.store.open_message(id).await {
        Ok(Some(message)) => Ok(message),
        Ok(None) => Err(QueueRefusal::Unknown),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable for a queue action");
            Err(QueueRefusal::StoreUnavailable)
        }
    }
}

/// Writes a staff decision (only over the state it was taken on) and records it in the request's history,
/// with the note and the fingerprint of the token that took it.
async fn change(
    bridge: &Bridge,
    from: &QueuedMessage,
    to: &QueuedMessage,
    outcome: Outcome,
    action: StaffAction,
) -> Result<(), QueueRefusal> {
    let now = bridge.clock.now();
    match bridge.store.update_queued(to, from.state, now).await {
        Ok(true) => {}
        Ok(false) => return Err(QueueRefusal::NotApplicable("the message changed meanwhile; look again")),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable for a queue action");
            return Err(QueueRefusal::StoreUnavailable);
        }
    }
    let mut entry = HistoryEntry::new(from.message_type.clone(), now, outcome);
    entry.note = action.note;
    entry.acted_by = Some(action.acted_by.clone());
    if let Err(err) = bridge.store.append_history(&from.request, &entry).await {
        tracing::warn!(error = %err, "could not append history");
    }
    tracing::info!(
        queued_message = %from.id,
        action = outcome.label(),
        acted_by = %action.acted_by,
        "outbox staff action"
    );
    Ok(())
}
