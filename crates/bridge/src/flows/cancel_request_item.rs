//! CancelRequestItem: Relais cancelled a request. Alma's NCIP profile lists it for the lender only ("request
//! cancelled (lender)"): Alma cancels its lending request before the item ships. The record keeps the side
//! it has; a request the bridge never saw is filed as lending, the only side Alma acts on.
//!
//! A cancel of a request the record holds as borrowing is not sent to Alma at all: Alma's responder would
//! refuse it (it finds no lending request under the id), or, in an outage, the outbox would keep retrying a
//! message Alma can never take. The bridge answers Relais success, marks the record cancelled and notes in
//! the history, and on the status page, that staff cancel the borrowing request in Alma themselves if the
//! patron still sees it.

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
    /// The record holds the request as borrowing: the cancel is the bridge's to record, not Alma's to act on.
    borrowing: bool,
    change: RecordChange,
}

/// The history's word to staff for a borrowing cancel the bridge kept from Alma.
pub(crate) const BORROWING_CANCEL_NOTE: &str = "Relais cancelled a borrowing request. The bridge did not send \
    the cancel to Alma, whose NCIP profile takes CancelRequestItem from the lender only: if the patron's \
    borrowing request is still open in Alma, cancel it there.";

impl Cancellation {
    async fn read(bridge: &Bridge, mut message: CancelRequestItem) -> Result<(Cancellation, IdempotencyKey), Problem> {
        let ids = Ids::read(
            message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
            message.item_id.as_ref().map(|i| i.item_identifier_value.as_str()),
            message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
        )?;
        let request =
            required(&ids.request, "CancelRequestItem/RequestId", "CancelRequestItem needs the Relais request id")?;
        // A store that cannot be read leaves the cancel lending (as for a request never seen): the claim that
        // follows needs the store too, and answers Relais to retry.
        let record = bridge.store.get_request(&request).await.ok().flatten();
        let cancelled_before = record.as_ref().is_some_and(|r| r.status == RequestStatus::Cancelled);
        let borrowing = record.as_ref().is_some_and(|r| r.side == Side::Borrowing);
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
        if borrowing {
            change.history_note = Some(BORROWING_CANCEL_NOTE.to_owned());
        }
        forward::ensure_header(&mut message.header);
        let outgoing = Message::CancelRequestItem(message);
        Ok((Cancellation { outgoing, answer, cancelled_before, borrowing, change }, key))
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

    /// A borrowing cancel is done once recorded: nothing is sent to Alma.
    fn recorded_done(&self, _record: Option<&crate::store::Correlation>) -> bool {
        self.borrowing
    }

    /// A borrowing cancel never waits in the outbox (nor counts toward its caps): Alma is not asked.
    fn queued_answer(&self) -> Option<Message> {
        (!self.borrowing).then(|| Message::CancelRequestItemResponse(self.answer.clone()))
    }

    /// Alma no longer knows a request it cancelled before.
    fn done_problems(&self) -> &'static [&'static str] {
        &["Unknown Request"]
    }

    async fn done(&self, _bridge: &Bridge, _reply: Option<&Message>, _ctx: &CallContext) -> Done {
        Done { response: Message::CancelRequestItemResponse(self.answer.clone()), change: self.change.clone() }
    }
}
