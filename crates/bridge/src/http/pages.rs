//! Small HTML pages for people: errors on the OpenURL path and the staff status page. Every value that came
//! from a request or a record is escaped.

pub use crate::openurl::escape_html as escape;

/// A complete page with a title and pre-escaped body HTML.
pub fn page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style>\
         </head><body>{body_html}</body></html>\n",
        title = escape(title)
    )
}
