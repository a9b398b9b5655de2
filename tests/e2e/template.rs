//! `template.yaml` against the code it deploys: one function per crate in `functions/`, the table exactly as
//! the store expects it, every setting the code reads on Lambda given a value, the router's public routes and
//! no more, least-privilege policies, and Alma's 25 calls per second respected by the default limits.
//!
//! CloudFormation's short tags (`!Ref`, `!GetAtt`, `!Sub`, `!If`) arrive as serde_yaml tagged values.

use bridge::Function;
use bridge::config::{Env, Host, Settings};
use bridge::lambda::secrets::{LARGE_VARIABLES, SECRET_VARIABLES};
use bridge::store::schema;
use serde_yaml::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// Alma's per-second API threshold (HTTP 429 PER_SECOND_THRESHOLD above it; docs/architecture.md).
const ALMA_CALLS_PER_SECOND: u64 = 25;
/// API Gateway's integration timeout for HTTP APIs is 30 s; a function must answer before it.
const API_GATEWAY_LIMIT_SECONDS: u64 = 29;

/// Settings only the local server reads: they have no meaning on Lambda.
const LOCAL_ONLY: [&str; 13] = [
    // The local server's nightly reconciliation; on AWS the template's schedule decides.
    "RECONCILE_LOCAL_TIME",
    "BRIDGE_LISTEN",
    "BRIDGE_DATA_DIR",
    "ALMA_SIM_SEED",
    "ALMA_SIM_LISTEN",
    "LOCAL_HEADER_TIMEOUT_MS",
    "LOCAL_BODY_IDLE_TIMEOUT_MS",
    "LOCAL_REQUEST_TIMEOUT_MS",
    "LOCAL_MAX_CONNECTIONS",
    "LOCAL_MAX_CONNECTIONS_PER_PEER",
    "LOCAL_TRUSTED_PROXY",
    "LOCAL_WRITE_TIMEOUT_MS",
    "LOCAL_OUTBOX_POLL_MS",
];

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

struct Template(Value);

impl Template {
    fn load() -> Template {
        Template(serde_yaml::from_str(&repo_file("template.yaml")).expect("template.yaml is YAML"))
    }

    fn resources(&self) -> &Mapping {
        self.0["Resources"].as_mapping().expect("Resources")
    }

    fn resource(&self, logical_id: &str) -> &Value {
        self.resources().get(logical_id).unwrap_or_else(|| panic!("no resource {logical_id}"))
    }

    fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> + 'a {
        self.resources()
            .iter()
            .filter(move |(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(id, r)| (id.as_str().expect("string logical ids"), r))
    }

    /// Lambda functions by the crate they are built from (`Metadata.BuildProperties.Binary`).
    fn functions(&self) -> BTreeMap<String, (&str, &Value)> {
        self.of_type("AWS::Serverless::Function")
            .map(|(id, r)| {
                let binary =
                    r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_else(|| panic!("{id}: Binary"));
                (binary.to_owned(), (id, r))
            })
            .collect()
    }

    fn function(&self, crate_name: &str) -> (&str, &Value) {
        *self.functions().get(crate_name).unwrap_or_else(|| panic!("no function built from {crate_name}"))
    }

    /// A function property, falling back to `Globals.Function`.
    fn property<'a>(&'a self, function: &'a Value, name: &str) -> &'a Value {
        let own = &function["Properties"][name];
        if own.is_null() { &self.0["Globals"]["Function"][name] } else { own }
    }

    /// The variables a function runs with: the globals plus its own environment, and the sections of the
    /// settings parameter its `SETTINGS_SECTIONS` names (each such value as the `!Sub` text of its line).
    fn environment(&self, function: &Value) -> BTreeMap<String, Value> {
        let mut variables = self.own_environment(function);
        let sections = variables.get("SETTINGS_SECTIONS").and_then(Value::as_str).unwrap_or_default().to_owned();
        let settings = self.settings();
        for section in sections.split_whitespace() {
            let lines = settings.get(section).unwrap_or_else(|| panic!("no [{section}] in the settings"));
            for (variable, text) in lines {
                let sub = serde_yaml::value::TaggedValue {
                    tag: serde_yaml::value::Tag::new("Sub"),
                    value: Value::String(text.clone()),
                };
                variables.insert(variable.clone(), Value::Tagged(Box::new(sub)));
            }
        }
        variables
    }

    /// The environment a function's configuration holds (the globals plus its own), without the settings.
    fn own_environment(&self, function: &Value) -> BTreeMap<String, Value> {
        let mut variables = BTreeMap::new();
        for source in [&self.0["Globals"]["Function"], &function["Properties"]] {
            if let Some(map) = source["Environment"]["Variables"].as_mapping() {
                for (k, v) in map {
                    variables.insert(k.as_str().expect("variable names are strings").to_owned(), v.clone());
                }
            }
        }
        variables
    }

    /// The settings parameter's sections: each variable with the `!Sub` text of its value (`${Parameter}`
    /// where a parameter's value goes), read from every `!Sub` of its value in order.
    fn settings(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let text: String = subs(&self.resource("FunctionSettings")["Properties"]["Value"]).concat();
        let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut current = String::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = name.to_owned();
                sections.entry(current.clone()).or_default();
                continue;
            }
            let (variable, value) = line.split_once('=').unwrap_or_else(|| panic!("KEY=value: {line}"));
            assert!(!current.is_empty(), "{line} comes before any section");
            sections.entry(current.clone()).or_default().insert(variable.to_owned(), value.to_owned());
        }
        sections
    }

    fn parameter_default(&self, name: &str) -> u64 {
        let default = &self.0["Parameters"][name]["Default"];
        default
            .as_u64()
            .or_else(|| default.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{name}: numeric default"))
    }

    /// Every IAM statement in a function's inline policies.
    fn statements<'a>(&self, function: &'a Value) -> Vec<&'a Value> {
        let policies = function["Properties"]["Policies"].as_sequence().map(Vec::as_slice).unwrap_or_default();
        policies.iter().flat_map(|p| p["Statement"].as_sequence().map(Vec::as_slice).unwrap_or_default()).collect()
    }

    fn actions(&self, function: &Value) -> BTreeSet<String> {
        self.statements(function).into_iter().flat_map(|s| strings(&s["Action"])).collect()
    }
}

/// A scalar or a list of scalars, as strings.
fn strings(value: &Value) -> Vec<String> {
    match untagged(value) {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

/// The target of `!Ref X` / `!GetAtt X.Arn`, or `None` for any other value.
fn intrinsic<'a>(value: &'a Value, function: &str) -> Option<&'a str> {
    match value {
        // serde_yaml compares tags without their leading `!`.
        Value::Tagged(tagged) if tagged.tag == function => tagged.value.as_str(),
        _ => None,
    }
}

/// `!If [condition, !Ref X, ...]`: X.
fn if_true_ref(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "If" => intrinsic(&tagged.value[1], "Ref"),
        _ => intrinsic(value, "Ref"),
    }
}

/// The function whose `live` alias `!Sub ${X.Arn}:live` names.
fn live_alias_of(value: &Value) -> Option<&str> {
    intrinsic(value, "Sub")?.strip_prefix("${")?.strip_suffix(".Arn}:live")
}

fn is_service(crate_name: &str) -> bool {
    Function::from_name(crate_name).and_then(Function::service).is_some()
}

/// The environment variable the front door reads for a service function's name.
fn function_variable(crate_name: &str) -> String {
    let function = Function::from_name(crate_name).unwrap_or_else(|| panic!("{crate_name}: not a function"));
    function.invoke_variable().unwrap_or_else(|| panic!("{crate_name}: not a service function")).to_owned()
}

/// The variable names the non-test part of a source file reads: upper-case string literals with an
/// underscore (`number(env, "X", ..)`, `Function::invoke_variable`), and any literal read with
/// `env.get("X")` (a one-word name such as `OUTBOX`).
fn variable_literals(source: &str) -> BTreeSet<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let upper = |s: &&str| {
        s.len() > 3
            && s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    let with_underscore = code.split('"').skip(1).step_by(2).filter(upper).filter(|s| s.contains('_'));
    let read_by_get = code.split("env.get(\"").skip(1).filter_map(|rest| rest.split('"').next()).filter(upper);
    with_underscore.chain(read_by_get).map(str::to_owned).collect()
}

