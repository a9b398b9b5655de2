//! The driver against every claim outcome and every effect, on the in-memory store with a scripted Alma:
//! milliseconds, no network. A row says what the store holds before the message, what Alma does with it, and
//! what Relais must be answered, whether Alma was asked, and what a later delivery of the same message meets.

use super::*;
use crate::alma::{AlmaNcip, NotConfigured};
use crate::clock::{Clock, ManualClock};
use crate::config::{Env, Host, Settings};
use crate::flows::parts::{AlmaClients, Parts};
use crate::ncip::{CheckInItem, CheckInItemResponse, ItemId, ItemIdentifier};
use crate::store::{
    ClaimToken, EmbeddedStore, ItemBarcode, PartnerCode, RequestStatus, Side, Store, StoreConfig, StoreError,
};
use async_trait::async_trait;
use bridge_store::testing::FaultyStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the store holds for the message's key before it arrives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Before {
    Nothing,
    /// Another delivery claimed it and died: its lease ran out.
    StaleClaim,
    /// Another delivery completed it.
    Completed,
    /// Another delivery holds it right now.
    InFlight,
    /// The store cannot be reached.
    StoreDown,
}

/// What Alma does with the forwarded message.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Alma {
    Accepts,
    /// Answers an NCIP Problem that is not "done before".
    Refuses,
    /// Refuses as "done before" (e.g. Item Not Checked Out).
    RefusesAsDoneBefore,
    /// The connection failed before the message left.
    FailsBeforeSending,
    /// The answer was lost after sending: Alma may have acted.
    LosesTheAnswer,
}

/// What the reconcile probe shows after a takeover.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ProbeShows {
    NotDone,
    Done,
    Unreadable,
}

/// What Relais is answered.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answered {
    Success,
    Refused,
    TryAgain,
}

/// What a later delivery of the same message meets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Afterwards {
    /// The stored answer: the key is done.
    Replay,
    /// The claim was released: a retry acts afresh.
    Free,
    /// The claim is kept until its lease ends, so the retry after it reconciles.
    Held,
    /// Nothing this delivery did is observable (another delivery or the store decides).
    Untouched,
}

struct Row {
    before: Before,
    probe: ProbeShows,
    alma: Alma,
    answered: Answered,
    alma_asked: bool,
    record_written: bool,
    afterwards: Afterwards,
}

const fn row(
    before: Before,
    probe: ProbeShows,
    alma: Alma,
    answered: Answered,
    alma_asked: bool,
    record_written: bool,
    afterwards: Afterwards,
) -> Row {
    Row { before, probe, alma, answered, alma_asked, record_written, afterwards }
}

use Afterwards::*;
use Alma::*;
use Answered::*;
use Before::*;

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // A first delivery: Alma decides.
    row(Nothing, ProbeShows::NotDone, Accepts,             Success,  true,  true,  Replay),
    row(Nothing, ProbeShows::NotDone, Refuses,             Refused,  true,  false, Free),
    // "Done before" proves nothing on a first delivery with no record saying so: passed on as Alma's Problem.
    row(Nothing, ProbeShows::NotDone, RefusesAsDoneBefore, Refused,  true,  false, Free),
    row(Nothing, ProbeShows::NotDone, FailsBeforeSending,  TryAgain, true,  false, Free),
    row(Nothing, ProbeShows::NotDone, LosesTheAnswer,      TryAgain, true,  false, Held),
    // A takeover reads Alma first.
    row(StaleClaim, ProbeShows::Done,       Accepts,             Success,  false, true,  Replay),
    row(StaleClaim, ProbeShows::Unreadable, Accepts,             TryAgain, false, false, Held),
    row(StaleClaim, ProbeShows::NotDone,    Accepts,             Success,  true,  true,  Replay),
    row(StaleClaim, ProbeShows::NotDone,    Refuses,             Refused,  true,  false, Free),
    row(StaleClaim, ProbeShows::NotDone,    RefusesAsDoneBefore, Success,  true,  true,  Replay),
    row(StaleClaim, ProbeShows::NotDone,    FailsBeforeSending,  TryAgain, true,  false, Free),
    row(StaleClaim, ProbeShows::NotDone,    LosesTheAnswer,      TryAgain, true,  false, Held),
    // A done key is answered from the store, whatever Alma would do.
    row(Completed, ProbeShows::NotDone, Accepts,        Success, false, true, Replay),
    row(Completed, ProbeShows::NotDone, Refuses,        Success, false, true, Replay),
    row(Completed, ProbeShows::NotDone, LosesTheAnswer, Success, false, true, Replay),
    // A live duplicate waits, then asks Relais to retry; it never acts.
    row(InFlight, ProbeShows::NotDone, Accepts,        TryAgain, false, false, Untouched),
    row(InFlight, ProbeShows::NotDone, LosesTheAnswer, TryAgain, false, false, Untouched),
    // Without the store there is no promise of exactly-once, so nothing is done.
    row(StoreDown, ProbeShows::NotDone, Accepts, TryAgain, false, false, Untouched),
    row(StoreDown, ProbeShows::NotDone, Refuses, TryAgain, false, false, Untouched),
];

