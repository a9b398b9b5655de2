//! CheckInItem: either the borrowing library sent the item back to its lender (borrowing return: the patron's
//! loan ends and the borrowing request closes) or the lending library got its item back (lending receive:
//! the item goes in transit home). The message carries only the barcode, so the store's barcode index says
//! which one this is.

use super::forward::{self, Reply};
use super::ids::{self, Ids, required};
use super::once::{self, Action, Done, ExactlyOnce, Inbound, Probe, RecordChange, Start};
use crate::alma::CallContext;
use crate::flows::Bridge;
use crate::ncip::{CheckInItem, CheckInItemResponse, Message, Problem, ResponseHeader, ServiceKind};
use crate::store::{Correlation, IdempotencyKey, ItemBarcode, Outcome, RequestStatus, Side};

const SERVICE: ServiceKind = ServiceKind::CheckInItem;

pub(crate) async fn handle(
    bridge: &Bridge,
    mut message: CheckInItem,
    inbound: Inbound<'_>,
    ctx: &CallContext,
) -> Vec<u8> {
    let header = message.header.clone();
    let barcode = match Ids::read(None, Some(message.item_id.item_identifier_value.as_str()), None).and_then(|ids| {
        required(&ids.item, "CheckInItem/ItemId/ItemIdentifierValue", "CheckInItem needs the item barcode")
    }) {
        Ok(barcode) => barcode,
        Err(problem) => return ids::refuse_now(&SERVICE, header.as_ref(), problem),
    };
    let answer = CheckInItemResponse {
        header: header.as_ref().map(ResponseHeader::answering),
        item_id: Some(message.item_id.clone()),
        ..CheckInItemResponse::default()
    };
    let known = match bridge.store.find_by_barcode(&barcode).await {
        Ok(records) => records.into_iter().next(),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable for a check-in");
            let problem = Problem::temporary_processing_failure("the bridge's store is unavailable");
            return ids::refuse_now(&SERVICE, header.as_ref(), problem);
        }
    };
    forward::ensure_header(&mut message.header);
    let outgoing = Message::CheckInItem(message);
    let (record, loan) = match known {
        // One check-in per loan: the request id, not the message's time, makes it "the same". A barcode-keyed
        // lending record is reused by the item's next loan, which starts it afresh, so its creation time and
        // due date tell one loan's check-in from the next one's while a retry of this check-in repeats them.
        Some(record) => {
            let loan = ids::digest_input(&[
                Some(record.created_at.to_string().as_str()),
                record.due_date.map(|d| d.to_string()).as_deref(),
            ]);
            (record, loan)
        }
        // The item's receive or ship is still in the outbox: the check-in belongs to that request and waits
        // behind it (the store has no record until Alma takes the first message).
        None => match super::outbox::waiting_for_item(bridge, &barcode).await {
            Some(head) => {
                let loan = format!("behind {}", head.id);
                (super::outbox::expected_record(bridge, &head, &barcode, header.as_ref()), loan)
            }
            None => {
                let message = (&outgoing, inbound.received);
                return unknown_to_store(bridge, &barcode, message, answer, header.as_ref(), ctx).await;
            }
        },
    };
    let request = record.relais_request_id.clone();
    let key = IdempotencyKey::derive(SERVICE.element_name(), Some(&request), Some(&barcode), loan.as_bytes());
    let action = Action { service: SERVICE, key, request, header: header.as_ref(), inbound };
    let return_ = Return::new(outgoing, answer, barcode, record);
    once::carry_out(bridge, action, &return_, ctx).await
}

/// An item checked in for a request the store knows: a borrowing return or a lending receive-back.
struct Return {
    outgoing: Message,
    answer: CheckInItemResponse,
    closed_before: bool,
    /// A borrowing return removes Alma's temporary item, so its absence shows an earlier attempt acted.
    borrowing: bool,
    barcode: ItemBarcode,
    change: RecordChange,
}

