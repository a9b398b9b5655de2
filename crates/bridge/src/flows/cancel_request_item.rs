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
use crate::store::{Correlation, IdempotencyKey, RequestStatus, Side};
use std::sync::OnceLock;

const SERVICE: ServiceKind = ServiceKind::CancelRequestItem;

pub(crate) async fn handle(
    bridge: &Bridge,
    message: CancelRequestItem,
    inbound: Inbound<'_>,
    ctx: &CallContext,
) -> Vec<u8> {
    let header = message.header.clone();
    match Cancellation::read(bridge, message) {
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
    change: RecordChange,
    /// What the request's record showed beside the claim; unset for a repeat answered from the store.
    record: OnceLock<RecordShowed>,
}

/// What decides a cancel, from the request's record.
#[derive(Debug, Clone, Copy, Default)]
struct RecordShowed {
    cancelled_before: bool,
    /// The record holds the request as borrowing: the cancel is the bridge's to record, not Alma's to act on.
    borrowing: bool,
}

impl Cancellation {
    fn showed(&self) -> RecordShowed {
        self.record.get().copied().unwrap_or_default()
    }
}

/// The history's word to staff for a borrowing cancel the bridge kept from Alma.
pub(crate) const BORROWING_CANCEL_NOTE: &str = "Relais cancelled a borrowing request. The bridge did not send \
    the cancel to Alma, whose NCIP profile takes CancelRequestItem from the lender only: if the patron's \
    borrowing request is still open in Alma, cancel it there.";

impl Cancellation {
    fn read(bridge: &Bridge, mut message: CancelRequestItem) -> Result<(Cancellation, IdempotencyKey), Problem> {
        let ids = Ids::read(
            message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
            message.item_id.as_ref().map(|i| i.item_identifier_value.as_str()),
            message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
        )?;
        let request =
            required(&ids.request, "CancelRequestItem/RequestId", "CancelRequestItem needs the Relais request id")?;
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
        let outgoing = Message::CancelRequestItem(message);
        Ok((Cancellation { outgoing, answer, change, record: OnceLock::new() }, key))
    }
}

#[async_trait::async_trait]
impl ExactlyOnce for Cancellation {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    /// The record read beside the claim decides the side (the message itself does not name it).
    fn read_beside(&self, record: Option<&Correlation>) {
        let showed = RecordShowed {
            cancelled_before: record.is_some_and(|r| r.status == RequestStatus::Cancelled),
            borrowing: record.is_some_and(|r| r.side == Side::Borrowing),
        };
        let _ = self.record.set(showed);
    }

    fn repeat_expected(&self) -> bool {
        self.showed().cancelled_before
    }

    /// A borrowing cancel is done once recorded: nothing is sent to Alma.
    fn recorded_done(&self, record: Option<&Correlation>) -> bool {
        record.is_some_and(|r| r.side == Side::Borrowing)
    }

    /// A borrowing cancel never waits in the outbox (nor counts toward its caps): Alma is not asked.
    fn queued_answer(&self) -> Option<Message> {
        (!self.showed().borrowing).then(|| Message::CancelRequestItemResponse(self.answer.clone()))
    }

    /// Alma no longer knows a request it cancelled before.
    fn done_problems(&self) -> &'static [&'static str] {
        &["Unknown Request"]
    }

    async fn done(&self, _bridge: &Bridge, _reply: Option<&Message>, _ctx: &CallContext) -> Done {
        let mut change = self.change.clone();
        if self.showed().borrowing {
            change.history_note = Some(BORROWING_CANCEL_NOTE.to_owned());
        }
        Done { response: Message::CancelRequestItemResponse(self.answer.clone()), change }
    }
}
