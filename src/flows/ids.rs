//! Reading the identifiers of an NCIP message into the store's checked types, and the record updates every
//! flow shares.

use super::policy;
use crate::alma::model::AlmaItem;
use crate::app::App;
use crate::ncip::{self, InitiationHeader, Problem, ServiceKind};
use crate::store::{Correlation, ItemBarcode, PartnerCode, PatronId, RelaisRequestId};

/// The identifiers a message carries, checked (non-empty, bounded length).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ids {
    pub request: Option<RelaisRequestId>,
    pub item: Option<ItemBarcode>,
    pub patron: Option<PatronId>,
}

impl Ids {
    /// Empty values count as absent (vendors send `<RequestIdentifierValue/>`); over-long ones are refused.
    pub(crate) fn read(request: Option<&str>, item: Option<&str>, patron: Option<&str>) -> Result<Ids, Problem> {
        fn checked<T>(
            value: Option<&str>,
            path: &str,
            make: fn(String) -> Result<T, crate::store::InvalidId>,
        ) -> Result<Option<T>, Problem> {
            match value.map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => make(v.to_owned()).map(Some).map_err(|e| {
                    Problem::element_rule_violated(path, v.chars().take(64).collect::<String>(), e.to_string())
                }),
            }
        }
        Ok(Ids {
            request: checked(request, "RequestId/RequestIdentifierValue", RelaisRequestId::new)?,
            item: checked(item, "ItemId/ItemIdentifierValue", ItemBarcode::new)?,
            patron: checked(patron, "UserId/UserIdentifierValue", PatronId::new)?,
        })
    }
}

/// Answers with a Problem at once (nothing claimed, nothing sent to Alma).
pub(crate) fn refuse_now(service: &ServiceKind, header: Option<&InitiationHeader>, problem: Problem) -> Vec<u8> {
    super::log_answer(service, "problem");
    ncip::write(&ncip::problem_response(service.clone(), header, vec![problem]))
}

/// The partner code recorded for a request ("RELAIS" style), or `unknown` when none is known.
pub(crate) fn partner(app: &App, header: Option<&InitiationHeader>) -> PartnerCode {
    policy::partner_code(app, header)
        .and_then(|code| PartnerCode::new(code).ok())
        .unwrap_or_else(|| PartnerCode::new("unknown").expect("constant is valid"))
}

/// The meaningful content of a message for its idempotency key: parts joined unambiguously.
pub(crate) fn digest_input(parts: &[Option<&str>]) -> String {
    parts.iter().map(|p| p.map_or_else(|| "-".to_owned(), |v| format!("{}:{v}", v.len()))).collect::<Vec<_>>().join("|")
}

pub(crate) fn add_barcode(record: &mut Correlation, barcode: Option<&ItemBarcode>) {
    if let Some(barcode) = barcode
        && !record.has_barcode(barcode)
    {
        record.item_barcodes.push(barcode.clone());
    }
}

/// Alma's own ids for the item, read back after the action (Alma may drop the ids the bridge sent).
pub(crate) fn learn_item(record: &mut Correlation, item: Option<&AlmaItem>) {
    let Some(item) = item else { return };
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    record.alma.item_pid = non_empty(&item.item_data.pid).or(record.alma.item_pid.take());
    record.alma.mms_id = non_empty(&item.bib_data.mms_id).or(record.alma.mms_id.take());
    record.alma.holding_id = non_empty(&item.holding_data.holding_id).or(record.alma.holding_id.take());
}

/// Marks a patron reference the store already holds as a keyed hash.
const STORED_PATRON_PREFIX: &str = "hmac:";

/// The patron as the store keeps it: the keyed hash of the id (`LOG_HASH_KEY`) that the logs carry too, never
/// the barcode or user id itself. Requests of one patron still share it; Alma's request shows the person.
pub(crate) fn stored_patron(app: &App, patron: PatronId) -> Option<PatronId> {
    if patron.as_str().starts_with(STORED_PATRON_PREFIX) {
        return Some(patron);
    }
    let hashed = crate::logging::pseudonym(&app.settings.log_hash_key, patron.as_str());
    PatronId::new(format!("{STORED_PATRON_PREFIX}{hashed}")).ok()
}
