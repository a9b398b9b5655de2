//! RenewItem: a loan renewed through Relais; Alma renews its loan and answers the new due date.

use super::forward;
use super::ids::{self, Ids, required};
use super::once::{self, Action, Done, ExactlyOnce, Inbound, Probe, RecordChange, Start};
use crate::alma::CallContext;
use crate::alma::model::AlmaItem;
use crate::flows::Bridge;
use crate::ncip::{Message, Problem, RenewItem, RenewItemResponse, ResponseHeader, ServiceKind};
use crate::store::{IdempotencyKey, ItemBarcode, RequestStatus, Side};
use jiff::Timestamp;

const SERVICE: ServiceKind = ServiceKind::RenewItem;

pub(crate) async fn handle(
    bridge: &Bridge,
    mut message: RenewItem,
    inbound: Inbound<'_>,
    ctx: &CallContext,
) -> Vec<u8> {
    let header = message.header.clone();
    // The UserId is checked like every identifier, though Alma's loan, not the patron, is what is renewed.
    let user = message.user_id.as_ref().map(|u| u.user_identifier_value.as_str());
    let barcode = match Ids::read(None, Some(message.item_id.item_identifier_value.as_str()), user)
        .and_then(|ids| required(&ids.item, "RenewItem/ItemId/ItemIdentifierValue", "RenewItem needs the item barcode"))
    {
        Ok(barcode) => barcode,
        Err(problem) => return ids::refuse_now(&SERVICE, header.as_ref(), problem),
    };
    // The record decides the idempotency key, so a store that cannot answer must not be read as "no record".
    let known = match bridge.store.find_by_barcode(&barcode).await {
        Ok(records) => records.into_iter().next(),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable for a renewal");
            let problem = Problem::temporary_processing_failure("the bridge's store is unavailable");
            return ids::refuse_now(&SERVICE, header.as_ref(), problem);
        }
    };
    let request = match &known {
        Some(record) => record.relais_request_id.clone(),
        // The loan's receive or ship may still wait in the outbox: the renewal belongs to that request, and
        // must not reach Alma before it.
        None => match super::outbox::waiting_for_item(bridge, &barcode).await {
            Some(head) => head.request,
            None => super::check_out_item::by_barcode(&barcode),
        },
    };
    // A renewal may legitimately happen again weeks later: what makes two messages "the same renewal" is the
    // due date asked for, or else the day it was asked on.
    let when = message
        .desired_date_due
        .map(|d| d.to_string())
        .or_else(|| message.mandated_action.map(|m| m.date_event_occurred.to_string()))
        .unwrap_or_else(|| bridge.clock.now().strftime("%Y-%m-%d").to_string());
    let key = IdempotencyKey::derive(
        SERVICE.element_name(),
        Some(&request),
        Some(&barcode),
        ids::digest_input(&[Some(&when)]).as_bytes(),
    );
    let answer = RenewItemResponse {
        header: header.as_ref().map(ResponseHeader::answering),
        item_id: Some(message.item_id.clone()),
        user_id: message.user_id.clone(),
        ..RenewItemResponse::default()
    };
    let side = known.as_ref().map_or(Side::Borrowing, |r| r.side);
    let start = Start::New { side, partner: ids::partner(bridge, header.as_ref()), status: RequestStatus::Renewed };
    let mut change = RecordChange::new(request.clone(), start);
    change.status = Some(RequestStatus::Renewed);
    change.barcode = Some(barcode.clone());
    let desired = message.desired_date_due;
    let due_before = known.as_ref().and_then(|r| r.due_date);
    forward::ensure_header(&mut message.header);
    let borrowing = side == Side::Borrowing;
    let renewal =
        Renewal { outgoing: Message::RenewItem(message), answer, barcode, desired, due_before, change, borrowing };
    let action = Action { service: SERVICE, key, request, header: header.as_ref(), inbound };
    once::carry_out(bridge, action, &renewal, ctx).await
}

/// One renewal of one loan.
struct Renewal {
    outgoing: Message,
    answer: RenewItemResponse,
    barcode: ItemBarcode,
    desired: Option<Timestamp>,
    /// The due date the store knew before this renewal (from the loan's ship or receipt, or a renewal).
    due_before: Option<Timestamp>,
    change: RecordChange,
    /// The loan is our patron's (a borrowing-side renewal), not the partner's.
    borrowing: bool,
}

impl Renewal {
    fn done(&self, answer: RenewItemResponse) -> Done {
        let mut change = self.change.clone();
        change.due_date = answer.date_due;
        Done { response: Message::RenewItemResponse(answer), change }
    }
}

/// The due date Alma shows on the item (`item_data.due_date`), when it is out on loan.
fn item_due(item: &AlmaItem) -> Option<Timestamp> {
    item.item_data.due_date.as_deref().and_then(|d| d.parse().ok())
}

#[async_trait::async_trait]
impl ExactlyOnce for Renewal {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    fn names_our_patron(&self) -> bool {
        self.borrowing
    }

    /// An earlier attempt's answer was lost. Alma's item already due on or after the date asked for means the
    /// renewal went through; renewing again would extend the loan twice. Without a date asked for, a due date
    /// later than the one the store knew before this renewal shows the same. With neither there is nothing
    /// to compare with, so the renewal is sent again.
    async fn probe(&self, bridge: &Bridge, ctx: &CallContext) -> Probe {
        let renewed = |due: &Timestamp| match (self.desired, self.due_before) {
            (Some(desired), _) => *due >= desired,
            (None, Some(before)) => *due > before,
            (None, None) => false,
        };
        if self.desired.is_none() && self.due_before.is_none() {
            return Probe::NotDone;
        }
        match bridge.rest.item_by_barcode(self.barcode.as_str(), ctx).await {
            Ok(item) => match item_due(&item).filter(renewed) {
                Some(due) => {
                    Probe::Done(Box::new(self.done(RenewItemResponse { date_due: Some(due), ..self.answer.clone() })))
                }
                None => Probe::NotDone,
            },
            Err(err) if err.is_not_found() => Probe::NotDone,
            Err(err) => Probe::Unknown(err),
        }
    }

    async fn done(&self, _bridge: &Bridge, reply: Option<&Message>, _ctx: &CallContext) -> Done {
        let mut answer = self.answer.clone();
        if let Some(Message::RenewItemResponse(r)) = reply {
            answer.date_due = r.date_due;
            answer.renewal_count = r.renewal_count;
        }
        self.done(answer)
    }
}