impl Return {
    fn new(outgoing: Message, answer: CheckInItemResponse, barcode: ItemBarcode, record: Correlation) -> Return {
        let closing = match record.side {
            Side::Borrowing => RequestStatus::Returned,
            Side::Lending => RequestStatus::CheckedIn,
        };
        let closed_before = record.status == closing;
        let borrowing = record.side == Side::Borrowing;
        let mut change = RecordChange::new(record.relais_request_id.clone(), Start::Matched(Box::new(record)));
        change.status = Some(closing);
        Return { outgoing, answer, closed_before, borrowing, barcode, change }
    }
}

#[async_trait::async_trait]
impl ExactlyOnce for Return {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    fn repeat_expected(&self) -> bool {
        self.closed_before
    }

    fn queued_answer(&self) -> Option<Message> {
        Some(self.done_now().response)
    }

    fn item_barcode(&self) -> Option<&ItemBarcode> {
        Some(&self.barcode)
    }

    /// Checked in before (the record says so, or an earlier attempt of this message reached Alma): answered as
    /// success, as OCLC's NCIP samples do for a repeated check-in.
    fn done_problems(&self) -> &'static [&'static str] {
        &["Item Not Checked Out"]
    }

    /// After a takeover of a borrowing return: Alma deletes the temporary item when it is returned to the
    /// lender (VCU's ILLiad integration: "removing it from the patron's account"), so an item that is gone
    /// means the earlier attempt acted and its answer was lost. Forwarding again would be answered "Unknown
    /// Item", a failure shown to staff for an action that succeeded. A lending item always stays in Alma,
    /// and checking it in twice is harmless ("Item Not Checked Out" confirms it), so it is not read.
    async fn probe(&self, bridge: &Bridge, ctx: &CallContext) -> Probe {
        if !self.borrowing {
            return Probe::NotDone;
        }
        match bridge.rest.item_by_barcode(self.barcode.as_str(), ctx).await {
            Ok(_) => Probe::NotDone,
            Err(err) if err.is_not_found() => Probe::Done(Box::new(self.done_now())),
            Err(err) => Probe::Unknown(err),
        }
    }

    async fn done(&self, _bridge: &Bridge, _reply: Option<&Message>, _ctx: &CallContext) -> Done {
        self.done_now()
    }
}

impl Return {
    fn done_now(&self) -> Done {
        Done { response: Message::CheckInItemResponse(self.answer.clone()), change: self.change.clone() }
    }
}

/// A barcode the bridge never saw (an item from before the bridge, or circulated outside Relais): forwarded
/// as is, and Alma's answer recorded under the barcode so staff can still find it.
async fn unknown_to_store(
    bridge: &Bridge,
    barcode: &ItemBarcode,
    (outgoing, received): (&Message, &[u8]),
    answer: CheckInItemResponse,
    header: Option<&crate::ncip::InitiationHeader>,
    ctx: &CallContext,
) -> Vec<u8> {
    let request = super::check_out_item::by_barcode(barcode);
    let (reply, outcome, problem, tracking) =
        match forward::to_alma(bridge, outgoing, received, forward::PatronForAlma::default(), header, ctx).await {
            Reply::Accepted(_) => (Message::CheckInItemResponse(answer), Outcome::Success, None, None),
            Reply::Refused(refusal) => {
                let problem = refusal.message.problems().first().cloned();
                (refusal.message, Outcome::Problem, problem, refusal.tracking_id)
            }
            Reply::Failed(failure) => {
                let problem = Problem::temporary_processing_failure(failure.detail);
                let message = crate::ncip::problem_response(SERVICE, header, vec![problem.clone()]);
                (message, Outcome::TemporaryFailure, Some(problem), failure.tracking_id)
            }
        };
    super::history::log_outcome(&SERVICE, outcome);
    let entry = super::history::entry(bridge, &SERVICE, outcome, problem.as_ref(), ctx, tracking);
    if let Err(err) = bridge.store.append_history(&request, &entry).await {
        tracing::warn!(error = %err, "could not append history");
    }
    super::history::list_problem(bridge, &request, header, &entry).await;
    crate::ncip::write(&reply)
}
