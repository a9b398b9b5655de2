//! What one bridge action asked of Alma: its deadline, and a log of the calls made (for the message history).

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// One HTTP exchange with Alma, as recorded in a message's history. The path is the route template
/// (`/users/{id}`), never the concrete path, because concrete paths carry patron identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlmaCall {
    /// The HTTP method (`GET`, `POST` ...).
    pub method: &'static str,
    /// The route template, free of patron identifiers.
    pub route: &'static str,
    /// HTTP status, or `None` when no answer arrived (timeout, dropped connection).
    pub status: Option<u16>,
    /// How long this attempt took, until its answer arrived or it failed.
    pub millis: u64,
    /// Alma's `trackingId` when it sent an error body, for support cases with Ex Libris.
    pub tracking_id: Option<String>,
}

/// The budget and call log shared by every Alma call made for one incoming message.
#[derive(Debug)]
pub struct CallContext {
    deadline: Instant,
    calls: Mutex<Vec<AlmaCall>>,
    /// The AgencyIds the forwarded message carried as the institution code instead of Relais's.
    replaced_agency_ids: Mutex<Vec<crate::store::ReplacedAgencyId>>,
    /// The dates of Alma's NCIP answer (its instant and text), to pass on as Alma wrote them.
    alma_date_texts: Mutex<Vec<(jiff::Timestamp, String)>>,
}

impl CallContext {
    /// A context whose deadline is `budget` from now: the time the message's sender is still willing to wait.
    pub fn new(budget: Duration) -> Self {
        Self {
            deadline: Instant::now() + budget,
            calls: Mutex::new(Vec::new()),
            replaced_agency_ids: Mutex::default(),
            alma_date_texts: Mutex::default(),
        }
    }

    /// When every Alma call for this message must have finished, retries and limiter waits included.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The time left before the deadline (zero once it has passed): no attempt or pause may run past it.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Adds one finished exchange to the message's call log.
    pub fn record(&self, call: AlmaCall) {
        self.calls.lock().expect("call log lock").push(call);
    }

    /// The calls made so far, in order, for the message's history and the call metrics.
    pub fn calls(&self) -> Vec<AlmaCall> {
        self.calls.lock().expect("call log lock").clone()
    }

    /// Notes what the message forwarded to Alma replaced (the last forward's, should it be sent twice).
    pub fn note_replaced_agency_ids(&self, replaced: Vec<crate::store::ReplacedAgencyId>) {
        *self.replaced_agency_ids.lock().expect("call log lock") = replaced;
    }

    /// Notes the dates Alma's NCIP answer wrote (the last answer's).
    pub fn note_alma_date_texts(&self, texts: Vec<(jiff::Timestamp, String)>) {
        *self.alma_date_texts.lock().expect("call log lock") = texts;
    }

    /// The dates of Alma's last NCIP answer for this message: each instant with Alma's text for it.
    pub fn alma_date_texts(&self) -> Vec<(jiff::Timestamp, String)> {
        self.alma_date_texts.lock().expect("call log lock").clone()
    }

    /// The AgencyIds Relais sent that Alma received as the institution code, for the message's history.
    pub fn replaced_agency_ids(&self) -> Vec<crate::store::ReplacedAgencyId> {
        self.replaced_agency_ids.lock().expect("call log lock").clone()
    }
}
