//! The reconciler: every night (and on demand) it compares what the bridge told Relais with what Alma shows,
//! and keeps a report of what disagrees for staff (`GET /reconcile`). It fixes nothing in Alma; the one
//! thing it writes besides its report is an Alma id it found that a record lacked (a lending request id the
//! ship could not read back because Alma's task list stops at 100).
//!
//! A pass walks every open record, and those closed in the last 7 days, through the store in its own order.
//! A run ends at its Alma call budget (`RECONCILE_CALL_BUDGET`), at its time cap (`RECONCILE_MAX_MINUTES`) or
//! at the end of the records; the next run resumes at the record after the last one checked, so a pass may
//! take several nights and no record is checked twice in a run. Where a run stands is one store document
//! written over the revision read: a run that finds another one under way, or loses a write to one, stops.
//! Each pass opens with the checks of its own: the open lending task lists of each partner, for lending
//! requests done in Alma alone.

mod check;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::Bridge;
use crate::alma::{AlmaError, CallContext};
use crate::store::{RelaisRequestId, StoreError};
use report::{Drift, DriftKind, Pass, Report, SuggestedAction};

/// Where a run stands, and the pass under way.
const PROGRESS: &str = "progress";
/// The last completed pass.
const LATEST: &str = "report";
/// A record's last check: `check#<relais id>`.
const CHECK_PREFIX: &str = "check#";
/// Records read from the store at a time.
const PAGE: usize = 50;
/// A run marked under way longer ago than this is taken to have died (a Lambda cut at its timeout).
const STALE_RUN: SignedDuration = SignedDuration::from_mins(20);
/// How long a record's last check is kept when no later run replaces it (a record that closed and aged out).
const CHECK_KEPT: SignedDuration = SignedDuration::from_hours(24 * 30);
/// The most time one record's reads may take.
const RECORD_DEADLINE: Duration = Duration::from_secs(20);

/// How `POST /reconcile` gets a run: on AWS the `reconcile` function's asynchronous invoke (which returns at
/// once), locally [`InProcess`]. Chosen when the bridge is assembled, so that the status function's binary links
/// the invoke and not the reconciler itself.
#[async_trait::async_trait]
pub trait Trigger: Send + Sync {
    /// Asks for one run: its summary when it ran here, `None` when it was started elsewhere; the reason in
    /// words when it could not be asked.
    async fn start(&self, bridge: &Arc<Bridge>) -> Result<Option<RunSummary>, String>;
}

/// The local server's trigger: the run happens in this process, in a task of its own, so that a client that
/// hangs up (or the server's request timeout) does not cut it between two saves of its progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

#[async_trait::async_trait]
impl Trigger for InProcess {
    async fn start(&self, bridge: &Arc<Bridge>) -> Result<Option<RunSummary>, String> {
        let settings = &bridge.settings.reconcile;
        let limits = Limits { budget: settings.call_budget, max_run: settings.max_run };
        let bridge = Arc::clone(bridge);
        let run = tokio::spawn(async move { run(&bridge, limits).await });
        run.await.map(Some).map_err(|e| format!("the run's task failed: {e}"))
    }
}

/// The limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most Alma calls the run may make (`RECONCILE_CALL_BUDGET`, 1,000 by default).
    pub budget: u32,
    /// The most time it may take (`RECONCILE_MAX_MINUTES`, 12 by default: well inside a Lambda's 15).
    pub max_run: Duration,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "ended")]
pub enum RunEnd {
    /// It reached the end of the records: the pass is complete and is now the report.
    EndOfRecords,
    /// Its next record could have gone past the call budget.
    Budget,
    /// It reached its time cap.
    TimeCap,
    /// Another run was under way (or took over), so this one did nothing more.
    AnotherRun,
    /// Alma or the store failed; the next run starts again at the record that failed.
    Failed {
        /// What failed, in a few words (never a patron's data).
        error: String,
    },
}