const DONE_BEFORE: &str = "Item Not Checked Out";

/// Alma's NCIP responder doing what the row says, counting the messages it is sent.
struct ScriptedNcip {
    /// What Alma does now (a test may bring it back after an outage).
    alma: std::sync::Mutex<Alma>,
    sent: AtomicUsize,
}

#[async_trait]
impl AlmaNcip for ScriptedNcip {
    async fn send(&self, _body: Vec<u8>, _ctx: &CallContext) -> Result<Message, AlmaError> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        let problem = |problem: Problem| Ok(ncip::problem_response(ServiceKind::CheckInItem, None, vec![problem]));
        let alma = *self.alma.lock().unwrap();
        match alma {
            Accepts => Ok(Message::CheckInItemResponse(CheckInItemResponse::default())),
            Refuses => problem(Problem::unknown_item(&ServiceKind::CheckInItem, "ILL-1")),
            RefusesAsDoneBefore => problem(Problem::new(
                "http://www.niso.org/ncip/v1_0/schemes/processingerrortype/checkinitemprocessingerror.scm",
                DONE_BEFORE,
                "",
            )),
            FailsBeforeSending => Err(AlmaError::Unreachable { sent: false }),
            LosesTheAnswer => Err(AlmaError::Timeout { sent: true }),
        }
    }
}

/// A service that says only what the row needs: its probe's finding and its "done before" Problem.
struct ScriptedService {
    outgoing: Message,
    /// The bytes "Relais" sent.
    received: Vec<u8>,
    probe: ProbeShows,
    change: RecordChange,
}

#[async_trait]
impl ExactlyOnce for ScriptedService {
    fn outgoing(&self) -> &Message {
        &self.outgoing
    }

    fn done_problems(&self) -> &'static [&'static str] {
        &[DONE_BEFORE]
    }

    async fn probe(&self, _bridge: &Bridge, _ctx: &CallContext) -> Probe {
        match self.probe {
            ProbeShows::NotDone => Probe::NotDone,
            ProbeShows::Done => Probe::Done(Box::new(self.done_now())),
            ProbeShows::Unreadable => Probe::Unknown(AlmaError::Timeout { sent: true }),
        }
    }

    async fn done(&self, _bridge: &Bridge, _reply: Option<&Message>, _ctx: &CallContext) -> Done {
        self.done_now()
    }
}

impl ScriptedService {
    fn done_now(&self) -> Done {
        Done { response: Message::CheckInItemResponse(CheckInItemResponse::default()), change: self.change.clone() }
    }
}

/// A store that is down: every call fails, as when DynamoDB is unreachable.
fn down_store(inner: Arc<dyn Store>) -> Arc<dyn Store> {
    Arc::new(FaultyStore::new(inner, |_| {
        Some(StoreError::Unavailable { operation: "claim", cause: "the test's store is down" })
    }))
}

struct Scene {
    bridge: Bridge,
    store: Arc<EmbeddedStore>,
    ncip: Arc<ScriptedNcip>,
    clock: Arc<ManualClock>,
    key: IdempotencyKey,
    request: RelaisRequestId,
    service: ScriptedService,
}

