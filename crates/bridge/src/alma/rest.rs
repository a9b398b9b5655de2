//! The Alma REST client over reqwest.

use super::error::ErrorBody;
use super::model::{self, AlmaItem, AlmaUser, LendingRequest, LendingRequests, Loan, Partner, UserRequest};
use super::transport::{AlmaResponse, Exchange, RetryPolicy, Transport};
use super::{AlmaError, AlmaRest, ApiArea, CallContext, ItemPath};
use async_trait::async_trait;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

/// Alma's REST API at one base URL (`https://api-eu.hosted.exlibrisgroup.com/almaws/v1`, or the simulator's).
#[derive(Debug, Clone)]
pub struct HttpAlmaRest {
    transport: Transport,
    base: Url,
}

impl HttpAlmaRest {
    /// A client of the API at `api_base`; a trailing `/` is ignored so that every path is joined the same way.
    pub fn new(transport: Transport, api_base: &str) -> Result<Self, url::ParseError> {
        let base = Url::parse(api_base.trim_end_matches('/'))?;
        Ok(Self { transport, base })
    }

    /// `base` + path segments, each one percent-encoded so that it stays one segment (see [`segment_path`]).
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, AlmaError> {
        let mut url = segment_path(&self.base, segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn get(url: Url, route: &'static str) -> Exchange {
        Exchange {
            method: Method::GET,
            url,
            route,
            headers: vec![("Accept", "application/json".into())],
            body: None,
            retry: RetryPolicy::Idempotent,
        }
    }

    async fn fetch<T: DeserializeOwned>(&self, exchange: Exchange, ctx: &CallContext) -> Result<T, AlmaError> {
        let answer = self.transport.send(&exchange, ctx).await?;
        decode(answer)
    }
}

/// `base` with `segments` appended, every byte outside RFC 3986's unreserved set percent-encoded.
///
/// `url`'s own `path_segments_mut` was not enough: it drops tabs and newlines (the WHATWG parser strips them), keeps
/// `%` (so `%2e%2e` became `..` on the way), and resolves `.` and `..`, which turned `GET /users/..` into Alma's
/// list-users call with the API key. Here `%` is encoded too, so a segment can only be read back as itself, and an
/// empty or dot segment, which no encoding can carry unambiguously, is refused before anything is sent.
pub(crate) fn segment_path(base: &Url, segments: &[&str]) -> Result<Url, AlmaError> {
    let mut path = base.path().trim_end_matches('/').to_owned();
    for segment in segments {
        if segment.is_empty() || *segment == "." || *segment == ".." {
            return Err(AlmaError::UnusablePathSegment);
        }
        path.push('/');
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                path.push(char::from(byte));
            } else {
                path.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let mut url = base.clone();
    url.set_path(&path);
    url.set_query(None);
    Ok(url)
}

fn decode<T: DeserializeOwned>(answer: AlmaResponse) -> Result<T, AlmaError> {
    let status = answer.status.as_u16();
    if answer.status.is_success() {
        serde_json::from_slice(&answer.body).map_err(|e| AlmaError::Unreadable(format!("JSON: {e}")))
    } else {
        Err(api_error(status, &answer.body))
    }
}

fn api_error(status: u16, body: &[u8]) -> AlmaError {
    ErrorBody::parse(status, body)
        .unwrap_or_else(|| AlmaError::Unreadable(format!("HTTP {status} without Alma's error body")))
}

impl HttpAlmaRest {
    /// [`AlmaRest::user`] reading only the ids (the rest of the user left empty): for the OpenURL hand-off.
    pub(crate) async fn user_ids(&self, id: &str, id_type: &str, ctx: &CallContext) -> Result<AlmaUser, AlmaError> {
        let url = self.url(&["users", id], &[("user_id_type", id_type), ("view", "full"), ("expand", "none")])?;
        let ids: crate::alma::model::UserIds = self.fetch(Self::get(url, "/users/{id}"), ctx).await?;
        Ok(ids.into())
    }
}

impl HttpAlmaRest {
    /// [`AlmaRest::search_users`]: the query goes in `q` as given (`email~…`), form-encoded by the URL.
    pub(crate) async fn search(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
        ctx: &CallContext,
    ) -> Result<model::UserSearch, AlmaError> {
        let (limit, offset) = (limit.to_string(), offset.to_string());
        let url = self.url(&["users"], &[("q", query), ("limit", &limit), ("offset", &offset)])?;
        self.fetch(Self::get(url, "/users?q="), ctx).await
    }
}

#[async_trait]
impl AlmaRest for HttpAlmaRest {
    async fn search_users(
        &self,
        query: &str,
        limit: u32,
        offset: u64,
        ctx: &CallContext,
    ) -> Result<model::UserSearch, AlmaError> {
        self.search(query, limit, offset, ctx).await
    }

    async fn user(&self, id: &str, id_type: &str, ctx: &CallContext) -> Result<AlmaUser, AlmaError> {
        let url = self.url(&["users", id], &[("user_id_type", id_type), ("view", "full"), ("expand", "none")])?;
        self.fetch(Self::get(url, "/users/{id}"), ctx).await
    }

    async fn authenticate(&self, id: &str, password: &str, ctx: &CallContext) -> Result<(), AlmaError> {
        let exchange = Exchange {
            method: Method::POST,
            url: self.url(&["users", id], &[("op", "auth")])?,
            route: "/users/{id}?op=auth",
            headers: vec![("Accept", "application/json".into()), ("Exl-User-Pw", password.to_owned())],
            body: None,
            // Checking a password changes nothing in Alma, so it is as safe to repeat as a read.
            retry: RetryPolicy::Idempotent,
        };
        let answer = self.transport.send(&exchange, ctx).await?;
        if answer.status.is_success() { Ok(()) } else { Err(api_error(answer.status.as_u16(), &answer.body)) }
    }

    async fn item_by_barcode(&self, barcode: &str, ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        // `item_data.due_date` is in Alma's answer only with `expand=due_date` (bibs API); the flows read it (a
        // lost RenewItem answer, LookupItem). Asked for on both hops: whether Alma's 302 carries it is unknown.
        let lookup = Self::get(
            self.url(&["items"], &[("item_barcode", barcode), ("expand", "due_date")])?,
            "/items?item_barcode",
        );
        let answer = self.transport.send(&lookup, ctx).await?;
        if !answer.status.is_redirection() {
            // Some Alma environments answer the item directly; read it either way.
            return decode(answer);
        }
        let location = answer
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| AlmaError::Unreadable("redirect without Location".into()))?;
        let mut target =
            self.base.join(location).map_err(|_| AlmaError::Unreadable("redirect to an invalid URL".into()))?;
        if !target.query_pairs().any(|(k, _)| k == "expand") {
            target.query_pairs_mut().append_pair("expand", "due_date");
        }
        // Never send the API key to a host other than the configured one.
        if target.origin() != self.base.origin() {
            return Err(AlmaError::Unreadable("item redirect left the Alma API host".into()));
        }
        self.fetch(Self::get(target, "/bibs/{mms}/holdings/{hid}/items/{pid}"), ctx).await
    }

    async fn user_requests(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        // Any unique identifier names the patron: Relais may know them by barcode.
        let url = self.url(&["users", user_id, "requests"], &[("user_id_type", "all_unique"), ("limit", "100")])?;
        let page: model::UserRequests = self.fetch(Self::get(url, "/users/{id}/requests"), ctx).await?;
        Ok(page.user_request)
    }

    async fn user_loans(&self, user_id: &str, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        let url = self.url(&["users", user_id, "loans"], &[("limit", "100")])?;
        let page: model::Loans = self.fetch(Self::get(url, "/users/{id}/loans"), ctx).await?;
        Ok(page.item_loan)
    }

    async fn item_requests(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<UserRequest>, AlmaError> {
        let segments = ["bibs", item.mms_id, "holdings", item.holding_id, "items", item.item_pid, "requests"];
        let url = self.url(&segments, &[("limit", "100")])?;
        let page: model::UserRequests =
            self.fetch(Self::get(url, "/bibs/{mms}/holdings/{hid}/items/{pid}/requests"), ctx).await?;
        Ok(page.user_request)
    }

    async fn item(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<AlmaItem, AlmaError> {
        let segments = ["bibs", item.mms_id, "holdings", item.holding_id, "items", item.item_pid];
        let url = self.url(&segments, &[("expand", "due_date")])?;
        self.fetch(Self::get(url, "/bibs/{mms}/holdings/{hid}/items/{pid}"), ctx).await
    }

    async fn item_loans(&self, item: &ItemPath<'_>, ctx: &CallContext) -> Result<Vec<Loan>, AlmaError> {
        let segments = ["bibs", item.mms_id, "holdings", item.holding_id, "items", item.item_pid, "loans"];
        let url = self.url(&segments, &[])?;
        let page: model::Loans =
            self.fetch(Self::get(url, "/bibs/{mms}/holdings/{hid}/items/{pid}/loans"), ctx).await?;
        Ok(page.item_loan)
    }

    async fn lending_request(&self, partner: &str, id: &str, ctx: &CallContext) -> Result<LendingRequest, AlmaError> {
        let url = self.url(&["partners", partner, "lending-requests", id], &[])?;
        self.fetch(Self::get(url, "/partners/{code}/lending-requests/{id}"), ctx).await
    }

    async fn partner(&self, code: &str, ctx: &CallContext) -> Result<Partner, AlmaError> {
        let url = self.url(&["partners", code], &[])?;
        self.fetch(Self::get(url, "/partners/{code}"), ctx).await
    }

    async fn lending_requests(
        &self,
        library: &str,
        partner: &str,
        status: &str,
        ctx: &CallContext,
    ) -> Result<LendingRequests, AlmaError> {
        let query = [("library", library), ("partner", partner), ("status", status)];
        let url = self.url(&["task-lists", "rs", "lending-requests"], &query)?;
        self.fetch(Self::get(url, "/task-lists/rs/lending-requests"), ctx).await
    }

    async fn test_api_key(&self, area: ApiArea, ctx: &CallContext) -> Result<String, AlmaError> {
        let route = area.test_route();
        let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        let answer = self.transport.send(&Self::get(self.url(&segments, &[])?, route), ctx).await?;
        if answer.status.is_success() {
            Ok(test_answer_text(&answer.body))
        } else {
            Err(api_error(answer.status.as_u16(), &answer.body))
        }
    }
}

/// Alma's words in a test call's answer, for a person to read: documented as a short XML without a schema
/// (`<test>GET - OK - institutionCode: …</test>`) and "subject to changes", so any shape is read (the text of
/// an XML element, a JSON string, the strings of a JSON object) and only the status decides.
fn test_answer_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let words = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => json_strings(&value).join(" "),
        Err(_) => {
            // XML: the character data outside the tags, the declaration included among the tags.
            let mut out = String::new();
            let mut in_tag = false;
            for c in text.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => out.push(c),
                    _ => {}
                }
            }
            out
        }
    };
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    // A page of something else is not worth printing whole.
    if words.chars().count() > 120 { format!("{}…", words.chars().take(120).collect::<String>()) } else { words }
}

