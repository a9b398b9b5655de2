//! RequestItem, on either side (Alma's NCIP profile lists it for both):
//! - borrowing: Relais places a request for one of our patrons, naming the title (BibliographicId); Alma
//!   records a borrowing request so the patron sees it in Primo before the item arrives;
//! - lending: a partner asks for an item of ours, named by its barcode (ItemId); Alma creates a lending
//!   request. The UserId is then the borrowing library's patron, not ours, so it is not kept.

use super::forward;
use super::ids::{self, Ids, required};
use super::once::{self, Action, Done, ExactlyOnce, Inbound, RecordChange, Start};
use crate::alma::CallContext;
use crate::flows::Bridge;
use crate::ncip::{Message, Problem, RequestItem, RequestItemResponse, ResponseHeader, ServiceKind};
use crate::store::{IdempotencyKey, RequestStatus, Side};

const SERVICE: ServiceKind = ServiceKind::RequestItem;

pub(crate) async fn handle(bridge: &Bridge, message: RequestItem, inbound: Inbound<'_>, ctx: &CallContext) -> Vec<u8> {
    let header = message.header.clone();
    match Placement::read(bridge, message) {
        Ok((placement, key)) => {
            let request = placement.change.request.clone();
            let action = Action { service: SERVICE, key, request, header: header.as_ref(), inbound };
            once::carry_out(bridge, action, &placement, ctx).await
        }
        Err(problem) => ids::refuse_now(&SERVICE, header.as_ref(), problem),
    }
}

/// One request placed for a patron.
struct Placement {
    outgoing: Message,
    answer: RequestItemResponse,
    change: RecordChange,
    /// Our patron as Relais named them (borrowing side only), for Alma to match.
    patron: Option<String>,
}

impl Placement {
    fn read(bridge: &Bridge, mut message: RequestItem) -> Result<(Placement, IdempotencyKey), Problem> {
        let ids = Ids::read(
            message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
            message.item_ids.first().map(|i| i.item_identifier_value.as_str()),
            message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
        )?;
        let request = required(&ids.request, "RequestItem/RequestId", "RequestItem needs the Relais request id")?;
        let key = IdempotencyKey::derive(
            SERVICE.element_name(),
            Some(&request),
            ids.item.as_ref(),
            ids::digest_input(&[ids.patron.as_ref().map(|p| p.as_str()), Some(message.request_type.value.as_str())])
                .as_bytes(),
        );
        let answer = RequestItemResponse {
            header: message.header.as_ref().map(ResponseHeader::answering),
            request_id: message.request_id.clone(),
            item_id: message.item_ids.first().cloned(),
            user_id: message.user_id.clone(),
            request_type: Some(message.request_type.clone()),
            request_scope_type: Some(message.request_scope_type.clone()),
            ..RequestItemResponse::default()
        };
        // Only a lending request names an item: a borrowing library cannot know a barcode of the lender's.
        let side = if ids.item.is_some() { Side::Lending } else { Side::Borrowing };
        let start = Start::New {
            side,
            partner: ids::partner(bridge, message.header.as_ref()),
            status: RequestStatus::Requested,
        };
        let mut change = RecordChange::new(request, start);
        change.patron = ids.patron.filter(|_| side == Side::Borrowing);
        change.barcode = ids.item;
        let patron = message
            .user_id
            .as_ref()
            .filter(|_| side == Side::Borrowing)
            .map(|u| u.user_identifier_value.as_str().to_owned());
        forward::ensure_header(&mut message.header);
        Ok((Placement { outgoing: Message::RequestItem(message), answer, change, patron }, key))
    }
}

#[async_trait::async_trait]
impl ExactlyOnce for Placement {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    fn patron_for_alma(&self) -> Option<&str> {
        self.patron.as_deref()
    }

    /// Alma's "Duplicate Request" after a takeover means the earlier attempt got through.
    fn done_problems(&self) -> &'static [&'static str] {
        &["Duplicate Request"]
    }

    async fn done(&self, _bridge: &Bridge, reply: Option<&Message>, _ctx: &CallContext) -> Done {
        let mut answer = self.answer.clone();
        let mut change = self.change.clone();
        if let Some(Message::RequestItemResponse(r)) = reply {
            // Alma echoes the broker's RequestId; only an id of its own (sent when Relais sent none) is Alma's.
            change.alma_request_id = r
                .request_id
                .as_ref()
                .map(|id| id.request_identifier_value.as_str())
                .filter(|id| *id != change.request.as_str())
                .map(str::to_owned);
            answer.date_available = r.date_available;
            answer.hold_pickup_date = r.hold_pickup_date;
        }
        Done { response: Message::RequestItemResponse(answer), change }
    }
}
