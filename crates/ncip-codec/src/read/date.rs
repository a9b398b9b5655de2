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

/// Each service-level element named in `names` (`DesiredDateDue`, a child of the service element) that holds a
/// date: its instant, read in `zone` as [`crate::read()`] reads it, and its text as sent (trimmed). For
/// answering with a date spelled as its sender spelled it. A message that is not well-formed gives none.
pub fn service_date_texts(received: &[u8], names: &[&str], zone: &TimeZone) -> Vec<(Timestamp, String)> {
    // Every answer the bridge commits asks, and most messages (receives, returns) carry no due date: a byte
    // search spares them a second pass over the message. Both encodings the reader takes write these ASCII
    // names as the same bytes.
    if !names.iter().any(|name| received.windows(name.len()).any(|w| w == name.as_bytes())) {
        return Vec::new();
    }
    let received = super::decode::strip_bom(received);
    let text = match std::str::from_utf8(received) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => match super::decode::latin1_fallback(received) {
            Ok(text) => std::borrow::Cow::Owned(text),
            Err(_) => return Vec::new(),
        },
    };
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut depth = 0usize;
    let mut inside: Option<String> = None;
    let mut found = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(tag)) => {
                depth += 1;
                let qname = tag.name();
                let local = qname.local_name();
                let local: &str = local.into_inner();
                inside = (depth == 3 && names.contains(&local)).then(String::new);
            }
            Ok(quick_xml::events::Event::Text(t)) => {
                if let Some(buffer) = inside.as_mut() {
                    buffer.push_str(&t.xml10_content());
                }
            }
            Ok(quick_xml::events::Event::End(_)) => {
                if let Some(value) = inside.take() {
                    let value = value.trim();
                    if let Some(ts) = parse_ncip_date(value, zone) {
                        found.push((ts, value.to_owned()));
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    found
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
    fn a_service_level_date_keeps_its_text_beside_its_instant() {
        let sydney = TimeZone::get("Australia/Sydney").unwrap();
        let xml = b"<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\"><CheckOutItem>\n\t<DesiredDateDue>\t2027-03-15T00:00:00 </DesiredDateDue>\
<ItemOptionalFields><DesiredDateDue>2020-01-01</DesiredDateDue></ItemOptionalFields></CheckOutItem></NCIPMessage>";
        let found = service_date_texts(xml, &["DesiredDateDue"], &sydney);
        let midnight = parse_ncip_date("2027-03-14T13:00:00Z", &TimeZone::UTC).unwrap();
        assert_eq!(found, [(midnight, "2027-03-15T00:00:00".to_owned())], "the nested one is not the service's");
        assert!(service_date_texts(b"<NCIPMessage><CheckOutItem>", &["DesiredDateDue"], &sydney).is_empty());
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
