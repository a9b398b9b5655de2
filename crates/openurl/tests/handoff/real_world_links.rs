//! Links in the shapes Primo, Alma and abstracting databases really send, each checked against the
//! exact `Location` the bridge answers with.

use openurl::{Genre, OpenUrlVersion, RelaisForm, parse};

const FORM: &str = "https://relais.example.edu/user/login.html?group=patron&LS=EXU&dest=discovery";

fn location(raw_query: &str) -> String {
    let form = RelaisForm::new("https://relais.example.edu/user/login.html", "EXU").unwrap();
    form.redirect_url(&parse(raw_query).unwrap(), None)
}

#[test]
fn primo_book_link_with_empty_keys_and_the_infofi_typo() {
    let link = "ctx_ver=Z39.88-2004&ctx_enc=info:ofi/enc:UTF-8&url_ver=Z39.88-2004\
        &url_ctx_fmt=infofi/fmt:kev:mtx:ctx&rfr_id=info:sid/primo.exlibrisgroup.com:primo-991000123459703811\
        &rft_val_fmt=info:ofi/fmt:kev:mtx:book&rft.genre=book&rft.atitle=&rft.jtitle=\
        &rft.btitle=Braiding%20sweetgrass%20%3A%20indigenous%20wisdom%2C%20scientific%20knowledge%20and%20the%20teachings%20of%20plants%20%2F\
        &rft.aulast=Kimmerer&rft.auinit=&rft.auinit1=&rft.auinitm=&rft.ausuffix=\
        &rft.au=Kimmerer%2C%20Robin%20Wall%2C%20author.&rft.aucorp=&rft.date=2013.&rft.volume=&rft.issue=\
        &rft.part=&rft.quarter=&rft.ssn=&rft.spage=&rft.epage=&rft.pages=&rft.artnum=&rft.issn=&rft.eissn=\
        &rft.isbn=9781571313355&rft.sici=&rft.coden=&rft_id=info:doi/&rft.object_id=\
        &rft.primo=alma991000123459703811&rft.eisbn=\
        &rft_dat=%3Csource%3Ealma%3C/source%3E%3Crecordid%3Ealma991000123459703811%3C/recordid%3E\
        &rft_id=info:oai/&svc_dat=viewit&rft.pub=Milkweed%20Editions%2C\
        &rft.place=Minneapolis%2C%20Minnesota%20%3A&rft.edition=First%20paperback%20edition.";
    let title = "Braiding%20sweetgrass%20%3A%20indigenous%20wisdom%2C%20scientific%20knowledge%20and%20the%20teachings%20of%20plants";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title={title}&rft.btitle={title}\
             &rft.au=Kimmerer%2C%20Robin%20Wall&rft.aulast=Kimmerer&rft.aufirst=Robin%20Wall\
             &rft.isbn=9781571313355&rft.date=2013&rft.pub=Milkweed%20Editions\
             &rft.place=Minneapolis%2C%20Minnesota&rft.edition=First%20paperback%20edition"
        )
    );
    let citation = parse(link).unwrap();
    assert_eq!(citation.version, OpenUrlVersion::V1_0);
    assert_eq!(citation.referrer.as_deref(), Some("info:sid/primo.exlibrisgroup.com:primo-991000123459703811"));
    assert_eq!(citation.doi, None, "the empty info:doi/ is no DOI");
}

