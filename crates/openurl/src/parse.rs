//! From decoded key/value pairs to a [`Citation`]: which keys of OpenURL 0.1 and 1.0 (and the
//! Alma/Primo extensions) feed which field, which genre the link really describes, and where a
//! title sent under the generic `title` key belongs.

use crate::authors::{NameParts, authors};
use crate::citation::{Citation, Genre, Isbn, Issn, OpenUrlVersion};
use crate::error::BadOpenUrl;
use crate::identifiers::{doi_in, isbns_in, issns_in, mms_id_in, oclc_number_in, pmid_in};
use crate::kev::decode_query;
use crate::normalise::{
    FIELD_CAP, clean_text, edition, imprint, numbering, pages, starts_with_ignore_case, title, year,
};

/// Parses a raw OpenURL query string (0.1 or 1.0 KEV, with or without the leading `?`) into a cleaned
/// citation, or says in plain words why it cannot be used.
pub fn parse(raw_query: &str) -> Result<Citation, BadOpenUrl> {
    let mut version_1_0 = false;
    let pairs = decode_query(raw_query, |key| {
        version_1_0 |= ["rft", "rfr", "rfe", "req", "ctx_", "url_ver"].iter().any(|p| key.starts_with(p));
        Slot::of(key)
    })?;
    let mut keys = Keys::collect(&pairs);
    keys.version_1_0 = version_1_0;
    let citation = keys.into_citation();
    if citation.is_requestable() { Ok(citation) } else { Err(BadOpenUrl::NothingToRequest) }
}

/// The raw values a link carries, by meaning. Single-valued fields keep the first non-empty value;
/// repeatable ones (authors, standard numbers, `rft_id`) keep all, in order.
#[derive(Default)]
struct Keys<'a> {
    version_1_0: bool,
    genre: Option<&'a str>,
    format: Option<&'a str>,
    article_title: Option<&'a str>,
    journal_title: Option<&'a str>,
    book_title: Option<&'a str>,
    generic_title: Option<&'a str>,
    short_title: Option<&'a str>,
    names: Vec<&'a str>,
    name_parts: NameParts<'a>,
    issns: Vec<&'a str>,
    eissns: Vec<&'a str>,
    isbns: Vec<&'a str>,
    eisbns: Vec<&'a str>,
    volume: Option<&'a str>,
    issue: Option<&'a str>,
    start_page: Option<&'a str>,
    end_page: Option<&'a str>,
    pages: Option<&'a str>,
    dates: Vec<&'a str>,
    publisher: Option<&'a str>,
    place: Option<&'a str>,
    edition: Option<&'a str>,
    dois: Vec<&'a str>,
    pmids: Vec<&'a str>,
    oclc_numbers: Vec<&'a str>,
    mms_id: Option<&'a str>,
    referrer: Option<&'a str>,
}

fn first<'a>(slot: &mut Option<&'a str>, value: &'a str) {
    slot.get_or_insert(value);
}

/// What a key means to the citation. Keys with no slot (Primo's `svc_dat`, `rft.sici`, ...) are
/// checked but never decoded.
#[derive(Clone, Copy)]
enum Slot {
    Genre,
    Format,
    ArticleTitle,
    JournalTitle,
    BookTitle,
    GenericTitle,
    ShortTitle,
    Name,
    LastName,
    FirstName,
    Initials,
    FirstInitial,
    MiddleInitial,
    NameSuffix,
    Corporate,
    Issn,
    Eissn,
    Isbn,
    Eisbn,
    Volume,
    Issue,
    StartPage,
    EndPage,
    Pages,
    Date,
    Publisher,
    Place,
    Edition,
    Identifier,
    Doi,
    Pmid,
    OclcNumber,
    MmsId,
    Referrer,
}

