//! The pages people read: the staff status and queue pages and the OpenURL path's own pages, built with the
//! workspace's HTML builder ([`bridge_html`]), so every value from a request, a record or Alma is escaped and
//! isolated for bidirectional text by construction.

pub use bridge_html::{Element, Node, Page, el, table};

/// The staff pages' style: light, readable without colour.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}\
                     table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}";

/// A page titled `title` in the bridge's style.
pub fn page(title: impl AsRef<str>) -> Page {
    Page::new(title).style(STYLE)
}
