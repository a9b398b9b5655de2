//! Each NCIP service's flow as a value. A per-service Lambda function names its one [`ServiceFlow`] at compile
//! time (`crate::lambda::entry`), so its binary holds that flow and no other; a match over every message type
//! would have linked all eight into every function (docs/benchmarks.md). The local server and the front
//! door's in-process answering take [`ServiceFlow::ALL`], the outbox's deliverer [`ServiceFlow::QUEUEABLE`]
//! (the flows whose `queueable` is set, picked out at compile time so that its binary holds only those).

use super::once::Inbound;
use super::{
    Bridge, accept_item, cancel_request_item, check_in_item, check_out_item, lookup_item, lookup_user, renew_item,
    request_item,
};
use crate::alma::CallContext;
use crate::function::Function;
use crate::ncip::{self, Message, Problem, ServiceKind};
use std::future::Future;
use std::pin::Pin;

/// A flow's answer under way (boxed: the flows' futures differ in type, and one allocation per message is
/// nothing beside its Alma calls).
pub type Answering<'a> = Pin<Box<dyn Future<Output = Vec<u8>> + Send + 'a>>;

type Answer = for<'a> fn(&'a Bridge, Message, Inbound<'a>, &'a CallContext) -> Answering<'a>;

/// One NCIP service's flow: the function that answers it, how, and whether its messages may wait in the outbox.
#[derive(Clone, Copy)]
pub struct ServiceFlow {
    /// The per-service function that answers this service on AWS.
    pub function: Function,
    /// Whether the outbox holds this service's messages while Alma cannot take them: only those whose answer
    /// to Relais needs nothing from Alma (see `once::queueing`).
    pub queueable: bool,
    answer: Answer,
}

impl std::fmt::Debug for ServiceFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ServiceFlow").field(&self.function).field(&self.queueable).finish()
    }
}

impl ServiceFlow {
    /// Patron lookup (answered from Alma's Users API).
    pub const LOOKUP_USER: ServiceFlow = Self::flow(Function::PatronLookup, false, lookup_user);
    /// The borrowing library received an item.
    pub const ACCEPT_ITEM: ServiceFlow = Self::flow(Function::AcceptItem, true, accept_item);
    /// The lending library shipped an item.
    pub const CHECK_OUT_ITEM: ServiceFlow = Self::flow(Function::CheckOutItem, true, check_out_item);
    /// An item went back (borrowing) or came home (lending).
    pub const CHECK_IN_ITEM: ServiceFlow = Self::flow(Function::CheckInItem, true, check_in_item);
    /// A request placed on either side.
    pub const REQUEST_ITEM: ServiceFlow = Self::flow(Function::RequestItem, false, request_item);
    /// A request withdrawn.
    pub const CANCEL_REQUEST_ITEM: ServiceFlow = Self::flow(Function::CancelRequestItem, true, cancel_request_item);
    /// A loan renewed (its answer carries Alma's new due date, so it never waits in the outbox).
    pub const RENEW_ITEM: ServiceFlow = Self::flow(Function::RenewItem, false, renew_item);
    /// An item's standing, read from Alma's REST API.
    pub const LOOKUP_ITEM: ServiceFlow = Self::flow(Function::LookupItem, false, lookup_item);

    const fn flow(function: Function, queueable: bool, answer: Answer) -> ServiceFlow {
        ServiceFlow { function, queueable, answer }
    }

    /// Every flow: a process that answers every service itself (the local server).
    pub const ALL: [ServiceFlow; 8] = [
        Self::LOOKUP_USER,
        Self::ACCEPT_ITEM,
        Self::CHECK_OUT_ITEM,
        Self::CHECK_IN_ITEM,
        Self::REQUEST_ITEM,
        Self::CANCEL_REQUEST_ITEM,
        Self::RENEW_ITEM,
        Self::LOOKUP_ITEM,
    ];

    /// The flows whose messages the outbox holds: [`ServiceFlow::ALL`]'s queueable ones, picked out at compile
    /// time (the deliverer's binary then holds these flows' code and no other's). The length is checked there.
    pub const QUEUEABLE: [ServiceFlow; 4] = Self::queueable();

