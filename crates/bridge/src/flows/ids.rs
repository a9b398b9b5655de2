//! Reading the identifiers of an NCIP message into the store's checked types, and the record updates every
//! flow shares.

use super::policy;
use crate::flows::Bridge;
use crate::ncip::{self, InitiationHeader, Problem, ServiceKind};
use crate::store::{ItemBarcode, Outcome, PartnerCode, PatronId, RelaisRequestId};

/// The identifiers a message carries, checked (non-empty, bounded length).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ids {
    pub request: Option<RelaisRequestId>,
    pub item: Option<ItemBarcode>,
    pub patron: Option<PatronId>,
}

impl Ids {
    /// Empty values count as absent (vendors send `<RequestIdentifierValue/>`); over-long ones are refused.
    pub(crate) fn read(request: Option<&str>, item: Option<&str>, patron: Option<&str>) -> Result<Ids, Problem> {
        fn checked<T>(
            value: Option<&str>,
            path: &str,
            make: fn(String) -> Result<T, crate::store::InvalidId>,
        ) -> Result<Option<T>, Problem> {
            match value.map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => make(v.to_owned()).map(Some).map_err(|e| {
                    Problem::element_rule_violated(path, v.chars().take(64).collect::<String>(), e.to_string())
                }),
            }
        }
        // The bridge files a message without a request id under `item:<barcode>`; a Relais id of that shape
        // would share (and overwrite) such a record.
        if let Some(id) = request.map(str::trim).filter(|id| is_item_key(id)) {
            let id: String = id.chars().take(64).collect();
            return Err(Problem::element_rule_violated(
                "RequestId/RequestIdentifierValue",
                id,
                format!("a Relais request id may not start with {ITEM_PREFIX:?}, which the bridge reserves"),
            ));
        }
        if let Some(id) = patron.map(str::trim).filter(|id| looks_like_pseudonym(id)) {
            return Err(Problem::element_rule_violated(
                "UserId/UserIdentifierValue",
                id,
                format!(
                    "a patron id may not start with {PSEUDONYM_PREFIX:?}, which the bridge reserves for its pseudonyms"
                ),
            ));
        }
        Ok(Ids {
            request: checked(request, "RequestId/RequestIdentifierValue", RelaisRequestId::new)?,
            item: checked(item, "ItemId/ItemIdentifierValue", ItemBarcode::new)?,
            patron: checked(patron, "UserId/UserIdentifierValue", PatronId::new)?,
        })
    }
}

/// The prefix of the records the bridge keeps by item for messages without a Relais request id.
pub(crate) const ITEM_PREFIX: &str = "item:";

/// Whether `id` has the shape of a record the bridge keeps by item.
fn is_item_key(id: &str) -> bool {
    id.get(..ITEM_PREFIX.len()).is_some_and(|prefix| prefix.eq_ignore_ascii_case(ITEM_PREFIX))
}

/// A value a service cannot do without, or the Problem that says so (`path` names the element for Relais staff).
pub(crate) fn required<T: Clone>(value: &Option<T>, path: &str, why: &str) -> Result<T, Problem> {
    value.clone().ok_or_else(|| Problem::needed_data_missing(path, why))
}

/// Answers with a Problem at once (nothing claimed, nothing sent to Alma).
pub(crate) fn refuse_now(service: &ServiceKind, header: Option<&InitiationHeader>, problem: Problem) -> Vec<u8> {
    // A refusal the sender should retry (the store was unavailable) counts as a temporary failure for the alarms.
    let outcome = if problem.type_name() == "Temporary Processing Failure" {
        Outcome::TemporaryFailure
    } else {
        Outcome::Problem
    };
    super::log_answer(service, outcome);
    ncip::write(&ncip::problem_response(service.clone(), header, vec![problem]))
}

/// The partner code recorded for a request ("RELAIS" style), or `unknown` when none is known.
pub(crate) fn partner(bridge: &Bridge, header: Option<&InitiationHeader>) -> PartnerCode {
    policy::partner_code(bridge, header)
        .and_then(|code| PartnerCode::new(code).ok())
        .unwrap_or_else(|| PartnerCode::new("unknown").expect("constant is valid"))
}

/// The meaningful content of a message for its idempotency key: parts joined unambiguously.
pub(crate) fn digest_input(parts: &[Option<&str>]) -> String {
    parts.iter().map(|p| p.map_or_else(|| "-".to_owned(), |v| format!("{}:{v}", v.len()))).collect::<Vec<_>>().join("|")
}

