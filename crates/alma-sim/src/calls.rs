//! The log of calls the simulator received (`GET /admin/calls`), so tests can count Alma calls per action.
//! Admin paths are not logged.

use std::sync::Mutex;

use serde::Serialize;

/// One received call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CallRecord {
    /// 1, 2, 3 … in arrival order.
    pub seq: u64,
    /// `rest` or `ncip`.
    pub scope: &'static str,
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The path as received, ids filled in, e.g. `/almaws/v1/users/123`.
    pub path: String,
    /// The query string as received, without its `?`, when there was one.
    pub query: Option<String>,
    /// The HTTP status answered; `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
    /// The NCIP service named in the message (e.g. `AcceptItem`), for NCIP calls that parsed.
    pub ncip_service: Option<String>,
    /// The fault that was applied, if any (`http_500`, `drop_connection` …).
    pub fault: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct CallLog {
    calls: Mutex<Vec<CallRecord>>,
}

impl CallLog {
    pub(crate) fn push(&self, mut record: CallRecord) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        record.seq = calls.len() as u64 + 1;
        calls.push(record);
    }

    pub(crate) fn all(&self) -> Vec<CallRecord> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn clear(&self) {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
