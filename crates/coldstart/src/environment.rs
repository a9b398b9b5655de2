//! The environment a function is started with: what Lambda itself sets for a `provided.al2023` function, plus
//! the bridge's settings (docs/configuration.md), each function given only what it uses, as deployed.
//!
//! Secrets are given as plain variables, never as `*_PARAMETER` names, so start-up makes no SSM call; the
//! DynamoDB endpoint and Alma are loopback addresses.

use crate::events::{NCIP_TOKEN, STAFF_TOKEN, STATUS_TOKEN, Tokens};
use bridge::Function;

/// Where the functions' dependencies are for this run.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// e.g. `http://127.0.0.1:PORT/almaws/v1`
    pub alma_api_base: String,
    /// The simulator's NCIP responder (`ALMA_NCIP_URL`).
    pub alma_ncip_url: String,
    /// The key the simulator's REST API accepts (`ALMA_API_KEY`).
    pub alma_api_key: String,
    /// The institution the seed describes (`ALMA_INSTITUTION_CODE`).
    pub institution_code: String,
    /// The DynamoDB-compatible server, `http://127.0.0.1:PORT`.
    pub dynamodb: String,
    /// The table made for this run, laid out as the store defines (`DYNAMODB_TABLE`).
    pub table: String,
    /// The SQS-compatible server for the outbox's doorbell (moto serves SQS beside DynamoDB).
    pub sqs: String,
    /// The outbox's FIFO queue made there for this run (`OUTBOX_QUEUE_URL`).
    pub outbox_queue_url: String,
}