impl Slot {
    fn of(key: &str) -> Option<Slot> {
        // OpenURL 0.1 keys are the 1.0 keys without "rft." (and Alma adds a few of its own), so one
        // table serves both versions; a link mixing them (Primo does) still reads correctly.
        let bare = key.strip_prefix("rft.").unwrap_or(key);
        Some(match bare {
            "genre" => Slot::Genre,
            "rft_val_fmt" => Slot::Format,
            "atitle" => Slot::ArticleTitle,
            "jtitle" => Slot::JournalTitle,
            "btitle" => Slot::BookTitle,
            "title" => Slot::GenericTitle,
            "stitle" => Slot::ShortTitle,
            "au" | "creator" | "addau" => Slot::Name,
            "aulast" => Slot::LastName,
            "aufirst" => Slot::FirstName,
            "auinit" => Slot::Initials,
            "auinit1" => Slot::FirstInitial,
            "auinitm" => Slot::MiddleInitial,
            "ausuffix" => Slot::NameSuffix,
            "aucorp" => Slot::Corporate,
            "issn" => Slot::Issn,
            "eissn" => Slot::Eissn,
            // Alma GES links add `rft.normalized_isbn` (the ISBN-13 of `rft.isbn`) and `rft.eisbn`.
            "isbn" | "normalized_isbn" => Slot::Isbn,
            "eisbn" => Slot::Eisbn,
            "volume" => Slot::Volume,
            "issue" => Slot::Issue,
            "spage" => Slot::StartPage,
            "epage" => Slot::EndPage,
            "pages" => Slot::Pages,
            // Alma sends the MARC 264 date as `rft.pubdate`, alongside or instead of `rft.date`.
            "date" | "pubdate" | "year" => Slot::Date,
            "pub" | "publisher" => Slot::Publisher,
            "place" | "pubplace" => Slot::Place,
            "edition" => Slot::Edition,
            "rft_id" | "id" => Slot::Identifier,
            "doi" => Slot::Doi,
            "pmid" => Slot::Pmid,
            // WorldCat puts `<accessionnumber>` in `rfe_dat` (1.0) or `pid` (0.1).
            "oclcnum" | "rfe_dat" | "pid" => Slot::OclcNumber,
            "mms_id" => Slot::MmsId,
            "rfr_id" | "sid" => Slot::Referrer,
            _ => return None,
        })
    }
}

impl<'a> Keys<'a> {
    fn collect(pairs: &'a [(Slot, String)]) -> Self {
        let mut k = Keys::default();
        for (slot, value) in pairs {
            let v = value.as_str();
            match slot {
                Slot::Genre => first(&mut k.genre, v),
                Slot::Format => first(&mut k.format, v),
                Slot::ArticleTitle => first(&mut k.article_title, v),
                Slot::JournalTitle => first(&mut k.journal_title, v),
                Slot::BookTitle => first(&mut k.book_title, v),
                Slot::GenericTitle => first(&mut k.generic_title, v),
                Slot::ShortTitle => first(&mut k.short_title, v),
                Slot::Name => k.names.push(v),
                Slot::LastName => first(&mut k.name_parts.last, v),
                Slot::FirstName => first(&mut k.name_parts.first, v),
                Slot::Initials => first(&mut k.name_parts.initials, v),
                Slot::FirstInitial => first(&mut k.name_parts.initial1, v),
                Slot::MiddleInitial => first(&mut k.name_parts.middle_initial, v),
                Slot::NameSuffix => first(&mut k.name_parts.suffix, v),
                Slot::Corporate => first(&mut k.name_parts.corporate, v),
                Slot::Issn => k.issns.push(v),
                Slot::Eissn => k.eissns.push(v),
                Slot::Isbn => k.isbns.push(v),
                Slot::Eisbn => k.eisbns.push(v),
                Slot::Volume => first(&mut k.volume, v),
                Slot::Issue => first(&mut k.issue, v),
                Slot::StartPage => first(&mut k.start_page, v),
                Slot::EndPage => first(&mut k.end_page, v),
                Slot::Pages => first(&mut k.pages, v),
                Slot::Date => k.dates.push(v),
                Slot::Publisher => first(&mut k.publisher, v),
                Slot::Place => first(&mut k.place, v),
                Slot::Edition => first(&mut k.edition, v),
                Slot::Identifier => k.identifier(v),
                Slot::Doi => k.dois.push(v),
                Slot::Pmid => k.pmids.push(v),
                Slot::OclcNumber => k.oclc_numbers.push(v),
                Slot::MmsId => first(&mut k.mms_id, v),
                Slot::Referrer => first(&mut k.referrer, v),
            }
        }
        k
    }

