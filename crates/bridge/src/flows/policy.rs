//! Which Relais agencies the bridge serves, and which Alma partner code stands for each.

use crate::flows::Bridge;
use crate::ncip::{InitiationHeader, Problem};

/// A Problem when the sending agency is not on `NCIP_ALLOWED_AGENCIES` (unset: every agency is served).
pub(crate) fn agency_problem(bridge: &Bridge, header: Option<&InitiationHeader>) -> Option<Problem> {
    let allowed = bridge.settings.ncip.allowed_agencies.as_ref()?;
    let from = header.map(|h| h.from_agency_id.as_str()).unwrap_or_default();
    if allowed.iter().any(|agency| agency == from) {
        None
    } else {
        Some(Problem::unknown_agency("InitiationHeader/FromAgencyId/AgencyId", from))
    }
}

/// The Alma partner code for a message: the configured code for its agency, else the configured default,
/// else what Relais sent as ApplicationProfileType. Alma compares it case-sensitively ("Unknown partner").
pub(crate) fn partner_code(bridge: &Bridge, header: Option<&InitiationHeader>) -> Option<String> {
    let from = header.map(|h| h.from_agency_id.as_str()).filter(|s| !s.is_empty());
    bridge
        .settings
        .partner_code_for(from)
        .map(str::to_owned)
        .or_else(|| header.and_then(|h| h.application_profile_type.as_ref()).map(|p| p.value.trim().to_owned()))
        .filter(|code| !code.is_empty())
}
