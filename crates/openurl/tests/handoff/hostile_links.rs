//! Links that try to smuggle Relais control tags or headers, links that are broken, and links that
//! are simply too big: what the bridge refuses, what it caps, and what the patron is told.

use openurl::{BadOpenUrl, FIELD_CAP, MAX_REDIRECT_LEN, PatronTag, RelaisForm, error_page, parse};

const FORM: &str = "https://relais.example.edu/user/login.html?group=patron&LS=EXU&dest=discovery";

fn form() -> RelaisForm {
    RelaisForm::new("https://relais.example.edu/user/login.html", "EXU").unwrap()
}

#[test]
fn control_tags_in_the_link_are_dropped_whatever_their_case() {
    let link = "rft.genre=book&rft.btitle=Harmless&PI=12345&group=staff&LS=EVIL&dest=admin&base64PI=true\
        &pi=9&Group=library&UL=admin&UP=secret&RK=1&PS=Doe&aid=x&authzid=y&reqno=5&FT=q&BASE64ps=z\
        &surname=Doe&rft.au=Bar%26PI%3D999%26group%3Dstaff&rft.isbn=0262033844";
    assert_eq!(
        form().redirect_url(&parse(link).unwrap(), None),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=Harmless&rft.btitle=Harmless\
             &rft.au=Bar%26PI%3D999%26group%3Dstaff&rft.isbn=0262033844"
        )
    );
}

#[test]
fn the_bridges_own_patron_id_is_the_only_pi() {
    let link = "rft.genre=book&rft.btitle=Harmless&PI=attacker&rft.isbn=0262033844";
    let citation = parse(link).unwrap();
    assert_eq!(
        form().redirect_url(&citation, Some(&PatronTag::Plain("2900123".into()))),
        format!(
            "{FORM}&PI=2900123&genre=book&rft.genre=book&rft.title=Harmless&rft.btitle=Harmless&rft.isbn=0262033844"
        )
    );
    assert_eq!(
        form().redirect_url(&citation, Some(&PatronTag::Encrypted("q+/w==".into()))),
        format!(
            "{FORM}&PI=q%2B%2Fw%3D%3D&base64PI=true&genre=book&rft.genre=book&rft.title=Harmless\
             &rft.btitle=Harmless&rft.isbn=0262033844"
        )
    );
}

#[test]
fn crlf_and_nul_are_refused_not_cleaned() {
    for link in [
        "rft.btitle=Foo%0D%0ALocation:%20https://evil.example/&rft.isbn=0262033844",
        "rft.btitle=Foo%0ASet-Cookie:%20a=b",
        "rft.btitle=Foo%00bar",
        "rft.btitle=Foo\r\nbar",
    ] {
        assert!(matches!(parse(link), Err(BadOpenUrl::ControlCharacter { .. })), "{link}");
    }
}

#[test]
fn broken_percent_escapes_are_refused_and_the_page_escapes_the_fragment() {
    let err = parse("rft.btitle=100%<script>&rft.isbn=0262033844").unwrap_err();
    assert_eq!(err, BadOpenUrl::InvalidPercentEncoding { key: "rft.btitle".into(), near: "%<s".into() });
    let page = error_page(&err);
    assert!(
        page.contains("the field &quot;rft.btitle&quot; has a broken percent-escape near &quot;%&lt;s&quot;"),
        "{page}"
    );
    assert!(!page.contains("<script>") && !page.contains("%<s"));
}

#[test]
fn a_query_over_8_kib_is_refused_but_a_long_field_inside_it_is_capped() {
    let too_long = format!("rft.btitle={}", "a".repeat(8 * 1024));
    assert_eq!(parse(&too_long), Err(BadOpenUrl::TooLong { bytes: 8 * 1024 + 11, max: 8 * 1024 }));
    assert!(error_page(&parse(&too_long).unwrap_err()).contains("8203 bytes long"));

    let long_title = "word ".repeat(1000);
    let citation = parse(&format!("rft.genre=book&rft.btitle={}", long_title.replace(' ', "+"))).unwrap();
    let title = citation.book_title.unwrap();
    assert_eq!(title.chars().count(), FIELD_CAP - 1, "cut at 255 characters, then the trailing space trimmed");
    assert!(title.starts_with("word word "));
}

#[test]
fn links_with_nothing_to_request_get_a_plain_words_400_page() {
    for link in ["", "?", "sid=EBSCO:aph&genre=article", "rft.isbn=9780262033849&rft.btitle=%20", "PI=1&LS=X"] {
        assert_eq!(parse(link), Err(BadOpenUrl::NothingToRequest), "{link:?}");
    }
    let page = error_page(&BadOpenUrl::NothingToRequest);
    assert!(page.to_ascii_lowercase().starts_with("<!doctype html>"));
    assert!(page.contains("no title and no identifier (ISBN, ISSN, DOI, PubMed id or OCLC number)"));
    assert_eq!(BadOpenUrl::NothingToRequest.http_status(), 400);
}

#[test]
fn an_oversized_citation_is_shortened_longest_free_text_first() {
    // Every free-text field at the 255-character cap, in a script that encodes to 6 bytes a character.
    let big = |c: char| std::iter::repeat_n(c, 300).collect::<String>();
    let link = format!(
        "rft.genre=article&rft.atitle={}&rft.jtitle={}&rft.au={}&rft.pub={}&rft.issn=0036-8075&rft.volume=12&rft.date=2020",
        big('α'),
        big('β'),
        "Smith%2C+John",
        big('γ'),
    );
    let url = form().redirect_url(&parse(&link).unwrap(), Some(&PatronTag::Plain("2900123".into())));
    assert!(url.len() < MAX_REDIRECT_LEN, "{} characters", url.len());
    assert!(url.starts_with(&format!("{FORM}&PI=2900123&genre=article&rft.genre=article&rft.title=")));
    // The short, precise fields are never the ones shortened or dropped here.
    for kept in ["&rft.au=Smith%2C%20John&", "&rft.issn=0036-8075&", "&rft.volume=12&", "&rft.date=2020"] {
        assert!(url.contains(kept), "{kept} missing from {url}");
    }
}
