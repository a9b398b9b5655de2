//! The data a simulator starts from: institution, libraries, partners, users and items. The demo's partners
//! match patrons by barcode (`RELAIS`) and by primary id under the partner schema's `user_name`
//! (`RELAIS_PRIMARY`).
//!
//! File format (`ALMA_SIM_SEED`, see `seed/demo.json`):
//! ```json
//! { "institution_code": "01DEMO_INST", "api_key": "optional", "per_second_threshold": 25,
//!   "daily_api_limit": 50000,
//!   "api_keys": [{"key": "users-only", "areas": [{"area": "users", "access": "read_write"}]}],
//!   "agency_ids": ["AU-NU"], "check_id_agency_ids": true,
//!   "libraries": [{"code": "MAIN", "name": "Main Library", "circ_desk": {"code": "DEFAULT_CIRC_DESK", "name": "…"}}],
//!   "partners": [ /* as GET /partners/{code} returns it */ ],
//!   "users":    [ /* as GET /users/{id} returns it, plus "password" */ ],
//!   "items":    [ /* as GET /items?item_barcode= returns it */ ] }
//! ```
//! Entries stay in Alma's own JSON shape so a seed can be written by copying real (anonymised) answers.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::keys::{ApiAccess, ApiArea, AreaGrant, LimitedKey};

/// Why a seed could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The seed file could not be read.
    #[error("cannot read seed file {path}: {source}")]
    Io {
        /// The file, as given (`ALMA_SIM_SEED`).
        path: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not JSON, or not the seed's shape.
    #[error("seed is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// The entries contradict each other or lack an id Alma always has (e.g. a user without `primary_id`).
    #[error("seed is inconsistent: {0}")]
    Invalid(String),
}

/// A library and its circulation desk, used for pickup locations, loans and holds.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub(crate) struct Library {
    pub code: String,
    pub name: String,
    pub circ_desk: Desk,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub(crate) struct Desk {
    pub code: String,
    pub name: String,
}

#[derive(Deserialize)]
struct SeedFile {
    institution_code: String,
    api_key: Option<String>,
    #[serde(default)]
    api_keys: Vec<LimitedKey>,
    per_second_threshold: Option<u32>,
    daily_api_limit: Option<u64>,
    #[serde(default)]
    agency_ids: Vec<String>,
    check_id_agency_ids: Option<bool>,
    #[serde(default)]
    libraries: Vec<Library>,
    #[serde(default)]
    partners: Vec<Value>,
    #[serde(default)]
    users: Vec<Value>,
    #[serde(default)]
    items: Vec<Value>,
}

/// The simulator's starting data; [`crate::AlmaSim::start`] copies it, `POST /admin/reset` returns to it.
#[derive(Debug, Clone)]
pub struct Seed {
    pub(crate) institution_code: String,
    pub(crate) api_key: String,
    /// Keys limited to some areas of the API; one naming `api_key` narrows that key.
    pub(crate) api_keys: Vec<LimitedKey>,
    pub(crate) per_second_threshold: u32,
    pub(crate) daily_api_limit: u64,
    /// AgencyIds Alma answers to besides the institution code (an institution or library ISIL).
    pub(crate) agency_ids: Vec<String>,
    /// Whether an AgencyId inside UserId / ItemId must be one of ours (see `ncip::agencies`).
    pub(crate) check_id_agency_ids: bool,
    pub(crate) libraries: Vec<Library>,
    pub(crate) partners: Vec<Value>,
    pub(crate) users: Vec<Value>,
    pub(crate) items: Vec<Value>,
}

/// The key the simulator accepts when the seed names none.
pub const DEFAULT_API_KEY: &str = "sim-api-key";
/// Alma's documented per-second threshold (Ex Libris "REST API Governance Thresholds").
pub const DEFAULT_PER_SECOND_THRESHOLD: u32 = 25;
/// 1,000 calls a day per named user; 50 named users is a small institution.
pub const DEFAULT_DAILY_API_LIMIT: u64 = 50_000;

const DEMO: &str = include_str!("../seed/demo.json");

impl Seed {
    /// The built-in demo data (`crates/alma-sim/seed/demo.json`).
    pub fn demo() -> Seed {
        Seed::from_json(DEMO.as_bytes()).expect("the bundled demo seed is valid")
    }

    /// Parses a seed from JSON bytes in the format described in the module docs.
    pub fn from_json(bytes: impl AsRef<[u8]>) -> Result<Seed, SeedError> {
        let file: SeedFile = serde_json::from_slice(bytes.as_ref())?;
        let seed = Seed {
            institution_code: file.institution_code,
            api_key: file.api_key.unwrap_or_else(|| DEFAULT_API_KEY.to_owned()),
            api_keys: file.api_keys,
            per_second_threshold: file.per_second_threshold.unwrap_or(DEFAULT_PER_SECOND_THRESHOLD),
            daily_api_limit: file.daily_api_limit.unwrap_or(DEFAULT_DAILY_API_LIMIT),
            agency_ids: file.agency_ids,
            check_id_agency_ids: file.check_id_agency_ids.unwrap_or(true),
            libraries: file.libraries,
            partners: file.partners,
            users: file.users,
            items: file.items,
        };
        seed.validate()?;
        Ok(seed)
    }

