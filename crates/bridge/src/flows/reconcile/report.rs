//! What a reconciliation found, in the words staff read: the kinds of drift, the suggested action for each,
//! one row per drift, and the pass that counted them. These values are stored as JSON between runs, so a
//! renamed field or kind is a data migration.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// How Alma's state can disagree with what Relais was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Relais received the item, but Alma has no temporary item with its barcode (deleted by hand, or the
    /// receipt never reached Alma).
    BorrowingNoTemporaryItem,
    /// Relais received the item and Alma has the temporary item, but neither a hold nor a loan for it: the
    /// borrowing request behind it is gone.
    BorrowingNoRequest,
    /// Returned in Relais, yet the temporary item is still in Alma.
    BorrowingItemStillInAlma,
    /// The patron's loan in Alma is still out after the lender's due date.
    BorrowingLoanOverdue,
    /// Shipped in Relais, but the item is not on loan in Alma (in place, or missing).
    LendingNotOnLoan,
    /// Alma shows the lent item returned (the loan ended, the lending request completed), but Relais was not
    /// told (no CheckInItem).
    LendingReturnedNotTold,
    /// The lending request was cancelled in Alma while Relais still has it open.
    LendingCancelledInAlma,
    /// The lending request id is still unknown: it was not in the partner's task list (capped at 100).
    LendingIdUnknown,
    /// A parked or discarded outbox message whose action Alma does not show.
    OutboxActionMissing,
    /// A lending request in the partner's task list that the bridge has no record of: done in Alma alone.
    AlmaOnly,
}

impl DriftKind {
    /// Every kind, in the order the report and the metrics list them.
    pub const ALL: [DriftKind; 10] = [
        DriftKind::BorrowingNoTemporaryItem,
        DriftKind::BorrowingNoRequest,
        DriftKind::BorrowingItemStillInAlma,
        DriftKind::BorrowingLoanOverdue,
        DriftKind::LendingNotOnLoan,
        DriftKind::LendingReturnedNotTold,
        DriftKind::LendingCancelledInAlma,
        DriftKind::LendingIdUnknown,
        DriftKind::OutboxActionMissing,
        DriftKind::AlmaOnly,
    ];

    /// The kind as the report, the CSV and the `Kind` metric dimension write it.
    pub fn label(self) -> &'static str {
        match self {
            DriftKind::BorrowingNoTemporaryItem => "borrowing_no_temporary_item",
            DriftKind::BorrowingNoRequest => "borrowing_no_request",
            DriftKind::BorrowingItemStillInAlma => "borrowing_item_still_in_alma",
            DriftKind::BorrowingLoanOverdue => "borrowing_loan_overdue",
            DriftKind::LendingNotOnLoan => "lending_not_on_loan",
            DriftKind::LendingReturnedNotTold => "lending_returned_not_told",
            DriftKind::LendingCancelledInAlma => "lending_cancelled_in_alma",
            DriftKind::LendingIdUnknown => "lending_id_unknown",
            DriftKind::OutboxActionMissing => "outbox_action_missing",
            DriftKind::AlmaOnly => "alma_only",
        }
    }
}

/// What staff should do about a drift. Nothing in Alma is ever fixed by the reconciler itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestedAction {
    /// Send the parked outbox message to Alma again (`/queue`), once its cause is fixed.
    Redrive,
    /// Have Relais send (or staff do in Relais) what Alma already shows, so that Relais is told.
    ResendFromRelais,
    /// Put Alma right by hand (re-receive, return, delete or recall), as docs/operations.md says per kind.
    FixInAlma,
}

impl SuggestedAction {
    /// The action in words for the report.
    pub fn label(self) -> &'static str {
        match self {
            SuggestedAction::Redrive => "re-drive",
            SuggestedAction::ResendFromRelais => "resend from Relais",
            SuggestedAction::FixInAlma => "fix in Alma",
        }
    }
}

/// One disagreement between the bridge's record (what Relais believes) and Alma.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// The Relais request, or the external id Alma lists for an Alma-only request (`-` when it has none).
    pub relais_request_id: String,
    /// The item's barcode, when one is known.
    pub barcode: Option<String>,
    /// `borrowing`, `lending`, or `-` when the bridge has no record.
    pub side: String,
    /// Which disagreement.
    pub kind: DriftKind,
    /// What Relais was told, in words.
    pub relais_believes: String,
    /// What Alma shows, in words.
    pub alma_shows: String,
    /// When a reconciliation first saw this drift.
    pub since: Timestamp,
    /// What staff should do.
    pub action: SuggestedAction,
}