#[test]
fn primo_article_link_with_genre_unknown_markup_and_two_authors() {
    let link = "ctx_ver=Z39.88-2004&ctx_enc=info:ofi/enc:UTF-8\
        &rfr_id=info:sid/primo.exlibrisgroup.com:primo3-Article-proquest&url_ctx_fmt=infofi/fmt:kev:mtx:ctx\
        &rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=unknown\
        &rft.atitle=Ocean%20acidification%20and%20%3Ci%3EAcropora%3C/i%3E%20reefs&rft.jtitle=Nature%20climate%20change\
        &rft.btitle=&rft.aulast=Doney&rft.aufirst=Scott%20C.&rft.auinit=S.%20C.&rft.au=Doney%2C%20Scott%20C.\
        &rft.au=Fabry%2C%20Victoria%20J.&rft.date=2016-03-01&rft.volume=6&rft.issue=3&rft.spage=212&rft.epage=219\
        &rft.pages=212-219&rft.issn=1758-678X&rft.eissn=1758-6798&rft.isbn=&rft_id=info:doi/10.1038%2Fnclimate2943\
        &rft_id=info:pmid/&rft.pub=Nature%20Publishing%20Group&rft.place=London&rft.object_id=\
        &rft_dat=%3Cproquest%3E1234%3C%2Fproquest%3E&svc_dat=CTO&rft.eisbn=";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=article&rft.genre=article&rft.title=Nature%20climate%20change\
             &rft.atitle=Ocean%20acidification%20and%20Acropora%20reefs&rft.jtitle=Nature%20climate%20change\
             &rft.au=Doney%2C%20Scott%20C.&rft.aulast=Doney&rft.aufirst=Scott%20C.\
             &rft.issn=1758-678X&rft.eissn=1758-6798&rft.volume=6&rft.issue=3&rft.spage=212&rft.epage=219\
             &rft.pages=212-219&rft.date=2016&rft.pub=Nature%20Publishing%20Group&rft.place=London\
             &rft_id=info%3Adoi%2F10.1038%2Fnclimate2943"
        )
    );
    assert_eq!(parse(link).unwrap().other_authors, ["Fabry, Victoria J."]);
}

#[test]
fn alma_ges_link_with_alma_only_keys() {
    let link = "rft.stitle=The+overstory+%3A&rft.pub=W.W.+Norton+%26+Company%2C&rft.place=New+York+%3A\
        &rft.isbn=039363552X&rft.btitle=The+overstory+%3A&rft.genre=book&rft.normalized_isbn=9780393635522\
        &rft.oclcnum=%28OCoLC%291011233456&rft.mms_id=991012345678903811&rft.object_type=BOOK\
        &rft.publisher=W.W.+Norton+%26+Company%2C&rft.au=Powers%2C+Richard%2C+1957-+author.\
        &rft.pubdate=%5B2018%5D&rft.title=The+overstory+%3A&rft.eisbn=9780393635539";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=The%20overstory&rft.btitle=The%20overstory\
             &rft.au=Powers%2C%20Richard&rft.aulast=Powers&rft.aufirst=Richard&rft.isbn=039363552X\
             &rft.date=2018&rft.pub=W.W.%20Norton%20%26%20Company&rft.place=New%20York&rft.oclcnum=1011233456"
        )
    );
    let citation = parse(link).unwrap();
    assert_eq!(citation.mms_id.as_deref(), Some("991012345678903811"));
    let others: Vec<_> = citation.other_isbns.iter().map(|i| i.as_str()).collect();
    assert_eq!(others, ["9780393635522", "9780393635539"]);
}

#[test]
fn web_of_science_0_1_article_link() {
    let link = "sid=ISI:WoS&genre=article&atitle=Grazing+effects+on+upland+plant+communities\
        &title=JOURNAL+OF+APPLIED+ECOLOGY&issn=0021-8901&date=2019&volume=56&issue=4&spage=871&epage=880\
        &aulast=Smith&aufirst=J.&id=doi:10.1111/1365-2664.13318";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=article&rft.genre=article&rft.title=JOURNAL%20OF%20APPLIED%20ECOLOGY\
             &rft.atitle=Grazing%20effects%20on%20upland%20plant%20communities&rft.jtitle=JOURNAL%20OF%20APPLIED%20ECOLOGY\
             &rft.au=Smith%2C%20J.&rft.aulast=Smith&rft.aufirst=J.&rft.issn=0021-8901&rft.volume=56&rft.issue=4\
             &rft.spage=871&rft.epage=880&rft.pages=871-880&rft.date=2019&rft_id=info%3Adoi%2F10.1111%2F1365-2664.13318"
        )
    );
    assert_eq!(parse(link).unwrap().version, OpenUrlVersion::V0_1);
}

