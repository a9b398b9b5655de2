//! Author names: the structured `aulast`/`aufirst`/`auinit*` keys of both OpenURL versions, and the
//! free-form `au` values Alma fills from MARC 100/700 ("Bledsoe, Lucy Jane, 1957- author.").

use crate::citation::Author;
use crate::normalise::{clean_text, strip_isbd};

/// The most further authors kept; a Relais request has one author field, the rest is for the record.
const MAX_OTHER_AUTHORS: usize = 20;

/// RDA relator terms (RDA Appendix I) and their older AACR2 abbreviations, as they trail names in
/// Alma's MARC-derived `au` values.
const RELATORS: &[&str] = &[
    "author",
    "authors",
    "joint author",
    "editor",
    "editors",
    "ed",
    "eds",
    "translator",
    "trans",
    "tr",
    "illustrator",
    "ill",
    "compiler",
    "comp",
    "contributor",
    "creator",
    "author of introduction",
    "writer of introduction",
    "writer of foreword",
    "author of foreword",
    "writer of afterword",
    "writer of preface",
    "editor of compilation",
    "narrator",
    "photographer",
    "issuing body",
    "degree granting institution",
    "thesis advisor",
    "organizer",
    "host institution",
    "et al",
    "[et al",
];

/// The structured keys of one link, as given.
#[derive(Default)]
pub(crate) struct NameParts<'a> {
    pub last: Option<&'a str>,
    pub first: Option<&'a str>,
    pub initials: Option<&'a str>,
    pub initial1: Option<&'a str>,
    pub middle_initial: Option<&'a str>,
    pub suffix: Option<&'a str>,
    pub corporate: Option<&'a str>,
}

/// The first author and the further ones. Structured keys win for the first author (they are the
/// spec's way to name it); `au` values that repeat that person are not listed again.
pub(crate) fn authors(parts: &NameParts<'_>, names: &[&str]) -> (Option<Author>, Vec<String>) {
    let parsed: Vec<Author> = names.iter().filter_map(|raw| name(raw)).collect();
    let mut names = parsed.into_iter().peekable();
    let mut first = structured(parts);
    // Primo often sends `rft.aulast` alone beside the full `rft.au`; borrow the given name from there.
    if let Some(f) = first.as_mut().filter(|f| f.given.is_none() && !f.corporate)
        && let Some(full) = names.peek().filter(|a| a.family.eq_ignore_ascii_case(&f.family))
    {
        f.given.clone_from(&full.given);
    }
    let first = first.or_else(|| names.next());
    let mut others: Vec<String> = Vec::new();
    for author in names {
        if others.len() == MAX_OTHER_AUTHORS {
            break;
        }
        if first.as_ref().is_some_and(|f| same_person(f, &author)) {
            continue;
        }
        let display = author.display_name();
        if !others.contains(&display) {
            others.push(display);
        }
    }
    (first, others)
}

fn structured(parts: &NameParts<'_>) -> Option<Author> {
    if let Some(mut family) = parts.last.and_then(clean_text) {
        strip_isbd(&mut family);
        let given = parts
            .first
            .and_then(clean_text)
            .or_else(|| parts.initials.and_then(clean_text))
            .or_else(|| {
                let joined = [parts.initial1, parts.middle_initial].into_iter().flatten().collect::<Vec<_>>().join(" ");
                clean_text(&joined)
            })
            .map(|mut given| {
                if let Some(suffix) = parts.suffix.and_then(clean_text) {
                    given = format!("{given}, {suffix}");
                }
                given
            });
        return (!family.is_empty()).then_some(Author { family, given, corporate: false });
    }
    let mut body = parts.corporate.and_then(clean_text)?;
    strip_isbd(&mut body);
    (!body.is_empty()).then_some(Author { family: body, given: None, corporate: true })
}

/// One free-form name: "Family, Given" splits in two, relator terms and life dates are dropped, and a
/// name without a comma ("Robin Wall Kimmerer", "World Health Organization") is kept whole.
pub(crate) fn name(raw: &str) -> Option<Author> {
    let mut text = clean_text(raw)?;
    if let Some(open) = text.rfind('(')
        && text.trim_end().ends_with(')')
        && is_relator(&text[open + 1..text.trim_end().len() - 1])
    {
        text.truncate(open);
    }
    let mut parts: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    while parts.len() > 1 {
        let last = *parts.last()?;
        if is_relator(last) || is_life_dates(last) {
            parts.pop();
            continue;
        }
        // "1957- author." and "Lucy Jane author." (no comma before the term, as some exports write it).
        let trimmed = strip_trailing_relator(last);
        if trimmed.len() != last.len() {
            *parts.last_mut()? = trimmed;
            continue;
        }
        break;
    }
    let mut family = (*parts.first()?).to_owned();
    strip_isbd(&mut family);
    let mut given = parts.get(1..).map(|rest| rest.join(", ")).filter(|g| !g.is_empty());
    if let Some(g) = given.as_mut() {
        strip_isbd(g);
    }
    let given = given.filter(|g| !g.is_empty());
    (!family.is_empty()).then_some(Author { family, given, corporate: false })
}