impl Scene {
    fn new(row: &Row) -> Scene {
        let settings = Settings::from_env(&Env::from_pairs([("ALMA_PARTNER_CODE", "RELAIS")]), Host::Local)
            .expect("test settings");
        let store = Arc::new(EmbeddedStore::in_memory(StoreConfig::default()).expect("in-memory store"));
        let ncip = Arc::new(ScriptedNcip { alma: std::sync::Mutex::new(row.alma), sent: AtomicUsize::new(0) });
        let clock = Arc::new(ManualClock::default());
        let served: Arc<dyn Store> = if row.before == StoreDown { down_store(store.clone()) } else { store.clone() };
        let alma =
            AlmaClients { institution_code: "01DEMO_INST".into(), rest: Arc::new(NotConfigured), ncip: ncip.clone() };
        let mut parts = Parts::bare(settings, alma, served);
        parts.clock = clock.clone();
        let bridge = Bridge::new(parts).expect("bridge assembles");
        bridge.alma_reached.assume_answered();
        let request = RelaisRequestId::new("RL-1").unwrap();
        let barcode = ItemBarcode::new("ILL-1").unwrap();
        let key = IdempotencyKey::derive("CheckInItem", Some(&request), Some(&barcode), b"");
        let message = CheckInItem {
            item_id: ItemId { item_identifier_value: ItemIdentifier::new("ILL-1"), ..ItemId::default() },
            ..CheckInItem::default()
        };
        let start = Start::New {
            side: Side::Borrowing,
            partner: PartnerCode::new("RELAIS").unwrap(),
            status: RequestStatus::OnHoldShelf,
        };
        let mut change = RecordChange::new(request.clone(), start);
        change.status = Some(RequestStatus::Returned);
        change.barcode = Some(barcode);
        let outgoing = Message::CheckInItem(message);
        let received = ncip::write(&outgoing);
        let service = ScriptedService { outgoing, received, probe: row.probe, change };
        Scene { bridge, store, ncip, clock, key, request, service }
    }

    async fn deliver(&self) -> String {
        let action = Action {
            service: ServiceKind::CheckInItem,
            key: self.key.clone(),
            request: self.request.clone(),
            header: None,
            inbound: Inbound::from_relais(&self.service.received),
        };
        let ctx = CallContext::new(Duration::from_secs(8));
        String::from_utf8(carry_out(&self.bridge, action, &self.service, &ctx).await).expect("UTF-8 NCIP")
    }

    /// Puts the store in the row's `before` state, as other deliveries of the same message would have.
    async fn prepare(&self, before: Before) {
        let other = ClaimToken::new("another-delivery").unwrap();
        let now = self.clock.now();
        match before {
            Nothing | StoreDown => {}
            StaleClaim => {
                let then = now - jiff::SignedDuration::from_secs(CLAIM_LEASE.as_secs() as i64 + 10);
                assert_eq!(
                    self.store.claim(&self.key, &other, then, CLAIM_LEASE).await.unwrap(),
                    ClaimOutcome::Claimed
                );
            }
            InFlight => {
                assert_eq!(self.store.claim(&self.key, &other, now, CLAIM_LEASE).await.unwrap(), ClaimOutcome::Claimed);
            }
            Completed => {
                assert_eq!(self.store.claim(&self.key, &other, now, CLAIM_LEASE).await.unwrap(), ClaimOutcome::Claimed);
                let record = self.service.change.clone().apply(None, now);
                let history = HistoryEntry::new("CheckInItem", now, Outcome::Success);
                let body = ncip::write(&self.service.done_now().response);
                let commit = Commit {
                    key: &self.key,
                    owner: &other,
                    response: &body,
                    record: &record,
                    expected_version: None,
                    history: &history,
                    now,
                    follow_up: None,
                };
                assert!(matches!(self.store.commit(commit).await.unwrap(), CommitOutcome::Committed { .. }));
            }
        }
    }

