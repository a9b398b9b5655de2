//! CheckInItem: either the borrowing library sent the item back to its lender (borrowing return: the patron's
//! loan ends and the borrowing request closes) or the lending library got its item back (lending receive:
//! the item goes in transit home). The message carries only the barcode, so the store's barcode index says
//! which one this is.

use super::forward::{self, Reply};
use super::ids::{self, Ids};
use super::once::{self, Action, Attempt, Effect};
use crate::alma::CallContext;
use crate::app::App;
use crate::ncip::{CheckInItem, CheckInItemResponse, Message, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, Outcome, RequestStatus, Side};

pub(crate) async fn handle(app: &App, message: CheckInItem, ctx: &CallContext) -> Vec<u8> {
    let service = ServiceKind::CheckInItem;
    let header_owned = message.header.clone();
    let header = header_owned.as_ref();
    let ids = match Ids::read(None, Some(message.item_id.item_identifier_value.as_str()), None) {
        Ok(ids) => ids,
        Err(problem) => return ids::refuse_now(&service, header, problem),
    };
    let Some(barcode) = ids.item.clone() else {
        let problem = crate::ncip::Problem::needed_data_missing(
            "CheckInItem/ItemId/ItemIdentifierValue",
            "CheckInItem needs the item barcode",
        );
        return ids::refuse_now(&service, header, problem);
    };
    let answer = CheckInItemResponse {
        header: header.map(ResponseHeader::answering),
        item_id: Some(message.item_id.clone()),
        ..CheckInItemResponse::default()
    };
    let known = match app.store.find_by_barcode(&barcode).await {
        Ok(records) => records.into_iter().next(),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable for a check-in");
            let problem = crate::ncip::Problem::temporary_processing_failure("the bridge's store is unavailable");
            return ids::refuse_now(&service, header, problem);
        }
    };
    let Some(record) = known else {
        return unknown_to_store(app, message, answer, ctx).await;
    };
    let request = record.relais_request_id.clone();
    let closing_status = match record.side {
        Side::Borrowing => RequestStatus::Returned,
        Side::Lending => RequestStatus::CheckedIn,
    };
    let already_closed = record.status == closing_status;
    // One check-in per loan: the request id, not the message's time, makes it "the same". A barcode-keyed
    // lending record is reused by the item's next loan, which starts it afresh, so its creation time and due
    // date tell one loan's check-in from the next one's while a retry of this check-in repeats them.
    let loan = ids::digest_input(&[
        Some(record.created_at.to_string().as_str()),
        record.due_date.map(|d| d.to_string()).as_deref(),
    ]);
    let key = IdempotencyKey::derive(service.element_name(), Some(&request), Some(&barcode), loan.as_bytes());
    let action = Action { service: service.clone(), key, request, header };
    once::exactly_once(app, action, ctx, |attempt| async move {
        let mut outgoing = message;
        forward::ensure_header(&mut outgoing.header);
        match forward::to_alma(app, Message::CheckInItem(outgoing), header, ctx).await {
            Reply::Accepted(_) => done(answer, record, closing_status),
            // Checked in before (this record says so, or an earlier attempt of this message reached Alma):
            // answered as success, as OCLC's NCIP samples do for a repeated check-in.
            Reply::Refused(refusal)
                if not_checked_out(&refusal.message) && (already_closed || attempt == Attempt::Reconcile) =>
            {
                done(answer, record, closing_status)
            }
            Reply::Refused(refusal) => Effect::Refused(refusal),
            Reply::Failed(failure) => failure.into(),
        }
    })
    .await
}

fn not_checked_out(message: &Message) -> bool {
    message.problems().iter().any(|p| p.type_name() == "Item Not Checked Out")
}

fn done(answer: CheckInItemResponse, matched: Correlation, status: RequestStatus) -> Effect {
    Effect::Done {
        response: Message::CheckInItemResponse(answer),
        update: Box::new(move |current: Option<Correlation>, _now| {
            // The record expired between the match and the commit: Alma has acted, so keep what was matched.
            let mut record = current.unwrap_or_else(|| matched.clone());
            record.status = status;
            record
        }),
    }
}

/// A barcode the bridge never saw (an item from before the bridge, or circulated outside Relais): forwarded
/// as is, and Alma's answer recorded under the barcode so staff can still find it.
async fn unknown_to_store(app: &App, message: CheckInItem, answer: CheckInItemResponse, ctx: &CallContext) -> Vec<u8> {
    let header_owned = message.header.clone();
    let header = header_owned.as_ref();
    let request = super::check_out_item::by_barcode(
        &crate::store::ItemBarcode::new(message.item_id.item_identifier_value.as_str()).expect("checked"),
    );
    let mut outgoing = message;
    forward::ensure_header(&mut outgoing.header);
    let service = ServiceKind::CheckInItem;
    let (reply, outcome, problem, tracking) =
        match forward::to_alma(app, Message::CheckInItem(outgoing), header, ctx).await {
            Reply::Accepted(_) => (Message::CheckInItemResponse(answer), Outcome::Success, None, None),
            Reply::Refused(refusal) => {
                let problem = refusal.message.problems().first().cloned();
                (refusal.message, Outcome::Problem, problem, refusal.tracking_id)
            }
            Reply::Failed(failure) => {
                let problem = crate::ncip::Problem::temporary_processing_failure(failure.detail);
                let message = crate::ncip::problem_response(service.clone(), header, vec![problem.clone()]);
                (message, Outcome::TemporaryFailure, Some(problem), failure.tracking_id)
            }
        };
    super::history::log_outcome(&service, outcome);
    let entry = super::history::entry(app, &service, outcome, problem.as_ref(), ctx, tracking);
    if let Err(err) = app.store.append_history(&request, &entry).await {
        tracing::warn!(error = %err, "could not append history");
    }
    crate::ncip::write(&reply)
}