#[test]
fn every_function_crate_has_a_function_in_the_template_and_back() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("functions"))
        .expect("functions/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let known: BTreeSet<String> = Function::ALL.iter().map(|f| f.name().to_owned()).collect();
    assert_eq!(on_disk, known, "functions/ and Function::ALL list the same crates");
    let template = Template::load();
    let in_template: BTreeSet<String> = template.functions().into_keys().collect();
    assert_eq!(in_template, known, "template.yaml has one function per crate, and no other");
    for (binary, (id, function)) in template.functions() {
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
        // SAM runs `cargo lambda build --bin <Binary>` in CodeUri: the crate's own folder selects its package.
        assert_eq!(function["Properties"]["CodeUri"], format!("functions/{binary}").as_str(), "{id}");
    }
}

#[test]
fn functions_run_on_arm64_al2023_in_128_mb_and_answer_before_api_gateway_gives_up() {
    let template = Template::load();
    // Deployed on arm64 unless told otherwise; x86_64 is there for `sam local` on an x86_64 machine without an
    // emulator (scripts/sam-local-check).
    let architecture = &template.0["Parameters"]["Architecture"];
    assert_eq!(architecture["Default"], "arm64");
    assert_eq!(strings(&architecture["AllowedValues"]), ["arm64", "x86_64"]);
    let seconds = |f: &Value| template.property(f, "Timeout").as_u64().expect("Timeout");
    let (_, front_door) = template.function("ncip");
    for (binary, (id, function)) in template.functions() {
        assert_eq!(template.property(function, "Runtime"), "provided.al2023", "{id}");
        assert_eq!(template.property(function, "Handler"), "bootstrap", "{id}");
        // One architecture for all, from the Architecture parameter (checked below).
        let architectures = template.property(function, "Architectures").as_sequence().expect("a list");
        let refs: Vec<_> = architectures.iter().map(|a| intrinsic(a, "Ref")).collect();
        assert_eq!(refs, [Some("Architecture")], "{id}");
        assert_eq!(template.property(function, "MemorySize").as_u64(), Some(128), "{id}");
        if binary == "reconcile" {
            // Behind its schedule, not API Gateway: a run stops itself at RECONCILE_MAX_MINUTES, inside Lambda's
            // 15-minute limit, so its progress is saved before Lambda would cut it.
            let minutes: u64 = template.environment(function)["RECONCILE_MAX_MINUTES"]
                .as_u64()
                .or_else(|| subs(&template.environment(function)["RECONCILE_MAX_MINUTES"]).concat().parse().ok())
                .expect("RECONCILE_MAX_MINUTES");
            assert!(minutes * 60 + 60 <= seconds(function) && seconds(function) <= 900, "{id}: timeout");
        } else if binary == "deliver" {
            // Behind a queue, not API Gateway: SQS must not hand a doorbell to a second deliverer while the
            // first still runs (Lambda asks for a visibility timeout of six times the function's).
            let queue = template.resource("OutboxQueue");
            let visibility = queue["Properties"]["VisibilityTimeout"].as_u64().expect("VisibilityTimeout");
            assert!(visibility >= 6 * seconds(function), "{id}: the outbox queue's visibility timeout");
        } else {
            assert!(seconds(function) < API_GATEWAY_LIMIT_SECONDS, "{id}: timeout under API Gateway's");
        }
        // A function must give up before its route does, or API Gateway answers 503 instead of its page.
        let events = function["Properties"]["Events"].as_mapping().into_iter().flatten();
        for (event, spec) in events.filter(|(_, spec)| spec["Type"] == "HttpApi") {
            let route_ms = spec["Properties"]["TimeoutInMillis"].as_u64().unwrap_or(30_000);
            assert!(seconds(function) * 1000 < route_ms, "{id}: times out before its route {event:?} does");
        }
        if is_service(&binary) {
            // The front door outlives a service function, so even a service timeout reaches Relais as NCIP.
            assert!(seconds(function) < seconds(front_door), "{id}: times out before the front door");
            let deadline_ms = template.0["Parameters"]["BridgeDeadlineMs"]["MaxValue"].as_u64().expect("MaxValue");
            assert!(deadline_ms < seconds(function) * 1000, "{id}: BRIDGE_DEADLINE_MS ends before the function does");
        }
        let log_group = intrinsic(&function["Properties"]["LoggingConfig"]["LogGroup"], "Ref")
            .unwrap_or_else(|| panic!("{id}: LoggingConfig.LogGroup refers to a log group"));
        let group = template.resource(log_group);
        assert_eq!(group["Type"], "AWS::Logs::LogGroup");
        assert!(!group["Properties"]["RetentionInDays"].is_null(), "{log_group}: retention");
    }
}