    /// What a later delivery of the same message meets in the store, without acting.
    async fn afterwards(&self) -> Afterwards {
        let probe = ClaimToken::new("a-later-delivery").unwrap();
        match self.store.claim(&self.key, &probe, self.clock.now(), CLAIM_LEASE).await.unwrap() {
            ClaimOutcome::Done(_) => Replay,
            ClaimOutcome::Claimed => Free,
            ClaimOutcome::InFlight { .. } => Held,
            ClaimOutcome::TookOverStale { .. } => Held,
        }
    }
}

fn answered(body: &str) -> Answered {
    if body.contains("Temporary Processing Failure") {
        TryAgain
    } else if body.contains("<Problem>") || body.contains("Problem>") {
        Refused
    } else {
        Success
    }
}

#[tokio::test(start_paused = true)]
async fn the_driver_answers_every_claim_outcome_against_every_effect() {
    for (index, row) in TABLE.iter().enumerate() {
        let scene = Scene::new(row);
        scene.prepare(row.before).await;
        let body = scene.deliver().await;
        let context = format!("row {index}: {:?} / probe {:?} / Alma {:?}: {body}", row.before, row.probe, row.alma);
        assert_eq!(answered(&body), row.answered, "{context}");
        assert_eq!(scene.ncip.sent.load(Ordering::SeqCst) > 0, row.alma_asked, "{context}: Alma asked?");
        let record = scene.store.get_request(&scene.request).await.unwrap();
        assert_eq!(record.is_some(), row.record_written, "{context}: record written?");
        if let Some(record) = record {
            assert_eq!(record.status, RequestStatus::Returned, "{context}: the change was applied");
        }
        if row.afterwards != Untouched {
            assert_eq!(scene.afterwards().await, row.afterwards, "{context}: what a retry meets");
        }
        if row.before != StoreDown {
            let history = scene.store.history(&scene.request).await.unwrap();
            assert!(!history.is_empty(), "{context}: every answered delivery leaves a history entry");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_replay_answers_the_stored_bytes_and_only_the_first_is_in_the_history() {
    let row = &TABLE[0];
    let scene = Scene::new(row);
    let first = scene.deliver().await;
    for _ in 0..3 {
        assert_eq!(scene.deliver().await, first, "a retry gets the very answer the first delivery got");
    }
    assert_eq!(scene.ncip.sent.load(Ordering::SeqCst), 1, "Alma was asked once");
    let outcomes: Vec<Outcome> = scene.store.history(&scene.request).await.unwrap().iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, [Outcome::Success, Outcome::Replayed]);
}

#[tokio::test(start_paused = true)]
async fn a_done_before_problem_confirms_a_repeat_the_record_expected() {
    struct Repeat(ScriptedService);
    #[async_trait]
    impl ExactlyOnce for Repeat {
        fn outgoing(&self) -> &Message {
            self.0.outgoing()
        }
        fn repeat_expected(&self) -> bool {
            true
        }
        fn done_problems(&self) -> &'static [&'static str] {
            &[DONE_BEFORE]
        }
        async fn done(&self, bridge: &Bridge, reply: Option<&Message>, ctx: &CallContext) -> Done {
            self.0.done(bridge, reply, ctx).await
        }
    }
    let row = row(Nothing, ProbeShows::NotDone, RefusesAsDoneBefore, Success, true, true, Replay);
    let scene = Scene::new(&row);
    let action = Action {
        service: ServiceKind::CheckInItem,
        key: scene.key.clone(),
        request: scene.request.clone(),
        header: None,
        inbound: Inbound::from_relais(&scene.service.received),
    };
    let ctx = CallContext::new(Duration::from_secs(8));
    let repeat = Repeat(ScriptedService {
        outgoing: scene.service.outgoing.clone(),
        received: scene.service.received.clone(),
        probe: row.probe,
        change: scene.service.change.clone(),
    });
    let body = String::from_utf8(carry_out(&scene.bridge, action, &repeat, &ctx).await).unwrap();
    assert_eq!(answered(&body), Success, "{body}");
    assert_eq!(scene.afterwards().await, Replay);
}

/// The scripted service as a message that may wait in the outbox (its answer needs nothing from Alma).
struct Waitable<'a>(&'a ScriptedService);