    /// `rft_id` (1.0, a URI) and `id` (0.1, `scheme:value`) name the referent by identifier.
    fn identifier(&mut self, v: &'a str) {
        let starts = |prefix: &str| starts_with_ignore_case(v, prefix);
        if starts("info:doi/") || starts("doi:") || starts("https://doi.org/") || starts("http://dx.doi.org/") {
            self.dois.push(v);
        } else if starts("info:pmid/") || starts("pmid:") {
            self.pmids.push(v);
        } else if starts("info:oclcnum/") || starts("oclcnum:") {
            self.oclc_numbers.push(v);
        } else if starts("urn:isbn:") {
            self.isbns.push(v);
        } else if starts("urn:issn:") {
            self.issns.push(v);
        }
    }

    fn into_citation(self) -> Citation {
        let isbns: Vec<Isbn> = self.isbns.iter().chain(&self.eisbns).flat_map(|f| isbns_in(f)).collect();
        let print_issns: Vec<Issn> = self.issns.iter().flat_map(|f| issns_in(f)).collect();
        let e_issns: Vec<Issn> = self.eissns.iter().flat_map(|f| issns_in(f)).collect();
        let (isbn, other_isbns) = first_and_rest(isbns);
        let (issn, mut other_issns) = first_and_rest(print_issns);
        let (eissn, more) = first_and_rest(e_issns);
        other_issns.extend(more);

        let article_title = self.article_title.and_then(title);
        let journal_title = self.journal_title.and_then(title);
        let book_title = self.book_title.and_then(title);
        let generic_title = self.generic_title.and_then(title);
        let evidence = Evidence {
            article_title: article_title.is_some(),
            journal_title: journal_title.is_some(),
            book_title: book_title.is_some(),
            generic_title: generic_title.is_some(),
            issn: issn.is_some() || eissn.is_some(),
            isbn: isbn.is_some(),
        };
        let genre = decide_genre(self.genre, self.format, &evidence);
        let (journal_title, book_title) =
            place_generic_title(genre, journal_title, book_title, generic_title, self.short_title);

        let (first_author, other_authors) = authors(&self.name_parts, &self.names);
        let mut start_page = self.start_page.and_then(pages);
        let mut end_page = self.end_page.and_then(pages);
        let mut page_range = self.pages.and_then(pages);
        fill_pages(&mut start_page, &mut end_page, &mut page_range);

        Citation {
            version: if self.version_1_0 { OpenUrlVersion::V1_0 } else { OpenUrlVersion::V0_1 },
            genre,
            article_title,
            journal_title,
            book_title,
            first_author,
            other_authors,
            issn,
            eissn,
            other_issns,
            isbn,
            other_isbns,
            volume: self.volume.and_then(numbering),
            issue: self.issue.and_then(numbering),
            start_page,
            end_page,
            pages: page_range,
            year: self.dates.iter().find_map(|d| year(d)),
            publisher: self.publisher.and_then(imprint),
            place: self.place.and_then(imprint),
            edition: self.edition.and_then(edition),
            doi: self.dois.iter().find_map(|d| doi_in(d.trim())).filter(|d| d.chars().count() <= FIELD_CAP),
            pmid: self.pmids.iter().find_map(|p| pmid_in(p.trim())),
            oclc_number: self.oclc_numbers.iter().find_map(|o| oclc_number_in(o)),
            mms_id: self.mms_id.and_then(mms_id_in),
            referrer: self.referrer.and_then(clean_text),
        }
    }
}

