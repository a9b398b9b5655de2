//! CheckOutItem: the lending library shipped its item to the borrowing library.
//!
//! Alma's broker mode treats this as "ship": it creates the lending request, marks it shipped and lends the
//! item to the partner. The UserId is the borrowing library's generic patron in Relais and need not exist in
//! Alma. Alma honours the due date Relais sends.

use super::follow_up::{ReadBack, Reading};
use super::ids::{self, Ids, required};
use super::once::{self, Action, Done, ExactlyOnce, Inbound, Probe, RecordChange, Start};
use super::{forward, patron_id};
use crate::alma::CallContext;
use crate::alma::model::AlmaItem;
use crate::flows::Bridge;
use crate::ncip::{CheckOutItem, CheckOutItemResponse, DueDate, Message, Problem, ResponseHeader, ServiceKind};
use crate::store::{IdempotencyKey, ItemBarcode, Outcome, PartnerCode, RelaisRequestId, RequestStatus, Side};
use jiff::Timestamp;

const SERVICE: ServiceKind = ServiceKind::CheckOutItem;

pub(crate) async fn handle(bridge: &Bridge, message: CheckOutItem, inbound: Inbound<'_>, ctx: &CallContext) -> Vec<u8> {
    let header = message.header.clone();
    match Shipment::read(bridge, message).await {
        Ok((shipment, key)) => {
            let action = Action {
                service: SERVICE,
                key,
                request: shipment.change.request.clone(),
                header: header.as_ref(),
                inbound,
            };
            once::carry_out(bridge, action, &shipment, ctx).await
        }
        Err(problem) => ids::refuse_now(&SERVICE, header.as_ref(), problem),
    }
}