impl RunEnd {
    /// Whether the run completed: ended without error, at its budget, its time cap or the end of the records.
    pub fn completed(&self) -> bool {
        !matches!(self, RunEnd::Failed { .. })
    }
}

/// What one run did: the run's log line, its metrics and `POST /reconcile`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// When the run started.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Timestamp,
    /// How it ended.
    #[serde(flatten)]
    pub end: RunEnd,
    /// The Alma calls it made.
    pub calls: u32,
    /// The records it compared with Alma, in order (each once).
    pub checked: Vec<String>,
    /// Drifts it found, by kind (its own records only).
    pub drifts: BTreeMap<DriftKind, u64>,
}

/// Where the reconciler stands between runs (the `progress` document).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    /// The last record checked in the pass under way (`None`: the pass starts from the first).
    cursor: Option<String>,
    /// The pass under way.
    pass: Pass,
    /// When a run marked itself under way, and its id; cleared when it ends.
    running: Option<(Timestamp, String)>,
    /// The last run's summary.
    last_run: Option<RunSummary>,
}

/// A record's last reconciliation, for its status page (`check#<relais id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    /// When it was compared with Alma.
    pub at: Timestamp,
    /// What disagreed (empty: in step).
    pub drifts: Vec<Drift>,
    /// An Alma id the check found and wrote into the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_lending_id: Option<String>,
}

