//! Sort keys that both stores order by: instants as fixed-width text, and history positions.
//!
//! History reads oldest first: by the entry's own time, then by the order of appending for entries at the same
//! instant (a controlled clock in tests, or two deliveries in one nanosecond). A position is the instant plus a
//! sequence number within it, found by looking at the last position already used for that instant.

use jiff::Timestamp;

/// Adding this makes every representable second non-negative, so instants sort as text
/// (jiff's minimum is -377705116800; its maximum plus this still fits in 12 digits).
const SECOND_OFFSET: i128 = 377_705_116_800;

/// An instant as 22 characters that sort in time order: `SSSSSSSSSSSS.NNNNNNNNN`.
pub(crate) fn instant_key(at: Timestamp) -> String {
    let nanos = at.as_nanosecond() + SECOND_OFFSET * 1_000_000_000;
    format!("{:012}.{:09}", nanos.div_euclid(1_000_000_000), nanos.rem_euclid(1_000_000_000))
}

pub(crate) const HISTORY_PREFIX: &str = "HIST#";

/// The prefix shared by every history position at `at`.
pub(crate) fn history_instant_prefix(at: Timestamp) -> String {
    format!("{HISTORY_PREFIX}{}#", instant_key(at))
}

/// The history position for the `seq`-th entry at `at`.
pub(crate) fn history_key(at: Timestamp, seq: u32) -> String {
    format!("{}{seq:010}", history_instant_prefix(at))
}

/// The sequence number after the one in `last_key`, the greatest position already used at that instant.
pub(crate) fn next_history_seq(last_key: Option<&str>) -> u32 {
    last_key
        .and_then(|key| key.rsplit('#').next())
        .and_then(|seq| seq.parse::<u32>().ok())
        .map_or(0, |seq| seq.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_keys_sort_like_the_instants() {
        let instants = [
            Timestamp::MIN,
            Timestamp::from_second(-1).unwrap(),
            Timestamp::from_nanosecond(-1).unwrap(),
            Timestamp::UNIX_EPOCH,
            Timestamp::from_nanosecond(1).unwrap(),
            Timestamp::from_second(1_700_000_000).unwrap(),
            Timestamp::MAX,
        ];
        let keys: Vec<_> = instants.iter().map(|t| instant_key(*t)).collect();
        assert!(keys.iter().all(|k| k.len() == 22), "{keys:?}");
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn history_positions_count_up_within_an_instant() {
        let at = Timestamp::from_second(5).unwrap();
        assert_eq!(next_history_seq(None), 0);
        let first = history_key(at, 0);
        assert!(first.starts_with(&history_instant_prefix(at)));
        assert_eq!(next_history_seq(Some(&first)), 1);
        assert!(history_key(at, 9) < history_key(at, 10));
    }
}