/// What the Lambda service sets for every function (the reserved variables of a custom runtime).
pub fn lambda(function_name: &str) -> Vec<(String, String)> {
    let pairs = [
        ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function_name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]00000000000000000000000000000000".to_owned()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_DEFAULT_REGION", "eu-west-1".to_owned()),
        // Lambda hands the execution role's session credentials to the process as variables.
        ("AWS_ACCESS_KEY_ID", "ASIACOLDSTARTTEST000".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "coldstart-secret-access-key-not-real".to_owned()),
        ("AWS_SESSION_TOKEN", "coldstart-session-token".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
    ];
    // No SSL_CERT_FILE, as on Lambda: the functions trust their compiled-in roots and read no bundle
    // (crates/bridge/src/alma/tls.rs).
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Lambda's variables plus the bridge settings `function` is deployed with.
pub fn bridge(function: &str, endpoints: &Endpoints, tokens: &Tokens) -> Vec<(String, String)> {
    let mut env = lambda(function);
    let mut set = |k: &str, v: &str| env.push((k.to_owned(), v.to_owned()));
    set("AWS_ENDPOINT_URL_DYNAMODB", &endpoints.dynamodb);
    set("DYNAMODB_TABLE", &endpoints.table);
    set("LOG_HASH_KEY", "coldstart-log-hash-key-0123456789");
    let deployed = Function::from_name(function);
    // The per-service functions, the deliverer and the reconciler each call Alma, so each is given Alma's
    // settings.
    if deployed.and_then(Function::service).is_some()
        || matches!(deployed, Some(Function::Deliver | Function::Reconcile))
    {
        set("ALMA_API_BASE", &endpoints.alma_api_base);
        set("ALMA_API_KEY", &endpoints.alma_api_key);
        set("ALMA_NCIP_URL", &endpoints.alma_ncip_url);
        set("ALMA_INSTITUTION_CODE", &endpoints.institution_code);
        set("ALMA_PARTNER_CODE", "RELAIS");
        // The pacer spaces Alma calls 1/rate apart even in an idle process (40 ms at the default 25/s), a
        // deliberate wait that would hide the work being measured; docs/benchmarks.md reports it separately.
        set("ALMA_MAX_CALLS_PER_SECOND", "1000");
    }
    // The functions that queue for the outbox are deployed with its queue. Their SQS client is built on the
    // first ring, so start-up makes no SQS call; but a receipt or a ship rings the doorbell for its read-back
    // before it answers, so the queue must answer as the stack's does, or the cold figure would time an SQS
    // that cannot be reached.
    if deployed.is_some_and(|f| bridge::lambda::entry::of(f).doorbell.is_some()) {
        set("AWS_ENDPOINT_URL_SQS", &endpoints.sqs);
        set("OUTBOX_QUEUE_URL", &endpoints.outbox_queue_url);
    }
    match function {
        "ncip" => {
            set("NCIP_SHARED_SECRET", tokens.ncip.as_deref().unwrap_or(NCIP_TOKEN));
            set("ALMA_PARTNER_CODE", "RELAIS");
            // The front door on AWS does not start with an open agency policy; the events speak for Relais.
            set("NCIP_ALLOWED_AGENCIES", "Relais");
            for target in Function::services() {
                let variable = target.invoke_variable().expect("every per-service function has its variable");
                set(variable, &format!("arn:aws:lambda:eu-west-1:000000000000:function:{}", target.name()));
            }
        }
        "request-status" => {
            set("STATUS_TOKEN", tokens.status.as_deref().unwrap_or(STATUS_TOKEN));
            set("STAFF_ACTION_TOKEN", STAFF_TOKEN);
        }
        "openurl-redirect" => {
            set("RELAIS_FORM_URL", "https://relais.example.org/user/login.html");
            set("RELAIS_LIBRARY_SYMBOL", "DEMO");
        }
        _ => {}
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> Endpoints {
        Endpoints {
            alma_api_base: "http://127.0.0.1:1/almaws/v1".into(),
            alma_ncip_url: "http://127.0.0.1:1/view/NCIPServlet".into(),
            alma_api_key: "k".into(),
            institution_code: "01DEMO_INST".into(),
            dynamodb: "http://127.0.0.1:2".into(),
            table: "t".into(),
            sqs: "http://127.0.0.1:2".into(),
            outbox_queue_url: "http://127.0.0.1:2/123456789012/outbox.fifo".into(),
        }
    }

    #[test]
    fn no_function_is_sent_to_ssm_for_its_secrets() {
        for function in ["ncip", "request-status", "accept-item", "openurl-redirect"] {
            let env = bridge(function, &endpoints(), &Tokens::default());
            assert!(env.iter().all(|(k, _)| !k.ends_with("_PARAMETER")), "{function}");
        }
    }

    #[test]
    fn the_queueing_functions_are_given_the_outbox_queue_as_deployed() {
        let has_queue = |f: &str| {
            let env = bridge(f, &endpoints(), &Tokens::default());
            let queue = env.iter().any(|(k, v)| k == "OUTBOX_QUEUE_URL" && *v == endpoints().outbox_queue_url);
            let sqs = env.iter().any(|(k, v)| k == "AWS_ENDPOINT_URL_SQS" && *v == endpoints().sqs);
            assert_eq!(queue, sqs, "{f}: the queue and the server it lives on go together");
            queue
        };
        assert!(has_queue("accept-item"));
        assert!(has_queue("request-status"));
        assert!(!has_queue("renew-item"));
        assert!(!has_queue("deliver"));
    }

    #[test]
    fn only_the_alma_functions_are_given_the_alma_key() {
        let has_key = |f: &str| bridge(f, &endpoints(), &Tokens::default()).iter().any(|(k, _)| k == "ALMA_API_KEY");
        assert!(has_key("accept-item"));
        assert!(!has_key("openurl-redirect"));
        assert!(!has_key("ncip"));
    }

    #[test]
    fn the_front_door_is_given_an_agency_policy_it_starts_with_on_aws() {
        let env = bridge("ncip", &endpoints(), &Tokens::default());
        let env = ::bridge::config::Env::from_pairs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let settings = ::bridge::config::Settings::from_env(&env, ::bridge::config::Host::Lambda).expect("valid");
        ::bridge::lambda::check_requirements(Function::NcipFrontDoor, &settings).expect("the ncip function starts");
    }
}
