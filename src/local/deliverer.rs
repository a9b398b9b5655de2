//! The local server's outbox worker: one background task that looks at the queue every
//! `LOCAL_OUTBOX_POLL_MS` and delivers what is due ([`bridge::flows::outbox::deliver_due`]). The queue is in
//! the embedded store, so what waits survives a restart and the next worker picks it up.
//!
//! Beside it, the same task reads Alma's ids back after an answer ([`bridge::flows::follow_up`]): woken by the
//! commit that left the work, so that it starts at once, and looking every poll for retries that fell due.

use bridge::Bridge;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Starts the worker, unless its polling is off (`LOCAL_OUTBOX_POLL_MS=0`: tests that drive delivery and
/// read-backs themselves). With the outbox off, only the read-backs run.
pub fn spawn(bridge: Arc<Bridge>) -> Option<JoinHandle<()>> {
    let poll = bridge.settings().local.outbox_poll;
    if poll.is_zero() {
        return None;
    }
    let outbox = Arc::clone(&bridge);
    let deliver = async move {
        if !outbox.settings().outbox.enabled {
            return;
        }
        loop {
            let round = bridge::flows::outbox::deliver_due(&outbox).await;
            if round.tried > 0 {
                tracing::debug!(tried = round.tried, open = round.open, "outbox round");
            }
            tokio::time::sleep(poll).await;
        }
    };
    let read_backs = async move {
        loop {
            match bridge::flows::follow_up::run_due(&bridge).await {
                Ok(round) if round.finished + round.retrying + round.given_up > 0 => {
                    tracing::debug!(finished = round.finished, retrying = round.retrying, "read-backs");
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "store unavailable while reading back Alma's ids"),
            }
            tokio::select! {
                () = bridge.follow_ups_woken() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    };
    Some(tokio::spawn(async move {
        tokio::join!(deliver, read_backs);
    }))
}
