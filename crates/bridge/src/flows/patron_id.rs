//! The patron identifier Alma's NCIP responder will recognise.
//!
//! Alma matches a message's `UserIdentifierValue` against one identifier of the user only: the partner's
//! User Identifier Type (Fulfillment > Resource Sharing > Partners > Parameters), with no fallback. Relais
//! keeps whatever LookupUser answered as the patron's id and sends it back in AcceptItem and RequestItem, and
//! patrons type whatever they know (a barcode, a university id). So the bridge answers LookupUser with the
//! value of that type, and translates the UserId of a borrowing-side message into it before forwarding.
//!
//! The type comes from `ALMA_USER_ID_TYPE`, else from the partner record, read once per process and partner
//! (it changes only when staff reconfigure the partner; a restart or a new Lambda instance picks that up).
//! A translation is kept for [`TRANSLATION_TTL`] in the process's memory (never stored), so that Relais's
//! resend of a message, or the outbox delivering one it queued, costs no second user read.
//!
//! An id LookupUser answered is already of the partner's type, and it is the id Relais sends back, so
//! LookupUser [`remember`]s it in the store as a keyed hash (`LOG_HASH_KEY`, never the id) for
//! `PATRON_REMEMBER_DAYS`, and [`translate`] forwards a remembered id without reading the user.

use super::Bridge;
use crate::alma::model::{AlmaUser, NcipDetails};
use crate::alma::{AlmaError, CallContext};
use crate::store::PatronKey;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a translation is trusted: long enough for Relais's resends and the outbox's first retries, short
/// enough that a barcode staff just reissued is read afresh within minutes.
pub const TRANSLATION_TTL: SignedDuration = SignedDuration::from_mins(5);

/// At most this many translations are kept (a busy hour of borrowing messages); past it the oldest go.
const TRANSLATIONS_KEPT: usize = 1024;

/// The code the bridge keys the primary id's translations under, and the spelling `ALMA_USER_ID_TYPE`
/// documents beside Alma's own.
pub const PRIMARY_ID: &str = "PRIMARY_ID";

/// Whether a partner's User Identifier Type code names the user's primary id. Ex Libris' partner schema
/// (`rest_partner.xsd`, complexType `general_user_id_type`) gives the primary identifier as `user_name`;
/// `userName` and the bridge's earlier `PRIMARY_ID` are read the same way, in any case, so a site that set
/// either keeps working. Underscores are ignored because the three differ only by them.
pub fn names_primary_id(code: &str) -> bool {
    let folded: String = code.trim().chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect();
    folded == "username" || folded == "primaryid"
}

/// Which of a user's identifiers Alma matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchPoint {
    /// The user's primary id (Alma's `primary_id`).
    PrimaryId,
    /// A user identifier type code such as `BARCODE` or `UNIV_ID`.
    Identifier(String),
}

impl MatchPoint {
    /// The match point a type code names; `None` for a blank code.
    pub fn from_code(code: &str) -> Option<MatchPoint> {
        match code.trim() {
            "" => None,
            primary if names_primary_id(primary) => Some(MatchPoint::PrimaryId),
            other => Some(MatchPoint::Identifier(other.to_owned())),
        }
    }

    /// How the bridge reads the type, for the start-up log and the preflight (never a patron's value).
    pub fn reading(&self) -> &'static str {
        match self {
            MatchPoint::PrimaryId => "the primary id",
            MatchPoint::Identifier(_) => "an identifier of that type",
        }
    }

    /// The type's code, as Alma's partner record names it.
    fn code(&self) -> &str {
        match self {
            MatchPoint::PrimaryId => PRIMARY_ID,
            MatchPoint::Identifier(code) => code,
        }
    }

    /// The user's value of this type: the primary id, or the first ACTIVE identifier of the type (an
    /// identifier with no status is taken as active, as Alma shows most).
    pub fn value_of<'u>(&self, user: &'u AlmaUser) -> Option<&'u str> {
        match self {
            MatchPoint::PrimaryId => Some(user.primary_id.as_str()),
            MatchPoint::Identifier(code) => user
                .user_identifier
                .iter()
                .filter(|id| id.id_type.value == *code)
                .find(|id| id.status.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE")))
                .map(|id| id.value.as_str()),
        }
    }
}