/// Why the report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store failed.
    #[error("the store could not be read: {0}")]
    Store(#[from] StoreError),
    /// A stored document did not decode.
    #[error("a stored reconciliation document is unreadable: {0}")]
    Unreadable(#[from] serde_json::Error),
}

/// The report staff read: the last completed pass, the pass under way and how the last run ended.
pub async fn report(bridge: &Bridge) -> Result<Report, ReportError> {
    let latest = match bridge.store.reconcile_doc(LATEST).await? {
        Some(doc) => Some(serde_json::from_value::<Pass>(doc.body)?),
        None => None,
    };
    let progress = match bridge.store.reconcile_doc(PROGRESS).await? {
        Some(doc) => serde_json::from_value::<Progress>(doc.body)?,
        None => Progress::default(),
    };
    let under_way = progress.pass.started_at.is_some().then_some(progress.pass);
    Ok(Report { latest, under_way, last_run: progress.last_run })
}

/// A record's last reconciliation, if it has had one.
pub async fn last_check(bridge: &Bridge, id: &RelaisRequestId) -> Result<Option<LastCheck>, ReportError> {
    match bridge.store.reconcile_doc(&format!("{CHECK_PREFIX}{id}")).await? {
        Some(doc) => Ok(Some(serde_json::from_value(doc.body)?)),
        None => Ok(None),
    }
}

/// One run: resumes the pass under way (or starts one), checks records until the budget, the time cap or the
/// end of the records, and saves where it stopped.
pub async fn run(bridge: &Bridge, limits: Limits) -> RunSummary {
    let started_at = bridge.clock.now();
    let started = tokio::time::Instant::now();
    let mut summary = RunSummary {
        started_at,
        ended_at: started_at,
        end: RunEnd::EndOfRecords,
        calls: 0,
        checked: Vec::new(),
        drifts: BTreeMap::new(),
    };
    let end = match Run::claim(bridge, started_at).await {
        Ok(Some(mut run)) => {
            let end = run.work(bridge, limits, started, &mut summary).await;
            summary.end = end.clone();
            summary.ended_at = bridge.clock.now();
            match run.finish(bridge, &summary).await {
                Ok(true) => end,
                Ok(false) => RunEnd::AnotherRun,
                Err(e) => RunEnd::Failed { error: format!("saving progress: {e}") },
            }
        }
        Ok(None) => RunEnd::AnotherRun,
        Err(e) => RunEnd::Failed { error: format!("reading progress: {e}") },
    };
    summary.end = end;
    summary.ended_at = bridge.clock.now();
    log_and_count(&summary);
    summary
}

/// One line per run, and the metrics the alarms watch (`Reconcile` namespace in the EMF line).
fn log_and_count(summary: &RunSummary) {
    let found: u64 = summary.drifts.values().sum();
    tracing::info!(
        ended = ?summary.end,
        completed = summary.end.completed(),
        checked = summary.checked.len(),
        calls = summary.calls,
        drifts = found,
        "reconciliation run"
    );
    let drifts: Vec<(&str, u64)> =
        DriftKind::ALL.iter().map(|k| (k.label(), summary.drifts.get(k).copied().unwrap_or(0))).collect();
    crate::metrics::reconciliation(summary.end.completed(), summary.checked.len(), &drifts);
}

/// A run that holds the progress document.
struct Run {
    progress: Progress,
    revision: u64,
    id: String,
    lists: check::TaskLists,
}

impl Run {
    /// Reads the progress and marks this run under way, unless another live run is.
    async fn claim(bridge: &Bridge, now: Timestamp) -> Result<Option<Run>, ReportError> {
        let (mut progress, expected) = match bridge.store.reconcile_doc(PROGRESS).await? {
            Some(doc) => (serde_json::from_value::<Progress>(doc.body)?, Some(doc.revision)),
            None => (Progress::default(), None),
        };
        if let Some((since, _)) = &progress.running
            && now.duration_since(*since) < STALE_RUN
        {
            return Ok(None);
        }
        let id = format!("{}-{}", now.as_millisecond(), rand::random::<u32>());
        progress.running = Some((now, id.clone()));
        if progress.pass.started_at.is_none() {
            progress.pass = Pass { started_at: Some(now), ..Pass::default() };
        }
        progress.pass.runs += 1;
        let body = serde_json::to_value(&progress)?;
        if !bridge.store.put_reconcile_doc(PROGRESS, &body, expected, None).await? {
            return Ok(None);
        }
        let revision = expected.map_or(1, |r| r + 1);
        Ok(Some(Run { progress, revision, id, lists: check::TaskLists::default() }))
    }

    /// Saves the progress over the revision this run last wrote; false when another run took over.
    async fn save(&mut self, bridge: &Bridge) -> Result<bool, ReportError> {
        let body = serde_json::to_value(&self.progress)?;
        if !bridge.store.put_reconcile_doc(PROGRESS, &body, Some(self.revision), None).await? {
            return Ok(false);
        }
        self.revision += 1;
        Ok(true)
    }

    async fn finish(&mut self, bridge: &Bridge, summary: &RunSummary) -> Result<bool, ReportError> {
        if self.progress.running.as_ref().is_some_and(|(_, id)| *id == self.id) {
            self.progress.running = None;
        }
        self.progress.last_run = Some(summary.clone());
        self.save(bridge).await
    }

    fn spend(&mut self, summary: &mut RunSummary, ctx: &CallContext) {
        let calls = u32::try_from(ctx.calls().len()).unwrap_or(u32::MAX);
        summary.calls = summary.calls.saturating_add(calls);
        self.progress.pass.calls += u64::from(calls);
    }

    async fn work(
        &mut self,
        bridge: &Bridge,
        limits: Limits,
        started: tokio::time::Instant,
        summary: &mut RunSummary,
    ) -> RunEnd {
        let over_time = || started.elapsed() >= limits.max_run;
        if !self.progress.pass.opening_done {
            match self.opening(bridge, limits, summary).await {
                Ok(None) => self.progress.pass.opening_done = true,
                Ok(Some(end)) => return end,
                Err(e) => return RunEnd::Failed { error: e },
            }
        }
        loop {
            let after = match self.progress.cursor.as_deref().map(RelaisRequestId::new).transpose() {
                Ok(after) => after,
                Err(_) => return RunEnd::Failed { error: "the stored cursor is not a Relais id".into() },
            };
            let page = match bridge.store.records_after(after.as_ref(), PAGE).await {
                Ok(page) => page,
                Err(e) => return RunEnd::Failed { error: format!("reading records: {e}") },
            };
            if page.is_empty() {
                return match self.complete_pass(bridge).await {
                    Ok(()) => RunEnd::EndOfRecords,
                    Err(e) => RunEnd::Failed { error: format!("saving the report: {e}") },
                };
            }
            for record in page {
                let now = bridge.clock.now();
                if !check::is_due(&record, now) {
                    self.progress.cursor = Some(record.relais_request_id.as_str().to_owned());
                    continue;
                }
                if over_time() {
                    return RunEnd::TimeCap;
                }
                if summary.calls + check::most_calls(&record, &self.lists) > limits.budget {
                    return RunEnd::Budget;
                }
                if let Err(error) = self.check_one(bridge, &record, now, summary).await {
                    return RunEnd::Failed { error };
                }
            }
            match self.save(bridge).await {
                Ok(true) => {}
                Ok(false) => return RunEnd::AnotherRun,
                Err(e) => return RunEnd::Failed { error: format!("saving progress: {e}") },
            }
        }
    }

    /// Compares one record, records its last check, and moves the cursor past it.
    async fn check_one(
        &mut self,
        bridge: &Bridge,
        record: &crate::store::Correlation,
        now: Timestamp,
        summary: &mut RunSummary,
    ) -> Result<(), String> {
        let id = &record.relais_request_id;
        let messages = bridge.store.queued_for(id).await.map_err(|e| format!("reading the outbox: {e}"))?;
        let ctx = CallContext::new(RECORD_DEADLINE);
        let result = check::record(bridge, record, &messages, &mut self.lists, now, &ctx).await;
        self.spend(summary, &ctx);
        let checked = result.map_err(|e| alma_failure(&e))?;
        let previous = last_check(bridge, id).await.ok().flatten();
        let since = |kind: DriftKind| {
            previous.as_ref().and_then(|p| p.drifts.iter().find(|d| d.kind == kind)).map_or(now, |d| d.since)
        };
        let barcode = record.item_barcodes.first().map(|b| b.as_str().to_owned());
        let side = match record.side {
            crate::store::Side::Borrowing => "borrowing",
            crate::store::Side::Lending => "lending",
        };
        let drifts: Vec<Drift> = checked
            .found
            .into_iter()
            .map(|f| Drift {
                relais_request_id: id.as_str().to_owned(),
                barcode: barcode.clone(),
                side: side.to_owned(),
                kind: f.kind,
                relais_believes: f.relais_believes,
                alma_shows: f.alma_shows,
                since: since(f.kind),
                action: f.action,
            })
            .collect();
        let mut found_lending_id = None;
        if let Some(found) = checked.lending_id {
            let mut alma = record.alma.clone();
            alma.request_id = Some(found.clone());
            // A record that moved meanwhile keeps what its message wrote; the next pass looks again.
            if bridge.store.record_alma_ids(id, &alma, record.version).await.map_err(|e| format!("{e}"))? {
                tracing::info!(relais_request_id = %id, "lending request id found by the reconciler");
                self.progress.pass.ids_found += 1;
                found_lending_id = Some(found);
            }
        }
        let pass = &mut self.progress.pass;
        pass.checked += 1;
        pass.partners.insert(record.partner.as_str().to_owned());
        if drifts.is_empty() {
            pass.in_step += 1;
        }
        for drift in &drifts {
            *summary.drifts.entry(drift.kind).or_default() += 1;
        }
        pass.drifts.extend(drifts.iter().cloned());
        let last = LastCheck { at: now, drifts, found_lending_id };
        let name = format!("{CHECK_PREFIX}{id}");
        let body = serde_json::to_value(&last).map_err(|e| e.to_string())?;
        let expires = now.checked_add(CHECK_KEPT).ok();
        let expected = bridge.store.reconcile_doc(&name).await.ok().flatten().map(|d| d.revision);
        // A lost write here only leaves the status page one check behind.
        let _ = bridge.store.put_reconcile_doc(&name, &body, expected, expires).await;
        summary.checked.push(id.as_str().to_owned());
        self.progress.cursor = Some(id.as_str().to_owned());
        Ok(())
    }

    /// The pass's own checks: each partner's open lending task lists, for requests done in Alma alone. The
    /// partners are the configured ones and those of the records the last pass saw. `Some` ends the run.
    async fn opening(
        &mut self,
        bridge: &Bridge,
        limits: Limits,
        summary: &mut RunSummary,
    ) -> Result<Option<RunEnd>, String> {
        let mut partners: BTreeSet<String> = bridge.settings.ncip.agency_partners.values().cloned().collect();
        partners.extend(bridge.settings.ncip.default_partner_code.iter().cloned());
        if let Ok(Some(doc)) = bridge.store.reconcile_doc(LATEST).await
            && let Ok(latest) = serde_json::from_value::<Pass>(doc.body)
        {
            partners.extend(latest.partners);
        }
        let now = bridge.clock.now();
        let previous = report(bridge).await.ok().and_then(|r| r.latest);
        for partner in partners {
            if summary.calls + self.lists.cost(&partner) > limits.budget {
                return Ok(Some(RunEnd::Budget));
            }
            let ctx = CallContext::new(RECORD_DEADLINE);
            let listed = self.lists.open(bridge, &partner, &ctx).await;
            self.spend(summary, &ctx);
            let Some(listed) = listed.map_err(|e| alma_failure(&e))? else { continue };
            for request in listed {
                if self.known(bridge, &request).await? {
                    continue;
                }
                let relais = request.external_id.clone().unwrap_or_else(|| "-".to_owned());
                let since = previous
                    .as_ref()
                    .and_then(|p| {
                        p.drifts
                            .iter()
                            .find(|d| d.kind == DriftKind::AlmaOnly && d.alma_shows.contains(&request.request_id))
                    })
                    .map_or(now, |d| d.since);
                let drift = Drift {
                    relais_request_id: relais,
                    barcode: request.barcode.clone(),
                    side: "-".into(),
                    kind: DriftKind::AlmaOnly,
                    relais_believes: "no record in the bridge".into(),
                    alma_shows: format!(
                        "lending request {} for {partner}, {}",
                        request.request_id,
                        if request.status.value.is_empty() { "-" } else { &request.status.value }
                    ),
                    since,
                    action: SuggestedAction::ResendFromRelais,
                };
                *summary.drifts.entry(DriftKind::AlmaOnly).or_default() += 1;
                self.progress.pass.drifts.push(drift);
            }
        }
        Ok(None)
    }

    /// Whether the bridge has a record of a lending request Alma lists: by the Relais id it was made with, or
    /// by the item's barcode.
    async fn known(&self, bridge: &Bridge, request: &crate::alma::model::LendingRequest) -> Result<bool, String> {
        if let Some(external) = request.external_id.as_deref().and_then(|e| RelaisRequestId::new(e).ok())
            && bridge.store.get_request(&external).await.map_err(|e| e.to_string())?.is_some()
        {
            return Ok(true);
        }
        if let Some(barcode) = request.barcode.as_deref().and_then(|b| crate::store::ItemBarcode::new(b).ok()) {
            let records = bridge.store.find_by_barcode(&barcode).await.map_err(|e| e.to_string())?;
            return Ok(records.iter().any(|r| r.side == crate::store::Side::Lending));
        }
        Ok(false)
    }

    /// The pass reached the end of the records: it becomes the report, and the next run starts a new one.
    async fn complete_pass(&mut self, bridge: &Bridge) -> Result<(), ReportError> {
        let mut pass = std::mem::take(&mut self.progress.pass);
        pass.completed_at = Some(bridge.clock.now());
        let body = serde_json::to_value(&pass)?;
        // The report is replaced whole; its revision only guards against two completions at once.
        let expected = bridge.store.reconcile_doc(LATEST).await?.map(|d| d.revision);
        bridge.store.put_reconcile_doc(LATEST, &body, expected, None).await?;
        self.progress.cursor = None;
        Ok(())
    }
}

fn alma_failure(error: &AlmaError) -> String {
    format!("Alma: {error}")
}
