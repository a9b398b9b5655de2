//! AcceptItem: the borrowing library received the item from its lender.
//!
//! Alma (broker mode) then creates a brief bib, a temporary item with the given barcode, a borrowing request
//! and a hold on the hold shelf for the patron, which Primo's "My Account" shows. Real Alma creates a second
//! temporary item if the same AcceptItem arrives twice, which is why this flow is exactly-once.

use super::follow_up::{ReadBack, Reading};
use super::forward;
use super::ids::{self, Ids, required};
use super::once::{self, Action, Done, ExactlyOnce, Inbound, Probe, RecordChange, Start};
use crate::alma::model::AlmaItem;
use crate::alma::{CallContext, ItemPath};
use crate::flows::Bridge;
use crate::ncip::{AcceptItem, AcceptItemResponse, Message, Problem, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, ItemBarcode, RequestStatus, Side};

const SERVICE: ServiceKind = ServiceKind::AcceptItem;

pub(crate) async fn handle(bridge: &Bridge, message: AcceptItem, inbound: Inbound<'_>, ctx: &CallContext) -> Vec<u8> {
    let header = message.header.clone();
    match Receipt::read(bridge, message).await {
        Ok(receipt) => {
            // One temporary item per request and barcode: a resend with other details (patron, action type) is
            // the same receipt, and must not make a second item while the first attempt's outcome is open.
            let request = receipt.change.request.clone();
            let key = IdempotencyKey::derive(SERVICE.element_name(), Some(&request), Some(&receipt.barcode), b"");
            let action = Action { service: SERVICE, key, request, header: header.as_ref(), inbound };
            once::carry_out(bridge, action, &receipt, ctx).await
        }
        Err(problem) => ids::refuse_now(&SERVICE, header.as_ref(), problem),
    }
}

/// One item received for one request.
struct Receipt {
    outgoing: Message,
    answer: AcceptItemResponse,
    barcode: ItemBarcode,
    change: RecordChange,
    /// The patron as Relais named them, for Alma to match.
    patron: Option<String>,
}

impl Receipt {
    async fn read(bridge: &Bridge, mut message: AcceptItem) -> Result<Receipt, Problem> {
        let ids = Ids::read(
            Some(message.request_id.request_identifier_value.as_str()),
            message.item_id.as_ref().map(|i| i.item_identifier_value.as_str()),
            message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
        )?;
        let request = required(&ids.request, "AcceptItem/RequestId", "AcceptItem needs the Relais request id")?;
        let barcode = required(
            &ids.item,
            "AcceptItem/ItemId",
            "AcceptItem needs an ItemId (the barcode Alma gives the temporary item)",
        )?;
        let answer = AcceptItemResponse {
            header: message.header.as_ref().map(ResponseHeader::answering),
            problems: Vec::new(),
            request_id: Some(message.request_id.clone()),
            item_id: message.item_id.clone(),
        };
        let start = Start::New {
            side: Side::Borrowing,
            partner: ids::partner(bridge, message.header.as_ref()),
            status: RequestStatus::OnHoldShelf,
        };
        let mut change = RecordChange::new(request, start);
        change.status = Some(RequestStatus::OnHoldShelf);
        // A receipt is borrowing whatever an earlier RequestItem took the request for.
        change.side_rule = once::SideRule::Settle;
        change.patron = ids.patron.as_ref().map(|p| ids::Pseudonym::of(bridge, p));
        change.barcode = Some(barcode.clone());
        change.due_date = message.date_for_return.and_then(|d| d.date());
        let patron = message.user_id.as_ref().map(|u| u.user_identifier_value.as_str().to_owned());
        forward::ensure_header(&mut message.header);
        Ok(Receipt { outgoing: Message::AcceptItem(message), answer, barcode, change, patron })
    }

