//! NCIP dates (`xs:dateTime`) as senders actually write them.
//!
//! Accepted: with a `Z` or numeric offset, with fractional seconds (XC toolkit: `2010-11-20T00:00:00.329Z`),
//! zone-less (Auto-Graphics: `2013-11-13T23:59:00`, interpreted in the configured library time zone), and
//! date-only (`2015-05-04`, optionally `2015-05-04Z` as Alma writes `expiry_date`), which means the end of
//! that day: a due date of "the 4th" must not expire at midnight starting the 4th.

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, Zoned};

/// Parses an NCIP date-time; `None` when it is not one of the accepted shapes.
pub(crate) fn parse_ncip_date(text: &str, zone: &TimeZone) -> Option<Timestamp> {
    let text = text.trim();
    if text.len() < 10 || text.len() > 64 {
        return None;
    }
    if text.len() > 10 && text.as_bytes()[10].eq_ignore_ascii_case(&b't') {
        if let Ok(ts) = text.parse::<Timestamp>() {
            return Some(ts);
        }
        let civil: DateTime = text.parse().ok()?;
        return civil.to_zoned(zone.clone()).ok().map(|z| z.timestamp());
    }
    // Date only, possibly followed by `Z` or an offset (xs:date allows a zone).
    // `get` rather than `split_at`: byte 10 may fall inside a multi-byte character (fuzzer finding).
    let (date_part, rest) = (text.get(..10)?, text.get(10..)?);
    let date: Date = date_part.parse().ok()?;
    let end_of_day = date.at(23, 59, 59, 0);
    let tz = match rest {
        "" => zone.clone(),
        "Z" | "z" => TimeZone::UTC,
        offset => TimeZone::fixed(parse_offset(offset)?),
    };
    end_of_day.to_zoned(tz).ok().as_ref().map(Zoned::timestamp)
}

/// `+hh:mm` / `-hh:mm`.
fn parse_offset(text: &str) -> Option<Offset> {
    let bytes = text.as_bytes();
    if bytes.len() != 6 || bytes[3] != b':' {
        return None;
    }
    let sign: i32 = match bytes[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours: i32 = text[1..3].parse().ok()?;
    let minutes: i32 = text[4..6].parse().ok()?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<Timestamp> {
        parse_ncip_date(s, &TimeZone::UTC)
    }

    #[test]
    fn zoned_and_fractional_dates_parse_exactly() {
        assert_eq!(utc("2018-02-01T00:00:00Z").unwrap().to_string(), "2018-02-01T00:00:00Z");
        assert_eq!(utc("2010-11-20T00:00:00.329Z").unwrap().to_string(), "2010-11-20T00:00:00.329Z");
        assert_eq!(utc("2018-02-01T01:00:00+01:00").unwrap().to_string(), "2018-02-01T00:00:00Z");
    }

    #[test]
    fn zone_less_date_time_uses_the_library_zone() {
        let prague = TimeZone::get("Europe/Prague").unwrap_or_else(|_| TimeZone::fixed(Offset::constant(1)));
        let ts = parse_ncip_date("2013-11-13T23:59:00", &prague).unwrap();
        assert_eq!(ts.to_string(), "2013-11-13T22:59:00Z");
    }

    #[test]
    fn date_only_means_the_end_of_that_day() {
        assert_eq!(utc("2015-05-04").unwrap().to_string(), "2015-05-04T23:59:59Z");
        assert_eq!(utc("2030-01-16Z").unwrap().to_string(), "2030-01-16T23:59:59Z");
        assert_eq!(utc("2030-01-16-05:00").unwrap().to_string(), "2030-01-17T04:59:59Z");
    }

    #[test]
    fn garbage_is_not_a_date() {
        for bad in ["", "tomorrow", "2015-13-01", "2015-05-04T25:00:00Z", "2015-05-04X"] {
            assert_eq!(utc(bad), None, "{bad}");
        }
    }
}
