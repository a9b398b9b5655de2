//! The simulator's one shared state, behind one lock.
//!
//! Every REST and NCIP handler runs its whole read-modify-write inside `Store::with`, so concurrent calls
//! never interleave half-way (no lost updates) and the lock is never held across an await.

pub(crate) mod circ;
pub(crate) mod lending;
pub(crate) mod model;
pub(crate) mod patrons;

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::errors::AlmaError;
use crate::seed::{Library, Seed};
use model::{Code, Hold, Item, Loan, Origin, RsRequest};

/// A user as Alma's JSON (password removed) plus the password op=auth checks.
#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub json: Value,
    pub password: Option<String>,
}

impl UserRec {
    pub(crate) fn primary_id(&self) -> &str {
        self.json["primary_id"].as_str().unwrap_or_default()
    }

    pub(crate) fn is_active(&self) -> bool {
        self.json["status"]["value"] == "ACTIVE"
    }

    /// Active blocks (`user_block[].block_status == ACTIVE`).
    pub(crate) fn is_blocked(&self) -> bool {
        self.json["user_block"].as_array().is_some_and(|blocks| blocks.iter().any(|b| b["block_status"] == "ACTIVE"))
    }

    /// Matches Alma's `user_id_type`: absent or `all_unique` tries the primary id and every identifier
    /// (Alma's Users API docs: "If this is not provided, all unique identifier types are used"); any other
    /// value must equal an identifier's `id_type.value`.
    pub(crate) fn matches(&self, id: &str, id_type: Option<&str>) -> bool {
        let idents = self.json["user_identifier"].as_array().map(Vec::as_slice).unwrap_or_default();
        match id_type {
            None | Some("all_unique") => self.primary_id() == id || idents.iter().any(|i| i["value"] == id),
            Some(t) => idents.iter().any(|i| i["value"] == id && i["id_type"]["value"] == t),
        }
    }

    /// Whether Alma's user search `q=<field>~<wanted>` finds this user: `wanted` (lower case) is contained
    /// in the field, ignoring case. `identifiers` covers the primary id and every identifier; `all` every
    /// searchable field.
    pub(crate) fn searched_by(&self, field: &str, wanted: &str) -> bool {
        let contains = |v: &Value| v.as_str().is_some_and(|s| s.to_lowercase().contains(wanted));
        let idents = || self.json["user_identifier"].as_array().into_iter().flatten().map(|i| &i["value"]);
        let emails =
            || self.json["contact_info"]["email"].as_array().into_iter().flatten().map(|e| &e["email_address"]);
        match field {
            "primary_id" => contains(&self.json["primary_id"]),
            "identifiers" => contains(&self.json["primary_id"]) || idents().any(contains),
            "email" => emails().any(contains),
            "first_name" | "last_name" => contains(&self.json[field]),
            _ => {
                ["primary_id", "first_name", "last_name"].iter().any(|f| contains(&self.json[*f]))
                    || idents().any(contains)
                    || emails().any(contains)
            }
        }
    }

    pub(crate) fn full_name(&self) -> String {
        self.json["full_name"].as_str().map(str::to_owned).unwrap_or_else(|| {
            format!(
                "{} {}",
                self.json["first_name"].as_str().unwrap_or_default(),
                self.json["last_name"].as_str().unwrap_or_default()
            )
        })
    }
}

/// Everything Alma would know.
#[derive(Debug)]
pub(crate) struct State {
    pub institution_code: String,
    /// AgencyIds Alma answers to: the institution code and the seed's `agency_ids`.
    pub agency_ids: Vec<String>,
    pub check_id_agency_ids: bool,
    pub libraries: Vec<Library>,
    pub users: Vec<UserRec>,
    pub partners: Vec<Value>,
    pub items: Vec<Item>,
    pub rs: Vec<RsRequest>,
    pub holds: Vec<Hold>,
    pub loans: Vec<Loan>,
    next_id: u64,
}

