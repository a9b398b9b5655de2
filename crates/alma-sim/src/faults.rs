//! Switchable faults, so tests can watch the bridge meet Alma's bad days.
//!
//! `POST /admin/faults` takes one [`FaultSpec`] as JSON, e.g.
//! ```json
//! {"kind": "http_500", "for_next": 2, "scope": "rest"}
//! {"kind": "maintenance_503", "scope": "all"}
//! {"kind": "slow", "millis": 1500, "share": 0.5, "path_prefix": "/almaws/v1/users"}
//! {"kind": "drop_connection", "for_next": 1, "scope": "ncip"}
//! {"kind": "fail_after_commit", "then": "drop", "for_next": 1, "scope": "ncip"}
//! {"kind": "general_error", "for_next": 1, "path_prefix": "/almaws/v1/items"}
//! {"kind": "daily_threshold", "scope": "rest"}
//! {"kind": "login_page", "scope": "ncip"}
//! {"kind": "patron_busy", "for_next": 1}
//! {"kind": "patron_busy", "matching": "ILL-7"}
//! ```
//! `for_next: N` fires on the next N matching calls; `share: p` fires on each matching call with
//! probability p; with neither the fault fires on every matching call until `DELETE /admin/faults`.
//! When several faults match a call, the one armed first wins. A kind that belongs to one side
//! (`general_error`, `daily_threshold`: REST; `login_page`, `html_404`, `patron_busy`: NCIP) passes over the other side's calls even when its scope is `all`.

use std::sync::{Arc, Mutex};

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Which calls a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultScope {
    /// Every call, REST and NCIP alike (an Alma-wide outage).
    #[default]
    All,
    /// Only calls to the REST API under `/almaws/v1`.
    Rest,
    /// Only messages to the NCIP responder.
    Ncip,
}

impl FaultScope {
    fn name(&self) -> &'static str {
        match self {
            FaultScope::All => "all",
            FaultScope::Rest => "rest",
            FaultScope::Ncip => "ncip",
        }
    }
}

/// What `fail_after_commit` does once the change is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterCommit {
    /// Close the connection without an answer ("Alma did it but the bridge never heard").
    #[default]
    Drop,
    /// Answer HTTP 500 although the change was made.
    #[serde(rename = "http_500")]
    Http500,
}

/// The kinds of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 500 with Alma's error body (REST) or a bare 500 page (NCIP); nothing changes.
    #[serde(rename = "http_500")]
    Http500,
    /// HTTP 503 maintenance page, as during Alma's monthly maintenance window; nothing changes.
    #[serde(rename = "maintenance_503")]
    Maintenance503,
    /// Answer normally after waiting `millis`.
    Slow {
        /// How long to wait before answering, in milliseconds.
        millis: u64,
    },
    /// Close the connection before doing anything; nothing changes.
    DropConnection,
    /// Do the call (the state changes), then fail as `then` says.
    FailAfterCommit {
        /// How the call fails once it took effect.
        #[serde(default)]
        then: AfterCommit,
    },
    /// REST only: after the key and threshold checks, HTTP 400 with Alma's errorCode `401652` ("General
    /// Error") instead of the answer; nothing changes. Aimed with `path_prefix`, it fails item reads
    /// (`/almaws/v1/items`, `/almaws/v1/bibs`) or user reads (`/almaws/v1/users`).
    GeneralError,
    /// REST only: after the key check, HTTP 429 `DAILY_THRESHOLD`, exactly what the daily cap
    /// (`daily_api_limit`) answers once used up, with `X-Exl-Api-Remaining: 0`; nothing changes.
    DailyThreshold,
    /// NCIP only: HTTP 200 with an HTML sign-in page instead of NCIP, what a bridge whose NCIP URL names
    /// Alma's staff UI or an SSO page gets; nothing changes.
    LoginPage,
    /// NCIP only: HTTP 404 with an HTML page, what a mistyped servlet path gets; nothing changes.
    #[serde(rename = "html_404")]
    Html404,
    /// NCIP only: once the header passes, Alma's answer is a Problem "Patron Record is Busy" in the
    /// service's processing-error scheme, and the message is not acted on.
    PatronBusy,
}

