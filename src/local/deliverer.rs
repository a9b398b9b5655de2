//! The local server's outbox worker: one background task that looks at the queue every
//! `LOCAL_OUTBOX_POLL_MS` and delivers what is due ([`bridge::flows::outbox::deliver_due`]). The queue is in
//! the embedded store, so what waits survives a restart and the next worker picks it up.

use bridge::Bridge;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// Starts the worker, unless the outbox is off or its polling is (`LOCAL_OUTBOX_POLL_MS=0`: tests that drive
/// delivery themselves).
pub fn spawn(bridge: Arc<Bridge>) -> Option<JoinHandle<()>> {
    let poll = bridge.settings().local.outbox_poll;
    if !bridge.settings().outbox.enabled || poll.is_zero() {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            let round = bridge::flows::outbox::deliver_due(&bridge).await;
            if round.tried > 0 {
                tracing::debug!(tried = round.tried, open = round.open, "outbox round");
            }
            tokio::time::sleep(poll).await;
        }
    }))
}