fn json_strings(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(json_strings).collect(),
        serde_json::Value::Object(fields) => fields.values().flat_map(json_strings).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segments: &[&str]) -> Result<String, AlmaError> {
        let base = Url::parse("https://api-eu.hosted.exlibrisgroup.com/almaws/v1").unwrap();
        segment_path(&base, segments).map(|url| url.path().to_owned())
    }

    #[test]
    fn every_identifier_stays_one_segment_of_the_path() {
        assert_eq!(path(&["users", "patron1"]).unwrap(), "/almaws/v1/users/patron1");
        assert_eq!(path(&["users", "a/b?c#d"]).unwrap(), "/almaws/v1/users/a%2Fb%3Fc%23d");
        // Tabs and newlines would be stripped by a URL parser, `%2e%2e` read as `..`: both survive encoded.
        assert_eq!(path(&["users", "21\t00\n1"]).unwrap(), "/almaws/v1/users/21%0900%0A1");
        assert_eq!(path(&["users", "%2e%2e"]).unwrap(), "/almaws/v1/users/%252e%252e");
        assert_eq!(path(&["users", "..."]).unwrap(), "/almaws/v1/users/...");
        assert_eq!(path(&["users", "ü"]).unwrap(), "/almaws/v1/users/%C3%BC");
    }

    #[test]
    fn a_test_calls_answer_is_read_in_whatever_shape_alma_sends() {
        let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<test>GET - OK - institutionCode: 01ABC_INST</test>";
        assert_eq!(test_answer_text(xml), "GET - OK - institutionCode: 01ABC_INST");
        assert_eq!(
            test_answer_text(br#"{"test":"GET - OK - institutionCode: 01ABC_INST"}"#),
            "GET - OK - institutionCode: 01ABC_INST"
        );
        assert_eq!(test_answer_text(b"  GET - OK  "), "GET - OK");
        assert!(test_answer_text("x".repeat(500).as_bytes()).ends_with('…'));
    }

    #[test]
    fn dot_and_empty_segments_are_refused_before_anything_is_sent() {
        for segment in ["..", ".", ""] {
            assert_eq!(path(&["users", segment]), Err(AlmaError::UnusablePathSegment), "{segment:?}");
        }
    }
}
