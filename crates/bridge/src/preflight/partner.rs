//! Check 2: each partner code the bridge sends as ApplicationProfileType names an active NCIP partner whose
//! record Alma lets the key read, with the two settings the flows take from it (`flows::patron_id`): the User
//! Identifier Type Alma matches patrons by, and the resource-sharing library whose lending task list holds a
//! shipped request.

use super::ncip::RoundTrip;
use super::{Check, alma_said, partner_codes, rest_failure};
use crate::alma::model::{Code, PartnerDetails};
use crate::alma::{AlmaError, CallContext, PARTNER_NOT_FOUND};
use crate::flows::Bridge;
use crate::flows::patron_id::MatchPoint;

const WHERE: &str = "Fulfillment > Resource Sharing > Partners";

pub(super) async fn check(bridge: &Bridge, round_trip: &RoundTrip) -> Vec<Check> {
    let codes = partner_codes(bridge);
    if codes.is_empty() {
        return vec![Check::fail(
            "partner",
            "neither ALMA_PARTNER_CODE nor NCIP_AGENCY_PARTNERS is set, so Alma would see whatever \
             ApplicationProfileType Relais sends",
            format!(
                "set ALMA_PARTNER_CODE (the stack's AlmaPartnerCode) to the Code of the Relais NCIP partner in Alma's {WHERE}"
            ),
        )];
    }
    let mut checks = Vec::new();
    for code in codes {
        checks.push(one(bridge, &code, round_trip).await);
    }
    checks
}

async fn one(bridge: &Bridge, code: &str, round_trip: &RoundTrip) -> Check {
    let name = format!("partner {code}");
    let ctx = CallContext::new(bridge.settings.deadline);
    let details = match bridge.rest.partner(code, &ctx).await {
        Ok(record) => record.partner_details,
        Err(err) if is_unknown_partner(&err) => {
            return Check::fail(
                name,
                format!("Alma knows no partner with the code {code} ({})", alma_said(&err)),
                format!(
                    "partner codes are case-sensitive: set ALMA_PARTNER_CODE (or the code in NCIP_AGENCY_PARTNERS) to the \
                     partner's Code exactly as Alma's {WHERE} shows it"
                ),
            );
        }
        Err(err) => {
            let (what, fix) = rest_failure(&err, "Resource Sharing Partners");
            return Check::fail(name, format!("the partner record could not be read: {what}"), fix);
        }
    };
    judge(bridge, name, code, details, round_trip)
}

/// The partner record against what the bridge and Alma's responder need of it.
fn judge(bridge: &Bridge, name: String, code: &str, details: PartnerDetails, round_trip: &RoundTrip) -> Check {
    let label = details.name.as_deref().map(|n| format!(" \"{n}\"")).unwrap_or_default();
    let status = details.status.clone().unwrap_or_default();
    if !status.eq_ignore_ascii_case("ACTIVE") {
        return Check::fail(
            name,
            format!("the partner{label} is {}: Alma answers Unknown partner to its messages", or_unset(&status)),
            format!("make the partner Active in Alma's {WHERE}, or name an active partner in ALMA_PARTNER_CODE"),
        );
    }
    let profile = details.profile_details.unwrap_or_default();
    let profile_type = profile.profile_type.unwrap_or_default();
    if !profile_type.eq_ignore_ascii_case("NCIP") {
        return Check::fail(
            name,
            format!("the partner{label} has the profile type {}, not NCIP", or_unset(&profile_type)),
            format!("name the partner whose Profile type is NCIP (System type Relais) in ALMA_PARTNER_CODE ({WHERE})"),
        );
    }
    if round_trip.refused_partner(code) {
        return Check::fail(
            name,
            format!(
                "the record reads as an active NCIP partner{label}, but Alma's NCIP responder answered Unknown partner"
            ),
            format!(
                "open the partner in Alma's {WHERE} and save its NCIP profile again; check that ALMA_NCIP_URL is this Alma"
            ),
        );
    }
    let ncip = profile.ncip_details.unwrap_or_default();
    let partner_type = ncip.general_user_id_type.filter(|t| !t.value.trim().is_empty());
    let user_id_type = match (&bridge.settings.ncip.user_id_type, &partner_type) {
        (Some(setting), Some(own)) => format!("{setting} (ALMA_USER_ID_TYPE; the partner names {})", shown(own)),
        (Some(setting), None) => format!("{setting} (ALMA_USER_ID_TYPE; the partner names none)"),
        (None, Some(own)) => shown(own),
        (None, None) => {
            return Check::fail(
                name,
                format!(
                    "the partner{label} names no User Identifier Type, so Alma refuses every patron in its messages"
                ),
                format!("set the partner's User identifier type (usually Barcode) in Alma's {WHERE}"),
            );
        }
    };
    // The raw code is shown as Alma or the setting spells it, with the bridge's reading beside it: `user_name`
    // means the primary id, however it looks.
    let effective = bridge.settings.ncip.user_id_type.as_deref().or(partner_type.as_ref().map(|t| t.value.as_str()));
    let reading = effective.and_then(MatchPoint::from_code).map_or("nothing", |p| p.reading());
    let user_id_type = format!("{user_id_type}, matched as {reading}");
    let library = match ncip.general_library_owner.filter(|l| !l.value.trim().is_empty()) {
        Some(library) => format!("resource-sharing library {}", shown(&library)),
        None => "no resource-sharing library (after a ship the bridge cannot find Alma's lending request id; \
                 set the partner's Resource sharing library)"
            .to_owned(),
    };
    Check::pass(name, format!("active NCIP partner{label}; User Identifier Type {user_id_type}; {library}"))
}

/// A partner code Alma does not know.
fn is_unknown_partner(err: &AlmaError) -> bool {
    matches!(err, AlmaError::Api { code, .. } if code == PARTNER_NOT_FOUND) || err.is_not_found()
}

/// A code with its label, `BARCODE (Barcode)`.
fn shown(code: &Code) -> String {
    match code.desc.as_deref().filter(|d| !d.is_empty() && *d != code.value) {
        Some(desc) => format!("{} ({desc})", code.value),
        None => code.value.clone(),
    }
}

fn or_unset(value: &str) -> &str {
    if value.is_empty() { "unset" } else { value }
}
