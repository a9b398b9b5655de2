//! Slowing PIN guessing, which LookupUser would otherwise allow as fast as Alma answers, without handing a
//! guesser a way to lock real patrons out unseen. The counts live in the store, so every Lambda instance sees
//! the same ones; keys are keyed hashes under `LOG_HASH_KEY`, never the identifier.
//!
//! - **Per patron**: after `PATRON_LOCKOUT_FAILURES` checks the patron is locked for `PATRON_LOCKOUT_MINUTES`,
//!   and each check counted after a lock doubles the next (up to a day). A locked check is answered at once,
//!   with User Authentication Failed and a detail saying until when the account is locked: a patron typing
//!   the right PIN is told the truth rather than that the PIN is wrong. The lock is a "not before" time in
//!   the store, never a wait inside the request (a sleeping check would let a guesser hold every instance).
//! - The count is taken *before* the check (an attempt under way counts), so that concurrent guesses cannot
//!   all slip in under the limit, and a successful check clears it.
//! - It is kept under the patron Alma resolved (its primary id), whichever identifier was sent: a patron's
//!   barcode, primary id and university id share one count. An identifier Alma does not know is counted under
//!   the identifier as sent (trimmed, case folded) and locked alike, with the same answer, so a lockout tells
//!   nothing about which patrons exist.
//! - **Per endpoint**: failed checks are counted per NCIP endpoint token the front door accepted (a short hash
//!   it passes in the invoke), not per the FromAgencyId a caller writes, which costs nothing to invent. Past
//!   `PATRON_LOCKOUT_AGENCY_FAILURES` within the period, checks are *throttled*: answered with Temporary
//!   Processing Failure and the time to send again, which Relais retries, and the `PinLockouts` metric
//!   (`Scope` = `Endpoint`) raises the template's alarm. A flood through the endpoint therefore never makes a
//!   correct PIN look wrong. Nothing clears the count: a caller cannot reset it by mixing in a PIN it knows.
//!
//! When the store cannot be read or written, the check goes ahead without the lockout (logged): an outage of
//! the table must not stop patrons from borrowing.

use jiff::Timestamp;

use crate::flows::Bridge;
use crate::flows::front_door::Endpoint;
use crate::logging::keyed_digest;
use crate::store::{Attempt, AttemptKey, AttemptRule, AttemptScope};

/// The count of one endpoint's failed checks: a plain count (it never locks by itself; [`throttled`] reads it).
fn endpoint_rule(bridge: &Bridge) -> AttemptRule {
    let period = bridge.settings.patron.lockout.period;
    AttemptRule { limit: u32::MAX, lock: period, keep: period }
}

fn patron_rule(bridge: &Bridge) -> AttemptRule {
    let policy = bridge.settings.patron.lockout;
    AttemptRule { limit: policy.patron_failures, lock: policy.period, keep: policy.period }
}

fn key(bridge: &Bridge, scope: AttemptScope, domain: &str, id: &str) -> Option<AttemptKey> {
    AttemptKey::new(scope, &keyed_digest(&bridge.settings.log_hash_key, domain, id))
}

/// The endpoint's failure count; `None` when the endpoint limit is off.
pub(super) fn endpoint_key(bridge: &Bridge, endpoint: Option<&Endpoint>) -> Option<AttemptKey> {
    // A message without an endpoint came by a path the front door did not take (a test calling a service
    // directly): such messages share one count.
    let endpoint = endpoint.map_or("-", Endpoint::as_str);
    (bridge.settings.patron.lockout.agency_failures > 0)
        .then(|| key(bridge, AttemptScope::Agency, "endpoint", endpoint))
        .flatten()
}

/// Before anything is asked of Alma: `Err(until)` when the endpoint has failed too many checks lately, and
/// checks through it wait until then.
pub(super) async fn throttled(bridge: &Bridge, endpoint: Option<&AttemptKey>) -> Result<(), Timestamp> {
    let Some(endpoint) = endpoint else { return Ok(()) };
    let limit = bridge.settings.patron.lockout.agency_failures;
    match bridge.store.attempts(endpoint, bridge.clock.now()).await {
        Ok(Some(count)) if count.count >= limit => {
            crate::metrics::pin_lockout("Endpoint");
            tracing::warn!(
                scope = "Endpoint",
                until = %count.expires_at,
                "secret checks throttled: too many failed checks through this endpoint"
            );
            Err(count.expires_at)
        }
        Ok(_) => Ok(()),
        Err(err) => {
            tracing::warn!(error = %err, "attempt counts unavailable; the secret is checked without the endpoint limit");
            Ok(())
        }
    }
}

/// The patron a check is counted under: Alma's primary id when Alma found one, else the identifier as sent.
pub(super) fn patron_key(bridge: &Bridge, resolved: Option<&str>, sent: &str) -> Option<AttemptKey> {
    let id = resolved.unwrap_or(sent).trim().to_lowercase();
    (bridge.settings.patron.lockout.patron_failures > 0)
        .then(|| key(bridge, AttemptScope::Patron, "patron", &id))
        .flatten()
}

/// A secret check allowed to go ahead; report how it went.
pub(super) struct Admitted {
    patron: Option<AttemptKey>,
    endpoint: Option<AttemptKey>,
}

/// Counts the check against the patron, or `Err(until)` when the patron is locked until then.
pub(super) async fn admit(
    bridge: &Bridge,
    patron: Option<AttemptKey>,
    endpoint: Option<AttemptKey>,
) -> Result<Admitted, Timestamp> {
    if let Some(key) = &patron {
        match bridge.store.count_attempt(key, patron_rule(bridge), bridge.clock.now()).await {
            Ok(Attempt::Refused { until }) => {
                crate::metrics::pin_lockout("Patron");
                tracing::warn!(scope = "Patron", %until, "secret check refused: the patron is locked");
                return Err(until);
            }
            Ok(Attempt::Counted(_)) => {}
            Err(err) => {
                tracing::warn!(error = %err, "attempt counts unavailable; the secret is checked without the patron lockout")
            }
        }
    }
    Ok(Admitted { patron, endpoint })
}

/// A failed check made before any patron was counted (a secret that cannot be sent to Alma): the endpoint's
/// failures grow all the same.
pub(super) async fn failed_without_patron(bridge: &Bridge, endpoint: Option<AttemptKey>) {
    Admitted { patron: None, endpoint }.failed(bridge).await;
}

impl Admitted {
    /// The secret was right: the patron's count starts again.
    pub(super) async fn succeeded(self, bridge: &Bridge) {
        if let Some(patron) = &self.patron
            && let Err(err) = bridge.store.clear_attempts(patron).await
        {
            tracing::warn!(error = %err, "could not clear a patron's failed secret checks");
        }
    }

    /// The check failed (wrong secret, unknown patron, a secret that could not be checked): the patron's
    /// attempt stays counted, and the endpoint's failures grow.
    pub(super) async fn failed(self, bridge: &Bridge) {
        if let Some(endpoint) = &self.endpoint
            && let Err(err) = bridge.store.count_attempt(endpoint, endpoint_rule(bridge), bridge.clock.now()).await
        {
            tracing::warn!(error = %err, "could not count an endpoint's failed secret check");
        }
    }
}
