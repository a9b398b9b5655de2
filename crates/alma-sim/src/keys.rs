//! API keys and the areas they open.
//!
//! An Alma API key is granted per area of the API (Users, Bibs, Resource Sharing Partners, Task Lists …),
//! each read-only or read/write, in API key management. A key used outside its areas, or for a write where
//! it has only read, gets the same answer as an unknown key: HTTP 400 `UNAUTHORIZED` "API-key not defined or
//! not configured to allow this API." (an integrator's README ties that answer to a missing area
//! permission). Which methods count as writes is UNCONFIRMED in detail: every method but GET and HEAD.
//!
//! The seed's `api_key` opens every area read/write, so seeds and tests without `api_keys` behave as
//! before; an `api_keys` entry for the same key narrows it.

use std::collections::HashMap;

use axum::http::Method;
use serde::{Deserialize, Serialize};

/// One area of Alma's REST API, as an API key's permissions name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiArea {
    /// Users, their loans, requests and resource-sharing (borrowing) requests: `/users/…`.
    #[serde(alias = "Users")]
    Users,
    /// Bibliographic records and inventory (bibs, holdings, items, scan-in): `/bibs/…`, `/items`.
    #[serde(alias = "Bibs")]
    Bibs,
    /// Resource-sharing partners and their lending requests: `/partners/…`.
    #[serde(alias = "Resource Sharing Partners")]
    ResourceSharingPartners,
    /// Task lists, e.g. the lending requests awaiting staff: `/task-lists/…`.
    #[serde(alias = "Task Lists")]
    TaskLists,
    /// Configuration (libraries, desks, code tables); the simulator serves none of it.
    #[serde(alias = "Configuration")]
    Configuration,
    /// Acquisitions; the simulator serves none of it.
    #[serde(alias = "Acquisitions")]
    Acquisitions,
    /// Analytics reports; the simulator serves none of it.
    #[serde(alias = "Analytics")]
    Analytics,
    /// Courses and reading lists; the simulator serves none of it.
    #[serde(alias = "Courses")]
    Courses,
    /// Electronic resources; the simulator serves none of it.
    #[serde(alias = "Electronic")]
    Electronic,
}

/// What a key may do in one area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiAccess {
    /// GET only (and the few POSTs Alma lets a read-only key make, such as `op=auth`).
    Read,
    /// Every method.
    ReadWrite,
}

/// One area a seeded key opens (`{"area": "users", "access": "read"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) struct AreaGrant {
    pub area: ApiArea,
    pub access: ApiAccess,
}

/// A seeded key limited to some areas (`{"key": "…", "areas": [AreaGrant …]}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct LimitedKey {
    pub key: String,
    pub areas: Vec<AreaGrant>,
}

/// Every key the simulator accepts, with its areas (`None`: all areas, read/write).
#[derive(Debug)]
pub(crate) struct KeyRing {
    keys: HashMap<String, Option<Vec<AreaGrant>>>,
}

impl KeyRing {
    pub(crate) fn new(all_areas: &str, limited: &[LimitedKey]) -> KeyRing {
        let mut keys = HashMap::new();
        keys.insert(all_areas.to_owned(), None);
        for k in limited {
            keys.insert(k.key.clone(), Some(k.areas.clone()));
        }
        KeyRing { keys }
    }

    /// Whether `key` may make this call. An unknown key may make none; a path outside every area (no
    /// such API) is open to any known key, so it meets the unknown-path answer.
    pub(crate) fn allows(&self, key: &str, method: &Method, rest_path: &str, query: &str) -> bool {
        let Some(grants) = self.keys.get(key) else { return false };
        let Some(grants) = grants else { return true };
        let Some(area) = area_of(rest_path) else { return true };
        let write = is_write(method, rest_path, query);
        grants.iter().any(|g| g.area == area && (!write || g.access == ApiAccess::ReadWrite))
    }
}

/// The area a path under `/almaws/v1` belongs to (the first segment, as Alma's API reference groups them).
pub(crate) fn area_of(rest_path: &str) -> Option<ApiArea> {
    let first = rest_path.trim_start_matches('/').split('/').next().unwrap_or_default();
    match first {
        "users" => Some(ApiArea::Users),
        "bibs" | "items" => Some(ApiArea::Bibs),
        "partners" => Some(ApiArea::ResourceSharingPartners),
        "task-lists" => Some(ApiArea::TaskLists),
        "conf" => Some(ApiArea::Configuration),
        "acq" => Some(ApiArea::Acquisitions),
        "analytics" => Some(ApiArea::Analytics),
        "courses" => Some(ApiArea::Courses),
        "electronic" => Some(ApiArea::Electronic),
        _ => None,
    }
}

/// Whether the call needs read/write access. Every method but GET and HEAD writes, except
/// `POST /users/{id}?op=auth` (`auth` is the default op), which the Users API documents as open to
/// read-only keys (alma.md §2.1).
fn is_write(method: &Method, rest_path: &str, query: &str) -> bool {
    if *method == Method::GET || *method == Method::HEAD {
        return false;
    }
    let segments: Vec<&str> = rest_path.trim_matches('/').split('/').collect();
    let password_check = *method == Method::POST
        && segments.len() == 2
        && segments[0] == "users"
        && matches!(crate::http::gate::query_param(query, "op").as_deref(), None | Some("auth"));
    !password_check
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        let users_read = LimitedKey {
            key: "users-read".into(),
            areas: vec![AreaGrant { area: ApiArea::Users, access: ApiAccess::Read }],
        };
        KeyRing::new("all", &[users_read])
    }

    #[test]
    fn every_route_the_simulator_serves_has_an_area() {
        for (path, area) in [
            ("/users/patron1", ApiArea::Users),
            ("/users/patron1/loans/7", ApiArea::Users),
            ("/users/patron1/resource-sharing-requests", ApiArea::Users),
            ("/items", ApiArea::Bibs),
            ("/bibs/1/holdings/2/items/3", ApiArea::Bibs),
            ("/partners/RELAIS/lending-requests", ApiArea::ResourceSharingPartners),
            ("/task-lists/rs/lending-requests", ApiArea::TaskLists),
            ("/users/operation/test", ApiArea::Users),
            ("/bibs/test", ApiArea::Bibs),
            ("/partners/operation/test", ApiArea::ResourceSharingPartners),
            ("/task-lists/test", ApiArea::TaskLists),
        ] {
            assert_eq!(area_of(path), Some(area), "{path}");
        }
        assert_eq!(area_of("/nothing-here"), None);
    }

    #[test]
    fn read_keys_may_read_and_check_a_password_but_not_write() {
        let r = ring();
        assert!(r.allows("users-read", &Method::GET, "/users/patron1", ""));
        assert!(r.allows("users-read", &Method::POST, "/users/patron1", "op=auth&password=x"));
        assert!(!r.allows("users-read", &Method::POST, "/users/patron1/loans/7", "op=renew"));
        assert!(!r.allows("users-read", &Method::POST, "/users/patron1", "op=refresh"));
        assert!(!r.allows("users-read", &Method::GET, "/items", "item_barcode=1"));
        assert!(r.allows("all", &Method::DELETE, "/users/p/resource-sharing-requests/1", ""));
        assert!(!r.allows("stranger", &Method::GET, "/users/patron1", ""));
    }
}