#[async_trait]
impl ExactlyOnce for Waitable<'_> {
    fn outgoing(&self) -> &Message {
        self.0.outgoing()
    }
    fn queued_answer(&self) -> Option<Message> {
        Some(self.0.done_now().response)
    }
    fn done_problems(&self) -> &'static [&'static str] {
        &[DONE_BEFORE]
    }
    async fn probe(&self, bridge: &Bridge, ctx: &CallContext) -> Probe {
        self.0.probe(bridge, ctx).await
    }
    async fn done(&self, bridge: &Bridge, reply: Option<&Message>, ctx: &CallContext) -> Done {
        self.0.done(bridge, reply, ctx).await
    }
}

impl Scene {
    fn action<'a>(&'a self, key: &IdempotencyKey, origin: Origin<'a>) -> Action<'a> {
        Action {
            service: ServiceKind::CheckInItem,
            key: key.clone(),
            request: self.request.clone(),
            header: None,
            inbound: Inbound { received: &self.service.received, origin, endpoint: None },
        }
    }

    async fn send(&self, key: &IdempotencyKey, service: &dyn ExactlyOnce) -> String {
        let ctx = CallContext::new(Duration::from_secs(8));
        let body = carry_out(&self.bridge, self.action(key, Origin::Relais), service, &ctx).await;
        String::from_utf8(body).expect("UTF-8 NCIP")
    }

    async fn queued(&self) -> Vec<crate::store::QueuedMessage> {
        self.store.queued_for(&self.request).await.unwrap()
    }
}