impl State {
    fn from_seed(seed: &Seed) -> State {
        let users = seed
            .users
            .iter()
            .map(|u| {
                let mut json = u.clone();
                let password = json.as_object_mut().and_then(|o| o.remove("password"));
                // A captured Alma user carries "password": "" (scriptotek fixture user_response.json).
                json["password"] = Value::String(String::new());
                UserRec { json, password: password.and_then(|p| p.as_str().map(str::to_owned)) }
            })
            .collect();
        State {
            institution_code: seed.institution_code.clone(),
            agency_ids: std::iter::once(seed.institution_code.clone()).chain(seed.agency_ids.iter().cloned()).collect(),
            check_id_agency_ids: seed.check_id_agency_ids,
            libraries: seed.libraries.clone(),
            users,
            partners: seed.partners.clone(),
            items: seed.items.iter().map(item_from_seed).collect(),
            rs: Vec::new(),
            holds: Vec::new(),
            loans: Vec::new(),
            next_id: 1,
        }
    }

    /// A new Alma-looking id: a kind prefix, a sequence and the institution suffix Alma ids end with.
    pub(crate) fn new_id(&mut self, prefix: &str) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("{prefix}10{n:08}0105")
    }

    pub(crate) fn find_user(&self, id: &str, id_type: Option<&str>) -> Result<&UserRec, AlmaError> {
        self.users.iter().find(|u| u.matches(id, id_type)).ok_or_else(|| match id_type {
            None | Some("all_unique") => AlmaError::user_not_found(id),
            Some(t) => AlmaError::user_not_found_of_type(id, t),
        })
    }

    pub(crate) fn partner(&self, code: &str) -> Option<&Value> {
        self.partners.iter().find(|p| p["partner_details"]["code"] == code)
    }

    /// The library's name as `desc`; the code itself when the seed does not name it.
    pub(crate) fn library_code(&self, code: &str) -> Code {
        let name = self.libraries.iter().find(|l| l.code == code).map(|l| l.name.clone());
        Code::new(code, name.unwrap_or_else(|| code.to_owned()))
    }

    pub(crate) fn circ_desk_of(&self, library: &str) -> Code {
        self.libraries
            .iter()
            .find(|l| l.code == library)
            .map(|l| Code::new(l.circ_desk.code.clone(), l.circ_desk.name.clone()))
            .unwrap_or_else(|| Code::new("DEFAULT_CIRC_DESK", "Circulation Desk"))
    }

    /// The newest item with this barcode: a duplicate temporary item (see `circ::accept_item`) shadows
    /// the older one, as a barcode lookup in Alma returns one item only.
    pub(crate) fn item_by_barcode(&self, barcode: &str) -> Option<usize> {
        self.items.iter().rposition(|i| i.barcode == barcode)
    }
}

/// The lock around [`State`], plus the seed it resets to.
#[derive(Debug)]
pub(crate) struct Store {
    seed: Seed,
    inner: Mutex<State>,
}

impl Store {
    pub(crate) fn new(seed: Seed) -> Store {
        let state = State::from_seed(&seed);
        Store { seed, inner: Mutex::new(state) }
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        // A panic inside a handler must not wedge every later test call: take the state as it was.
        let mut guard = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    pub(crate) fn reset(&self) {
        let fresh = State::from_seed(&self.seed);
        self.with(|s| *s = fresh);
    }
}

/// Read access to the simulator's state for in-process tests (the same data as `GET /admin/state`).
#[derive(Clone)]
pub struct StateView {
    pub(crate) store: Arc<Store>,
    pub(crate) base_url: Arc<str>,
}

impl StateView {
    /// The whole state as JSON, every record in Alma's own shape (see `GET /admin/state`).
    pub fn snapshot(&self) -> Value {
        self.store.with(|s| crate::render::state_json(s, &self.base_url))
    }

    /// Number of items (inventory and temporary) with this barcode; 2 or more means a duplicate.
    pub fn items_with_barcode(&self, barcode: &str) -> usize {
        self.store.with(|s| s.items.iter().filter(|i| i.barcode == barcode).count())
    }

