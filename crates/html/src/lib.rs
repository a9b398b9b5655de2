//! HTML by construction: the pages people read (the staff console, the patron's error pages) are built as a
//! tree of [`Node`]s and rendered once, so that no value from a request, a record or Alma is ever formatted
//! into markup by hand.
//!
//! - A *value* ([`Node::value`], [`Element::value`]) is escaped and wrapped in `<bdi>`, so a request id or a
//!   note written right-to-left (or carrying a stray U+202E) cannot reorder the text around it. A page's
//!   title, which cannot hold markup, is isolated the plain-text way (U+2068 FIRST STRONG ISOLATE ... U+2069
//!   POP DIRECTIONAL ISOLATE), so a value in it cannot reorder the browser's own words around the title.
//! - Fixed wording ([`Node::text`], [`Element::text`]) is escaped too, but only `&'static str` is taken: the
//!   page's own words, written in the code.
//! - Tag and attribute names are `&'static str` chosen in the code; attribute values are escaped.
//! - Trusted markup ([`Node::trusted`]) is `&'static str` only: a script or style written in the code.
//!
//! Not here: layout and wording (the pages that use it), templates, or any parsing of HTML.

#![warn(missing_docs, unreachable_pub)]

use std::fmt::Write as _;

/// One piece of a page: an element, text, or markup written in the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node(Kind);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Element(Element),
    /// Escaped when rendered; isolated in `<bdi>` when `isolate`.
    Text {
        text: String,
        isolate: bool,
    },
    Trusted(&'static str),
}

impl Node {
    /// The page's own wording (escaped, not isolated).
    pub fn text(text: &'static str) -> Node {
        Node(Kind::Text { text: text.to_owned(), isolate: false })
    }

    /// A value from outside the code (a request, a record, Alma): escaped and isolated in `<bdi>`.
    pub fn value(value: impl AsRef<str>) -> Node {
        Node(Kind::Text { text: value.as_ref().to_owned(), isolate: true })
    }

    /// Markup written in the code, passed through as it is (a script, a style sheet).
    pub fn trusted(markup: &'static str) -> Node {
        Node(Kind::Trusted(markup))
    }

    fn render_into(&self, out: &mut String) {
        match &self.0 {
            Kind::Element(element) => element.render_into(out),
            Kind::Text { text, isolate: true } => {
                out.push_str("<bdi>");
                escape_into(text, out);
                out.push_str("</bdi>");
            }
            Kind::Text { text, isolate: false } => escape_into(text, out),
            Kind::Trusted(markup) => out.push_str(markup),
        }
    }
}

impl From<Element> for Node {
    fn from(element: Element) -> Node {
        Node(Kind::Element(element))
    }
}

/// The elements that never have content or a closing tag.
const VOID: [&str; 6] = ["br", "hr", "img", "input", "meta", "link"];

/// An element under construction: `el("td").value(&id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    tag: &'static str,
    attributes: Vec<(&'static str, String)>,
    children: Vec<Node>,
}

/// Starts an element named `tag`.
pub fn el(tag: &'static str) -> Element {
    Element { tag, attributes: Vec::new(), children: Vec::new() }
}

impl Element {
    /// Adds an attribute; its value is escaped (it may come from outside the code, e.g. a link's id).
    pub fn attr(mut self, name: &'static str, value: impl AsRef<str>) -> Element {
        self.attributes.push((name, value.as_ref().to_owned()));
        self
    }

    /// Adds a child element or node.
    pub fn child(mut self, child: impl Into<Node>) -> Element {
        self.children.push(child.into());
        self
    }

    /// Adds several children.
    pub fn children(mut self, children: impl IntoIterator<Item = impl Into<Node>>) -> Element {
        self.children.extend(children.into_iter().map(Into::into));
        self
    }

    /// Adds the page's own wording.
    pub fn text(self, text: &'static str) -> Element {
        self.child(Node::text(text))
    }

    /// Adds a value from outside the code, escaped and isolated.
    pub fn value(self, value: impl AsRef<str>) -> Element {
        self.child(Node::value(value))
    }

    /// Renders the element and everything in it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.tag);
        for (name, value) in &self.attributes {
            let _ = write!(out, " {name}=\"");
            escape_into(value, out);
            out.push('"');
        }
        out.push('>');
        if VOID.contains(&self.tag) {
            return;
        }
        for child in &self.children {
            child.render_into(out);
        }
        let _ = write!(out, "</{}>", self.tag);
    }
}

/// A whole page: `<!doctype html>`, a head with the title and the page's style, and the body's nodes.
#[derive(Debug, Clone)]
pub struct Page {
    title: String,
    style: &'static str,
    head: Vec<Node>,
    body: Vec<Node>,
}