/// The one id Relais knows a patron by: the user's value of the partner's type, else the primary id (no type
/// is known, or the user has none of it). LookupUser answers it as the "Primary Key" and the OpenURL hand-off
/// sends it as `PI`, so that Relais never holds the same patron under two ids; [`translate`] turns anything
/// else a patron is known by into it.
pub(crate) fn kept_value<'u>(user: &'u AlmaUser, point: Option<&MatchPoint>) -> &'u str {
    point.and_then(|p| p.value_of(user)).unwrap_or(user.primary_id.as_str())
}

/// Partners' NCIP settings already read, by partner code (`None`: the record holds none).
#[derive(Debug, Default)]
pub struct PartnerProfiles(Mutex<HashMap<String, Option<NcipDetails>>>);

/// Logs the User Identifier Type as written and how the bridge reads it, once per process and source (the
/// setting when the bridge is built, a partner's when its record is first read, since start-up asks Alma
/// nothing): a spelling read otherwise than staff meant then shows in the first lines of the log. Only the
/// type code is logged, never a patron's value.
pub(crate) fn log_type(source: &str, raw: Option<&str>) {
    let reading = raw.and_then(MatchPoint::from_code).map_or("none: identifiers pass unchanged", |p| p.reading());
    tracing::info!(source, user_id_type = raw.unwrap_or("-"), matched_as = reading, "User Identifier Type");
}

/// The partner's NCIP settings from its Alma record (`GET /partners/{code}`), read once per process: the User
/// Identifier Type messages are matched by, and the resource-sharing library that owns its requests.
pub(crate) async fn partner_profile(
    bridge: &Bridge,
    partner: &str,
    ctx: &CallContext,
) -> Result<Option<NcipDetails>, AlmaError> {
    if let Some(known) = bridge.partner_profiles.0.lock().unwrap_or_else(|p| p.into_inner()).get(partner) {
        return Ok(known.clone());
    }
    let record = bridge.rest.partner(partner, ctx).await?;
    let details = record.partner_details.profile_details.and_then(|p| p.ncip_details);
    let raw = details.as_ref().and_then(|d| d.general_user_id_type.as_ref()).map(|t| t.value.as_str());
    log_type(&format!("partner {partner}"), raw);
    let names_a_type = raw.is_some();
    if !names_a_type && bridge.settings.ncip.user_id_type.is_none() {
        tracing::warn!(partner, "the Alma partner names no User Identifier Type; set ALMA_USER_ID_TYPE or the partner");
    }
    bridge.partner_profiles.0.lock().unwrap_or_else(|p| p.into_inner()).insert(partner.to_owned(), details.clone());
    Ok(details)
}

/// The match point for messages under `partner`. `Ok(None)`: neither the setting nor the partner record names
/// one (Alma then refuses every patron for this partner; the bridge passes identifiers on unchanged and says
/// so in its log, so the misconfiguration shows in Alma's answer).
pub(crate) async fn match_point(
    bridge: &Bridge,
    partner: Option<&str>,
    ctx: &CallContext,
) -> Result<Option<MatchPoint>, AlmaError> {
    if let Some(code) = &bridge.settings.ncip.user_id_type {
        return Ok(MatchPoint::from_code(code));
    }
    let Some(partner) = partner else { return Ok(None) };
    let profile = partner_profile(bridge, partner, ctx).await?;
    Ok(profile.and_then(|n| n.general_user_id_type).and_then(|t| MatchPoint::from_code(&t.value)))
}

/// Translations made recently, by match point and the identifier Relais sent, with when they were made.
#[derive(Debug, Default)]
pub struct Translations(Mutex<HashMap<(String, String), (Translation, Timestamp)>>);

