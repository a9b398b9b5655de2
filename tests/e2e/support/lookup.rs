//! Patron-lookup material: LookupUser messages as Relais and the other dialects send them, seeds with the
//! corpus' patrons, and a capture of everything the bridge logs (to check that no patron data reaches it).

use alma_sim::Seed;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// A LookupUser message, built up the way each client dialect fills it.
#[derive(Debug, Default, Clone)]
pub struct Lookup {
    user_id: Option<String>,
    inputs: Vec<(String, String)>,
    elements: Vec<String>,
    loans: bool,
    /// FromAgencyId; `Relais` unless set.
    agency: Option<String>,
}

impl Lookup {
    /// By `UserId` (Relais' way).
    pub fn user(id: &str) -> Lookup {
        Lookup { user_id: Some(id.to_owned()), ..Lookup::default() }
    }

    /// By `AuthenticationInput`s only: `(AuthenticationInputType, AuthenticationInputData)`.
    pub fn auth(inputs: &[(&str, &str)]) -> Lookup {
        Lookup { inputs: inputs.iter().map(|(t, d)| ((*t).to_owned(), (*d).to_owned())).collect(), ..Lookup::default() }
    }

    pub fn auth_input(mut self, input_type: &str, data: &str) -> Lookup {
        self.inputs.push((input_type.to_owned(), data.to_owned()));
        self
    }

    pub fn elements(mut self, element_types: &[&str]) -> Lookup {
        self.elements = element_types.iter().map(|e| (*e).to_owned()).collect();
        self
    }

    /// Sent by another calling agency (FromAgencyId).
    pub fn sent_by(mut self, agency: &str) -> Lookup {
        self.agency = Some(agency.to_owned());
        self
    }

    pub fn loans(mut self) -> Lookup {
        self.loans = true;
        self
    }

    pub fn xml(&self) -> String {
        let agency = self.agency.as_deref().unwrap_or("Relais");
        let mut body = format!(
            "<InitiationHeader><FromAgencyId><AgencyId>{agency}</AgencyId></FromAgencyId>\
             <ToAgencyId><AgencyId>01DEMO_INST</AgencyId></ToAgencyId></InitiationHeader>",
        );
        if let Some(id) = &self.user_id {
            body.push_str(&format!(
                "<UserId><UserIdentifierType>Barcode</UserIdentifierType><UserIdentifierValue>{id}</UserIdentifierValue></UserId>"
            ));
        }
        for (input_type, data) in &self.inputs {
            body.push_str(&format!(
                "<AuthenticationInput><AuthenticationInputData>{data}</AuthenticationInputData>\
                 <AuthenticationDataFormatType>text/plain</AuthenticationDataFormatType>\
                 <AuthenticationInputType>{input_type}</AuthenticationInputType></AuthenticationInput>"
            ));
        }
        for element in &self.elements {
            body.push_str(&format!("<UserElementType>{element}</UserElementType>"));
        }
        if self.loans {
            body.push_str("<LoanedItemsDesired/>");
        }
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<NCIPMessage xmlns="http://www.niso.org/2008/ncip" version="http://www.niso.org/schemas/ncip/v2_02/ncip_v2_02.xsd"><LookupUser>{body}</LookupUser></NCIPMessage>"#
        )
    }
}

fn demo_json() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/alma-sim/seed/demo.json");
    serde_json::from_slice(&std::fs::read(path).expect("the demo seed")).expect("the demo seed is JSON")
}

/// The demo seed with the RELAIS partner's User Identifier Type set to `id_type` (`BARCODE`, `PRIMARY_ID`,
/// `UNIV_ID`): the one identifier Alma's responder matches.
pub fn demo_seed_matching(id_type: &str) -> Seed {
    let mut seed = demo_json();
    let partner = seed["partners"]
        .as_array_mut()
        .expect("partners")
        .iter_mut()
        .find(|p| p["partner_details"]["code"] == "RELAIS")
        .expect("the RELAIS partner");
    partner["partner_details"]["profile_details"]["ncip_details"]["general_user_id_type"]["value"] = id_type.into();
    Seed::from_json(serde_json::to_vec(&seed).unwrap()).expect("valid seed")
}

/// The demo seed plus `users`.
pub fn demo_seed_with(users: Vec<Value>) -> Seed {
    let mut seed = demo_json();
    seed["users"].as_array_mut().expect("users").extend(users);
    Seed::from_json(serde_json::to_vec(&seed).unwrap()).expect("valid seed")
}

/// An active UNDERGRAD patron in Alma's JSON shape (the demo's patron1, re-identified).
pub fn seeded_user(primary_id: &str, identifiers: &[(&str, &str)], password: Option<&str>) -> Value {
    let mut user = demo_json()["users"][0].clone();
    assert_eq!(user["primary_id"], "patron1", "the demo's first user is the template");
    user["primary_id"] = primary_id.into();
    user["user_identifier"] = identifiers
        .iter()
        .map(|(kind, value)| serde_json::json!({"id_type": {"value": kind}, "value": value, "status": "ACTIVE"}))
        .collect();
    user["password"] = password.map_or(Value::Null, Value::from);
    user
}

/// Everything a test's subscriber writes: its `MakeWriter` (a clone per line) and what it wrote.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// How much has been written so far, to read what one step added.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs, once per test process, a JSON subscriber (the Lambda format, with span fields) into a buffer.
pub fn capture_logs() -> CapturedLogs {
    static CAPTURE: OnceLock<CapturedLogs> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let captured = CapturedLogs::default();
            let sink = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(
                    "warn,bridge=trace,alma_relais_bridge=trace,alma_sim=trace,bridge_store=trace,ncip_codec=trace",
                ))
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(move || sink.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other subscriber in this test process");
            captured
        })
        .clone()
}