    /// Reads and parses a seed file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Seed, SeedError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| SeedError::Io { path: path.display().to_string(), source })?;
        Seed::from_json(bytes)
    }

    /// The Alma institution code (NCIP `ToAgencyId`, e.g. `01DEMO_INST`).
    pub fn institution_code(&self) -> &str {
        &self.institution_code
    }

    /// The API key the simulator will accept in every area (unless [`Seed::with_api_key_for_areas`]
    /// narrowed it).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Replaces the key accepted in every area.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Seed {
        self.api_key = key.into();
        self
    }

    /// Adds a key that opens only these areas, as an institution's key management grants them, replacing
    /// an earlier grant for the same key. Naming the seed's own [`Seed::api_key`] narrows that key, so a
    /// bridge set up with [`crate::AlmaSim::api_key`] meets the limit, e.g. a key without
    /// [`ApiArea::Bibs`] sees every item lookup refused with `UNAUTHORIZED`.
    pub fn with_api_key_for_areas(
        mut self,
        key: impl Into<String>,
        areas: impl IntoIterator<Item = (ApiArea, ApiAccess)>,
    ) -> Seed {
        let key = key.into();
        let areas = areas.into_iter().map(|(area, access)| AreaGrant { area, access }).collect();
        self.api_keys.retain(|k| k.key != key);
        self.api_keys.push(LimitedKey { key, areas });
        self
    }

    /// Sets the per-second threshold above which REST calls get HTTP 429 `PER_SECOND_THRESHOLD`.
    pub fn with_per_second_threshold(mut self, calls_per_second: u32) -> Seed {
        self.per_second_threshold = calls_per_second;
        self
    }

    /// Sets whether an AgencyId inside UserId / ItemId must name this institution (default: it must).
    pub fn with_check_id_agency_ids(mut self, check: bool) -> Seed {
        self.check_id_agency_ids = check;
        self
    }

    /// Replaces the partners (each in Alma's `GET /partners/{code}` shape).
    pub fn with_partners(mut self, partners: Vec<Value>) -> Seed {
        self.partners = partners;
        self
    }

    /// The partners as seeded, in Alma's JSON shape (tests edit one and pass the list to `with_partners`).
    pub fn partners(&self) -> &[Value] {
        &self.partners
    }

    /// Adds a user (in Alma's `GET /users/{id}` shape, with an optional `password` for `op=auth`).
    pub fn with_user(mut self, user: Value) -> Seed {
        self.users.push(user);
        self
    }

    /// Adds copies of the seeded item `barcode` under each of `barcodes`: the same title and holding, each copy
    /// with its own pid (`29…`, a range the demo seed leaves free). A load run that lends many items at once
    /// needs that many on the shelf. `None` when no seeded item has `barcode`.
    pub fn with_copies_of(mut self, barcode: &str, barcodes: impl IntoIterator<Item = String>) -> Option<Seed> {
        let original = self.items.iter().find(|i| i.pointer("/item_data/barcode") == Some(&Value::from(barcode)))?;
        let original = original.clone();
        let copies: Vec<Value> = barcodes
            .into_iter()
            .enumerate()
            .map(|(n, copy_barcode)| {
                let mut copy = original.clone();
                copy["item_data"]["barcode"] = Value::from(copy_barcode);
                copy["item_data"]["pid"] = Value::from(format!("29{n:011}0105"));
                copy
            })
            .collect();
        self.items.extend(copies);
        Some(self)
    }

    /// Sets the daily cap that `X-Exl-Api-Remaining` counts down from.
    pub fn with_daily_api_limit(mut self, calls_per_day: u64) -> Seed {
        self.daily_api_limit = calls_per_day;
        self
    }

    fn validate(&self) -> Result<(), SeedError> {
        let invalid = |m: String| Err(SeedError::Invalid(m));
        if self.institution_code.trim().is_empty() {
            return invalid("institution_code is empty".into());
        }
        let mut keys = std::collections::HashSet::new();
        for (n, k) in self.api_keys.iter().enumerate() {
            if k.key.trim().is_empty() {
                return invalid(format!("api_keys[{n}] has an empty key"));
            }
            if !keys.insert(k.key.as_str()) {
                return invalid(format!("api_keys[{n}]: key {} appears twice", k.key));
            }
        }
        let mut ids = std::collections::HashSet::new();
        for (n, u) in self.users.iter().enumerate() {
            let Some(id) = u.get("primary_id").and_then(Value::as_str) else {
                return invalid(format!("users[{n}] has no primary_id"));
            };
            if !ids.insert(id.to_owned()) {
                return invalid(format!("users[{n}]: primary_id {id} appears twice"));
            }
        }
        for (n, i) in self.items.iter().enumerate() {
            for pointer in ["/bib_data/mms_id", "/holding_data/holding_id", "/item_data/pid", "/item_data/barcode"] {
                if i.pointer(pointer).and_then(Value::as_str).is_none() {
                    return invalid(format!("items[{n}] has no {pointer}"));
                }
            }
        }
        for (n, p) in self.partners.iter().enumerate() {
            if p.pointer("/partner_details/code").and_then(Value::as_str).is_none() {
                return invalid(format!("partners[{n}] has no partner_details.code"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_of_an_item_keep_its_title_and_holding_under_their_own_barcode_and_pid() {
        let seed = Seed::demo().with_copies_of("39000000002", ["COPY-1".to_owned(), "COPY-2".to_owned()]).unwrap();
        let find = |barcode: &str| seed.items.iter().find(|i| i["item_data"]["barcode"] == barcode).unwrap();
        let (original, one, two) = (find("39000000002"), find("COPY-1"), find("COPY-2"));
        assert_eq!(one["bib_data"], original["bib_data"]);
        assert_eq!(one["holding_data"], original["holding_data"]);
        let pids: std::collections::HashSet<&Value> = seed.items.iter().map(|i| &i["item_data"]["pid"]).collect();
        assert_eq!(pids.len(), seed.items.len(), "every pid its own");
        assert_ne!(one["item_data"]["pid"], two["item_data"]["pid"]);
        seed.validate().unwrap();
        assert!(Seed::demo().with_copies_of("NO-SUCH-BARCODE", ["X".to_owned()]).is_none());
    }

    #[test]
    fn demo_seed_loads_with_its_key_facts() {
        let seed = Seed::demo();
        assert_eq!(seed.institution_code(), "01DEMO_INST");
        assert_eq!(seed.api_key(), "sim-api-key");
        assert!(seed.users.len() >= 6);
        assert!(seed.partners.iter().any(|p| p["partner_details"]["code"] == "RELAIS"));
        // A partner matching the primary id under the schema's own spelling, so that a bridge which reads only
        // `PRIMARY_ID` fails against the demo data as it would against Alma.
        let primary = seed.partners.iter().find(|p| p["partner_details"]["code"] == "RELAIS_PRIMARY").unwrap();
        let id_type = &primary["partner_details"]["profile_details"]["ncip_details"]["general_user_id_type"];
        assert_eq!(id_type["value"], "user_name");
    }

    #[test]
    fn missing_key_defaults_and_bad_entries_are_rejected() {
        let seed = Seed::from_json(br#"{"institution_code":"X"}"#).unwrap();
        assert_eq!(seed.api_key(), DEFAULT_API_KEY);
        let err = Seed::from_json(br#"{"institution_code":"X","users":[{"first_name":"a"}]}"#).unwrap_err();
        assert!(matches!(err, SeedError::Invalid(m) if m.contains("primary_id")));
        let err = Seed::from_json(br#"{"institution_code":"X","items":[{"item_data":{}}]}"#).unwrap_err();
        assert!(matches!(err, SeedError::Invalid(_)));
    }

    #[test]
    fn limited_keys_parse_by_area_name_and_bad_ones_are_rejected() {
        let seed = Seed::from_json(
            br#"{"institution_code":"X","api_keys":[{"key":"k","areas":[
                {"area":"users","access":"read"},{"area":"Resource Sharing Partners","access":"read_write"}]}]}"#,
        )
        .unwrap();
        let grants = &seed.api_keys[0].areas;
        assert_eq!(grants[0], AreaGrant { area: ApiArea::Users, access: ApiAccess::Read });
        assert_eq!(grants[1].area, ApiArea::ResourceSharingPartners);
        let unknown_area =
            br#"{"institution_code":"X","api_keys":[{"key":"k","areas":[{"area":"everything","access":"read"}]}]}"#;
        assert!(matches!(Seed::from_json(unknown_area), Err(SeedError::Json(_))));
        let twice = br#"{"institution_code":"X","api_keys":[{"key":"k","areas":[]},{"key":"k","areas":[]}]}"#;
        assert!(matches!(Seed::from_json(twice), Err(SeedError::Invalid(m)) if m.contains("twice")));
        let seed = Seed::demo()
            .with_api_key_for_areas("k", [(ApiArea::Bibs, ApiAccess::Read)])
            .with_api_key_for_areas("k", [(ApiArea::Users, ApiAccess::Read)]);
        assert_eq!(seed.api_keys.len(), 1);
        assert_eq!(seed.api_keys[0].areas[0].area, ApiArea::Users);
    }
}
