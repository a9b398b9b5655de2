//! AcceptItem: the borrowing library received the item from its lender.
//!
//! Alma (broker mode) then creates a brief bib, a temporary item with the given barcode, a borrowing request
//! and a hold on the hold shelf for the patron, which Primo's "My Account" shows. Real Alma creates a second
//! temporary item if the same AcceptItem arrives twice, which is why this flow is exactly-once.

use super::forward::{self, Reply};
use super::ids::{self, Ids};
use super::once::{self, Action, Attempt, Effect};
use crate::alma::CallContext;
use crate::app::App;
use crate::ncip::{AcceptItem, AcceptItemResponse, Message, Problem, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, RequestStatus, Side};

pub(crate) async fn handle(app: &App, message: AcceptItem, ctx: &CallContext) -> Vec<u8> {
    let service = ServiceKind::AcceptItem;
    let header_owned = message.header.clone();
    let header = header_owned.as_ref();
    let ids = match Ids::read(
        Some(message.request_id.request_identifier_value.as_str()),
        message.item_id.as_ref().map(|i| i.item_identifier_value.as_str()),
        message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
    ) {
        Ok(ids) => ids,
        Err(problem) => return ids::refuse_now(&service, header, problem),
    };
    let (Some(request), Some(barcode)) = (ids.request.clone(), ids.item.clone()) else {
        let problem = Problem::needed_data_missing(
            "AcceptItem/ItemId",
            "AcceptItem needs an ItemId (the barcode Alma gives the temporary item)",
        );
        return ids::refuse_now(&service, header, problem);
    };
    let partner = ids::partner(app, header);
    // One temporary item per request and barcode: a resend with other details (patron, action type) is the same
    // receipt, and must not make a second item while the first attempt's outcome is still open.
    let key = IdempotencyKey::derive(service.element_name(), Some(&request), Some(&barcode), b"");
    let action = Action { service: service.clone(), key, request: request.clone(), header };
    let relais_answer = AcceptItemResponse {
        header: header.map(ResponseHeader::answering),
        problems: Vec::new(),
        request_id: Some(message.request_id.clone()),
        item_id: message.item_id.clone(),
    };
    once::exactly_once(app, action, ctx, |attempt| async move {
        // The same request already received under this barcode (a resend with changed details): Alma holds
        // the item already, so answer as Alma did rather than make a second temporary item.
        if let Ok(Some(existing)) = app.store.get_request(&request).await
            && existing.side == Side::Borrowing
            && existing.status == RequestStatus::OnHoldShelf
            && existing.has_barcode(&barcode)
        {
            return done(relais_answer, None, &ids, partner, message.date_for_return.and_then(|d| d.date()));
        }
        if attempt == Attempt::Reconcile {
            // An earlier attempt may have reached Alma: the temporary item exists if it did. Only Alma saying
            // "no such item" proves it did not; any other failure leaves the question open for the next retry.
            match app.rest.item_by_barcode(barcode.as_str(), ctx).await {
                Ok(item) => {
                    let due = message.date_for_return.and_then(|d| d.date());
                    return done(relais_answer, Some(item), &ids, partner, due);
                }
                Err(err) if err.is_not_found() => {}
                Err(err) => return forward::unresolved(&err),
            }
        }
        let due = message.date_for_return.and_then(|d| d.date());
        let mut outgoing = message;
        forward::ensure_header(&mut outgoing.header);
        match forward::to_alma(app, Message::AcceptItem(outgoing), header, ctx).await {
            Reply::Accepted(_) => {
                // One read-back gives Alma's own ids for the record (item pid, holding, MMS id).
                let item = app.rest.item_by_barcode(barcode.as_str(), ctx).await.ok();
                done(relais_answer, item, &ids, partner, due)
            }
            Reply::Refused(answer) => Effect::Refused(answer),
            Reply::Failed(failure) => failure.into(),
        }
    })
    .await
}

fn done(
    answer: AcceptItemResponse,
    item: Option<crate::alma::model::AlmaItem>,
    ids: &Ids,
    partner: crate::store::PartnerCode,
    due: Option<jiff::Timestamp>,
) -> Effect {
    let ids = ids.clone();
    Effect::Done {
        response: Message::AcceptItemResponse(answer),
        update: Box::new(move |current: Option<Correlation>, now: jiff::Timestamp| {
            let request = ids.request.clone().expect("checked above");
            let mut record = current.unwrap_or_else(|| {
                Correlation::new(request, Side::Borrowing, partner.clone(), RequestStatus::OnHoldShelf, now)
            });
            record.side = Side::Borrowing;
            record.status = RequestStatus::OnHoldShelf;
            record.patron = ids.patron.clone().or(record.patron);
            ids::add_barcode(&mut record, ids.item.as_ref());
            ids::learn_item(&mut record, item.as_ref());
            record.due_date = due.or(record.due_date);
            record
        }),
    }
}