impl Translations {
    fn recent(&self, key: &(String, String), now: Timestamp) -> Option<Translation> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.get(key).filter(|(_, at)| now.duration_since(*at) < TRANSLATION_TTL).map(|(t, _)| t.clone())
    }

    fn keep(&self, key: (String, String), translation: Translation, now: Timestamp) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= TRANSLATIONS_KEPT {
            kept.retain(|_, (_, at)| now.duration_since(*at) < TRANSLATION_TTL);
        }
        if kept.len() >= TRANSLATIONS_KEPT
            && let Some(oldest) = kept.iter().min_by_key(|(_, (_, at))| *at).map(|(k, _)| k.clone())
        {
            kept.remove(&oldest);
        }
        kept.insert(key, (translation, now));
    }
}

/// What to send Alma for a patron identifier Relais sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Translation {
    /// The patron's identifier of the partner's type.
    Use(String),
    /// Send it as received: no type is known, or the patron has no identifier of it (Alma then answers for
    /// itself, as the direct link would have it).
    Keep,
    /// Alma knows no user by this identifier in any form.
    Unknown,
}

/// Translates `id` (a barcode, the primary id or any other unique identifier of the patron) into the
/// identifier Alma's partner matches: one `GET /users/{id}?user_id_type=all_unique`, unless the same
/// translation was made within [`TRANSLATION_TTL`]. "Unknown" is never kept: a patron Alma has just loaded
/// from the student system is found on the next message.
///
/// `known` is what the store said of [`key_beside_claim`]'s key, when it was read beside the message's claim; the
/// store is asked here only when it was not.
pub(crate) async fn translate(
    bridge: &Bridge,
    partner: Option<&str>,
    id: &str,
    known: Option<bool>,
    ctx: &CallContext,
) -> Result<Translation, AlmaError> {
    let Some(point) = match_point(bridge, partner, ctx).await? else { return Ok(Translation::Keep) };
    let key = (point.code().to_owned(), id.to_owned());
    if let Some(recent) = bridge.translations.recent(&key, bridge.clock.now()) {
        return Ok(recent);
    }
    let remembered = match known {
        Some(known) => known,
        None => remembered(bridge, &point, id).await,
    };
    if remembered {
        bridge.translations.keep(key, Translation::Keep, bridge.clock.now());
        return Ok(Translation::Keep);
    }
    let user = match bridge.rest.user(id, "all_unique", ctx).await {
        Ok(user) => user,
        Err(err) if err.is_not_found() => return Ok(Translation::Unknown),
        Err(err) => return Err(err),
    };
    let translation = match point.value_of(&user) {
        Some(value) if value == id => Translation::Keep,
        Some(value) => Translation::Use(value.to_owned()),
        None => Translation::Keep,
    };
    bridge.translations.keep(key, translation.clone(), bridge.clock.now());
    Ok(translation)
}

/// The store key [`translate`] would look for `id` under, when that is known without asking Alma (the type is
/// set, or the partner's record was read before) and the id was not translated lately: the delivery reads it
/// beside its claim ([`crate::store::Begin::patron`]), so that a remembered id costs no round trip of its own.
pub(crate) fn key_beside_claim(bridge: &Bridge, partner: Option<&str>, id: &str) -> Option<PatronKey> {
    let point = match &bridge.settings.ncip.user_id_type {
        Some(code) => MatchPoint::from_code(code)?,
        None => {
            let profiles = bridge.partner_profiles.0.lock().unwrap_or_else(|p| p.into_inner());
            let details = profiles.get(partner?)?.as_ref()?;
            MatchPoint::from_code(&details.general_user_id_type.as_ref()?.value)?
        }
    };
    let recent = bridge.translations.recent(&(point.code().to_owned(), id.to_owned()), bridge.clock.now());
    recent.is_none().then(|| patron_key(bridge, &point, id))
}

/// The store's key for `value`, an id of the type `point`: a keyed hash under `LOG_HASH_KEY` within the type,
/// so that the same text as another type's id is another key, and no one without the key can test a guess.
fn patron_key(bridge: &Bridge, point: &MatchPoint, value: &str) -> PatronKey {
    let digest =
        crate::logging::keyed_digest(&bridge.settings.log_hash_key, &format!("kept-id:{}", point.code()), value);
    PatronKey::new(&digest).expect("a keyed digest is 64 lowercase hex digits")
}

