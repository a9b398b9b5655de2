//! Who the sign-in names in Alma, and whether they may use interlibrary loan: the identity the provider
//! released (an e-mail address, an eppn, a `sub`, a user name) found among Alma's users, and the user's
//! standing as LookupUser would judge it (status, expiry, blocks, the groups `PATRON_ILL_GROUPS` allows).

use crate::alma::model::AlmaUser;
use crate::alma::{AlmaError, CallContext};
use crate::config::PatronClaim;
use crate::flows::Bridge;
use crate::flows::lookup_user::standing::Standing;
use crate::openurl::PatronRefusal;

/// How many of the users Alma's search lists are read to find the exact address: `~` matches any address
/// containing the text, so a short address may list others; past this many the sign-in is ambiguous. Small,
/// because the hand-off is paced at one Alma call a second and a patron waits at most five.
pub const MAX_SEARCH_CANDIDATES: u64 = 4;

/// What Alma says about the sign-in's identity.
pub(crate) enum Found {
    /// Exactly one user.
    One(Box<AlmaUser>),
    /// None, or more than one: the patron sees why.
    Refused(PatronRefusal),
}

/// The Alma user the sign-in names by `claim`'s `value`.
pub(crate) async fn find(
    bridge: &Bridge,
    claim: PatronClaim,
    value: &str,
    ctx: &CallContext,
) -> Result<Found, AlmaError> {
    match claim {
        PatronClaim::Email => by_email(bridge, value, ctx).await,
        PatronClaim::Eppn | PatronClaim::Sub | PatronClaim::PreferredUsername => {
            match bridge.rest.user(value, "all_unique", ctx).await {
                Ok(user) => Ok(Found::One(Box::new(user))),
                Err(err) if err.is_not_found() => Ok(Found::Refused(PatronRefusal::NoAccount)),
                Err(err) => Err(err),
            }
        }
    }
}

/// `GET /users?q=email~<address>`, then each listed user read in full and its addresses compared with the
/// sign-in's whole address (ignoring case, as mail systems do in practice): Alma's `~` matches substrings, so
/// `ann@example.edu` also lists `joann@example.edu`.
async fn by_email(bridge: &Bridge, address: &str, ctx: &CallContext) -> Result<Found, AlmaError> {
    let address = address.trim();
    // Alma's query syntax gives spaces and a few characters a meaning of their own; an address holding them
    // is not one Alma can be searched for.
    if address.is_empty() || address.contains(char::is_whitespace) || !address.contains('@') {
        return Ok(Found::Refused(PatronRefusal::NoAccount));
    }
    let page = bridge.rest.search_users(&format!("email~{address}"), MAX_SEARCH_CANDIDATES as u32, 0, ctx).await?;
    if page.total_record_count > MAX_SEARCH_CANDIDATES {
        return Ok(Found::Refused(PatronRefusal::Ambiguous));
    }
    let mut matching = Vec::new();
    for brief in &page.user {
        let user = match bridge.rest.user(&brief.primary_id, "all_unique", ctx).await {
            Ok(user) => user,
            // Deleted between the search and the read: not the patron.
            Err(err) if err.is_not_found() => continue,
            Err(err) => return Err(err),
        };
        if user.contact_info.email.iter().any(|e| e.email_address.trim().eq_ignore_ascii_case(address)) {
            matching.push(user);
        }
    }
    Ok(match matching.len() {
        0 => Found::Refused(PatronRefusal::NoAccount),
        1 => Found::One(Box::new(matching.remove(0))),
        _ => Found::Refused(PatronRefusal::Ambiguous),
    })
}

/// Why `user` may not request through interlibrary loan today, if they may not.
pub(crate) fn refusal(bridge: &Bridge, user: &AlmaUser) -> Option<PatronRefusal> {
    let settings = &bridge.settings;
    let standing = Standing::of(user, &settings.patron, bridge.clock.now(), &settings.ncip.time_zone);
    if standing.inactive || !standing.active_blocks.is_empty() {
        Some(PatronRefusal::NotActive)
    } else if standing.expired {
        Some(PatronRefusal::Expired)
    } else if !standing.eligible {
        Some(PatronRefusal::NotEligible)
    } else {
        None
    }
}
