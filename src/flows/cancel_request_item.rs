//! CancelRequestItem: Relais cancelled a request; Alma cancels its borrowing request.

use super::forward::{self, Reply};
use super::ids::{self, Ids};
use super::once::{self, Action, Attempt, Effect};
use crate::alma::CallContext;
use crate::app::App;
use crate::ncip::{CancelRequestItem, CancelRequestItemResponse, Message, Problem, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, RequestStatus, Side};

pub(crate) async fn handle(app: &App, message: CancelRequestItem, ctx: &CallContext) -> Vec<u8> {
    let service = ServiceKind::CancelRequestItem;
    let header_owned = message.header.clone();
    let header = header_owned.as_ref();
    let ids = match Ids::read(
        message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
        message.item_id.as_ref().map(|i| i.item_identifier_value.as_str()),
        message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
    ) {
        Ok(ids) => ids,
        Err(problem) => return ids::refuse_now(&service, header, problem),
    };
    let Some(request) = ids.request.clone() else {
        let problem = Problem::needed_data_missing(
            "CancelRequestItem/RequestId",
            "CancelRequestItem needs the Relais request id",
        );
        return ids::refuse_now(&service, header, problem);
    };
    let partner = ids::partner(app, header);
    let already_cancelled =
        matches!(app.store.get_request(&request).await, Ok(Some(ref r)) if r.status == RequestStatus::Cancelled);
    let key = IdempotencyKey::derive(service.element_name(), Some(&request), ids.item.as_ref(), b"");
    let action = Action { service: service.clone(), key, request: request.clone(), header };
    let answer = CancelRequestItemResponse {
        header: header.map(ResponseHeader::answering),
        request_id: message.request_id.clone(),
        item_id: message.item_id.clone(),
        user_id: message.user_id.clone(),
        ..CancelRequestItemResponse::default()
    };
    once::exactly_once(app, action, ctx, |attempt| async move {
        let mut outgoing = message;
        forward::ensure_header(&mut outgoing.header);
        let done = || Effect::Done {
            response: Message::CancelRequestItemResponse(answer.clone()),
            update: Box::new(move |current: Option<Correlation>, now| {
                let mut record = current.unwrap_or_else(|| {
                    Correlation::new(request.clone(), Side::Borrowing, partner.clone(), RequestStatus::Cancelled, now)
                });
                record.status = RequestStatus::Cancelled;
                record
            }),
        };
        match forward::to_alma(app, Message::CancelRequestItem(outgoing), header, ctx).await {
            Reply::Accepted(_) => done(),
            // Cancelled before: Alma no longer knows the request. Cancelling is idempotent for Relais.
            Reply::Refused(refusal)
                if (already_cancelled || attempt == Attempt::Reconcile)
                    && refusal.message.problems().iter().any(|p| p.type_name() == "Unknown Request") =>
            {
                done()
            }
            Reply::Refused(refusal) => Effect::Refused(refusal),
            Reply::Failed(failure) => failure.into(),
        }
    })
    .await
}