/// A waitable message against each of Alma's effects: what Relais is answered, whether it waits, and whether
/// the first attempt's fate is left for delivery to read back from Alma.
#[tokio::test(start_paused = true)]
async fn a_message_that_may_wait_is_queued_exactly_when_alma_cannot_take_it() {
    #[rustfmt::skip]
    let rows = [
        // Alma: answered, Alma asked, record written, queued, queued to read Alma first
        (Accepts,            Success, true, true,  false, false),
        (Refuses,            Refused, true, false, false, false),
        (FailsBeforeSending, Success, true, false, true,  false),
        (LosesTheAnswer,     Success, true, false, true,  true),
    ];
    for (alma, expected, asked, written, queued, reconcile) in rows {
        let scene = Scene::new(&row(Nothing, ProbeShows::NotDone, alma, expected, asked, written, Replay));
        let body = scene.send(&scene.key, &Waitable(&scene.service)).await;
        let context = format!("Alma {alma:?}: {body}");
        assert_eq!(answered(&body), expected, "{context}");
        assert_eq!(scene.ncip.sent.load(Ordering::SeqCst) > 0, asked, "{context}");
        assert_eq!(scene.store.get_request(&scene.request).await.unwrap().is_some(), written, "{context}");
        let waiting = scene.queued().await;
        assert_eq!(!waiting.is_empty(), queued, "{context}");
        if let Some(message) = waiting.first() {
            assert_eq!(message.reconcile, reconcile, "{context}");
            assert_eq!(message.body, scene.service.received, "{context}: Relais's bytes are kept as sent");
            // Relais's resend gets the answer it got; the message is held once.
            assert_eq!(scene.send(&scene.key, &Waitable(&scene.service)).await, body, "{context}");
            assert_eq!(scene.queued().await.len(), 1, "{context}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn behind_a_waiting_message_the_next_one_waits_and_one_that_cannot_wait_is_sent_back() {
    let scene = Scene::new(&row(Nothing, ProbeShows::NotDone, FailsBeforeSending, Success, true, false, Replay));
    scene.send(&scene.key, &Waitable(&scene.service)).await;
    *scene.ncip.alma.lock().unwrap() = Accepts;
    let sent_before = scene.ncip.sent.load(Ordering::SeqCst);

    let next = IdempotencyKey::derive("CheckInItem", Some(&scene.request), None, b"the next message");
    let body = scene.send(&next, &Waitable(&scene.service)).await;
    assert_eq!(answered(&body), Success, "{body}");
    let cannot_wait = IdempotencyKey::derive("RenewItem", Some(&scene.request), None, b"needs Alma's answer");
    let body = scene.send(&cannot_wait, &scene.service).await;
    assert_eq!(answered(&body), TryAgain, "{body}");
    assert_eq!(scene.ncip.sent.load(Ordering::SeqCst), sent_before, "neither went to Alma ahead of the first");
    assert_eq!(scene.queued().await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn delivery_acts_once_when_alma_is_back_and_a_repeat_delivery_changes_nothing() {
    let scene = Scene::new(&row(Nothing, ProbeShows::NotDone, FailsBeforeSending, Success, true, false, Replay));
    scene.send(&scene.key, &Waitable(&scene.service)).await;
    *scene.ncip.alma.lock().unwrap() = Accepts;
    let queued = scene.queued().await.remove(0);
    let ctx = CallContext::new(Duration::from_secs(8));
    carry_out(&scene.bridge, scene.action(&scene.key, Origin::Outbox(&queued)), &Waitable(&scene.service), &ctx).await;
    assert_eq!(scene.ncip.sent.load(Ordering::SeqCst), 2, "the failed attempt, then the delivery");
    let record = scene.store.get_request(&scene.request).await.unwrap().expect("the record, once Alma took it");
    assert_eq!(record.status, RequestStatus::Returned);
    let delivered = scene.queued().await.remove(0);
    assert_eq!(delivered.state, crate::store::QueueState::Delivered);
    // The same queued message handed over again (a second deliverer read it before the first finished).
    carry_out(&scene.bridge, scene.action(&scene.key, Origin::Outbox(&queued)), &Waitable(&scene.service), &ctx).await;
    assert_eq!(scene.ncip.sent.load(Ordering::SeqCst), 2, "not sent again");
    let outcomes: Vec<Outcome> = scene.store.history(&scene.request).await.unwrap().iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, [Outcome::Queued, Outcome::Delivered]);
}

/// A due date is answered in Relais's text when it is Relais's instant (read in the library's zone), in Alma's
/// text when Alma chose another, and in UTC form when no text came with it.
#[test]
fn a_due_date_is_answered_in_relais_text_else_in_almas() {
    let env = Env::from_pairs([("ALMA_PARTNER_CODE", "RELAIS"), ("LIBRARY_TIME_ZONE", "Australia/Sydney")]);
    let bridge = crate::flows::parts::offline_bridge(&env);
    let received = b"<NCIPMessage xmlns=\"http://www.niso.org/2008/ncip\"><RenewItem>\
<ItemId><ItemIdentifierValue>B1</ItemIdentifierValue></ItemId><DesiredDateDue>2027-03-15T00:00:00</DesiredDateDue>\
</RenewItem></NCIPMessage>";
    let request = RelaisRequestId::new("RL-1").unwrap();
    let action = Action {
        service: ServiceKind::RenewItem,
        key: IdempotencyKey::derive("RenewItem", Some(&request), None, b""),
        request,
        header: None,
        inbound: Inbound::from_relais(received),
    };
    let answer = |due: &str| {
        Message::RenewItemResponse(crate::ncip::RenewItemResponse {
            date_due: Some(due.parse().unwrap()),
            ..Default::default()
        })
    };
    let written = |message: &Message, ctx: &CallContext| {
        String::from_utf8(answer_as_sent(&bridge, &action, message, ctx)).expect("UTF-8 NCIP")
    };
    let ctx = CallContext::new(Duration::from_secs(8));
    // Sydney midnight of the 15th is 13:00 UTC on the 14th.
    let relais = written(&answer("2027-03-14T13:00:00Z"), &ctx);
    assert!(relais.contains("<ns1:DateDue>2027-03-15T00:00:00</ns1:DateDue>"), "{relais}");
    let alma_chose: jiff::Timestamp = "2027-04-01T12:59:00Z".parse().unwrap();
    assert!(written(&answer("2027-04-01T12:59:00Z"), &ctx).contains("<ns1:DateDue>2027-04-01T12:59:00Z<"));
    ctx.note_alma_date_texts(vec![(alma_chose, "2027-04-01T23:59:00.000+11:00".into())]);
    let alma = written(&answer("2027-04-01T12:59:00Z"), &ctx);
    assert!(alma.contains("<ns1:DateDue>2027-04-01T23:59:00.000+11:00</ns1:DateDue>"), "{alma}");
}