impl Page {
    /// A page titled `title` (a value: it may name a request).
    pub fn new(title: impl AsRef<str>) -> Page {
        Page { title: title.as_ref().to_owned(), style: "", head: Vec::new(), body: Vec::new() }
    }

    /// The page's style sheet, written in the code.
    pub fn style(mut self, css: &'static str) -> Page {
        self.style = css;
        self
    }

    /// Adds a node to the head (a `meta` element).
    pub fn head(mut self, node: impl Into<Node>) -> Page {
        self.head.push(node.into());
        self
    }

    /// Adds a node to the body.
    pub fn push(&mut self, node: impl Into<Node>) {
        self.body.push(node.into());
    }

    /// Adds a node to the body, builder style.
    pub fn with(mut self, node: impl Into<Node>) -> Page {
        self.push(node);
        self
    }

    /// The page as sent: UTF-8 HTML.
    pub fn render(&self) -> String {
        let mut out = String::from("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
        // A title is plain text: Unicode's isolate controls do there what `<bdi>` does in the body.
        let isolate = self.title.chars().any(is_bidi_control);
        if isolate {
            out.push('\u{2068}');
        }
        escape_into(&self.title, &mut out);
        if isolate {
            out.push('\u{2069}');
        }
        out.push_str("</title>");
        for node in &self.head {
            node.render_into(&mut out);
        }
        if !self.style.is_empty() {
            out.push_str("<style>");
            out.push_str(self.style);
            out.push_str("</style>");
        }
        out.push_str("</head><body>");
        for node in &self.body {
            node.render_into(&mut out);
        }
        out.push_str("</body></html>\n");
        out
    }
}

/// A table with a header row of the page's own wording, and rows of cells.
pub fn table(headings: &[&'static str], rows: impl IntoIterator<Item = Vec<Node>>) -> Element {
    let head = el("tr").children(headings.iter().map(|h| el("th").attr("scope", "col").text(h)));
    let body = rows.into_iter().map(|cells| el("tr").children(cells.into_iter().map(|cell| el("td").child(cell))));
    el("table").child(el("thead").child(head)).child(el("tbody").children(body))
}

/// Unicode's `Bidi_Control` characters: the ones that reorder the text after them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Escapes the five characters that matter in HTML text and attribute values (OWASP's first XSS rule).
fn escape_into(text: &str, out: &mut String) {
    out.reserve(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text` escaped for HTML text or an attribute value, for a caller that writes no markup of its own.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    escape_into(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_escaped_and_isolated_wherever_it_goes() {
        let hostile = "<script>alert('x')</script>&\"";
        let cell = el("td").value(hostile).render();
        assert_eq!(cell, "<td><bdi>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;</bdi></td>");
        let link = el("a").attr("href", "/requests/\"><script>").text("open").render();
        assert_eq!(link, "<a href=\"/requests/&quot;&gt;&lt;script&gt;\">open</a>");
        let page = Page::new(hostile).with(el("p").value(hostile)).render();
        assert!(!page.contains("<script>"), "{page}");
    }

    #[test]
    fn right_to_left_overrides_stay_inside_their_value() {
        let reversed = "RL-\u{202e}1234";
        let row = el("tr").child(el("td").value(reversed)).child(el("td").text("AcceptItem")).render();
        assert_eq!(row, "<tr><td><bdi>RL-\u{202e}1234</bdi></td><td>AcceptItem</td></tr>");
    }

    #[test]
    fn a_title_carrying_a_bidi_control_is_isolated_as_plain_text() {
        let page = Page::new("Relais request RL-\u{202e}1234").render();
        assert!(page.contains("<title>\u{2068}Relais request RL-\u{202e}1234\u{2069}</title>"), "{page}");
        let plain = Page::new("Outbox").render();
        assert!(plain.contains("<title>Outbox</title>"), "{plain}");
    }

    #[test]
    fn void_elements_have_no_closing_tag_and_tables_have_scoped_headings() {
        assert_eq!(el("input").attr("name", "q").render(), "<input name=\"q\">");
        let rendered = table(&["Id"], [vec![Node::value("RL-1")]]).render();
        assert_eq!(
            rendered,
            "<table><thead><tr><th scope=\"col\">Id</th></tr></thead><tbody><tr><td><bdi>RL-1</bdi></td></tr></tbody></table>"
        );
    }

    #[test]
    fn a_page_has_its_title_style_and_body_in_order() {
        let page = Page::new("Outbox").style("body{margin:0}").with(el("h1").text("Outbox")).render();
        assert!(
            page.starts_with("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Outbox</title>")
        );
        assert!(page.contains("<style>body{margin:0}</style></head><body><h1>Outbox</h1></body></html>"));
    }
}
