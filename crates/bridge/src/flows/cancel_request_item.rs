//! CancelRequestItem: Relais cancelled a request. Alma's NCIP profile lists it for the lender only ("request
//! cancelled (lender)"): Alma cancels its lending request before the item ships. The record keeps the side
//! it has; a request the bridge never saw is filed as lending, the only side Alma acts on.

use super::forward;
use super::ids::{self, Ids, required};
use super::once::{self, Action, Done, ExactlyOnce, Inbound, RecordChange, Start};
use crate::alma::CallContext;
use crate::flows::Bridge;
use crate::ncip::{CancelRequestItem, CancelRequestItemResponse, Message, Problem, ResponseHeader, ServiceKind};
use crate::store::{IdempotencyKey, RequestStatus, Side};

const SERVICE: ServiceKind = ServiceKind::CancelRequestItem;

pub(crate) async fn handle(
    bridge: &Bridge,
    message: CancelRequestItem,
    inbound: Inbound<'_>,
    ctx: &CallContext,
) -> Vec<u8> {
    let header = message.header.clone();
    match Cancellation::read(bridge, message).await {
        Ok((cancellation, key)) => {
            let request = cancellation.change.request.clone();
            let action = Action { service: SERVICE, key, request, header: header.as_ref(), inbound };
            once::carry_out(bridge, action, &cancellation, ctx).await
        }
        Err(problem) => ids::refuse_now(&SERVICE, header.as_ref(), problem),
    }
}

/// One request cancelled.
struct Cancellation {
    outgoing: Message,
    answer: CancelRequestItemResponse,
    cancelled_before: bool,
    change: RecordChange,
}

impl Cancellation {
    async fn read(bridge: &Bridge, mut message: CancelRequestItem) -> Result<(Cancellation, IdempotencyKey), Problem> {
        let ids = Ids::read(
            message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
            message.item_id.as_ref().map(|i| i.item_identifier_value.as_str()),
            message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
        )?;
        let request =
            required(&ids.request, "CancelRequestItem/RequestId", "CancelRequestItem needs the Relais request id")?;
        let cancelled_before = matches!(
            bridge.store.get_request(&request).await,
            Ok(Some(ref r)) if r.status == RequestStatus::Cancelled
        );
        let key = IdempotencyKey::derive(SERVICE.element_name(), Some(&request), ids.item.as_ref(), b"");
        let answer = CancelRequestItemResponse {
            header: message.header.as_ref().map(ResponseHeader::answering),
            request_id: message.request_id.clone(),
            item_id: message.item_id.clone(),
            user_id: message.user_id.clone(),
            ..CancelRequestItemResponse::default()
        };
        let start = Start::New {
            side: Side::Lending,
            partner: ids::partner(bridge, message.header.as_ref()),
            status: RequestStatus::Cancelled,
        };
        let mut change = RecordChange::new(request, start);
        change.status = Some(RequestStatus::Cancelled);
        forward::ensure_header(&mut message.header);
        Ok((Cancellation { outgoing: Message::CancelRequestItem(message), answer, cancelled_before, change }, key))
    }
}

#[async_trait::async_trait]
impl ExactlyOnce for Cancellation {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    fn repeat_expected(&self) -> bool {
        self.cancelled_before
    }

    fn queued_answer(&self) -> Option<Message> {
        Some(Message::CancelRequestItemResponse(self.answer.clone()))
    }

    /// Alma no longer knows a request it cancelled before.
    fn done_problems(&self) -> &'static [&'static str] {
        &["Unknown Request"]
    }

    async fn done(&self, _bridge: &Bridge, _reply: Option<&Message>, _ctx: &CallContext) -> Done {
        Done { response: Message::CancelRequestItemResponse(self.answer.clone()), change: self.change.clone() }
    }
}
