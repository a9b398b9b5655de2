//! Sending a Relais message on to Alma's NCIP responder as Relais sent it (only the header patched), and sorting
//! Alma's reply into "done", "refused" and "try again".

use super::patron_id::MatchPoint;
use super::{NcipAnswer, policy};
use crate::alma::{AlmaError, CallContext};
use crate::flows::Bridge;
use crate::ncip::problem::GENERAL_PROCESSING_ERROR_SCHEME;
use crate::ncip::{
    self, AgencyId, HeaderEdits, InitiationHeader, ItemId, Message, Problem, ServiceKind, TypeEdit, UserId,
};
use crate::store::ReplacedAgencyId;

/// Alma's reply to a forwarded message.
pub(crate) enum Reply {
    /// Alma did it; its response message.
    Accepted(Message),
    /// Alma answered with Problems; nothing changed in Alma.
    Refused(NcipAnswer),
    /// No usable answer.
    Failed(Failure),
}

/// Alma gave no usable answer.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong, in words Relais staff can act on.
    pub detail: String,
    /// Alma may have acted: the claim is kept so that the next attempt reads Alma before acting.
    pub outcome_unknown: bool,
    /// Alma's `trackingId`, for the history.
    pub tracking_id: Option<String>,
    /// Whether waiting would help.
    pub kind: FailureKind,
    /// The bridge stops retrying on its own: whether Alma acted could not be read, so staff decide.
    pub for_staff: bool,
}

/// The two kinds of failure (and the third, an answer that is neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Alma is down or busy and will come back ([`AlmaError::is_outage`]): a queueable message waits in the
    /// outbox, any other is answered Temporary Processing Failure.
    Outage,
    /// Alma will not act on this, whatever the wait: Relais hears a Problem at once. `configuration` when the
    /// bridge's own settings are at fault (every message fails alike until they are fixed).
    Refusal {
        /// The fault is in the bridge's settings (URL, key, partner), not in the message.
        configuration: bool,
    },
}

/// The ProblemType of a refusal that is the bridge's own (Alma's Problems pass through as they are): from
/// the general processing-error scheme, and not temporary, so that Relais shows it to staff instead of
/// retrying. The bridge is the system between Relais and Alma, and Alma did not let it carry out the service;
/// the ProblemDetail says why and what to fix.
pub const REFUSAL_PROBLEM_TYPE: &str = "Unauthorized Service For System";

impl Failure {
    /// The failure of a call that could not be made or answered. `area` names what the call was for, in the
    /// words of Alma's API-key areas ("Users", "Resource Sharing Partners"), for a refused key.
    pub(crate) fn of(err: &AlmaError, area: &str) -> Failure {
        let kind = if err.is_outage() {
            FailureKind::Outage
        } else {
            FailureKind::Refusal { configuration: err.is_configuration_fault() }
        };
        Failure {
            detail: describe(err, area),
            outcome_unknown: err.outcome_unknown(),
            tracking_id: err.tracking_id().map(str::to_owned),
            kind,
            for_staff: false,
        }
    }

    /// The Problem Relais gets for a refusal: Alma's outage is answered elsewhere (queued, or Temporary
    /// Processing Failure).
    pub(crate) fn refusal_problem(&self) -> Problem {
        Problem::new(GENERAL_PROCESSING_ERROR_SCHEME, REFUSAL_PROBLEM_TYPE, self.detail.clone())
    }

    /// Counts a refusal that is a configuration fault on its own metric (alarmed on the first one).
    pub(crate) fn count_if_configuration_fault(&self) {
        if self.kind == (FailureKind::Refusal { configuration: true }) {
            tracing::error!(detail = %self.detail, "Alma refused the bridge: a configuration fault");
            crate::metrics::configuration_fault();
        }
    }
}

