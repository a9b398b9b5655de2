//! Whether Alma's NCIP responder at this deployment's `ALMA_NCIP_URL` has ever answered the bridge.
//!
//! The outbox holds a message through an outage only for an Alma the bridge has reached: until then a failure
//! to connect may as well be a wrong URL, and queueing it would tell Relais "done" for an action Alma will
//! never see. So the first NCIP answer from a URL (any answer that reads as NCIP, a Problem included) is
//! recorded once in the store, as a marker named by a digest of the URL; a new URL after a later deploy starts
//! unproven again. The process caches the fact, so the steady state costs no store trip.

use super::Bridge;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};

/// What the process knows of the marker: once true, never read again.
#[derive(Debug, Default)]
pub struct Reached(AtomicBool);

impl Reached {
    /// For the driver's own tests, whose scripted Alma has no URL: as if it had answered before.
    #[cfg(test)]
    pub(crate) fn assume_answered(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The store's marker for Alma's NCIP responder at `ncip_url`.
pub fn marker_for(ncip_url: &str) -> String {
    let digest = Sha256::digest(ncip_url.trim().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("alma-ncip-answered#{hex}")
}

fn marker(bridge: &Bridge) -> Option<String> {
    bridge.ncip.endpoint().map(marker_for)
}

/// Records that Alma's NCIP responder answered (called on every NCIP answer; a store read the first time in a
/// process, and a write only the first time ever).
pub(crate) async fn note_answer(bridge: &Bridge) {
    // Usually some earlier instance recorded it: a read (which caches it) is cheaper than a refused write.
    if has_answered(bridge).await {
        return;
    }
    let Some(marker) = marker(bridge) else { return };
    match bridge.store.record_marker(&marker, bridge.clock.now()).await {
        Ok(()) => {
            tracing::info!("Alma's NCIP responder answered: outages at this URL are now waited out in the outbox");
            bridge.alma_reached.0.store(true, Ordering::Relaxed);
        }
        // Tried again with the next answer; until then outages answer Temporary Processing Failure.
        Err(err) => tracing::warn!(error = %err, "could not record that Alma answered"),
    }
}

/// Whether Alma's NCIP responder at this URL has answered the bridge before. A store that cannot be read
/// counts as "not known": the message is then answered Temporary Processing Failure, never queued blind.
pub(crate) async fn has_answered(bridge: &Bridge) -> bool {
    if bridge.alma_reached.0.load(Ordering::Relaxed) {
        return true;
    }
    let Some(marker) = marker(bridge) else { return false };
    match bridge.store.has_marker(&marker).await {
        Ok(true) => {
            bridge.alma_reached.0.store(true, Ordering::Relaxed);
            true
        }
        Ok(false) => false,
        Err(err) => {
            tracing::warn!(error = %err, "could not read whether Alma has answered before");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_url_has_its_own_marker_and_spaces_do_not_make_a_new_one() {
        let a = marker_for("https://x.alma.exlibrisgroup.com/view/NCIPServlet");
        assert_eq!(a, marker_for(" https://x.alma.exlibrisgroup.com/view/NCIPServlet "));
        assert_ne!(a, marker_for("https://x.alma.exlibrisgroup.com/view/NCIPServletX"));
        assert!(a.starts_with("alma-ncip-answered#") && a.len() == "alma-ncip-answered#".len() + 32);
    }
}