fn normal_form(term: &str) -> String {
    term.trim().trim_end_matches(['.', ']']).trim().to_lowercase()
}

fn is_relator(term: &str) -> bool {
    RELATORS.contains(&normal_form(term).as_str())
}

/// "1957-", "1957-2010", "b. 1957", "d. 1890", "fl. 1850-1870", "1880?-1946".
fn is_life_dates(term: &str) -> bool {
    let letters = term.chars().filter(|c| c.is_alphabetic()).count();
    term.chars().any(|c| c.is_ascii_digit())
        && letters <= 3
        && term.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '?' | '.' | ' '))
}

/// Drops a relator term, and life dates before it, that end a name part without a comma of its own.
fn strip_trailing_relator(part: &str) -> &str {
    let mut rest = part;
    let lower = normal_form(rest);
    for term in RELATORS {
        if lower.len() > term.len() && lower.ends_with(term) && lower[..lower.len() - term.len()].ends_with(' ') {
            let keep = rest.trim_end_matches(['.', ']']).trim_end().len() - term.len();
            rest = rest[..keep].trim_end();
            break;
        }
    }
    if rest.len() != part.len()
        && let Some(space) = rest.rfind(' ')
        && is_life_dates(&rest[space + 1..])
    {
        rest = rest[..space].trim_end();
    }
    rest
}

fn same_person(a: &Author, b: &Author) -> bool {
    if !a.family.eq_ignore_ascii_case(&b.family) {
        return false;
    }
    match (&a.given, &b.given) {
        (Some(x), Some(y)) => {
            x.chars().next().map(|c| c.to_lowercase().to_string())
                == y.chars().next().map(|c| c.to_lowercase().to_string())
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(raw: &str) -> String {
        name(raw).unwrap().display_name()
    }

    #[test]
    fn relator_terms_and_dates_are_dropped() {
        assert_eq!(display("Bledsoe, Lucy Jane, author."), "Bledsoe, Lucy Jane");
        assert_eq!(display("Bledsoe, Lucy Jane, 1957- author."), "Bledsoe, Lucy Jane");
        assert_eq!(display("Smith, John, 1950-2010, editor, translator."), "Smith, John");
        assert_eq!(display("Smith, John (Editor)"), "Smith, John");
        assert_eq!(display("Lee, A. J."), "Lee, A. J.");
    }

    #[test]
    fn names_without_a_comma_stay_whole() {
        let author = name("World Health Organization.").unwrap();
        assert_eq!((author.family.as_str(), author.given), ("World Health Organization", None));
    }

    #[test]
    fn structured_keys_win_and_duplicates_are_not_repeated() {
        let parts = NameParts { last: Some("Watson"), first: Some("J. D."), ..NameParts::default() };
        let (first, others) = authors(&parts, &["Watson, James D.", "Crick, F. H. C.", "Crick, F. H. C."]);
        assert_eq!(first.unwrap().display_name(), "Watson, J. D.");
        assert_eq!(others, ["Crick, F. H. C."]);
    }

    #[test]
    fn initials_fill_in_for_a_missing_first_name() {
        let parts = NameParts { last: Some("Kimmerer"), ..NameParts::default() };
        let (first, others) = authors(&parts, &["Kimmerer, Robin Wall, author."]);
        assert_eq!((first.unwrap().display_name(), others.len()), ("Kimmerer, Robin Wall".to_owned(), 0));
        let parts =
            NameParts { last: Some("Curie"), initial1: Some("M"), middle_initial: Some("S"), ..NameParts::default() };
        assert_eq!(authors(&parts, &[]).0.unwrap().display_name(), "Curie, M S");
        let corporate = NameParts { corporate: Some("IEEE Computer Society."), ..NameParts::default() };
        let author = authors(&corporate, &[]).0.unwrap();
        assert!(author.corporate);
        assert_eq!(author.display_name(), "IEEE Computer Society");
    }
}