/// A failure in words for Relais staff: what Alma did and, for a setting, which one to check. Never Alma's
/// message text (it may name the patron asked for), only its code.
fn describe(err: &AlmaError, area: &str) -> String {
    match err {
        AlmaError::RateLimited => "Alma is over its per-second threshold; send the message again shortly".into(),
        AlmaError::DailyThreshold => {
            "Alma's daily API threshold is used up; send the message again after Alma's midnight reset".into()
        }
        AlmaError::Unavailable { status: 503, .. } => {
            "Alma is unavailable (maintenance?); send the message again later".into()
        }
        AlmaError::Unavailable { status, .. } if err.is_outage() => {
            format!("Alma answered HTTP {status}; send the message again later")
        }
        AlmaError::Unavailable { status, .. } => format!("Alma answered HTTP {status} to the {area} call"),
        AlmaError::Timeout { .. } => "Alma did not answer in time; send the message again later".into(),
        AlmaError::Unreachable { .. } => "Alma could not be reached; send the message again later".into(),
        AlmaError::Api { status, code, .. } if code == crate::alma::NCIP_HTTP => format!(
            "Alma's NCIP URL answered HTTP {status} instead of NCIP: check ALMA_NCIP_URL (it ends in /view/NCIPServlet)"
        ),
        AlmaError::Api { code, .. } if code == crate::alma::PARTNER_NOT_FOUND => format!(
            "Alma knows no resource-sharing partner with the code the bridge sent (error {code}): check \
             ALMA_PARTNER_CODE or NCIP_AGENCY_PARTNERS against Alma's partner codes (they are case-sensitive)"
        ),
        AlmaError::Api { code, .. } if err.is_configuration_fault() => format!(
            "Alma refused the bridge's API key for {area} (error {code}): give the key {area} access (docs/configure-alma.md)"
        ),
        AlmaError::Api { code, .. } => format!("Alma refused the {area} call (error {code}); check the record in Alma"),
        AlmaError::NotConfigured => "Alma is not configured for this function (ALMA_API_BASE)".into(),
        AlmaError::UnusablePathSegment => format!("an identifier in the message cannot be used in Alma's {area} API"),
        AlmaError::Unreadable(_) => format!(
            "Alma's answer to the {area} call could not be read (a login page? check ALMA_NCIP_URL and ALMA_API_BASE)"
        ),
    }
}

/// What the forwarded message says about its patron, beyond the header: what the flow found out before
/// forwarding.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PatronForAlma<'a> {
    /// The identifier translated into the partner's match point (`None`: the UserId goes as sent).
    pub translated: Option<&'a str>,
    /// The match point the translation is of, so that the `UserIdentifierType` can follow the value.
    pub point: Option<&'a MatchPoint>,
    /// The UserId names one of this institution's patrons (a borrowing-side message); on the lending side it
    /// is the partner's patron, and its AgencyId rightly names the partner.
    pub ours: bool,
}

/// What the bridge changes in Relais's message for Alma: ApplicationProfileType = the Alma partner code for
/// the sending agency, ToAgencyId = the institution code, and the patron identifier translated into the
/// partner's User Identifier Type. Relais sends its own agency codes in both places,
/// and a wrong partner code is Alma's opaque "Unknown partner". A message that came without a header (several
/// vendors omit it) also gets the partner code as its FromAgencyId, which the XSD requires.
///
/// Inside the identifiers, Relais writes its own agency code (the Relais samples of mod-ncip, Lehigh:
/// `<ItemId><AgencyId>LEH`, research notes ncip.md §1.5), where working Alma clients write the institution code
/// (VCU's AcceptItem) and the CSUSM relay rewrites its site code to the institution before posting (alma.md
/// §1.3). So, unless
/// switched off (`NCIP_REWRITE_ID_AGENCIES`), every `ItemId/AgencyId` and, on the borrowing side, the
/// `UserId/AgencyId` become the institution code. `RequestId/AgencyId` names whose request number it is (Relais
/// sends `Relais`), and nothing shows Alma checking it, so it goes as sent.
fn edits_for_alma<'a>(
    bridge: &'a Bridge,
    partner: Option<&'a str>,
    had_header: bool,
    patron: PatronForAlma<'a>,
    sent_type: Option<&str>,
) -> HeaderEdits<'a> {
    let institution = Some(bridge.institution_code.as_str()).filter(|code| !code.is_empty());
    let id_agency = institution.filter(|_| bridge.settings.ncip.rewrite_id_agencies);
    HeaderEdits {
        to_agency: institution,
        from_agency: partner.filter(|_| !had_header),
        application_profile_type: partner,
        user_identifier: patron.translated,
        user_identifier_type: patron.translated.and_then(|_| type_after_translation(sent_type, patron.point)),
        item_agency: id_agency,
        user_agency: id_agency.filter(|_| patron.ours),
    }
}

