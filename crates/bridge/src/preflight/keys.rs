//! Check 1: the API key opens every area of Alma's REST API the bridge calls, proven with Alma's own test
//! call per area. Read access is what matters: the bridge changes nothing in Alma through the REST API (every
//! change goes through the NCIP responder, and a PIN check with `op=auth` is open to a read-only key), so the
//! write test calls are not made.

use super::{Check, alma_said, key_refused, rest_failure};
use crate::alma::{ApiArea, CallContext};
use crate::flows::Bridge;

/// The key checks, and the institution code Alma's test answers name (`institutionCode: 01UNIV_INST`), which
/// the ToAgencyId check's fix can quote.
pub(super) struct KeyChecks {
    pub(super) checks: Vec<Check>,
    pub(super) institution: Option<String>,
}

pub(super) async fn check(bridge: &Bridge) -> KeyChecks {
    let mut checks = Vec::new();
    let mut institution = None;
    for area in ApiArea::USED {
        let name = format!("api-key {}", area.name());
        let ctx = CallContext::new(bridge.settings.deadline);
        match bridge.rest.test_api_key(area, &ctx).await {
            Ok(answer) => {
                institution = institution.or_else(|| institution_in(&answer));
                checks.push(Check::pass(
                    name,
                    format!("GET {} answered \"{answer}\"; read is enough: {}", area.test_route(), uses(area)),
                ));
            }
            Err(err) if key_refused(&err) => checks.push(Check::fail(
                name,
                format!("Alma refused the key for {} ({})", area.name(), alma_said(&err)),
                format!(
                    "in the Developer Network's API key management, give ALMA_API_KEY's key {} read access for this \
                     environment (production or sandbox) and region; if every area fails, ALMA_API_KEY is not the key \
                     or not for ALMA_API_BASE's region",
                    area.name()
                ),
            )),
            Err(err) => {
                let (what, fix) = rest_failure(&err, area.name());
                checks.push(Check::fail(name, what, fix));
            }
        }
    }
    KeyChecks { checks, institution }
}

/// What the bridge reads in the area, and why no write access is needed there.
fn uses(area: ApiArea) -> &'static str {
    match area {
        ApiArea::Users => {
            "the bridge only reads patrons, their requests and loans (its PIN check, op=auth, is open to a read-only key)"
        }
        ApiArea::Bibs => "the bridge only reads items by barcode",
        ApiArea::ResourceSharingPartners => "the bridge only reads the partner record",
        ApiArea::TaskLists => "the bridge only reads the lending task list",
    }
}

/// The institution code in a test call's answer (`GET - OK - institutionCode: 01UNIV_INST`).
fn institution_in(answer: &str) -> Option<String> {
    let (_, rest) = answer.split_once("institutionCode:")?;
    rest.split_whitespace().next().map(str::to_owned).filter(|code| !code.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_institution_is_read_from_alma_s_test_answer() {
        assert_eq!(institution_in("GET - OK - institutionCode: 01UNIV_INST").as_deref(), Some("01UNIV_INST"));
        assert_eq!(institution_in("GET - OK"), None);
        assert_eq!(institution_in("institutionCode:   "), None);
    }
}