/// Remembers that `value`, the id LookupUser just answered as the patron's "Primary Key" of type `point`,
/// needs no translation when Relais sends it back. A store that cannot take it costs the next AcceptItem one
/// user read, nothing more, so a failure is only logged. The same patron looked up again within
/// [`TRANSLATION_TTL`] is not written again (a store write before every answer, for an expiry moved by
/// minutes out of days), and the process's own messages find it in memory.
pub(crate) async fn remember(bridge: &Bridge, point: &MatchPoint, value: &str) {
    let keep = bridge.settings.patron.remember_for;
    if keep.is_zero() {
        return;
    }
    let now = bridge.clock.now();
    let key = (point.code().to_owned(), value.to_owned());
    if bridge.translations.recent(&key, now) == Some(Translation::Keep) {
        return;
    }
    let until = now.saturating_add(keep).unwrap_or(Timestamp::MAX);
    match bridge.store.remember_patron(&patron_key(bridge, point, value), until).await {
        Ok(()) => bridge.translations.keep(key, Translation::Keep, now),
        Err(err) => {
            tracing::warn!(error = %err, "the answered patron id could not be remembered; it will be translated")
        }
    }
}

/// Whether LookupUser answered `id` as the patron's id of type `point` lately ([`remember`]). When the store
/// cannot say, the id is translated as if unseen.
async fn remembered(bridge: &Bridge, point: &MatchPoint, id: &str) -> bool {
    match bridge.store.knows_patron(&patron_key(bridge, point, id), bridge.clock.now()).await {
        Ok(known) => known,
        Err(err) => {
            tracing::warn!(error = %err, "remembered patron ids unavailable; the id is translated");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> AlmaUser {
        serde_json::from_value(serde_json::json!({
            "primary_id": "p1",
            "user_identifier": [
                {"value": "OLD-1", "id_type": {"value": "BARCODE"}, "status": "INACTIVE"},
                {"value": "B-2", "id_type": {"value": "BARCODE"}, "status": "ACTIVE"},
                {"value": "U-3", "id_type": {"value": "UNIV_ID"}}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_translation_is_kept_for_its_time_and_the_oldest_goes_first_when_full() {
        let translations = Translations::default();
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let key = |id: &str| ("BARCODE".to_owned(), id.to_owned());
        translations.keep(key("u1"), Translation::Use("B-1".into()), start);
        let later = |secs: i64| start + SignedDuration::from_secs(secs);
        assert_eq!(translations.recent(&key("u1"), later(299)), Some(Translation::Use("B-1".into())));
        assert_eq!(translations.recent(&key("u1"), later(300)), None, "read afresh after the TTL");
        for n in 0..TRANSLATIONS_KEPT {
            translations.keep(key(&format!("other-{n}")), Translation::Keep, later(1 + n as i64 % 60));
        }
        assert!(translations.0.lock().unwrap().len() <= TRANSLATIONS_KEPT);
        assert_eq!(translations.recent(&key("u1"), later(10)), None, "the oldest made room");
        assert_eq!(translations.recent(&key("other-5"), later(10)), Some(Translation::Keep));
    }

    #[test]
    fn each_type_names_its_own_value_and_an_inactive_barcode_is_passed_over() {
        assert_eq!(MatchPoint::from_code("BARCODE").unwrap().value_of(&user()), Some("B-2"));
        assert_eq!(MatchPoint::from_code("PRIMARY_ID").unwrap().value_of(&user()), Some("p1"));
        assert_eq!(MatchPoint::from_code(" UNIV_ID ").unwrap().value_of(&user()), Some("U-3"));
        assert_eq!(MatchPoint::from_code("OTHER_ID").unwrap().value_of(&user()), None);
        assert_eq!(MatchPoint::from_code("  "), None);
    }

    #[test]
    fn every_spelling_of_the_primary_identifier_matches_the_primary_id() {
        for code in ["user_name", "userName", "USER_NAME", "PRIMARY_ID", "primary_id", " Primary_Id "] {
            assert_eq!(MatchPoint::from_code(code), Some(MatchPoint::PrimaryId), "{code}");
        }
        for code in ["BARCODE", "UNIV_ID", "user", "name", "PRIMARY"] {
            assert_eq!(MatchPoint::from_code(code), Some(MatchPoint::Identifier(code.to_owned())), "{code}");
        }
    }
}