    /// Staff in Alma put an active general block on the user whose primary id or identifier is `id` (or
    /// lift every block when `blocked` is false). False when no user has that id.
    pub fn set_user_blocked(&self, id: &str, blocked: bool) -> bool {
        self.store.with(|s| {
            let Some(user) = s.users.iter_mut().find(|u| u.matches(id, None)) else { return false };
            let blocks = if blocked {
                serde_json::json!([{
                    "block_type": {"value": "GENERAL", "desc": "General"},
                    "block_description": {"value": "03", "desc": "Library card lost"},
                    "block_status": "ACTIVE",
                    "created_by": "simulator",
                }])
            } else {
                serde_json::json!([])
            };
            user.json["user_block"] = blocks;
            true
        })
    }

    /// Total items, borrowing requests, lending requests, active holds and active loans.
    pub fn counts(&self) -> Counts {
        self.store.with(|s| Counts {
            items: s.items.len(),
            borrowing_requests: s.rs.iter().filter(|r| matches!(r.side, model::RsSide::Borrowing { .. })).count(),
            lending_requests: s.rs.iter().filter(|r| r.side == model::RsSide::Lending).count(),
            active_holds: s.holds.iter().filter(|h| h.is_active()).count(),
            active_loans: s.loans.iter().filter(|l| l.active).count(),
        })
    }
}

/// Record counts, for tests that check nothing was lost or duplicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Items, seeded and created (a borrowing's temporary item counts).
    pub items: usize,
    /// Borrowing requests (ours from a partner).
    pub borrowing_requests: usize,
    /// Lending requests (a partner's from us).
    pub lending_requests: usize,
    /// Hold requests Alma has not moved to history (not yet fulfilled or cancelled).
    pub active_holds: usize,
    /// Loans not yet returned.
    pub active_loans: usize,
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Seed items were validated (ids present), so only optional fields need defaults here.
fn item_from_seed(v: &Value) -> Item {
    let temp_library = Code::from_json(v.pointer("/holding_data/temp_library"));
    let temp_location = Code::from_json(v.pointer("/holding_data/temp_location"));
    let in_temp = v.pointer("/holding_data/in_temp_location").and_then(Value::as_bool).unwrap_or(false);
    Item {
        mms_id: str_at(v, "/bib_data/mms_id").unwrap_or_default(),
        title: str_at(v, "/bib_data/title").unwrap_or_default(),
        author: str_at(v, "/bib_data/author"),
        isbn: str_at(v, "/bib_data/isbn"),
        issn: str_at(v, "/bib_data/issn"),
        holding_id: str_at(v, "/holding_data/holding_id").unwrap_or_default(),
        call_number: str_at(v, "/holding_data/call_number").unwrap_or_default(),
        pid: str_at(v, "/item_data/pid").unwrap_or_default(),
        barcode: str_at(v, "/item_data/barcode").unwrap_or_default(),
        library: Code::from_json(v.pointer("/item_data/library")).unwrap_or_else(|| Code::new("MAIN", "")),
        location: Code::from_json(v.pointer("/item_data/location")).unwrap_or_else(|| Code::new("STACKS", "")),
        temp: match (in_temp, temp_library, temp_location) {
            (true, Some(l), Some(c)) => Some((l, c)),
            _ => None,
        },
        in_place: v.pointer("/item_data/base_status/value").and_then(Value::as_str) != Some("0"),
        process_type: Code::from_json(v.pointer("/item_data/process_type")).filter(|c| !c.value.is_empty()),
        requested: v.pointer("/item_data/requested").and_then(Value::as_bool).unwrap_or(false),
        due_date: None,
        material_type: Code::from_json(v.pointer("/item_data/physical_material_type"))
            .unwrap_or_else(|| Code::new("BOOK", "Book")),
        policy: Code::from_json(v.pointer("/item_data/policy")).unwrap_or_else(|| Code::new("", "")),
        creation_date: str_at(v, "/item_data/creation_date").unwrap_or_else(|| "2020-01-01Z".into()),
        origin: Origin::Inventory,
        seed_json: Some(v.clone()),
    }
}