/// The `UserIdentifierType` a translated identifier is sent with. A type naming a barcode or a user id
/// described the value Relais sent, not the one Alma now receives, so it names the match point instead
/// (`Barcode` as LookupUser answers it, another Alma identifier type by its code) or goes where Alma has no
/// name for the type (the primary id is not one of Alma's identifier types). "Primary Key" is Relais's label
/// for whatever id it keys the patron by, so it stays; so does any type the bridge cannot read.
fn type_after_translation<'p>(sent: Option<&str>, point: Option<&'p MatchPoint>) -> Option<TypeEdit<'p>> {
    let sent: String = sent?.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    let names_a_kind = sent.contains("barcode") || sent.ends_with("id") || sent.ends_with("idnumber");
    if sent == "primarykey" || !names_a_kind {
        return None;
    }
    Some(match point? {
        MatchPoint::PrimaryId => TypeEdit::Remove,
        MatchPoint::Identifier(code) if code.eq_ignore_ascii_case("BARCODE") => TypeEdit::Set("Barcode"),
        MatchPoint::Identifier(code) => TypeEdit::Set(code.as_str()),
    })
}

/// The service-level UserId and ItemIds of a request, for the AgencyIds the patch replaces.
fn identifiers(message: &Message) -> (Option<&UserId>, Vec<&ItemId>) {
    match message {
        Message::LookupUser(m) => (m.user_id.as_ref(), Vec::new()),
        Message::AcceptItem(m) => (m.user_id.as_ref(), m.item_id.iter().collect()),
        Message::CheckOutItem(m) => (m.user_id.as_ref(), vec![&m.item_id]),
        Message::CheckInItem(m) => (None, vec![&m.item_id]),
        Message::RequestItem(m) => (m.user_id.as_ref(), m.item_ids.iter().collect()),
        Message::CancelRequestItem(m) => (m.user_id.as_ref(), m.item_id.iter().collect()),
        Message::RenewItem(m) => (m.user_id.as_ref(), vec![&m.item_id]),
        Message::LookupItem(m) => (None, m.item_id.iter().collect()),
        _ => (None, Vec::new()),
    }
}

/// The AgencyIds `edits` replace with another code, for the history (the bytes Alma got are not kept).
fn replaced_agency_ids(message: &Message, edits: &HeaderEdits<'_>) -> Vec<ReplacedAgencyId> {
    let (user, items) = identifiers(message);
    let replaced = |element: &str, sent: Option<&AgencyId>, by: Option<&str>| {
        let sent = sent?.as_str();
        (by? != sent).then(|| ReplacedAgencyId { element: element.to_owned(), sent: sent.to_owned() })
    };
    let mut out: Vec<ReplacedAgencyId> =
        replaced("UserId/AgencyId", user.and_then(|u| u.agency_id.as_ref()), edits.user_agency).into_iter().collect();
    out.extend(items.into_iter().filter_map(|i| replaced("ItemId/AgencyId", i.agency_id.as_ref(), edits.item_agency)));
    out
}

/// A header for messages that arrived without one, so the model the flows keep has one to answer from.
pub(crate) fn ensure_header(header: &mut Option<InitiationHeader>) {
    header.get_or_insert_with(InitiationHeader::default);
}

