//! The records the simulator keeps: items, resource-sharing requests, user requests (holds) and loans.
//!
//! Users and partners stay as Alma JSON (they are read, never changed); everything circulation touches is
//! typed here and rendered back to Alma's JSON by `crate::render`.

use jiff::Timestamp;
use serde_json::Value;

/// Alma's `{value, desc}` pair, used for every code-table field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Code {
    pub value: String,
    pub desc: String,
}

impl Code {
    pub(crate) fn new(value: impl Into<String>, desc: impl Into<String>) -> Code {
        Code { value: value.into(), desc: desc.into() }
    }

    /// Reads `{value, desc}` from Alma JSON; null parts become empty strings.
    pub(crate) fn from_json(v: Option<&Value>) -> Option<Code> {
        let v = v?;
        let value = v.get("value").and_then(Value::as_str)?;
        let desc = v.get("desc").and_then(Value::as_str).unwrap_or_default();
        Some(Code::new(value, desc))
    }
}

/// Where an item came from: seeded inventory, or a temporary item AcceptItem made for a borrowing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Inventory,
    Borrowed { request_id: String },
}

/// One physical item with its bib and holding (Alma's item JSON carries all three).
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub mms_id: String,
    pub title: String,
    pub author: Option<String>,
    pub isbn: Option<String>,
    pub issn: Option<String>,
    pub holding_id: String,
    pub call_number: String,
    pub pid: String,
    pub barcode: String,
    pub library: Code,
    pub location: Code,
    /// Temporary library and location (lent items sit in the partner's check-out location).
    pub temp: Option<(Code, Code)>,
    pub in_place: bool,
    /// Alma's process type (LOAN, TRANSIT, HOLDSHELF, ILL …); None when the item is simply on the shelf.
    pub process_type: Option<Code>,
    pub requested: bool,
    pub due_date: Option<Timestamp>,
    pub material_type: Code,
    pub policy: Code,
    pub creation_date: String,
    pub origin: Origin,
    /// The seed's item JSON, so fields the simulator never changes are answered as given.
    pub seed_json: Option<Value>,
}

/// Which side of resource sharing a request belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RsSide {
    /// A patron's borrowing request (`/users/{id}/resource-sharing-requests`).
    Borrowing { user_id: String },
    /// A partner's lending request (`/partners/{code}/lending-requests`).
    Lending,
}

/// A resource-sharing request (`user_resource_sharing_request` in Alma's schema).
#[derive(Debug, Clone)]
pub(crate) struct RsRequest {
    pub request_id: String,
    pub external_id: Option<String>,
    pub side: RsSide,
    pub partner: Option<String>,
    pub status: Code,
    pub owner: String,
    pub format: Code,
    pub citation_type: Code,
    pub requested_media: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub isbn: Option<String>,
    pub issn: Option<String>,
    pub pickup_location: Option<Code>,
    pub level_of_service: Option<Code>,
    pub note: Option<String>,
    pub barcode: Option<String>,
    pub mms_id: Option<String>,
    pub item_pid: Option<String>,
    pub user_request_id: Option<String>,
    pub due_date: Option<Timestamp>,
    pub created: Timestamp,
    pub modified: Timestamp,
}

/// A user request (`user_request`): here a hold, usually the hold-shelf request of a borrowed item.
#[derive(Debug, Clone)]
pub(crate) struct Hold {
    pub request_id: String,
    pub user_id: String,
    pub sub_type: Code,
    /// NOT_STARTED, IN_PROCESS, ON_HOLD_SHELF while active; HISTORY once fulfilled or cancelled.
    pub status: String,
    pub title: String,
    pub author: Option<String>,
    pub mms_id: Option<String>,
    pub item_pid: Option<String>,
    pub barcode: Option<String>,
    pub pickup_library: Code,
    pub request_date: Timestamp,
    pub expiry_date: Option<Timestamp>,
    pub rs_request_id: Option<String>,
}

impl Hold {
    pub(crate) fn is_active(&self) -> bool {
        self.status != "HISTORY"
    }
}

/// Who holds a loan: a patron, or (lending) the partner the item was shipped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Borrower {
    User(String),
    Partner(String),
}

/// A loan (`item_loan`).
#[derive(Debug, Clone)]
pub(crate) struct Loan {
    pub loan_id: String,
    pub borrower: Borrower,
    pub item_pid: String,
    pub barcode: String,
    pub mms_id: String,
    pub title: String,
    pub author: Option<String>,
    pub library: Code,
    pub location: Code,
    pub circ_desk: Code,
    pub loan_date: Timestamp,
    pub due_date: Timestamp,
    pub active: bool,
    pub renewals: u32,
}

impl Loan {
    /// A new active loan of `item` to `borrower`, made at `now` and due at `due`.
    pub(crate) fn of(
        item: &Item,
        loan_id: String,
        borrower: Borrower,
        circ_desk: Code,
        now: Timestamp,
        due: Timestamp,
    ) -> Loan {
        Loan {
            loan_id,
            borrower,
            item_pid: item.pid.clone(),
            barcode: item.barcode.clone(),
            mms_id: item.mms_id.clone(),
            title: item.title.clone(),
            author: item.author.clone(),
            library: item.library.clone(),
            location: item.location.clone(),
            circ_desk,
            loan_date: now,
            due_date: due,
            active: true,
            renewals: 0,
        }
    }
}
