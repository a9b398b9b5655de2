//! CheckOutItem: the lending library shipped its item to the borrowing library.
//!
//! Alma's broker mode treats this as "ship": it creates the lending request, marks it shipped and lends the
//! item to the partner. The UserId is the borrowing library's generic patron in Relais and need not exist in
//! Alma. Alma honours the due date Relais sends.

use super::forward::{self, Reply};
use super::ids::{self, Ids};
use super::once::{self, Action, Attempt, Effect};
use crate::alma::CallContext;
use crate::alma::model::AlmaItem;
use crate::app::App;
use crate::ncip::{CheckOutItem, CheckOutItemResponse, DueDate, Message, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, PartnerCode, RelaisRequestId, RequestStatus, Side};

pub(crate) async fn handle(app: &App, message: CheckOutItem, ctx: &CallContext) -> Vec<u8> {
    let service = ServiceKind::CheckOutItem;
    let header_owned = message.header.clone();
    let header = header_owned.as_ref();
    let ids = match Ids::read(
        message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
        Some(message.item_id.item_identifier_value.as_str()),
        message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
    ) {
        Ok(ids) => ids,
        Err(problem) => return ids::refuse_now(&service, header, problem),
    };
    let Some(barcode) = ids.item.clone() else {
        let problem = crate::ncip::Problem::needed_data_missing(
            "CheckOutItem/ItemId/ItemIdentifierValue",
            "CheckOutItem needs the item barcode",
        );
        return ids::refuse_now(&service, header, problem);
    };
    // Relais' lending CheckOutItem may carry no RequestId; the loan is then traced by its barcode.
    let request = ids.request.clone().unwrap_or_else(|| by_barcode(&barcode));
    let partner = ids::partner(app, header);
    let key = IdempotencyKey::derive(
        service.element_name(),
        Some(&request),
        Some(&barcode),
        // Without a RequestId the record id is the barcode, the same for every loan of the item: the due date
        // tells this loan from the next one to the same partner, and a retry of this message repeats it.
        ids::digest_input(&[
            ids.patron.as_ref().map(|p| p.as_str()),
            message.desired_date_due.map(|d| d.to_string()).as_deref(),
        ])
        .as_bytes(),
    );
    let action = Action { service: service.clone(), key, request: request.clone(), header };
    let desired = message.desired_date_due;
    let mut answer = CheckOutItemResponse {
        header: header.map(ResponseHeader::answering),
        item_id: Some(message.item_id.clone()),
        user_id: message.user_id.clone(),
        ..CheckOutItemResponse::default()
    };
    once::exactly_once(app, action, ctx, |attempt| async move {
        if attempt == Attempt::Reconcile {
            // The earlier attempt may have shipped it. Out on loan: it did. In place or unknown to Alma: it did
            // not, so ship now. Alma unreachable: still unknown, so leave it to the next retry.
            match app.rest.item_by_barcode(barcode.as_str(), ctx).await {
                Ok(item) if is_out(&item) => {
                    answer.date_due = desired.map(DueDate::Date);
                    return done(answer, Some(item), request, ids, partner);
                }
                Ok(_) => {}
                Err(err) if err.is_not_found() => {}
                Err(err) => return forward::unresolved(&err),
            }
        }
        let mut outgoing = message;
        forward::ensure_header(&mut outgoing.header);
        match forward::to_alma(app, Message::CheckOutItem(outgoing), header, ctx).await {
            Reply::Accepted(reply) => {
                answer.date_due = match reply {
                    Message::CheckOutItemResponse(r) => r.date_due.or(desired.map(DueDate::Date)),
                    _ => desired.map(DueDate::Date),
                };
                let item = app.rest.item_by_barcode(barcode.as_str(), ctx).await.ok();
                done(answer, item, request, ids, partner)
            }
            Reply::Refused(refusal) => Effect::Refused(refusal),
            Reply::Failed(failure) => failure.into(),
        }
    })
    .await
}

/// The record id for a lending loan that Relais sent without its request number.
pub(crate) fn by_barcode(barcode: &crate::store::ItemBarcode) -> RelaisRequestId {
    RelaisRequestId::new(format!("item:{}", barcode.as_str()))
        .unwrap_or_else(|_| RelaisRequestId::new("item:unknown").expect("constant"))
}

/// Alma's base status `0` is "Item not in place": on loan, in transit, or otherwise out.
fn is_out(item: &AlmaItem) -> bool {
    item.item_data.base_status.value == "0"
}

fn done(
    answer: CheckOutItemResponse,
    item: Option<AlmaItem>,
    request: RelaisRequestId,
    ids: Ids,
    partner: PartnerCode,
) -> Effect {
    let due = answer.date_due.and_then(|d| d.date());
    Effect::Done {
        response: Message::CheckOutItemResponse(answer),
        update: Box::new(move |current: Option<Correlation>, now| {
            // A barcode-keyed record whose loan ended is the item's previous loan: this one starts afresh, so
            // its check-in is told from the last one (the check-in key includes the record's creation time).
            let mut record = current.filter(|c| c.status != RequestStatus::CheckedIn).unwrap_or_else(|| {
                Correlation::new(request.clone(), Side::Lending, partner.clone(), RequestStatus::Shipped, now)
            });
            record.side = Side::Lending;
            record.status = RequestStatus::Shipped;
            record.patron = ids.patron.clone().or(record.patron);
            ids::add_barcode(&mut record, ids.item.as_ref());
            ids::learn_item(&mut record, item.as_ref());
            record.due_date = due.or(record.due_date);
            record
        }),
    }
}