/// Sends Relais's message on to Alma: `received` as it arrived, patched only as [`edits_for_alma`] says, and
/// with the patron as `patron` says. `message` is its reading, for the partner code, the identifiers and the
/// places the patch edits; `relais_header` is the header as Relais sent it. The AgencyIds replaced are noted on
/// `ctx` for the history.
pub(crate) async fn to_alma(
    bridge: &Bridge,
    message: &Message,
    received: &[u8],
    patron: PatronForAlma<'_>,
    relais_header: Option<&InitiationHeader>,
    ctx: &CallContext,
) -> Reply {
    let service = message.service();
    let partner = policy::partner_code(bridge, message.initiation_header());
    let (user, _) = identifiers(message);
    let sent_type = user.and_then(|u| u.user_identifier_type.as_ref()).map(|t| t.value.as_str());
    let edits = edits_for_alma(bridge, partner.as_deref(), relais_header.is_some(), patron, sent_type);
    ctx.note_replaced_agency_ids(replaced_agency_ids(message, &edits));
    let body = match ncip::patch_as_read(received, message, &edits) {
        Ok(body) => body,
        Err(err) => {
            // The message read cleanly, so this is the bridge's failing, not Relais's: nothing was sent.
            tracing::error!(error = %err, "could not prepare the message for Alma");
            return Reply::Failed(Failure {
                detail: "the bridge could not prepare the message for Alma".into(),
                outcome_unknown: false,
                tracking_id: None,
                kind: FailureKind::Refusal { configuration: false },
                for_staff: false,
            });
        }
    };
    match bridge.ncip.send(body, ctx).await {
        Ok(reply) => {
            super::reached::note_answer(bridge).await;
            classify(service, reply, relais_header)
        }
        Err(err) => Reply::Failed(Failure::of(&err, "NCIP")),
    }
}

fn classify(service: ServiceKind, reply: Message, relais_header: Option<&InitiationHeader>) -> Reply {
    let problems = reply.problems();
    if problems.is_empty() {
        return Reply::Accepted(reply);
    }
    // Alma's own "Temporary Processing Failure" means it did nothing and wants the message again; so does
    // "Patron Record is Busy" (another process holds the patron's record in Alma, OCLC's Relais pages): both
    // are waited out like an outage, never parked for that answer alone.
    if problems.iter().all(|p| matches!(p.type_name(), "Temporary Processing Failure" | PATRON_RECORD_BUSY)) {
        return Reply::Failed(Failure {
            detail: problems[0].detail.clone().unwrap_or_else(|| problems[0].type_name().to_owned()),
            outcome_unknown: false,
            tracking_id: None,
            kind: FailureKind::Outage,
            for_staff: false,
        });
    }
    // Alma's Problems go back to Relais with their text, under the bridge's answer header.
    let answer = crate::ncip::problem_response(service, relais_header, problems.to_vec());
    Reply::Refused(NcipAnswer::new(answer))
}

/// Alma's Problem when another process holds the patron's record (seen on AcceptItem).
pub(crate) const PATRON_RECORD_BUSY: &str = "Patron Record is Busy";

/// An Alma failure, in words for Relais staff, for the flows that answer it themselves.
pub(crate) fn temporary(err: &AlmaError) -> Failure {
    Failure::of(err, "REST")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_translated_identifiers_type_names_what_alma_now_receives() {
        let barcode = MatchPoint::Identifier("BARCODE".into());
        let univ = MatchPoint::Identifier("UNIV_ID".into());
        let primary = MatchPoint::PrimaryId;
        // Relais sent a user id typed as a barcode, or a barcode typed as a user id: the type follows the value.
        assert_eq!(type_after_translation(Some("User Id"), Some(&barcode)), Some(TypeEdit::Set("Barcode")));
        assert_eq!(type_after_translation(Some("Barcode Id"), Some(&univ)), Some(TypeEdit::Set("UNIV_ID")));
        assert_eq!(
            type_after_translation(Some("Institution Id Number"), Some(&barcode)),
            Some(TypeEdit::Set("Barcode"))
        );
        // Alma has no identifier type for the primary id.
        assert_eq!(type_after_translation(Some("Barcode"), Some(&primary)), Some(TypeEdit::Remove));
        // Relais's own label for its key, a type the bridge cannot read, or no type at all: as sent.
        assert_eq!(type_after_translation(Some("Primary Key"), Some(&barcode)), None);
        assert_eq!(type_after_translation(Some("PIN"), Some(&barcode)), None);
        assert_eq!(type_after_translation(None, Some(&barcode)), None);
        assert_eq!(type_after_translation(Some("Barcode"), None), None, "no match point known");
    }
}