    fn done(&self, item: Option<&AlmaItem>) -> Done {
        let mut change = self.change.clone();
        change.alma_item = item.map(once::item_ids);
        Done { response: Message::AcceptItemResponse(self.answer.clone()), change }
    }
}

#[async_trait::async_trait]
impl ExactlyOnce for Receipt {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    fn patron_for_alma(&self) -> Option<&str> {
        self.patron.as_deref()
    }

    /// The request and item ids echoed back, as Alma answers.
    fn queued_answer(&self) -> Option<Message> {
        Some(self.done(None).response)
    }

    fn item_barcode(&self) -> Option<&ItemBarcode> {
        Some(&self.barcode)
    }

    /// A resend with changed details after the item was received (the record holds the request on the hold
    /// shelf under this barcode): Alma holds the item already, so answer as Alma did rather than make a second
    /// temporary item.
    fn recorded_done(&self, record: Option<&Correlation>) -> bool {
        record.is_some_and(|existing| {
            existing.side == Side::Borrowing
                && existing.status == RequestStatus::OnHoldShelf
                && existing.has_barcode(&self.barcode)
        })
    }

    /// An earlier attempt may have reached Alma: the temporary item exists if it did.
    async fn probe(&self, bridge: &Bridge, ctx: &CallContext) -> Probe {
        match bridge.rest.item_by_barcode(self.barcode.as_str(), ctx).await {
            Ok(item) => {
                // The hold and the borrowing request are read after the answer, as on a fresh attempt.
                let mut done = self.done(Some(&item));
                done.change.read_back = Some(ReadBack::Receipt { barcode: self.barcode.clone() });
                Probe::Done(Box::new(done))
            }
            Err(err) if err.is_not_found() => Probe::NotDone,
            Err(err) => Probe::Unknown(err),
        }
    }

    /// Alma's ids are read after the answer (a follow-up recorded with the commit): Relais waits for Alma's NCIP
    /// answer only, as on a direct link.
    async fn done(&self, _bridge: &Bridge, reply: Option<&Message>, _ctx: &CallContext) -> Done {
        let mut done = self.done(None);
        if reply.is_some() {
            done.change.read_back = Some(ReadBack::Receipt { barcode: self.barcode.clone() });
        }
        done
    }
}

/// Reads Alma's ids of a receipt after the answer. Alma's NCIP answer echoes Relais's ids only, so its own are
/// read through REST: the temporary item (pid, holding, MMS id), then the hold on it and the borrowing request
/// behind the hold, so staff can go from the Relais request to Alma's. The hold is read through the item, never
/// through the patron: the record keeps no patron id Alma would know.
pub(crate) async fn read_back(bridge: &Bridge, barcode: &ItemBarcode, ctx: &CallContext) -> Reading {
    let item = match bridge.rest.item_by_barcode(barcode.as_str(), ctx).await {
        Ok(item) => item,
        Err(err) if err.is_not_found() => {
            return Reading { missing: Some("Alma does not show the temporary item yet".into()), ..Reading::default() };
        }
        Err(err) => {
            return Reading { missing: Some(format!("the item could not be read: {err}")), ..Reading::default() };
        }
    };
    let mut reading = Reading { item: Some(once::item_ids(&item)), ..Reading::default() };
    let path = ItemPath {
        mms_id: &item.bib_data.mms_id,
        holding_id: &item.holding_data.holding_id,
        item_pid: &item.item_data.pid,
    };
    match bridge.rest.item_requests(&path, ctx).await {
        Ok(requests) => match requests.into_iter().next() {
            Some(hold) => {
                reading.request_id = hold.resource_sharing.and_then(|rs| rs.id);
                if let Some(ids) = reading.item.as_mut() {
                    ids.hold_or_loan_id = Some(hold.request_id);
                }
            }
            None => reading.missing = Some("Alma shows no hold on the temporary item yet".into()),
        },
        Err(err) => reading.missing = Some(format!("the item's requests could not be read: {err}")),
    }
    reading
}
