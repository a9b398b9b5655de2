//! The typed citation a link describes, after clean-up. This is what the bridge stores with a request
//! and what the Relais redirect is built from; it never holds patron data.

use serde::Serialize;

/// Which OpenURL dialect the link used, told apart by its keys (DESIGN §5: no `rft`/`req` keys means 0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenUrlVersion {
    /// The 2000 draft: `genre`, `title`, `atitle`, `aulast`, `sid`, `id`, `pid`.
    V0_1,
    /// ANSI/NISO Z39.88-2004 KEV: `rft.*`, `rft_id`, `rfr_id`, `rft_val_fmt`, `ctx_enc`.
    V1_0,
}

/// What kind of thing is requested; each picks a different Relais request template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Genre {
    /// A journal article (Relais' `article` template).
    Article,
    /// A whole book (`book`).
    Book,
    /// A chapter in a book (`bookitem`).
    Chapter,
    /// A paper in conference proceedings (`conference`).
    ConferencePaper,
    /// A thesis or dissertation (`thesis`).
    Thesis,
    /// A report (`report`).
    Report,
    /// Neither stated nor evident from the fields: Relais shows its generic form with every field.
    Unknown,
}

/// A personal or corporate author. `family` holds the whole name of a corporate body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// Surname, or a corporate body's whole name.
    pub family: String,
    /// Given names or initials, when the link separates them from the surname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    /// A body such as a society or agency (`aucorp`), whose name must not be split into parts.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub corporate: bool,
}

impl Author {
    /// "Family, Given" as library catalogues and the Relais author field show it.
    pub fn display_name(&self) -> String {
        match &self.given {
            Some(given) => format!("{}, {}", self.family, given),
            None => self.family.clone(),
        }
    }
}

/// An ISBN whose check digit is right, digits only (10 or 13, `X` upper-case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Isbn(pub(crate) String);

impl Isbn {
    /// The digits as sent to Relais (`rft.isbn`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISSN whose check digit is right, written `NNNN-NNNC`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Issn(pub(crate) String);

impl Issn {
    /// The hyphenated form as sent to Relais (`rft.issn`, `rft.eissn`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A cleaned citation. Every text field is trimmed, free of markup and ISBD punctuation, NFC, and at
/// most [`crate::FIELD_CAP`] characters; an absent or empty field is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The dialect of the incoming link, kept for diagnosing odd links.
    pub version: OpenUrlVersion,
    /// The kind of item, stated by the link or inferred from its fields; picks the Relais template.
    pub genre: Genre,
    /// The title of an article, chapter or paper (`atitle`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article_title: Option<String>,
    /// The title of the journal an article appeared in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_title: Option<String>,
    /// The title of a book, thesis, report or conference volume (the container of a chapter or paper).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub book_title: Option<String>,
    /// The first author, with its parts kept so Relais can be given `aulast` and `aufirst`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_author: Option<Author>,
    /// Further authors as "Family, Given", in link order, without the first author.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_authors: Vec<String>,
    /// The first valid print ISSN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issn: Option<Issn>,
    /// The first valid electronic ISSN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eissn: Option<Issn>,
    /// Valid ISSNs beyond the first print and electronic ones.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_issns: Vec<Issn>,
    /// The first valid ISBN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isbn: Option<Isbn>,
    /// Valid ISBNs beyond the first (other bindings, the e-book, the ISBN-13 twin).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_isbns: Vec<Isbn>,
    /// Volume number, its "Vol." prefix removed ("Spring 2020" kept as written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// Issue number, cleaned like the volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// First page; taken from `pages` when the link sends only a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_page: Option<String>,
    /// Last page; taken from `pages` when the link sends only a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_page: Option<String>,
    /// Page range for Relais' single "Pages" field; built from the start and end pages when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    /// Publication year, from whatever date form the link carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    /// Publisher, absent when the catalogue says it is not identified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Place of publication, absent when the catalogue says it is not identified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Edition statement, e.g. "2nd ed.".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// DOI without its URI prefix, e.g. `10.1000/xyz`; sent to Relais as an `info:doi/` `rft_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    /// PubMed id (digits); sent to Relais as an `info:pmid/` `rft_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pmid: Option<String>,
    /// OCLC (WorldCat) number without prefix or leading zeros.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oclc_number: Option<String>,
    /// Alma's bibliographic record id (`mms_id`), for finding the record in Alma; not sent to Relais.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mms_id: Option<String>,
    /// Who made the link: `rfr_id` (1.0) or `sid` (0.1), e.g. `info:sid/primo.exlibrisgroup.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

impl Citation {
    /// The title a person would name the request by: the article or chapter title when there is one,
    /// else the journal or book title.
    pub fn display_title(&self) -> Option<&str> {
        self.article_title.as_deref().or_else(|| self.container_title())
    }

    /// The journal title of an article, the book or volume title of anything else (either one when
    /// only one is known).
    pub fn container_title(&self) -> Option<&str> {
        let (journal, book) = (self.journal_title.as_deref(), self.book_title.as_deref());
        match self.genre {
            Genre::Article => journal.or(book),
            _ => book.or(journal),
        }
    }

    /// Whether Relais can be given something to find: a title or an identifier.
    pub fn is_requestable(&self) -> bool {
        self.display_title().is_some()
            || self.isbn.is_some()
            || self.issn.is_some()
            || self.eissn.is_some()
            || self.doi.is_some()
            || self.pmid.is_some()
            || self.oclc_number.is_some()
    }
}
