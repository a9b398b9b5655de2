//! RequestItem, on either side (Alma's NCIP profile lists it for both):
//! - borrowing: Relais places a request for one of our patrons, naming the title (BibliographicId, and
//!   sometimes its own request number as ItemId); Alma records a borrowing request so the patron sees it in
//!   Primo before the item arrives;
//! - lending: a partner asks for something of ours, named by our barcode (ItemId) or only by the title (an
//!   OCLC number, which Alma resolves through the partner's Request Item bib type); Alma creates a lending
//!   request. The UserId is then the borrowing library's patron, not ours, so it is not kept.
//!
//! The message names no side, and neither an ItemId nor a BibliographicId tells one: so the side is read
//! from what Alma knows, in this order (the table in docs/configure-relais.md):
//! 1. the ItemId is one of this institution's items (a REST item read by barcode): lending;
//! 2. the partner's `request_item_support_borrowing` is false: lending;
//! 3. the UserId is an active patron of ours: borrowing;
//! 4. otherwise lending, forwarded as sent, so that Alma answers for itself.
//!
//! The side so found is provisional: the first AcceptItem (borrowing) or CheckOutItem (lending) of the
//! request corrects it once ([`once::SideRule`]).

use super::forward::{self, FailureKind};
use super::ids::{self, Ids};
use super::once::{self, Action, Done, ExactlyOnce, Inbound, RecordChange, SideRule, Start};
use super::{patron_id, policy};
use crate::alma::{AlmaError, CallContext};
use crate::flows::Bridge;
use crate::ncip::model::item::BibliographicId;
use crate::ncip::{Message, Problem, RequestItem, RequestItemResponse, ResponseHeader, ServiceKind};
use crate::store::{IdempotencyKey, RelaisRequestId, RequestStatus, Side};

const SERVICE: ServiceKind = ServiceKind::RequestItem;

pub(crate) async fn handle(bridge: &Bridge, message: RequestItem, inbound: Inbound<'_>, ctx: &CallContext) -> Vec<u8> {
    let header = message.header.clone();
    let placed = async {
        let ids = Placement::ids(&message)?;
        let fact = side_of(bridge, &message, &ids, ctx).await?;
        // Which rule decided, never who or what the message named.
        tracing::info!(side = ?fact.side(), rule = ?fact, "RequestItem side read from Alma");
        Placement::read(bridge, message, ids, fact)
    };
    match placed.await {
        Ok((placement, key)) => {
            let request = placement.change.request.clone();
            let action = Action { service: SERVICE, key, request, header: header.as_ref(), inbound };
            once::carry_out(bridge, action, &placement, ctx).await
        }
        Err(problem) => ids::refuse_now(&SERVICE, header.as_ref(), problem),
    }
}

/// What decided a RequestItem's side (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SideFact {
    /// The ItemId is one of this institution's items: a partner asks for it.
    OurItem,
    /// The partner's record says its RequestItems never create a borrowing request.
    PartnerLendsOnly,
    /// The UserId names an active patron of ours.
    OurPatron,
    /// Nothing in the message is ours: a lender's request by title, or a patron Alma does not know, which
    /// Alma is left to judge.
    NothingOfOurs,
}

impl SideFact {
    fn side(self) -> Side {
        match self {
            SideFact::OurPatron => Side::Borrowing,
            SideFact::OurItem | SideFact::PartnerLendsOnly | SideFact::NothingOfOurs => Side::Lending,
        }
    }
}

/// Reads the side of the request from Alma (the module's table). A refused read is a Problem for Relais; an
/// outage is Temporary Processing Failure, since nothing was sent to Alma and a resend decides afresh.
async fn side_of(bridge: &Bridge, message: &RequestItem, ids: &Ids, ctx: &CallContext) -> Result<SideFact, Problem> {
    if let Some(item) = &ids.item {
        match bridge.rest.item_by_barcode(item.as_str(), ctx).await {
            Ok(_) => return Ok(SideFact::OurItem),
            // Relais's own request number, a lender's symbol, or a barcode of another library.
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(problem_of(&err, "Bibs")),
        }
    }
    if let Some(partner) = policy::partner_code(bridge, message.header.as_ref()) {
        let profile = patron_id::partner_profile(bridge, &partner, ctx)
            .await
            .map_err(|err| problem_of(&err, "Resource Sharing Partners"))?;
        if profile.and_then(|p| p.request_item_support_borrowing) == Some(false) {
            return Ok(SideFact::PartnerLendsOnly);
        }
    }
    if let Some(patron) = &ids.patron {
        // Any unique identifier: Relais names the patron by whatever LookupUser gave it, or the patron typed.
        match bridge.rest.user(patron.as_str(), "all_unique", ctx).await {
            Ok(user) if user.status.value.eq_ignore_ascii_case("ACTIVE") => return Ok(SideFact::OurPatron),
            Ok(_) => {}
            Err(err) if err.is_not_found() => {}
            Err(err) => return Err(problem_of(&err, "Users")),
        }
    }
    Ok(SideFact::NothingOfOurs)
}

/// The Problem for a failed read of Alma's state: Temporary Processing Failure for an outage (Relais
/// retries), the bridge's refusal otherwise.
fn problem_of(err: &AlmaError, area: &str) -> Problem {
    let failure = forward::Failure::of(err, area);
    if failure.kind == FailureKind::Outage {
        Problem::temporary_processing_failure(failure.detail)
    } else {
        failure.count_if_configuration_fault();
        failure.refusal_problem()
    }
}

