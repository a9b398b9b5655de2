//! The namespace declarations in scope while the cursor walks a message, so that an element bound to a
//! foreign namespace is never taken for NCIP's.

use quick_xml::events::BytesStart;

use super::attributes::{Scan, plain_pairs};

/// The namespace declarations in scope, kept by the cursor itself rather than by quick-xml's `NsReader`, which
/// parses every start tag's attributes and resolves every name: NCIP messages declare namespaces on one or two
/// elements, so a start tag whose attribute scan found no `xmlns` name costs nothing here, and names are resolved
/// only while a foreign namespace is declared somewhere in scope. Prefixes and namespace names are held as where
/// they lie in the message, and the first few declarations in place, so that a message's usual one or two
/// declarations allocate nothing.
#[derive(Debug, Default)]
pub(crate) struct Namespaces {
    /// The declarations, innermost last.
    scopes: Scopes,
    /// How many entries of `scopes` bind a foreign namespace.
    foreign_in_scope: usize,
}

/// A prefix or namespace name of a declaration: the byte range of the message it lies at, or a copy.
#[derive(Debug)]
enum Held {
    At(usize, usize),
    Copy(Box<str>),
}

impl Held {
    fn bytes<'d>(&'d self, doc: &'d [u8]) -> &'d [u8] {
        match self {
            Held::At(start, end) => &doc[*start..*end],
            Held::Copy(text) => text.as_bytes(),
        }
    }
}

/// One declaration in scope.
#[derive(Debug)]
struct Scope {
    /// Depth of the declaring element.
    level: usize,
    /// The prefix, or `None` for the default namespace.
    prefix: Option<Held>,
    /// The foreign namespace, or `None` for NCIP's or an undeclared default.
    foreign: Option<Held>,
}

/// How many declarations are held without allocating.
const IN_PLACE: usize = 4;

/// A stack of declarations whose first [`IN_PLACE`] entries need no allocation.
#[derive(Debug, Default)]
struct Scopes {
    first: [Option<Scope>; IN_PLACE],
    more: Vec<Scope>,
    len: usize,
}

impl Scopes {
    fn push(&mut self, scope: Scope) {
        match self.first.get_mut(self.len) {
            Some(slot) => *slot = Some(scope),
            None => self.more.push(scope),
        }
        self.len += 1;
    }

    fn last(&self) -> Option<&Scope> {
        let last = self.len.checked_sub(1)?;
        match self.first.get(last) {
            Some(slot) => slot.as_ref(),
            None => self.more.last(),
        }
    }

    fn pop(&mut self) {
        let Some(last) = self.len.checked_sub(1) else { return };
        match self.first.get_mut(last) {
            Some(slot) => *slot = None,
            None => {
                self.more.pop();
            }
        }
        self.len = last;
    }

    /// Innermost first.
    fn iter_rev(&self) -> impl Iterator<Item = &Scope> {
        self.more.iter().rev().chain(self.first[..self.len.min(IN_PLACE)].iter().rev().flatten())
    }
}

impl Namespaces {
    /// Records the declarations of the element `start` entered at `depth` and returns the foreign namespace it
    /// is bound to, if any. An empty element's declarations apply to itself only. `doc` is the message `start`
    /// was read from, `found` the scan of its attributes, and `prefix` the element's own prefix.
    pub(crate) fn open(
        &mut self,
        doc: &[u8],
        start: &BytesStart<'_>,
        found: &Scan,
        prefix: Option<&[u8]>,
        depth: usize,
        empty: bool,
    ) -> Option<String> {
        if found.may_declare {
            // The element's own level: an empty element did not add one to the depth.
            let level = if empty { depth + 1 } else { depth };
            let raw = start.attributes_raw();
            // Where the attributes lie in the message (quick-xml borrows them from it): the slice of `doc` at that
            // offset is `raw` itself, so the offsets held below are exact.
            let at = (raw.as_ptr() as usize).wrapping_sub(doc.as_ptr() as usize);
            let in_doc = doc.get(at..).is_some_and(|rest| rest.len() >= raw.len());
            if found.plain && in_doc && !found.declarations.more {
                for (name, name_end, start, end) in found.declarations.iter() {
                    if let Some(prefix) = declared_prefix(&raw[name..name_end]) {
                        let prefix = prefix.prefix().map(|p| Held::At(at + name_end - p.len(), at + name_end));
                        self.declare(level, prefix, &raw[start..end], Held::At(at + start, at + end));
                    }
                }
            } else if found.plain && in_doc {
                let offset = |part: &str| at + (part.as_ptr() as usize - raw.as_ptr() as usize);
                plain_pairs(raw, |key, start, end| {
                    if let Some(prefix) = declared_prefix(key) {
                        let prefix = prefix.prefix().map(|p| Held::At(offset(p), offset(p) + p.len()));
                        self.declare(level, prefix, &raw[start..end], Held::At(at + start, at + end));
                    }
                    true
                });
            } else {
                for attr in start.attributes().with_checks(false).flatten() {
                    if let Some(prefix) = declared_prefix(attr.key.into_inner()) {
                        let prefix = prefix.prefix().map(|p| Held::Copy(p.into()));
                        self.declare(level, prefix, &attr.value, Held::Copy(attr.value.as_ref().into()));
                    }
                }
            }
        }
        let bound = if self.foreign_in_scope == 0 { None } else { self.foreign(doc, prefix) };
        if found.may_declare && empty {
            self.close(depth);
        }
        bound
    }

    fn declare(&mut self, level: usize, prefix: Option<Held>, value: &str, held: Held) {
        // `xmlns=""` undeclares the default: no namespace, the dialects' own form.
        let foreign = (value != crate::read::NCIP_NAMESPACE && !value.is_empty()).then_some(held);
        self.foreign_in_scope += usize::from(foreign.is_some());
        self.scopes.push(Scope { level, prefix, foreign });
    }

    /// The foreign namespace `prefix` (`None`: the default) is bound to, if it is bound to one.
    pub(crate) fn foreign(&self, doc: &[u8], prefix: Option<&[u8]>) -> Option<String> {
        let scope = self.scopes.iter_rev().find(|s| s.prefix.as_ref().map(|p| p.bytes(doc)) == prefix)?;
        scope.foreign.as_ref().map(|namespace| String::from_utf8_lossy(namespace.bytes(doc)).into_owned())
    }

    /// Drops the declarations of elements deeper than `depth` (their end tags have been read).
    #[inline]
    pub(crate) fn close(&mut self, depth: usize) {
        while let Some(scope) = self.scopes.last() {
            if scope.level <= depth {
                break;
            }
            self.foreign_in_scope -= usize::from(scope.foreign.is_some());
            self.scopes.pop();
        }
    }
}

/// What an attribute that declares a namespace binds: the default namespace or a prefix.
enum Declared<'a> {
    Default,
    Prefix(&'a str),
}

impl<'a> Declared<'a> {
    /// The prefix bound, `None` for the default namespace.
    fn prefix(self) -> Option<&'a str> {
        match self {
            Declared::Default => None,
            Declared::Prefix(prefix) => Some(prefix),
        }
    }
}

/// For an attribute named `key`: what it declares, when it declares a namespace.
fn declared_prefix(key: &str) -> Option<Declared<'_>> {
    if key == "xmlns" {
        return Some(Declared::Default);
    }
    key.strip_prefix("xmlns:").map(Declared::Prefix)
}
