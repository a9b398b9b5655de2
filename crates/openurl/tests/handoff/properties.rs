//! Properties over arbitrary input: parsing never panics, and whatever a link says, the redirect
//! starts with the configured form, carries only allow-listed keys (the patron and navigation tags
//! exactly once, from the bridge) and stays under 2,000 characters.

use openurl::{MAX_REDIRECT_LEN, PatronTag, RelaisForm, parse};
use proptest::prelude::*;

const FORM_URL: &str = "https://relais.example.edu/user/login.html";

const ALLOWED: &[&str] = &[
    "group",
    "LS",
    "dest",
    "PI",
    "base64PI",
    "genre",
    "rft.genre",
    "rft.title",
    "rft.atitle",
    "rft.jtitle",
    "rft.btitle",
    "rft.au",
    "rft.aulast",
    "rft.aufirst",
    "rft.issn",
    "rft.eissn",
    "rft.isbn",
    "rft.volume",
    "rft.issue",
    "rft.spage",
    "rft.epage",
    "rft.pages",
    "rft.date",
    "rft.pub",
    "rft.place",
    "rft.edition",
    "rft_id",
    "rft.oclcnum",
];

fn key() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        "rft.atitle",
        "rft.jtitle",
        "rft.btitle",
        "rft.title",
        "title",
        "atitle",
        "rft.au",
        "aulast",
        "aufirst",
        "rft.isbn",
        "isbn",
        "rft.issn",
        "issn",
        "rft.eissn",
        "rft.eisbn",
        "rft.date",
        "date",
        "rft.pubdate",
        "rft.genre",
        "genre",
        "rft_val_fmt",
        "rft_id",
        "id",
        "rft.volume",
        "rft.pages",
        "rft.spage",
        "rft.pub",
        "rft.place",
        "rft.edition",
        "rft.oclcnum",
        "rfe_dat",
        "ctx_enc",
        "sid",
        "rfr_id",
        "rft.mms_id",
        "PI",
        "pi",
        "Pi",
        "group",
        "GROUP",
        "LS",
        "ls",
        "dest",
        "UL",
        "UP",
        "RK",
        "PS",
        "aid",
        "authzid",
        "reqno",
        "FT",
        "base64PI",
        "Base64ps",
        "surname",
        "UT",
        "PL",
    ])
    .prop_map(str::to_owned);
    prop_oneof![4 => known, 1 => "[A-Za-z_.]{1,12}"]
}

/// Values as links carry them: raw text, form-encoded text, and stray escapes.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,150}".prop_map(|s| form_encode(&s)),
        "[A-Za-z0-9 %+&=#]{0,40}".prop_map(|s| s.replace(' ', "+")),
        prop::sample::select(vec![
            "PI%3D1",
            "%26PI%3D1",
            "%0D%0A",
            "%E9",
            "%C3",
            "9780262033848",
            "0036-8075",
            "info:doi/10.1/x"
        ])
        .prop_map(str::to_owned),
    ]
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn link() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), value()), 0..30)
        .prop_map(|pairs| pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
}

fn patron() -> impl Strategy<Value = Option<PatronTag>> {
    prop_oneof![
        Just(None),
        "[0-9A-Za-z]{1,20}".prop_map(|id| Some(PatronTag::Plain(id))),
        "[A-Za-z0-9+/]{340}==".prop_map(|b64| Some(PatronTag::Encrypted(b64))),
    ]
}

fn check_redirect(url: &str, patron: Option<&PatronTag>) {
    assert!(url.len() < MAX_REDIRECT_LEN, "{} characters", url.len());
    let query = url.strip_prefix(&format!("{FORM_URL}?")).expect("starts with the configured form URL");
    assert!(
        query.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%&=".contains(&b)),
        "only encoded characters in {query}"
    );
    let pairs: Vec<(&str, &str)> = query.split('&').map(|p| p.split_once('=').expect("key=value")).collect();
    for (k, _) in &pairs {
        assert!(ALLOWED.contains(k), "unexpected key {k} in {url}");
    }
    let values = |key: &str| pairs.iter().filter(|(k, _)| *k == key).map(|(_, v)| *v).collect::<Vec<_>>();
    assert_eq!(values("group"), ["patron"]);
    assert_eq!(values("LS"), ["EXU"]);
    assert_eq!(values("dest"), ["discovery"]);
    match patron {
        None => assert!(values("PI").is_empty() && values("base64PI").is_empty(), "{url}"),
        Some(PatronTag::Plain(id)) => assert_eq!(values("PI"), [id.as_str()]),
        Some(PatronTag::Encrypted(_)) => {
            assert_eq!(values("PI").len(), 1);
            assert_eq!(values("base64PI"), ["true"]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_any_string(raw in "\\PC{0,600}") {
        let _ = parse(&raw);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes_as_escapes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let raw: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
        let _ = parse(&format!("rft.btitle={raw}&title={raw}&rft.au={raw}"));
    }

    #[test]
    fn the_redirect_keeps_to_the_form_the_allow_list_and_the_length(raw in link(), patron in patron()) {
        let form = RelaisForm::new(FORM_URL, "EXU").unwrap();
        if let Ok(citation) = parse(&raw) {
            let url = form.redirect_url(&citation, patron.as_ref());
            check_redirect(&url, patron.as_ref());
        }
    }

    #[test]
    fn long_fields_in_a_link_are_capped_and_fit(c in "[αβγ&=#+a-z ]", fields in 1usize..12, patron in patron()) {
        let keys = ["rft.atitle", "rft.btitle", "rft.jtitle", "rft.au", "rft.pub", "rft.place", "rft.edition",
                    "rft.volume", "rft.issue", "rft.pages", "rft.spage", "rft.epage"];
        let per_char = form_encode(&c).len();
        let len = (7_500 / (fields * per_char)).min(400);
        let long = form_encode(&c.repeat(len));
        let raw: String = keys[..fields].iter().map(|k| format!("{k}={long}&")).collect::<String>()
            + "rft.genre=bookitem&rft.isbn=0262033844&rft.issn=0036-8075&rft.date=2001";
        let citation = parse(&raw);
        prop_assert!(citation.is_ok(), "{:?}", citation);
        let form = RelaisForm::new(FORM_URL, "EXU").unwrap();
        check_redirect(&form.redirect_url(&citation.unwrap(), patron.as_ref()), patron.as_ref());
    }

    #[test]
    fn a_hand_built_citation_with_every_field_oversized_still_fits(text in "\\PC{300,400}", patron in patron()) {
        let citation = every_field(&text);
        let form = RelaisForm::new(FORM_URL, "EXU").unwrap();
        check_redirect(&form.redirect_url(&citation, patron.as_ref()), patron.as_ref());
    }
}

/// A citation as the lead might build one by hand, with every text field set to `text`.
fn every_field(text: &str) -> openurl::Citation {
    let mut c = parse("rft.genre=bookitem&rft.btitle=x&rft.isbn=0262033844&rft.issn=0036-8075&rft.date=2001").unwrap();
    let t = || Some(text.to_owned());
    c.article_title = t();
    c.journal_title = t();
    c.book_title = t();
    c.first_author = Some(openurl::Author { family: text.to_owned(), given: t(), corporate: false });
    c.volume = t();
    c.issue = t();
    c.start_page = t();
    c.end_page = t();
    c.pages = t();
    c.publisher = t();
    c.place = t();
    c.edition = t();
    c.doi = t();
    c.pmid = t();
    c.oclc_number = t();
    c
}
