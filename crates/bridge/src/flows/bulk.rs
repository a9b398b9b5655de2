//! Staff actions over many queued messages at once (see `bridge_store::BulkAction`): staff ask how many open
//! messages a filter picks, confirm the action with that count, and the deliverer carries it out at the start
//! of its next round (locally the worker, within a second; on AWS the scheduled run, within a minute), with
//! the same conditional write and history entry as a single re-drive or discard.
//!
//! The count is part of the confirmation: if the queue changed between the preview and the confirmation, the
//! action is refused with the new count, so staff never act on more (or other) messages than they saw.

use super::Bridge;
use super::outbox::{self, QueueRefusal, StaffAction, walk_open_queue};
use crate::store::{BulkAction, BulkKind, BulkState, QueueFilter, QueueState, QueuedMessage, StoreError};

/// How many bulk actions the staff page lists (pending ones first come from the newest).
pub const LISTED: usize = 20;

/// The open messages `filter` picks now: what staff see before they confirm.
pub async fn preview(bridge: &Bridge, filter: &QueueFilter) -> Result<u32, QueueRefusal> {
    let now = bridge.clock.now();
    let mut matching = 0u32;
    walk_open_queue(bridge, |page| {
        matching += page.iter().filter(|m| filter.matches(m, now)).count() as u32;
        true
    })
    .await
    .map_err(unavailable)?;
    Ok(matching)
}

/// Why a bulk action was not recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum BulkRefusal {
    /// The filter picks a different number of messages than staff confirmed: they should look again.
    CountChanged {
        /// What the filter picks now.
        now: u32,
    },
    /// Nothing matches: there is nothing to do.
    NothingMatches,
    /// A discard without force may pick parked messages only: giving up messages still waiting for Alma is a
    /// decision staff take on purpose, as for a single message.
    ForceRequired,
    /// Like a single action: a note missing on a discard, or the store.
    Queue(QueueRefusal),
}

/// Records a bulk action over the messages `filter` picks, if they are still the `expected` count staff were
/// shown. The deliverer carries it out.
pub async fn confirm(
    bridge: &Bridge,
    kind: BulkKind,
    filter: QueueFilter,
    expected: u32,
    staff: StaffAction,
) -> Result<BulkAction, BulkRefusal> {
    let note = staff.note.clone().filter(|n| !n.trim().is_empty());
    if kind == BulkKind::Discard && note.is_none() {
        return Err(BulkRefusal::Queue(QueueRefusal::NoteRequired));
    }
    if kind == BulkKind::Discard && !staff.force && filter.state != Some(QueueState::Parked) {
        return Err(BulkRefusal::ForceRequired);
    }
    let matching = preview(bridge, &filter).await.map_err(BulkRefusal::Queue)?;
    if matching != expected {
        return Err(BulkRefusal::CountChanged { now: matching });
    }
    if matching == 0 {
        return Err(BulkRefusal::NothingMatches);
    }
    let nonce: [u8; 4] = rand::random();
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let mut action = BulkAction::new(kind, filter, matching, bridge.clock.now(), &nonce);
    action.acted_by = staff.acted_by;
    action.note = note;
    action.force = staff.force;
    bridge.store.record_bulk(&action).await.map_err(|err| BulkRefusal::Queue(unavailable(err)))?;
    tracing::info!(
        bulk_action = %action.id,
        action = kind.label(),
        matched = matching,
        acted_by = %action.acted_by,
        "outbox bulk action confirmed"
    );
    Ok(action)
}

/// The bulk actions staff see on the queue page, newest first.
pub async fn listed(bridge: &Bridge) -> Result<Vec<BulkAction>, QueueRefusal> {
    bridge.store.bulk_actions(LISTED).await.map_err(unavailable)
}

/// Carries out every pending bulk action, oldest first: what the deliverer does before it delivers, so that
/// re-driven messages go to Alma in the same round.
pub async fn carry_out_pending(bridge: &Bridge) {
    let pending = match bridge.store.bulk_actions(LISTED).await {
        Ok(actions) => actions.into_iter().filter(|a| a.state == BulkState::Pending).collect::<Vec<_>>(),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable while reading bulk actions");
            return;
        }
    };
    for action in pending.into_iter().rev() {
        if let Err(err) = carry_out(bridge, action).await {
            tracing::error!(error = %err, "a bulk action stopped; the next round goes on from where it stopped");
            return;
        }
    }
}

/// Walks the open queue from the action's cursor, acting on each message it applies to and writing its
/// progress after each page; stops if another deliverer wrote progress meanwhile (it carries the action on).
async fn carry_out(bridge: &Bridge, mut action: BulkAction) -> Result<(), StoreError> {
    loop {
        let page = match &action.cursor {
            Some(after) => bridge.store.open_queue_after(after, outbox::QUEUE_PAGE).await?,
            None => bridge.store.open_queue(outbox::QUEUE_PAGE).await?,
        };
        let last_page = page.len() < outbox::QUEUE_PAGE;
        for message in &page {
            if action.filter.matches(message, action.confirmed_at) {
                if action.applies_to(message) && act_on(bridge, &action, message).await? {
                    action.done += 1;
                } else {
                    action.skipped += 1;
                }
            }
        }
        let expected = action.updated_at;
        action.cursor = page.last().map(|m| m.id.clone()).or(action.cursor);
        action.updated_at = bridge.clock.now().max(expected + jiff::SignedDuration::from_nanos(1));
        if last_page {
            action.state = BulkState::Done;
        }
        if !bridge.store.update_bulk(&action, expected).await? {
            return Ok(());
        }
        if last_page {
            tracing::info!(
                bulk_action = %action.id,
                done = action.done,
                skipped = action.skipped,
                "outbox bulk action carried out"
            );
            return Ok(());
        }
    }
}

/// One message of a bulk action, like the single staff action; false when the message changed meanwhile.
async fn act_on(bridge: &Bridge, action: &BulkAction, message: &QueuedMessage) -> Result<bool, StoreError> {
    let staff = StaffAction {
        acted_by: action.acted_by.clone(),
        note: Some(match &action.note {
            Some(note) => format!("{note} (bulk action {})", action.id),
            None => format!("bulk action {}", action.id),
        }),
        force: action.force,
    };
    let done = match action.kind {
        BulkKind::Redrive => outbox::redrive_in_round(bridge, message, staff).await,
        BulkKind::Discard => outbox::discard_message(bridge, message, staff).await,
    };
    match done {
        Ok(_) => Ok(true),
        Err(QueueRefusal::StoreUnavailable) => {
            Err(StoreError::Unavailable { operation: "bulk action", cause: "a message could not be changed" })
        }
        Err(_) => Ok(false),
    }
}

fn unavailable(err: StoreError) -> QueueRefusal {
    tracing::error!(error = %err, "store unavailable for a bulk action");
    QueueRefusal::StoreUnavailable
}
