//! Records rendered in Alma's JSON shapes.
//!
//! Field names and nesting follow captured Alma answers (scriptotek/php-alma-client `spec/data`:
//! `item_response.json`, `loans_response.json`, `item_requests_response.json`,
//! `lending_requests_created.json`) and Alma's `rest_user_resource_sharing_request.xsd` (kb-dk/alma-client).
//! Dates: `"2030-01-16Z"` for dates, `"2018-08-14T20:00:00Z"` for due dates, milliseconds for `*_time`.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::state::State;
use crate::state::model::{Borrower, Code, Hold, Item, Loan, RsRequest, RsSide};

pub(crate) fn date(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dZ").to_string()
}

pub(crate) fn datetime(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn datetime_ms(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn code(c: &Code) -> Value {
    json!({ "value": c.value, "desc": c.desc })
}

fn opt_code(c: Option<&Code>) -> Value {
    c.map(code).unwrap_or_else(|| json!({ "value": null, "desc": null }))
}

pub(crate) fn item_link(base: &str, i: &Item) -> String {
    format!("{base}/bibs/{}/holdings/{}/items/{}", i.mms_id, i.holding_id, i.pid)
}

/// Whether a comma-separated `expand` parameter asks for `part` (Alma's `expand=due_date,due_date_policy`).
pub(crate) fn expands(expand: Option<&str>, part: &str) -> bool {
    expand.is_some_and(|e| e.split(',').any(|p| p.trim() == part))
}

/// `GET /bibs/{mms}/holdings/{hid}/items/{pid}`: `{bib_data, holding_data, item_data, link}`.
///
/// `item_data.due_date` and `item_data.due_date_policy` are answered only when `expand` asks for them:
/// Ex Libris' bibs swagger lists them as the values of the item GET's `expand` parameter ("due_date – Include
/// the due date of the item, if on loan", alma.md §2.4), and captured item answers made without it
/// (alma_rb `item_from_barcode.json`) carry neither.
pub(crate) fn item(base: &str, i: &Item, expand: Option<&str>) -> Value {
    let mut v = i.seed_json.clone().unwrap_or_else(|| json!({ "bib_data": {}, "holding_data": {}, "item_data": {} }));
    let bib = &mut v["bib_data"];
    bib["mms_id"] = json!(i.mms_id);
    bib["title"] = json!(i.title);
    bib["author"] = json!(i.author);
    bib["isbn"] = json!(i.isbn);
    bib["issn"] = json!(i.issn);
    bib["link"] = json!(format!("{base}/bibs/{}", i.mms_id));
    let holding = &mut v["holding_data"];
    holding["holding_id"] = json!(i.holding_id);
    holding["call_number"] = json!(i.call_number);
    holding["in_temp_location"] = json!(i.temp.is_some());
    holding["temp_library"] = opt_code(i.temp.as_ref().map(|t| &t.0));
    holding["temp_location"] = opt_code(i.temp.as_ref().map(|t| &t.1));
    holding["link"] = json!(format!("{base}/bibs/{}/holdings/{}", i.mms_id, i.holding_id));
    let data = &mut v["item_data"];
    data["pid"] = json!(i.pid);
    data["barcode"] = json!(i.barcode);
    data["creation_date"] = json!(i.creation_date);
    data["base_status"] = if i.in_place {
        json!({ "value": "1", "desc": "Item in place" })
    } else {
        json!({ "value": "0", "desc": "Item not in place" })
    };
    data["process_type"] = opt_code(i.process_type.as_ref());
    data["library"] = code(&i.library);
    data["location"] = code(&i.location);
    data["requested"] = json!(i.requested);
    data["physical_material_type"] = code(&i.material_type);
    data["policy"] = code(&i.policy);
    if let Some(o) = data.as_object_mut() {
        o.remove("due_date");
        if !expands(expand, "due_date_policy") {
            o.remove("due_date_policy");
        }
    }
    if let (Some(due), true) = (i.due_date, expands(expand, "due_date")) {
        data["due_date"] = json!(datetime(due));
    }
    v["link"] = json!(item_link(base, i));
    v
}

/// `user_resource_sharing_request`, borrowing or lending.
pub(crate) fn rs_request(base: &str, s: &State, r: &RsRequest) -> Value {
    let partner = match &r.partner {
        Some(p) => {
            let name = s.partner(p).and_then(|v| v["partner_details"]["name"].as_str()).unwrap_or(p);
            json!({ "value": p, "desc": name, "link": format!("{base}/partners/{p}") })
        }
        None => json!({ "value": null, "desc": null, "link": null }),
    };
    let requester = match &r.side {
        RsSide::Borrowing { user_id } => {
            let name = s.find_user(user_id, None).map(|u| u.full_name()).unwrap_or_default();
            json!({ "value": user_id, "desc": name, "link": format!("{base}/users/{user_id}") })
        }
        RsSide::Lending => Value::Null,
    };
    let user_request = match (&r.side, &r.user_request_id) {
        (RsSide::Borrowing { user_id }, Some(h)) => {
            json!({ "value": h, "link": format!("{base}/users/{user_id}/requests/{h}") })
        }
        _ => json!({ "value": null, "link": null }),
    };
    json!({
        "request_id": r.request_id,
        "external_id": r.external_id,
        "created_date": date(r.created),
        "last_modified_date": date(r.modified),
        "created_time": datetime_ms(r.created),
        "last_modified_time": datetime_ms(r.modified),
        "status": code(&r.status),
        "owner": r.owner,
        "partner": partner,
        "user_request": user_request,
        "requester": requester,
        "requested_media": r.requested_media,
        "format": code(&r.format),
        "allow_other_formats": false,
        "citation_type": code(&r.citation_type),
        "pickup_location": opt_code(r.pickup_location.as_ref()),
        "level_of_service": r.level_of_service.as_ref().map(code).unwrap_or_else(|| json!({ "value": null, "desc": "" })),
        "note": r.note,
        "rs_note": [],
        "printed": false,
        "reported": false,
        "mms_id": r.mms_id,
        "barcode": r.barcode,
        "title": r.title,
        "author": r.author,
        "isbn": r.isbn,
        "issn": r.issn,
        "due_date": r.due_date.map(datetime),
    })
}

/// `user_request` as `GET /users/{id}/requests` lists it.
pub(crate) fn hold(s: &State, h: &Hold) -> Value {
    let rs = h.rs_request_id.as_ref().and_then(|id| s.rs.iter().find(|r| &r.request_id == id));
    let mut v = json!({
        "request_id": h.request_id,
        "user_primary_id": h.user_id,
        "request_type": "HOLD",
        "request_sub_type": code(&h.sub_type),
        "request_status": h.status,
        "pickup_location": h.pickup_library.desc,
        "pickup_location_type": "LIBRARY",
        "pickup_location_library": h.pickup_library.value,
        "material_type": { "value": "BOOK", "desc": "Book" },
        "title": h.title,
        "author": h.author,
        "description": null,
        "comment": null,
        "mms_id": h.mms_id,
        "item_id": h.item_pid,
        "barcode": h.barcode,
        "request_date": date(h.request_date),
        "request_time": datetime_ms(h.request_date),
        "expiry_date": h.expiry_date.map(date),
        "place_in_queue": 1,
    });
    if let Some(rs) = rs {
        // Hold-shelf ILL holds point back at their borrowing request (unverified field; Alma's user request
        // schema carries a resource_sharing block for RS-created requests).
        v["resource_sharing"] =
            json!({ "id": rs.request_id, "status": code(&rs.status), "external_id": rs.external_id });
    }
    v
}

/// `item_loan`. `renewable` is answered only with `expand=renewable`, the one value the loans swagger lists
/// for that parameter (alma.md §2.4).
pub(crate) fn loan(base: &str, l: &Loan, expand: Option<&str>) -> Value {
    let user_id = match &l.borrower {
        Borrower::User(u) => u.clone(),
        Borrower::Partner(p) => p.clone(),
    };
    let mut v = json!({
        "loan_id": l.loan_id,
        "user_id": user_id,
        "item_barcode": l.barcode,
        "item_id": l.item_pid,
        "mms_id": l.mms_id,
        "title": l.title,
        "author": l.author,
        "description": null,
        "library": code(&l.library),
        "location_code": { "value": l.location.value, "name": l.location.desc },
        "circ_desk": code(&l.circ_desk),
        "item_policy": { "value": null, "description": null },
        "loan_status": if l.active { "ACTIVE" } else { "COMPLETE" },
        "loan_date": datetime(l.loan_date),
        "due_date": datetime(l.due_date),
        "process_status": if l.renewals > 0 { "RENEW" } else { "NORMAL" },
        "link": format!("{base}/users/{user_id}/loans/{}", l.loan_id),
    });
    if expands(expand, "renewable") {
        v["renewable"] = json!(true);
    }
    v
}

/// A list in Alma's envelope: `{"<key>": [...], "total_record_count": n}`; an empty list has no array,
/// as Alma omits empty repeated elements.
pub(crate) fn list(key: &str, entries: Vec<Value>) -> Value {
    let n = entries.len();
    if n == 0 { json!({ "total_record_count": 0 }) } else { json!({ key: entries, "total_record_count": n }) }
}

/// The admin view is not Alma's API: it shows every field.
const ADMIN_EXPAND: &str = "due_date,due_date_policy,renewable";

/// `GET /admin/state`: every record in Alma's shape, grouped by kind.
pub(crate) fn state_json(s: &State, base: &str) -> Value {
    let borrowing: Vec<Value> =
        s.rs.iter().filter(|r| matches!(r.side, RsSide::Borrowing { .. })).map(|r| rs_request(base, s, r)).collect();
    let lending: Vec<Value> =
        s.rs.iter().filter(|r| r.side == RsSide::Lending).map(|r| rs_request(base, s, r)).collect();
    json!({
        "institution_code": s.institution_code,
        "libraries": s.libraries,
        "partners": s.partners,
        "users": s.users.iter().map(|u| u.json.clone()).collect::<Vec<_>>(),
        "items": s.items.iter().map(|i| item(base, i, Some(ADMIN_EXPAND))).collect::<Vec<_>>(),
        "borrowing_requests": borrowing,
        "lending_requests": lending,
        "requests": s.holds.iter().map(|h| hold(s, h)).collect::<Vec<_>>(),
        "loans": s.loans.iter().map(|l| loan(base, l, Some(ADMIN_EXPAND))).collect::<Vec<_>>(),
    })
}
