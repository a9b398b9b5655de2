//! Whether a patron may use interlibrary loan today: Alma's status, expiry date and active blocks, and the
//! configured user groups allowed to use ILL (`PATRON_ILL_GROUPS`).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::alma::model::{AlmaUser, UserBlock};
use crate::config::PatronPolicy;

/// A patron's standing, decided once and then answered as Problems or as the STATUS privilege.
#[derive(Debug)]
pub(crate) struct Standing<'a> {
    /// Alma's status is not ACTIVE.
    pub inactive: bool,
    /// The expiry date has passed.
    pub expired: bool,
    /// Blocks Alma marks ACTIVE whose own expiry (if any) has not passed.
    pub active_blocks: Vec<&'a UserBlock>,
    /// The user group may use ILL.
    pub eligible: bool,
    /// The end of the expiry day in the library's zone (`ValidToDate` of the privileges).
    pub valid_to: Option<Timestamp>,
}

impl<'a> Standing<'a> {
    /// `now` and `zone` decide "today": Alma's dates are library-local calendar dates.
    pub(crate) fn of(user: &'a AlmaUser, policy: &PatronPolicy, now: Timestamp, zone: &TimeZone) -> Standing<'a> {
        let today = now.to_zoned(zone.clone()).date();
        let expiry = user.expiry_date.as_deref().and_then(alma_date);
        let active_blocks = user
            .active_blocks()
            .filter(|block| block.expiry_date.as_deref().and_then(alma_date).is_none_or(|until| until >= today))
            .collect();
        let group = user.user_group.value.as_str();
        Standing {
            inactive: !user.is_active(),
            expired: expiry.is_some_and(|date| date < today),
            active_blocks,
            eligible: policy
                .ill_groups
                .as_ref()
                .is_none_or(|groups| groups.iter().any(|allowed| allowed.eq_ignore_ascii_case(group))),
            valid_to: expiry.and_then(|date| end_of_day(date, zone)),
        }
    }

    /// Inactive, expired or under an active block (each of which Alma itself would refuse a loan for).
    pub(crate) fn blocked(&self) -> bool {
        self.inactive || self.expired || !self.active_blocks.is_empty()
    }

    /// The STATUS privilege value: `OK`, or `BLOCKED` for a blocked patron or one whose group may not use ILL.
    pub(crate) fn status(&self) -> &'static str {
        if self.blocked() || !self.eligible { "BLOCKED" } else { "OK" }
    }

    /// Why the status is BLOCKED, in words for Relais staff (no personal data: only the kinds of reason).
    pub(crate) fn reasons(&self) -> Option<String> {
        let reasons: Vec<&str> = [
            (self.inactive, "inactive in Alma"),
            (self.expired, "expired"),
            (!self.active_blocks.is_empty(), "blocked in Alma"),
            (!self.eligible, "user group not eligible for interlibrary loan"),
        ]
        .into_iter()
        .filter_map(|(applies, reason)| applies.then_some(reason))
        .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

/// Alma's calendar dates: `2030-01-16Z` (Alma's habitual trailing `Z`), `2030-01-16`, or a full timestamp
/// whose date part is taken.
pub(crate) fn alma_date(text: &str) -> Option<Date> {
    let text = text.trim();
    text.get(..10).unwrap_or(text).parse().ok()
}

/// The last second of `date` in `zone`: a patron whose record expires on a day may still borrow that day.
pub(crate) fn end_of_day(date: Date, zone: &TimeZone) -> Option<Timestamp> {
    date.at(23, 59, 59, 0).to_zoned(zone.clone()).ok().map(|zoned| zoned.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alma::model::Code;

    fn user(status: &str, group: &str, expiry: &str) -> AlmaUser {
        AlmaUser {
            primary_id: "p".into(),
            status: Code { value: status.into(), desc: None },
            user_group: Code { value: group.into(), desc: None },
            expiry_date: Some(expiry.into()),
            ..AlmaUser::default()
        }
    }

    fn block(status: &str, expiry: Option<&str>) -> UserBlock {
        UserBlock { block_status: status.into(), expiry_date: expiry.map(str::to_owned), ..UserBlock::default() }
    }

    fn now() -> Timestamp {
        "2026-03-10T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_active_current_patron_in_any_group_is_ok() {
        let u = user("ACTIVE", "UNDERGRAD", "2030-01-16Z");
        let s = Standing::of(&u, &PatronPolicy::default(), now(), &TimeZone::UTC);
        assert_eq!((s.status(), s.reasons()), ("OK", None));
        assert_eq!(s.valid_to, Some("2030-01-16T23:59:59Z".parse().unwrap()));
    }

    #[test]
    fn the_expiry_day_itself_is_still_valid_in_the_library_zone() {
        let u = user("ACTIVE", "UNDERGRAD", "2026-03-09Z");
        // 2026-03-10T04:00Z is still 9 March in Chicago.
        let chicago = TimeZone::get("America/Chicago").unwrap();
        let early: Timestamp = "2026-03-10T04:00:00Z".parse().unwrap();
        assert!(!Standing::of(&u, &PatronPolicy::default(), early, &chicago).expired);
        assert!(Standing::of(&u, &PatronPolicy::default(), now(), &chicago).expired);
    }

    #[test]
    fn inactive_expired_and_blocked_patrons_are_blocked_with_their_reasons() {
        let policy = PatronPolicy::default();
        let inactive = user("INACTIVE", "GRAD", "2030-01-16Z");
        assert_eq!(
            Standing::of(&inactive, &policy, now(), &TimeZone::UTC).reasons().as_deref(),
            Some("inactive in Alma")
        );
        let expired = user("ACTIVE", "GRAD", "2020-01-31Z");
        assert_eq!(Standing::of(&expired, &policy, now(), &TimeZone::UTC).status(), "BLOCKED");
        let mut blocked = user("ACTIVE", "GRAD", "2030-01-16Z");
        blocked.user_block = vec![block("ACTIVE", Some("2030-03-01Z"))];
        let s = Standing::of(&blocked, &policy, now(), &TimeZone::UTC);
        assert_eq!((s.status(), s.active_blocks.len()), ("BLOCKED", 1));
    }

    #[test]
    fn lifted_and_lapsed_blocks_do_not_count() {
        let mut u = user("ACTIVE", "GRAD", "2030-01-16Z");
        u.user_block = vec![block("INACTIVE", None), block("ACTIVE", Some("2025-12-31Z"))];
        assert!(!Standing::of(&u, &PatronPolicy::default(), now(), &TimeZone::UTC).blocked());
    }

    #[test]
    fn a_group_outside_the_ill_groups_is_not_eligible() {
        let policy =
            PatronPolicy { ill_groups: Some(vec!["FACULTY".into(), "undergrad".into()]), ..PatronPolicy::default() };
        let guest = user("ACTIVE", "GUEST", "2030-01-16Z");
        let s = Standing::of(&guest, &policy, now(), &TimeZone::UTC);
        assert!(!s.blocked() && !s.eligible);
        assert_eq!(s.status(), "BLOCKED");
        let student = user("ACTIVE", "UNDERGRAD", "2030-01-16Z");
        assert!(Standing::of(&student, &policy, now(), &TimeZone::UTC).eligible);
    }

    #[test]
    fn alma_dates_are_read_with_or_without_the_trailing_z() {
        let d: Date = "2030-01-16".parse().unwrap();
        for text in ["2030-01-16Z", "2030-01-16", "2030-01-16T00:00:00Z"] {
            assert_eq!(alma_date(text), Some(d), "{text}");
        }
        assert_eq!(alma_date("soon"), None);
    }
}