    const fn queueable<const N: usize>() -> [ServiceFlow; N] {
        let mut picked = [Self::ACCEPT_ITEM; N];
        let (mut from, mut to) = (0, 0);
        while from < Self::ALL.len() {
            if Self::ALL[from].queueable {
                assert!(to < N, "more queueable flows than QUEUEABLE's length");
                picked[to] = Self::ALL[from];
                to += 1;
            }
            from += 1;
        }
        assert!(to == N, "fewer queueable flows than QUEUEABLE's length");
        picked
    }

    /// The service this flow answers.
    pub fn service(self) -> ServiceKind {
        self.function.service().expect("a service flow's function answers a service")
    }

    /// The flow of a per-service function; `None` for the others.
    pub fn of(function: Function) -> Option<ServiceFlow> {
        Self::ALL.into_iter().find(|flow| flow.function == function)
    }

    /// The flow among `flows` that answers `service`.
    pub fn among(flows: &[ServiceFlow], service: &ServiceKind) -> Option<ServiceFlow> {
        flows.iter().copied().find(|flow| flow.service() == *service)
    }

    /// Answers `message`, which the caller has checked is of this flow's service.
    pub fn answer<'a>(
        self,
        bridge: &'a Bridge,
        message: Message,
        inbound: Inbound<'a>,
        ctx: &'a CallContext,
    ) -> Answering<'a> {
        (self.answer)(bridge, message, inbound, ctx)
    }
}

/// The answer to a message handed to the wrong flow (a caller's bug: every caller checks the type first).
fn unsupported(message: Message) -> Vec<u8> {
    let problem = Problem::unsupported_service(message.service().element_name());
    ncip::write(&ncip::problem_response(message.service(), message.initiation_header(), vec![problem]))
}

/// One `Answer` per service: unwrap the message's own type and run its flow (with `inbound` for the flows
/// that forward Relais's bytes to Alma).
macro_rules! answer {
    ($name:ident: $variant:ident => $module:ident) => {
        fn $name<'a>(bridge: &'a Bridge, message: Message, _: Inbound<'a>, ctx: &'a CallContext) -> Answering<'a> {
            Box::pin(async move {
                match message {
                    Message::$variant(message) => $module::handle(bridge, message, ctx).await,
                    other => unsupported(other),
                }
            })
        }
    };
    ($name:ident: $variant:ident => $module:ident, inbound) => {
        fn $name<'a>(
            bridge: &'a Bridge,
            message: Message,
            inbound: Inbound<'a>,
            ctx: &'a CallContext,
        ) -> Answering<'a> {
            Box::pin(async move {
                match message {
                    Message::$variant(message) => $module::handle(bridge, message, inbound, ctx).await,
                    other => unsupported(other),
                }
            })
        }
    };
}

answer!(lookup_user: LookupUser => lookup_user, inbound);
answer!(accept_item: AcceptItem => accept_item, inbound);
answer!(check_out_item: CheckOutItem => check_out_item, inbound);
answer!(check_in_item: CheckInItem => check_in_item, inbound);
answer!(request_item: RequestItem => request_item, inbound);
answer!(cancel_request_item: CancelRequestItem => cancel_request_item, inbound);
answer!(renew_item: RenewItem => renew_item, inbound);
answer!(lookup_item: LookupItem => lookup_item);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_function_has_exactly_one_flow() {
        let services: Vec<Function> = Function::services().collect();
        let flows: Vec<Function> = ServiceFlow::ALL.iter().map(|flow| flow.function).collect();
        assert_eq!(flows, services);
        let queueable: Vec<Function> = ServiceFlow::QUEUEABLE.iter().map(|flow| flow.function).collect();
        let expected =
            [Function::AcceptItem, Function::CheckOutItem, Function::CheckInItem, Function::CancelRequestItem];
        assert_eq!(queueable, expected, "receive, ship, return and cancel wait out Alma's outages");
    }
}
