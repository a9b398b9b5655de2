//! What the reconciler keeps between its runs: small versioned JSON documents (its progress through the
//! records, the latest report, each record's last check), read and written whole, each write conditional on
//! the revision read, so that two runs never work from the same point.
//!
//! The store does not know what the documents say: their shapes belong to the reconciler in the core library.
//! A document is named by the reconciler (`progress`, `report`, `check#<relais id>`); names are checked like
//! other ids.

use jiff::Timestamp;

/// A reconciler's document as stored, with the revision its next write must name.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileDoc {
    /// The document itself.
    pub body: serde_json::Value,
    /// Incremented by every write; the condition of the next one.
    pub revision: u64,
    /// When the document stops being readable (`None`: kept until replaced).
    pub expires_at: Option<Timestamp>,
}

/// Document names are chosen by the reconciler but carry Relais ids, so they are checked like other ids.
pub(crate) fn check_doc_name(name: &str) -> Result<(), crate::StoreError> {
    crate::ids::check_id("reconciliation document", name).map_err(crate::StoreError::InvalidMarker)
}
