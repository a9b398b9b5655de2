//! AgencyIds inside a message's `UserId` and `ItemId`.
//!
//! Alma's v2 profile says each AgencyId of the InitiationHeader is "the Alma institution code or the
//! institution/library ISIL" (alma.md §1.3). The identifiers' own AgencyIds are not described. Working
//! clients put the institution code there (VCU ILLiad AcceptItem: `<UserId><AgencyId>` holding e.g. `01UNIV_INST`),
//! or leave it out (VCU's ItemId, every Relais CheckInItem sample without one).
//!
//! UNCONFIRMED: whether Alma refuses an identifier issued by another agency. The stricter plausible reading is
//! that an identifier names one of Alma's own patrons or items only when its AgencyId (if any) is one of the
//! institution's; anything else is an "Unknown Agency". Sites whose broker puts its own agency there can be
//! simulated with the seed's `check_id_agency_ids: false`. RequestId AgencyIds are never checked: request
//! numbers are the broker's own (Relais sends `Relais`, ncip.md §4.7).

use ncip_codec::Problem;
use ncip_codec::model::ids::{ItemId, UserId};

use crate::state::State;

/// Ok when every AgencyId inside `user` and `items` is one Alma answers to (or the check is off).
pub(super) fn check_ids<'a>(
    s: &State,
    user: Option<&UserId>,
    items: impl IntoIterator<Item = &'a ItemId>,
) -> Result<(), Problem> {
    if !s.check_id_agency_ids {
        return Ok(());
    }
    let ours = |agency: &str| s.agency_ids.iter().any(|a| a == agency);
    if let Some(agency) = user.and_then(|u| u.agency_id.as_ref()).map(|a| a.as_str())
        && !ours(agency)
    {
        return Err(Problem::unknown_agency("UserId/AgencyId", agency));
    }
    for item in items {
        if let Some(agency) = item.agency_id.as_ref().map(|a| a.as_str())
            && !ours(agency)
        {
            return Err(Problem::unknown_agency("ItemId/AgencyId", agency));
        }
    }
    Ok(())
}