/// The record of a lending loan that came without a Relais request id: keyed by the item.
/// A barcode too long to fit beside the prefix is keyed by its SHA-256 instead, so two long barcodes never
/// share a record.
pub(crate) fn by_barcode(barcode: &ItemBarcode) -> RelaisRequestId {
    use sha2::{Digest, Sha256};
    let prefix = super::ids::ITEM_PREFIX;
    RelaisRequestId::new(format!("{prefix}{}", barcode.as_str())).unwrap_or_else(|_| {
        let digest: String = Sha256::digest(barcode.as_str().as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        RelaisRequestId::new(format!("{prefix}sha256:{digest}")).expect("a prefix and 64 hex digits fit")
    })
}

/// How many loans filed under the item's barcode record have come home (successful check-ins in its history).
async fn loans_come_home(bridge: &Bridge, request: &RelaisRequestId) -> Result<usize, Problem> {
    match bridge.store.history(request).await {
        Ok(history) => Ok(history
            .iter()
            .filter(|entry| entry.message_type == "CheckInItem" && entry.outcome == Outcome::Success)
            .count()),
        Err(err) => {
            tracing::error!(error = %err, "store unavailable for a ship without a request id");
            Err(Problem::temporary_processing_failure("the bridge's store is unavailable"))
        }
    }
}

/// What makes two CheckOutItems the same ship. The due date counts as the instant, in its UTC form, never as
/// the text Relais wrote (answers echo that text): keys stored by earlier versions must keep matching, and
/// `2027-03-15T00:00:00` in Sydney and `2027-03-14T13:00:00Z` are one due date.
fn shipment_key(
    request: &RelaisRequestId,
    barcode: &ItemBarcode,
    patron: Option<&str>,
    desired: Option<Timestamp>,
    round: &str,
) -> IdempotencyKey {
    IdempotencyKey::derive(
        SERVICE.element_name(),
        Some(request),
        Some(barcode),
        ids::digest_input(&[patron, desired.map(|d| d.to_string()).as_deref(), Some(round)]).as_bytes(),
    )
}

/// One item shipped to a borrowing library.
struct Shipment {
    outgoing: Message,
    answer: CheckOutItemResponse,
    barcode: ItemBarcode,
    /// The Relais request id the message carried (the record may be keyed by the barcode instead).
    relais_id: Option<RelaisRequestId>,
    partner: PartnerCode,
    desired: Option<Timestamp>,
    change: RecordChange,
}

impl Shipment {
    async fn read(bridge: &Bridge, mut message: CheckOutItem) -> Result<(Shipment, IdempotencyKey), Problem> {
        let ids = Ids::read(
            message.request_id.as_ref().map(|r| r.request_identifier_value.as_str()),
            Some(message.item_id.item_identifier_value.as_str()),
            message.user_id.as_ref().map(|u| u.user_identifier_value.as_str()),
        )?;
        let barcode =
            required(&ids.item, "CheckOutItem/ItemId/ItemIdentifierValue", "CheckOutItem needs the item barcode")?;
        let request = ids.request.clone().unwrap_or_else(|| by_barcode(&barcode));
        // The same loan is the same borrower, due date and, for a ship without a Relais request id, the same
        // round of the item's barcode record: a later loan of the same item to the same library with no due
        // date differs only in that the earlier one came home in between, while a retry of this one repeats
        // all three.
        let round = match ids.request {
            Some(_) => String::new(),
            None => loans_come_home(bridge, &request).await?.to_string(),
        };
        let key =
            shipment_key(&request, &barcode, ids.patron.as_ref().map(|p| p.as_str()), message.desired_date_due, &round);
        let answer = CheckOutItemResponse {
            header: message.header.as_ref().map(ResponseHeader::answering),
            item_id: Some(message.item_id.clone()),
            user_id: message.user_id.clone(),
            ..CheckOutItemResponse::default()
        };
        let partner = ids::partner(bridge, message.header.as_ref());
        let start = Start::New { side: Side::Lending, partner: partner.clone(), status: RequestStatus::Shipped };
        let mut change = RecordChange::new(request, start);
        // A barcode-keyed record whose loan came home belongs to the item's previous loan.
        change.fresh_after = Some(RequestStatus::CheckedIn);
        change.status = Some(RequestStatus::Shipped);
        // A ship is lending whatever an earlier RequestItem took the request for.
        change.side_rule = once::SideRule::Settle;
        change.patron = ids.patron.as_ref().map(|p| ids::Pseudonym::of(bridge, p));
        change.barcode = Some(barcode.clone());
        let desired = message.desired_date_due;
        forward::ensure_header(&mut message.header);
        let relais_id = ids.request;
        let outgoing = Message::CheckOutItem(message);
        Ok((Shipment { outgoing, answer, barcode, relais_id, partner, desired, change }, key))
    }

    fn done(&self, date_due: Option<DueDate>, item: Option<&AlmaItem>) -> Done {
        let mut answer = self.answer.clone();
        answer.date_due = date_due.or(self.desired.map(DueDate::Date));
        let mut change = self.change.clone();
        change.due_date = answer.date_due.as_ref().and_then(|d| d.date());
        change.alma_item = item.map(once::item_ids);
        Done { response: Message::CheckOutItemResponse(answer), change }
    }

    /// Alma's ids, read after the answer.
    fn read_back(&self) -> ReadBack {
        ReadBack::Shipment {
            barcode: self.barcode.clone(),
            partner: self.partner.clone(),
            relais_id: self.relais_id.clone(),
        }
    }
}

/// Reads Alma's ids of a ship after the answer: the item's, and the lending request's. Neither needs the other,
/// so they go together.
pub(crate) async fn read_back(
    bridge: &Bridge,
    barcode: &ItemBarcode,
    partner: &PartnerCode,
    relais_id: Option<&RelaisRequestId>,
    ctx: &CallContext,
) -> Reading {
    let (item, lending_request) = tokio::join!(
        bridge.rest.item_by_barcode(barcode.as_str(), ctx),
        lending_request_id(bridge, partner, relais_id, barcode, ctx)
    );
    let mut reading = Reading::default();
    let mut missing = Vec::new();
    match item {
        Ok(item) => reading.item = Some(once::item_ids(&item)),
        Err(err) => missing.push(format!("the item could not be read: {err}")),
    }
    match lending_request {
        Ok(id) => reading.request_id = Some(id),
        Err(why) => missing.push(why),
    }
    reading.missing = (!missing.is_empty()).then(|| missing.join("; "));
    reading
}

/// Alma's id of the lending request a ship marked shipped. Alma's CheckOutItem answer does not carry it, and no
/// call finds a lending request by its external id (the partners API reads one only by Alma's own id), so the
/// lending task list of the partner's resource-sharing library is read for requests in `SHIPPED_PHYSICALLY`
/// (UNCONFIRMED as the lending status a ship leaves; the simulator uses it) and the request is matched by the
/// Relais id it was created with or, for a ship without one, by the item's barcode. Alma lists at most 100
/// requests, without paging: past that the id stays unknown and says so. The ship itself never depends on this.
async fn lending_request_id(
    bridge: &Bridge,
    partner: &PartnerCode,
    relais_id: Option<&RelaisRequestId>,
    barcode: &ItemBarcode,
    ctx: &CallContext,
) -> Result<String, String> {
    let partner = partner.as_str();
    let profile = patron_id::partner_profile(bridge, partner, ctx)
        .await
        .map_err(|err| format!("the partner could not be read for the lending request id: {err}"))?;
    let Some(library) = profile.and_then(|p| p.general_library_owner).map(|c| c.value).filter(|v| !v.is_empty()) else {
        return Err(format!("the Alma partner {partner} names no resource-sharing library"));
    };
    let list = bridge
        .rest
        .lending_requests(&library, partner, SHIPPED, ctx)
        .await
        .map_err(|err| format!("the lending task list could not be read: {err}"))?;
    let shipped = list.user_resource_sharing_request.iter().find(|r| match relais_id {
        Some(id) => r.external_id.as_deref() == Some(id.as_str()),
        None => r.barcode.as_deref() == Some(barcode.as_str()),
    });
    match shipped {
        Some(request) => Ok(request.request_id.clone()),
        None => Err(format!(
            "the shipped lending request is not in the task list ({} listed of {})",
            list.user_resource_sharing_request.len(),
            list.total_record_count
        )),
    }
}

/// The lending task list's status of a shipped request.
const SHIPPED: &str = "SHIPPED_PHYSICALLY";

/// Out on loan: not in place (base status "0") *and* in the loan process. An item can be not in place for
/// other reasons (in transit after a pick slip or a return, in a work order), and a ship that never reached
/// Alma must not be taken as done because of one of them.
fn is_out(item: &AlmaItem) -> bool {
    item.item_data.base_status.value == "0" && item.item_data.process_type.value == "LOAN"
}

#[async_trait::async_trait]
impl ExactlyOnce for Shipment {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    /// The ids echoed and the due date Relais asked for, which Alma honours.
    /// Without a DesiredDateDue the answer would need Alma's due date, which only Alma can give: such a ship
    /// is answered Temporary Processing Failure rather than queued with an invented date.
    fn queued_answer(&self) -> Option<Message> {
        self.desired.is_some().then(|| self.done(None, None).response)
    }

    fn item_barcode(&self) -> Option<&ItemBarcode> {
        Some(&self.barcode)
    }

    /// An earlier attempt that reached Alma left the item out on loan to the partner.
    async fn probe(&self, bridge: &Bridge, ctx: &CallContext) -> Probe {
        match bridge.rest.item_by_barcode(self.barcode.as_str(), ctx).await {
            Ok(item) if is_out(&item) => {
                // The lending request is read after the answer, as on a fresh attempt.
                let mut done = self.done(None, Some(&item));
                done.change.read_back = Some(self.read_back());
                Probe::Done(Box::new(done))
            }
            Ok(_) => Probe::NotDone,
            Err(err) if err.is_not_found() => Probe::NotDone,
            Err(err) => Probe::Unknown(err),
        }
    }

    /// Alma's ids are read after the answer (a follow-up recorded with the commit): Relais waits for Alma's NCIP
    /// answer only, as on a direct link.
    async fn done(&self, _bridge: &Bridge, reply: Option<&Message>, _ctx: &CallContext) -> Done {
        let Some(reply) = reply else { return self.done(None, None) };
        let date_due = match reply {
            Message::CheckOutItemResponse(r) => r.date_due,
            _ => None,
        };
        let mut done = self.done(date_due, None);
        done.change.read_back = Some(self.read_back());
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ships_key_hashes_the_due_instant_as_keys_always_have() {
        let request = RelaisRequestId::new("RL-3001").unwrap();
        let barcode = ItemBarcode::new("39000000002").unwrap();
        let sydney = jiff::tz::TimeZone::get("Australia/Sydney").unwrap();
        let zone_less = jiff::civil::date(2027, 3, 15).at(0, 0, 0, 0).to_zoned(sydney).unwrap().timestamp();
        let utc: Timestamp = "2027-03-14T13:00:00Z".parse().unwrap();
        let key = |due| shipment_key(&request, &barcode, Some("hmac:abc"), Some(due), "").as_str().to_owned();
        assert_eq!(key(zone_less), key(utc), "one due date, however it was written");
        // The value keys stored before answers echoed Relais's date text: it must never change.
        assert_eq!(key(utc), "e9f901335d99581c662d42fdc7727b0584be7693cade314a67a984f82dda212d");
    }

    #[test]
    fn barcodes_too_long_for_the_key_are_keyed_apart_by_hash() {
        let long = |tail: char| ItemBarcode::new(format!("{}{tail}", "9".repeat(251))).unwrap();
        let (a, b) = (by_barcode(&long('a')), by_barcode(&long('b')));
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("item:sha256:"), "{a}");
        assert_eq!(by_barcode(&ItemBarcode::new("39000000001").unwrap()).as_str(), "item:39000000001");
    }
}