/// One pass through every record: counts, the drift rows, and where it stands. A pass may take several runs
/// (each ends at its call budget); the report staff read is the last completed pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pass {
    /// When the pass's first run started.
    pub started_at: Option<Timestamp>,
    /// When its last run reached the end of the records (`None` while under way).
    pub completed_at: Option<Timestamp>,
    /// How many runs it took so far.
    pub runs: u32,
    /// Records compared with Alma.
    pub checked: u64,
    /// Of those, records in step with Alma (counted, not listed).
    pub in_step: u64,
    /// Alma ids found and written into their records (lending request ids).
    pub ids_found: u64,
    /// Alma calls made.
    pub calls: u64,
    /// Whether the pass's own checks (the task lists, parked messages without a record) are done.
    pub opening_done: bool,
    /// The Alma partners whose task lists the next pass reads, learnt from the records seen.
    pub partners: BTreeSet<String>,
    /// One row per drift.
    pub drifts: Vec<Drift>,
}

impl Pass {
    /// How many drifts of each kind (every kind present, zero included, so that metrics fall back to zero).
    pub fn counts(&self) -> BTreeMap<DriftKind, u64> {
        let mut counts: BTreeMap<DriftKind, u64> = DriftKind::ALL.iter().map(|k| (*k, 0)).collect();
        for drift in &self.drifts {
            *counts.entry(drift.kind).or_default() += 1;
        }
        counts
    }
}

/// The report as `GET /reconcile` serves it: the last completed pass, and the pass under way.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The last pass that reached the end of the records.
    pub latest: Option<Pass>,
    /// The pass under way, if one has started and not completed.
    pub under_way: Option<Pass>,
    /// How the last run ended.
    pub last_run: Option<super::RunSummary>,
}

/// The CSV form of a pass's rows (`?format=csv`): a header, then one line per drift, RFC 4180 quoting.
pub fn csv(pass: &Pass) -> String {
    let mut out = String::from("relais_request_id,barcode,side,kind,relais_believes,alma_shows,since,action\r\n");
    for d in &pass.drifts {
        let since = d.since.to_string();
        let fields = [
            d.relais_request_id.as_str(),
            d.barcode.as_deref().unwrap_or(""),
            d.side.as_str(),
            d.kind.label(),
            d.relais_believes.as_str(),
            d.alma_shows.as_str(),
            since.as_str(),
            d.action.label(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field: quoted when it holds a comma, quote or line break. A field a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@` first) gets a leading apostrophe, since ids and barcodes come from outside.
fn csv_field(field: &str) -> String {
    let field =
        if field.starts_with(['=', '+', '-', '@']) && field != "-" { format!("'{field}") } else { field.to_owned() };
    if field.contains([',', '"', '\r', '\n']) { format!("\"{}\"", field.replace('"', "\"\"")) } else { field }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_label_and_the_stored_name_is_the_label() {
        let labels: BTreeSet<_> = DriftKind::ALL.iter().map(|k| k.label()).collect();
        assert_eq!(labels.len(), DriftKind::ALL.len());
        for kind in DriftKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.label());
        }
    }

    #[test]
    fn a_csv_row_quotes_what_needs_it_and_defuses_formulas() {
        let pass = Pass {
            drifts: vec![Drift {
                relais_request_id: "=HYPERLINK(\"x\")".into(),
                barcode: Some("B,1".into()),
                side: "lending".into(),
                kind: DriftKind::LendingNotOnLoan,
                relais_believes: "shipped".into(),
                alma_shows: "in place".into(),
                since: "2031-01-02T03:04:05Z".parse().unwrap(),
                action: SuggestedAction::FixInAlma,
            }],
            ..Pass::default()
        };
        let text = csv(&pass);
        let row = text.lines().nth(1).unwrap();
        assert_eq!(
            row,
            "\"'=HYPERLINK(\"\"x\"\")\",\"B,1\",lending,lending_not_on_loan,shipped,in place,2031-01-02T03:04:05Z,fix in Alma"
        );
    }
}