#[test]
fn ebsco_style_0_1_link_in_undeclared_latin_1_with_genre_unknown() {
    let link = "sid=EBSCO:Academic%20Search%20Complete&genre=unknown&title=Revue%20d%27%E9cologie\
        &atitle=Les%20for%EAts%20du%20Qu%E9bec&date=20190301&volume=74&issue=1&spage=5&pages=5-17\
        &issn=0249-7395&aulast=Tremblay&aufirst=Ren%E9&id=pmid:30123456";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=article&rft.genre=article&rft.title=Revue%20d%27%C3%A9cologie\
             &rft.atitle=Les%20for%C3%AAts%20du%20Qu%C3%A9bec&rft.jtitle=Revue%20d%27%C3%A9cologie\
             &rft.au=Tremblay%2C%20Ren%C3%A9&rft.aulast=Tremblay&rft.aufirst=Ren%C3%A9&rft.issn=0249-7395\
             &rft.volume=74&rft.issue=1&rft.spage=5&rft.epage=17&rft.pages=5-17&rft.date=2019\
             &rft_id=info%3Apmid%2F30123456"
        )
    );
}

#[test]
fn declared_latin_1_is_decoded_as_latin_1() {
    let link = "url_ver=Z39.88-2004&ctx_enc=info%3Aofi%2Fenc%3AISO-8859-1\
        &rft_val_fmt=info%3Aofi%2Ffmt%3Akev%3Amtx%3Abook&rft.genre=book&rft.btitle=L%27%E9tranger\
        &rft.au=Camus%2C+Albert&rft.isbn=2070360024&rft.date=1972";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=L%27%C3%A9tranger&rft.btitle=L%27%C3%A9tranger\
             &rft.au=Camus%2C%20Albert&rft.aulast=Camus&rft.aufirst=Albert&rft.isbn=2070360024&rft.date=1972"
        )
    );
}

#[test]
fn decomposed_unicode_title_is_sent_composed() {
    let link = "rft.genre=book&rft.btitle=Les+mise%CC%81rables+%2F\
        &rft.au=Hugo%2C+Victor%2C+1802-1885%2C+author.&rft.isbn=9782070409228";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=Les%20mis%C3%A9rables&rft.btitle=Les%20mis%C3%A9rables\
             &rft.au=Hugo%2C%20Victor&rft.aulast=Hugo&rft.aufirst=Victor&rft.isbn=9782070409228"
        )
    );
}

#[test]
fn several_isbns_in_one_field_send_the_first_and_keep_the_rest() {
    let link = "rft.genre=book&rft.btitle=Introduction+to+algorithms\
        &rft.isbn=978-0-262-03384-8+%28hardcover+%3A+alk.+paper%29%3B+0262033844+%28hardcover%29&rft.edition=3rd+ed.";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=Introduction%20to%20algorithms\
             &rft.btitle=Introduction%20to%20algorithms&rft.isbn=9780262033848&rft.edition=3rd%20ed."
        )
    );
    let citation = parse(link).unwrap();
    assert_eq!(citation.other_isbns.iter().map(|i| i.as_str()).collect::<Vec<_>>(), ["0262033844"]);
}

#[test]
fn an_isbn_with_a_bad_check_digit_is_skipped() {
    let link = "rft.genre=book&rft.btitle=Introduction+to+algorithms&rft.isbn=9780262033849&rft.isbn=0262033844";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=Introduction%20to%20algorithms\
             &rft.btitle=Introduction%20to%20algorithms&rft.isbn=0262033844"
        )
    );
}

#[test]
fn titles_with_ampersand_equals_hash_and_plus_survive_the_round_trip() {
    let link = "rft.genre=book&rft.btitle=Pride+%26+prejudice+%3D+Orgueil+et+pr%C3%A9jug%C3%A9s+%23+1\
        &rft.au=C%2B%2B+Users+Group&rft.isbn=0262033844";
    let title = "Pride%20%26%20prejudice%20%3D%20Orgueil%20et%20pr%C3%A9jug%C3%A9s%20%23%201";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title={title}&rft.btitle={title}\
             &rft.au=C%2B%2B%20Users%20Group&rft.isbn=0262033844"
        )
    );
    assert_eq!(parse(link).unwrap().book_title.as_deref(), Some("Pride & prejudice = Orgueil et préjugés # 1"));
}

