//! The floor: the least a Rust Lambda function can be. It answers every event with a fixed API Gateway
//! response and does nothing else, so its cold start, warm latency and memory are what the runtime crate, the
//! async runtime and the process itself cost.
//!
//! It is built with the workspace's release profile, like the functions, and runs on a current-thread tokio
//! runtime as they do (`bridge::lambda::run`), so that a ratio to it measures the bridge's own
//! start-up work and nothing the two share.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

fn main() -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(lambda_runtime::run(service_fn(answer)))
}

async fn answer(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "statusCode": 200, "headers": { "content-type": "text/plain" }, "body": "ok" }))
}
