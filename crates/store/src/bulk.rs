//! Staff actions over many queued messages at once: after an outage that parked dozens of receives, or a
//! partner's messages that Alma refused until its record was fixed, staff re-drive (or give up) every message
//! a filter picks, instead of one at a time.
//!
//! A [`BulkAction`] is recorded when staff confirm it, with the filter and the count they were shown, and is
//! carried out by the deliverer, which walks the open queue in pages and acts on each matching message with the
//! same conditional write as a single staff action. Its cursor is kept in the record as it goes, so a deliverer
//! that stops half-way (a Lambda timeout) is followed by the next one from where it stopped, and the staff page
//! shows how far it got. Only messages queued before the action was confirmed match: what staff counted is what
//! is acted on.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::keys::instant_key;
use crate::queue::{QueueState, QueuedMessage};

/// What a bulk action does to each matching message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkKind {
    /// Tried again at once (a parked message waits again).
    Redrive,
    /// Given up, with the action's note.
    Discard,
}

impl BulkKind {
    /// The action as staff pages and the history name it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Redrive => "redrive",
            Self::Discard => "discard",
        }
    }
}

/// Which open messages a bulk action picks: every given part must match (none given matches every message).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
// A misspelt part would otherwise be dropped, and the filter pick more than staff meant.
#[serde(deny_unknown_fields)]
pub struct QueueFilter {
    /// The NCIP service, e.g. "AcceptItem" (exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    /// The Alma partner code of the sending agency (exact, any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// Words in Alma's last answer (any case), e.g. "Unknown User".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_answer: Option<String>,
    /// Only messages queued at least this many minutes before the action was confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub older_than_minutes: Option<u64>,
    /// Only waiting, or only parked, messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<QueueState>,
}

impl QueueFilter {
    /// Whether `message` is one the filter picks, for an action confirmed at `at`. Closed messages never match.
    pub fn matches(&self, message: &QueuedMessage, at: Timestamp) -> bool {
        if !message.state.is_open() || message.queued_at > at {
            return false;
        }
        if self.state.is_some_and(|state| state != message.state) {
            return false;
        }
        if self.message_type.as_deref().is_some_and(|t| t != message.message_type) {
            return false;
        }
        if let Some(partner) = &self.partner
            && !message.partner.as_ref().is_some_and(|p| p.as_str().eq_ignore_ascii_case(partner.trim()))
        {
            return false;
        }
        if let Some(words) = &self.last_answer {
            let answer = message.last_answer.as_deref().unwrap_or_default().to_lowercase();
            if !answer.contains(&words.trim().to_lowercase()) {
                return false;
            }
        }
        if let Some(minutes) = self.older_than_minutes {
            let age = at.duration_since(message.queued_at).as_secs();
            if age < i64::try_from(minutes.saturating_mul(60)).unwrap_or(i64::MAX) {
                return false;
            }
        }
        true
    }
}

/// Where a bulk action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkState {
    /// Confirmed; the deliverer has not reached the end of the queue yet.
    Pending,
    /// Every matching message was acted on (or had changed meanwhile).
    Done,
}

impl BulkState {
    /// The state as the staff queue page shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
        }
    }
}

/// A staff action over the messages a filter picks, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkAction {
    /// Unique, sorting in the order actions were confirmed.
    pub id: String,
    /// Re-drive or discard.
    pub kind: BulkKind,
    /// Which messages.
    pub filter: QueueFilter,
    /// The fingerprint of the staff token that confirmed it, never the token.
    pub acted_by: String,
    /// What staff wrote; a discard must have one.
    pub note: Option<String>,
    /// A discard also gives up messages still waiting for Alma (not only parked ones).
    pub force: bool,
    /// When staff confirmed it: only messages queued before then match.
    pub confirmed_at: Timestamp,
    /// How many messages matched when staff confirmed it (the count they were shown).
    pub matched: u32,
    /// Where it stands.
    pub state: BulkState,
    /// Messages acted on so far.
    pub done: u32,
    /// Matching messages left alone (they changed meanwhile, or a discard without force met a waiting one).
    pub skipped: u32,
    /// The last queued message id looked at: the next page of the walk starts after it.
    pub cursor: Option<String>,
    /// When the deliverer last wrote its progress.
    pub updated_at: Timestamp,
}

