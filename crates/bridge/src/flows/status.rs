//! A request's correlation record and message history, for staff (`GET /requests/{relais_request_id}`, and
//! `GET /requests?barcode=` to find records by item; the token check and the JSON and HTML shapes are
//! [`crate::http`]'s). The record holds ids, never names.

use crate::flows::Bridge;
use crate::store::{Correlation, HistoryEntry, ItemBarcode, QueuedMessage, RelaisRequestId, RequestStatus, Side};

/// What the bridge knows about one Relais request.
pub struct RequestView {
    /// The Relais request id, as asked for.
    pub id: String,
    /// The correlation record: Alma's ids, the side, the status; `None` when only history exists.
    pub record: Option<Correlation>,
    /// Every message handled for the request, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The request's messages that went through the outbox: queued, delivered, parked or discarded.
    pub queue: Vec<QueuedMessage>,
}

/// Why no view could be given.
pub enum StatusRefusal {
    /// The path does not hold a Relais request id.
    NotAnId,
    /// The bridge has no record or history of the request.
    Unknown,
    /// The store could not be read.
    StoreUnavailable,
}

/// Reads the record and history of the request `id` (as it arrived in the path, percent-decoded).
pub async fn view(bridge: &Bridge, id: String) -> Result<RequestView, StatusRefusal> {
    let relais_id = RelaisRequestId::new(id.clone()).map_err(|_| StatusRefusal::NotAnId)?;
    let store = &bridge.store;
    let (record, history, queue) =
        match tokio::join!(store.get_request(&relais_id), store.history(&relais_id), store.queued_for(&relais_id)) {
            (Ok(record), Ok(history), Ok(queue)) => (record, history, queue),
            (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => {
                tracing::error!(error = %err, "store unavailable for a status read");
                return Err(StatusRefusal::StoreUnavailable);
            }
        };
    if record.is_none() && history.is_empty() && queue.is_empty() {
        return Err(StatusRefusal::Unknown);
    }
    Ok(RequestView { id, record, history, queue })
}

/// The records that hold an item barcode: how staff find a request they know only by its item, such as a
/// lending loan Relais sent without a request id (filed under `item:<barcode>`).
pub async fn search_by_barcode(bridge: &Bridge, barcode: &str) -> Result<Vec<Correlation>, StatusRefusal> {
    let barcode = ItemBarcode::new(barcode.to_owned()).map_err(|_| StatusRefusal::NotAnId)?;
    bridge.store.find_by_barcode(&barcode).await.map_err(|err| {
        tracing::error!(error = %err, "store unavailable for a barcode search");
        StatusRefusal::StoreUnavailable
    })
}

/// What staff must do in Alma for a request the bridge could not carry there itself: a borrowing request
/// Relais cancelled, since Alma's NCIP profile takes CancelRequestItem from the lender only.
pub fn staff_attention(record: &Correlation) -> Option<&'static str> {
    (record.side == Side::Borrowing && record.status == RequestStatus::Cancelled)
        .then_some(super::cancel_request_item::BORROWING_CANCEL_NOTE)
}