#[test]
fn the_table_is_exactly_the_store_schema() {
    let template = Template::load();
    let tables: Vec<_> = template.of_type("AWS::DynamoDB::Table").collect();
    assert_eq!(tables.len(), 1, "one table");
    let (id, table) = tables[0];
    let p = &table["Properties"];
    let keys = |schema: &Value| -> Vec<(String, String)> {
        schema
            .as_sequence()
            .expect("KeySchema")
            .iter()
            .map(|k| (k["AttributeName"].as_str().unwrap().to_owned(), k["KeyType"].as_str().unwrap().to_owned()))
            .collect()
    };
    let pair = |name: &str, kind: &str| (name.to_owned(), kind.to_owned());
    assert_eq!(keys(&p["KeySchema"]), [pair(schema::PARTITION_KEY, "HASH"), pair(schema::SORT_KEY, "RANGE")], "{id}");
    let attributes: BTreeMap<String, String> = p["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| (a["AttributeName"].as_str().unwrap().to_owned(), a["AttributeType"].as_str().unwrap().to_owned()))
        .collect();
    let expected: BTreeMap<String, String> =
        [schema::PARTITION_KEY, schema::SORT_KEY, schema::BARCODE_INDEX_PARTITION_KEY, schema::BARCODE_INDEX_SORT_KEY]
            .into_iter()
            .map(|name| pair(name, "S"))
            .collect();
    assert_eq!(attributes, expected, "string keys, and only key attributes are declared");
    let indexes = p["GlobalSecondaryIndexes"].as_sequence().expect("GlobalSecondaryIndexes");
    assert_eq!(indexes.len(), 1);
    assert_eq!(indexes[0]["IndexName"], schema::BARCODE_INDEX);
    assert_eq!(
        keys(&indexes[0]["KeySchema"]),
        [pair(schema::BARCODE_INDEX_PARTITION_KEY, "HASH"), pair(schema::BARCODE_INDEX_SORT_KEY, "RANGE")]
    );
    assert_eq!(indexes[0]["Projection"]["ProjectionType"], schema::BARCODE_INDEX_PROJECTION);
    assert_eq!(p["BillingMode"], schema::BILLING_MODE);
    assert_eq!(p["TimeToLiveSpecification"]["AttributeName"], schema::TTL_ATTRIBUTE);
    assert_eq!(p["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(p["DeletionProtectionEnabled"], true);
    assert_eq!(table["DeletionPolicy"], "Retain", "the history outlives the stack");
}

#[test]
fn the_templates_routes_are_exactly_the_routers_and_reach_the_right_functions() {
    let template = Template::load();
    let mut routes = BTreeMap::new();
    for (binary, (id, function)) in template.functions() {
        let Some(events) = function["Properties"]["Events"].as_mapping() else { continue };
        if binary == "reconcile" {
            // The reconciler has no route: its schedule (and the status function's invoke for POST /reconcile).
            let kinds: BTreeSet<&str> = events.values().filter_map(|e| e["Type"].as_str()).collect();
            assert_eq!(kinds, ["Schedule"].into(), "{id}");
            for event in events.values() {
                let schedule = intrinsic(&event["Properties"]["Schedule"], "Ref");
                assert_eq!(schedule, Some("ReconcileSchedule"), "{id}: the schedule is a parameter");
            }
            continue;
        }
        if binary == "deliver" {
            // The deliverer has no route: the outbox queue (with partial batch failures) and a schedule.
            let kinds: BTreeSet<&str> = events.values().filter_map(|e| e["Type"].as_str()).collect();
            assert_eq!(kinds, ["SQS", "Schedule"].into(), "{id}");
            for event in events.values().filter(|e| e["Type"] == "SQS") {
                assert_eq!(intrinsic(&event["Properties"]["Queue"], "GetAtt"), Some("OutboxQueue.Arn"), "{id}");
                assert_eq!(strings(&event["Properties"]["FunctionResponseTypes"]), ["ReportBatchItemFailures"]);
            }
            continue;
        }
        for event in events.values() {
            assert_eq!(event["Type"], "HttpApi", "{id}: only HTTP API routes");
            assert_eq!(intrinsic(&event["Properties"]["ApiId"], "Ref"), Some("HttpApi"), "{id}: one API");
            let method = event["Properties"]["Method"].as_str().expect("Method").to_uppercase();
            let path = event["Properties"]["Path"].as_str().expect("Path").to_owned();
            assert!(routes.insert(format!("{method} {path}"), binary.clone()).is_none(), "{method} {path} twice");
        }
    }
    // What the code declares: each function's routes, from the one table the router is built from.
    let declared: BTreeMap<String, String> = Function::ALL
        .into_iter()
        .flat_map(|f| f.public_routes().iter().map(move |r| (format!("{} {}", r.method.as_str(), r.path), f)))
        .map(|(route, f)| (route, f.name().to_owned()))
        .collect();
    assert_eq!(routes, declared);
    assert_eq!(
        routes.len(),
        19,
        "/openurl, the sign-in's callback and sign-out, /ncip/{{token}}, /ncip, /requests/{{id}}, /requests, \
         /health, /queue, its redrive and discard, the bulk count and action, /problems, the console's sign-in (its \
         form and post) and sign-out, and the reconciliation report and run"
    );
}

/// Every declared route is answered by the router with its declared method (not 404 or 405), and a path that
/// is not declared is not.
#[tokio::test]
async fn the_router_serves_every_declared_route_and_nothing_else() {
    use bridge::app::{AlmaClients, Parts};
    use tower::ServiceExt;
    let settings = Settings::from_env(&Env::from_pairs([]), Host::Local).expect("default settings");
    let store = bridge::store::EmbeddedStore::in_memory(settings.store_config()).expect("store");
    let parts = Parts::in_process(settings, AlmaClients::unconfigured(), Arc::new(store)).expect("parts");
    let bridge = bridge::Bridge::new(parts).expect("bridge assembles");
    let bridge = Arc::new(bridge);
    let public: Vec<Function> = Function::ALL.into_iter().filter(|f| f.service().is_none()).collect();
    let router = bridge::http::router(bridge, &public);
    let send = |method: &str, path: String| {
        let router = router.clone();
        let request = http::Request::builder().method(method).uri(path).body(axum::body::Body::empty()).unwrap();
        async move { router.oneshot(request).await.expect("router answers").status().as_u16() }
    };
    for route in bridge::http::routes(&Function::ALL) {
        let path = route.path.replace("{token}", "not-the-token").replace("{id}", "RL-1");
        let status = send(route.method.as_str(), path.clone()).await;
        assert!(status != 404 && status != 405, "{} {path}: {status}", route.method.as_str());
    }
    assert_eq!(send("GET", "/admin".into()).await, 404);
    assert_eq!(send("GET", "/ncip".into()).await, 405, "the front door takes POST only");
}

#[test]
fn service_functions_are_reached_only_through_the_front_door() {
    let template = Template::load();
    let (front_door_id, front_door) = template.function("ncip");
    let front_env = template.environment(front_door);
    let invokable: BTreeSet<String> = template
        .statements(front_door)
        .into_iter()
        .filter(|s| strings(&s["Action"]).contains(&"lambda:InvokeFunction".to_owned()))
        .flat_map(|s| s["Resource"].as_sequence().cloned().unwrap_or_default())
        .map(|r| live_alias_of(&r).expect("!Sub ${X.Arn}:live").to_owned())
        .collect();
    let mut services = BTreeSet::new();
    for (binary, (id, function)) in template.functions().into_iter().filter(|(b, _)| is_service(b)) {
        services.insert(id.to_owned());
        assert!(function["Properties"]["Events"].is_null(), "{id} has no public route");
        assert_eq!(
            front_env.get(&function_variable(&binary)).and_then(live_alias_of),
            Some(id),
            "{front_door_id} names {id}'s live alias in {}",
            function_variable(&binary)
        );
        assert!(
            if_true_ref(&function["Properties"]["ReservedConcurrentExecutions"]).is_some(),
            "{id}: reserved concurrency"
        );
    }
    assert_eq!(services.len(), 8);
    assert_eq!(invokable, services, "the front door may invoke exactly the service functions");
}

#[test]
fn default_limits_keep_the_bridge_under_almas_25_calls_per_second() {
    let template = Template::load();
    let settings = template.settings();
    let (mut calls, mut terms) = (0, Vec::new());
    let mut counted = BTreeSet::new();
    // Every function given Alma's API calls Alma (the service functions, the deliverer, the hand-off, and any
    // function added later): read from the template, so that none can be left out of the sum.
    for (binary, (id, function)) in template.functions() {
        if !template.environment(function).contains_key("ALMA_API_BASE") {
            continue;
        }
        let own = template.own_environment(function);
        let sections = own.get("SETTINGS_SECTIONS").and_then(Value::as_str).unwrap_or_default();
        let paces: Vec<&String> = sections
            .split_whitespace()
            .filter_map(|section| settings.get(section).and_then(|lines| lines.get("ALMA_MAX_CALLS_PER_SECOND")))
            .collect();
        let [pace] = paces.as_slice() else {
            panic!("{id} calls Alma: exactly one of its settings sections must pace it, got {paces:?}")
        };
        let pace = match pace.strip_prefix("${").and_then(|p| p.strip_suffix('}')) {
            Some(parameter) => template.parameter_default(parameter),
            None => pace.parse().unwrap_or_else(|_| panic!("{id}: a pace of {pace:?}")),
        };
        let instances = if binary == "deliver" {
            // The outbox's deliverer: as many as the queue mapping's maximum concurrency, plus the one
            // scheduled round its lease lets run at a time.
            deliverer_instances(&template)
        } else {
            let reserved = &function["Properties"]["ReservedConcurrentExecutions"];
            let parameter =
                if_true_ref(reserved).unwrap_or_else(|| panic!("{id} calls Alma: its concurrency must be reserved"));
            template.parameter_default(parameter)
        };
        calls += instances * pace;
        terms.push(format!("{binary} {instances} x {pace}"));
        counted.insert(binary);
    }
    for service in bridge::Function::services() {
        assert!(counted.contains(service.name()), "{} calls Alma and is counted", service.name());
    }
    assert!(counted.contains("deliver") && counted.contains("openurl-redirect"), "{counted:?}");
    assert!(
        calls <= ALMA_CALLS_PER_SECOND,
        "{} = {calls} calls/s exceed Alma's {ALMA_CALLS_PER_SECOND}/s",
        terms.join(" + ")
    );
    // The three desk messages may each run three instances at once.
    for binary in ["accept-item", "check-out-item", "check-in-item"] {
        let (id, function) = template.function(binary);
        let parameter = if_true_ref(&function["Properties"]["ReservedConcurrentExecutions"]).expect("reserved");
        assert!(template.parameter_default(parameter) >= 3, "{id}: three instances");
    }
    let documented = repo_file("docs/configuration.md");
    assert!(
        documented.contains(&format!("= {calls} calls per second")),
        "docs/configuration.md shows the worst case, {calls} calls per second"
    );
}

/// The front door waits out a throttled invoke only while the service's whole deadline still fits in its own
/// timeout (`bridge::lambda::invoke::throttle_wait`), so it must know both as deployed.
#[test]
fn the_front_door_knows_its_timeout_and_the_services_deadline() {
    let template = Template::load();
    let (id, front_door) = template.function("ncip");
    let timeout = template.property(front_door, "Timeout").as_u64().expect("Timeout");
    assert_eq!(bridge::lambda::invoke::FRONT_DOOR_TIMEOUT.as_secs(), timeout, "{id}: the timeout the code assumes");
    let deadline = |function: &Value| template.environment(function).get("BRIDGE_DEADLINE_MS").and_then(parameter_of);
    assert_eq!(deadline(front_door).as_deref(), Some("BridgeDeadlineMs"), "{id}: the services' deadline");
    for (binary, (id, function)) in template.functions().into_iter().filter(|(b, _)| is_service(b)) {
        assert_eq!(deadline(function).as_deref(), Some("BridgeDeadlineMs"), "{id} ({binary})");
    }
}

/// The most deliverer instances that can run at once: the doorbells' mapping's maximum concurrency and one
/// scheduled round.
fn deliverer_instances(template: &Template) -> u64 {
    let (id, deliver) = template.function("deliver");
    // A reserved cap would throttle the doorbells the mapping's pollers already took (Lambda's SQS guidance):
    // the mapping's own maximum is the cap.
    assert!(deliver["Properties"]["ReservedConcurrentExecutions"].is_null(), "{id}: no reserved concurrency");
    let events = deliver["Properties"]["Events"].as_mapping().expect("events");
    let queue = events.values().find(|e| e["Type"] == "SQS").unwrap_or_else(|| panic!("{id}: a queue"));
    let maximum = queue["Properties"]["ScalingConfig"]["MaximumConcurrency"]
        .as_u64()
        .unwrap_or_else(|| panic!("{id}: the queue mapping's ScalingConfig.MaximumConcurrency"));
    assert!(maximum >= 2, "{id}: Lambda's least maximum concurrency for a queue is 2, got {maximum}");
    // A scheduled round holds its lease as long as the function may run, so no two rounds overlap.
    let timeout = template.property(deliver, "Timeout").as_u64().expect("Timeout");
    assert_eq!(bridge::lambda::deliver::SCHEDULED_ROUND_LEASE.as_secs(), timeout, "{id}: the lease is the timeout");
    let scheduled_rounds = deliverer_runs_per_minute(template).min(1);
    maximum + scheduled_rounds
}

#[test]
fn every_setting_the_code_reads_on_lambda_has_a_value_in_the_template() {
    let mut read = variable_literals(&repo_file("crates/bridge/src/config/parse.rs"));
    read.extend(variable_literals(&repo_file("crates/bridge/src/function.rs")));
    read.extend(variable_literals(&repo_file("crates/bridge/src/metrics.rs")));
    read.extend(variable_literals(&repo_file("crates/bridge/src/lambda/settings.rs")));
    read.extend(variable_literals(&repo_file("crates/bridge/src/lambda/secrets.rs")));
    let secrets: BTreeSet<String> = SECRET_VARIABLES.map(String::from).into();
    let large: BTreeSet<String> = LARGE_VARIABLES.map(String::from).into();
    assert!(read.contains("ALMA_API_BASE") && read.contains("OUTBOX"), "the scan finds variable names");
    assert!(secrets.contains("ALMA_API_KEY"), "the secrets are listed");
    let template = Template::load();
    let mut set: BTreeSet<String> = BTreeSet::new();
    for (_, function) in template.functions().values() {
        set.extend(template.environment(function).into_keys());
    }
    for variable in read.iter().filter(|v| !LOCAL_ONLY.contains(&v.as_str())) {
        if secrets.contains(variable) {
            assert!(set.contains(&format!("{variable}_PARAMETER")), "{variable} comes from SSM: {variable}_PARAMETER");
            assert!(!set.contains(variable), "{variable} is a secret: never a plain template value");
        } else if large.contains(variable) {
            assert!(set.contains(&format!("{variable}_PARAMETER")), "{variable} may come from SSM for its size");
        } else {
            assert!(set.contains(variable), "{variable} is read by src/config but set by no function");
        }
    }
    for variable in &set {
        let known = read.contains(variable)
            || variable.strip_suffix("_PARAMETER").is_some_and(|s| secrets.contains(s) || large.contains(s))
            || variable == "RUST_LOG";
        assert!(known, "template.yaml sets {variable}, which the code never reads");
        assert!(!LOCAL_ONLY.contains(&variable.as_str()), "{variable} is for the local server only");
    }
}

#[test]
fn each_function_may_do_only_its_own_job() {
    let template = Template::load();
    let reads: BTreeSet<String> =
        ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"].map(String::from).into();
    for (binary, (id, function)) in template.functions() {
        let actions = template.actions(function);
        assert!(actions.iter().all(|a| !a.contains('*')), "{id}: no wildcard actions");
        let table: BTreeSet<String> = actions.iter().filter(|a| a.starts_with("dynamodb:")).cloned().collect();
        let others: BTreeSet<&str> =
            actions.iter().filter(|a| !a.starts_with("dynamodb:")).map(String::as_str).collect();
        let secrets: BTreeSet<&str> = ["ssm:GetParameters", "kms:Decrypt"].into();
        match binary.as_str() {
            "ncip" => {
                assert!(table.is_empty(), "{id}: no table access");
                assert_eq!(others, ["kms:Decrypt", "lambda:InvokeFunction", "ssm:GetParameters"].into(), "{id}");
            }
            "patron-lookup" => {
                let set = |actions: &[&str]| actions.iter().map(|a| format!("dynamodb:{a}")).collect();
                let counts = (
                    set(&["GetItem", "PutItem", "UpdateItem", "DeleteItem"]),
                    format!("{}*", schema::ATTEMPT_KEY_PREFIX),
                );
                let remembered = (set(&["PutItem"]), format!("{}*", schema::PATRON_KEY_PREFIX));
                assert_eq!(
                    table_grants(&template, function, id),
                    [counts, remembered],
                    "{id}: reads, counts and clears failed-PIN counts, and puts the hash of an id it answered; nothing else"
                );
            }
            "lookup-item" => assert!(table.is_subset(&reads), "{id}: read only, got {table:?}"),
            "request-status" => {
                // Reads, and staff decisions on queued messages: written only under the request's and the
                // queue's partitions.
                // A state change is one transaction: the message, the queue's copy, the item's open-barcode
                // entry and both open counts (UpdateItem); a bulk action is one item of its own.
                let writes: BTreeSet<String> =
                    ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"].map(String::from).into();
                let all: BTreeSet<String> = reads.union(&writes).cloned().collect();
                assert_eq!(table, all, "{id}: reads, and writes for the outbox's staff actions");
                let request_items = format!("{}*", schema::REQUEST_KEY_PREFIX);
                let queue_count = format!("{}#COUNT", schema::QUEUE_PARTITION);
                let open_barcodes = format!("{}*", schema::OPEN_BARCODE_KEY_PREFIX);
                let under =
                    [&request_items, schema::QUEUE_PARTITION, &queue_count, &open_barcodes, schema::BULK_PARTITION];
                assert_writes_only_under(&template, function, &under, id);
            }
            "openurl-redirect" => {
                assert_eq!(table, ["dynamodb:PutItem".to_owned()].into(), "{id}: parks citations only")
            }
            "reconcile" => {
                // Reads (a Scan walks the records), its own documents, and a found Alma id put into its record.
                let mut all = reads.clone();
                all.extend(["dynamodb:Scan".to_owned(), "dynamodb:PutItem".to_owned()]);
                assert_eq!(table, all, "{id}: reads and its own puts, nothing else");
                let request_items = format!("{}*", schema::REQUEST_KEY_PREFIX);
                let documents = format!("{}*", schema::RECONCILE_KEY_PREFIX);
                assert_writes_only_under(&template, function, &[&documents, &request_items], id);
            }
            _ => assert!(table.contains("dynamodb:UpdateItem"), "{id}: claims and commits"),
        }
        if binary != "ncip" {
            // The functions that queue or re-drive outbox messages also ring the deliverer's queue, and only it.
            let rings = ["accept-item", "check-out-item", "check-in-item", "cancel-request-item", "request-status"];
            let mut expected = secrets.clone();
            if binary == "request-status" {
                // POST /reconcile starts the reconcile function, and no other.
                expected.insert("lambda:InvokeFunction");
                for statement in template.statements(function) {
                    if strings(&statement["Action"]).iter().any(|a| a.starts_with("lambda:")) {
                        let target = intrinsic(&statement["Resource"], "GetAtt");
                        assert_eq!(target, Some("ReconcileFunction.Arn"), "{id}");
                    }
                }
            }
            if rings.contains(&binary.as_str()) {
                expected.insert("sqs:SendMessage");
                for statement in template.statements(function) {
                    if strings(&statement["Action"]).iter().any(|a| a.starts_with("sqs:")) {
                        assert_eq!(intrinsic(&statement["Resource"], "GetAtt"), Some("OutboxQueue.Arn"), "{id}");
                    }
                }
            }
            assert_eq!(others, expected, "{id}: besides the table, only its SSM secrets (and the outbox's doorbell)");
        }
        for statement in template.statements(function) {
            for resource in
                statement["Resource"].as_sequence().cloned().unwrap_or_else(|| vec![statement["Resource"].clone()])
            {
                assert_ne!(untagged(&resource).as_str(), Some("*"), "{id}: no Resource \"*\"");
            }
        }
    }
}

/// Every statement granting table writes is limited to items whose partition keys match `leading_keys`.
fn assert_writes_only_under(template: &Template, function: &Value, leading_keys: &[&str], id: &str) {
    for statement in template.statements(function) {
        if !strings(&statement["Action"]).iter().any(|a| {
            a.starts_with("dynamodb:") && !a.ends_with("GetItem") && !a.ends_with("Query") && !a.ends_with("Scan")
        }) {
            continue;
        }
        let leading = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
        assert_eq!(strings(leading), leading_keys, "{id}: table writes only under {leading_keys:?}");
    }
}

/// Each statement granting table actions, as its actions and the one partition-key pattern it is limited to
/// (every such statement must name exactly one).
fn table_grants(template: &Template, function: &Value, id: &str) -> Vec<(BTreeSet<String>, String)> {
    let mut grants = Vec::new();
    for statement in template.statements(function) {
        let actions: BTreeSet<String> =
            strings(&statement["Action"]).into_iter().filter(|a| a.starts_with("dynamodb:")).collect();
        if actions.is_empty() {
            continue;
        }
        let leading = strings(&statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]);
        let [pattern] = leading.as_slice() else { panic!("{id}: table access under one key pattern, not {leading:?}") };
        grants.push((actions, pattern.clone()));
    }
    grants
}

#[test]
fn temporary_failures_are_counted_from_the_ncip_answered_log_line() {
    // The line and its outcome label, as the code writes them (crates/bridge/src/flows/mod.rs, Outcome::label).
    assert!(repo_file("crates/bridge/src/flows/mod.rs").contains("\"ncip answered\""));
    assert_eq!(bridge::store::Outcome::TemporaryFailure.label(), "TemporaryFailure");
    let template = Template::load();
    let filtered: BTreeSet<String> = template
        .of_type("AWS::Logs::MetricFilter")
        .filter(|(_, f)| {
            let pattern = f["Properties"]["FilterPattern"].as_str().unwrap_or_default();
            pattern.contains("$.message = \"ncip answered\"") && pattern.contains("$.outcome = \"TemporaryFailure\"")
        })
        .filter_map(|(_, f)| intrinsic(&f["Properties"]["LogGroupName"], "Ref").map(str::to_owned))
        .collect();
    for (binary, (id, function)) in template.functions() {
        if binary == "ncip" || is_service(&binary) {
            let group = intrinsic(&function["Properties"]["LoggingConfig"]["LogGroup"], "Ref").expect("log group");
            assert!(filtered.contains(group), "{id}: its Temporary Processing Failures are counted");
        }
    }
    let alarms: Vec<_> = template
        .of_type("AWS::CloudWatch::Alarm")
        .filter(|(_, a)| a["Properties"]["MetricName"] == "TemporaryProcessingFailures")
        .collect();
    assert_eq!(alarms.len(), 1, "one alarm on Temporary Processing Failures");
}

/// The alarms count the core library's "ncip answered" lines, so the functions' default log filter must let
/// the core's `info` through: its log target is the crate's name.
#[test]
fn the_default_log_filter_keeps_the_lines_the_alarms_count() {
    let t = Template::load();
    let filter = t.0["Parameters"]["LogFilter"]["Default"].as_str().expect("a LogFilter default");
    assert!(
        filter.split(',').any(|directive| directive.trim() == "bridge=info"),
        "LogFilter {filter:?} silences the core library (target `bridge`), whose lines the alarms count"
    );
    let probe = "crates/bridge/src/flows/mod.rs";
    assert!(repo_file(probe).contains("\"ncip answered\""), "{probe} logs the line the alarms count");
}

/// Each log metric filter counts a line the code really logs: a filter on a message nobody writes would keep
/// its alarm silent forever.
#[test]
fn every_log_metric_filter_matches_a_message_the_code_logs() {
    let t = Template::load();
    let sources: String = ["crates/bridge/src/flows/mod.rs", "crates/bridge/src/http/ncip.rs"].map(repo_file).concat();
    let filters: Vec<(&str, &Value)> = t.of_type("AWS::Logs::MetricFilter").collect();
    assert!(filters.len() >= 2, "the template counts log lines");
    for (name, filter) in filters {
        let pattern = filter["Properties"]["FilterPattern"].as_str().expect("a filter pattern");
        let message = pattern
            .split("$.message = \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("{name}: a $.message condition in {pattern}"));
        assert!(sources.contains(&format!("\"{message}\"")), "{name} counts {message:?}, which no code logs");
    }
}

/// The embedded metrics go to the namespace the template's alarms and log metric filters use, per stack.
#[test]
fn embedded_metrics_share_the_stacks_alarm_namespace() {
    let t = Template::load();
    let globals = &t.0["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"];
    let namespace = intrinsic(globals, "Sub").expect("METRICS_NAMESPACE is a !Sub of the stack name");
    assert_eq!(namespace, "AlmaRelaisBridge/${AWS::StackName}");
    let mut checked = 0;
    for (name, alarm) in t.of_type("AWS::CloudWatch::Alarm") {
        if let Some(alarm_namespace) = intrinsic(&alarm["Properties"]["Namespace"], "Sub") {
            assert_eq!(alarm_namespace, namespace, "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "the bridge's own alarms were found");
    assert!(repo_file("crates/bridge/src/metrics.rs").contains("\"METRICS_NAMESPACE\""));
}

/// The near-timeout alarm watches every service function, with a threshold under their timeout.
#[test]
fn the_near_timeout_alarm_watches_every_service_function() {
    let t = Template::load();
    let alarm = t.resource("ServiceFunctionNearTimeoutAlarm");
    let watched: BTreeSet<&str> = alarm["Properties"]["Metrics"]
        .as_sequence()
        .expect("metrics")
        .iter()
        .filter_map(|m| intrinsic(&m["MetricStat"]["Metric"]["Dimensions"][0]["Value"], "Ref"))
        .collect();
    let services: BTreeSet<&str> =
        t.functions().into_iter().filter(|(binary, _)| is_service(binary)).map(|(_, (id, _))| id).collect();
    assert_eq!(watched, services);
    let threshold = alarm["Properties"]["Threshold"].as_u64().expect("a threshold");
    for id in services {
        let timeout = t.property(t.resource(id), "Timeout").as_u64().expect("a timeout");
        assert!(threshold < timeout * 1000, "{id}: the alarm fires before the timeout");
    }
}

#[test]
fn the_outbox_alarms_watch_the_metrics_the_code_emits() {
    let metrics = repo_file("crates/bridge/src/metrics.rs");
    assert!(metrics.contains(r#"("OutboxParked", "Count", parked as f64)"#), "the parked count is emitted");
    assert!(metrics.contains(r#"("OutboxOldestAge", "Seconds", seconds)"#));
    let template = Template::load();
    let parked = template.resource("OutboxParkedAlarm");
    // The count of parked messages (a gauge, zero included), not the event of parking: the alarm stays raised
    // while any message is parked instead of clearing itself one period after the parking.
    assert_eq!(parked["Properties"]["MetricName"], "OutboxParked");
    assert!(parked["Properties"]["Dimensions"].is_null(), "the count is emitted without dimensions");
    assert_eq!(parked["Properties"]["Statistic"], "Maximum");
    assert_eq!(parked["Properties"]["Threshold"].as_u64(), Some(1), "one parked message is enough");
    assert_eq!(parked["Properties"]["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    // A silent deliverer sends no count: that is the heartbeat alarm's to report, and must not clear this one.
    assert_eq!(parked["Properties"]["TreatMissingData"], "ignore");
    let oldest = template.resource("OutboxOldestAgeAlarm");
    assert_eq!(oldest["Properties"]["MetricName"], "OutboxOldestAge");
    assert!(oldest["Properties"]["Dimensions"].is_null(), "the age is emitted without dimensions");
    for alarm in [parked, oldest] {
        assert_eq!(untagged(&alarm["Properties"]["Namespace"]).as_str(), Some("AlmaRelaisBridge/${AWS::StackName}"));
    }
}

/// The deliverer's scheduled runs, per minute, from the deliver function's Schedule event.
fn deliverer_runs_per_minute(template: &Template) -> u64 {
    let (id, deliver) = template.function("deliver");
    let events = deliver["Properties"]["Events"].as_mapping().expect("events");
    let schedule = events.values().find(|e| e["Type"] == "Schedule").unwrap_or_else(|| panic!("{id}: a schedule"));
    assert_eq!(schedule["Properties"]["Schedule"], "rate(1 minute)", "{id}: the alarms below count on it");
    1
}

/// A deliverer that stopped (its start-up fails, its schedule is off, it cannot read the table) sends no
/// heartbeat, and the alarm reads the missing data as breaching: it cannot go quiet.
#[test]
fn a_deliverer_that_stops_raises_the_heartbeat_alarm() {
    let metrics = repo_file("crates/bridge/src/metrics.rs");
    assert!(metrics.contains(r#"("DelivererHeartbeat", "Count", 1.0)"#), "the heartbeat is emitted");
    let deliver = repo_file("crates/bridge/src/lambda/deliver.rs");
    let schedule_branch = deliver.split("DeliverEvent::Schedule(_) =>").nth(1).expect("the schedule branch");
    let schedule_branch = schedule_branch.split("DeliverEvent::Queue").next().unwrap();
    assert!(schedule_branch.contains("scheduled_round(bridge)"), "the schedule's tick runs a scheduled round");
    let round = deliver.split("async fn scheduled_round(").nth(1).expect("the scheduled round");
    let round = round.split("\nfn ").next().unwrap();
    assert!(round.contains("heartbeat(&round)"), "every scheduled round that runs sends the heartbeat");
    assert!(deliver.contains("crate::metrics::deliverer_heartbeat("), "through metrics.rs");

    let template = Template::load();
    let alarm = &template.resource("DelivererHeartbeatAlarm")["Properties"];
    assert_eq!(untagged(&alarm["Namespace"]).as_str(), Some("AlmaRelaisBridge/${AWS::StackName}"));
    assert_eq!(alarm["MetricName"], "DelivererHeartbeat");
    assert!(alarm["Dimensions"].is_null(), "the heartbeat is emitted without dimensions");
    assert_eq!(alarm["Statistic"], "Sum");
    assert_eq!(alarm["ComparisonOperator"], "LessThanThreshold");
    assert_eq!(alarm["TreatMissingData"], "breaching", "missing data is a dead deliverer");
    let period = alarm["Period"].as_u64().expect("Period");
    let periods = alarm["EvaluationPeriods"].as_u64().expect("EvaluationPeriods");
    let threshold = alarm["Threshold"].as_u64().expect("Threshold");
    // A live deliverer sends at least the threshold in every period, with a margin for a late or skipped run,
    // even when each round runs as long as its lease and the ticks meanwhile do nothing.
    let lease = bridge::lambda::deliver::SCHEDULED_ROUND_LEASE.as_secs();
    let expected = (period / 60 * deliverer_runs_per_minute(&template)).min(period / lease);
    assert!(threshold * 2 <= expected, "{expected} heartbeats in a period against a threshold of {threshold}");
    assert!(period * periods <= 15 * 60, "a stopped deliverer is noticed within minutes, not hours");
}

/// The deliverer's Lambda errors (crash, timeout, start-up failure) raise an alarm once most of its scheduled
/// runs fail, whatever the traffic.
#[test]
fn the_deliverers_errors_raise_an_alarm() {
    let template = Template::load();
    let (deliver_id, _) = template.function("deliver");
    let alarm = &template.resource("DeliverFunctionErrorsAlarm")["Properties"];
    assert_eq!(alarm["Namespace"], "AWS/Lambda");
    assert_eq!(alarm["MetricName"], "Errors");
    assert_eq!(alarm["Dimensions"][0]["Name"], "FunctionName");
    assert_eq!(intrinsic(&alarm["Dimensions"][0]["Value"], "Ref"), Some(deliver_id), "the deliver function's");
    assert_eq!(alarm["Statistic"], "Sum");
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
    assert_eq!(alarm["TreatMissingData"], "notBreaching", "no run, no error: the heartbeat alarm covers that");
    let period = alarm["Period"].as_u64().expect("Period");
    let threshold = alarm["Threshold"].as_u64().expect("Threshold");
    let runs = period / 60 * deliverer_runs_per_minute(&template);
    assert!(threshold <= runs, "a deliverer failing every scheduled run ({runs} in a period) reaches {threshold}");
    for action in ["AlarmActions", "OKActions"] {
        assert_eq!(intrinsic(&alarm[action][0], "Ref"), Some("AlarmTopic"), "{action} reach the alarm topic");
    }
}

/// The template parameter a value is (`!Ref X`, or a settings line's `${X}`).
fn parameter_of(value: &Value) -> Option<String> {
    intrinsic(value, "Ref").map(str::to_owned).or_else(|| {
        let text = subs(value).concat();
        text.strip_prefix("${").and_then(|rest| rest.strip_suffix('}')).map(str::to_owned)
    })
}

/// Every `!Sub` string inside a value (through `!If` branches and lists).
fn subs(value: &Value) -> Vec<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str().map(str::to_owned).into_iter().collect(),
        Value::Tagged(tagged) => subs(&tagged.value),
        Value::Sequence(items) => items.iter().flat_map(subs).collect(),
        _ => Vec::new(),
    }
}

/// The SSM parameters a function's environment names (`*_PARAMETER`) are exactly the ones its role may read
/// and decrypt: a parameter named but not readable stops the function at start-up (a new secret such as the
/// staff token must reach the role too), and one readable but never named is a permission nothing uses.
#[test]
fn each_function_may_read_exactly_the_ssm_parameters_its_environment_names() {
    let template = Template::load();
    // An environment's name (`/${SecretsPath}/x`) and a policy's ARN (`arn:…:parameter/${SecretsPath}/x`) alike.
    let name_of = |path: &str| path.rsplit(":parameter").next().map(str::to_owned);
    let globals = &template.0["Globals"]["Function"]["Environment"]["Variables"];
    let settings_parameter = subs(&globals["SETTINGS_PARAMETER"]).concat();
    for (_, (id, function)) in template.functions() {
        let named: BTreeSet<String> = template
            .environment(function)
            .iter()
            .filter(|(variable, _)| variable.ends_with("_PARAMETER"))
            .flat_map(|(_, value)| subs(value))
            // The name of the link's token parameter (JWT_PARAMETER) is no SSM name.
            .filter(|path| path.starts_with('/'))
            .filter_map(|path| name_of(&path))
            .collect();
        let mut readable = BTreeSet::new();
        let mut decryptable = BTreeSet::new();
        for statement in template.statements(function) {
            let actions = strings(&statement["Action"]);
            if actions.contains(&"ssm:GetParameters".to_owned()) {
                readable.extend(subs(&statement["Resource"]).iter().filter_map(|arn| name_of(arn)));
            }
            if actions.contains(&"kms:Decrypt".to_owned()) {
                let context = &statement["Condition"]["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"];
                decryptable.extend(subs(context).iter().filter_map(|arn| name_of(arn)));
            }
        }
        assert!(named.contains(&settings_parameter), "{id} reads the settings");
        assert_eq!(readable, named, "{id}: ssm:GetParameters on exactly the parameters it names");
        // The settings are a String parameter: nothing to decrypt.
        let secure: BTreeSet<String> = named.iter().filter(|n| **n != settings_parameter).cloned().collect();
        assert_eq!(decryptable, secure, "{id}: kms:Decrypt for exactly the SecureStrings it names");
    }
    let (_, status) = template.function("request-status");
    let env = template.environment(status);
    for variable in ["STATUS_TOKEN_PARAMETER", "STAFF_ACTION_TOKEN_PARAMETER", "STAFF_ACTION_TOKEN_PREVIOUS_PARAMETER"]
    {
        assert!(env.contains_key(variable), "request-status: {variable}");
    }
    // A rotation needs no deploy: each previous value's parameter is always named (and read when it exists),
    // never behind a condition that only a deploy could turn on.
    for (binary, variable) in [
        ("ncip", "NCIP_SHARED_SECRET_PREVIOUS_PARAMETER"),
        ("request-status", "STATUS_TOKEN_PREVIOUS_PARAMETER"),
        ("request-status", "STAFF_ACTION_TOKEN_PREVIOUS_PARAMETER"),
    ] {
        let (id, function) = template.function(binary);
        let value = &template.environment(function)[variable];
        let always = matches!(value, Value::Tagged(tagged) if tagged.tag == "Sub");
        assert!(always, "{id}: {variable} is always set, not behind a condition: {value:?}");
        assert!(subs(value).iter().all(|path| path.starts_with("/${SecretsPath}/")), "{id}: {variable} = {value:?}");
    }
    assert!(!repo_file("template.yaml").contains("Rotation:"), "no parameter turns a rotation on or off");
}

/// Every alarm on the stack's own namespace watches a metric that something emits: crates/bridge/src/metrics.rs
/// or one of the template's log metric filters. An alarm on a metric nobody sends would stay quiet forever.
#[test]
fn every_alarm_on_the_stacks_namespace_watches_an_emitted_metric() {
    let template = Template::load();
    let metrics = repo_file("crates/bridge/src/metrics.rs");
    let filters: BTreeSet<String> = template
        .of_type("AWS::Logs::MetricFilter")
        .flat_map(|(_, f)| f["Properties"]["MetricTransformations"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|t| t["MetricName"].as_str().map(str::to_owned))
        .collect();
    let mut checked = 0;
    for (name, alarm) in template.of_type("AWS::CloudWatch::Alarm") {
        let properties = &alarm["Properties"];
        if untagged(&properties["Namespace"]).as_str() != Some("AlmaRelaisBridge/${AWS::StackName}") {
            continue;
        }
        let metric = properties["MetricName"].as_str().unwrap_or_else(|| panic!("{name}: a MetricName"));
        let emitted = metrics.contains(&format!("(\"{metric}\", ")) || filters.contains(metric);
        assert!(emitted, "{name} watches {metric}, which neither metrics.rs nor a metric filter sends");
        checked += 1;
    }
    assert!(checked >= 6, "the bridge's own alarms were found ({checked})");
}

#[test]
fn the_dashboard_shows_only_metrics_that_something_emits() {
    let template = Template::load();
    let body = untagged(&template.resource("Dashboard")["Properties"]["DashboardBody"]).as_str().expect("a !Sub body");
    let body = body.replace("${AWS::Region}", "eu-west-1").replace("${AWS::StackName}", "stack");
    let dashboard: serde_json::Value = serde_json::from_str(&body).expect("the dashboard body is JSON");
    let text = dashboard.to_string();
    let metrics = repo_file("crates/bridge/src/metrics.rs");
    let filters: BTreeSet<String> = template
        .of_type("AWS::Logs::MetricFilter")
        .flat_map(|(_, f)| f["Properties"]["MetricTransformations"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|t| t["MetricName"].as_str().map(str::to_owned))
        .collect();
    let shown = [
        "Messages",
        "AlmaCalls",
        "AlmaLatency",
        "OutboxMessages",
        "OutboxOldestAge",
        "OutboxWaiting",
        "OutboxParked",
        "DelivererHeartbeat",
    ];
    for metric in shown {
        assert!(text.contains(metric), "the dashboard shows {metric}");
        assert!(metrics.contains(&format!("(\"{metric}\", ")), "{metric} is emitted by crates/bridge/src/metrics.rs");
    }
    for metric in ["TemporaryProcessingFailures", "RefusedNcipTokens"] {
        assert!(text.contains(metric), "the dashboard shows {metric}");
        assert!(filters.contains(metric), "{metric} comes from a metric filter");
    }
    assert!(text.contains("AlmaRelaisBridge/stack"), "the stack's own namespace");
}

#[test]
fn every_url_output_follows_the_custom_domain_when_there_is_one() {
    let template = Template::load();
    let outputs = template.0["Outputs"].as_mapping().expect("Outputs");
    for name in ["PrimoOpenUrlBase", "RelaisNcipServerUrl", "RequestStatusUrl", "HealthUrl"] {
        let value = &outputs[name]["Value"];
        let Value::Tagged(tagged) = value else { panic!("{name}: an !If on HasDomain") };
        assert_eq!(tagged.tag, "If", "{name}");
        let branches = tagged.value.as_sequence().expect("[condition, then, else]");
        assert_eq!(branches[0], "HasDomain", "{name}");
        let with = untagged(&branches[1]).as_str().unwrap();
        let without = untagged(&branches[2]).as_str().unwrap();
        assert!(with.starts_with("https://${DomainName}/"), "{name}: {with}");
        assert!(without.starts_with("https://${HttpApi}.execute-api."), "{name}: {without}");
        assert_eq!(with.rsplit('/').next(), without.rsplit('/').next(), "{name}: the same path either way");
    }
    assert_eq!(outputs["ApiDomainTarget"]["Condition"], "HasDomain");
    assert_eq!(template.resource("ApiDomainMapping")["Condition"], "HasDomain");
    // An empty AlarmEmail is said out loud in the outputs of every deploy.
    assert_eq!(outputs["AlarmsReachNoOne"]["Condition"], "NoAlarmEmail");
}

#[test]
fn the_functions_that_warn_about_an_open_agency_policy_are_given_the_policy() {
    let template = Template::load();
    for binary in ["ncip", "request-status"] {
        let (id, function) = template.function(binary);
        let env = template.environment(function);
        for variable in ["ALMA_PARTNER_CODE", "NCIP_AGENCY_PARTNERS", "NCIP_ALLOWED_AGENCIES"] {
            assert!(env.contains_key(variable), "{id}: {variable}, or its open-policy warning fires whatever is set");
        }
    }
}

/// CloudFormation moves `live` to each new version itself. CodeDeploy's alarms over 5-minute periods could not
/// judge an all-at-once shift of seconds, and one still firing from the fault being fixed would block the
/// hot-fix, so there is no DeploymentPreference: going back is scripts/rollback moving the alias.
#[test]
fn every_function_is_deployed_behind_its_live_alias_without_codedeploy() {
    let template = Template::load();
    let globals = &template.0["Globals"]["Function"];
    assert_eq!(globals["AutoPublishAlias"], "live", "a version per deploy, the alias moved to it");
    let preference = &globals["DeploymentPreference"];
    assert!(preference.is_null(), "no CodeDeploy deployment: {preference:?}");
    for (_, (id, function)) in template.functions() {
        assert!(function["Properties"]["DeploymentPreference"].is_null(), "{id}: no CodeDeploy deployment");
        assert!(function["Properties"]["AutoPublishAlias"].is_null(), "{id}: the one alias from Globals");
    }
    assert_eq!(template.of_type("AWS::CodeDeploy::Application").count(), 0);
    let rollback = repo_file("scripts/rollback");
    assert!(rollback.contains("--name live"), "scripts/rollback moves the alias the template publishes");
}

/// No X-Ray promise the code cannot keep: no maintained X-Ray SDK exists for Rust, so the functions run with
/// Lambda's default, PassThrough, and no parameter offers more.
#[test]
fn no_function_offers_xray_tracing() {
    let template = Template::load();
    assert!(template.0["Parameters"]["XRayTracing"].is_null(), "no XRayTracing parameter");
    for (_, (id, function)) in template.functions() {
        let tracing = template.property(function, "Tracing");
        assert!(tracing.is_null() || *tracing == "PassThrough", "{id}: Tracing {tracing:?}");
    }
    for doc in ["docs/deploy.md", "docs/configuration.md", "docs/operations.md", "README.md"] {
        assert!(!repo_file(doc).contains("XRayTracing"), "{doc} still offers XRayTracing");
    }
}

/// What the bridge logged must outlive `sam delete` and any replacement of a log group: each one is retained,
/// except by the rollback of the deploy that created it, so that a failed first deploy can simply be tried
/// again under the same name.
#[test]
fn every_log_group_outlives_the_stack() {
    let template = Template::load();
    let groups: Vec<_> = template.of_type("AWS::Logs::LogGroup").collect();
    assert!(groups.len() > template.functions().len(), "one per function, and the API's access log");
    for (id, group) in groups {
        assert_eq!(group["DeletionPolicy"], "RetainExceptOnCreate", "{id}: kept when the stack is deleted");
        assert_eq!(group["UpdateReplacePolicy"], "Retain", "{id}: kept when an update replaces it");
    }
}

#[test]
fn each_binary_links_the_aws_clients_its_role_may_use_and_names_its_own_entry() {
    let template = Template::load();
    for (binary, (id, function)) in template.functions() {
        let actions = template.actions(function);
        let named = Function::from_name(&binary).expect("a function crate");
        let entry = bridge::lambda::entry::of(named);
        // A client in a binary whose role may not call it would be dead weight; a missing one, a broken path.
        let lambda_client = entry.invoker.is_some() || entry.reconcile_trigger.is_some();
        assert_eq!(lambda_client, actions.contains("lambda:InvokeFunction"), "{id}: the Lambda client");
        assert_eq!(entry.doorbell.is_some(), actions.contains("sqs:SendMessage"), "{id}: the SQS client");
        let env = template.environment(function);
        assert_eq!(entry.alma.is_some(), env.contains_key("ALMA_API_BASE"), "{id}: the Alma clients");
        let table_access = actions.iter().any(|action| action.starts_with("dynamodb:"));
        assert_eq!(entry.store.is_some(), table_access, "{id}: the DynamoDB client");
        let main = repo_file(&format!("functions/{binary}/src/main.rs"));
        let call =
            format!("bridge::lambda::run(bridge::lambda::entry::{})", bridge::lambda::entry::constant_name(named));
        assert!(main.contains(&call), "functions/{binary}/src/main.rs runs its own entry: {call}");
    }
}

/// The template translated by SAM's own translator (`.venv`, which `./scripts/test` installs) for
/// `parameters`, as CloudFormation's transform does at deploy time; `None` when the translator is not there.
fn sam_translated(parameters: &serde_json::Value) -> Option<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join(".venv/bin/python");
    if !python.is_file() {
        return None;
    }
    let output = std::process::Command::new(python)
        .arg(root.join("tests/e2e/support/sam_translate.py"))
        .arg(root.join("template.yaml"))
        .arg(parameters.to_string())
        .output()
        .expect("python runs");
    assert!(output.status.success(), "SAM's translator: {}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).expect("the translated template is JSON"))
}

/// A deploy that changes only a parameter's value still changes what the `live` alias runs: SAM publishes a
/// new version only when the code or the *unresolved* environment changes, so every value a parameter gives a
/// function must either change the published version or be read at run time from where the deploy writes it
/// (the settings parameter, which CloudFormation rewrites with the value).
#[test]
fn a_deploy_that_changes_only_a_parameter_changes_what_live_runs() {
    let base = serde_json::json!({
        "AlmaApiBase": "https://api-eu.hosted.exlibrisgroup.com",
        "AlmaNcipUrl": "https://univ.alma.exlibrisgroup.com/view/NCIPServlet",
        "AlmaInstitutionCode": "01UNIV_INST",
        "RelaisFormUrl": "https://relais.example.org/user/login.html",
    });
    let Some(before) = sam_translated(&base) else {
        eprintln!("SKIPPING the SAM translator check: no .venv (./scripts/test installs SAM CLI there)");
        return;
    };
    let template = Template::load();
    let changes = [
        ("LogFilter", "trace"),
        ("Outbox", "off"),
        ("AlmaCallsPerSecondPerInstance", "1"),
        ("NcipAllowedAgencies", "RELAIS,LEH"),
        ("NcipAgencyPartners", "LEH=RELAIS"),
        ("HistoryRetentionDays", "30"),
        ("SecretsRefreshSeconds", "60"),
        ("PatronLockoutFailures", "3"),
        ("RelaisLibrarySymbol", "NEW"),
    ];
    let versions = |translated: &serde_json::Value| -> BTreeMap<String, String> {
        let resources = translated["Resources"].as_object().expect("Resources");
        resources
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::Lambda::Version")
            .map(|(id, r)| {
                (r["Properties"]["FunctionName"]["Ref"].as_str().expect("a function").to_owned(), id.clone())
            })
            .collect()
    };
    let settings_name = |translated: &serde_json::Value| translated["Resources"]["FunctionSettings"].to_string();
    for (parameter, value) in changes {
        let mut changed = base.clone();
        changed[parameter] = serde_json::json!(value);
        let after = sam_translated(&changed).expect("translated once already");
        let reference = format!("${{{parameter}}}");
        let mut reached = 0;
        for (binary, (id, function)) in template.functions() {
            let runs_with = template.environment(function);
            let reaches = runs_with
                .values()
                .any(|v| parameter_of(v).as_deref() == Some(parameter) || subs(v).concat().contains(&reference));
            if !reaches {
                continue;
            }
            reached += 1;
            if versions(&before)[id] != versions(&after)[id] {
                continue; // a new version, which `live` is then pointed at
            }
            // Otherwise the value must be read at run time: not in the environment the version holds, but in
            // the settings parameter the function names, which the deploy rewrites.
            let translated_env = after["Resources"][id]["Properties"]["Environment"].to_string();
            assert!(
                !translated_env.contains(&format!("\"Ref\":\"{parameter}\"")) && !translated_env.contains(&reference),
                "{id} ({binary}): {parameter} is in its environment, which `live` keeps after a parameter-only deploy"
            );
            assert!(settings_name(&after).contains(&reference), "{id}: the settings parameter carries {parameter}");
            let sections = template.own_environment(function)["SETTINGS_SECTIONS"].as_str().unwrap_or("").to_owned();
            assert!(!sections.is_empty(), "{id} applies sections of the settings");
        }
        assert!(reached > 0, "{parameter} reaches some function");
    }
}

/// A template Rule's value for `parameters` (the template's defaults, then these), evaluated the way
/// CloudFormation does for the functions rules use here: `!Ref` of a parameter, `!Equals`, `!Not`, `!Or`.
fn rule_value(value: &Value, parameters: &BTreeMap<String, String>) -> Result<String, bool> {
    let Value::Tagged(tagged) = value else {
        return Ok(value.as_str().unwrap_or_else(|| panic!("a string: {value:?}")).to_owned());
    };
    let args = || tagged.value.as_sequence().unwrap_or_else(|| panic!("a list: {tagged:?}"));
    let truth = |v: &Value| rule_value(v, parameters).expect_err("a condition");
    if tagged.tag == "Ref" {
        let name = tagged.value.as_str().expect("a parameter name");
        return Ok(parameters.get(name).unwrap_or_else(|| panic!("no parameter {name}")).clone());
    }
    Err(if tagged.tag == "Equals" {
        rule_value(&args()[0], parameters) == rule_value(&args()[1], parameters)
    } else if tagged.tag == "Not" {
        !truth(&args()[0])
    } else if tagged.tag == "Or" {
        args().iter().any(truth)
    } else {
        panic!("the rule uses {}, which this test does not evaluate", tagged.tag)
    })
}

/// Whether the template's rules let a stack with these parameters deploy.
fn rules_allow(template: &Template, overrides: &[(&str, &str)]) -> bool {
    let defaults = template.0["Parameters"].as_mapping().expect("Parameters").iter().map(|(name, p)| {
        let default = p["Default"].as_str().map(str::to_owned).or_else(|| p["Default"].as_i64().map(|n| n.to_string()));
        (name.as_str().expect("a name").to_owned(), default.unwrap_or_default())
    });
    let mut parameters: BTreeMap<String, String> = defaults.collect();
    parameters.extend(overrides.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    template.0["Rules"].as_mapping().expect("Rules").values().all(|rule| {
        let applies = rule.get("RuleCondition").is_none_or(|c| rule_value(c, &parameters).expect_err("a condition"));
        let assertions = rule["Assertions"].as_sequence().expect("Assertions");
        !applies || assertions.iter().all(|a| rule_value(&a["Assert"], &parameters).expect_err("a condition"))
    })
}

// The open agency policy (every FromAgencyId served, the partner code taken from the caller) was only warned
// about, so a production stack could run that way. Now it does not deploy without an allow-list and a partner
// mapping unless AllowAnyAgency says so, and the ncip function is told the same for its start-up check.
#[test]
fn a_stack_without_an_agency_allow_list_and_a_partner_does_not_deploy_unless_any_agency_is_allowed() {
    let t = Template::load();
    assert!(!rules_allow(&t, &[]), "the defaults are refused");
    assert!(!rules_allow(&t, &[("NcipAllowedAgencies", "Relais")]), "an allow-list without a partner");
    assert!(!rules_allow(&t, &[("AlmaPartnerCode", "RELAIS")]), "a partner without an allow-list");
    assert!(rules_allow(&t, &[("NcipAllowedAgencies", "Relais"), ("AlmaPartnerCode", "RELAIS")]));
    assert!(rules_allow(&t, &[("NcipAllowedAgencies", "Relais,LEH"), ("NcipAgencyPartners", "Relais=R,LEH=L")]));
    assert!(rules_allow(&t, &[("AllowAnyAgency", "true")]), "the open policy, chosen in so many words");
    let settings = subs(&t.resource("FunctionSettings")["Properties"]["Value"]).concat();
    let agencies = settings.split("[agencies]").nth(1).and_then(|s| s.split('[').next()).expect("[agencies]");
    assert!(agencies.contains("NCIP_ALLOW_ANY_AGENCY=${AllowAnyAgency}"), "{agencies}");
}

// Fifty wrong PINs through the endpoint used to lock every patron out silently. The endpoint is now
// throttled instead, and someone must hear of it: the alarm watches the metric the throttle emits.
#[test]
fn a_throttled_endpoint_raises_the_pin_guessing_alarm() {
    let t = Template::load();
    let alarm = &t.resource("PinGuessingAlarm")["Properties"];
    assert_eq!(alarm["MetricName"], "PinLockouts");
    assert_eq!(subs(&alarm["Namespace"]), ["AlmaRelaisBridge/${AWS::StackName}"]);
    assert_eq!(alarm["Dimensions"][0]["Name"], "Scope");
    assert_eq!(alarm["Dimensions"][0]["Value"], "Endpoint");
    assert_eq!(intrinsic(&alarm["AlarmActions"][0], "Ref"), Some("AlarmTopic"));
    let lockout = repo_file("crates/bridge/src/flows/lookup_user/lockout.rs");
    assert!(lockout.contains(r#"crate::metrics::pin_lockout("Endpoint")"#), "the throttle emits the metric");
    assert!(repo_file("crates/bridge/src/metrics.rs").contains(r#"("PinLockouts", "Count", 1.0)"#));
}