impl BulkAction {
    /// An action confirmed at `now`, matching `matched` messages, not yet started. `nonce` tells apart
    /// actions confirmed in the same instant.
    pub fn new(kind: BulkKind, filter: QueueFilter, matched: u32, now: Timestamp, nonce: &str) -> Self {
        let nonce: String = nonce.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
        Self {
            id: format!("{}-{nonce}", instant_key(now)),
            kind,
            filter,
            acted_by: String::new(),
            note: None,
            force: false,
            confirmed_at: now,
            matched,
            state: BulkState::Pending,
            done: 0,
            skipped: 0,
            cursor: None,
            updated_at: now,
        }
    }

    /// Whether the message may be acted on by this action (a discard without force leaves waiting ones).
    pub fn applies_to(&self, message: &QueuedMessage) -> bool {
        self.filter.matches(message, self.confirmed_at)
            && !(self.kind == BulkKind::Discard && !self.force && message.state == QueueState::Waiting)
    }
}

/// Whether `id` has the shape [`BulkAction::new`] gives ids: checked before an id from a URL reaches a key.
pub fn is_bulk_id(id: &str) -> bool {
    (24..=31).contains(&id.len())
        && id.split_once('-').is_some_and(|(instant, nonce)| {
            instant.bytes().all(|b| b.is_ascii_digit() || b == b'.') && nonce.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{IdempotencyKey, PartnerCode, RelaisRequestId};

    fn message(kind: &str, partner: &str, answer: &str, queued_second: i64, state: QueueState) -> QueuedMessage {
        let request = RelaisRequestId::new("RL-1").unwrap();
        let key = IdempotencyKey::derive(kind, Some(&request), None, answer.as_bytes());
        let mut m = QueuedMessage::new(request, kind, key, Vec::new(), Timestamp::from_second(queued_second).unwrap());
        m.partner = Some(PartnerCode::new(partner).unwrap());
        m.last_answer = Some(answer.to_owned());
        m.state = state;
        m
    }

    #[test]
    fn every_part_of_the_filter_must_match() {
        let at = Timestamp::from_second(3_600).unwrap();
        let parked = message("AcceptItem", "RELAIS", "Unknown User: 2100", 0, QueueState::Parked);
        let filter = |f: QueueFilter| f.matches(&parked, at);
        assert!(filter(QueueFilter::default()));
        assert!(filter(QueueFilter { message_type: Some("AcceptItem".into()), ..Default::default() }));
        assert!(!filter(QueueFilter { message_type: Some("CheckInItem".into()), ..Default::default() }));
        assert!(filter(QueueFilter { partner: Some("relais".into()), ..Default::default() }));
        assert!(!filter(QueueFilter { partner: Some("OTHER".into()), ..Default::default() }));
        assert!(filter(QueueFilter { last_answer: Some("unknown user".into()), ..Default::default() }));
        assert!(!filter(QueueFilter { last_answer: Some("Unknown Item".into()), ..Default::default() }));
        assert!(filter(QueueFilter { older_than_minutes: Some(60), ..Default::default() }));
        assert!(!filter(QueueFilter { older_than_minutes: Some(61), ..Default::default() }));
        assert!(filter(QueueFilter { state: Some(QueueState::Parked), ..Default::default() }));
        assert!(!filter(QueueFilter { state: Some(QueueState::Waiting), ..Default::default() }));
    }

    #[test]
    fn messages_queued_after_confirmation_or_closed_never_match() {
        let at = Timestamp::from_second(100).unwrap();
        let later = message("AcceptItem", "RELAIS", "x", 101, QueueState::Parked);
        let delivered = message("AcceptItem", "RELAIS", "x", 10, QueueState::Delivered);
        assert!(!QueueFilter::default().matches(&later, at));
        assert!(!QueueFilter::default().matches(&delivered, at));
    }

    #[test]
    fn a_discard_without_force_leaves_waiting_messages() {
        let at = Timestamp::from_second(100).unwrap();
        let waiting = message("AcceptItem", "RELAIS", "x", 10, QueueState::Waiting);
        let mut discard = BulkAction::new(BulkKind::Discard, QueueFilter::default(), 1, at, "abc");
        assert!(!discard.applies_to(&waiting));
        discard.force = true;
        assert!(discard.applies_to(&waiting));
        assert!(BulkAction::new(BulkKind::Redrive, QueueFilter::default(), 1, at, "abc").applies_to(&waiting));
    }

    #[test]
    fn ids_pass_their_own_check_and_nothing_else_does() {
        let action = BulkAction::new(BulkKind::Redrive, QueueFilter::default(), 0, Timestamp::UNIX_EPOCH, "a1b2c3d4e5");
        assert!(is_bulk_id(&action.id), "{}", action.id);
        assert!(!is_bulk_id("../BULK") && !is_bulk_id("") && !is_bulk_id(&format!("{}#", action.id)));
    }
}