/// One request placed for a patron.
struct Placement {
    outgoing: Message,
    answer: RequestItemResponse,
    change: RecordChange,
    /// Our patron as Relais named them (borrowing side only), for Alma to match.
    patron: Option<String>,
    /// The message came without a RequestId: the record is filed under Alma's, once Alma answers with one.
    unnamed: bool,
}

impl Placement {
    fn ids(message: &RequestItem) -> Result<Ids, Problem> {
        Ids::read(
            message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
            message.item_ids.first().map(|i| i.item_identifier_value.as_str()),
            message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
        )
    }

    fn read(
        bridge: &Bridge,
        mut message: RequestItem,
        ids: Ids,
        fact: SideFact,
    ) -> Result<(Placement, IdempotencyKey), Problem> {
        let (request, key) = match &ids.request {
            Some(request) => {
                let key = IdempotencyKey::derive(
                    SERVICE.element_name(),
                    Some(request),
                    ids.item.as_ref(),
                    ids::digest_input(&[
                        ids.patron.as_ref().map(|p| p.as_str()),
                        Some(message.request_type.value.as_str()),
                    ])
                    .as_bytes(),
                );
                (request.clone(), key)
            }
            None => unnamed(bridge, &message, &ids)?,
        };
        let answer = RequestItemResponse {
            header: message.header.as_ref().map(ResponseHeader::answering),
            request_id: message.request_id.clone(),
            item_id: message.item_ids.first().cloned(),
            user_id: message.user_id.clone(),
            request_type: Some(message.request_type.clone()),
            request_scope_type: Some(message.request_scope_type.clone()),
            ..RequestItemResponse::default()
        };
        let side = fact.side();
        let start = Start::New {
            side,
            partner: ids::partner(bridge, message.header.as_ref()),
            status: RequestStatus::Requested,
        };
        let mut change = RecordChange::new(request, start);
        change.side_rule = SideRule::Provisional;
        if ids.request.is_none() {
            // Filed by item, as a ship without a request id is: a record whose loan came home is an earlier round.
            change.fresh_after = Some(RequestStatus::CheckedIn);
        }
        change.patron = ids.patron.as_ref().filter(|_| side == Side::Borrowing).map(|p| ids::Pseudonym::of(bridge, p));
        // Only a barcode Alma knows is the item's: Relais's request number or a lender's symbol in the ItemId
        // would later match a CheckInItem to the wrong record.
        change.barcode = ids.item.filter(|_| fact == SideFact::OurItem);
        let patron = message
            .user_id
            .as_ref()
            .filter(|_| side == Side::Borrowing)
            .map(|u| u.user_identifier_value.as_str().to_owned());
        let unnamed = ids.request.is_none();
        forward::ensure_header(&mut message.header);
        Ok((Placement { outgoing: Message::RequestItem(message), answer, change, patron, unnamed }, key))
    }
}

/// The record and idempotency key of a RequestItem that came without a RequestId (NCIP allows it; VuFind and
/// OCLC WMS clients send them). The key is a digest of the service element as read (the header left out, as
/// it is rewritten on the way), so a resend of the same message is the same action. The record is filed under
/// the item, or the title's number and the patron's keyed hash, until Alma's answer names the request
/// ([`Placement::done`]); the `item:` prefix is the bridge's, never a Relais id.
fn unnamed(bridge: &Bridge, message: &RequestItem, ids: &Ids) -> Result<(RelaisRequestId, IdempotencyKey), Problem> {
    let element = crate::ncip::write(&Message::RequestItem(RequestItem { header: None, ..message.clone() }));
    let key = IdempotencyKey::derive(SERVICE.element_name(), None, ids.item.as_ref(), &element);
    let title = message
        .bibliographic_ids
        .iter()
        .map(|id| match id {
            BibliographicId::Record(r) => r.identifier.trim(),
            BibliographicId::Item(i) => i.identifier.trim(),
        })
        .find(|t| !t.is_empty());
    let patron = ids.patron.as_ref().map(|p| ids::Pseudonym::of(bridge, p));
    let name = match (&ids.item, title) {
        (Some(item), _) => format!("{}{}", ids::ITEM_PREFIX, item.as_str()),
        (None, Some(title)) => {
            format!("{}bib:{title}:{}", ids::ITEM_PREFIX, patron.as_ref().map_or("no-patron", |p| p.as_str()))
        }
        // Nothing names the request: the message's own digest does.
        (None, None) => format!("{}request:{}", ids::ITEM_PREFIX, &key.as_str()[..16]),
    };
    let request = RelaisRequestId::new(name)
        .map_err(|e| Problem::element_rule_violated("RequestItem/BibliographicId", String::new(), e.to_string()))?;
    Ok((request, key))
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
            let own = r
                .request_id
                .as_ref()
                .map(|id| id.request_identifier_value.as_str())
                .filter(|id| self.unnamed || *id != change.request.as_str());
            change.alma_request_id = own.map(str::to_owned);
            if self.unnamed
                && let Some(alma) = own.and_then(|id| RelaisRequestId::new(id.to_owned()).ok())
            {
                // Every later message names the request by the id Alma gave it, so the record is kept under it.
                change.request = alma;
                answer.request_id = r.request_id.clone();
            }
            answer.date_available = r.date_available;
            answer.hold_pickup_date = r.hold_pickup_date;
        }
        Done { response: Message::RequestItemResponse(answer), change }
    }
}
