//! The `reconcile` function on AWS: each event (its schedule's tick, or the status function's asynchronous
//! invoke when staff ask for a run) runs the reconciler once, within `RECONCILE_CALL_BUDGET` and
//! `RECONCILE_MAX_MINUTES`, and answers the run's summary. And the status function's side of `POST
//! /reconcile`: an `Event` invoke of the function, which answers at once.

use crate::flows::Bridge;
use crate::flows::reconcile::{self, Limits, RunSummary, Trigger};
use async_trait::async_trait;
use aws_sdk_lambda::types::InvocationType;
use std::sync::Arc;

/// One run for whatever woke the function: the event's content does not matter.
pub async fn handle(bridge: &Bridge) -> RunSummary {
    let settings = &bridge.settings().reconcile;
    reconcile::run(bridge, Limits { budget: settings.call_budget, max_run: settings.max_run }).await
}

/// Starts the `reconcile` function with an asynchronous invoke (Lambda queues it and answers 202).
pub struct LambdaTrigger {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaTrigger {
    /// The trigger of the function named `function` (`RECONCILE_FUNCTION`).
    pub fn new(client: aws_sdk_lambda::Client, function: String) -> Self {
        Self { client, function }
    }
}

#[async_trait]
impl Trigger for LambdaTrigger {
    async fn start(&self, _: &Arc<Bridge>) -> Result<Option<RunSummary>, String> {
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(br#"{"source":"staff"}"#.to_vec()))
            .send()
            .await
            .map(|_| None)
            .map_err(|e| format!("Invoke {}: {e}", self.function))
    }
}

/// The trigger for the status function's entry.
pub(crate) fn lambda_trigger(aws: &aws_types::SdkConfig, function: String) -> Arc<dyn Trigger> {
    Arc::new(LambdaTrigger::new(aws_sdk_lambda::Client::new(aws), function))
}
