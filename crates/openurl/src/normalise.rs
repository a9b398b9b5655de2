//! Clean-up of free-text citation fields as catalogues and discovery layers send them.
//!
//! Alma and Primo copy MARC subfields into links verbatim, with the ISBD punctuation that separates
//! areas in a catalogue record ("A thin bright line /", "London :", "2000.", "[2016]", "©2017") and RDA
//! relator terms after names ("Bledsoe, Lucy Jane, author."). Abstracting databases add HTML markup and
//! entities (`<i>E. coli</i>`, `&amp;`). Relais shows fields as it gets them, so the bridge cleans them.

/// Most characters any one field keeps. Relais' own fields are this size, and a cap keeps one runaway
/// field from pushing the others out of the redirect URL.
pub const FIELD_CAP: usize = 255;

/// `text` starts with `prefix`, ignoring ASCII case, without allocating a lower-cased copy.
pub(crate) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len() && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// What follows `prefix` (ASCII case ignored), if `text` starts with it.
pub(crate) fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    // A match of ASCII bytes ends on a character boundary, so the slice is safe.
    starts_with_ignore_case(text, prefix).then(|| &text[prefix.len()..])
}

/// Markup removed, entities decoded, whitespace and control characters collapsed to single spaces,
/// trimmed and capped. `None` when nothing is left.
pub(crate) fn clean_text(raw: &str) -> Option<String> {
    let without_markup;
    let mut text = raw;
    if text.contains('<') {
        without_markup = strip_tags(text);
        text = &without_markup;
    }
    let decoded;
    if text.contains('&') {
        decoded = decode_entities(text);
        text = &decoded;
    }
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    cap(&mut out);
    (!out.is_empty()).then_some(out)
}

/// Cuts `text` to [`FIELD_CAP`] characters, at a character boundary, and trims what is left.
pub(crate) fn cap(text: &mut String) {
    if let Some((byte_index, _)) = text.char_indices().nth(FIELD_CAP) {
        text.truncate(byte_index);
        let kept = text.trim_end().len();
        text.truncate(kept);
    }
}