/// The prefix of a patron pseudonym as the store keeps it.
const PSEUDONYM_PREFIX: &str = "hmac:";

/// A patron as the store keeps it: the keyed hash of the id (`LOG_HASH_KEY`) that the logs carry too, never the
/// barcode or user id itself. Requests of one patron still share it; Alma's request shows the person.
///
/// Its own type so that being "already hashed" is a fact about where a value came from, never about what it
/// looks like: a sender's `hmac:<id>` was once taken for a pseudonym and stored unhashed (a loan could be put
/// on another patron's pseudonym). A [`RecordChange`](super::once::RecordChange) holds only this type, and the
/// only way to make one is from an id the bridge read, which it hashes before anything reads or stores it.
///
/// The hash is taken when first needed (the record is written, a key names the patron), not when the message
/// is read: a repeat of a message already done is answered from the store and never needs it.
#[derive(Clone)]
pub(crate) struct Pseudonym {
    named: PatronId,
    key: crate::config::Secret,
    hashed: std::sync::OnceLock<PatronId>,
}

impl Pseudonym {
    /// The pseudonym of `patron`, an id as a message named it.
    pub(crate) fn of(bridge: &Bridge, patron: &PatronId) -> Pseudonym {
        Pseudonym {
            named: patron.clone(),
            key: bridge.settings.log_hash_key.clone(),
            hashed: std::sync::OnceLock::new(),
        }
    }

    fn hash(&self) -> PatronId {
        let hashed = crate::logging::pseudonym(&self.key, self.named.as_str());
        PatronId::new(format!("{PSEUDONYM_PREFIX}{hashed}")).expect("a prefix and 16 hex digits is an id")
    }

    /// The value the record stores.
    pub(crate) fn into_stored(self) -> PatronId {
        let Pseudonym { hashed, .. } = &self;
        hashed.get().cloned().unwrap_or_else(|| self.hash())
    }

    /// The stored text (a record's key may name the patron by it).
    pub(crate) fn as_str(&self) -> &str {
        self.hashed.get_or_init(|| self.hash()).as_str()
    }
}

/// Only the hash: a record change's debug output must never show the id the patron was named by.
impl std::fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pseudonym").field(&self.as_str()).finish()
    }
}

impl PartialEq for Pseudonym {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Pseudonym {}

/// Whether a patron id as sent has the shape of a stored pseudonym: refused at input, so that nothing a sender
/// writes can be mistaken for one in the store or on the staff pages.
pub(crate) fn looks_like_pseudonym(id: &str) -> bool {
    id.get(..PSEUDONYM_PREFIX.len()).is_some_and(|prefix| prefix.eq_ignore_ascii_case(PSEUDONYM_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patron_id_shaped_like_a_pseudonym_is_refused_at_input() {
        for forged in ["hmac:0123456789abcdef", "HMAC:P-1", "  hmac:P-1"] {
            let problem = Ids::read(None, Some("B1"), Some(forged)).unwrap_err();
            assert_eq!(problem.type_name(), "Element Rule Violated", "{forged}");
            assert_eq!(problem.element.as_deref(), Some("UserId/UserIdentifierValue"));
        }
        let ids = Ids::read(None, Some("B1"), Some("P-hmac:1")).unwrap();
        assert_eq!(ids.patron.unwrap().as_str(), "P-hmac:1");
    }

    #[test]
    fn a_pseudonym_shows_and_stores_only_the_keyed_hash() {
        use crate::config::Env;
        let env = Env::from_pairs([("ALMA_PARTNER_CODE", "RELAIS"), ("LOG_HASH_KEY", "a-log-hash-key")]);
        let bridge = crate::flows::parts::offline_bridge(&env);
        let id = PatronId::new("21000000001").unwrap();
        let expected = format!("hmac:{}", crate::logging::pseudonym(&bridge.settings.log_hash_key, "21000000001"));
        let pseudonym = Pseudonym::of(&bridge, &id);
        assert!(!format!("{pseudonym:?}").contains("21000000001"), "{pseudonym:?}");
        assert_eq!(pseudonym.as_str(), expected);
        assert_eq!(Pseudonym::of(&bridge, &id).into_stored().as_str(), expected, "taken when stored, unread before");
        assert_eq!(pseudonym.clone().into_stored().as_str(), expected);
        assert_eq!(pseudonym, Pseudonym::of(&bridge, &id));
    }
}