#[test]
fn a_journal_name_sent_as_title_with_genre_unknown_is_an_article() {
    let link = "rft_val_fmt=info:ofi/fmt:kev:mtx:unknown&rft.genre=unknown&rft.title=Science\
        &rft.atitle=A+study&rft.issn=0036-8075&rft.date=2020";
    assert_eq!(
        location(link),
        format!(
            "{FORM}&genre=article&rft.genre=article&rft.title=Science&rft.atitle=A%20study&rft.jtitle=Science\
             &rft.issn=0036-8075&rft.date=2020"
        )
    );
}

#[test]
fn chapters_conference_papers_and_theses_pick_their_relais_templates() {
    assert_eq!(
        location(
            "rft.genre=bookitem&rft.atitle=Chapter+one&rft.btitle=Edited+volume+%2F&rft.isbn=0262033844&rft.spage=1&rft.epage=20"
        ),
        format!(
            "{FORM}&genre=bookitem&rft.genre=bookitem&rft.title=Edited%20volume&rft.atitle=Chapter%20one\
             &rft.btitle=Edited%20volume&rft.isbn=0262033844&rft.spage=1&rft.epage=20&rft.pages=1-20"
        )
    );
    assert_eq!(
        location("genre=proceeding&atitle=A+paper&title=Proceedings+of+the+Annual+Meeting&date=2021&spage=10"),
        format!(
            "{FORM}&genre=conference&rft.genre=proceeding&rft.title=Proceedings%20of%20the%20Annual%20Meeting\
             &rft.atitle=A%20paper&rft.btitle=Proceedings%20of%20the%20Annual%20Meeting&rft.spage=10&rft.pages=10&rft.date=2021"
        )
    );
    assert_eq!(
        location("rft_val_fmt=info:ofi/fmt:kev:mtx:dissertation&rft.title=My+thesis&rft.au=Doe%2C+Jane&rft.date=2011"),
        format!(
            "{FORM}&genre=thesis&rft.title=My%20thesis&rft.btitle=My%20thesis\
             &rft.au=Doe%2C%20Jane&rft.aulast=Doe&rft.aufirst=Jane&rft.date=2011"
        )
    );
    assert_eq!(parse("genre=report&title=Annual+report").unwrap().genre, Genre::Report);
}

#[test]
fn an_identifier_alone_is_enough_and_oclc_numbers_come_from_rfe_dat() {
    assert_eq!(
        location("rft_id=info:doi/10.1038%2Fnature12373"),
        format!("{FORM}&rft_id=info%3Adoi%2F10.1038%2Fnature12373")
    );
    assert_eq!(
        location(
            "url_ver=Z39.88-2004&rft_val_fmt=info:ofi/fmt:kev:mtx:book&rft.btitle=Worldcat+book\
                  &rfe_dat=%3Caccessionnumber%3E12345678%3C%2Faccessionnumber%3E"
        ),
        format!(
            "{FORM}&genre=book&rft.genre=book&rft.title=Worldcat%20book&rft.btitle=Worldcat%20book&rft.oclcnum=12345678"
        )
    );
}

#[test]
fn the_citation_serialises_for_the_store() {
    let citation =
        parse("rft.genre=book&rft.btitle=Dune&rft.au=Herbert%2C+Frank&rft.isbn=0262033844&rft.date=%C2%A91965")
            .unwrap();
    let json = serde_json::to_string(&citation).unwrap();
    assert_eq!(
        json,
        r#"{"version":"v1_0","genre":"book","book_title":"Dune","first_author":{"family":"Herbert","given":"Frank"},"isbn":"0262033844","year":1965}"#
    );
}