fn first_and_rest<T: PartialEq>(items: Vec<T>) -> (Option<T>, Vec<T>) {
    let mut unique: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(&item) {
            unique.push(item);
        }
    }
    let mut iter = unique.into_iter();
    (iter.next(), iter.collect())
}

/// What the cleaned link contains, for telling its genre.
struct Evidence {
    article_title: bool,
    journal_title: bool,
    book_title: bool,
    generic_title: bool,
    issn: bool,
    isbn: bool,
}

/// The stated genre when it is one of the known words, else the metadata format
/// (`rft_val_fmt=...:journal|book|dissertation`, matched by its end so Primo's `infofi/` typo for
/// `info:ofi/` does not matter), else what the fields show. Primo sends `genre=unknown` for many
/// articles; an article title with a journal title or ISSN makes it an article.
fn decide_genre(stated: Option<&str>, format: Option<&str>, e: &Evidence) -> Genre {
    let stated = stated.map(|g| g.trim().to_ascii_lowercase());
    let from_word = match stated.as_deref() {
        Some("article" | "journal" | "issue" | "preprint" | "journalarticle") => Some(Genre::Article),
        Some("book" | "monograph" | "ebook") => Some(Genre::Book),
        Some("bookitem" | "chapter" | "bookchapter" | "book chapter") => Some(Genre::Chapter),
        Some("proceeding" | "conference" | "proceedings" | "conference paper") => Some(Genre::ConferencePaper),
        Some("dissertation" | "thesis") => Some(Genre::Thesis),
        Some("report") => Some(Genre::Report),
        _ => None,
    };
    if let Some(genre) = from_word {
        return genre;
    }
    let format = format.map(str::to_ascii_lowercase).unwrap_or_default();
    if format.ends_with("fmt:kev:mtx:journal") {
        return Genre::Article;
    }
    if format.ends_with("fmt:kev:mtx:book") {
        return if e.article_title { Genre::Chapter } else { Genre::Book };
    }
    if format.ends_with("fmt:kev:mtx:dissertation") {
        return Genre::Thesis;
    }
    let serial_container = e.journal_title || e.issn || (e.generic_title && !e.isbn && !e.book_title);
    match () {
        () if e.article_title && serial_container => Genre::Article,
        () if e.article_title && (e.book_title || e.isbn) => Genre::Chapter,
        () if e.isbn || e.book_title => Genre::Book,
        () if e.issn || e.journal_title => Genre::Article,
        () => Genre::Unknown,
    }
}

/// The generic `title` key (0.1's only title for the journal or book, and `rft.title` in Primo and
/// Alma links) names the journal of an article and the book or volume of everything else.
fn place_generic_title(
    genre: Genre,
    journal: Option<String>,
    book: Option<String>,
    generic: Option<String>,
    short_title: Option<&str>,
) -> (Option<String>, Option<String>) {
    match genre {
        Genre::Article => {
            let journal = journal.or(generic).or_else(|| short_title.and_then(title));
            (journal, book)
        }
        _ => (journal, book.or(generic)),
    }
}

/// Relais' article form has one "Pages" field and some sources send only a range, others only the
/// start and end; each form is derived from the other so none is lost.
fn fill_pages(start: &mut Option<String>, end: &mut Option<String>, range: &mut Option<String>) {
    if let Some(r) = range.as_deref()
        && let Some((s, e)) = r.split_once('-')
    {
        let (s, e) = (s.trim(), e.trim());
        if start.is_none() && !s.is_empty() {
            *start = Some(s.to_owned());
        }
        if end.is_none() && !e.is_empty() {
            *end = Some(e.to_owned());
        }
    }
    if range.is_none() {
        *range = match (start.as_deref(), end.as_deref()) {
            (Some(s), Some(e)) if s != e => Some(format!("{s}-{e}")),
            (Some(s), _) => Some(s.to_owned()),
            _ => None,
        };
    }
}
