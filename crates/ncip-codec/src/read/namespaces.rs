//! The namespace declarations in scope while the cursor walks a message, so that an element bound to a
//! foreign namespace is never taken for NCIP's.

use quick_xml::events::BytesStart;

/// The namespace declarations in scope, kept by the cursor itself rather than by quick-xml's `NsReader`, which
/// parses every start tag's attributes and resolves every name: NCIP messages declare namespaces on one or two
/// elements, so a start tag whose attribute scan found no `xmlns` name costs nothing here, and names are resolved only while
/// a foreign namespace is declared somewhere in scope.
#[derive(Debug, Default)]
pub(crate) struct Namespaces {
    /// (depth of the declaring element, prefix or `None` for the default namespace, the foreign namespace or
    /// `None` for NCIP's or an undeclared default), innermost last.
    scopes: Vec<(usize, Option<String>, Option<String>)>,
    /// How many entries of `scopes` bind a foreign namespace.
    foreign_in_scope: usize,
}

impl Namespaces {
    /// Records the declarations of the element `start` entered at `depth` and returns the foreign namespace it
    /// is bound to, if any. An empty element's declarations apply to itself only. `declares` is false only when
    /// the scan of its attributes found none that could be a declaration.
    pub(crate) fn open(&mut self, start: &BytesStart<'_>, declares: bool, depth: usize, empty: bool) -> Option<String> {
        if declares {
            // The element's own level: an empty element did not add one to the depth.
            let level = if empty { depth + 1 } else { depth };
            for attr in start.attributes().with_checks(false).flatten() {
                let key = attr.key.into_inner();
                let prefix = match key {
                    "xmlns" => None,
                    _ => match key.strip_prefix("xmlns:") {
                        Some(prefix) => Some(prefix.to_owned()),
                        None => continue,
                    },
                };
                let value = attr.value;
                // `xmlns=""` undeclares the default: no namespace, the dialects' own form.
                let foreign = (value != crate::read::NCIP_NAMESPACE && !value.is_empty()).then(|| value.into_owned());
                self.foreign_in_scope += usize::from(foreign.is_some());
                self.scopes.push((level, prefix, foreign));
            }
        }
        let found = if self.foreign_in_scope == 0 {
            None
        } else {
            self.foreign(start.name().prefix().map(|p| p.into_inner())).map(str::to_owned)
        };
        if declares && empty {
            self.close(depth);
        }
        found
    }

    /// The foreign namespace `prefix` (`None`: the default) is bound to, if it is bound to one.
    pub(crate) fn foreign(&self, prefix: Option<&str>) -> Option<&str> {
        let (_, _, namespace) = self.scopes.iter().rev().find(|(_, p, _)| p.as_deref() == prefix)?;
        namespace.as_deref()
    }

    /// Drops the declarations of elements deeper than `depth` (their end tags have been read).
    #[inline]
    pub(crate) fn close(&mut self, depth: usize) {
        while let Some((level, _, namespace)) = self.scopes.last() {
            if *level <= depth {
                break;
            }
            self.foreign_in_scope -= usize::from(namespace.is_some());
            self.scopes.pop();
        }
    }
}
