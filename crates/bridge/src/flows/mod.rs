//! What the bridge does with each message: one module per NCIP service, written against the [`Bridge`]'s
//! traits (Alma, store, clock) and the typed NCIP messages; never against HTTP, reqwest or DynamoDB types.

mod accept_item;
pub mod bulk;
mod cancel_request_item;
mod check_in_item;
mod check_out_item;
pub mod daily_threshold;
pub mod follow_up;
mod forward;
pub mod front_door;
mod history;
mod ids;
mod lookup_item;
pub mod lookup_user;
pub mod once;
pub mod openurl;
pub mod outbox;
pub mod parse;
pub mod parts;
pub mod patron_id;
mod policy;
pub mod problems;
pub mod reached;
pub mod reconcile;
mod renew_item;
mod request_item;
pub mod service;
pub mod sign_in;
pub mod status;

use tracing::Instrument;

use crate::alma::{AlmaNcip, AlmaRest, CallContext};
use crate::clock::Clock;
use crate::config::Settings;
use crate::ncip::{self, Message, Problem, ReadOptions};
use crate::store::{Outcome, Store};
use std::sync::Arc;

pub use forward::{Failure, FailureKind, REFUSAL_PROBLEM_TYPE};
pub use service::ServiceFlow;

/// Everything a flow may use: the settings and the adapters, assembled once per process from its
/// [`parts::Parts`] by [`Bridge::new`]. Its fields are the crate's own: a host reads the settings through
/// [`Bridge::settings`] and never changes a bridge once it is built.
pub struct Bridge {
    pub(crate) settings: Settings,
    pub(crate) institution_code: String,
    pub(crate) rest: Arc<dyn AlmaRest>,
    pub(crate) ncip: Arc<dyn AlmaNcip>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) read_options: ReadOptions,
    /// How the front door reaches the per-service functions: [`front_door::InProcess`] locally, a Lambda
    /// invoke on AWS; `None` where no front door runs (a per-service function).
    pub(crate) invoker: Option<Arc<dyn front_door::Invoker>>,
    /// How a queued message wakes the deliverer: `None` locally (the worker looks every second); on AWS a
    /// message on the outbox queue.
    pub(crate) doorbell: Option<Arc<dyn outbox::Doorbell>>,
    pub(crate) relais_form: Option<crate::openurl::RelaisForm>,
    pub(crate) identity: Option<openurl::Identity>,
    /// The budget for parking anonymous OpenURL citations.
    pub(crate) anonymous_parking: openurl::ParkingMeter,
    /// NCIP requests refused for a missing or wrong token, summarised in one log line a minute.
    pub(crate) refused_tokens: crate::refusal_summary::RefusalSummary,
    /// Each NCIP partner's settings in Alma (User Identifier Type, resource-sharing library), once read.
    pub(crate) partner_profiles: patron_id::PartnerProfiles,
    /// Patron identifiers recently translated into the partner's type.
    pub(crate) translations: patron_id::Translations,
    /// Whether Alma's NCIP responder has answered this deployment (the outbox's go-live gate).
    pub(crate) alma_reached: reached::Reached,
    /// Rung when a commit leaves follow-up work (Alma's ids to read back), so that the local worker starts it
    /// at once; nobody waits on it in a Lambda function, whose deliverer is woken through the doorbell.
    pub(crate) follow_up_wake: tokio::sync::Notify,
    /// How `POST /reconcile` gets a run: the `reconcile` function's invoke on AWS, this process locally.
    pub(crate) reconcile_trigger: Option<Arc<dyn reconcile::Trigger>>,
}

/// An NCIP answer for Relais, with Alma's tracking id when Alma's refusal is behind it.
#[derive(Debug, Clone)]
pub struct NcipAnswer {
    /// The answer as Relais will read it.
    pub message: Message,
    /// Alma's `trackingId` of the refusal behind a Problem, for the history (Ex Libris support asks for it).
    pub tracking_id: Option<String>,
}

impl NcipAnswer {
    /// An answer with no Alma refusal behind it.
    pub fn new(message: Message) -> Self {
        Self { message, tracking_id: None }
    }
}

/// Answers one NCIP message with `flow` (the body of every per-service Lambda, and what the front door calls
/// in process locally). `endpoint` is the NCIP endpoint the front door accepted the message through.
pub async fn dispatch_service(
    bridge: &Bridge,
    flow: ServiceFlow,
    body: &[u8],
    endpoint: Option<&front_door::Endpoint>,
) -> Vec<u8> {
    let message = match parse::read(body, &bridge.read_options).await {
        Ok(message) => message,
        Err(err) => {
            tracing::info!(error = %err, "unreadable NCIP message");
            return ncip::write(&ncip::error_response(&err, None));
        }
    };
    let service = message.service();
    // Every log line of the message carries its type, and its Relais request id once a flow knows it. The
    // span is attached to the future (not entered), so it follows the work across awaits.
    let span = tracing::info_span!("ncip", message_type = %service, relais_request_id = tracing::field::Empty);
    answer_message(bridge, flow, service, message, once::Inbound { endpoint, ..once::Inbound::from_relais(body) })
        .instrument(span)
        .await
}

async fn answer_message(
    bridge: &Bridge,
    flow: ServiceFlow,
    service: ncip::ServiceKind,
    message: Message,
    inbound: once::Inbound<'_>,
) -> Vec<u8> {
    if flow.service() != service {
        // Only the front door sends here, by type; a mismatch means a misrouted or forged invoke.
        let problem = Problem::unsupported_service(service.element_name());
        return ncip::write(&ncip::problem_response(service, message.initiation_header(), vec![problem]));
    }
    if let Some(problem) = policy::agency_problem(bridge, message.initiation_header()) {
        log_answer(&service, Outcome::Problem);
        return ncip::write(&ncip::problem_response(service, message.initiation_header(), vec![problem]));
    }
    let ctx = CallContext::new(bridge.settings.deadline);
    let answer = flow.answer(bridge, message, inbound, &ctx).await;
    crate::metrics::alma_calls(service.element_name(), &ctx.calls());
    answer
}

/// The one log line per answered message that alarms and dashboards count (docs/operations.md); the labels
/// are [`Outcome::label`], which template.yaml's metric filters name.
pub(crate) fn log_answer(service: &ncip::ServiceKind, outcome: Outcome) {
    let outcome = outcome.label();
    tracing::info!(message_type = %service, outcome, "ncip answered");
    crate::metrics::message_answered(service.element_name(), outcome);
}
