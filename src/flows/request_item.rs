//! RequestItem: Relais places a request for a patron; Alma (broker mode) records it as a borrowing request
//! so the patron sees it in Primo before the item arrives.

use super::forward::{self, Reply};
use super::ids::{self, Ids};
use super::once::{self, Action, Attempt, Effect};
use crate::alma::CallContext;
use crate::app::App;
use crate::ncip::{Message, Problem, RequestItem, RequestItemResponse, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, PartnerCode, RelaisRequestId, RequestStatus, Side};

pub(crate) async fn handle(app: &App, message: RequestItem, ctx: &CallContext) -> Vec<u8> {
    let service = ServiceKind::RequestItem;
    let header_owned = message.header.clone();
    let header = header_owned.as_ref();
    let ids = match Ids::read(
        message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
        message.item_ids.first().map(|i| i.item_identifier_value.as_str()),
        message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
    ) {
        Ok(ids) => ids,
        Err(problem) => return ids::refuse_now(&service, header, problem),
    };
    let Some(request) = ids.request.clone() else {
        // Without Relais' request number the request could be neither traced nor de-duplicated.
        let problem = Problem::needed_data_missing("RequestItem/RequestId", "RequestItem needs the Relais request id");
        return ids::refuse_now(&service, header, problem);
    };
    let partner = ids::partner(app, header);
    let key = IdempotencyKey::derive(
        service.element_name(),
        Some(&request),
        ids.item.as_ref(),
        ids::digest_input(&[ids.patron.as_ref().map(|p| p.as_str()), Some(message.request_type.value.as_str())])
            .as_bytes(),
    );
    let action = Action { service: service.clone(), key, request: request.clone(), header };
    let mut answer = RequestItemResponse {
        header: header.map(ResponseHeader::answering),
        request_id: message.request_id.clone(),
        item_id: message.item_ids.first().cloned(),
        user_id: message.user_id.clone(),
        request_type: Some(message.request_type.clone()),
        request_scope_type: Some(message.request_scope_type.clone()),
        ..RequestItemResponse::default()
    };
    // A stale claim cannot be reconciled by reading Alma (its request list does not carry Relais' id), so a
    // takeover sends again; Alma answers a true duplicate with its "Duplicate Request" Problem, which on a
    // takeover means the earlier attempt got through.
    once::exactly_once(app, action, ctx, |attempt| async move {
        let mut outgoing = message;
        forward::ensure_header(&mut outgoing.header);
        match forward::to_alma(app, Message::RequestItem(outgoing), header, ctx).await {
            Reply::Accepted(reply) => {
                let alma_request_id = match &reply {
                    Message::RequestItemResponse(r) => {
                        r.request_id.as_ref().map(|id| id.request_identifier_value.as_str().to_owned())
                    }
                    _ => None,
                };
                if let Message::RequestItemResponse(r) = reply {
                    answer.date_available = r.date_available;
                    answer.hold_pickup_date = r.hold_pickup_date;
                }
                done(answer, request, partner, ids, alma_request_id)
            }
            Reply::Refused(refusal)
                if attempt == Attempt::Reconcile
                    && refusal.message.problems().iter().any(|p| p.type_name() == "Duplicate Request") =>
            {
                done(answer, request, partner, ids, None)
            }
            Reply::Refused(refusal) => Effect::Refused(refusal),
            Reply::Failed(failure) => failure.into(),
        }
    })
    .await
}

fn done(
    answer: RequestItemResponse,
    request: RelaisRequestId,
    partner: PartnerCode,
    ids: Ids,
    alma_request_id: Option<String>,
) -> Effect {
    Effect::Done {
        response: Message::RequestItemResponse(answer),
        update: Box::new(move |current: Option<Correlation>, now| {
            let mut record = current.unwrap_or_else(|| {
                Correlation::new(request.clone(), Side::Borrowing, partner.clone(), RequestStatus::Requested, now)
            });
            record.patron = ids.patron.clone().or(record.patron);
            ids::add_barcode(&mut record, ids.item.as_ref());
            record.alma.request_id = alma_request_id.clone().or(record.alma.request_id.take());
            record
        }),
    }
}
