//! RenewItem: a loan renewed through Relais; Alma renews its loan and answers the new due date.

use super::forward::{self, Reply};
use super::ids::{self, Ids};
use super::once::{self, Action, Attempt, Effect};
use crate::alma::CallContext;
use crate::alma::model::AlmaItem;
use crate::app::App;
use crate::ncip::{Message, RenewItem, RenewItemResponse, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, PartnerCode, RelaisRequestId, RequestStatus, Side};
use jiff::Timestamp;

pub(crate) async fn handle(app: &App, message: RenewItem, ctx: &CallContext) -> Vec<u8> {
    let service = ServiceKind::RenewItem;
    let header_owned = message.header.clone();
    let header = header_owned.as_ref();
    let ids = match Ids::read(
        None,
        Some(message.item_id.item_identifier_value.as_str()),
        message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
    ) {
        Ok(ids) => ids,
        Err(problem) => return ids::refuse_now(&service, header, problem),
    };
    let Some(barcode) = ids.item.clone() else {
        let problem = crate::ncip::Problem::needed_data_missing(
            "RenewItem/ItemId/ItemIdentifierValue",
            "RenewItem needs the item barcode",
        );
        return ids::refuse_now(&service, header, problem);
    };
    // The record decides the idempotency key, so a store that cannot answer must not be read as "no record".
    let known = match app.store.find_by_barcode(&barcode).await {
        Ok(records) => records.into_iter().next(),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable for a renewal");
            let problem = crate::ncip::Problem::temporary_processing_failure("the bridge's store is unavailable");
            return ids::refuse_now(&service, header, problem);
        }
    };
    let request =
        known.as_ref().map_or_else(|| super::check_out_item::by_barcode(&barcode), |r| r.relais_request_id.clone());
    let side = known.as_ref().map_or(Side::Borrowing, |r| r.side);
    let partner = ids::partner(app, header);
    // A renewal may legitimately happen again weeks later: what makes two messages "the same renewal" is the
    // due date asked for, or else the day it was asked on.
    let when = message
        .desired_date_due
        .map(|d| d.to_string())
        .or_else(|| message.mandated_action.map(|m| m.date_event_occurred.to_string()))
        .unwrap_or_else(|| app.clock.now().strftime("%Y-%m-%d").to_string());
    let key = IdempotencyKey::derive(
        service.element_name(),
        Some(&request),
        Some(&barcode),
        ids::digest_input(&[Some(&when)]).as_bytes(),
    );
    let action = Action { service: service.clone(), key, request: request.clone(), header };
    let mut answer = RenewItemResponse {
        header: header.map(ResponseHeader::answering),
        item_id: Some(message.item_id.clone()),
        user_id: message.user_id.clone(),
        ..RenewItemResponse::default()
    };
    let desired = message.desired_date_due;
    once::exactly_once(app, action, ctx, |attempt| async move {
        if attempt == Attempt::Reconcile
            && let Some(desired) = desired
        {
            // An earlier attempt's answer was lost. Alma's item already due on or after the date asked for
            // means the renewal went through; renewing again would extend the loan twice.
            match app.rest.item_by_barcode(barcode.as_str(), ctx).await {
                Ok(item) => {
                    if let Some(due) = item_due(&item).filter(|due| *due >= desired) {
                        answer.date_due = Some(due);
                        return done(answer, request, side, partner, ids);
                    }
                }
                Err(err) if err.is_not_found() => {}
                Err(err) => return forward::unresolved(&err),
            }
        }
        let mut outgoing = message;
        forward::ensure_header(&mut outgoing.header);
        match forward::to_alma(app, Message::RenewItem(outgoing), header, ctx).await {
            Reply::Accepted(reply) => {
                if let Message::RenewItemResponse(r) = reply {
                    answer.date_due = r.date_due;
                    answer.renewal_count = r.renewal_count;
                }
                done(answer, request, side, partner, ids)
            }
            Reply::Refused(refusal) => Effect::Refused(refusal),
            Reply::Failed(failure) => failure.into(),
        }
    })
    .await
}

/// The due date Alma shows on the item (`item_data.due_date`), when it is out on loan.
fn item_due(item: &AlmaItem) -> Option<Timestamp> {
    item.item_data.due_date.as_deref().and_then(|d| d.parse().ok())
}

fn done(answer: RenewItemResponse, request: RelaisRequestId, side: Side, partner: PartnerCode, ids: Ids) -> Effect {
    let due = answer.date_due;
    Effect::Done {
        response: Message::RenewItemResponse(answer),
        update: Box::new(move |current: Option<Correlation>, now| {
            let mut record = current.unwrap_or_else(|| {
                Correlation::new(request.clone(), side, partner.clone(), RequestStatus::Renewed, now)
            });
            record.status = RequestStatus::Renewed;
            record.due_date = due.or(record.due_date);
            ids::add_barcode(&mut record, ids.item.as_ref());
            record
        }),
    }
}
