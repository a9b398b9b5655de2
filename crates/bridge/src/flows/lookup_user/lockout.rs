//! Slowing PIN guessing, which LookupUser would otherwise allow as fast as Alma answers: each patron, and each calling
//! agency, may fail only so many secret checks within `PATRON_LOCKOUT_MINUTES`; after that, checks are refused without
//! asking Alma until the count has aged out. The counts live in the store, so every Lambda instance sees the same ones.
//!
//! - A patron's count is taken *before* the check (an attempt under way counts), so that concurrent guesses
//!   cannot all slip in under the limit, and a successful check clears it.
//! - The agency's count holds failures only, and nothing clears it: a caller cannot reset it by mixing in a
//!   PIN it knows.
//! - The patron is counted under the identifier as asked (trimmed, case folded), before Alma is asked who it
//!   is: an unknown identifier is counted and locked exactly like a known one, so a lockout tells nothing
//!   about which patrons exist, and a locked-out lookup costs Alma nothing.
//! - Keys are keyed hashes under `LOG_HASH_KEY`, never the identifier.
//!
//! When the store cannot be read or written, the check goes ahead without the lockout (logged): an outage of
//! the table must not stop patrons from borrowing.

use crate::flows::Bridge;
use crate::logging::keyed_digest;
use crate::ncip::LookupUser;
use crate::store::{Attempt, AttemptKey, AttemptScope};

/// Why a check was refused, for the metric and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Locked {
    Patron,
    Agency,
}

impl Locked {
    fn scope(self) -> &'static str {
        match self {
            Locked::Patron => "Patron",
            Locked::Agency => "Agency",
        }
    }
}

/// A secret check allowed to go ahead; report how it went.
pub(super) struct Admitted {
    patron: Option<AttemptKey>,
    agency: Option<AttemptKey>,
}

/// Before a secret is checked: counts the attempt against the patron, or refuses it when the patron or the
/// calling agency is locked out.
pub(super) async fn admit(bridge: &Bridge, message: &LookupUser, identifier: &str) -> Result<Admitted, Locked> {
    let policy = bridge.settings.patron.lockout;
    let now = bridge.clock.now();
    let key =
        |scope, domain, id: &str| AttemptKey::new(scope, &keyed_digest(&bridge.settings.log_hash_key, domain, id));
    let agency_id = message.header.as_ref().map_or("", |h| h.from_agency_id.as_str());
    let agency = (policy.agency_failures > 0).then(|| key(AttemptScope::Agency, "agency", agency_id)).flatten();
    let patron = (policy.patron_failures > 0)
        .then(|| key(AttemptScope::Patron, "patron", &identifier.trim().to_lowercase()))
        .flatten();
    if let Some(agency) = &agency {
        match bridge.store.attempts(agency, now).await {
            Ok(failures) if failures >= policy.agency_failures => return Err(locked(Locked::Agency)),
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "attempt counts unavailable; the secret is checked without the agency lockout")
            }
        }
    }
    if let Some(patron) = &patron {
        match bridge.store.count_attempt(patron, policy.patron_failures, now, policy.period).await {
            Ok(Attempt::Refused) => return Err(locked(Locked::Patron)),
            Ok(Attempt::Counted(_)) => {}
            Err(err) => {
                tracing::warn!(error = %err, "attempt counts unavailable; the secret is checked without the patron lockout")
            }
        }
    }
    Ok(Admitted { patron, agency })
}

fn locked(scope: Locked) -> Locked {
    crate::metrics::pin_lockout(scope.scope());
    tracing::warn!(scope = scope.scope(), "secret check refused: too many failed checks (lockout)");
    scope
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
    /// attempt stays counted, and the agency's failures grow.
    pub(super) async fn failed(self, bridge: &Bridge) {
        let policy = bridge.settings.patron.lockout;
        if let Some(agency) = &self.agency
            && let Err(err) = bridge.store.count_attempt(agency, u32::MAX, bridge.clock.now(), policy.period).await
        {
            tracing::warn!(error = %err, "could not count an agency's failed secret check");
        }
    }
}