/// Removes `<tag ...>` and `</tag>` (a `<` followed by a letter, `/` or `!` up to the next `>`), and
/// leaves a lone `<` as in "p < 0.05" alone.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let starts_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match (starts_tag, after.find('>')) {
            (true, Some(close)) if !after[..close].contains('<') => {
                out.push_str(&rest[..open]);
                // Inline markup (<i>, <sub>) sits inside words, "H<sub>2</sub>O"; a line break separates them.
                let tag = after[..close].trim_start_matches('/').to_ascii_lowercase();
                if tag.starts_with("br") || tag == "p" {
                    out.push(' ');
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|end| *end <= 8).and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name.strip_prefix('#').and_then(|num| {
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Words that may end with a period that belongs to them, so a final "." after them stays.
const ABBREVIATIONS: &[&str] =
    &["jr", "sr", "inc", "ltd", "co", "corp", "st", "dr", "al", "etc", "ed", "eds", "vol", "no"];

/// Strips trailing ISBD area and element separators (" /", " :", " ;", " =", ","), then a final full
/// stop unless it ends an abbreviation or initial ("U.S.A.", "J.", "Inc.").
pub(crate) fn strip_isbd(text: &mut String) {
    loop {
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        match text.chars().last() {
            Some('/' | ':' | ';' | '=' | ',') => {
                text.pop();
            }
            _ => break,
        }
    }
    if text.ends_with('.') {
        let body = &text[..text.len() - 1];
        let last_word = body.rsplit(char::is_whitespace).next().unwrap_or(body);
        let is_abbreviation = last_word.chars().count() <= 1
            || last_word.contains('.')
            || ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(last_word));
        if !is_abbreviation {
            text.pop();
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
        }
    }
}

/// A title: cleaned and without trailing ISBD punctuation.
pub(crate) fn title(raw: &str) -> Option<String> {
    let mut text = clean_text(raw)?;
    strip_isbd(&mut text);
    (!text.is_empty()).then_some(text)
}

/// Publisher or place: cleaned, cataloguer's brackets removed, and RDA's "not identified" phrases
/// (and the older Latin "s.n." / "S.l.") treated as absent.
pub(crate) fn imprint(raw: &str) -> Option<String> {
    let mut text = clean_text(raw)?;
    strip_isbd(&mut text);
    if text.starts_with('[') && text.ends_with(']') && text.matches('[').count() == 1 {
        text = text[1..text.len() - 1].trim().to_owned();
    }
    let lower = text.to_lowercase();
    let unknown = lower.contains("not identified")
        || matches!(lower.trim_end_matches('.'), "s.n" | "s.l" | "sine nomine" | "sine loco");
    (!unknown && !text.is_empty()).then_some(text)
}

/// An edition statement: like a title, which keeps the full stop of "2nd ed." (an abbreviation) and
/// drops the one ending "First paperback edition.".
pub(crate) fn edition(raw: &str) -> Option<String> {
    title(raw)
}

/// The publication year from any date form: "2000.", "[2016]", "©2017", "c1999", "1979-10-01",
/// "20160315", "2016-2017" (the first year). Only 1000 to 2999 count as years.
pub(crate) fn year(raw: &str) -> Option<u16> {
    raw.split(|c: char| !c.is_ascii_digit())
        .filter_map(|run| match run.len() {
            4 => run.parse::<u16>().ok(),
            8 => run[..4].parse::<u16>().ok(),
            _ => None,
        })
        .find(|y| (1000..=2999).contains(y))
}

/// Volume or issue: "Vol. 12", "v.12", "no. 3," become "12" and "3". Text that is not a number after
/// such a prefix ("Spring 2020") is kept as written.
pub(crate) fn numbering(raw: &str) -> Option<String> {
    let mut text = clean_text(raw)?;
    if text.starts_with(|c: char| c.is_ascii_alphabetic()) {
        let prefixes = ["volume", "vol.", "vol", "v.", "issue", "iss.", "number", "no.", "nr.", "n."];
        for prefix in prefixes {
            if let Some(rest) = strip_prefix_ignore_case(&text, prefix) {
                let rest = rest.trim_start();
                if rest.starts_with(|c: char| c.is_ascii_digit()) {
                    text = rest.to_owned();
                    break;
                }
            }
        }
    }
    strip_isbd(&mut text);
    (!text.is_empty()).then_some(text)
}

/// A page or page range: "pp. 123-130" becomes "123-130"; en and em dashes become hyphens.
pub(crate) fn pages(raw: &str) -> Option<String> {
    let mut text = clean_text(raw)?;
    if text.contains(['\u{2013}', '\u{2014}']) {
        text = text.replace(['\u{2013}', '\u{2014}'], "-");
    }
    if text.starts_with(['p', 'P']) {
        for prefix in ["pp.", "pp", "p."] {
            if let Some(rest) = strip_prefix_ignore_case(&text, prefix) {
                let rest = rest.trim_start();
                if rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    text = rest.to_owned();
                    break;
                }
            }
        }
    }
    strip_isbd(&mut text);
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbd_punctuation_leaves_titles_and_places() {
        assert_eq!(title("A thin bright line /").as_deref(), Some("A thin bright line"));
        assert_eq!(title("Nature.").as_deref(), Some("Nature"));
        assert_eq!(title("Made in the U.S.A.").as_deref(), Some("Made in the U.S.A."));
        assert_eq!(title("Remembering J.").as_deref(), Some("Remembering J."));
        assert_eq!(imprint("London :").as_deref(), Some("London"));
        assert_eq!(imprint("Madison, Wisconsin :").as_deref(), Some("Madison, Wisconsin"));
        assert_eq!(imprint("[Boston]").as_deref(), Some("Boston"));
        assert_eq!(imprint("[publisher not identified],"), None);
        assert_eq!(imprint("[S.l.] :"), None);
        assert_eq!(edition("2nd ed. /").as_deref(), Some("2nd ed."));
        assert_eq!(edition("First paperback edition.").as_deref(), Some("First paperback edition"));
    }

    #[test]
    fn markup_and_entities_are_removed() {
        assert_eq!(
            title("Growth of <i>Escherichia coli</i> &amp; yeast&#8212;a <b>review</b>").as_deref(),
            Some("Growth of Escherichia coli & yeast\u{2014}a review")
        );
        assert_eq!(title("When p < 0.05 & more").as_deref(), Some("When p < 0.05 & more"));
        assert_eq!(title("H<sub>2</sub>O<br/>in cells").as_deref(), Some("H2O in cells"));
    }

    #[test]
    fn years_from_every_date_form() {
        for (raw, want) in [
            ("2000.", 2000),
            ("[2016]", 2016),
            ("©2017", 2017),
            ("c1999", 1999),
            ("1979-10-01", 1979),
            ("20160315", 2016),
            ("2016-2017", 2016),
        ] {
            assert_eq!(year(raw), Some(want), "{raw}");
        }
        assert_eq!(year("199-?"), None);
        assert_eq!(year("n.d."), None);
    }

    #[test]
    fn numbering_and_pages_lose_their_labels() {
        assert_eq!(numbering("Vol. 12,").as_deref(), Some("12"));
        assert_eq!(numbering("no.3").as_deref(), Some("3"));
        assert_eq!(numbering("Spring 2020").as_deref(), Some("Spring 2020"));
        assert_eq!(pages("pp. 123\u{2013}130.").as_deref(), Some("123-130"));
    }

    #[test]
    fn long_fields_are_capped_on_a_character_boundary() {
        let long = "é".repeat(400);
        let got = clean_text(&long).unwrap();
        assert_eq!(got.chars().count(), FIELD_CAP);
    }

    #[test]
    fn whitespace_and_controls_collapse() {
        assert_eq!(clean_text("  a\t\u{7}  b \u{a0} ").as_deref(), Some("a b"));
        assert_eq!(clean_text(" \t "), None);
    }
}