impl FaultKind {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            FaultKind::Http500 => "http_500",
            FaultKind::Maintenance503 => "maintenance_503",
            FaultKind::Slow { .. } => "slow",
            FaultKind::DropConnection => "drop_connection",
            FaultKind::FailAfterCommit { .. } => "fail_after_commit",
            FaultKind::GeneralError => "general_error",
            FaultKind::DailyThreshold => "daily_threshold",
            FaultKind::LoginPage => "login_page",
            FaultKind::Html404 => "html_404",
            FaultKind::PatronBusy => "patron_busy",
        }
    }

    /// The only side a kind can hit (`All`: both); Alma's REST error bodies mean nothing to NCIP.
    pub(crate) fn side(&self) -> FaultScope {
        match self {
            FaultKind::GeneralError | FaultKind::DailyThreshold => FaultScope::Rest,
            FaultKind::LoginPage | FaultKind::Html404 | FaultKind::PatronBusy => FaultScope::Ncip,
            _ => FaultScope::All,
        }
    }
}

/// One fault to arm (the JSON body of `POST /admin/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// What happens to a call the fault hits.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Fire on the next this many matching calls, then disarm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_next: Option<u32>,
    /// Fire on each matching call with this probability (0.0 to 1.0), until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Which calls match: REST, NCIP or both.
    #[serde(default)]
    pub scope: FaultScope,
    /// Only calls whose path starts with this match, e.g. `/almaws/v1/users`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Only calls that contain this text match: in the message body for NCIP (e.g. an ItemId's value), in
    /// the path and query string as sent for REST (e.g. a user id or `item_barcode=…`). Case-sensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching: Option<String>,
}

impl FaultSpec {
    /// A fault on the next `n` calls in `scope`.
    pub fn next(kind: FaultKind, n: u32, scope: FaultScope) -> FaultSpec {
        FaultSpec { kind, for_next: Some(n), share: None, scope, path_prefix: None, matching: None }
    }

    /// A fault on every call in `scope` until the faults are cleared (an outage, a maintenance window).
    pub fn always(kind: FaultKind, scope: FaultScope) -> FaultSpec {
        FaultSpec { kind, for_next: None, share: None, scope, path_prefix: None, matching: None }
    }

    /// A fault on each call in `scope` with probability `share` (0.0 to 1.0), until cleared: a flaky Alma.
    pub fn sometimes(kind: FaultKind, share: f64, scope: FaultScope) -> FaultSpec {
        FaultSpec { kind, for_next: None, share: Some(share), scope, path_prefix: None, matching: None }
    }

    /// Narrows the fault to calls whose path starts with `prefix`, e.g. `/almaws/v1/items`.
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> FaultSpec {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Narrows the fault to calls that contain `text` (see [`FaultSpec::matching`]), so one message, e.g.
    /// the one naming ItemId `ILL-7`, fails while the others pass.
    pub fn matching(mut self, text: impl Into<String>) -> FaultSpec {
        self.matching = Some(text.into());
        self
    }
}

/// A fault as armed, with how many firings it has left.
#[derive(Debug, Clone, Serialize)]
pub struct ArmedFault {
    /// The id [`FaultSwitch::arm`] returned, counting from 1.
    pub id: u64,
    /// The fault as armed; a `for_next` count goes down as it fires.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// How many calls it has hit so far.
    pub fired: u64,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    armed: Vec<ArmedFault>,
}

/// The switchboard shared by the HTTP layer and in-process tests ([`crate::AlmaSim::faults`]).
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch {
    inner: Arc<Mutex<Inner>>,
}

impl FaultSwitch {
    /// Arms a fault; returns its id. Rejects a spec with both `for_next` and `share`, or a share
    /// outside 0.0..=1.0.
    pub fn arm(&self, spec: FaultSpec) -> Result<u64, String> {
        if spec.for_next.is_some() && spec.share.is_some() {
            return Err("give for_next or share, not both".into());
        }
        if let Some(p) = spec.share
            && !(0.0..=1.0).contains(&p)
        {
            return Err(format!("share {p} is outside 0.0..=1.0"));
        }
        if spec.for_next == Some(0) {
            return Err("for_next must be at least 1".into());
        }
        if spec.matching.as_deref() == Some("") {
            return Err("matching must not be empty".into());
        }
        let side = spec.kind.side();
        if side != FaultScope::All && spec.scope != FaultScope::All && spec.scope != side {
            return Err(format!("{} hits {} calls only", spec.kind.name(), side.name()));
        }
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.armed.push(ArmedFault { id, spec, fired: 0 });
        Ok(id)
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.lock().armed.clear();
    }

    /// The faults still armed.
    pub fn list(&self) -> Vec<ArmedFault> {
        self.lock().armed.clone()
    }

    /// The fault to apply to this call, if any; a `for_next` fault is used up by firing. `subject` is
    /// what `matching` looks in: the NCIP body, or the REST path and query.
    pub(crate) fn take(&self, scope: FaultScope, path: &str, subject: &[u8]) -> Option<FaultKind> {
        let mut inner = self.lock();
        let mut rng = rand::rng();
        let pos = inner.armed.iter().position(|f| {
            let spec = &f.spec;
            (spec.scope == FaultScope::All || spec.scope == scope)
                && (spec.kind.side() == FaultScope::All || spec.kind.side() == scope)
                && spec.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && spec.matching.as_deref().is_none_or(|m| contains(subject, m.as_bytes()))
                && spec.share.is_none_or(|p| rng.random_bool(p))
        })?;
        let fault = &mut inner.armed[pos];
        fault.fired += 1;
        let kind = fault.spec.kind;
        if let Some(n) = fault.spec.for_next {
            if n <= 1 {
                inner.armed.remove(pos);
            } else {
                inner.armed[pos].spec.for_next = Some(n - 1);
            }
        }
        Some(kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_next_fires_exactly_n_times_in_scope() {
        let f = FaultSwitch::default();
        f.arm(FaultSpec::next(FaultKind::Http500, 2, FaultScope::Ncip)).unwrap();
        assert_eq!(f.take(FaultScope::Rest, "/almaws/v1/users/x", b""), None);
        assert_eq!(f.take(FaultScope::Ncip, "/view/NCIPServlet", b""), Some(FaultKind::Http500));
        assert_eq!(f.take(FaultScope::Ncip, "/view/NCIPServlet", b""), Some(FaultKind::Http500));
        assert_eq!(f.take(FaultScope::Ncip, "/view/NCIPServlet", b""), None);
    }

    #[test]
    fn a_rest_only_kind_passes_over_ncip_calls_and_cannot_be_aimed_at_them() {
        let f = FaultSwitch::default();
        f.arm(FaultSpec::next(FaultKind::GeneralError, 1, FaultScope::All)).unwrap();
        assert_eq!(f.take(FaultScope::Ncip, "/view/NCIPServlet", b""), None);
        assert_eq!(f.take(FaultScope::Rest, "/almaws/v1/items", b""), Some(FaultKind::GeneralError));
        let err = f.arm(FaultSpec::always(FaultKind::GeneralError, FaultScope::Ncip)).unwrap_err();
        assert_eq!(err, "general_error hits rest calls only");
    }

    #[test]
    fn matching_picks_calls_by_content_and_counts_only_those() {
        let f = FaultSwitch::default();
        f.arm(FaultSpec::next(FaultKind::PatronBusy, 1, FaultScope::Ncip).matching("ILL-7")).unwrap();
        assert_eq!(f.take(FaultScope::Ncip, "/view/NCIPServlet", b"<ItemIdentifierValue>ILL-8<"), None);
        let hit = f.take(FaultScope::Ncip, "/view/NCIPServlet", b"<ItemIdentifierValue>ILL-7<");
        assert_eq!(hit, Some(FaultKind::PatronBusy));
        assert!(f.list().is_empty(), "used up by the one matching call");
        let spec: FaultSpec = serde_json::from_str(r#"{"kind":"general_error","matching":"item_barcode=39"}"#).unwrap();
        assert_eq!(spec, FaultSpec::always(FaultKind::GeneralError, FaultScope::All).matching("item_barcode=39"));
        assert!(f.arm(FaultSpec::always(FaultKind::Http500, FaultScope::All).matching("")).is_err());
    }

    #[test]
    fn json_format_parses_and_bad_specs_are_refused() {
        let spec: FaultSpec =
            serde_json::from_str(r#"{"kind":"slow","millis":5,"share":1.0,"path_prefix":"/almaws/v1/items"}"#).unwrap();
        assert_eq!(spec.kind, FaultKind::Slow { millis: 5 });
        let f = FaultSwitch::default();
        f.arm(spec).unwrap();
        assert_eq!(f.take(FaultScope::Rest, "/almaws/v1/users/a", b""), None);
        assert_eq!(f.take(FaultScope::Rest, "/almaws/v1/items", b""), Some(FaultKind::Slow { millis: 5 }));
        let commit: FaultSpec = serde_json::from_str(r#"{"kind":"fail_after_commit","then":"http_500"}"#).unwrap();
        assert_eq!(commit.kind, FaultKind::FailAfterCommit { then: AfterCommit::Http500 });
        let both = FaultSpec { for_next: Some(1), share: Some(0.5), ..commit };
        assert!(f.arm(both).is_err());
        let never: FaultSpec = serde_json::from_str(r#"{"kind":"http_500","share":0.0}"#).unwrap();
        f.clear();
        f.arm(never).unwrap();
        assert_eq!(f.take(FaultScope::Rest, "/x", b""), None);
    }
}
